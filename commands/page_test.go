package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

const pagingChannel = "#operations"

func TestPageAckResolveList(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.Notifiers = []string{"webhook-0"} })

	// Refusals and bad input change nothing.
	if got := h.one("", pagingChannel, "page db is down"); got != "error: log in to NickServ first (this bot trusts accounts, not nicks)" {
		t.Errorf("anonymous !page = %q", got)
	}
	if got := h.one("bob", pagingChannel, "page"); got != "usage: !page [service] <message>" {
		t.Errorf("!page without message = %q", got)
	}
	for _, cmd := range []string{`page ""`, `page " "`} {
		if got := h.one("bob", pagingChannel, cmd); got != "usage: !page [service] <message>" {
			t.Errorf("!%s = %q, want the usage line", cmd, got)
		}
	}
	if got := h.one("", pagingChannel, "page list"); got != "no open pages" {
		t.Errorf("!page list = %q", got)
	}
	if got := h.one("bob", pagingChannel, "ack"); got != "error: no page is waiting for an ack" {
		t.Errorf("!ack with no page = %q", got)
	}
	h.expect()

	// In the channel, the page is announced there (urgent, durable) and sent privately; that is the answer.
	if lines, errs := h.say("bob", pagingChannel, "page db is down"); len(lines)+len(errs) != 0 {
		t.Fatalf("!page in the channel replied %q %q besides the announcement", lines, errs)
	}
	h.expect(
		pagingAnn("P-1 paging alice: db is down (ack with !ack P-1 within 5m)", true),
		pagingPriv("alice", "P-1 page from "+pgNick("bob")+": db is down (ack with !ack P-1 within 5m)", true),
	)
	if h.wakes != 1 || h.st.NotifyPending("webhook-0") != 1 {
		t.Errorf("after !page: wakes %d, webhook tasks %d; want 1, 1", h.wakes, h.st.NotifyPending("webhook-0"))
	}
	// Privately: the answer comes back privately, and the channel still sees the page.
	h.now = h.now.Add(time.Minute)
	if got := h.one("dave", "", "page disk full on db2"); got != "P-2 paging alice: disk full on db2 (ack with !ack P-2 within 5m)" {
		t.Errorf("private !page = %q", got)
	}
	h.expect(
		pagingAnn("P-2 paging alice: disk full on db2 (ack with !ack P-2 within 5m)", true),
		pagingPriv("alice", "P-2 page from "+pgNick("dave")+": disk full on db2 (ack with !ack P-2 within 5m)", true),
	)
	// !ack without an id from someone not paged names the pages waiting, newest first.
	if got, want := h.one("bob", pagingChannel, "ack"), "error: you are not paged on any open page; waiting for an ack: P-2, P-1 (name one: !ack P-2)"; got != want {
		t.Errorf("!ack by someone not paged = %q, want %q", got, want)
	}
	// Within the dedupe window, bob's second page is added to P-1.
	h.now = h.now.Add(2 * time.Minute)
	if got := h.one("bob", pagingChannel, "page still down"); got != "P-1 updated (your open page, 3m old): still down; paging alice" {
		t.Errorf("dedupe = %q", got)
	}
	h.expect(pagingPriv("alice", "P-1 update from "+pgNick("bob")+": still down (ack with !ack P-1)", true))

	wantList := []string{
		"P-1 open 3m, paging " + pgNick("alice") + ", by " + pgNick("bob") + ": db is down (+1 update(s))",
		"P-2 open 2m, paging " + pgNick("alice") + ", by " + pgNick("dave") + ": disk full on db2",
	}
	if lines, _ := h.say("", pagingChannel, "page list"); fmt.Sprint(lines) != fmt.Sprint(wantList) {
		t.Errorf("!page list = %q\nwant %q", lines, wantList)
	}

	// Ack: only the paged person or ops.
	for _, tc := range []struct{ account, channel, text, want string }{
		{"dave", pagingChannel, "ack P-1", "error: only the paged person (" + pgNick("alice") + ") or ops may ack P-1"},
		{"dave", pagingChannel, "ack P-99", "error: no page P-99"},
		{"dave", pagingChannel, "ack xyz", `error: "xyz" is not a page id (like P-12)`},
		{"dave", pagingChannel, "ack P-1 P-2", "usage: !ack [P-n]"},
		{"", pagingChannel, "ack P-1", "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
	} {
		if got := h.one(tc.account, tc.channel, tc.text); got != tc.want {
			t.Errorf("%s: !%s = %q, want %q", tc.account, tc.text, got, tc.want)
		}
	}
	h.expect()
	// alice acks privately without an id: her newest open page (P-2); the channel is told.
	if got := h.one("alice", "", "ack"); got != "P-2 acked by alice after 2m; escalation stopped" {
		t.Errorf("alice !ack = %q", got)
	}
	h.expect(pagingAnn("P-2 acked by alice after 2m; escalation stopped", false))
	if got := h.one("alice", pagingChannel, "ack p2"); got != "error: P-2 is already acked by "+pgNick("alice")+", 0s ago" {
		t.Errorf("second ack = %q", got)
	}
	// carol (ops, not paged) may ack P-1 by number, in the channel: no extra announcement.
	if got := h.one("carol", pagingChannel, "ack 1"); got != "P-1 acked by carol after 3m; escalation stopped" {
		t.Errorf("carol !ack 1 = %q", got)
	}
	h.expect()
	if lines, _ := h.say("", pagingChannel, "page list"); len(lines) != 2 || lines[0] != "P-1 acked by "+pgNick("carol")+", open 3m, by "+pgNick("bob")+": db is down (+1 update(s))" {
		t.Errorf("!page list after acks = %q", lines)
	}

	// Resolve: who paged, who was paged, or ops.
	if got := h.one("erin", pagingChannel, "page resolve P-2"); got != "error: only who paged ("+pgNick("dave")+"), who was paged, or ops may resolve P-2" {
		t.Errorf("erin resolves P-2 = %q", got)
	}
	if got := h.one("dave", pagingChannel, "page resolve P-2"); got != "P-2 resolved by dave after 2m" {
		t.Errorf("dave resolves P-2 = %q", got)
	}
	if got := h.one("dave", pagingChannel, "page resolve P-2"); got != "error: P-2 is resolved (by "+pgNick("dave")+")" {
		t.Errorf("resolve twice = %q", got)
	}
	if got := h.one("alice", pagingChannel, "ack P-2"); got != "error: P-2 is resolved (by "+pgNick("dave")+")" {
		t.Errorf("ack resolved = %q", got)
	}
	if got := h.one("dave", pagingChannel, "page resolve"); got != "usage: !page resolve <P-n>" {
		t.Errorf("resolve without id = %q", got)
	}
	h.expect()
	// Every event became a webhook task: two triggers, an update, two acks, a resolve.
	if n := h.st.NotifyPending("webhook-0"); n != 6 {
		t.Errorf("webhook tasks = %d, want 6", n)
	}
	if lines, _ := h.say("", pagingChannel, "status"); !pagingContains(lines, "open: 1 page") {
		t.Errorf("!status = %q, want 1 open page", lines)
	}
}

