package commands

import (
	"fmt"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// A page acked and not resolved is resolved by the bot paging.ack_resolve_after after the ack, with one
// line in the channel; !page list no longer shows it. A backlog resolved at once shares one line.
func TestPageAutoResolve(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.AckResolveAfter = 24 * time.Hour })
	t0 := h.now
	h.one("bob", "", "page db is down")
	h.one("dan", "", "page cache is down")
	h.now = t0.Add(2 * time.Minute)
	h.one("alice", "#operations", "ack P-1")
	h.ann.take()
	wakes := h.wakes

	h.now = t0.Add(2*time.Minute + 24*time.Hour - time.Second)
	h.tick("page auto-resolve")
	h.expect()
	h.now = t0.Add(2*time.Minute + 24*time.Hour)
	h.tick("page auto-resolve")
	h.expect(pagingAnn("P-1 resolved: acked 1d ago by "+pgNick("alice")+" and not resolved", false))
	if h.wakes == wakes {
		t.Error("the notifiers were not woken for the resolve events")
	}
	if pg, err := h.st.GetPage(1); err != nil || pg.State != store.PageResolved || pg.ResolvedBy != store.AutoResolver {
		t.Errorf("P-1 = %+v, %v; want resolved by %s", pg, err, store.AutoResolver)
	}
	list, _ := h.say("", "", "page list") // P-2 was never acked: it stays (and escalates)
	if len(list) != 1 || !pagingContains(list, "P-2 open") {
		t.Errorf("!page list = %q, want only P-2", list)
	}
	if got := h.one("alice", "#operations", "page resolve P-1"); got != "error: P-1 is resolved (by "+pgNick(store.AutoResolver)+")" {
		t.Errorf("resolving it again: %q", got)
	}

	// Six forgotten pages at once (a store upgraded with a backlog): one line.
	for i := range 6 {
		h.one(fmt.Sprintf("dev%d", i), "", fmt.Sprintf("page disk %d full", i))
	}
	for id := 3; id <= 8; id++ {
		h.one("alice", "", fmt.Sprintf("ack P-%d", id))
	}
	h.ann.take()
	h.now = h.now.Add(48 * time.Hour)
	h.tick("page auto-resolve")
	h.expect(pagingAnn("P-3, P-4, P-5, P-6, P-7 and 1 more resolved: acked 1d ago or more and not resolved", false))
}

// With paging.ack_resolve_after = 0 there is no auto-resolve job: acked pages stay until resolved.
func TestPageAutoResolveOff(t *testing.T) {
	h := newPagingHarness(t, nil)
	for _, j := range h.jobs {
		if j.Name == "page auto-resolve" {
			t.Fatal("auto-resolve job without paging.ack_resolve_after")
		}
	}
}

// The channel line of a page the bot resolves is stored with the resolve: when its outbox write fails, the
// escalation job sends it once, after a restart too.
func TestPageAutoResolveLineSurvivesFailedSend(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.AckResolveAfter = 24 * time.Hour })
	h.one("bob", "", "page db is down")
	h.now = h.now.Add(2 * time.Minute)
	h.one("alice", "#operations", "ack P-1")
	h.ann.take()

	h.now = h.now.Add(24 * time.Hour)
	h.ann.failAfter(0)             // the outbox write of the line fails
	h.tickErr("page auto-resolve") // the failure is logged; the line stays due
	if pg, err := h.st.GetPage(1); err != nil || pg.State != store.PageResolved {
		t.Fatalf("P-1 = %+v, %v: want resolved", pg, err)
	}
	h.expect()
	h.restart()
	for range 3 { // the jobs run on; the line goes out once
		h.now = h.now.Add(time.Minute)
		h.tick("page auto-resolve")
		h.tick("page escalation")
	}
	h.expect(pagingAnn("P-1 resolved: acked 1d ago by "+pgNick("alice")+" and not resolved", false))
}
