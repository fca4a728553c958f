package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Request buckets. Only requests holds records; the others are indexes kept in the same transaction, so that
// the board, lists and nags read open work without touching closed history.
var (
	bucketRequests = []byte("requests") // id -> Request JSON
	// bucketRequestsOpen holds open requests: state 0x00 id -> "".
	bucketRequestsOpen = []byte("open_requests")
	// bucketRequestsAssignee holds open requests with an assignee: account 0x00 id -> state.
	bucketRequestsAssignee = []byte("requests_by_assignee")
	// bucketRequestsOpened holds every request by open time: time id -> what !request stats needs of it
	// (openedValue: urgent, first response time), so a year of statistics reads no request records.
	bucketRequestsOpened = []byte("requests_by_opened")
	// bucketRequestsClosed holds closed requests: state 0x00 closed-time id -> the lead time of a done
	// request (closedValue), nothing for a cancelled one.
	bucketRequestsClosed = []byte("requests_closed")
	// bucketRequestCounters holds the running totals behind the request metrics under keyRequestCounters.
	bucketRequestCounters = []byte("request_counters")
)

var (
	_ = registerBuckets(bucketRequests, bucketRequestsOpen, bucketRequestsAssignee, bucketRequestsOpened, bucketRequestsClosed,
		bucketRequestCounters)
	_ = registerOpenCounter("requests", countOpenRequests)
	// By id; by open time; closed ones by state, then close time.
	_ = registerAppendBuckets(bucketRequests, bucketRequestsOpened, bucketRequestsClosed)
)

var keyRequestCounters = []byte("counters")

// RequestState is a request's column on the board.
type RequestState string

// Request states. todo, doing and blocked are open; done and cancelled are closed.
const (
	RequestTodo      RequestState = "todo"
	RequestDoing     RequestState = "doing"
	RequestBlocked   RequestState = "blocked"
	RequestDone      RequestState = "done"
	RequestCancelled RequestState = "cancelled"
)

// OpenRequestStates are the board's columns, in board order.
var OpenRequestStates = []RequestState{RequestTodo, RequestDoing, RequestBlocked}

// Open reports whether requests in this state are still work to do.
func (st RequestState) Open() bool {
	return st == RequestTodo || st == RequestDoing || st == RequestBlocked
}

// Valid reports whether st is one of the five states.
func (st RequestState) Valid() bool { return st.Open() || st == RequestDone || st == RequestCancelled }

// RequestAction is one kind of change in a request's history.
type RequestAction string

// Request actions.
const (
	RequestOpen    RequestAction = "open"
	RequestTake    RequestAction = "take"
	RequestAssign  RequestAction = "assign"
	RequestBlock   RequestAction = "block"
	RequestFinish  RequestAction = "done"
	RequestReopen  RequestAction = "reopen"
	RequestCancel  RequestAction = "cancel"
	RequestComment RequestAction = "comment"
)

// requestFrom lists the states each action may start from; anything else is an illegal transition.
var requestFrom = map[RequestAction][]RequestState{
	RequestTake:    {RequestTodo, RequestDoing, RequestBlocked},
	RequestAssign:  {RequestTodo, RequestDoing, RequestBlocked},
	RequestBlock:   {RequestDoing},
	RequestFinish:  {RequestTodo, RequestDoing, RequestBlocked},
	RequestReopen:  {RequestDone, RequestCancelled},
	RequestCancel:  {RequestTodo, RequestDoing, RequestBlocked},
	RequestComment: {RequestTodo, RequestDoing, RequestBlocked, RequestDone, RequestCancelled},
}

// RequestEvent is one entry of a request's history: a transition or a comment, with its author and time.
type RequestEvent struct {
	At       time.Time     `json:"at"`
	By       string        `json:"by"`
	Action   RequestAction `json:"action"`
	From     RequestState  `json:"from,omitempty"`
	To       RequestState  `json:"to"`
	Assignee string        `json:"assignee,omitempty"`
	Text     string        `json:"text,omitempty"`
}

