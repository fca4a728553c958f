package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// On-call and paging buckets.
var (
	bucketOnCall       = []byte("oncall")
	bucketOverrides    = []byte("oncall_overrides")
	bucketOverrideEnds = []byte("oncall_override_ends")
	bucketPages        = []byte("pages")
	bucketPagesOpen    = []byte("pages_open")
	bucketPagesDue     = []byte("pages_due")
	bucketPagesBy      = []byte("pages_by")
	bucketNotify       = []byte("page_notify")
	bucketPageNotices  = []byte("pages_notices") // page id -> "": pages with IRC notices still due
	bucketPagesByKey   = []byte("pages_by_key")  // PageRequest.Key -> page id: at most one page per key
	bucketPagesAcked   = []byte("pages_acked")   // acked-at(8) id(8) -> "": pages acked and not resolved (schema 5)
)

var (
	_ = registerBuckets(bucketOnCall, bucketOverrides, bucketOverrideEnds, bucketPages, bucketPagesOpen, bucketPagesDue,
		bucketPagesBy, bucketNotify, bucketPageNotices, bucketPagesByKey, bucketPagesAcked)
	// By id; acked pages by ack time. (Not by person: many streams interleave there.)
	_ = registerAppendBuckets(bucketPages, bucketPagesAcked)
	_ = registerOpenCounter("pages", countOpenPages)
)

// Page states. A page is open until someone acknowledges it (acked: escalation stops) and stays listed until
// it is resolved.
const (
	PageOpen     = "open"
	PageAcked    = "acked"
	PageResolved = "resolved"
)

// Page is a request for a human to act now.
type Page struct {
	ID uint64 `json:"id"`
	By string `json:"by"`
	// Source is what opened the page when it was not a person: "alertmanager" for an alert group's page.
	Source  string `json:"source,omitempty"`
	Service string `json:"service,omitempty"`
	// Schedule is the on-call schedule the page belongs to (its escalation follows that rotation); "" in
	// pages stored before schedules existed, which belong to DefaultSchedule (see ScheduleName).
	Schedule string       `json:"schedule,omitempty"`
	Text     string       `json:"text"`
	Updates  []PageUpdate `json:"updates,omitempty"`
	// Target is who is paged now; Paged is everyone paged so far, in order.
	Target string    `json:"target"`
	Paged  []string  `json:"paged"`
	State  string    `json:"state"`
	Opened time.Time `json:"opened"`
	// Step is the number of escalation steps taken; NextEscalation is when the next one is due (zero: none).
	Step           int       `json:"step"`
	NextEscalation time.Time `json:"next_escalation,omitempty"`
	Exhausted      bool      `json:"exhausted,omitempty"`
	// Notices are what IRC must still be told of this page (the opening, an update, an escalation step),
	// stored in the transaction that made them due and removed once queued in the outbox, so that a crash
	// or a failed outbox write between the two delays them instead of losing them.
	Notices    []PageNotice `json:"notices,omitempty"`
	AckedBy    string       `json:"acked_by,omitempty"`
	AckedAt    time.Time    `json:"acked_at,omitempty"`
	ResolvedBy string       `json:"resolved_by,omitempty"`
	ResolvedAt time.Time    `json:"resolved_at,omitempty"`
}

// Kinds of page notice.
const (
	NoticeOpened    = "opened"    // the page was opened, paging To
	NoticeUpdate    = "update"    // By added Note to the page (To privately)
	NoticeEscalated = "escalated" // the page moved from From to To; Note says why
	NoticeExhausted = "exhausted" // no escalation step is left (the channel)
	// NoticeAutoResolved: the bot resolved the page, acked long ago (the channel; ResolveAckedPages).
	NoticeAutoResolved = "auto-resolved"
)

