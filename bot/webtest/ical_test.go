package webtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

// validICS is a hand-written on-call feed as RFC 5545 wants it: CRLF line ends, a folded SUMMARY
// (continuation lines start with one space), escaped commas, UTC times, UID and DTSTAMP on every
// event, TRANSP:TRANSPARENT so a shift does not block the calendar.
const validICS = "BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//opsbot//on-call//EN\r\n" +
	"CALSCALE:GREGORIAN\r\n" +
	"X-WR-CALNAME:opsbot on-call\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:shift-2026-01-05-alice@opsbot\r\n" +
	"DTSTAMP:20260101T000000Z\r\n" +
	"DTSTART:20260105T090000Z\r\n" +
	"DTEND:20260112T090000Z\r\n" +
	"SUMMARY:On call: alice (primary) for the platform team rotation\\, week 2 of\r\n" +
	"  the schedule\r\n" +
	"TRANSP:TRANSPARENT\r\n" +
	"END:VEVENT\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:shift-2026-01-12-bob@opsbot\r\n" +
	"DTSTAMP:20260101T000000Z\r\n" +
	"DTSTART:20260112T090000Z\r\n" +
	"DTEND:20260119T090000Z\r\n" +
	"SUMMARY:On call: bob (primary)\r\n" +
	"TRANSP:TRANSPARENT\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func TestICSParsesValidFeed(t *testing.T) {
	cal := ParseICS(t, []byte(validICS))
	evs := cal.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	ev := evs[0]
	if got := ev.Id(); got != "shift-2026-01-05-alice@opsbot" {
		t.Errorf("UID = %q", got)
	}
	// The folded line is unfolded (the one leading space dropped) and "\," unescaped.
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != "On call: alice (primary) for the platform team rotation, week 2 of the schedule" {
		t.Errorf("SUMMARY = %q", got)
	}
	if got := ev.GetProperty(ics.ComponentPropertyTransp).Value; got != string(ics.TransparencyTransparent) {
		t.Errorf("TRANSP = %q", got)
	}
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)) || start.Location() != time.UTC {
		t.Errorf("DTSTART = %v, %v", start, err)
	}
	end, err := ev.GetEndAt()
	if err != nil || end.Sub(start) != 7*24*time.Hour {
		t.Errorf("DTEND = %v, %v", end, err)
	}
	stamp, err := ev.GetDtStampTime()
	if err != nil || !stamp.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DTSTAMP = %v, %v", stamp, err)
	}
}

