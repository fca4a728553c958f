package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// fakeWriter is a lineWriter that fails a set number of writes with errNotReady, then records lines.
type fakeWriter struct {
	mu       sync.Mutex
	failures int
	lines    []string
	targets  []string
	changed  chan struct{}
}

func (f *fakeWriter) writeLine(l Line) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errNotReady
	}
	f.lines = append(f.lines, l.Text)
	f.targets = append(f.targets, l.Target)
	return nil
}
func (f *fakeWriter) ready() <-chan struct{} { return f.changed }
func (f *fakeWriter) canSend(string) bool    { return true }

func TestLateMarkIsAddedOnceAcrossRetries(t *testing.T) {
	st := openTestStore(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st.Now = clock
	o := newOutbound(st, 10, 0, 2*time.Minute, testLog(t), clock)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	if err := o.SendDurable(Line{Target: "#ops", Text: "P-1 paging alice"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute) // delivered late
	w := &fakeWriter{failures: 2, changed: make(chan struct{})}
	for range 3 {
		o.writeMu.Lock()
		l, ok := o.next(w)
		if ok {
			o.write(w, l)
		}
		o.writeMu.Unlock()
	}
	if len(w.lines) != 1 || w.lines[0] != "(late, queued 12:00 UTC) P-1 paging alice" {
		t.Fatalf("after two failed tries, delivered %q", w.lines)
	}
	if strings.Count(w.lines[0], "(late") != 1 {
		t.Fatalf("late mark added more than once: %q", w.lines[0])
	}
	if outboxLen(st) != 0 {
		t.Fatal("delivered line still in the outbox")
	}
}

// A reply written at once from the command's goroutine does not wake the sender; one left queued (here: no
// token) does, so it is not stranded.
func TestSendWakesTheSenderOnlyForQueuedLines(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 1, time.Hour, time.Minute, testLog(t), time.Now) // one token, then one an hour
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	w := &fakeWriter{changed: make(chan struct{})}
	o.w = w // as run sets it; the sender goroutine itself is not running, so the wake-up stays visible

	o.Send(Line{Target: "alice", Text: "first"})
	if len(w.lines) != 1 || o.Depth() != 0 {
		t.Fatalf("written %q, %d queued: want the first line written at once", w.lines, o.Depth())
	}
	if len(o.wake) != 0 {
		t.Fatal("a line written at once woke the sender")
	}
	o.Send(Line{Target: "alice", Text: "second"}) // no token left: queued for the sender
	if len(w.lines) != 1 || o.Depth() != 1 {
		t.Fatalf("written %q, %d queued: want the second line queued", w.lines, o.Depth())
	}
	if len(o.wake) != 1 {
		t.Fatal("a queued line did not wake the sender")
	}
}

// joinWriter can send only once "joined"; the join happens while the sender looks at the queue, between its
// look and its wait: the state-change channel it waits on must be the one from before the look.
type joinWriter struct {
	mu     sync.Mutex
	joined bool
	ch     chan struct{}
	lines  []string
}

func (j *joinWriter) writeLine(l Line) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, l.Text)
	return nil
}

func (j *joinWriter) ready() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ch
}

func (j *joinWriter) canSend(string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.joined { // the JOIN lands right after this look: close the old channel, make a new one
		j.joined = true
		close(j.ch)
		j.ch = make(chan struct{})
		return false
	}
	return true
}

func TestSenderSeesAJoinBetweenLookAndWait(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 10, 0, time.Minute, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	if err := o.SendDurable(Line{Target: "#ops", Text: "P-1 paging alice"}); err != nil {
		t.Fatal(err)
	}
	<-o.wake // the queued line's wake-up is spent, as if the sender had already taken it
	w := &joinWriter{ch: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.run(ctx, w); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(2 * time.Second)
	for o.Depth() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) != 1 {
		t.Fatalf("after the join, written %q: the sender slept through the join", w.lines)
	}
}