// Request is an ask to the ops team and its whole history.
type Request struct {
	ID        uint64       `json:"id"`
	Text      string       `json:"text"`
	Service   string       `json:"service,omitempty"`
	Urgent    bool         `json:"urgent,omitempty"`
	Requester string       `json:"requester"`
	State     RequestState `json:"state"`
	Assignee  string       `json:"assignee,omitempty"`
	// BlockReason is why a blocked request waits.
	BlockReason string    `json:"block_reason,omitempty"`
	Opened      time.Time `json:"opened"`
	// StateSince is when the request entered its current state.
	StateSince time.Time `json:"state_since"`
	// FirstResponse is the first take, assign, block, done or comment by an ops account.
	FirstResponse  time.Time `json:"first_response,omitzero"`
	FirstResponder string    `json:"first_responder,omitempty"`
	// Closed is when the request was last done or cancelled; zero while open.
	Closed time.Time `json:"closed,omitzero"`
	// LastNag is when the person on call was last reminded of this request.
	LastNag time.Time      `json:"last_nag,omitzero"`
	History []RequestEvent `json:"history"`
}

// FirstResponseTime is the time from open to the first ops response; ok is false before one.
func (r Request) FirstResponseTime() (d time.Duration, ok bool) {
	if r.FirstResponse.IsZero() {
		return 0, false
	}
	return r.FirstResponse.Sub(r.Opened), true
}

// LeadTime is the time from open to done; ok is false unless the request is done.
func (r Request) LeadTime() (d time.Duration, ok bool) {
	if r.State != RequestDone {
		return 0, false
	}
	return r.Closed.Sub(r.Opened), true
}

// ErrIllegalTransition is matched (errors.Is) by every *TransitionError.
var ErrIllegalTransition = errors.New("store: illegal request transition")

// TransitionError says that an action is not allowed in the request's current state (or changes nothing,
// such as taking a request one already has).
type TransitionError struct {
	ID       uint64
	Action   RequestAction
	State    RequestState
	Assignee string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("store: request %d: cannot %s it while %s (assignee %q)", e.ID, e.Action, e.State, e.Assignee)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// ErrWIPLimit is matched (errors.Is) by every *WIPError.
var ErrWIPLimit = errors.New("store: WIP limit reached")

// WIPError refuses to give a person more requests in doing than the WIP limit allows.
type WIPError struct {
	Account string
	Limit   int
	Items   []Request // the person's requests in doing, oldest first
}

func (e *WIPError) Error() string {
	return fmt.Sprintf("store: %s has %d requests in doing (WIP limit %d)", e.Account, len(e.Items), e.Limit)
}

// Is makes errors.Is(err, ErrWIPLimit) true.
func (e *WIPError) Is(target error) bool { return target == ErrWIPLimit }

// ErrNotRequester refuses a cancel by someone who is neither the requester nor ops.
var ErrNotRequester = errors.New("store: only the requester or ops may do this")

// RequestChange is one change applied by UpdateRequest.
type RequestChange struct {
	Action RequestAction
	By     string // the account acting
	// ByOps says By has the ops role: ops actions count as the first response, and ops may cancel any request.
	ByOps    bool
	Assignee string // assign: the new assignee
	Text     string // block: the reason; done: a note; comment: the comment
	// WIPLimit caps requests in doing per person for take and assign (0: no limit); Force ignores it.
	WIPLimit int
	Force    bool
}

// OpenRequest stores a new request in todo.
func (s *Store) OpenRequest(requester, text, service string, urgent bool) (Request, error) {
	var r Request
	now := s.Now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		r, err = openRequestTx(tx, requester, text, service, urgent, now)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("store: open request: %w", err)
	}
	return r, nil
}

