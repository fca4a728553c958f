package bot

import (
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
