package bot

import (
	"strings"
	"testing"
	"time"
)

// A durable line leaves the outbox only when the PONG to a sync PING written after it comes back; a PONG
// to an earlier PING confirms nothing written later, and what is unconfirmed when the link ends is queued
// again.
func TestDurableLinesLeaveTheOutboxOnlyWhenConfirmed(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 100, 0, time.Hour, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	w := &fakeWriter{changed: make(chan struct{})}
	o.w, o.confirms = w, true // as run does for the transport
	writeNext := func() string {
		t.Helper()
		o.writeMu.Lock()
		defer o.writeMu.Unlock()
		l, ok := o.next(w)
		if !ok {
			t.Fatal("nothing to write")
		}
		o.write(w, l)
		if l.raw != nil {
			return strings.TrimSpace(string(l.raw))
		}
		return l.Text
	}
	for _, text := range []string{"INC-1: first", "INC-1: second"} {
		if err := o.SendDurable(Line{Target: "#ops", Text: text, Priority: PriorityHigh}); err != nil {
			t.Fatal(err)
		}
	}
	o.push(Line{Target: "#ops", Text: "a reply"}, false) // queued, not written inline
	var got []string
	for range 4 {
		got = append(got, writeNext())
	}
	if want := []string{"INC-1: first", "INC-1: second", "PING :opsbot-sync-1", "a reply"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("wrote %q, want %q: a batch of durable lines ends with a sync PING", got, want)
	}
	if err := o.SendDurable(Line{Target: "#ops", Text: "INC-1: third", Priority: PriorityHigh}); err != nil {
		t.Fatal(err)
	}
	if l := writeNext(); l != "INC-1: third" {
		t.Fatalf("wrote %q", l)
	}
	if n := outboxLen(st); n != 3 {
		t.Fatalf("outbox holds %d lines before any PONG, want 3", n)
	}
	o.confirm(1)
	o.removeConfirmed()
	if n := outboxLen(st); n != 1 {
		t.Fatalf("outbox holds %d lines after the PONG to the first sync, want 1 (the third line, written after it)", n)
	}
	o.linkLost()
	if l := writeNext(); l != "INC-1: third" {
		t.Fatalf("after the link ended, the next line written is %q, want the unconfirmed third line again", l)
	}
}

// pongWriter answers a sync PING before writeLine returns, as a fast server's PONG can overtake the writer.
type pongWriter struct {
	fakeWriter
	o *Outbound
}

func (p *pongWriter) writeLine(l Line) error {
	if n, ok := syncToken(strings.TrimPrefix(strings.TrimSpace(string(l.raw)), "PING :")); ok {
		p.o.confirm(n)
		return nil
	}
	return p.fakeWriter.writeLine(l)
}

// A PONG that comes back while the PING is still being written confirms the lines before it.
func TestAnInstantPongConfirms(t *testing.T) {
	st := openTestStore(t)
	o := newOutbound(st, 100, 0, time.Hour, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	w := &pongWriter{fakeWriter: fakeWriter{changed: make(chan struct{})}, o: o}
	o.w, o.confirms = w, true
	if err := o.SendDurable(Line{Target: "#ops", Text: "INC-1: declared", Priority: PriorityHigh}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the line, then its sync PING
		l, ok := o.next(w)
		if !ok {
			t.Fatal("nothing to write")
		}
		o.write(w, l)
	}
	o.removeConfirmed()
	if n := outboxLen(st); n != 0 {
		t.Fatalf("outbox holds %d lines after the PONG, want 0", n)
	}
}
