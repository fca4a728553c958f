package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
)

// One caller's flood of private replies (page after page of a listing) sheds that caller's own lines; the
// next caller's answer is not dropped and goes out before the flood's backlog, and callers take turns.
func TestCallersTakeTurnsAndAFloodShedsOnlyItsOwnLines(t *testing.T) {
	o := newOutbound(openTestStore(t), 1, time.Hour, time.Minute, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	for i := range 2000 {
		o.push(Line{Target: "mallory", Text: fmt.Sprintf("R-%d listing line", i), owner: "a:mallory", Priority: PriorityNormal}, false)
	}
	o.push(Line{Target: "alice", Text: "commands: help, status", owner: "a:alice", Priority: PriorityNormal}, false)
	o.push(Line{Target: "bob", Text: "bob's first", owner: "a:bob", Priority: PriorityNormal}, false)
	o.push(Line{Target: "bob", Text: "bob's second", owner: "a:bob", Priority: PriorityNormal}, false)
	w := &fakeWriter{changed: make(chan struct{})}
	var got []string
	for range 6 {
		l, ok := o.next(w)
		if !ok {
			t.Fatal("queue ran dry")
		}
		got = append(got, l.Text)
	}
	want := []string{"R-0 listing line", "commands: help, status", "bob's first", "R-1 listing line", "bob's second", "R-2 listing line"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines went out as %q, want %q (each caller in turn, the one served longest ago first)", got, want)
	}
	if v := testCounter(t, o.metrics.LinesDropped.WithLabelValues("caller_full")); v != 2000-maxPerOwner {
		t.Errorf("%v lines dropped for the flooding caller, want %d (all beyond %d queued)", v, 2000-maxPerOwner, maxPerOwner)
	}
	if v := testCounter(t, o.metrics.LinesDropped.WithLabelValues("queue_full")); v != 0 {
		t.Errorf("%v lines dropped from the queue as a whole, want none", v)
	}
}

// A private reply is capped too: a page of a listing fits, a longer one ends with how to see the rest.
func TestPrivateReplyIsCapped(t *testing.T) {
	o := testOptions(t, "127.0.0.1:1")
	o.HTTPListen = ""
	b, err := New(o, openTestStore(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("R-%d [todo] something", i))
	}
	r := &ircReplier{b: b, target: "bob", nick: "bob", private: true, owner: replyOwner(commands.Caller{Account: "bob", Nick: "bob"})}
	r.Reply(lines[:21]...) // a page and its header: whole
	if q := b.out.queued(); len(q) != 21 {
		t.Fatalf("a 21-line private reply queued %d lines, want 21", len(q))
	}
	b.out = newOutbound(b.store, 1, time.Hour, time.Minute, testLog(t), time.Now)
	r.Reply(lines...)
	q := b.out.queued()
	if len(q) != maxPrivateLines || q[len(q)-1].Text != "... and 77 more (use --page, or narrow it down)" {
		t.Fatalf("a 100-line private reply queued %d lines ending %q, want %d ending with the rest's count", len(q), q[len(q)-1].Text, maxPrivateLines)
	}
}

// Replies to people not logged in use at most half the bucket (here 2 of 4 tokens, then one per two
// intervals): during an anonymous flood the bucket keeps tokens for everyone else.
func TestAnonymousRepliesUseHalfTheBucket(t *testing.T) {
	o := newOutbound(openTestStore(t), 4, time.Hour, time.Minute, testLog(t), time.Now)
	o.metrics = newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil })
	for i := range 10 {
		o.push(Line{Target: "#ops", Text: fmt.Sprintf("anonymous %d", i), owner: anonymousOwner, Priority: PriorityNormal}, false)
	}
	o.push(Line{Target: "#ops", Text: "alice's answer", owner: "a:alice", Priority: PriorityNormal}, false)
	w := &fakeWriter{changed: make(chan struct{})}
	var got []string
	for {
		l, ok := o.next(w)
		if !ok {
			break
		}
		got = append(got, l.Text)
	}
	if want := []string{"anonymous 0", "alice's answer", "anonymous 1"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines out: %q, want %q and the rest held for later", got, want)
	}
	if o.sendable(w) {
		t.Error("the sender would take a token for an anonymous line beyond their share")
	}
}