// PageNotice is one IRC line about a page that is due: to the channel, or Private to To. Commands render its
// text; each is one line, so one is never sent twice because another failed.
type PageNotice struct {
	Kind    string    `json:"kind"`
	Private bool      `json:"private,omitempty"`
	To      string    `json:"to,omitempty"`
	From    string    `json:"from,omitempty"`
	By      string    `json:"by,omitempty"`
	Note    string    `json:"note,omitempty"`
	Step    int       `json:"step,omitempty"` // the page's step when it was due
	At      time.Time `json:"at"`             // when it was due
}

// same reports whether two notices are the same one (At compared as an instant: one side may come back
// from JSON).
func (n PageNotice) same(o PageNotice) bool {
	a, b := n, o
	a.At, b.At = time.Time{}, time.Time{}
	return a == b && n.At.Equal(o.At)
}

// announceAndTell is the channel line and the private line of one event.
func announceAndTell(n PageNotice) []PageNotice {
	private := n
	private.Private = true
	return []PageNotice{n, private}
}

// PageUpdate is a message added to an open page (a second page by the same person within the dedupe window).
type PageUpdate struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// ScheduleName is the page's schedule, DefaultSchedule for pages from before schedules.
func (p Page) ScheduleName() string {
	if p.Schedule == "" {
		return DefaultSchedule
	}
	return p.Schedule
}

// WasPaged reports whether account has been paged for p (case-insensitively).
func (p Page) WasPaged(account string) bool {
	return slices.ContainsFunc(p.Paged, func(a string) bool { return strings.EqualFold(a, account) })
}

// Paging errors.
var (
	ErrNobodyOnCall = errors.New("store: nobody is on call")
	ErrPageResolved = errors.New("store: page is resolved")
	ErrPageAcked    = errors.New("store: page is already acknowledged")
)

// RateLimitError refuses a page: By opened Count pages in the last hour, the limit is Limit, and the next page
// is possible at Retry.
type RateLimitError struct {
	Count, Limit int
	Retry        time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("store: page rate limit: %d pages in the last hour (limit %d)", e.Count, e.Limit)
}

// PageRequest asks OpenPage for a page.
type PageRequest struct {
	By      string
	Service string
	Text    string
	// Target is who to page; "" pages whoever is on call under Rotation at Now. The page belongs to
	// Rotation's schedule either way.
	Target   string
	Rotation Rotation
	Now      time.Time
	// AckTimeout is when the first escalation is due after Now.
	AckTimeout time.Duration
	// DedupeWindow: a page by the same person opened this recently and still open gets the text added instead
	// of a new page (0: never). RateLimit: at most this many new pages per person per hour (0: no limit).
	DedupeWindow time.Duration
	RateLimit    int
	// Notifiers get a delivery task each (see NotifyHead).
	Notifiers []string
	// Source is stored on the page (see Page.Source). Key, when set, makes the request idempotent: a second
	// request with the key gets ErrPageExists and nothing changes (an alert group's page, opened again after a
	// crash or a re-sent webhook, stays one page).
	Source string
	Key    string
}

// ErrPageExists refuses a keyed page request whose key already has a page; PageByKey finds it.
var ErrPageExists = errors.New("store: a page with that key exists")

func pageKey(id uint64) []byte { return itob(id) }

func dueKey(t time.Time, id uint64) []byte { return append(itob(uint64(t.UnixNano())), itob(id)...) }

func byPrefix(by string) []byte { return append([]byte(strings.ToLower(by)), 0) }

// OpenPage stores a new page, or adds the text to the person's open page within the dedupe window (deduped is
// then true), in one transaction with its escalation timer and notifier tasks.
func (s *Store) OpenPage(req PageRequest) (p Page, deduped bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		p, deduped, err = openPageTx(tx, req) // a write function may run twice (boltDB.Update): results set afresh
		return err
	})
	var rl *RateLimitError
	if err != nil && !errors.As(err, &rl) && !errors.Is(err, ErrNobodyOnCall) && !errors.Is(err, ErrPageExists) {
		err = fmt.Errorf("store: open page by %s: %w", req.By, err)
	}
	return p, deduped, err
}