// After QUIT nothing more is written: a line queued then stays queued (and a durable one in the outbox).
func TestNothingWrittenAfterQuit(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 10, 0, time.Minute, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	w := &fakeWriter{changed: make(chan struct{})}
	o.w = w
	quitWritten := false
	o.stopWrites(func() { quitWritten = true })
	if err := o.SendDurable(Line{Target: "alice", Text: "INC-1: late notice"}); err != nil {
		t.Fatal(err)
	}
	o.Send(Line{Target: "alice", Text: "a reply"})
	if !quitWritten || len(w.lines) != 0 || o.Depth() != 2 || outboxLen(st) != 1 {
		t.Fatalf("after QUIT: written %q, %d queued, %d in the outbox; want nothing written, both queued, one kept", w.lines, o.Depth(), outboxLen(st))
	}
}

// A line left in the outbox for a channel no longer configured goes to the channel named instead, saying
// where it was meant for, in two parts when that mark makes it too long; its outbox entry leaves with the
// last part only, so a crash between the parts delivers it again rather than losing its end.
func TestOutboxLinesForARemovedChannelAreRedirected(t *testing.T) {
	st := openTestStore(t)
	long := strings.Repeat("x", textBudget("PRIVMSG", "#old-ops")) // as long as a line to #old-ops can be
	for _, m := range []store.OutMsg{
		{Target: "#old-ops", Text: "INC-3: payments degraded"},
		{Target: "alice", Text: "P-2: you are paged"},
		{Target: "#Old-Ops", Text: long},
		{Target: "#operations", Text: "R-4 done"},
	} {
		if _, err := st.OutboxAdd(m); err != nil {
			t.Fatal(err)
		}
	}
	o := newOutbound(st, 10, 0, time.Hour, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	moved := func(target string) (string, bool) {
		if strings.EqualFold(target, "#old-ops") {
			return "#operations", true
		}
		return "", false
	}
	if err := o.loadOutbox(moved); err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{changed: make(chan struct{})}
	var left []int // outbox entries left after each write
	for {
		l, ok := o.next(w)
		if !ok {
			break
		}
		o.write(w, l)
		left = append(left, outboxLen(st))
	}
	budget := textBudget("PRIVMSG", "#operations")
	if len(w.lines) != 5 {
		t.Fatalf("wrote %d lines %q, want 5", len(w.lines), w.lines)
	}
	got := []string{w.targets[0] + " " + w.lines[0], w.targets[1] + " " + w.lines[1], w.targets[4] + " " + w.lines[4]}
	want := []string{"#operations (for #old-ops) INC-3: payments degraded", "alice P-2: you are paged", "#operations R-4 done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if w.targets[2] != "#operations" || w.targets[3] != "#operations" || w.lines[2]+w.lines[3] != "(for #Old-Ops) "+long ||
		len(w.lines[2]) > budget || len(w.lines[3]) > budget {
		t.Errorf("the long line went out as %q then %q to %s, %s (budget %d)", w.lines[2], w.lines[3], w.targets[2], w.targets[3], budget)
	}
	if want := []int{3, 2, 2, 1, 0}; !slices.Equal(left, want) {
		t.Errorf("outbox entries left after each write: %v, want %v", left, want)
	}
}

// awayWriter can send to anything but an account (nobody logged in as it is in sight).
type awayWriter struct{ fakeWriter }

func (a *awayWriter) canSend(target string) bool {
	_, account := targetAccount(target)
	return !account
}

// At shutdown the flush waits for lines that can go out, not for a private line held for an account nobody
// is logged in as: that one stays in the outbox for the next start.
func TestShutdownFlushSkipsLinesHeldForAnAccount(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 10, 0, time.Minute, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	o.w = &awayWriter{fakeWriter{changed: make(chan struct{})}}
	for _, l := range []Line{{Target: accountTarget("alice"), Text: "P-1 page from bob"}, {Target: "#ops", Text: "P-1 paging alice"}} {
		if err := o.SendDurable(l); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.settledDepth(); got != 1 {
		t.Fatalf("settledDepth = %d, want 1 (the channel line only)", got)
	}
}
