package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// digestAhead is how far ahead the handoff digest looks for maintenance windows.
const digestAhead = 24 * time.Hour

// DigestName names the maintenance family's part of the handoff digest.
func (m *Maint) DigestName() string { return "maintenance" }

// Digest gives the maintenance windows in progress (with when they end, and their silence with them) and
// those starting in the next 24 hours, of every service or of the services whose pages go to the schedule;
// a silence Alertmanager has not taken yet is named, since its alerts will page.
func (m *Maint) Digest(schedule string, _, now time.Time) (DigestPart, error) {
	open, err := m.st.OpenWindows()
	if err != nil {
		return DigestPart{}, err
	}
	var part DigestPart
	var running, coming []string
	for _, w := range open {
		if !w.Cancelled.IsZero() || w.Over(now) || !w.Start.Before(now.Add(digestAhead)) || !m.concerns(w, schedule) {
			continue
		}
		item := m.listLine(w, now)
		if w.Silence && w.SilenceState != store.SilenceActive && w.SilenceState != store.SilenceDone && w.SilenceError != "" {
			item += " (silence not in Alertmanager: " + chat.Truncate(w.SilenceError, 60) + ")"
		}
		if w.Active(now) {
			running = append(running, w.Ref())
		} else {
			coming = append(coming, w.Ref())
		}
		part.Items = append(part.Items, item)
	}
	var sums []string
	for _, refs := range []struct {
		ids  []string
		what string
	}{{running, "in progress"}, {coming, "within 24h"}} {
		switch len(refs.ids) {
		case 0:
		case 1:
			sums = append(sums, refs.ids[0]+" "+refs.what)
		default:
			sums = append(sums, fmt.Sprintf("%d windows %s", len(refs.ids), refs.what))
		}
	}
	part.Summary = strings.Join(sums, ", ")
	return part, nil
}

// concerns reports whether a window is the schedule's to know about: a window of every service is everyone's;
// one of a service is its schedule's (without a catalogue to ask, or for a service it does not know,
// everyone's).
func (m *Maint) concerns(w store.Window, schedule string) bool {
	if w.Service == store.AllServices || m.links.Routes == nil {
		return true
	}
	_, sched, err := m.links.Routes.ServiceRoute(w.Service)
	if err != nil {
		return true
	}
	return orString(sched, store.DefaultSchedule) == schedule
}