func TestPageRateLimit(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.RateLimit, c.DedupeWindow = 2, 0 })
	h.one("bob", "", "page one")
	h.now = h.now.Add(10 * time.Minute)
	h.one("bob", "", "page two")
	h.now = h.now.Add(10 * time.Minute)
	if got := h.one("bob", "", "page three"); got != "error: you opened 2 pages in the last hour (paging.rate_limit = 2); next page possible at 14:00 CET, or ask in the channel" {
		t.Errorf("third page = %q", got)
	}
	// Another person is not limited; bob is again after an hour.
	if got := h.one("dave", "", "page other"); got != "P-3 paging alice: other (ack with !ack P-3 within 5m)" {
		t.Errorf("dave's page = %q", got)
	}
	h.now = pagingTime("2026-03-25T13:00:00Z")
	if got := h.one("bob", "", "page three"); got != "P-4 paging alice: three (ack with !ack P-4 within 5m)" {
		t.Errorf("bob's page an hour later = %q", got)
	}
}

func TestPageNobodyOnCall(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.Rotation.Accounts = nil })
	if got := h.one("bob", pagingChannel, "page help"); got != "error: nobody is on call to page (oncall.rotation is empty); ops can !oncall take" {
		t.Errorf("page with nobody on call = %q", got)
	}
	if _, err := h.deps.Pager.PageOnCall(context.Background(), "INC-1", "", "x"); !errors.Is(err, store.ErrNobodyOnCall) {
		t.Errorf("PageOnCall with nobody on call: %v", err)
	}
	h.expect()
}

// pagingCatalog is a fake service catalogue: service -> owner, or "owner/schedule".
type pagingCatalog map[string]string

func (c pagingCatalog) ServiceOwner(name string) (string, error) {
	o, _, err := c.ServiceRoute(name)
	return o, err
}

