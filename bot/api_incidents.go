package bot

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// mountIncidents serves the incidents family's read-only views: incidents and availability as JSON, and
// the postmortem skeleton of an incident as markdown.
func (b *Bot) mountIncidents(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/incidents", b.requireToken(http.HandlerFunc(b.apiIncidents)))
	mux.Handle("GET /api/v1/incidents/{id}", b.requireToken(http.HandlerFunc(b.apiIncident)))
	mux.Handle("GET /api/v1/availability", b.requireToken(http.HandlerFunc(b.apiAvailability)))
	mux.Handle("GET /incidents/{id}/postmortem.md", b.requireToken(http.HandlerFunc(b.postmortem)))
}

// incidentView is an incident as the API shows it.
type incidentView struct {
	store.Incident
	Name            string                `json:"name"`
	Services        []string              `json:"services"`
	DurationSeconds float64               `json:"duration_seconds"`
	Timeline        []store.TimelineEntry `json:"timeline,omitempty"`
}

func (b *Bot) viewOf(inc store.Incident) incidentView {
	return incidentView{Incident: inc, Name: inc.Name(), Services: inc.Services(), DurationSeconds: inc.Duration(b.o.Now()).Seconds()}
}

// apiIncidents lists incidents newest first: ?state=open|recent|all (default all), ?limit=N (default 100).
func (b *Bot) apiIncidents(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeJSONError(w, http.StatusBadRequest, "limit: a number from 1 to 1000")
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
		incs, err = b.store.OpenIncidentList()
		total = len(incs)
		incs = incs[:min(limit, len(incs))]
	case "recent":
		incs, total, err = b.store.RecentIncidents(b.o.Now().Add(-7*24*time.Hour), limit)
	case "", "all":
		incs, total, err = b.store.RecentIncidents(time.Time{}, limit)
	default:
		writeJSONError(w, http.StatusBadRequest, "state: open, recent or all")
		return
	}
	if err != nil {
		b.internalError(w, "incidents", err)
		return
	}
	views := make([]incidentView, 0, len(incs))
	for _, inc := range incs {
		views = append(views, b.viewOf(inc))
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": views, "total": total})
}

// apiIncident is one incident with its whole timeline.
func (b *Bot) apiIncident(w http.ResponseWriter, r *http.Request) {
	inc, tl, ok := b.incidentParam(w, r)
	if !ok {
		return
	}
	v := b.viewOf(inc)
	v.Timeline = tl
	writeJSON(w, http.StatusOK, v)
}

// incidentParam reads the incident named by the {id} path value ("7" or "INC-7") and its whole timeline,
// answering 400, 404 or 500 itself when it cannot.
func (b *Bot) incidentParam(w http.ResponseWriter, r *http.Request) (store.Incident, []store.TimelineEntry, bool) {
	id, err := chat.ParseID(chat.KindIncident, r.PathValue("id"))
	if err != nil {
		http.Error(w, "bad incident id: use 7 or INC-7", http.StatusBadRequest)
		return store.Incident{}, nil, false
	}
	inc, err := b.store.Incident(id)
	var tl []store.TimelineEntry
	if err == nil {
		tl, err = b.store.IncidentTimeline(id, 0)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, fmt.Sprintf("no incident INC-%d", id), http.StatusNotFound)
		return inc, nil, false
	case err != nil:
		b.internalError(w, "incident", err)
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
	BudgetUsed      *float64 `json:"budget_used,omitempty"` // share of the budget used (1 = all of it)
}

