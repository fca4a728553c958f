package commands

import (
	"fmt"
	"slices"
	"time"

	"github.com/opsbot/opsbot/store"
)

// The on-call family's schedule as the web pages and the calendar feed read it.

// OnCallState returns who is on call at t under the rotation, overrides applied.
func (p *Paging) OnCallState(t time.Time) (store.OnCallState, error) {
	return p.st.OnCallNow(p.cfg.Rotation, t)
}

// maxCalendarShifts bounds one calendar read (a "1h" shift over 12 weeks is 2016 shifts).
const maxCalendarShifts = 5000

// Calendar returns the rotation's shifts that overlap [from, to), in order, and the overrides that do, by
// start. Shifts are the rotation's alone; an override is laid over them, as !oncall shows it.
func (p *Paging) Calendar(from, to time.Time) ([]store.Shift, []store.Override, error) {
	r := p.cfg.Rotation
	var shifts []store.Shift
	for s := r.ShiftAt(from); s.Account != "" && s.Start.Before(to); s = r.ShiftAt(s.End) {
		if len(shifts) == maxCalendarShifts {
			return nil, nil, fmt.Errorf("oncall: calendar: more than %d shifts from %s to %s", maxCalendarShifts,
				from.Format(time.RFC3339), to.Format(time.RFC3339))
		}
		shifts = append(shifts, s)
	}
	all, err := p.st.Overrides(from)
	if err != nil {
		return nil, nil, err
	}
	var overrides []store.Override
	for _, o := range all {
		if o.Start.Before(to) && o.End.After(o.Start) {
			overrides = append(overrides, o)
		}
	}
	slices.SortStableFunc(overrides, func(a, b store.Override) int { return a.Start.Compare(b.Start) })
	return shifts, overrides, nil
}

// RotationZone is the rotation's time zone (oncall.timezone), in which its handoffs are kept.
func (p *Paging) RotationZone() *time.Location {
	if p.cfg.Rotation.Location == nil {
		return time.UTC
	}
	return p.cfg.Rotation.Location
}

// ScheduleName names the rotation in calendars and on the pages.
func (p *Paging) ScheduleName() string { return "oncall" }