// TestICSStrictness records what the parser itself catches (libRejects) and what only CheckICS's own
// checks catch. If a libRejects expectation starts failing, the library changed: update the table
// (and the package comment in ical.go).
func TestICSStrictness(t *testing.T) {
	swap := func(old, new string) string {
		if !strings.Contains(validICS, old) {
			t.Fatalf("test bug: %q not in validICS", old)
		}
		return strings.Replace(validICS, old, new, 1)
	}
	cases := []struct {
		name       string
		in         string
		libRejects bool   // ics.ParseCalendar returns an error
		flag       string // a problem CheckICS must report (substring)
	}{
		{"LF-only line ends", strings.ReplaceAll(validICS, "\r\n", "\n"), false, "bare LF"},
		{"one LF line end", swap("UID:shift-2026-01-05-alice@opsbot\r\n", "UID:shift-2026-01-05-alice@opsbot\n"), false, "bare LF"},
		{"bare CR inside a value", swap("SUMMARY:On call: bob (primary)", "SUMMARY:On call: bob\r(primary)"), false, "bare CR"},
		{"bare CR as a line end", swap("TRANSP:TRANSPARENT\r\nEND:VEVENT\r\nEND:VCALENDAR", "TRANSP:TRANSPARENT\rEND:VEVENT\r\nEND:VCALENDAR"), true, "bare CR"},
		{"missing END:VCALENDAR", strings.TrimSuffix(validICS, "END:VCALENDAR\r\n"), false, "no END:VCALENDAR"},
		{"truncated mid-event", validICS[:strings.Index(validICS, "TRANSP")], true, "no END:VEVENT"},
		{"no CRLF at the end", strings.TrimSuffix(validICS, "\r\n"), false, "last line does not end with CRLF"},
		{"line over 75 octets", swap("SUMMARY:On call: bob (primary)", "SUMMARY:On call: bob (primary) "+strings.Repeat("x", 60)), false, "over 75"},
		{"continuation without leading space", swap("\r\n  the schedule", "\r\nthe schedule"), true, "no content line"},
		{"mismatched END", swap("END:VEVENT", "END:VTODO"), true, "END:VTODO, want END:VEVENT"},
		{"content after END:VCALENDAR", validICS + "BEGIN:VEVENT\r\n", true, "after END:VCALENDAR"},
		{"property without colon", swap("DTSTART:20260105T090000Z", "DTSTART;TZID=UTC"), true, "DTSTART"},
		{"fold splitting a UTF-8 character", swap("SUMMARY:On call: bob (primary)", "SUMMARY:On call: b\xc3\r\n \xb6b (primary)"), false, "not valid UTF-8"},
		{"missing UID", swap("UID:shift-2026-01-12-bob@opsbot\r\n", ""), false, "0 UID"},
		{"missing DTSTAMP", swap("DTSTAMP:20260101T000000Z\r\nDTSTART:20260112", "DTSTART:20260112"), false, "0 DTSTAMP"},
		{"local-time DTSTAMP", swap("DTSTAMP:20260101T000000Z\r\nDTSTART:20260112", "DTSTAMP:20260101T000000\r\nDTSTART:20260112"), false, "not a UTC date-time"},
		{"bad DTSTART", swap("DTSTART:20260105T090000Z", "DTSTART:2026-01-05 09:00"), false, "DTSTART"},
		{"DTEND before DTSTART", swap("DTEND:20260119T090000Z", "DTEND:20260110T090000Z"), false, "not after DTSTART"},
		{"duplicate UID", swap("UID:shift-2026-01-12-bob@opsbot", "UID:shift-2026-01-05-alice@opsbot"), false, "UID used twice"},
		{"missing VERSION", swap("VERSION:2.0\r\n", ""), false, "0 VERSION"},
		{"missing PRODID", swap("PRODID:-//opsbot//on-call//EN\r\n", ""), false, "0 PRODID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, libErr := ics.ParseCalendar(strings.NewReader(c.in))
			if (libErr != nil) != c.libRejects {
				t.Errorf("library: err = %v, want rejected=%v (the library's strictness changed)", libErr, c.libRejects)
			}
			_, problems := CheckICS([]byte(c.in))
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, c.flag)
			}
			if !found {
				t.Errorf("CheckICS did not report %q; problems: %q", c.flag, problems)
			}
			t.Logf("library: %v; CheckICS: %q", libErr, problems)
		})
	}
}

// TestICSLibrarySerializer shows the library's writer: by default it ends lines with the OS's newline
// (LF on Linux), which RFC 5545 forbids; with ics.WithNewLineWindows it writes CRLF and folds long and
// non-ASCII lines correctly. The bot's feed, if written with this library, needs that option.
func TestICSLibrarySerializer(t *testing.T) {
	cal := ics.NewCalendar()
	cal.SetProductId("-//opsbot//on-call//EN")
	cal.SetMethod(ics.MethodPublish)
	ev := cal.AddEvent("shift-1@opsbot")
	ev.SetDtStampTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ev.SetStartAt(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	ev.SetEndAt(time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC))
	ev.SetSummary("On call: Zoë Ångström (primary), platform team, " + strings.Repeat("écrit ", 20))
	ev.SetTimeTransparency(ics.TransparencyTransparent)

	if _, problems := CheckICS([]byte(cal.Serialize())); len(problems) == 0 {
		t.Error("the default serialization passes CheckICS: the library now writes CRLF by default?")
	} else {
		t.Logf("default Serialize(): %s ...", problems[0])
	}
	out := cal.Serialize(ics.WithNewLineWindows)
	back := ParseICS(t, []byte(out))
	if got := back.Events()[0].GetProperty(ics.ComponentPropertySummary).Value; got != ev.GetProperty(ics.ComponentPropertySummary).Value {
		t.Errorf("round trip SUMMARY = %q", got)
	}
}

// TestFetchICS shows FetchICS on a feed served like the bot's /oncall.ics.
func TestFetchICS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		fmt.Fprint(w, validICS)
	}))
	defer srv.Close()
	cal := FetchICS(t, srv.URL+"/oncall.ics")
	if n := len(cal.Events()); n != 2 {
		t.Errorf("%d events", n)
	}
	if !bytes.Contains([]byte(cal.Serialize(ics.WithNewLineWindows)), []byte("TRANSP:TRANSPARENT\r\n")) {
		t.Error("TRANSP lost in the round trip")
	}
}