func (c pagingCatalog) ServiceRoute(name string) (string, string, error) {
	if name == "broken" {
		return "", "", errors.New("disk on fire")
	}
	o, ok := c[name]
	if !ok {
		return "", "", fmt.Errorf("service %s: %w", name, store.ErrNotFound)
	}
	owner, sched, _ := strings.Cut(o, "/")
	return owner, sched, nil
}
func (c pagingCatalog) ServiceImpact(string) ([]string, error) { return nil, nil }
func (c pagingCatalog) ServiceNames() ([]string, error)        { return nil, nil }

func TestPageServiceOwner(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.DedupeWindow = 0 })
	h.catalog = pagingCatalog{"storage": "carol", "playlist": "bob", "search": "team-search", "broken": ""}
	h.restart()
	for _, tc := range []struct{ text, want string }{
		{"page storage disk full", "P-1 paging carol: [storage] disk full (ack with !ack P-1 within 5m)"}, // owner is ops: paged directly
		{"page Playlist 500s", "P-2 paging alice: [playlist] 500s (ack with !ack P-2 within 5m)"},         // owner not known: the on-call
		{"page search slow", "P-3 paging alice: [search] slow (ack with !ack P-3 within 5m)"},             // a team: the on-call
		{"page the db is down", "P-4 paging alice: the db is down (ack with !ack P-4 within 5m)"},         // not a service: all message
		{`page storage ""`, "usage: !page [service] <message>"},                                           // a service, no message: pages nobody
		{"page storage", "P-5 paging alice: storage (ack with !ack P-5 within 5m)"},                       // one word is the message
		{"page broken thing", "error: internal error"},
	} {
		got := h.one("dave", "", tc.text)
		if got != tc.want && !(tc.want == "error: internal error" && len(got) > 20 && got[:20] == "error: internal erro") {
			t.Errorf("!%s = %q, want %q", tc.text, got, tc.want)
		}
	}
	h.ann.take()
	// The Pager contract (used by incidents): the service's owner, or the on-call; no rate limit or dedupe.
	id, err := h.deps.Pager.PageOnCall(context.Background(), "alice", "storage", "INC-7 SEV1 declared on storage")
	if err != nil || id != "P-6" {
		t.Fatalf("PageOnCall = %q, %v", id, err)
	}
	h.expect(
		pagingAnn("P-6 paging carol: [storage] INC-7 SEV1 declared on storage (ack with !ack P-6 within 5m)", true),
		pagingPriv("carol", "P-6 page from "+pgNick("alice")+": [storage] INC-7 SEV1 declared on storage (ack with !ack P-6 within 5m)", true),
	)
	if id, err := h.deps.Pager.PageOnCall(context.Background(), "alice", "", "second"); err != nil || id != "P-7" {
		t.Fatalf("PageOnCall again = %q, %v; want a new page", id, err)
	}
}

func TestEscalation(t *testing.T) {
	h := newPagingHarness(t, nil) // escalation ["next"], 2 steps, ack timeout 5m
	t0 := h.now
	h.one("bob", "", "page db is down")
	h.ann.take()

	h.now = t0.Add(5*time.Minute - time.Second)
	h.tick("page escalation")
	h.expect()
	h.now = t0.Add(5 * time.Minute)
	h.tick("page escalation")
	h.expect(
		pagingAnn("P-1 escalated to carol (step 1/2, "+pgNick("alice")+" did not ack within 5m): db is down (ack with !ack P-1 within 5m)", true),
		pagingPriv("carol", "P-1 page from "+pgNick("bob")+", escalated to you ("+pgNick("alice")+" did not ack within 5m): db is down (ack with !ack P-1 within 5m)", true),
	)
	h.tick("page escalation") // same time again: nothing
	h.expect()
	if got := h.one("", "", "page list"); got != "P-1 open 5m, paging "+pgNick("carol")+" (escalation 1/2), by "+pgNick("bob")+": db is down" {
		t.Errorf("!page list = %q", got)
	}
	// Both paged people may ack; the next step goes back to alice.
	h.now = t0.Add(10 * time.Minute)
	h.tick("page escalation")
	h.expect(
		pagingAnn("P-1 escalated to alice (step 2/2, "+pgNick("carol")+" did not ack within 5m): db is down (ack with !ack P-1 within 5m)", true),
		pagingPriv("alice", "P-1 page from "+pgNick("bob")+", escalated to you ("+pgNick("carol")+" did not ack within 5m): db is down (ack with !ack P-1 within 5m)", true),
	)
	h.now = t0.Add(15 * time.Minute)
	h.tick("page escalation")
	h.expect(pagingAnn("P-1 is still not acknowledged after 2 escalation(s) (paged "+pgNick("alice")+", "+pgNick("carol")+"): db is down. Anyone in ops: !ack P-1", true))
	h.now = t0.Add(time.Hour)
	h.tick("page escalation")
	h.expect()
	if got := h.one("carol", "", "ack"); got != "P-1 acked by carol after 1h; escalation stopped" {
		t.Errorf("carol acks the exhausted page: %q", got)
	}
}

