package commands

import (
	"fmt"
	"slices"
	"time"

	"github.com/opsbot/opsbot/store"
)

// The on-call family's schedules as the web pages and the calendar feed read them. Every method takes a
// schedule's name ("" is the default one, ops); an unknown one is the same error !oncall gives.

// ScheduleOnCall returns who is on call in the schedule at t, overrides applied.
func (p *Paging) ScheduleOnCall(schedule string, t time.Time) (store.OnCallState, error) {
	s, err := p.scheduleArg(schedule)
	if err != nil {
		return store.OnCallState{}, err
	}
	return p.st.OnCallNow(s.Rotation, t)
}

// maxCalendarShifts bounds one calendar read (a "1h" shift over 12 weeks is 2016 shifts).
const maxCalendarShifts = 5000

// Calendar returns the schedule's shifts that overlap [from, to), in order, and its overrides that do, by
// start. Shifts are the rotation's alone; an override is laid over them, as !oncall shows it.
func (p *Paging) Calendar(schedule string, from, to time.Time) ([]store.Shift, []store.Override, error) {
	s, err := p.scheduleArg(schedule)
	if err != nil {
		return nil, nil, err
	}
	r := s.Rotation
	var shifts []store.Shift
	for sh := r.ShiftAt(from); sh.Account != "" && sh.Start.Before(to); sh = r.ShiftAt(sh.End) {
		if len(shifts) == maxCalendarShifts {
			return nil, nil, fmt.Errorf("oncall: calendar of %s: more than %d shifts from %s to %s", s.Name(), maxCalendarShifts,
				from.Format(time.RFC3339), to.Format(time.RFC3339))
		}
		shifts = append(shifts, sh)
	}
	all, err := p.st.Overrides(from)
	if err != nil {
		return nil, nil, err
	}
	var overrides []store.Override
	for _, o := range all {
		if o.Schedule == s.Name() && o.Start.Before(to) && o.End.After(o.Start) {
			overrides = append(overrides, o)
		}
	}
	slices.SortStableFunc(overrides, func(a, b store.Override) int { return a.Start.Compare(b.Start) })
	return shifts, overrides, nil
}

// ScheduleZone is the time zone the schedule's handoffs are kept in (its timezone, else UTC).
func (p *Paging) ScheduleZone(schedule string) (*time.Location, error) {
	s, err := p.scheduleArg(schedule)
	if err != nil {
		return nil, err
	}
	if s.Rotation.Location == nil {
		return time.UTC, nil
	}
	return s.Rotation.Location, nil
}
