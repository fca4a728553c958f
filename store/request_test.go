package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// reqClock is a settable clock for request tests.
type reqClock struct{ t time.Time }

func (c *reqClock) Now() time.Time          { return c.t }
func (c *reqClock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newReqClock() *reqClock                { return &reqClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// openRequestStore opens a store in t.TempDir() on clock c.
func openRequestStore(tb testing.TB, c *reqClock) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	s.Now = c.Now
	return s
}

func mustOpenRequest(tb testing.TB, s *Store, requester, text string, urgent bool) Request {
	tb.Helper()
	r, err := s.OpenRequest(requester, text, "", urgent)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func mustUpdate(tb testing.TB, s *Store, id uint64, ch RequestChange) Request {
	tb.Helper()
	r, err := s.UpdateRequest(id, ch)
	if err != nil {
		tb.Fatalf("UpdateRequest(%d, %+v) = %v", id, ch, err)
	}
	return r
}

// ops and dev build changes by an ops account and a developer.
func ops(a RequestAction, by string) RequestChange {
	return RequestChange{Action: a, By: by, ByOps: true}
}
func dev(a RequestAction, by string) RequestChange { return RequestChange{Action: a, By: by} }

func TestRequestTransitions(t *testing.T) {
	// setup brings a fresh request (opened by bob) into a state; assignee alice where there is one.
	setup := map[RequestState][]RequestChange{
		RequestTodo:      nil,
		RequestDoing:     {ops(RequestTake, "alice")},
		RequestBlocked:   {ops(RequestTake, "alice"), {Action: RequestBlock, By: "alice", ByOps: true, Text: "vendor"}},
		RequestDone:      {ops(RequestTake, "alice"), ops(RequestFinish, "alice")},
		RequestCancelled: {dev(RequestCancel, "bob")},
	}
	assignCarol := RequestChange{Action: RequestAssign, By: "alice", ByOps: true, Assignee: "carol"}
	assignAlice := RequestChange{Action: RequestAssign, By: "carol", ByOps: true, Assignee: "alice"}
	tests := []struct {
		from   RequestState
		ch     RequestChange
		want   RequestState // "" = illegal
		wantAs string
	}{
		{RequestTodo, ops(RequestTake, "alice"), RequestDoing, "alice"},
		{RequestTodo, assignCarol, RequestDoing, "carol"},
		{RequestTodo, ops(RequestBlock, "alice"), "", ""},
		{RequestTodo, ops(RequestFinish, "alice"), RequestDone, "alice"},
		{RequestTodo, ops(RequestReopen, "alice"), "", ""},
		{RequestTodo, dev(RequestCancel, "bob"), RequestCancelled, ""},
		{RequestTodo, dev(RequestComment, "dan"), RequestTodo, ""},
		{RequestDoing, ops(RequestTake, "alice"), "", "alice"}, // already hers
		{RequestDoing, ops(RequestTake, "carol"), RequestDoing, "carol"},
		{RequestDoing, assignCarol, RequestDoing, "carol"},
		{RequestDoing, assignAlice, "", "alice"}, // already assigned to her
		{RequestDoing, ops(RequestBlock, "alice"), RequestBlocked, "alice"},
		{RequestDoing, ops(RequestFinish, "carol"), RequestDone, "alice"},
		{RequestDoing, ops(RequestReopen, "alice"), "", "alice"},
		{RequestDoing, ops(RequestCancel, "carol"), RequestCancelled, "alice"},
		{RequestBlocked, ops(RequestTake, "alice"), RequestDoing, "alice"},
		{RequestBlocked, ops(RequestTake, "carol"), RequestDoing, "carol"},
		{RequestBlocked, assignCarol, RequestBlocked, "carol"},
		{RequestBlocked, ops(RequestBlock, "alice"), "", "alice"},
		{RequestBlocked, ops(RequestFinish, "alice"), RequestDone, "alice"},
		{RequestBlocked, dev(RequestCancel, "bob"), RequestCancelled, "alice"},
		{RequestDone, ops(RequestTake, "alice"), "", "alice"},
		{RequestDone, assignCarol, "", "alice"},
		{RequestDone, ops(RequestBlock, "alice"), "", "alice"},
		{RequestDone, ops(RequestFinish, "alice"), "", "alice"},
		{RequestDone, ops(RequestCancel, "alice"), "", "alice"},
		{RequestDone, ops(RequestReopen, "carol"), RequestTodo, ""},
		{RequestDone, dev(RequestComment, "bob"), RequestDone, "alice"},
		{RequestCancelled, ops(RequestTake, "alice"), "", ""},
		{RequestCancelled, dev(RequestCancel, "bob"), "", ""},
		{RequestCancelled, ops(RequestReopen, "alice"), RequestTodo, ""},
	}
	for _, tt := range tests {
		name := string(tt.from) + "/" + string(tt.ch.Action) + "/" + tt.ch.By
		t.Run(name, func(t *testing.T) {
			c := newReqClock()
			s := openRequestStore(t, c)
			r := mustOpenRequest(t, s, "bob", "disk full on db3", false)
			for _, ch := range setup[tt.from] {
				c.Advance(time.Minute)
				r = mustUpdate(t, s, r.ID, ch)
			}
			if r.State != tt.from {
				t.Fatalf("setup reached %s, want %s", r.State, tt.from)
			}
			before := len(r.History)
			c.Advance(time.Minute)
			got, err := s.UpdateRequest(r.ID, tt.ch)
			if tt.want == "" {
				var te *TransitionError
				if !errors.Is(err, ErrIllegalTransition) || !errors.As(err, &te) || te.State != tt.from || te.ID != r.ID {
					t.Fatalf("UpdateRequest = %+v, %v; want a TransitionError from %s", got.State, err, tt.from)
				}
				again, _ := s.Request(r.ID)
				if len(again.History) != before || again.State != tt.from {
					t.Fatalf("illegal %s changed the request: %s, %d events", tt.ch.Action, again.State, len(again.History))
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdateRequest = %v, want %s", err, tt.want)
			}
			if got.State != tt.want || got.Assignee != tt.wantAs {
				t.Fatalf("after %s: state %s assignee %q, want %s %q", tt.ch.Action, got.State, got.Assignee, tt.want, tt.wantAs)
			}
			ev := got.History[len(got.History)-1]
			if len(got.History) != before+1 || ev.By != tt.ch.By || ev.Action != tt.ch.Action || ev.From != tt.from ||
				ev.To != tt.want || !ev.At.Equal(c.Now()) {
				t.Fatalf("history entry = %+v (of %d), want %s by %s at %v", ev, len(got.History), tt.ch.Action, tt.ch.By, c.Now())
			}
			stored, err := s.Request(r.ID)
			if err != nil || stored.State != tt.want || len(stored.History) != before+1 {
				t.Fatalf("stored = %s with %d events, %v", stored.State, len(stored.History), err)
			}
			assertRequestIndexes(t, s)
		})
	}
}

// assertRequestIndexes checks that the open index holds exactly the open requests, the assignee index the
// open assigned ones, and the closed index the closed ones.
func assertRequestIndexes(t *testing.T, s *Store) {
	t.Helper()
	all, _, err := s.RequestsPage(1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenRequests("")
	if err != nil {
		t.Fatal(err)
	}
	wantOpen := 0
	for _, r := range all {
		if r.State.Open() {
			wantOpen++
		}
	}
	if len(open) != wantOpen {
		t.Fatalf("open index has %d requests, records say %d", len(open), wantOpen)
	}
	bd, err := s.RequestBoard(100, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		inOldest := false
		for _, o := range bd.Oldest[r.State] {
			inOldest = inOldest || o.ID == r.ID
		}
		if r.State.Open() != inOldest {
			t.Fatalf("R-%d (%s) on the board: %v", r.ID, r.State, inOldest)
		}
	}
	m, err := s.RequestMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []RequestState{RequestDone, RequestCancelled} {
		n := 0
		for _, r := range all {
			if r.State == st {
				n++
			}
		}
		got, total, err := s.ClosedRequests(st, 1, 1000)
		if err != nil || len(got) != n || total != n || m.Closed[st] != n {
			t.Fatalf("closed %s: index %d, counter %d, metrics %d, records %d (%v)", st, len(got), total, m.Closed[st], n, err)
		}
	}
}

func TestRequestUnknownAndNotRequester(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	if _, err := s.UpdateRequest(99, ops(RequestTake, "alice")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("take R-99 = %v, want ErrNotFound", err)
	}
	if _, err := s.Request(99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Request(99) = %v, want ErrNotFound", err)
	}
	r := mustOpenRequest(t, s, "bob", "x", false)
	if _, err := s.UpdateRequest(r.ID, dev(RequestCancel, "dan")); !errors.Is(err, ErrNotRequester) {
		t.Fatalf("dan cancels bob's request: %v, want ErrNotRequester", err)
	}
	if got, _ := s.Request(r.ID); got.State != RequestTodo {
		t.Fatalf("refused cancel changed the state to %s", got.State)
	}
}

func TestRequestWIPLimit(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	var ids []uint64
	for range 4 {
		ids = append(ids, mustOpenRequest(t, s, "bob", "job", false).ID)
	}
	take := func(id uint64, by string, force bool) error {
		_, err := s.UpdateRequest(id, RequestChange{Action: RequestTake, By: by, ByOps: true, WIPLimit: 2, Force: force})
		return err
	}
	if err := take(ids[0], "alice", false); err != nil {
		t.Fatal(err)
	}
	if err := take(ids[1], "alice", false); err != nil {
		t.Fatal(err)
	}
	err := take(ids[2], "alice", false)
	var we *WIPError
	if !errors.As(err, &we) || !errors.Is(err, ErrWIPLimit) || we.Account != "alice" || len(we.Items) != 2 ||
		we.Items[0].ID != ids[0] || we.Items[1].ID != ids[1] {
		t.Fatalf("third take = %v (%+v), want a WIPError listing R-%d and R-%d", err, we, ids[0], ids[1])
	}
	// Assigning to her is refused the same way; another person is not affected.
	if _, err := s.UpdateRequest(ids[2], RequestChange{Action: RequestAssign, By: "carol", ByOps: true, Assignee: "alice", WIPLimit: 2}); !errors.Is(err, ErrWIPLimit) {
		t.Fatalf("assign to alice at her limit = %v", err)
	}
	if err := take(ids[2], "carol", false); err != nil {
		t.Fatalf("carol takes: %v", err)
	}
	// Blocked work does not count; resuming it does.
	mustUpdate(t, s, ids[0], RequestChange{Action: RequestBlock, By: "alice", ByOps: true, Text: "vendor"})
	if err := take(ids[3], "alice", false); err != nil {
		t.Fatalf("take with one item blocked: %v", err)
	}
	if err := take(ids[0], "alice", false); !errors.Is(err, ErrWIPLimit) {
		t.Fatalf("resume blocked at the limit = %v, want ErrWIPLimit", err)
	}
	if err := take(ids[0], "alice", true); err != nil {
		t.Fatalf("--force: %v", err)
	}
	bd, _ := s.RequestBoard(3, time.Time{})
	if bd.Doing["alice"] != 3 || bd.Doing["carol"] != 1 || bd.Counts[RequestDoing] != 4 {
		t.Fatalf("board WIP = %v, counts %v", bd.Doing, bd.Counts)
	}
}

func TestRequestTimesAndMetrics(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	r := mustOpenRequest(t, s, "bob", "x", true)
	c.Advance(2 * time.Minute)
	mustUpdate(t, s, r.ID, dev(RequestComment, "bob")) // the requester's comment is no response
	c.Advance(3 * time.Minute)
	mustUpdate(t, s, r.ID, ops(RequestComment, "carol"))
	c.Advance(10 * time.Minute)
	mustUpdate(t, s, r.ID, ops(RequestTake, "alice"))
	c.Advance(45 * time.Minute)
	got := mustUpdate(t, s, r.ID, ops(RequestFinish, "alice"))
	if d, ok := got.FirstResponseTime(); !ok || d != 5*time.Minute || got.FirstResponder != "carol" {
		t.Fatalf("first response = %v %v by %q, want 5m by carol", d, ok, got.FirstResponder)
	}
	if d, ok := got.LeadTime(); !ok || d != time.Hour {
		t.Fatalf("lead time = %v %v, want 1h", d, ok)
	}
	m, err := s.RequestMetrics()
	if err != nil {
		t.Fatal(err)
	}
	if m.Opened != 1 || m.OpenedUrgent != 1 || m.Done != 1 || m.FirstResponse.Count != 1 || m.FirstResponse.Sum != 300 ||
		m.LeadTime.Count != 1 || m.LeadTime.Sum != 3600 || m.LeadTime.Buckets[3] != 0 || m.LeadTime.Buckets[4] != 1 {
		t.Fatalf("metrics = %+v", m)
	}
	// Reopen and done again: the first response stays, the lead time counts to the new done.
	c.Advance(time.Hour)
	got = mustUpdate(t, s, r.ID, ops(RequestReopen, "carol"))
	if _, ok := got.LeadTime(); ok || got.Assignee != "" {
		t.Fatalf("reopened request: lead time set or assignee %q kept", got.Assignee)
	}
	c.Advance(time.Hour)
	got = mustUpdate(t, s, r.ID, ops(RequestFinish, "carol"))
	if d, _ := got.LeadTime(); d != 3*time.Hour || got.FirstResponder != "carol" {
		t.Fatalf("lead time after reopen = %v, first responder %q", d, got.FirstResponder)
	}
	if m, _ := s.RequestMetrics(); m.Done != 2 || m.Closed[RequestDone] != 1 || m.Open[RequestTodo] != 0 {
		t.Fatalf("metrics after second done = %+v", m)
	}
	assertRequestIndexes(t, s)
}

func TestRequestStatsWindow(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	old := mustOpenRequest(t, s, "bob", "last month", false)
	c.Advance(30 * 24 * time.Hour)
	from := c.Now()
	a := mustOpenRequest(t, s, "bob", "a", true)
	b := mustOpenRequest(t, s, "dan", "b", false)
	mustOpenRequest(t, s, "dan", "c", false)
	c.Advance(10 * time.Minute)
	mustUpdate(t, s, a.ID, ops(RequestTake, "alice"))
	c.Advance(20 * time.Minute)
	mustUpdate(t, s, b.ID, ops(RequestTake, "carol"))
	c.Advance(time.Hour)
	mustUpdate(t, s, a.ID, ops(RequestFinish, "alice"))
	mustUpdate(t, s, old.ID, ops(RequestFinish, "alice"))
	st, err := s.RequestStats(from, c.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if st.Opened != 3 || st.Urgent != 1 || st.Done != 2 || len(st.FirstResponses) != 2 || len(st.LeadTimes) != 2 {
		t.Fatalf("stats = %+v", st)
	}
	if m, _ := Median(st.FirstResponses); m != 20*time.Minute { // 10m and 30m
		t.Fatalf("median first response = %v, want 20m", m)
	}
	if st.OldestOpen.ID != b.ID {
		t.Fatalf("oldest open = R-%d, want R-%d", st.OldestOpen.ID, b.ID)
	}
	// A window that ends before anything happened is empty.
	if st, _ := s.RequestStats(from.Add(-time.Hour), from); st.Opened != 0 || st.Done != 0 {
		t.Fatalf("empty window = %+v", st)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{[]time.Duration{5}, 5, true},
		{[]time.Duration{9, 1, 5}, 5, true},
		{[]time.Duration{4, 1, 2, 3}, 2, true}, // (2+3)/2 in integer nanoseconds
	}
	for _, tt := range tests {
		if got, ok := Median(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Median(%v) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRequestPagingAndClosedLists(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	for i := range 25 {
		r := mustOpenRequest(t, s, "bob", "r", false)
		c.Advance(time.Minute)
		if i%2 == 0 {
			mustUpdate(t, s, r.ID, ops(RequestFinish, "alice"))
		}
	}
	page, total, err := s.RequestsPage(3, 10)
	if err != nil || total != 25 || len(page) != 5 || page[0].ID != 21 {
		t.Fatalf("page 3 = %d items from R-%d, total %d, %v", len(page), page[0].ID, total, err)
	}
	done, total, err := s.ClosedRequests(RequestDone, 1, 5)
	if err != nil || total != 13 || len(done) != 5 || done[0].ID != 25 || done[4].ID != 17 {
		t.Fatalf("done page 1 = %v (total %d), %v", ids(done), total, err)
	}
	done, _, _ = s.ClosedRequests(RequestDone, 3, 5)
	if len(done) != 3 || done[2].ID != 1 {
		t.Fatalf("done page 3 = %v", ids(done))
	}
	if got, _ := s.OpenRequests(RequestTodo); len(got) != 12 || got[0].ID != 2 {
		t.Fatalf("todo = %v", ids(got))
	}
	if n, _ := s.OpenCounts(); n["requests"] != 12 {
		t.Fatalf("OpenCounts = %v", n)
	}
	mine, _ := s.RequestsOf("bob")
	if len(mine) != 12 {
		t.Fatalf("RequestsOf(bob) = %v", ids(mine))
	}
}

func ids(rs []Request) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestClaimRequestNagsSurvivesRestart(t *testing.T) {
	c := newReqClock()
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	start := c.Now()
	normal := mustOpenRequest(t, s, "bob", "normal", false)
	urgent := mustOpenRequest(t, s, "bob", "urgent", true)
	taken := mustOpenRequest(t, s, "bob", "taken", true)
	mustUpdate(t, s, taken.ID, ops(RequestTake, "alice"))
	const after = 30 * time.Minute
	claim := func(at time.Duration) []uint64 { t.Helper(); return claimNags(t, s, start.Add(at), after) }
	steps := []struct {
		at   time.Duration
		want []uint64
	}{
		{9 * time.Minute, nil},
		{10 * time.Minute, []uint64{urgent.ID}},
		{11 * time.Minute, nil},
		{30 * time.Minute, []uint64{normal.ID}},
		{39 * time.Minute, nil}, // urgent again only after nag_after
		{40 * time.Minute, []uint64{urgent.ID}},
	}
	for i, st := range steps {
		if i == 3 { // a restart in the middle
			s.Close()
			if s, err = Open(path, Options{}); err != nil {
				t.Fatal(err)
			}
			s.Now = c.Now
		}
		if got := claim(st.at); !slices.Equal(got, st.want) {
			t.Fatalf("claim at +%v = %v, want %v", st.at, got, st.want)
		}
	}
	// Taken requests are never nagged; a reopened one counts from its reopening.
	mustUpdate(t, s, normal.ID, ops(RequestTake, "alice"))
	if got := claim(2 * time.Hour); !slices.Equal(got, []uint64{urgent.ID}) {
		t.Fatalf("claim at +2h = %v", got)
	}
	s.Close()
}

// An undone claim is due again at the next run; an undo of a claim that is no longer the newest does nothing.
func TestUndoRequestNagsIsCompareAndSet(t *testing.T) {
	s := openRequestStore(t, newReqClock())
	r := mustOpenRequest(t, s, "bob", "disk full", false)
	const after = 30 * time.Minute
	at := r.Opened.Add(after)
	due, err := s.ClaimRequestNags(at, after)
	if err != nil || len(due) != 1 || !due[0].LastNag.IsZero() {
		t.Fatalf("claim = %+v, %v: want R-%d as before the claim", due, err, r.ID)
	}
	if err := s.UndoRequestNags(at, due); err != nil {
		t.Fatal(err)
	}
	if got := claimNags(t, s, at.Add(time.Minute), after); !slices.Equal(got, []uint64{r.ID}) {
		t.Fatalf("claim after the undo = %v", got)
	}
	if err := s.UndoRequestNags(at, due); err != nil { // stale: the claim at +31m stands
		t.Fatal(err)
	}
	if got := claimNags(t, s, at.Add(2*time.Minute), after); got != nil {
		t.Fatalf("claim after a stale undo = %v, want none", got)
	}
}

// A reopened urgent request is nagged a third of nag_after after its reopening, whatever its earlier nags.
func TestReopenedUrgentRequestIsNaggedFromItsReopening(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	start := c.Now()
	r := mustOpenRequest(t, s, "bob", "certs expire", true)
	const after = 30 * time.Minute
	claim := func(at time.Duration) []uint64 { t.Helper(); return claimNags(t, s, start.Add(at), after) }
	if got := claim(10 * time.Minute); !slices.Equal(got, []uint64{r.ID}) {
		t.Fatalf("first nag at +10m = %v", got)
	}
	c.Advance(11 * time.Minute)
	mustUpdate(t, s, r.ID, ops(RequestFinish, "alice"))
	c.Advance(time.Minute) // +12m
	mustUpdate(t, s, r.ID, RequestChange{Action: RequestReopen, By: "bob"})
	if got := claim(21 * time.Minute); got != nil {
		t.Fatalf("nag at +21m = %v, want none yet", got)
	}
	if got := claim(22 * time.Minute); !slices.Equal(got, []uint64{r.ID}) {
		t.Fatalf("nag at +22m (10m after the reopening) = %v", got)
	}
}

// A comment on a done request is no new "done": the counter and the lead time see the request once.
func TestCommentOnADoneRequestIsNoNewDone(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	r := mustOpenRequest(t, s, "bob", "disk full", false)
	c.Advance(time.Hour)
	mustUpdate(t, s, r.ID, ops(RequestFinish, "alice"))
	c.Advance(48 * time.Hour)
	mustUpdate(t, s, r.ID, RequestChange{Action: RequestComment, By: "bob", Text: "thanks"})
	mustUpdate(t, s, r.ID, RequestChange{Action: RequestComment, By: "alice", ByOps: true, Text: "np"})
	m, err := s.RequestMetrics()
	if err != nil {
		t.Fatal(err)
	}
	if m.Done != 1 || m.LeadTime.Count != 1 || m.LeadTime.Sum != 3600 {
		t.Fatalf("done %d, lead time %d observations summing %vs; want 1 of 3600s", m.Done, m.LeadTime.Count, m.LeadTime.Sum)
	}
}

// claimNags claims the nags due at at and returns their request ids.
func claimNags(t *testing.T, s *Store, at time.Time, after time.Duration) []uint64 {
	t.Helper()
	got, err := s.ClaimRequestNags(at, after)
	if err != nil {
		t.Fatal(err)
	}
	return ids(got)
}
