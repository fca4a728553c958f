package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// fakeDigest is a named source with fixed items, for what the families do not give.
type fakeDigest struct {
	name    string
	summary string
	items   []string
}

func (f fakeDigest) DigestName() string { return f.name }

func (f fakeDigest) Digest(string, time.Time, time.Time) (DigestPart, error) {
	return DigestPart{Summary: f.summary, Items: f.items}, nil
}

// must runs a command that has to succeed (no error line) and returns its lines.
func (h *pagingHarness) must(account, channel, text string) []string {
	h.t.Helper()
	lines, errs := h.say(account, channel, text)
	if len(errs) > 0 {
		h.t.Fatalf("%s: !%s: %q", account, text, errs)
	}
	return lines
}

// At a handoff the channel gets one line with the digest's counts, and the incoming person a private digest
// of every kind of content: pages (acked or not), incidents, the oldest todo request and the blocked ones,
// the rollbacks and locks of the shift, the alert groups firing (held back by a window or not) and the
// maintenance windows in progress and of the next 24 hours.
func TestHandoffDigestWithEveryKindOfContent(t *testing.T) {
	h := newPagingHarness(t, nil)
	h.digest = []DigestSource{
		fakeDigest{"quiet", "", nil}, // nothing to say: no line
	}
	h.restart()
	h.tick("oncall handoff") // the first run records silently
	h.expect()

	h.must("bob", pagingChannel, "page db is down")
	h.must("dave", pagingChannel, "page disk full on db2")
	h.must("alice", pagingChannel, "ack P-2")
	h.must("alice", pagingChannel, "incident declare sev2 playlist 500s on play")
	h.must("bob", pagingChannel, "request open rotate the certs")
	h.now = h.now.Add(time.Hour)
	h.must("bob", pagingChannel, "request open new bucket for logs")
	h.must("alice", pagingChannel, "request take R-2")
	h.must("alice", pagingChannel, "request block R-2 waiting for the vendor")
	h.must("alice", pagingChannel, "deploy start playlist 1.42")
	h.must("alice", pagingChannel, "deploy rollback playlist 1.41 500s")
	h.must("alice", pagingChannel, "maint add playlist 2026-03-30T07:00:00Z 3h db migration --freeze")
	h.must("alice", pagingChannel, "maint add all 2026-03-31T00:00:00Z 2h network upgrade")
	h.must("alice", pagingChannel, "maint add storage 2026-04-02T00:00:00Z 2h too far ahead to tell")
	fired := pagingTime("2026-03-30T07:40:00Z")
	for _, u := range []store.AlertUpdate{
		{Key: "{}:{alertname=\"HighLatency\"}", Name: "HighLatency", Service: "search", Severity: "warning", Action: store.ActionNotify},
		{Key: "{}:{alertname=\"DiskFull\"}", Name: "DiskFull", Service: "playlist", Severity: "critical", Action: store.ActionPage, Suppressed: "M-1"},
		{Key: "{}:{alertname=\"Noise\"}", Name: "Noise", Service: "search", Severity: "info", Action: store.ActionIgnore},
	} {
		u.Now = fired
		u.Alerts = []store.Alert{{Fingerprint: u.Name, Status: "firing", Labels: map[string]string{"alertname": u.Name}, StartsAt: fired}}
		if _, err := h.st.ApplyAlerts(u); err != nil {
			t.Fatal(err)
		}
	}
	h.ann.take()

	h.now = pagingTime("2026-03-30T08:00:00Z") // Monday 10:00 CEST: carol takes over
	h.tick("oncall handoff")
	msgs := h.ann.take()
	if len(msgs) < 2 {
		t.Fatalf("handoff sent %+v", msgs)
	}
	wantChannel := "on call: carol takes over from " + pgNick("alice") + " until Mon 6 Apr 10:00 CEST (in 7d), next: " + pgNick("alice") +
		"; 2 pages open, INC-1 open, 2 alert groups firing, 1 suppressed, 1 request waiting, 1 blocked, 1 rollback, 1 lock, M-1 in progress, M-2 within 24h: !handoff"
	if msgs[0] != pagingAnn(wantChannel, false) {
		t.Errorf("channel line = %q\n                want %q", msgs[0].Text, wantChannel)
	}
	want := []string{
		"handoff from " + pgNick("alice") + ": pages: P-1 open 4d20h, paging " + pgNick("alice") + ": db is down; P-2 acked by " + pgNick("alice") + ", open 4d20h: disk full on db2",
		"incidents: INC-1 SEV2 playlist investigating for 4d20h: 500s on play (commander " + pgNick("alice") + ")",
		"alerts: A-2 DiskFull on playlist firing 20m, suppressed by M-1; A-1 HighLatency on search firing 20m, not paging",
		"requests: oldest todo R-1 (4d20h): rotate the certs; R-2 blocked 4d19h: waiting for the vendor (new bucket for logs)",
		"deploys: D-1 playlist rolled back 1.42 -> 1.41: 500s; playlist locked (rolled back from 1.42, by " + pgNick("alice") + ")",
		"maintenance: M-1 playlist in progress until 12:00 (2h left): db migration [freeze]; M-2 all Tue 02:00-04:00 CEST: network upgrade",
	}
	got := msgs[1:]
	if len(got) != len(want) {
		t.Fatalf("digest of %d lines:\n%+v\nwant %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != pagingPriv("carol", want[i], false) {
			t.Errorf("digest line %d = %+v\n                 want %q", i, got[i], want[i])
		}
	}
	// Once: not again at the next run, nor after a restart at the handoff instant.
	h.tick("oncall handoff")
	h.restart()
	h.tick("oncall handoff")
	h.expect()

	// !handoff shows the same digest to anyone, on demand.
	lines := h.must("", "", "handoff")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "handoff: "+pgNick("carol")+" on call until Mon 6 Apr 10:00 CEST, then "+pgNick("alice")+": pages: P-1 open") || lines[5] != want[5] {
		t.Errorf("!handoff = %q", lines)
	}
}