// openPageTx is OpenPage inside tx.
func openPageTx(tx *bolt.Tx, req PageRequest) (p Page, deduped bool, err error) {
	pages := tx.Bucket(bucketPages)
	if req.Key != "" && tx.Bucket(bucketPagesByKey).Get([]byte(req.Key)) != nil {
		return p, false, ErrPageExists
	}
	// The person's pages, newest first, back to an hour (or the dedupe window) ago.
	var recent []time.Time
	horizon := req.Now.Add(-max(time.Hour, req.DedupeWindow))
	prefix := byPrefix(req.By)
	c := tx.Bucket(bucketPagesBy).Cursor()
	k, v := c.Seek(append(slices.Clone(prefix), itob(math.MaxUint64)...))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		opened := time.Unix(0, int64(btoi(v)))
		if opened.Before(horizon) {
			break
		}
		if req.DedupeWindow > 0 && !deduped && !opened.Before(req.Now.Add(-req.DedupeWindow)) {
			var old Page
			if _, err := getJSON(pages, k[len(prefix):], &old); err != nil {
				return p, deduped, err
			}
			// Only into a page nobody has acked yet (an ack stops its escalation: a new problem merged into
			// it would page nobody) and about the same service (else the service's owner is not paged).
			if old.State == PageOpen && old.Service == req.Service {
				old.Updates = append(old.Updates, PageUpdate{At: req.Now, By: req.By, Text: req.Text})
				old.Notices = append(old.Notices, PageNotice{Kind: NoticeUpdate, Private: true, To: old.Target, By: req.By, Note: req.Text, Step: old.Step, At: req.Now})
				p, deduped = old, true
				if err := putPage(tx, old); err != nil {
					return p, deduped, err
				}
				return p, deduped, enqueueTx(tx, req.Notifiers, "update", p, req.Text, req.Now)
			}
		}
		if opened.After(req.Now.Add(-time.Hour)) {
			recent = append(recent, opened)
		}
	}
	if req.RateLimit > 0 && len(recent) >= req.RateLimit {
		return p, false, &RateLimitError{Count: len(recent), Limit: req.RateLimit, Retry: recent[req.RateLimit-1].Add(time.Hour)}
	}
	target := req.Target
	if target == "" {
		st, err := onCallTx(tx, req.Rotation, req.Now)
		if err != nil {
			return p, deduped, err
		}
		target = st.Account
	}
	if target == "" {
		return p, false, ErrNobodyOnCall
	}
	id, err := pages.NextSequence()
	if err != nil {
		return p, deduped, err
	}
	p = Page{ID: id, By: req.By, Source: req.Source, Service: req.Service, Schedule: req.Rotation.Schedule(), Text: req.Text, Target: target, Paged: []string{target},
		State: PageOpen, Opened: req.Now, NextEscalation: req.Now.Add(req.AckTimeout),
		Notices: announceAndTell(PageNotice{Kind: NoticeOpened, To: target, At: req.Now})}
	if err := putPage(tx, p); err != nil {
		return p, deduped, err
	}
	if err := tx.Bucket(bucketPagesOpen).Put(pageKey(id), nil); err != nil {
		return p, deduped, err
	}
	if err := tx.Bucket(bucketPagesDue).Put(dueKey(p.NextEscalation, id), nil); err != nil {
		return p, deduped, err
	}
	if err := tx.Bucket(bucketPagesBy).Put(append(prefix, itob(id)...), itob(uint64(req.Now.UnixNano()))); err != nil {
		return p, deduped, err
	}
	if req.Key != "" {
		if err := tx.Bucket(bucketPagesByKey).Put([]byte(req.Key), itob(id)); err != nil {
			return p, deduped, err
		}
	}
	return p, deduped, enqueueTx(tx, req.Notifiers, "trigger", p, "", req.Now)
}

