package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/store"
)

// segment is a stretch of time one person is on call, overrides laid over the rotation.
type segment struct {
	Account  string
	Start    time.Time
	End      time.Time
	Override *store.Override // the override that puts them there; nil for the rotation
}

// onCallSegments lays the overrides over the rotation's shifts within [from, to): the newest override in
// force wins, as !oncall decides, and neighbouring stretches of the same kind and person are joined.
func onCallSegments(shifts []store.Shift, overrides []store.Override, from, to time.Time) []segment {
	points := []time.Time{from, to}
	for _, s := range shifts {
		points = append(points, s.Start, s.End)
	}
	for _, o := range overrides {
		points = append(points, o.Start, o.End)
	}
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })
	var out []segment
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		if a.Before(from) || !b.After(a) || b.After(to) {
			continue
		}
		seg := segment{Start: a, End: b}
		for j := range overrides {
			o := &overrides[j]
			if !o.Start.After(a) && o.End.After(a) && (seg.Override == nil || o.ID > seg.Override.ID) {
				seg.Override, seg.Account = o, o.Account
			}
		}
		if seg.Override == nil {
			for _, s := range shifts {
				if !s.Start.After(a) && s.End.After(a) {
					seg.Account = s.Account
				}
			}
		}
		if seg.Account == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End.Equal(a) && out[n-1].Account == seg.Account && out[n-1].Override == seg.Override {
			out[n-1].End = b
			continue
		}
		out = append(out, seg)
	}
	return out
}

// calSlot is one person's part of a day in the calendar.
type calSlot struct {
	Account  string
	From, To string // "" when the stretch began before the day, or lasts past it
	Override bool
	Class    string // the person's colour
}

// calDay is one day of the calendar.
type calDay struct {
	Date        time.Time
	Today, Past bool
	Slots       []calSlot
}

// oncallView is the on-call page: now, the next weeks as a calendar, and every change of hands.
type oncallView struct {
	Now          store.OnCallState
	Weeks        [][]calDay
	Segments     []segment
	Overrides    []store.Override
	Zone         string
	RotationZone string
	Schedule     string
	Schedules    []string  // every schedule, for the tabs (one: no tabs)
	People       []calSlot // the legend
}

func (x *Web) oncall(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.OnCall == nil {
		x.notFound(w, r, &v, "on call is not part of this opsbot")
		return
	}
	oc := x.links.OnCall
	names := oc.ScheduleNames()
	sched := strings.ToLower(r.URL.Query().Get("schedule"))
	if sched == "" {
		sched = names[0]
	}
	if !slices.Contains(names, sched) {
		x.notFound(w, r, &v, fmt.Sprintf("no schedule %q (schedules: %s)", sched, strings.Join(names, ", ")))
		return
	}
	now := x.rt.Now()
	loc := x.zone()
	start := weekStart(now, loc)
	end := time.Date(start.Year(), start.Month(), start.Day()+7*CalendarWeeks, 0, 0, 0, 0, loc)
	shifts, overrides, err := oc.Calendar(sched, start, end)
	if err != nil {
		x.fail(w, r, "oncall", err)
		return
	}
	st, err := oc.ScheduleOnCall(sched, now)
	if err != nil {
		x.fail(w, r, "oncall", err)
		return
	}
	rotZone, err := oc.ScheduleZone(sched)
	if err != nil {
		x.fail(w, r, "oncall", err)
		return
	}
	ov := oncallView{Now: st, Zone: loc.String(), RotationZone: rotZone.String(), Schedule: sched}
	if len(names) > 1 {
		ov.Schedules = names
	}
	segEnd := end // the list runs to the end of the last shift shown
	if n := len(shifts); n > 0 && shifts[n-1].End.After(end) {
		segEnd = shifts[n-1].End
	}
	segs := onCallSegments(shifts, overrides, start, segEnd)
	class := map[string]string{}
	for _, s := range shifts { // colours in rotation order, then anyone who only overrides
		if _, ok := class[s.Account]; !ok {
			class[s.Account] = personClass(len(class))
			ov.People = append(ov.People, calSlot{Account: s.Account, Class: class[s.Account]})
		}
	}
	for _, s := range segs {
		if _, ok := class[s.Account]; !ok {
			class[s.Account] = personClass(len(class))
			ov.People = append(ov.People, calSlot{Account: s.Account, Class: class[s.Account]})
		}
	}
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	for wk := range CalendarWeeks {
		var week []calDay
		for d := range 7 {
			day := time.Date(start.Year(), start.Month(), start.Day()+7*wk+d, 0, 0, 0, 0, loc)
			next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
			cd := calDay{Date: day, Today: day.Equal(today), Past: next.Before(now) || next.Equal(now)}
			for _, s := range segs {
				if !s.Start.Before(next) || !s.End.After(day) {
					continue
				}
				slot := calSlot{Account: s.Account, Override: s.Override != nil, Class: class[s.Account]}
				if s.Start.After(day) {
					slot.From = s.Start.In(loc).Format("15:04")
				}
				if s.End.Before(next) {
					slot.To = s.End.In(loc).Format("15:04")
				}
				cd.Slots = append(cd.Slots, slot)
			}
			week = append(week, cd)
		}
		ov.Weeks = append(ov.Weeks, week)
	}
	for _, s := range segs {
		if s.End.After(now) {
			ov.Segments = append(ov.Segments, s)
		}
	}
	ov.Overrides = overrides
	x.render(w, r, http.StatusOK, "oncall.html", page{Title: "On call", Nav: "oncall", Viewer: &v}, ov)
}

// personClass is the stylesheet's colour class of the i-th person.
func personClass(i int) string { return "p" + string(rune('0'+i%8)) }