// The digest keeps to six lines of at most 350 bytes: items that do not fit are counted ("+N more"), and so
// are the sources beyond the sixth line.
func TestHandoffDigestIsCapped(t *testing.T) {
	long := strings.Repeat("x", 120)
	var parts []namedPart
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		parts = append(parts, namedPart{name, DigestPart{Items: []string{"1 " + long, "2 " + long, "3 " + long, "4 " + long}}})
	}
	parts[0].Items = []string{strings.Repeat("y", 500)}
	lines := digestLines("handoff from alice: ", parts)
	if len(lines) != digestMaxLines {
		t.Fatalf("%d lines: %q", len(lines), lines)
	}
	for i, l := range lines {
		if len(l) > digestLineBytes {
			t.Errorf("line %d has %d bytes", i, len(l))
		}
	}
	if !strings.HasPrefix(lines[0], "handoff from alice: a: yyy") || !strings.HasSuffix(lines[0], "…") {
		t.Errorf("line 0 = %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], "; +2 more") || !strings.HasPrefix(lines[1], "b: 1 xx") {
		t.Errorf("line 1 = %q", lines[1])
	}
	if lines[5] != "+3 more: f, g, h" {
		t.Errorf("line 5 = %q", lines[5])
	}
	if got := digestLines("handoff: ", nil); len(got) != 1 || got[0] != "handoff: nothing to hand over" {
		t.Errorf("empty digest = %q", got)
	}
}

