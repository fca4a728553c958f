package commands

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// ScheduleName is what an on-call schedule's name may look like.
var ScheduleName = regexp.MustCompile(`^[a-z0-9._-]{1,32}$`)

// ReservedScheduleNames are words after !oncall that are commands, so they cannot name a schedule.
var ReservedScheduleNames = []string{"take", "override", "clear", "ical"}

// Schedule is one on-call schedule: its rotation (Rotation.Name is the schedule's name; "" is the default
// schedule, ops) and, if it has its own, its escalation steps.
type Schedule struct {
	Rotation store.Rotation
	// Escalation replaces paging.escalation for this schedule's pages (nil: paging.escalation).
	Escalation []string
}

// Name is the schedule's name.
func (s Schedule) Name() string { return s.Rotation.Schedule() }

// schedules are the default schedule (the [oncall] rotation) and the named ones, the default first.
func (c PagingConfig) schedules() []Schedule {
	all := []Schedule{{Rotation: c.Rotation}}
	all[0].Rotation.Name = store.DefaultSchedule
	return append(all, c.Schedules...)
}

// ScheduleNames lists the configured schedules, the default (ops) first.
func (c PagingConfig) ScheduleNames() []string {
	var names []string
	for _, s := range c.schedules() {
		names = append(names, s.Name())
	}
	return names
}

// ScheduleNames implements Schedules.
func (p *Paging) ScheduleNames() []string { return p.cfg.ScheduleNames() }

// Rotation implements Schedules: the rotation of a schedule ("" is the default one).
func (p *Paging) Rotation(name string) (store.Rotation, bool) {
	s, ok := p.schedule(name)
	return s.Rotation, ok
}

// schedule returns the named schedule ("" is the default one).
func (p *Paging) schedule(name string) (Schedule, bool) {
	if name == "" {
		name = store.DefaultSchedule
	}
	i := slices.IndexFunc(p.scheds, func(s Schedule) bool { return s.Name() == name })
	if i < 0 {
		return Schedule{}, false
	}
	return p.scheds[i], true
}

// scheduleArg is the schedule someone named in a command ("" is the default one); an unknown name is an
// error that lists the schedules.
func (p *Paging) scheduleArg(name string) (Schedule, error) {
	name = strings.ToLower(name)
	if s, ok := p.schedule(name); ok {
		return s, nil
	}
	return Schedule{}, UnknownSchedule(name, p.ScheduleNames())
}

// UnknownSchedule is the error for a schedule name that is not configured: "error: no schedule "dbb", did you
// mean db? (schedules: ops, db)".
func UnknownSchedule(name string, known []string) error {
	msg := fmt.Sprintf("error: no schedule %q", chat.Truncate(name, 40))
	if s := Suggest(name, known); s != "" {
		msg += ", did you mean " + s + "?"
	}
	return Errorf("%s (schedules: %s)", msg, strings.Join(known, ", "))
}

// scheduleLabel is "" for the default schedule and " (db)" for another, for lines such as "on call (db): ...".
func scheduleLabel(name string) string {
	if name == "" || name == store.DefaultSchedule {
		return ""
	}
	return " (" + name + ")"
}
