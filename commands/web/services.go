package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/opsbot/opsbot/store"
)

// serviceRow is a service in the catalogue, with what the other families know of it.
type serviceRow struct {
	store.Service
	Open     []store.Incident      // open incidents affecting it
	Versions []store.DeployCurrent // what runs where, prod first
}

// servicesView is the catalogue page.
type servicesView struct {
	Rows       []serviceRow
	Graph      *graph // nil when the catalogue is too large to draw whole
	TooLarge   bool
	HasDeploys bool
}

// catalogue reads the services with their open incidents and versions.
func (x *Web) catalogue() ([]serviceRow, bool, error) {
	svcs, err := x.links.Services.Services()
	if err != nil {
		return nil, false, err
	}
	var open []store.Incident
	if x.links.Incidents != nil {
		if open, err = x.links.Incidents.OpenIncidentList(); err != nil {
			return nil, false, err
		}
	}
	var current map[string][]store.DeployCurrent
	if x.links.Deploys != nil {
		if current, err = x.links.Deploys.CurrentDeploys(); err != nil {
			return nil, false, err
		}
	}
	rows := make([]serviceRow, 0, len(svcs))
	for _, s := range svcs {
		row := serviceRow{Service: s, Versions: current[s.Name]}
		for _, inc := range open {
			if slices.Contains(inc.Services(), s.Name) {
				row.Open = append(row.Open, inc)
			}
		}
		rows = append(rows, row)
	}
	return rows, x.links.Deploys != nil, nil
}

func (x *Web) services(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Services == nil {
		x.notFound(w, r, &v, "the service catalogue is not part of this opsbot")
		return
	}
	rows, hasDeploys, err := x.catalogue()
	if err != nil {
		x.fail(w, r, "services", err)
		return
	}
	sv := servicesView{Rows: rows, HasDeploys: hasDeploys}
	if len(rows) <= maxGraphNodes {
		svcs := make([]store.Service, len(rows))
		for i, row := range rows {
			svcs[i] = row.Service
		}
		g := layoutGraph(svcs, highlight{})
		sv.Graph = &g
	} else {
		sv.TooLarge = true
	}
	x.render(w, r, http.StatusOK, "services.html", page{Title: "Services", Nav: "services", Viewer: &v}, sv)
}

// serviceView is one service's page: the catalogue entry, what fails with it (as !impact lists it), its
// open and recent incidents, its versions, and the graph with all of that marked.
type serviceView struct {
	serviceRow
	Impact     store.Impact
	Recent     []incidentRow
	Graph      *graph // nil when even its neighbourhood is too large to draw
	Partial    bool   // the graph shows the service's neighbourhood only
	HasDeploys bool
}

// Depths groups the impact by distance: the direct dependents, then the next ring, and so on.
func (s serviceView) Depths() [][]store.Dependent {
	var out [][]store.Dependent
	for _, d := range s.Impact.Dependents {
		if len(out) < d.Depth {
			out = append(out, nil)
		}
		out[d.Depth-1] = append(out[d.Depth-1], d)
	}
	return out
}

func (x *Web) service(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Services == nil {
		x.notFound(w, r, &v, "the service catalogue is not part of this opsbot")
		return
	}
	name := strings.ToLower(r.PathValue("name"))
	rows, hasDeploys, err := x.catalogue()
	if err != nil {
		x.fail(w, r, "service", err)
		return
	}
	i := slices.IndexFunc(rows, func(row serviceRow) bool { return row.Name == name })
	if i < 0 {
		x.notFound(w, r, &v, "no service "+name+" in the catalogue")
		return
	}
	sv := serviceView{serviceRow: rows[i], HasDeploys: hasDeploys}
	if sv.Impact, err = x.links.Services.Impact(name); err != nil {
		x.fail(w, r, "service: impact", err)
		return
	}
	if x.links.Incidents != nil {
		recent, _, err := x.links.Incidents.FindIncidents(store.IncidentQuery{Service: name, Limit: 10})
		if err != nil {
			x.fail(w, r, "service: incidents", err)
			return
		}
		sv.Recent = incidentRows(recent, x.rt.Now())
	}
	h := highlight{Focus: name, Impact: map[string]bool{}, Deps: map[string]bool{}}
	for _, d := range sv.Impact.Dependents {
		h.Impact[d.Name] = true
	}
	for _, d := range sv.Depends {
		h.Deps[d] = true
	}
	svcs := make([]store.Service, len(rows))
	for i, row := range rows {
		svcs[i] = row.Service
	}
	if len(svcs) > maxGraphNodes {
		svcs, sv.Partial = neighbourhood(svcs, h), true
	}
	if len(svcs) <= 3*maxGraphNodes {
		g := layoutGraph(svcs, h)
		sv.Graph = &g
	}
	x.render(w, r, http.StatusOK, "service.html", page{Title: name, Nav: "services", Viewer: &v}, sv)
}