// changePage loads page id, lets change modify it (returning an error leaves everything as it was), stores it
// and enqueues event for the notifiers, in one transaction.
func (s *Store) changePage(id uint64, event string, notifiers []string, now time.Time, change func(tx *bolt.Tx, p *Page) (note string, err error)) (Page, error) {
	var p Page
	err := s.db.Update(func(tx *bolt.Tx) error {
		p = Page{} // a write function may run twice (boltDB.Update)
		found, err := getJSON(tx.Bucket(bucketPages), pageKey(id), &p)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		note, err := change(tx, &p)
		if err != nil {
			return err
		}
		if err := putPage(tx, p); err != nil {
			return err
		}
		return enqueueTx(tx, notifiers, event, p, note, now)
	})
	return p, err
}

// stopTimerTx removes the page's escalation timer.
func stopTimerTx(tx *bolt.Tx, p *Page) error {
	if p.NextEscalation.IsZero() {
		return nil
	}
	err := tx.Bucket(bucketPagesDue).Delete(dueKey(p.NextEscalation, p.ID))
	p.NextEscalation = time.Time{}
	return err
}

// AckPage acknowledges page id for by, which stops its escalation. check may refuse (its error is returned
// as is and nothing changes). A resolved page gives ErrPageResolved, an acknowledged one ErrPageAcked, both
// with the page.
func (s *Store) AckPage(id uint64, by string, now time.Time, notifiers []string, check func(Page) error) (Page, error) {
	return s.changePage(id, "acknowledge", notifiers, now, func(tx *bolt.Tx, p *Page) (string, error) {
		switch p.State {
		case PageResolved:
			return "", ErrPageResolved
		case PageAcked:
			return "", ErrPageAcked
		}
		if err := check(*p); err != nil {
			return "", err
		}
		p.State, p.AckedBy, p.AckedAt = PageAcked, by, now
		p.Notices = nil // an escalation notice not yet queued would now be wrong
		if err := tx.Bucket(bucketPagesAcked).Put(dueKey(now, p.ID), nil); err != nil {
			return "", err
		}
		return "", stopTimerTx(tx, p)
	})
}

// PageByKey returns the page opened for a PageRequest.Key; ErrNotFound when there is none.
func (s *Store) PageByKey(key string) (Page, error) {
	var p Page
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketPagesByKey).Get([]byte(key))
		if raw == nil {
			return ErrNotFound
		}
		found, err := getJSON(tx.Bucket(bucketPages), raw, &p)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	return p, err
}

// SetPageText replaces an open page's text without a notice or a notifier event (an alert group's page
// follows its group: the count of alerts, the newest summary). A resolved page gives ErrPageResolved.
func (s *Store) SetPageText(id uint64, text string) (Page, error) {
	return s.changePage(id, "", nil, time.Time{}, func(_ *bolt.Tx, p *Page) (string, error) {
		if p.State == PageResolved {
			return "", ErrPageResolved
		}
		p.Text = text
		return "", nil
	})
}

// ResolvePage closes page id. check may refuse; a resolved page gives ErrPageResolved with the page.
func (s *Store) ResolvePage(id uint64, by string, now time.Time, notifiers []string, check func(Page) error) (Page, error) {
	return s.changePage(id, "resolve", notifiers, now, func(tx *bolt.Tx, p *Page) (string, error) {
		if p.State == PageResolved {
			return "", ErrPageResolved
		}
		if err := check(*p); err != nil {
			return "", err
		}
		return "", resolveTx(tx, p, by, now)
	})
}

// AutoResolver is who resolved a page that ResolveAckedPages closed.
const AutoResolver = "opsbot"