func openRequestTx(tx *bolt.Tx, requester, text, service string, urgent bool, now time.Time) (Request, error) {
	id, err := tx.Bucket(bucketRequests).NextSequence()
	if err != nil {
		return Request{}, err
	}
	r := Request{ID: id, Text: text, Service: service, Urgent: urgent, Requester: requester, State: RequestTodo,
		Opened: now, StateSince: now,
		History: []RequestEvent{{At: now, By: requester, Action: RequestOpen, To: RequestTodo, Text: text}}}
	if err := tx.Bucket(bucketRequestsOpened).Put(timeIDKey(nil, now, id), openedValue(r)); err != nil {
		return r, err
	}
	if err := indexRequest(tx, r); err != nil {
		return r, err
	}
	err = updateRequestCounters(tx, func(c *requestCounters) {
		c.Opened++
		if urgent {
			c.OpenedUrgent++
		}
	})
	if err != nil {
		return r, err
	}
	return r, putRequest(tx, r)
}

// Request returns one request with its history; an unknown id is an error wrapping ErrNotFound.
func (s *Store) Request(id uint64) (Request, error) {
	var r Request
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = getRequest(tx, id)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("store: request %d: %w", id, err)
	}
	return r, nil
}

// UpdateRequest applies one change (a transition or a comment) to request id and returns the request as
// stored. Errors: ErrNotFound, *TransitionError, *WIPError, ErrNotRequester (all wrapped); nothing is
// changed then.
func (s *Store) UpdateRequest(id uint64, ch RequestChange) (Request, error) {
	var r Request
	now := s.Now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := getRequest(tx, id)
		if err != nil {
			return err
		}
		r, err = applyRequestChange(tx, old, ch, now)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("store: %s request %d: %w", ch.Action, id, err)
	}
	return r, nil
}

// applyRequestChange checks and applies ch to old at now, keeping the indexes and counters in step.
func applyRequestChange(tx *bolt.Tx, old Request, ch RequestChange, now time.Time) (Request, error) {
	illegal := &TransitionError{ID: old.ID, Action: ch.Action, State: old.State, Assignee: old.Assignee}
	from, ok := requestFrom[ch.Action]
	if !ok {
		return old, fmt.Errorf("unknown action %q", ch.Action)
	}
	if !stateIn(old.State, from) {
		return old, illegal
	}
	r := old
	r.History = append(old.History[:len(old.History):len(old.History)], RequestEvent{})
	switch ch.Action {
	case RequestTake:
		if old.State == RequestDoing && old.Assignee == ch.By {
			return old, illegal
		}
		r.State, r.Assignee, r.BlockReason = RequestDoing, ch.By, ""
	case RequestAssign:
		if ch.Assignee == "" || ch.Assignee == old.Assignee && old.State != RequestTodo {
			return old, illegal
		}
		r.Assignee = ch.Assignee
		if old.State == RequestTodo {
			r.State = RequestDoing
		}
	case RequestBlock:
		r.State, r.BlockReason = RequestBlocked, ch.Text
	case RequestFinish:
		r.State, r.BlockReason, r.Closed = RequestDone, "", now
		if r.Assignee == "" {
			r.Assignee = ch.By
		}
	case RequestCancel:
		if !ch.ByOps && ch.By != old.Requester {
			return old, ErrNotRequester
		}
		r.State, r.BlockReason, r.Closed = RequestCancelled, "", now
	case RequestReopen:
		// A reopened request counts its wait from the reopening: an earlier nag must not hold back the next.
		r.State, r.Assignee, r.Closed, r.LastNag = RequestTodo, "", time.Time{}, time.Time{}
	}
	if r.State == RequestDoing && (old.State != RequestDoing || old.Assignee != r.Assignee) && ch.WIPLimit > 0 && !ch.Force {
		items, err := requestsInDoing(tx, r.Assignee)
		if err != nil {
			return old, err
		}
		if len(items) >= ch.WIPLimit {
			return old, &WIPError{Account: r.Assignee, Limit: ch.WIPLimit, Items: items}
		}
	}
	ev := RequestEvent{At: now, By: ch.By, Action: ch.Action, From: old.State, To: r.State, Text: ch.Text}
	if r.Assignee != old.Assignee || ch.Action == RequestAssign {
		ev.Assignee = r.Assignee
	}
	r.History[len(r.History)-1] = ev
	if r.State != old.State {
		r.StateSince = now
	}
	if err := unindexRequest(tx, old); err != nil {
		return old, err
	}
	if err := indexRequest(tx, r); err != nil {
		return old, err
	}
	err := updateRequestCounters(tx, func(c *requestCounters) {
		if r.FirstResponse.IsZero() && ch.ByOps && ch.Action != RequestCancel && ch.Action != RequestReopen {
			r.FirstResponse, r.FirstResponder = now, ch.By
			c.FirstResponse.observe(now.Sub(r.Opened))
		}
		if old.State == RequestDone || old.State == RequestCancelled {
			c.Closed[old.State]--
		}
		if r.State == RequestDone || r.State == RequestCancelled {
			c.Closed[r.State]++
		}
		if r.State == RequestDone && old.State != RequestDone { // a comment on a done request is no new done
			c.Done++
			c.LeadTime.observe(now.Sub(r.Opened))
		}
	})
	if err != nil {
		return old, err
	}
	if old.FirstResponse.IsZero() && !r.FirstResponse.IsZero() {
		if err := tx.Bucket(bucketRequestsOpened).Put(timeIDKey(nil, r.Opened, r.ID), openedValue(r)); err != nil {
			return old, err
		}
	}
	return r, putRequest(tx, r)
}

