package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// incidentsPerPage is how many incidents one page of the list shows.
const incidentsPerPage = 50

// incidentWindows are the time filters of the incident list, the first the default.
var incidentWindows = []struct {
	Key  string
	Days int // 0: all time
}{{"90d", 90}, {"7d", 7}, {"30d", 30}, {"365d", 365}, {"all", 0}}

// incidentsView is the incident list with its filters.
type incidentsView struct {
	Rows     []incidentRow
	State    string // "open" or "all"
	Service  string
	Severity int
	Window   string
	Windows  []string
	Services []string
	Older    string // the URL of the next page, "" on the last
	Filtered bool
}

func (x *Web) incidents(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Incidents == nil {
		x.notFound(w, r, &v, "incidents are not part of this opsbot")
		return
	}
	q := r.URL.Query()
	iv := incidentsView{State: "all", Window: incidentWindows[0].Key}
	if q.Get("state") == "open" {
		iv.State = "open"
	}
	query := store.IncidentQuery{Open: iv.State == "open", Limit: incidentsPerPage}
	if s := strings.ToLower(q.Get("service")); s != "" && store.ValidServiceName(s) {
		iv.Service, query.Service = s, s
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(q.Get("sev")), "sev")); err == nil && n >= 1 && n <= 4 {
		iv.Severity, query.Severity = n, n
	}
	now := x.rt.Now()
	for _, win := range incidentWindows {
		iv.Windows = append(iv.Windows, win.Key)
		if q.Get("window") == win.Key || (q.Get("window") == "" && win.Key == iv.Window) {
			iv.Window = win.Key
			if win.Days > 0 {
				query.Since = now.AddDate(0, 0, -win.Days)
			}
		}
	}
	if b, err := strconv.ParseUint(q.Get("before"), 10, 64); err == nil {
		query.Before = b
	}
	iv.Filtered = iv.State == "open" || iv.Service != "" || iv.Severity != 0 || iv.Window != incidentWindows[0].Key
	incs, more, err := x.links.Incidents.FindIncidents(query)
	if err != nil {
		x.fail(w, r, "incidents", err)
		return
	}
	iv.Rows = incidentRows(incs, now)
	if more && len(incs) > 0 {
		next := url.Values{"state": {iv.State}, "window": {iv.Window}, "before": {strconv.FormatUint(incs[len(incs)-1].ID, 10)}}
		if iv.Service != "" {
			next.Set("service", iv.Service)
		}
		if iv.Severity != 0 {
			next.Set("sev", strconv.Itoa(iv.Severity))
		}
		iv.Older = "/incidents?" + next.Encode()
	}
	if x.links.Services != nil {
		svcs, err := x.links.Services.Services()
		if err != nil {
			x.fail(w, r, "incidents: services", err)
			return
		}
		for _, s := range svcs {
			iv.Services = append(iv.Services, s.Name)
		}
	}
	x.render(w, r, http.StatusOK, "incidents.html", page{Title: "Incidents", Nav: "incidents", Viewer: &v}, iv)
}

// incidentView is one incident with everything known about it.
type incidentView struct {
	incidentRow
	Timeline   []store.TimelineEntry
	Page       *store.Page
	Deploys    []string // in the 24 h before
	HasDeploys bool     // the deploys family is there
	Affects    []string // what depends on its services (nil: no catalogue)
}

// incidentParam reads the {id} path value ("7" or "INC-7") and the incident, answering 404 itself.
func (x *Web) incidentParam(w http.ResponseWriter, r *http.Request, v *viewer) (store.Incident, bool) {
	if x.links.Incidents == nil {
		x.notFound(w, r, v, "incidents are not part of this opsbot")
		return store.Incident{}, false
	}
	id, err := chat.ParseID(chat.KindIncident, r.PathValue("id"))
	if err != nil {
		x.notFound(w, r, v, "no such incident: "+r.PathValue("id"))
		return store.Incident{}, false
	}
	inc, err := x.links.Incidents.Incident(id)
	if errors.Is(err, store.ErrNotFound) {
		x.notFound(w, r, v, "no incident "+chat.FormatID(chat.KindIncident, id))
		return inc, false
	}
	if err != nil {
		x.fail(w, r, "incident", err)
		return inc, false
	}
	return inc, true
}

func (x *Web) incident(w http.ResponseWriter, r *http.Request, v viewer) {
	inc, ok := x.incidentParam(w, r, &v)
	if !ok {
		return
	}
	iv, err := x.incidentData(inc)
	if err != nil {
		x.fail(w, r, "incident", err)
		return
	}
	x.render(w, r, http.StatusOK, "incident.html", page{Title: inc.Name(), Nav: "incidents", Viewer: &v}, iv)
}

func (x *Web) incidentData(inc store.Incident) (incidentView, error) {
	now := x.rt.Now()
	iv := incidentView{incidentRow: incidentRows([]store.Incident{inc}, now)[0]}
	var err error
	if iv.Timeline, err = x.links.Incidents.IncidentTimeline(inc.ID, 0); err != nil {
		return iv, err
	}
	if inc.Page != "" && x.links.Pages != nil {
		if id, err := chat.ParseID(chat.KindPage, inc.Page); err == nil {
			pg, err := x.links.Pages.GetPage(id)
			switch {
			case err == nil:
				iv.Page = &pg
			case !errors.Is(err, store.ErrNotFound):
				return iv, err
			}
		}
	}
	if x.links.Deploys != nil {
		iv.HasDeploys = true
		var err error
		iv.Deploys, err = commands.DeploysBefore(x.links.Deploys, inc, func(d store.Deploy) string {
			return commands.DeployStartLine(d, x.stamp(d.Started), d.By)
		})
		if err != nil {
			return iv, err
		}
	}
	if x.links.Services != nil {
		iv.Affects = []string{}
		seen := map[string]bool{}
		for _, svc := range inc.Services() {
			seen[svc] = true
		}
		for _, svc := range inc.Services() {
			im, err := x.links.Services.Impact(svc)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return iv, err
			}
			for _, d := range im.Dependents {
				if !seen[d.Name] {
					seen[d.Name] = true
					iv.Affects = append(iv.Affects, d.Name)
				}
			}
		}
	}
	return iv, nil
}

// postmortemView is the postmortem skeleton of an incident, as markdown shown on a page.
type postmortemView struct {
	Incident store.Incident
	Markdown string
}

func (x *Web) postmortem(w http.ResponseWriter, r *http.Request, v viewer) {
	inc, ok := x.incidentParam(w, r, &v)
	if !ok {
		return
	}
	if x.links.Postmortems == nil {
		x.notFound(w, r, &v, "postmortems are not part of this opsbot")
		return
	}
	md, err := x.links.Postmortems.Postmortem(inc.ID)
	if err != nil {
		x.fail(w, r, "postmortem", err)
		return
	}
	if r.URL.Query().Get("format") == "md" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", inc.Name()+"-postmortem.md"))
		fmt.Fprint(w, md)
		return
	}
	x.render(w, r, http.StatusOK, "postmortem.html", page{Title: "Postmortem " + inc.Name(), Nav: "incidents", Viewer: &v},
		postmortemView{Incident: inc, Markdown: md})
}