// ResolveAckedPages resolves the pages acked at or before before and not resolved since, oldest ack first, at
// most limit, in one transaction: each as ResolvePage would (by AutoResolver), with a resolve event for
// the notifiers and its channel line due as a NoticeAutoResolved notice, so that a failed outbox write
// delays the line instead of losing it. It reads only the index of acked pages, so it costs nothing while
// none is due.
func (s *Store) ResolveAckedPages(before, now time.Time, notifiers []string, limit int) ([]Page, error) {
	var out []Page
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = nil // a write function may run twice (boltDB.Update)
		acked := tx.Bucket(bucketPagesAcked)
		var due [][]byte
		c := acked.Cursor()
		for k, _ := c.First(); k != nil && len(due) < limit && int64(btoi(k[:8])) <= before.UnixNano(); k, _ = c.Next() {
			due = append(due, slices.Clone(k))
		}
		for _, k := range due {
			var p Page
			found, err := getJSON(tx.Bucket(bucketPages), k[8:], &p)
			if err != nil {
				return err
			}
			if !found || p.State != PageAcked || !p.AckedAt.Equal(time.Unix(0, int64(btoi(k[:8])))) {
				if err := acked.Delete(k); err != nil { // an entry left behind: nothing to resolve
					return err
				}
				continue
			}
			if err := resolveTx(tx, &p, AutoResolver, now); err != nil {
				return err
			}
			p.Notices = []PageNotice{{Kind: NoticeAutoResolved, At: now}}
			if err := putPage(tx, p); err != nil {
				return err
			}
			note := fmt.Sprintf("resolved by opsbot: acked by %s at %s and not resolved", p.AckedBy, p.AckedAt.UTC().Format(time.RFC3339))
			if err := enqueueTx(tx, notifiers, "resolve", p, note, now); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: resolve acked pages: %w", err)
	}
	return out, nil
}

// migratePagesAcked (schema 4 -> 5) indexes the pages acked and not resolved.
func migratePagesAcked(tx *bolt.Tx) error {
	pages, acked := tx.Bucket(bucketPages), tx.Bucket(bucketPagesAcked)
	return tx.Bucket(bucketPagesOpen).ForEach(func(k, _ []byte) error {
		var p Page
		if found, err := getJSON(pages, k, &p); err != nil || !found || p.State != PageAcked {
			return err
		}
		return acked.Put(dueKey(p.AckedAt, p.ID), nil)
	})
}

// resolveTx closes p (not stored yet): no more notices, out of the open index (and the acked index, when it
// was acked), its timer stopped.
func resolveTx(tx *bolt.Tx, p *Page, by string, now time.Time) error {
	if p.State == PageAcked {
		if err := tx.Bucket(bucketPagesAcked).Delete(dueKey(p.AckedAt, p.ID)); err != nil {
			return err
		}
	}
	p.State, p.ResolvedBy, p.ResolvedAt = PageResolved, by, now
	p.Notices = nil
	if err := tx.Bucket(bucketPagesOpen).Delete(pageKey(p.ID)); err != nil {
		return err
	}
	return stopTimerTx(tx, p)
}

// errStale ends an escalation transaction whose page has moved on; nothing is written.
var errStale = errors.New("store: stale escalation")

// EscalatePage moves page id to its next step, paging to, with the next escalation due at next (zero: none)
// - but only if the page is still unacknowledged and its timer still says due, so a step never happens twice
// (ok is false when it already happened, or the page was acked or resolved). note goes to the notifiers.
func (s *Store) EscalatePage(id uint64, due time.Time, to string, next, now time.Time, note string, notifiers []string) (Page, bool, error) {
	p, err := s.changePage(id, "escalate", notifiers, now, func(tx *bolt.Tx, p *Page) (string, error) {
		if p.State != PageOpen || !p.NextEscalation.Equal(due) {
			return "", errStale
		}
		if err := stopTimerTx(tx, p); err != nil {
			return "", err
		}
		p.Step++
		p.Notices = append(p.Notices, announceAndTell(PageNotice{Kind: NoticeEscalated, To: to, From: p.Target, Note: note, Step: p.Step, At: now})...)
		p.Target = to
		if !p.WasPaged(to) {
			p.Paged = append(p.Paged, to)
		}
		if !next.IsZero() {
			p.NextEscalation = next
			return note, tx.Bucket(bucketPagesDue).Put(dueKey(next, p.ID), nil)
		}
		return note, nil
	})
	return staleOK(p, err)
}