func stateIn(st RequestState, set []RequestState) bool {
	for _, x := range set {
		if x == st {
			return true
		}
	}
	return false
}

// putRequest stores r under its id.
func putRequest(tx *bolt.Tx, r Request) error {
	return putJSON(tx.Bucket(bucketRequests), itob(r.ID), r)
}

// getRequest loads request id; an unknown id is ErrNotFound.
func getRequest(tx *bolt.Tx, id uint64) (Request, error) {
	var r Request
	ok, err := getJSON(tx.Bucket(bucketRequests), itob(id), &r)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, ErrNotFound
	}
	return r, nil
}

// Index keys. Names and states never contain 0x00 (the dispatcher strips control characters).

func stateIDKey(st RequestState, id uint64) []byte {
	return append(append([]byte(st), 0), itob(id)...)
}

func assigneeIDKey(account string, id uint64) []byte {
	return append(append([]byte(account), 0), itob(id)...)
}

// timeIDKey appends t (Unix nanoseconds, big-endian, so keys sort by time) and id to prefix.
func timeIDKey(prefix []byte, t time.Time, id uint64) []byte {
	k := append(append([]byte(nil), prefix...), itob(uint64(t.UnixNano()))...)
	if id == 0 {
		return k
	}
	return append(k, itob(id)...)
}

func closedKey(r Request) []byte {
	return timeIDKey(append([]byte(r.State), 0), r.Closed, r.ID)
}

// indexRequest adds r to the indexes for its current state.
func indexRequest(tx *bolt.Tx, r Request) error {
	if r.State.Open() {
		if err := tx.Bucket(bucketRequestsOpen).Put(stateIDKey(r.State, r.ID), nil); err != nil {
			return err
		}
		if r.Assignee != "" {
			return tx.Bucket(bucketRequestsAssignee).Put(assigneeIDKey(r.Assignee, r.ID), []byte(r.State))
		}
		return nil
	}
	return tx.Bucket(bucketRequestsClosed).Put(closedKey(r), closedValue(r))
}

// Index values. The statistics read them instead of the records: a request with its history is a few
// hundred bytes to a few kilobytes of JSON, its values a few bytes.
const (
	valueSet     = 0x80 // the value is present (an index entry written before schema 4 has none)
	valueUrgent  = 0x01
	valueFirstOK = 0x02 // a first response time follows
)