func TestEscalationAccountsAndAckStops(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.Escalation, c.MaxEscalations = []string{"carol", "dave"}, 3 })
	t0 := h.now
	h.one("bob", "", "page one")
	h.ann.take()
	var got []string
	for i := 1; i <= 3; i++ {
		h.now = t0.Add(time.Duration(i) * 5 * time.Minute)
		h.tick("page escalation")
		msgs := h.ann.take()
		if len(msgs) != 2 {
			t.Fatalf("step %d: %+v", i, msgs)
		}
		got = append(got, msgs[1].To)
	}
	if fmt.Sprint(got) != "[carol dave dave]" {
		t.Errorf("escalation went to %v, want [carol dave dave]", got)
	}
	// dave, paged, acks: no more steps or final notice.
	if got := h.one("dave", "", "ack P-1"); got != "P-1 acked by dave after 15m; escalation stopped" {
		t.Errorf("dave acks = %q", got)
	}
	h.ann.take()
	h.now = t0.Add(time.Hour)
	h.tick("page escalation")
	h.expect()
}

// TestEscalationSurvivesRestart restarts the bot (reopens the store, rebuilds the commands and jobs) in the
// middle of an escalation: the next step fires once, at its original time; an overdue one fires at once.
func TestEscalationSurvivesRestart(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.MaxEscalations = 5 })
	t0 := h.now
	h.one("bob", "", "page db is down")
	h.now = t0.Add(5 * time.Minute)
	h.tick("page escalation")
	h.ann.take()

	h.now = t0.Add(7 * time.Minute)
	h.restart()
	h.now = t0.Add(10*time.Minute - time.Second)
	h.tick("page escalation")
	h.expect()
	h.now = t0.Add(10 * time.Minute)
	h.tick("page escalation")
	if msgs := h.ann.take(); len(msgs) != 2 || msgs[1].To != "alice" || !pagingContains([]string{msgs[0].Text}, "step 2/5") {
		t.Fatalf("step 2 after restart: %+v", msgs)
	}
	h.restart()
	h.tick("page escalation") // the same moment after another restart: nothing
	h.expect()

	// Down for 20 minutes over the next due time: one step at once when back, the next a full timeout later.
	h.st.Close()
	h.now = t0.Add(35 * time.Minute)
	h.open()
	h.tick("page escalation")
	if msgs := h.ann.take(); len(msgs) != 2 || !pagingContains([]string{msgs[0].Text}, "step 3/5") {
		t.Fatalf("overdue step after restart: %+v", msgs)
	}
	h.now = t0.Add(40*time.Minute - time.Second)
	h.tick("page escalation")
	h.expect()
	h.now = t0.Add(40 * time.Minute)
	h.tick("page escalation")
	if msgs := h.ann.take(); len(msgs) != 2 || !pagingContains([]string{msgs[0].Text}, "step 4/5") {
		t.Fatalf("step 4: %+v", msgs)
	}
}

func TestPageHelp(t *testing.T) {
	h := newPagingHarness(t, nil)
	for cmd, want := range map[string]string{
		"oncall":          "usage: !oncall [schedule] (anyone) Shows who is on call now, until when, who is next, and any override (every schedule, or the one named). Also: take, override, clear (!help oncall <subcommand>)",
		"oncall take":     "usage: !oncall take [duration] [--schedule S] (ops) Puts you on call from now for the duration (default 1h, at most oncall.max_override = 1d).",
		"page":            "usage: !page [service] <message> (developer) Pages the person on call (or the service's owner) until someone acks; escalates when nobody does. Also: resolve, list (!help page <subcommand>)",
		"ack":             "usage: !ack [P-n] (developer) Acknowledges a page (yours, or any as ops) and stops its escalation; without id, your newest open page.",
		"page resolve":    "usage: !page resolve <P-n> (developer) Closes a page (who paged, anyone paged, or ops).",
		"page list":       "usage: !page list (anyone) Lists the pages not resolved, oldest first.",
		"oncall override": "usage: !oncall override <account> <duration> [--schedule S] (ops) Puts someone else on call from now for the duration (at most 1d).",
	} {
		if got := h.one("", "", "help "+cmd); got != want {
			t.Errorf("!help %s = %q\nwant %q", cmd, got, want)
		}
	}
}

