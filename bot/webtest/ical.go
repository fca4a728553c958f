package webtest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

// iCalendar checks for the bot's /oncall.ics feed.
//
// The parser is github.com/arran4/golang-ical. It rejects bad folding (a continuation line without the
// leading space), unbalanced or mismatched BEGIN/END, lines without a colon and content after
// END:VCALENDAR, but it accepts LF-only and bare-CR line ends, lines over 75 octets, a stream cut off
// before END:VCALENDAR, and events without UID or DTSTAMP, and it reads a bad date only when asked. So
// CheckICS runs its own RFC 5545 wire checks first (section 3.1: CRLF, 75 octets, folding, UTF-8, no
// control characters, nesting) and the required-property checks after parsing.

// CheckICS parses an iCalendar stream and returns the calendar (nil if the parser refused it) and every
// problem found, strictly by RFC 5545. A stream with no problems gives an empty list.
func CheckICS(data []byte) (*ics.Calendar, []string) {
	problems := icsWireProblems(data)
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		return nil, append(problems, "parser: "+err.Error())
	}
	return cal, append(problems, icsCalendarProblems(cal)...)
}

// ParseICS parses an iCalendar stream, failing the test with every problem CheckICS finds.
func ParseICS(t testing.TB, data []byte) *ics.Calendar {
	t.Helper()
	cal, problems := CheckICS(data)
	if len(problems) > 0 {
		t.Fatalf("webtest: invalid iCalendar:\n  %s", strings.Join(problems, "\n  "))
	}
	return cal
}

// FetchICS GETs an iCalendar feed, checks its status (200) and media type (text/calendar, UTF-8 if a
// charset is given), and returns it parsed with ParseICS.
func FetchICS(t testing.TB, url string) *ics.Calendar {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("webtest: GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("webtest: GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webtest: GET %s: status %d: %.200s", url, resp.StatusCode, body)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "text/calendar" {
		t.Errorf("webtest: GET %s: Content-Type %q, want text/calendar", url, resp.Header.Get("Content-Type"))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		t.Errorf("webtest: GET %s: charset %q, want utf-8", url, cs)
	}
	return ParseICS(t, body)
}

var icsName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// icsWireProblems checks the stream's content lines (RFC 5545 section 3.1) and component nesting.
func icsWireProblems(data []byte) []string {
	var problems []string
	add := func(line int, format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
	}
	if len(data) == 0 {
		return []string{"empty stream"}
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		add(bytes.Count(data, []byte("\n"))+1, "the last line does not end with CRLF")
	}
	// Physical lines, split on LF; each must have ended with CR LF.
	raw := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var logical []string // unfolded content lines
	var logicalAt []int  // their first physical line
	for i, l := range raw {
		n := i + 1
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		} else if i < len(raw)-1 || bytes.HasSuffix(data, []byte("\n")) {
			add(n, "ends with a bare LF, not CRLF")
		}
		if bytes.IndexByte(l, '\r') >= 0 {
			add(n, "has a bare CR")
			l = bytes.ReplaceAll(l, []byte("\r"), nil)
		}
		if len(l) > 75 {
			add(n, "is %d octets long, over 75 (it must be folded)", len(l))
		}
		if !utf8.Valid(l) {
			add(n, "is not valid UTF-8 on its own (a fold splits a character?)")
		}
		for _, c := range l {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				add(n, "has the control character %#x", c)
				break
			}
		}
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if len(logical) == 0 {
				add(n, "starts with a continuation (leading space) but continues nothing")
				continue
			}
			logical[len(logical)-1] += string(l[1:])
			continue
		}
		if len(l) == 0 {
			add(n, "is empty")
			continue
		}
		logical = append(logical, string(l))
		logicalAt = append(logicalAt, n)
	}

	var stack []string
	ended := false
	for i, l := range logical {
		n := logicalAt[i]
		colon := strings.IndexAny(l, ";:")
		if colon <= 0 || !strings.Contains(l, ":") {
			add(n, "is no content line (NAME[;params]:value): %.40q", l)
			continue
		}
		name := strings.ToUpper(l[:colon])
		if !icsName.MatchString(name) {
			add(n, "has a bad property name %q", l[:colon])
			continue
		}
		if ended {
			add(n, "comes after END:VCALENDAR")
			break
		}
		value := strings.ToUpper(l[strings.Index(l, ":")+1:])
		switch name {
		case "BEGIN":
			if len(stack) == 0 && value != "VCALENDAR" {
				add(n, "BEGIN:%s outside VCALENDAR", value)
			}
			stack = append(stack, value)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				want := "nothing open"
				if len(stack) > 0 {
					want = "END:" + stack[len(stack)-1]
				}
				add(n, "END:%s, want %s", value, want)
				return problems
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				ended = true
			}
		default:
			if len(stack) == 0 {
				add(n, "%s outside VCALENDAR", name)
			}
		}
		if i == 0 && (name != "BEGIN" || value != "VCALENDAR") {
			add(n, "the stream does not start with BEGIN:VCALENDAR")
		}
	}
	if len(stack) > 0 {
		problems = append(problems, fmt.Sprintf("the stream ends inside %s (no END:%s): truncated?",
			strings.Join(stack, " > "), stack[len(stack)-1]))
	}
	return problems
}

// icsCalendarProblems checks the properties RFC 5545 requires of a VCALENDAR and its VEVENTs.
func icsCalendarProblems(cal *ics.Calendar) []string {
	var problems []string
	count := map[string]int{}
	for _, p := range cal.CalendarProperties {
		count[strings.ToUpper(p.IANAToken)]++
		if strings.EqualFold(p.IANAToken, "VERSION") && p.Value != "2.0" {
			problems = append(problems, fmt.Sprintf("VERSION:%s, want 2.0", p.Value))
		}
	}
	for _, req := range []string{"VERSION", "PRODID"} {
		if count[req] != 1 {
			problems = append(problems, fmt.Sprintf("VCALENDAR has %d %s, want 1", count[req], req))
		}
	}
	uids := map[string]bool{}
	for i, ev := range cal.Events() {
		where := fmt.Sprintf("VEVENT %d", i+1)
		for _, req := range []ics.ComponentProperty{ics.ComponentPropertyUniqueId, ics.ComponentPropertyDtstamp} {
			if n := len(ev.GetProperties(req)); n != 1 {
				problems = append(problems, fmt.Sprintf("%s has %d %s, want 1", where, n, req))
			}
		}
		uid := ev.Id()
		if uid != "" {
			where += " (UID " + uid + ")"
			if uids[uid] && ev.GetProperty(ics.ComponentPropertyRecurrenceId) == nil {
				problems = append(problems, where+": UID used twice")
			}
			uids[uid] = true
		}
		if p := ev.GetProperty(ics.ComponentPropertyDtstamp); p != nil {
			if _, err := time.Parse("20060102T150405Z", p.Value); err != nil {
				problems = append(problems, fmt.Sprintf("%s: DTSTAMP %q is not a UTC date-time", where, p.Value))
			}
		}
		start, err := ev.GetStartAt()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: DTSTART: %v", where, err))
		}
		if ev.GetProperty(ics.ComponentPropertyDtEnd) != nil {
			end, err := ev.GetEndAt()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s: DTEND: %v", where, err))
			case !start.IsZero() && !end.After(start):
				problems = append(problems, fmt.Sprintf("%s: DTEND %v is not after DTSTART %v", where, end, start))
			}
		}
	}
	return problems
}