// Several schedules: !oncall shows each, overrides are per schedule, a page about a service of the db
// schedule reaches the db person on call and escalates within db; unknown schedules are clear errors.
func TestSchedulesRoutePagesAndEscalation(t *testing.T) {
	ny := mustLocation(t, "America/New_York")
	h := newPagingHarness(t, func(c *PagingConfig) {
		c.Schedules = []Schedule{{Rotation: rotationNY(ny, "erin", "frank", "dave")}}
		c.MaxEscalations = 3
	})
	h.catalog = pagingCatalog{"postgres": "team-db/db", "storage": "carol/db", "playlist": "team-play"}
	h.restart()
	if lines := h.must("", "", "oncall"); len(lines) != 2 ||
		lines[0] != "on call: "+pgNick("alice")+" until Mon 10:00 CEST (in 4d20h), next: "+pgNick("carol") ||
		lines[1] != "on call (db): "+pgNick("dave")+" until Mon 16:00 CEST (in 5d2h), next: "+pgNick("erin") {
		t.Errorf("!oncall = %q", lines)
	}
	for _, tc := range []struct{ account, text, want string }{
		{"", "oncall db", "on call (db): " + pgNick("dave") + " until Mon 16:00 CEST (in 5d2h), next: " + pgNick("erin")},
		{"", "oncall dbb", `error: no schedule "dbb", did you mean db? (schedules: ops, db)`},
		{"", "handoff dbb", `error: no schedule "dbb", did you mean db? (schedules: ops, db)`},
		{"alice", "oncall take 1h --schedule dbb", `error: no schedule "dbb", did you mean db? (schedules: ops, db)`},
		{"alice", "oncall clear --schedule db", "error: no override is in force (db)"},
		{"alice", "oncall override erin 2h --schedule db", "on call (db): erin until 15:00 CET (in 2h, override by " + pgNick("alice") + "; rotation: " + pgNick("dave") + "), next: " + pgNick("dave")},
	} {
		if got := h.one(tc.account, "", tc.text); got != tc.want {
			t.Errorf("%s: !%s = %q\n want %q", tc.account, tc.text, got, tc.want)
		}
	}
	h.expect(pagingPriv("erin", "you are on call (db) until 15:00 CET (override by "+pgNick("alice")+")", false))
	h.one("alice", "", "oncall clear --schedule db")

	// postgres belongs to db and its owner is a team: dave (db's on-call) is paged, not alice.
	if got := h.one("bob", "", "page postgres replication lag"); got != "P-1 paging dave: [postgres] replication lag (ack with !ack P-1 within 5m)" {
		t.Fatalf("page postgres = %q", got)
	}
	// storage's owner is an account (carol): paged directly, and it escalates within db.
	if got := h.one("bob", "", "page storage disk full"); got != "P-2 paging carol: [storage] disk full (ack with !ack P-2 within 5m)" {
		t.Fatalf("page storage = %q", got)
	}
	// playlist has no schedule: ops.
	if got := h.one("bob", "", "page playlist 500s"); got != "P-3 paging alice: [playlist] 500s (ack with !ack P-3 within 5m)" {
		t.Fatalf("page playlist = %q", got)
	}
	h.ann.take()
	// Nobody acks: "next" is the next in each page's schedule (dave -> erin; carol, not in db's rotation,
	// -> db's scheduled person; alice -> carol in ops).
	h.now = h.now.Add(5 * time.Minute)
	h.tick("page escalation")
	var escalated []string
	for _, m := range h.ann.take() {
		if m.To == "" {
			escalated = append(escalated, m.Text[:strings.Index(m.Text, " (")])
		}
	}
	if want := []string{"P-1 escalated to erin", "P-2 escalated to dave", "P-3 escalated to carol"}; strings.Join(escalated, "|") != strings.Join(want, "|") {
		t.Errorf("escalations = %q, want %q", escalated, want)
	}
	h.now = h.now.Add(5 * time.Minute)
	h.tick("page escalation")
	escalated = nil
	for _, m := range h.ann.take() {
		if m.To == "" {
			escalated = append(escalated, m.Text[:strings.Index(m.Text, " (")])
		}
	}
	if want := []string{"P-1 escalated to frank", "P-2 escalated to erin", "P-3 escalated to alice"}; strings.Join(escalated, "|") != strings.Join(want, "|") {
		t.Errorf("second escalations = %q, want %q", escalated, want)
	}
	// Pages for incidents and for alert groups about postgres follow the same route.
	if id, err := h.deps.Pager.PageOnCall(context.Background(), "INC-1", "postgres", "INC-1 SEV1 declared on postgres"); err != nil || id != "P-4" {
		t.Fatalf("PageOnCall = %q, %v", id, err)
	}
	alertPage, err := h.deps.Pager.(*Paging).PageFor("alertmanager", "group-1", "postgres", "[FIRING:1] ReplicationLag")
	if err != nil || alertPage.Target != "dave" || alertPage.ScheduleName() != "db" {
		t.Fatalf("PageFor = %+v, %v", alertPage, err)
	}
	if pg, err := h.st.GetPage(4); err != nil || pg.Target != "dave" || pg.ScheduleName() != "db" {
		t.Errorf("P-4 = %+v, %v", pg, err)
	}
	// The page's schedule is in the API's page documents, and the digest of each schedule has its own pages.
	if pg, err := h.st.GetPage(1); err != nil || pg.Doc().Schedule != "db" {
		t.Errorf("P-1 schedule = %q, %v", pg.Doc().Schedule, err)
	}
	if lines := h.must("", "", "handoff DB"); len(lines) != 1 || !strings.Contains(lines[0], "pages: P-1 open 10m, paging "+pgNick("frank")) || strings.Contains(lines[0], "P-3") ||
		!strings.Contains(lines[0], "P-5 open 0s, paging "+pgNick("dave")) {
		t.Errorf("!handoff db = %q", lines)
	}
	// Alert groups and maintenance windows go to the digest of their service's schedule too; a window of
	// every service is everyone's.
	for _, svc := range []string{"postgres", "playlist"} {
		u := store.AlertUpdate{Key: "lag-" + svc, Name: "Lag", Service: svc, Action: store.ActionNotify, Now: h.now,
			Alerts: []store.Alert{{Fingerprint: svc, Status: "firing", Labels: map[string]string{"alertname": "Lag"}, StartsAt: h.now}}}
		if _, err := h.st.ApplyAlerts(u); err != nil {
			t.Fatal(err)
		}
		h.must("alice", "", "maint add "+svc+" now 1h vacuum of "+svc)
	}
	h.must("alice", "", "maint add all now 1h network")
	db, ops := strings.Join(h.must("", "", "handoff db"), "\n"), strings.Join(h.must("", "", "handoff"), "\n")
	for _, tc := range []struct{ digest, has, hasNot string }{
		{db, "Lag on postgres", "Lag on playlist"}, {db, "vacuum of postgres", "vacuum of playlist"},
		{ops, "Lag on playlist", "Lag on postgres"}, {ops, "vacuum of playlist", "vacuum of postgres"},
		{db, "all in progress", ""}, {ops, "all in progress", ""},
	} {
		if !strings.Contains(tc.digest, tc.has) || tc.hasNot != "" && strings.Contains(tc.digest, tc.hasNot) {
			t.Errorf("digest with %q and without %q:\n%s", tc.has, tc.hasNot, tc.digest)
		}
	}
}

