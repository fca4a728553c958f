package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/opsbot/opsbot/bot/webtest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// With a second schedule, the on-call page has a tab for each, the feed has each schedule's shifts (or one
// schedule's with ?schedule=), !oncall ical says how to pick one, and the overview shows both with what each
// would hand over.
func TestSchedulesOnThePagesAndInTheFeed(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	db := store.Rotation{Name: "db", Accounts: []string{"dave", "erin"}, Weekday: time.Tuesday, At: 9 * time.Hour, Location: ny}
	h := newHarnessWith(t, Config{TrustLoopback: true}, []commands.Schedule{{Rotation: db}})
	if _, _, err := h.st.AddOverride(db, store.Override{Account: "erin", By: "alice", Start: h.now, End: h.now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	resp, body := h.get("/oncall")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="schedules"`) || !strings.Contains(body, "On call: ops") ||
		!strings.Contains(body, `href="/oncall?schedule=db"`) || strings.Contains(body, "erin") {
		t.Errorf("GET /oncall = %d, want the ops schedule with a tab for db and nothing of db's:\n%s", resp.StatusCode, body)
	}
	resp, body = h.get("/oncall?schedule=db")
	for _, want := range []string{"On call: db", "America/New_York", "erin", "override by alice", "dave"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET /oncall?schedule=db = %d, want %q in:\n%s", resp.StatusCode, want, body)
		}
	}
	if strings.Contains(body, ">bob<") {
		t.Errorf("db's page shows the ops override of bob:\n%s", body)
	}
	if resp, body := h.get("/oncall?schedule=dbb"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "schedules: ops, db") {
		t.Errorf("GET /oncall?schedule=dbb = %d:\n%s", resp.StatusCode, body)
	}

	// The feed: every schedule, or one.
	summaries := func(path string) map[string]int {
		t.Helper()
		resp, body := h.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
		}
		cal, problems := webtest.CheckICS([]byte(body))
		if len(problems) > 0 {
			t.Fatalf("GET %s is not valid iCalendar:\n%s", path, strings.Join(problems, "\n"))
		}
		out := map[string]int{}
		for _, ev := range cal.Events() {
			sum := ev.GetProperty(ics.ComponentPropertySummary).Value
			out[sum]++
			if strings.HasSuffix(sum, "(db)") && !strings.HasPrefix(ev.Id(), "db-") {
				t.Errorf("%s: db's event %q has the UID %q", path, sum, ev.Id())
			}
		}
		return out
	}
	all := summaries("/oncall.ics")
	if all["On call: alice"] == 0 || all["On call: dave (db)"] == 0 || all["On call: erin (db)"] == 0 || all["On call (override): erin (db)"] != 1 {
		t.Errorf("the whole feed's events: %v", all)
	}
	only := summaries("/oncall.ics?schedule=db&account=erin")
	for sum := range only {
		if sum != "On call: erin (db)" && sum != "On call (override): erin (db)" && !strings.HasPrefix(sum, "Maintenance M-") {
			t.Errorf("erin's db feed has %q", sum)
		}
	}
	if only["On call (override): erin (db)"] != 1 || only["On call: erin (db)"] < 5 {
		t.Errorf("erin's db feed: %v", only)
	}
	if resp, body := h.get("/oncall.ics?schedule=nope"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `no schedule "nope"`) {
		t.Errorf("GET /oncall.ics?schedule=nope = %d: %s", resp.StatusCode, body)
	}
	// A db shift starts Tuesday 09:00 New York time, across New York's DST change too.
	resp, body = h.get("/oncall.ics?schedule=db")
	for _, ev := range webtest.ParseICS(t, []byte(body)).Events() {
		if !strings.HasPrefix(ev.GetProperty(ics.ComponentPropertySummary).Value, "On call: ") {
			continue
		}
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		if l := start.In(ny); start.After(h.now) && (l.Weekday() != time.Tuesday || l.Hour() != 9) {
			t.Errorf("a db shift starts %s, want Tuesday 09:00 in New York", l)
		}
	}

	got := h.say("alice", "oncall ical")
	if len(got) != 4 || !strings.HasPrefix(got[1], "every schedule: ") || !strings.Contains(got[2], "&schedule=db") {
		t.Errorf("!oncall ical with two schedules = %q", got)
	}

	// The overview: both schedules, and what each would hand over (the demo has INC-10 open).
	_, body = h.get("/")
	dbPart := between(body, `id="oncall-db"`, "</div>")
	if !strings.Contains(dbPart, "erin") || !strings.Contains(dbPart, "override") {
		t.Errorf("the overview's db part: %s", dbPart)
	}
	opsPart := between(body, `id="oncall-ops"`, "</div>")
	if !strings.Contains(opsPart, "Would hand over now") || !strings.Contains(opsPart, "incidents: INC-10") || strings.Contains(opsPart, "\u200b") {
		t.Errorf("the overview's ops part has no handoff digest (or has zero-width spaces): %s", opsPart)
	}
}

// between is the part of s from the first start to the next end after it ("" without start).
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
