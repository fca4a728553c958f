package bot

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWriter is a lineWriter that fails a set number of writes with errNotReady, then records lines.
type fakeWriter struct {
	mu       sync.Mutex
	failures int
	lines    []string
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
	o.metrics = newMetrics(func() float64 { return 0 }, func() float64 { return 0 })
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
	if st.OutboxLen() != 0 {
		t.Fatal("delivered line still in the outbox")
	}
}

// A reply written at once from the command's goroutine does not wake the sender; one left queued (here: no
// token) does, so it is not stranded.
func TestSendWakesTheSenderOnlyForQueuedLines(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 1, time.Hour, time.Minute, testLog(t), time.Now) // one token, then one an hour
	o.metrics = newMetrics(func() float64 { return 0 }, func() float64 { return 0 })
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
	o.metrics = newMetrics(func() float64 { return 0 }, func() float64 { return 0 })
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
	o.metrics = newMetrics(func() float64 { return 0 }, func() float64 { return 0 })
	w := &fakeWriter{changed: make(chan struct{})}
	o.w = w
	quitWritten := false
	o.stopWrites(func() { quitWritten = true })
	if err := o.SendDurable(Line{Target: "alice", Text: "INC-1: late notice"}); err != nil {
		t.Fatal(err)
	}
	o.Send(Line{Target: "alice", Text: "a reply"})
	if !quitWritten || len(w.lines) != 0 || o.Depth() != 2 || st.OutboxLen() != 1 {
		t.Fatalf("after QUIT: written %q, %d queued, %d in the outbox; want nothing written, both queued, one kept", w.lines, o.Depth(), st.OutboxLen())
	}
}