// A service names its schedule with --schedule, checked against the configured ones.
func TestServiceSchedule(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) {
		c.Schedules = []Schedule{{Rotation: rotationNY(mustLocation(t, "America/New_York"), "dave")}}
	})
	for _, tc := range []struct{ account, text, want string }{
		{"alice", "service add postgres --owner team-db --schedule db", "postgres added: owner t\u200beam-db; schedule db; no SLO"},
		{"alice", "service add redis --schedule dbb", `error: no schedule "dbb", did you mean db? (schedules: ops, db)`},
		{"alice", "service set postgres --schedule nope", `error: no schedule "nope", did you mean ops? (schedules: ops, db)`},
		{"", "service postgres", "postgres: owner t\u200beam-db; schedule db; depends on nothing; nothing depends on it; no SLO"},
		{"alice", "service set postgres --schedule none", "postgres updated: schedule db -> none"},
		{"alice", "service set postgres --schedule OPS", "postgres updated: schedule none -> ops"},
	} {
		if got := h.one(tc.account, "", tc.text); got != tc.want {
			t.Errorf("%s: !%s = %q\n want %q", tc.account, tc.text, got, tc.want)
		}
	}
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rotationNY is the schedule db: weekly, Monday 10:00 in New York.
func rotationNY(ny *time.Location, accounts ...string) store.Rotation {
	return store.Rotation{Name: "db", Accounts: accounts, Weekday: time.Monday, At: 10 * time.Hour, Location: ny}
}