// ExhaustPage marks page id as having run out of escalation steps (no further timer), under the same
// condition as EscalatePage.
func (s *Store) ExhaustPage(id uint64, due, now time.Time, notifiers []string) (Page, bool, error) {
	p, err := s.changePage(id, "exhausted", notifiers, now, func(tx *bolt.Tx, p *Page) (string, error) {
		if p.State != PageOpen || !p.NextEscalation.Equal(due) {
			return "", errStale
		}
		p.Exhausted = true
		p.Notices = append(p.Notices, PageNotice{Kind: NoticeExhausted, Step: p.Step, At: now})
		return "", stopTimerTx(tx, p)
	})
	return staleOK(p, err)
}

// PageNoticesSent removes notices ns from page id once they are queued for IRC, in one commit. A notice no
// longer there (the page was acked or resolved meanwhile) is not an error.
func (s *Store) PageNoticesSent(id uint64, ns ...PageNotice) error {
	if len(ns) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var p Page
		found, err := getJSON(tx.Bucket(bucketPages), pageKey(id), &p)
		if err != nil || !found {
			return err
		}
		before := len(p.Notices)
		for _, n := range ns {
			if i := slices.IndexFunc(p.Notices, n.same); i >= 0 {
				p.Notices = slices.Delete(p.Notices, i, i+1)
			}
		}
		if len(p.Notices) == before {
			return nil
		}
		return putPage(tx, p)
	})
	if err != nil {
		return fmt.Errorf("store: page %d notice sent: %w", id, err)
	}
	return nil
}

func staleOK(p Page, err error) (Page, bool, error) {
	switch {
	case errors.Is(err, errStale):
		return p, false, nil
	case err != nil:
		return p, false, fmt.Errorf("store: escalate page %d: %w", p.ID, err)
	}
	return p, true, nil
}

// DuePages returns the pages whose escalation is due at or before now, soonest first, at most limit.
func (s *Store) DuePages(now time.Time, limit int) ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
		pages := tx.Bucket(bucketPages)
		c := tx.Bucket(bucketPagesDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if int64(btoi(k[:8])) > now.UnixNano() {
				break
			}
			var p Page
			if _, err := getJSON(pages, k[8:], &p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: due pages: %w", err)
	}
	return out, nil
}

// GetPage returns page id, or an error wrapping ErrNotFound.
func (s *Store) GetPage(id uint64) (Page, error) {
	var p Page
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketPages), pageKey(id), &p)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return p, fmt.Errorf("store: page %d: %w", id, err)
	}
	return p, nil
}

// putPage stores a page and keeps the index of pages with notices due in step with it.
func putPage(tx *bolt.Tx, p Page) error {
	if err := putJSON(tx.Bucket(bucketPages), pageKey(p.ID), p); err != nil {
		return err
	}
	if len(p.Notices) > 0 {
		return tx.Bucket(bucketPageNotices).Put(pageKey(p.ID), nil)
	}
	return tx.Bucket(bucketPageNotices).Delete(pageKey(p.ID))
}

// PagesWithNotices returns the pages whose IRC notices are still due (from their index: the escalation job
// asks every second, and pages acked but never resolved pile up in the open index).
func (s *Store) PagesWithNotices() ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
		pages := tx.Bucket(bucketPages)
		return tx.Bucket(bucketPageNotices).ForEach(func(k, _ []byte) error {
			var p Page
			if found, err := getJSON(pages, k, &p); err != nil || !found || len(p.Notices) == 0 {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: pages with notices: %w", err)
	}
	return out, nil
}

// OpenPages returns every page not resolved, oldest first (from the open index, never scanning history).
func (s *Store) OpenPages() ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
		pages := tx.Bucket(bucketPages)
		return tx.Bucket(bucketPagesOpen).ForEach(func(k, _ []byte) error {
			var p Page
			if _, err := getJSON(pages, k, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: open pages: %w", err)
	}
	return out, nil
}

// RecentPages returns the newest n pages in any state, newest first.
func (s *Store) RecentPages(n int) ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPages).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var p Page
			if err := jsonUnmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent pages: %w", err)
	}
	return out, nil
}

func countOpenPages(tx *bolt.Tx) (int, error) { return tx.Bucket(bucketPagesOpen).Stats().KeyN, nil }
