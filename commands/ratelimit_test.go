package commands

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// rateDispatcher is a dispatcher with a budget of 3 commands, then one per 2s, on a clock the test moves.
func rateDispatcher(t *testing.T, now *time.Time) *Dispatcher {
	t.Helper()
	pong := &Command{Name: "ping", Help: "Answers pong.", Role: RoleAnyone, Run: func(_ context.Context, _ *Call, w Replier) error {
		w.Reply("pong")
		return nil
	}}
	reg, err := NewRegistry(pong)
	if err != nil {
		t.Fatal(err)
	}
	return NewDispatcher(reg, DispatcherOptions{Prefix: "!", RateInterval: 2 * time.Second, RateBurst: 3, Now: func() time.Time { return *now }})
}

// Twenty clients that are not logged in, each from its own user@host, share one budget (twice a person's):
// together they get 6 answers and one "slow down" line, not 20 of each; someone logged in is not affected.
func TestAnonymousCallersShareOneBudget(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d := rateDispatcher(t, &now)
	var crowd recorder
	for i := range 20 {
		c := Caller{Nick: fmt.Sprintf("anon%d", i), Host: fmt.Sprintf("u@host%d.example", i)}
		d.Dispatch(context.Background(), Message{Caller: c, Text: "ping"}, &crowd)
	}
	if len(crowd.lines) != 6 || len(crowd.errors) != 1 || !strings.Contains(crowd.errors[0], "not logged in") {
		t.Fatalf("20 anonymous callers at once: %d answers, errors %q; want 6 answers and one slow-down naming the reason", len(crowd.lines), crowd.errors)
	}
	var bob recorder
	d.Dispatch(context.Background(), Message{Caller: dev, Text: "ping"}, &bob)
	if len(bob.lines) != 1 {
		t.Fatalf("a logged-in caller during the anonymous flood got %q", bob.all())
	}
	now = now.Add(time.Second) // the shared budget gains one command a second
	var later recorder
	d.Dispatch(context.Background(), Message{Caller: Caller{Nick: "anon0", Host: "u@host0.example"}, Text: "ping"}, &later)
	if len(later.lines) != 1 {
		t.Fatalf("an anonymous caller a second later got %q, want an answer", later.all())
	}
}

// A caller flooding steadily (a command a second against one per 2s) hears "slow down" once for the whole
// flood, not after each command the budget lets through; after a pause long enough to fill the budget, a
// new flood gets a new warning.
func TestSlowDownOncePerFlood(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d := rateDispatcher(t, &now)
	var r recorder
	for range 30 {
		d.Dispatch(context.Background(), Message{Caller: dev, Text: "ping"}, &r)
		now = now.Add(time.Second)
	}
	if len(r.errors) != 1 || len(r.lines) < 15 {
		t.Fatalf("30 commands in 30s: %d answers and %d slow-down lines %q; want about 17 answers and one slow-down", len(r.lines), len(r.errors), r.errors)
	}
	now = now.Add(6 * time.Second) // the budget (3 commands, one per 2s) is full again
	r = recorder{}
	for range 5 {
		d.Dispatch(context.Background(), Message{Caller: dev, Text: "ping"}, &r)
	}
	if len(r.lines) != 3 || len(r.errors) != 1 {
		t.Fatalf("a new flood after a pause: %d answers, errors %q; want 3 answers and a new slow-down", len(r.lines), r.errors)
	}
}
