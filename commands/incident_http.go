package commands

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// incidentView is an incident as the API shows it.
type incidentView struct {
	store.Incident
	Name            string                `json:"name"`
	Services        []string              `json:"services"`
	DurationSeconds float64               `json:"duration_seconds"`
	Timeline        []store.TimelineEntry `json:"timeline,omitempty"`
}

func (x *Incidents) viewOf(inc store.Incident) incidentView {
	return incidentView{Incident: inc, Name: inc.Name(), Services: inc.Services(), DurationSeconds: inc.Duration(x.rt.Now()).Seconds()}
}

// apiIncidents lists incidents newest first: ?state=open|recent|all (default all), ?limit=N (default 100).
func (x *Incidents) apiIncidents(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteError(w, http.StatusBadRequest, "limit: a number from 1 to 1000")
			return
		}
		limit = n
	}
	var (
		incs  []store.Incident
		total int
		err   error
	)
	switch state := r.URL.Query().Get("state"); state {
	case "open":
		incs, err = x.log.OpenIncidentList()
		total = len(incs)
		incs = incs[:min(limit, len(incs))]
	case "recent":
		incs, total, err = x.log.RecentIncidents(x.rt.Now().Add(-7*24*time.Hour), limit)
	case "", "all":
		incs, total, err = x.log.RecentIncidents(time.Time{}, limit)
	default:
		WriteError(w, http.StatusBadRequest, "state: open, recent or all")
		return
	}
	if err != nil {
		x.rt.fail(w, "incidents", err)
		return
	}
	views := make([]incidentView, 0, len(incs))
	for _, inc := range incs {
		views = append(views, x.viewOf(inc))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"incidents": views, "total": total})
}

// apiIncident is one incident with its whole timeline.
func (x *Incidents) apiIncident(w http.ResponseWriter, r *http.Request) {
	inc, tl, ok := x.incidentParam(w, r)
	if !ok {
		return
	}
	v := x.viewOf(inc)
	v.Timeline = tl
	WriteJSON(w, http.StatusOK, v)
}

// incidentParam reads the incident named by the {id} path value ("7" or "INC-7") and its whole timeline,
// answering 400, 404 or 500 itself when it cannot.
func (x *Incidents) incidentParam(w http.ResponseWriter, r *http.Request) (store.Incident, []store.TimelineEntry, bool) {
	id, err := chat.ParseID(chat.KindIncident, r.PathValue("id"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad incident id: use 7 or INC-7")
		return store.Incident{}, nil, false
	}
	inc, err := x.log.Incident(id)
	var tl []store.TimelineEntry
	if err == nil {
		tl, err = x.log.IncidentTimeline(id, 0)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no incident INC-%d", id))
		return inc, nil, false
	case err != nil:
		x.rt.fail(w, "incident", err)
		return inc, nil, false
	}
	return inc, tl, true
}

// availabilityView is one service's availability over the window, with its SLO and error budget when known.
type availabilityView struct {
	Service         string   `json:"service"`
	Availability    float64  `json:"availability"`
	DowntimeSeconds float64  `json:"weighted_downtime_seconds"`
	Incidents       int      `json:"incidents"`
	SLO             *float64 `json:"slo,omitempty"`
	BudgetSeconds   *float64 `json:"budget_seconds,omitempty"`
	BudgetUsed      *float64 `json:"budget_used,omitempty"`     // share of the budget used (1 = all of it)
	PlannedSeconds  float64  `json:"planned_seconds,omitempty"` // planned downtime inside maintenance windows, not counted
}

// apiAvailability is the availability of every service with incidents in the window (worst first), or of
// ?service=S: ?window=30d (default; 7d, 90d or any duration up to 400d).
func (x *Incidents) apiAvailability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window := 30 * 24 * time.Hour
	if v := q.Get("window"); v != "" {
		d, err := chat.ParseDuration(v)
		if err != nil || d < time.Minute || d > 400*24*time.Hour {
			WriteError(w, http.StatusBadRequest, "window: a duration from 1m to 400d, like 7d, 30d or 90d")
			return
		}
		window = d
	}
	now := x.rt.Now()
	from, weights := now.Add(-window), x.cfg.SeverityWeights()
	var all []store.ServiceAvailability
	var err error
	if svc := q.Get("service"); svc != "" {
		// Checked as chat checks it: an unknown name would read as 100% available, and a dashboard with a typo
		// would show a healthy service. With a catalogue, a name it does not have is 404.
		var ue *UserError
		if svc, err = x.service(svc); errors.As(err, &ue) {
			WriteError(w, http.StatusNotFound, strings.TrimPrefix(ue.Msg, "error: "))
			return
		} else if err != nil {
			x.rt.fail(w, "availability: catalogue", err)
			return
		}
		var a store.ServiceAvailability
		a, err = x.log.Availability(svc, from, now, weights)
		all = []store.ServiceAvailability{a}
	} else {
		all, err = x.log.AvailabilityAll(from, now, weights)
	}
	if err != nil {
		x.rt.fail(w, "availability", err)
		return
	}
	slos := x.links.SLOs
	views := make([]availabilityView, 0, len(all))
	for _, a := range all {
		v := availabilityView{Service: a.Service, Availability: a.Percent, DowntimeSeconds: a.Downtime.Seconds(), Incidents: a.Incidents,
			PlannedSeconds: a.Planned.Seconds()}
		if slos != nil {
			slo, ok, err := slos.ServiceSLO(a.Service)
			if err != nil {
				x.rt.fail(w, "availability: slo", err)
				return
			}
			if ok {
				budget := SLOBudget(slo, window).Seconds()
				used := 0.0
				if budget > 0 {
					used = v.DowntimeSeconds / budget
				}
				v.SLO, v.BudgetSeconds, v.BudgetUsed = &slo, &budget, &used
			}
		}
		views = append(views, v)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"window": chat.FormatDuration(window), "from": from.UTC(), "to": now.UTC(), "services": views})
}