// apiAvailability is the availability of every service with incidents in the window (worst first), or of
// ?service=S: ?window=30d (default; 7d, 90d or any duration up to 400d).
func (b *Bot) apiAvailability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window := 30 * 24 * time.Hour
	if v := q.Get("window"); v != "" {
		d, err := chat.ParseDuration(v)
		if err != nil || d < time.Minute || d > 400*24*time.Hour {
			writeJSONError(w, http.StatusBadRequest, "window: a duration from 1m to 400d, like 7d, 30d or 90d")
			return
		}
		window = d
	}
	now := b.o.Now()
	from, weights := now.Add(-window), b.o.Incidents.SeverityWeights()
	var all []store.ServiceAvailability
	var err error
	if svc := strings.ToLower(q.Get("service")); svc != "" {
		// An unknown name would read as 100% available: a dashboard with a typo would show a healthy
		// service. With a catalogue, a name it does not have is 404 (without one, any name is a service).
		if names, err := b.store.ServiceNames(); err == nil && len(names) > 0 && !slices.Contains(names, svc) {
			writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no service %q in the catalogue", chat.Truncate(svc, 70)))
			return
		}
		var a store.ServiceAvailability
		a, err = b.store.Availability(svc, from, now, weights)
		all = []store.ServiceAvailability{a}
	} else {
		all, err = b.store.AvailabilityAll(from, now, weights)
	}
	if err != nil {
		b.internalError(w, "availability", err)
		return
	}
	slos := b.deps.SLOs
	views := make([]availabilityView, 0, len(all))
	for _, a := range all {
		v := availabilityView{Service: a.Service, Availability: a.Percent, DowntimeSeconds: a.Downtime.Seconds(), Incidents: a.Incidents}
		if slos != nil {
			slo, ok, err := slos.ServiceSLO(a.Service)
			if err != nil {
				b.internalError(w, "availability: slo", err)
				return
			}
			if ok {
				budget := commands.SLOBudget(slo, window).Seconds()
				used := 0.0
				if budget > 0 {
					used = v.DowntimeSeconds / budget
				}
				v.SLO, v.BudgetSeconds, v.BudgetUsed = &slo, &budget, &used
			}
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": chat.FormatDuration(window), "from": from.UTC(), "to": now.UTC(), "services": views})
}

// postmortem serves the incident's postmortem skeleton as markdown.
func (b *Bot) postmortem(w http.ResponseWriter, r *http.Request) {
	inc, tl, ok := b.incidentParam(w, r)
	if !ok {
		return
	}
	var deploys, dependents []string // nil: no data
	var err error
	if b.deps.Deploys != nil {
		if deploys, err = commands.DeploysBefore(b.deps.Deploys, inc); err != nil {
			b.internalError(w, "postmortem: deploys", err)
			return
		}
		deploys = append([]string{}, deploys...)
	}
	if b.deps.Catalog != nil {
		dependents = []string{}
		for _, svc := range inc.Services() {
			impact, err := b.deps.Catalog.ServiceImpact(svc)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				b.internalError(w, "postmortem: impact", err)
				return
			}
			if len(impact) > 0 {
				dependents = append(dependents, fmt.Sprintf("%s: %s", svc, strings.Join(impact, ", ")))
			}
		}
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprint(w, renderPostmortem(inc, tl, deploys, dependents, b.o.Location, b.o.Now()))
}

// renderPostmortem is the postmortem skeleton: summary, impact window, timeline, deploys to the affected
// services in the 24 h before, dependents, and empty sections for causes and actions. nil deploys or
// dependents mean the family that knows them is not wired ("no data").
func renderPostmortem(inc store.Incident, tl []store.TimelineEntry, deploys, dependents []string, loc *time.Location, now time.Time) string {
	stamp := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format+"\n", a...) }
	list := func(items []string, none string) {
		switch {
		case items == nil:
			p("No data.")
		case len(items) == 0:
			p("%s", none)
		default:
			for _, it := range items {
				p("- %s", it)
			}
		}
		p("")
	}
	p("# Postmortem: %s SEV%d on %s", inc.Name(), inc.Severity, strings.Join(inc.Services(), ", "))
	p("")
	p("## Summary")
	p("")
	p("%s", inc.Summary)
	p("")
	p("- Severity: SEV%d", inc.Severity)
	p("- Services: %s", strings.Join(inc.Services(), ", "))
	p("- Status: %s", inc.Status)
	p("- Commander: %s", inc.Commander)
	p("- Declared: %s by %s", stamp(inc.Declared), inc.DeclaredBy)
	if inc.Page != "" {
		p("- Paged: %s", inc.Page)
	}
	p("")
	p("## Impact window")
	p("")
	p("- Start: %s", stamp(inc.Start))
	if inc.Open() {
		p("- End: ongoing (%s so far)", chat.FormatDuration(inc.Duration(now)))
	} else {
		p("- End: %s", stamp(inc.End))
		p("- Duration: %s", chat.FormatDuration(inc.Duration(now)))
	}
	p("")
	p("## Timeline")
	p("")
	for _, e := range tl {
		p("- %s %s: %s", stamp(e.At), e.Author, e.Text)
	}
	p("")
	p("## Deploys to the affected services in the 24 h before")
	p("")
	list(deploys, "None.")
	p("## Dependents")
	p("")
	list(dependents, "None known.")
	p("## Causes")
	p("")
	p("")
	p("## Actions")
	p("")
	return sb.String()
}

// internalError logs err under a reference and answers 500 with it.
func (b *Bot) internalError(w http.ResponseWriter, what string, err error) {
	b.metrics.storeFailed(err)
	ref := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	b.o.Log.Error("http: "+what, "ref", ref, "err", err)
	writeJSONError(w, http.StatusInternalServerError, "internal error (ref "+ref+")")
}