// openedValue is r's value in the opened index: flags, then the first response time in nanoseconds.
func openedValue(r Request) []byte {
	v := []byte{valueSet}
	if r.Urgent {
		v[0] |= valueUrgent
	}
	if d, ok := r.FirstResponseTime(); ok {
		v[0] |= valueFirstOK
		v = append(v, itob(uint64(d))...)
	}
	return v
}

// parseOpenedValue decodes openedValue; ok is false for a value that is not one.
func parseOpenedValue(v []byte) (urgent bool, first time.Duration, hasFirst, ok bool) {
	if len(v) == 0 || v[0]&valueSet == 0 {
		return false, 0, false, false
	}
	urgent, hasFirst = v[0]&valueUrgent != 0, v[0]&valueFirstOK != 0
	if hasFirst {
		if len(v) != 9 {
			return false, 0, false, false
		}
		first = time.Duration(btoi(v[1:]))
	}
	return urgent, first, hasFirst, true
}

// closedValue is r's value in the closed index: the lead time of a done request, in nanoseconds.
func closedValue(r Request) []byte {
	if d, ok := r.LeadTime(); ok {
		return append([]byte{valueSet}, itob(uint64(d))...)
	}
	return nil
}

// parseClosedValue decodes closedValue; ok is false for a value that is not one.
func parseClosedValue(v []byte) (lead time.Duration, ok bool) {
	if len(v) != 9 || v[0]&valueSet == 0 {
		return 0, false
	}
	return time.Duration(btoi(v[1:])), true
}

// migrateRequestValues (schema 3 -> 4) gives the opened and closed indexes their values.
func migrateRequestValues(tx *bolt.Tx) error {
	opened, closed := tx.Bucket(bucketRequestsOpened), tx.Bucket(bucketRequestsClosed)
	return tx.Bucket(bucketRequests).ForEach(func(_, v []byte) error {
		var r Request // the fields the values need; the history is skipped unread
		var lite struct {
			ID            uint64       `json:"id"`
			Urgent        bool         `json:"urgent"`
			State         RequestState `json:"state"`
			Opened        time.Time    `json:"opened"`
			FirstResponse time.Time    `json:"first_response"`
			Closed        time.Time    `json:"closed"`
		}
		if err := jsonUnmarshal(v, &lite); err != nil {
			return err
		}
		r.ID, r.Urgent, r.State, r.Opened, r.FirstResponse, r.Closed = lite.ID, lite.Urgent, lite.State, lite.Opened, lite.FirstResponse, lite.Closed
		if err := opened.Put(timeIDKey(nil, r.Opened, r.ID), openedValue(r)); err != nil {
			return err
		}
		if r.State.Open() {
			return nil
		}
		return closed.Put(closedKey(r), closedValue(r))
	})
}

// unindexRequest removes r (as it was stored) from the indexes of its state.
func unindexRequest(tx *bolt.Tx, r Request) error {
	if r.State.Open() {
		if err := tx.Bucket(bucketRequestsOpen).Delete(stateIDKey(r.State, r.ID)); err != nil {
			return err
		}
		if r.Assignee != "" {
			return tx.Bucket(bucketRequestsAssignee).Delete(assigneeIDKey(r.Assignee, r.ID))
		}
		return nil
	}
	return tx.Bucket(bucketRequestsClosed).Delete(closedKey(r))
}

// requestsInDoing returns account's requests in doing, oldest first, from the assignee index.
func requestsInDoing(tx *bolt.Tx, account string) ([]Request, error) {
	var out []Request
	prefix := append([]byte(account), 0)
	c := tx.Bucket(bucketRequestsAssignee).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if RequestState(v) != RequestDoing {
			continue
		}
		r, err := getRequest(tx, btoi(k[len(prefix):]))
		if err != nil {
			return nil, fmt.Errorf("assignee index: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// countOpenRequests is the !status counter: requests in todo, doing or blocked.
func countOpenRequests(tx *bolt.Tx) (int, error) {
	return tx.Bucket(bucketRequestsOpen).Stats().KeyN, nil
}
