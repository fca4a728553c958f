package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/opsbot/opsbot/store"
)

// deployHistory is how many deploys the history shows.
const deployHistory = 50

// deployCell is what runs in one environment of one service, and any rollout in progress there.
type deployCell struct {
	Current *store.DeployCurrent
	Rolling *store.Deploy
}

// deployRow is one service across the environments.
type deployRow struct {
	Service string
	Cells   []deployCell // one per environment of deploysView.Envs
	Locked  bool         // by its own lock or the lock on all
	Frozen  bool
}

// deploysView is the deploys page.
type deploysView struct {
	Envs       []string
	Rows       []deployRow
	InProgress []store.Deploy
	Locks      []store.DeployLock
	Freezes    []freeze
	Windows    []store.Window // maintenance windows in progress that freeze deploys
	History    []store.Deploy
	Service    string // the history is this service's ("" every service's)
	Services   []string
}

func (x *Web) deploys(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Deploys == nil {
		x.notFound(w, r, &v, "deploys are not part of this opsbot")
		return
	}
	d := x.links.Deploys
	current, err := d.CurrentDeploys()
	if err != nil {
		x.fail(w, r, "deploys", err)
		return
	}
	dv := deploysView{}
	if dv.InProgress, dv.Locks, err = d.DeployOverview(); err != nil {
		x.fail(w, r, "deploys", err)
		return
	}
	if x.links.Incidents != nil {
		open, err := x.links.Incidents.OpenIncidentList()
		if err != nil {
			x.fail(w, r, "deploys: freezes", err)
			return
		}
		dv.Freezes = freezesOf(open)
	}
	ws, err := x.windowsAt(x.rt.Now(), 0)
	if err != nil {
		x.fail(w, r, "deploys: maintenance", err)
		return
	}
	dv.Windows = windowFreezes(ws, x.rt.Now())
	envs := map[string]bool{}
	services := map[string]bool{}
	for svc, cs := range current {
		services[svc] = true
		for _, c := range cs {
			envs[c.Env] = true
		}
	}
	for _, a := range dv.InProgress {
		services[a.Service], envs[a.Env] = true, true
	}
	dv.Envs = sortedEnvs(envs)
	locked := map[string]bool{}
	for _, l := range dv.Locks {
		locked[l.Service] = true
	}
	frozen := map[string]bool{}
	for _, f := range dv.Freezes {
		for _, s := range f.Services {
			frozen[s] = true
		}
	}
	for _, w := range dv.Windows {
		frozen[w.Service] = true
	}
	for svc := range services {
		dv.Services = append(dv.Services, svc)
	}
	slices.Sort(dv.Services)
	for _, svc := range dv.Services {
		row := deployRow{Service: svc, Locked: locked[svc] || locked[store.LockAll], Frozen: frozen[svc] || frozen[store.AllServices]}
		for _, env := range dv.Envs {
			var cell deployCell
			for i, c := range current[svc] {
				if c.Env == env {
					cell.Current = &current[svc][i]
				}
			}
			for i, a := range dv.InProgress {
				if a.Service == svc && a.Env == env {
					cell.Rolling = &dv.InProgress[i]
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		dv.Rows = append(dv.Rows, row)
	}
	if s := strings.ToLower(r.URL.Query().Get("service")); s != "" && store.ValidServiceName(s) {
		dv.Service = s
		dv.History, err = d.DeployHistory(s, deployHistory)
	} else {
		dv.History, err = d.RecentDeploys(deployHistory)
	}
	if err != nil {
		x.fail(w, r, "deploys: history", err)
		return
	}
	x.render(w, r, http.StatusOK, "deploys.html", page{Title: "Deploys", Nav: "deploys", Viewer: &v}, dv)
}

// sortedEnvs orders environments prod first, then by name.
func sortedEnvs(set map[string]bool) []string {
	var out []string
	for e := range set {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == store.DefaultEnv:
			return -1
		case b == store.DefaultEnv:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}
