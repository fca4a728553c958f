package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot/store"
)

// The on-call calendar feed is RFC 5545 iCalendar, written here: CRLF line ends, lines folded at 75
// octets (never inside a UTF-8 character), text escaped, times in UTC (so a shift across a DST change is
// the instant !oncall names, in every calendar app), a UID per shift that stays the same from one fetch to
// the next, and TRANSP:TRANSPARENT so that being on call does not mark the whole week busy. Calendar apps
// send no headers, so the feed URL carries a per-account token (!oncall ical); a session, the API token or
// a local request also reads it.

// feedEvent is one VEVENT.
type feedEvent struct {
	UID         string
	Start, End  time.Time
	Summary     string
	Description string
}

// feed serves /oncall.ics: every schedule's shifts and overrides, or ?schedule=db's, or only ?account=alice's.
func (x *Web) feed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "private, max-age=300")
	if tok := r.URL.Query().Get("token"); tok != "" {
		if _, err := x.st.ICalAccount(tok); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				x.fail(w, r, "calendar feed", err)
				return
			}
			http.Error(w, "unknown calendar token (replaced by !oncall ical reset?): ask opsbot for the current URL with /msg "+
				x.cfg.Nick+" oncall ical", http.StatusForbidden)
			return
		}
	} else if _, ok, err := x.viewer(r); err != nil {
		x.fail(w, r, "calendar feed", err)
		return
	} else if !ok {
		http.Error(w, "this feed needs its token: ask opsbot for the URL with /msg "+x.cfg.Nick+" oncall ical", http.StatusUnauthorized)
		return
	}
	if x.links.OnCall == nil {
		http.Error(w, "on call is not part of this opsbot", http.StatusNotFound)
		return
	}
	account := strings.TrimSpace(r.URL.Query().Get("account"))
	scheds := x.links.OnCall.ScheduleNames()
	name := "On call"
	if sched := strings.ToLower(r.URL.Query().Get("schedule")); sched != "" {
		if !slices.Contains(scheds, sched) {
			http.Error(w, fmt.Sprintf("no schedule %q (schedules: %s)", sched, strings.Join(scheds, ", ")), http.StatusNotFound)
			return
		}
		scheds, name = []string{sched}, name+": "+sched
	}
	now := x.rt.Now()
	events, err := x.feedEvents(now, scheds, account)
	if err != nil {
		x.fail(w, r, "calendar feed", err)
		return
	}
	if account != "" {
		name += " (" + account + ")"
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="oncall.ics"`)
	_, _ = w.Write(writeICS(name, events, now))
}

// feedEvents are the schedules' shifts and overrides of the next FeedWeeks weeks (from the shift in
// progress), or only account's, and the maintenance windows.
func (x *Web) feedEvents(now time.Time, schedules []string, account string) ([]feedEvent, error) {
	to := now.AddDate(0, 0, 7*FeedWeeks)
	var out []feedEvent
	for _, sched := range schedules {
		evs, err := x.scheduleEvents(sched, now, to, account)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	// Maintenance windows concern whoever is on call then: every feed has them.
	windows, err := x.windowsAt(now, to.Sub(now))
	if err != nil {
		return nil, err
	}
	for _, w := range windows {
		what := w.Service
		if w.Service == store.AllServices {
			what = "every service"
		}
		desc := fmt.Sprintf("%s: maintenance of %s from %s until %s by %s: %s.", w.Ref(), what, x.stamp(w.Start), x.stamp(w.End), w.By, w.Reason)
		if w.Freeze {
			desc += " Deploys are frozen."
		}
		if w.Silence {
			desc += " Its alerts are silenced in Alertmanager."
		}
		desc += " Alert pages for it are held back until it ends."
		out = append(out, feedEvent{UID: fmt.Sprintf("maint-%d@opsbot", w.ID), Start: w.Start, End: w.End,
			Summary: fmt.Sprintf("Maintenance %s: %s", w.Ref(), what), Description: desc})
	}
	return out, nil
}

// scheduleEvents are one schedule's shifts and overrides in [now, to), or only account's. The default
// schedule's events keep the UIDs they had before there were several schedules ("oncall-..."), so
// subscribed calendars do not see every shift replaced.
func (x *Web) scheduleEvents(schedule string, now, to time.Time, account string) ([]feedEvent, error) {
	oc := x.links.OnCall
	shifts, overrides, err := oc.Calendar(schedule, now, to)
	if err != nil {
		return nil, err
	}
	uid, label := schedule, " ("+schedule+")"
	if schedule == oc.ScheduleNames()[0] {
		uid, label = "oncall", ""
	}
	mine := func(a string) bool { return account == "" || x.rt.Roles.Same(a, account) }
	var out []feedEvent
	for _, s := range shifts {
		if !mine(s.Account) {
			continue
		}
		desc := fmt.Sprintf("%s is on call (schedule %s) from %s until %s; next: %s.", s.Account, schedule, x.stamp(s.Start), x.stamp(s.End), s.Next)
		for _, o := range overrides {
			if o.Start.Before(s.End) && o.End.After(s.Start) {
				desc += fmt.Sprintf("\n%s covers %s to %s (override by %s).", o.Account, x.stamp(o.Start), x.stamp(o.End), o.By)
			}
		}
		out = append(out, feedEvent{UID: fmt.Sprintf("%s-%s-%s@opsbot", uid, icsUIDPart(s.Account), s.Start.UTC().Format("20060102T150405Z")),
			Start: s.Start, End: s.End, Summary: "On call: " + s.Account + label, Description: desc})
	}
	for _, o := range overrides {
		if !mine(o.Account) {
			continue
		}
		desc := fmt.Sprintf("%s is on call instead of the rotation (schedule %s) from %s until %s, override by %s.", o.Account, schedule,
			x.stamp(o.Start), x.stamp(o.End), o.By)
		out = append(out, feedEvent{UID: fmt.Sprintf("%s-override-%d@opsbot", uid, o.ID), Start: o.Start, End: o.End,
			Summary: "On call (override): " + o.Account + label, Description: desc})
	}
	return out, nil
}

// stamp is a moment in a calendar event's description, in bot.timezone.
func (x *Web) stamp(t time.Time) string { return t.In(x.zone()).Format("Mon 2 Jan 15:04 MST") }

// icsUIDPart keeps an account name to the characters that are safe in a UID's local part.
func icsUIDPart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "%%%02x", r)
		}
	}
	return b.String()
}

// writeICS renders a VCALENDAR.
func writeICS(name string, events []feedEvent, now time.Time) []byte {
	var b strings.Builder
	line := func(s string) { icsLine(&b, s) }
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//opsbot//on-call calendar//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + icsText(name))
	line("REFRESH-INTERVAL;VALUE=DURATION:PT1H")
	line("X-PUBLISHED-TTL:PT1H")
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + utc(now))
		line("DTSTART:" + utc(e.Start))
		line("DTEND:" + utc(e.End))
		line("SUMMARY:" + icsText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + icsText(e.Description))
		}
		line("TRANSP:TRANSPARENT")
		line("STATUS:CONFIRMED")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return []byte(b.String())
}

// icsText escapes a TEXT value (RFC 5545 section 3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	s = r.Replace(s)
	// No other control character may appear in a content line.
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// icsLine writes one content line folded at 75 octets (section 3.1): continuation lines start with a space,
// which counts, and a fold never splits a UTF-8 character.
func icsLine(b *strings.Builder, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space takes one octet
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
