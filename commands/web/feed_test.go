package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/opsbot/opsbot/bot/webtest"
	"github.com/opsbot/opsbot/store/demo"
)

var feedURL = regexp.MustCompile(`https?://\S+/oncall\.ics\?\S+`)

// fetchFeed GETs a feed URL from the harness's server and returns the status and body.
func (h *harness) fetchFeed(link string) (int, []byte) {
	h.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.Get(h.srv.URL + u.RequestURI())
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestCalendarFeedWithItsToken(t *testing.T) {
	h := newHarness(t, Config{}) // nothing trusted: the token alone lets a calendar app in
	if got := h.sayIn("#operations", "alice", "oncall ical"); len(got) != 1 || !strings.Contains(got[0], "ask in private") {
		t.Errorf("!oncall ical in a channel = %q", got)
	}
	got := h.say("alice", "oncall ical")
	if len(got) != 3 {
		t.Fatalf("!oncall ical = %q", got)
	}
	mine, all := feedURL.FindString(got[0]), feedURL.FindString(got[1])
	if !strings.Contains(mine, "account=alice") || all == "" || strings.Contains(all, "account=") {
		t.Fatalf("!oncall ical = %q", got)
	}
	if again := h.say("alice", "oncall ical"); feedURL.FindString(again[0]) != mine {
		t.Errorf("a second !oncall ical gave another URL: %q", again[0])
	}
	if resp, _ := h.get("/oncall.ics"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /oncall.ics without a token = %d, want 401", resp.StatusCode)
	}
	status, body := h.fetchFeed(all)
	if status != http.StatusOK {
		t.Fatalf("GET the whole rotation = %d: %s", status, body)
	}
	cal, problems := webtest.CheckICS(body)
	if len(problems) > 0 {
		t.Fatalf("the feed is not valid iCalendar:\n%s\n%s", strings.Join(problems, "\n"), body)
	}
	events := cal.Events()
	// 12 weeks of weekly shifts from the one in progress (12 or 13 of them) and bob's override.
	var shifts, overrides, windows int
	for _, ev := range events {
		sum := ev.GetProperty(ics.ComponentPropertySummary).Value
		switch {
		case strings.HasPrefix(sum, "Maintenance M-"):
			windows++
		case strings.HasPrefix(sum, "On call (override): bob"):
			overrides++
		case strings.HasPrefix(sum, "On call: "):
			shifts++
		default:
			t.Errorf("unexpected event %q", sum)
		}
		if p := ev.GetProperty(ics.ComponentPropertyTransp); p == nil || p.Value != "TRANSPARENT" {
			t.Errorf("event %q is not TRANSP:TRANSPARENT", sum)
		}
	}
	if shifts < 12 || shifts > 13 || overrides != 1 || windows != 2 {
		t.Errorf("%d shifts, %d overrides and %d maintenance windows, want 12-13, 1 and 2", shifts, overrides, windows)
	}
	// The same shift has the same UID from one fetch to the next.
	_, again := h.fetchFeed(all)
	if uids(t, body) != uids(t, again) {
		t.Error("UIDs changed between two fetches")
	}
	// Only alice's.
	_, body = h.fetchFeed(mine)
	for _, ev := range webtest.ParseICS(t, body).Events() {
		if sum := ev.GetProperty(ics.ComponentPropertySummary).Value; sum != "On call: alice" && !strings.HasPrefix(sum, "Maintenance M-") {
			t.Errorf("alice's feed has %q", sum)
		}
	}
	// Reset: the old URLs stop working, the new one works.
	got = h.say("alice", "oncall ical reset")
	if len(got) != 3 || !strings.HasPrefix(got[2], "the old feed URLs no longer work") {
		t.Fatalf("!oncall ical reset = %q", got)
	}
	if status, _ := h.fetchFeed(all); status != http.StatusForbidden {
		t.Errorf("the feed with the reset token = %d, want 403", status)
	}
	if status, _ := h.fetchFeed(feedURL.FindString(got[1])); status != http.StatusOK {
		t.Errorf("the feed with the new token = %d", status)
	}
}

func uids(t *testing.T, body []byte) string {
	var out []string
	for _, ev := range webtest.ParseICS(t, body).Events() {
		out = append(out, ev.Id()+" "+ev.GetProperty(ics.ComponentPropertyDtStart).Value)
	}
	return strings.Join(out, "\n")
}

// Across a DST change the feed's shifts are the instants !oncall names: the handoff stays at 10:00 local
// time, so the shift over the change is 167 hours long.
func TestCalendarFeedMatchesOnCallAcrossDST(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true})
	h.now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) // Europe changes to summer time on 29 March
	resp, body := h.get("/oncall.ics")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET /oncall.ics = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cal := webtest.ParseICS(t, []byte(body))
	loc, _ := time.LoadLocation("Europe/Stockholm")
	r := demo.Rotation()
	seen := 0
	for _, ev := range cal.Events() {
		if !strings.HasPrefix(ev.GetProperty(ics.ComponentPropertySummary).Value, "On call: ") {
			continue
		}
		start, err1 := ev.GetStartAt()
		end, err2 := ev.GetEndAt()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if l := start.In(loc); l.Weekday() != time.Monday || l.Hour() != 10 || l.Minute() != 0 {
			t.Errorf("a shift starts %s, want Monday 10:00 local", l)
		}
		// What !oncall answers in the middle of the shift is the feed's account and end.
		mid := start.Add(end.Sub(start) / 2)
		want := r.ShiftAt(mid)
		if ev.GetProperty(ics.ComponentPropertySummary).Value != "On call: "+want.Account || !end.Equal(want.End) {
			t.Errorf("feed: %s until %s; the rotation: %s until %s", ev.GetProperty(ics.ComponentPropertySummary).Value, end, want.Account, want.End)
		}
		if start.Before(time.Date(2026, 3, 29, 0, 0, 0, 0, loc)) && end.After(time.Date(2026, 3, 30, 0, 0, 0, 0, loc)) {
			if got := end.Sub(start); got != 167*time.Hour {
				t.Errorf("the shift across the change lasts %s, want 167h", got)
			}
			seen++
		}
	}
	if seen != 1 {
		t.Errorf("%d shifts across the DST change, want 1", seen)
	}
}

func TestICSFoldsLongLinesWithoutBreakingCharacters(t *testing.T) {
	long := strings.Repeat("déploiement 😀; done, ", 20)
	out := writeICS("On call", []feedEvent{{UID: "x@opsbot", Start: testNow, End: testNow.Add(time.Hour), Summary: long, Description: long + "\nnext line"}}, testNow)
	cal := webtest.ParseICS(t, out)
	ev := cal.Events()[0]
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != icsText(long) && got != long {
		t.Errorf("summary came back as %q", got)
	}
}
