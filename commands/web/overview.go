package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// overviewView is the page a team keeps open: who is on call, what is burning, the queue, what may not be
// deployed, and the next meeting. A nil part is a family this opsbot does not have.
type overviewView struct {
	OnCall      []scheduleNow // every schedule, the default first; nil without the paging family
	HasHandoffs bool
	Incidents   []incidentRow
	HasIncidents,
	HasDeploys bool
	Board     *boardView
	Locks     []store.DeployLock
	Freezes   []freeze
	Rollouts  []store.Deploy
	Meeting   *commands.ReminderView
	Meetings  bool
	Alerts    []store.AlertGroup // firing, oldest first
	HasAlerts bool
	// Windows are the maintenance windows in progress and those of the next week; WindowFreezes the ones
	// in progress that freeze deploys.
	Windows       []store.Window
	WindowFreezes []store.Window
	HasWindows    bool
}

// scheduleNow is who is on call in a schedule, and what they would hand over now (the handoff digest).
type scheduleNow struct {
	Schedule string
	State    store.OnCallState
	Handoff  []string
}

// freeze is an open incident that stops deploys of its services.
type freeze struct {
	Incident store.Incident
	Services []string
}

// freezesOf lists the open incidents that freeze deploys.
func freezesOf(open []store.Incident) []freeze {
	var out []freeze
	for _, inc := range open {
		if inc.Freeze {
			out = append(out, freeze{Incident: inc, Services: inc.Services()})
		}
	}
	return out
}

func (x *Web) overview(w http.ResponseWriter, r *http.Request, v viewer) {
	now := x.rt.Now()
	ov := overviewView{}
	if x.links.OnCall != nil {
		for _, name := range x.links.OnCall.ScheduleNames() {
			sn := scheduleNow{Schedule: name}
			var err error
			if sn.State, err = x.links.OnCall.ScheduleOnCall(name, now); err != nil {
				x.fail(w, r, "overview: on call", err)
				return
			}
			if ov.HasHandoffs = x.links.Handoffs != nil; ov.HasHandoffs {
				lines, err := x.links.Handoffs.HandoffNow(name)
				if err != nil {
					x.fail(w, r, "overview: handoff", err)
					return
				}
				for _, l := range lines { // the zero-width spaces that keep names from highlighting in IRC
					sn.Handoff = append(sn.Handoff, strings.ReplaceAll(l, "\u200b", ""))
				}
			}
			ov.OnCall = append(ov.OnCall, sn)
		}
	}
	var open []store.Incident
	if x.links.Incidents != nil {
		var err error
		if open, err = x.links.Incidents.OpenIncidentList(); err != nil {
			x.fail(w, r, "overview: incidents", err)
			return
		}
		ov.HasIncidents, ov.Incidents, ov.Freezes = true, incidentRows(open, now), freezesOf(open)
	}
	var err error
	if ov.Board, err = x.boardData(); err != nil {
		x.fail(w, r, "overview: board", err)
		return
	}
	if x.links.Deploys != nil {
		ov.HasDeploys = true
		if ov.Rollouts, ov.Locks, err = x.links.Deploys.DeployOverview(); err != nil {
			x.fail(w, r, "overview: deploys", err)
			return
		}
		slices.SortFunc(ov.Locks, func(a, b store.DeployLock) int { return a.At.Compare(b.At) })
	}
	if x.links.Windows != nil {
		ov.HasWindows = true
		if ov.Windows, err = x.windowsAt(now, maintenanceAhead); err != nil {
			x.fail(w, r, "overview: maintenance", err)
			return
		}
		ov.WindowFreezes = windowFreezes(ov.Windows, now)
	}
	if x.links.Alerts != nil {
		ov.HasAlerts = true
		if ov.Alerts, err = x.links.Alerts.FiringAlertGroups(); err != nil {
			x.fail(w, r, "overview: alerts", err)
			return
		}
	}
	if x.links.Meetings != nil {
		ov.Meetings = true
		ms, err := x.links.Meetings.List(now)
		if err != nil {
			x.fail(w, r, "overview: meetings", err)
			return
		}
		for i := range ms {
			if ms[i].Next != nil && (ov.Meeting == nil || ms[i].Next.Before(*ov.Meeting.Next)) {
				ov.Meeting = &ms[i]
			}
		}
	}
	x.render(w, r, http.StatusOK, "overview.html", page{Title: "Overview", Nav: "overview", Viewer: &v}, ov)
}

// incidentRow is an incident in a listing.
type incidentRow struct {
	store.Incident
	Services []string
	Duration time.Duration
}

func incidentRows(incs []store.Incident, now time.Time) []incidentRow {
	out := make([]incidentRow, 0, len(incs))
	for _, inc := range incs {
		out = append(out, incidentRow{Incident: inc, Services: inc.Services(), Duration: inc.Duration(now)})
	}
	return out
}
