package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OpenRequests returns the open requests in state (todo, doing or blocked; "" for all three), oldest first.
// It reads the open index only, never closed history.
func (s *Store) OpenRequests(state RequestState) ([]Request, error) {
	if state != "" && !state.Open() {
		return nil, fmt.Errorf("store: open requests: %q is not an open state", state)
	}
	var out []Request
	err := s.db.View(func(tx *bolt.Tx) error {
		states := OpenRequestStates
		if state != "" {
			states = []RequestState{state}
		}
		for _, st := range states {
			if err := forOpenRequests(tx, st, -1, func(r Request) { out = append(out, r) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: open requests: %w", err)
	}
	slices.SortFunc(out, func(a, b Request) int { return compareID(a.ID, b.ID) })
	return out, nil
}

func compareID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// forOpenRequests calls f for at most n (n < 0: all) requests in open state st, oldest first.
func forOpenRequests(tx *bolt.Tx, st RequestState, n int, f func(Request)) error {
	prefix := append([]byte(st), 0)
	c := tx.Bucket(bucketRequestsOpen).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && n != 0; k, _ = c.Next() {
		r, err := getRequest(tx, btoi(k[len(prefix):]))
		if err != nil {
			return fmt.Errorf("open index: request %d: %w", btoi(k[len(prefix):]), err)
		}
		f(r)
		n--
	}
	return nil
}

// ClosedRequests returns page (from 1) of requests in closed state st (done or cancelled), most recently
// closed first, per page, and how many requests are in that state.
func (s *Store) ClosedRequests(st RequestState, page, per int) ([]Request, int, error) {
	if st != RequestDone && st != RequestCancelled {
		return nil, 0, fmt.Errorf("store: closed requests: %q is not a closed state", st)
	}
	var out []Request
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c, err := getRequestCounters(tx)
		if err != nil {
			return err
		}
		total = c.Closed[st]
		prefix := append([]byte(st), 0)
		end := append([]byte(st), 1)
		cur := tx.Bucket(bucketRequestsClosed).Cursor()
		k, _ := cur.Seek(end)
		if k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
		for skip := (page - 1) * per; k != nil && bytes.HasPrefix(k, prefix) && skip > 0; skip-- {
			k, _ = cur.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < per; k, _ = cur.Prev() {
			r, err := getRequest(tx, btoi(k[len(k)-8:]))
			if err != nil {
				return fmt.Errorf("closed index: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: closed requests: %w", err)
	}
	return out, total, nil
}

// RequestsPage returns page (from 1) of all requests, open and closed, oldest first, and how many there are.
// Ids are dense, so a page is a seek, whatever the history's size.
func (s *Store) RequestsPage(page, per int) ([]Request, int, error) {
	var out []Request
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		total = int(b.Sequence())
		c := b.Cursor()
		for k, v := c.Seek(itob(uint64((page-1)*per + 1))); k != nil && len(out) < per; k, v = c.Next() {
			var r Request
			if err := jsonUnmarshal(v, &r); err != nil {
				return fmt.Errorf("request %d: %w", btoi(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: requests page %d: %w", page, err)
	}
	return out, total, nil
}

// RequestsOf returns the open requests account asked for or is assigned, oldest first.
func (s *Store) RequestsOf(account string) ([]Request, error) {
	open, err := s.OpenRequests("")
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, r := range open {
		if r.Requester == account || r.Assignee == account {
			out = append(out, r)
		}
	}
	return out, nil
}

// RequestBoard is the kanban at a glance.
type RequestBoard struct {
	Counts map[RequestState]int       // per open state
	Oldest map[RequestState][]Request // the oldest few per open state, oldest first
	// Doing and Blocked count each assignee's requests in those states.
	Doing, Blocked map[string]int
	// DoneSince counts requests done since the time given to RequestBoard (and still done).
	DoneSince int
}

// RequestBoard counts the open columns, picks the oldest n requests of each, counts work per assignee and
// the requests done since since. It reads the indexes (and n records per column), never closed records.
func (s *Store) RequestBoard(n int, since time.Time) (RequestBoard, error) {
	bd := RequestBoard{Counts: map[RequestState]int{}, Oldest: map[RequestState][]Request{},
		Doing: map[string]int{}, Blocked: map[string]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRequestsOpen).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			bd.Counts[RequestState(k[:len(k)-9])]++
		}
		for _, st := range OpenRequestStates {
			if err := forOpenRequests(tx, st, n, func(r Request) { bd.Oldest[st] = append(bd.Oldest[st], r) }); err != nil {
				return err
			}
		}
		c = tx.Bucket(bucketRequestsAssignee).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			account := string(k[:len(k)-9])
			switch RequestState(v) {
			case RequestDoing:
				bd.Doing[account]++
			case RequestBlocked:
				bd.Blocked[account]++
			}
		}
		bd.DoneSince = countClosedBetween(tx, RequestDone, since, time.Time{})
		return nil
	})
	if err != nil {
		return RequestBoard{}, fmt.Errorf("store: request board: %w", err)
	}
	return bd, nil
}

// countClosedBetween counts requests in closed state st closed in [from, to) (zero to: no end).
func countClosedBetween(tx *bolt.Tx, st RequestState, from, to time.Time) int {
	n := 0
	_ = forClosedBetween(tx, st, from, to, func(uint64, []byte) error { n++; return nil })
	return n
}

// forClosedBetween calls f with the id and index value of each request in closed state st closed in
// [from, to) (zero to: no end), oldest first.
func forClosedBetween(tx *bolt.Tx, st RequestState, from, to time.Time, f func(id uint64, v []byte) error) error {
	prefix := append([]byte(st), 0)
	end := append([]byte(st), 1)
	if !to.IsZero() {
		end = timeIDKey(prefix, to, 0)
	}
	c := tx.Bucket(bucketRequestsClosed).Cursor()
	for k, v := c.Seek(timeIDKey(prefix, from, 0)); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
		if err := f(btoi(k[len(k)-8:]), v); err != nil {
			return err
		}
	}
	return nil
}

// RequestStats summarises a window of requests.
type RequestStats struct {
	Opened, Urgent int // opened in the window, and how many of those were urgent
	Done           int // done in the window (and not reopened since)
	// FirstResponses are the first-response times of the requests opened in the window that have one.
	FirstResponses []time.Duration
	// LeadTimes are the lead times of the requests done in the window.
	LeadTimes []time.Duration
	// OldestOpen is the oldest request still open (any open time); zero ID if none.
	OldestOpen Request
}

// RequestStats reads the requests opened or done in [from, to) from the time indexes and their values,
// without reading the requests themselves (but the oldest open one).
func (s *Store) RequestStats(from, to time.Time) (RequestStats, error) {
	var st RequestStats
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRequestsOpened).Cursor()
		end := timeIDKey(nil, to, 0)
		for k, v := c.Seek(timeIDKey(nil, from, 0)); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
			urgent, first, hasFirst, ok := parseOpenedValue(v)
			if !ok { // an entry without its value: read the request
				r, err := getRequest(tx, btoi(k[8:]))
				if err != nil {
					return fmt.Errorf("opened index: %w", err)
				}
				urgent, first, hasFirst = r.Urgent, r.FirstResponse.Sub(r.Opened), !r.FirstResponse.IsZero()
			}
			st.Opened++
			if urgent {
				st.Urgent++
			}
			if hasFirst {
				st.FirstResponses = append(st.FirstResponses, first)
			}
		}
		err := forClosedBetween(tx, RequestDone, from, to, func(id uint64, v []byte) error {
			st.Done++
			lead, ok := parseClosedValue(v)
			if !ok {
				r, err := getRequest(tx, id)
				if err != nil {
					return fmt.Errorf("closed index: %w", err)
				}
				if lead, ok = r.LeadTime(); !ok {
					return nil
				}
			}
			st.LeadTimes = append(st.LeadTimes, lead)
			return nil
		})
		if err != nil {
			return err
		}
		for _, state := range OpenRequestStates {
			err := forOpenRequests(tx, state, 1, func(r Request) {
				if st.OldestOpen.ID == 0 || r.ID < st.OldestOpen.ID {
					st.OldestOpen = r
				}
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return RequestStats{}, fmt.Errorf("store: request stats: %w", err)
	}
	return st, nil
}

// Median is the median of ds (the mean of the middle two for an even count); ok is false for none.
func Median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// ClaimRequestNags returns the todo requests due for a reminder at now and records now as their last
// reminder, in one transaction: due are requests in todo for at least after (urgent ones: after/3) that were
// not reminded within the last after. Because the claim is stored before anyone is told, a restart never
// sends the same reminder twice. The requests are returned as they were before the claim (LastNag is the
// previous reminder), for UndoRequestNags.
func (s *Store) ClaimRequestNags(now time.Time, after time.Duration) ([]Request, error) {
	var due []Request
	err := s.db.Update(func(tx *bolt.Tx) error {
		due = nil // a write function may run twice (boltDB.Update)
		var todo []Request
		if err := forOpenRequests(tx, RequestTodo, -1, func(r Request) { todo = append(todo, r) }); err != nil {
			return err
		}
		for _, r := range todo {
			wait := after
			if r.Urgent {
				wait = after / 3
			}
			if now.Sub(r.StateSince) < wait || (!r.LastNag.IsZero() && now.Sub(r.LastNag) < after) {
				continue
			}
			due = append(due, r)
			r.LastNag = now.UTC()
			if err := putRequest(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim request nags: %w", err)
	}
	return due, nil
}

// UndoRequestNags takes back a claim of ClaimRequestNags at now whose reminder was not sent, so the next run
// tries again: each request of before (as the claim returned it) gets its previous LastNag back, but only
// while its LastNag is still now (compare-and-set): one reopened or reminded again meanwhile is left as is.
func (s *Store) UndoRequestNags(now time.Time, before []Request) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range before {
			r, err := getRequest(tx, b.ID)
			switch {
			case errors.Is(err, ErrNotFound):
				continue
			case err != nil:
				return err
			case !r.LastNag.Equal(now):
				continue
			}
			r.LastNag = b.LastNag
			if err := putRequest(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: undo request nags: %w", err)
	}
	return nil
}