// The dedupe adds to the same person's page only while nobody has acked it and only about the same
// service: a page for another service goes to that service's owner, and a new problem after an ack pages
// again instead of riding on an ack given for something else.
func TestPageDedupeOnlyIntoAnUnackedPageAboutTheSameService(t *testing.T) {
	h := newPagingHarness(t, nil)
	h.catalog = pagingCatalog{"storage": "carol"}
	h.restart()
	for _, step := range []struct{ who, text, want string }{
		{"bob", "page db is down", "P-1 paging alice: db is down (ack with !ack P-1 within 5m)"},
		{"bob", "page storage disk full", "P-2 paging carol: [storage] disk full (ack with !ack P-2 within 5m)"},
		{"bob", "page storage still full", "P-2 updated (your open page, 0s old): still full; paging carol"},
		{"alice", "ack P-1", "P-1 acked by alice after 0s; escalation stopped"},
		{"bob", "page api is also down now", "P-3 paging alice: api is also down now (ack with !ack P-3 within 5m)"},
	} {
		if got := h.one(step.who, "", step.text); got != step.want {
			t.Errorf("%s: !%s = %q, want %q", step.who, step.text, got, step.want)
		}
	}
}

// A rotation account with RFC 1459 special characters acks its page under the casefolding it arrives with
// from IRC (dan[m] is dan{m}).
func TestPagedAccountAcksUnderIRCCasefolding(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) {
		c.Rotation.Accounts = []string{"dan[m]"}
		c.Ops = nil
	})
	if got := h.one("bob", "", "page db is down"); got != "P-1 paging dan[m]: db is down (ack with !ack P-1 within 5m)" {
		t.Fatalf("page = %q", got)
	}
	if got := h.one("dan{m}", "", "ack"); got != "P-1 acked by dan{m} after 0s; escalation stopped" {
		t.Errorf("ack by dan{m} = %q", got)
	}
}

// A page's IRC notices are stored with the change that makes them due, so a failed outbox write (or a crash)
// right after the commit delays them instead of losing them: the escalation job sends them once they are
// 10s old, once. An ack drops what is still due.
func TestPageNoticesAreNotLost(t *testing.T) {
	h := newPagingHarness(t, nil)
	opened := h.now
	ask := "(ack with !ack P-1 within 5m)"
	h.ann.fail = 1 // the channel announcement of the new page fails
	lines, errs := h.say("bob", pagingChannel, "page db is down")
	if len(errs) != 0 || len(lines) != 1 || lines[0] != "P-1 paging alice: db is down "+ask {
		t.Fatalf("!page whose announcement failed answered %q %q; want the paging line (the page stands)", lines, errs)
	}
	h.expect()
	h.now = opened.Add(5 * time.Second)
	h.tick("page escalation")
	h.expect() // not yet: the command may still be sending
	h.now = opened.Add(11 * time.Second)
	h.tick("page escalation")
	h.expect(pagingAnn("P-1 paging alice: db is down "+ask, true), pagingPriv("alice", "P-1 page from "+pgNick("bob")+": db is down "+ask, true))
	h.tick("page escalation")
	h.expect() // once

	// An escalation step whose private message fails, then a crash: the message is sent after the restart,
	// and the channel line that did go out is not repeated.
	h.now = opened.Add(5 * time.Minute)
	h.ann.failAfter(1)
	h.tick("page escalation")
	h.expect(pagingAnn("P-1 escalated to carol (step 1/2, "+pgNick("alice")+" did not ack within 5m): db is down "+ask, true))
	h.restart()
	h.now = h.now.Add(10 * time.Second)
	h.tick("page escalation")
	h.expect(pagingPriv("carol", "P-1 page from "+pgNick("bob")+", escalated to you ("+pgNick("alice")+" did not ack within 5m): db is down "+ask, true))

	// The next step's notices fail; an ack comes before they are retried: they are dropped.
	h.now = opened.Add(10 * time.Minute)
	h.ann.fail = 2
	h.tick("page escalation")
	h.expect()
	if got := h.one("alice", pagingChannel, "ack P-1"); got != "P-1 acked by alice after 10m; escalation stopped" {
		t.Fatalf("ack = %q", got)
	}
	h.now = h.now.Add(time.Minute)
	h.tick("page escalation")
	h.expect()
}
