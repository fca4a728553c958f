package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// availabilityDays are the windows the availability page offers, the first the default.
var availabilityDays = []int{90, 30, 365}

// maxCharts is how many charts the page of every service draws (the services in most trouble first); each
// service's own page draws its chart whatever its rank.
const maxCharts = 10

// serviceAvailability is one service's availability over the window, with its chart.
type serviceAvailability struct {
	Service    string
	Percent    float64
	Downtime   time.Duration
	SLO        float64
	Budget     time.Duration // the SLO's error budget over the window
	BudgetLeft time.Duration // negative when over budget
	BudgetUsed float64       // share of the budget used, 0..1 and beyond
	Incidents  int
	Chart      chart
}

// OverBudget reports whether the impact exceeds the error budget.
func (a serviceAvailability) OverBudget() bool { return a.SLO > 0 && a.BudgetLeft < 0 }

// BudgetUsedPercent is the share of the budget used, in whole percent.
func (a serviceAvailability) BudgetUsedPercent() int { return int(a.BudgetUsed*100 + 0.5) }

// availabilityView is the availability page.
type availabilityView struct {
	Days     int
	Choices  []int
	Service  string // one service only ("" all)
	Services []serviceAvailability
	Charted  []serviceAvailability // the first maxCharts of Services, with their charts
	From     time.Time
}

// dayBounds are the local midnights of the last n days (today included, so today's window ends at now).
func dayBounds(now time.Time, n int, loc *time.Location) []time.Time {
	l := now.In(loc)
	bounds := make([]time.Time, 0, n+1)
	for i := n - 1; i >= 0; i-- {
		bounds = append(bounds, time.Date(l.Year(), l.Month(), l.Day()-i, 0, 0, 0, 0, loc))
	}
	return append(bounds, now)
}

// servicesDays computes the services' availability day by day over the last n days, with their SLO
// budgets, from one read of the incident log.
func (x *Web) servicesDays(svcs []store.Service, n int, now time.Time) ([]serviceAvailability, []store.ServiceDays, error) {
	names := make([]string, len(svcs))
	for i, s := range svcs {
		names[i] = s.Name
	}
	all, err := x.links.Incidents.AvailabilityDaysOf(names, dayBounds(now, n, x.zone()), x.cfg.Weights)
	if err != nil {
		return nil, nil, err
	}
	out := make([]serviceAvailability, len(svcs))
	for i, svc := range svcs {
		out[i] = summarise(svc, all[i], now)
	}
	return out, all, nil
}

// summarise is a service's availability over its days, against its SLO.
func summarise(svc store.Service, days store.ServiceDays, now time.Time) serviceAvailability {
	bounds := days.Bounds
	a := serviceAvailability{Service: svc.Name, SLO: svc.SLO}
	for _, d := range days.Downtime {
		a.Downtime += d
	}
	window := now.Sub(bounds[0])
	a.Percent = 100 * (1 - float64(a.Downtime)/float64(window))
	seen := map[uint64]bool{}
	for _, im := range days.Impacts {
		if !seen[im.Incident] {
			seen[im.Incident] = true
			a.Incidents++
		}
	}
	if svc.SLO > 0 {
		a.Budget = commands.SLOBudget(svc.SLO, window)
		a.BudgetLeft = a.Budget - a.Downtime
		if a.Budget > 0 {
			a.BudgetUsed = float64(a.Downtime) / float64(a.Budget)
		}
	}
	return a
}

func (x *Web) availability(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Incidents == nil || x.links.Services == nil {
		x.notFound(w, r, &v, "availability needs the incidents and services families")
		return
	}
	av := availabilityView{Days: availabilityDays[0], Choices: availabilityDays}
	if n, err := strconv.Atoi(strings.TrimSuffix(r.URL.Query().Get("days"), "d")); err == nil && slices.Contains(availabilityDays, n) {
		av.Days = n
	}
	svcs, err := x.links.Services.Services()
	if err != nil {
		x.fail(w, r, "availability: services", err)
		return
	}
	if name := strings.ToLower(r.URL.Query().Get("service")); name != "" {
		i := slices.IndexFunc(svcs, func(s store.Service) bool { return s.Name == name })
		if i < 0 {
			x.notFound(w, r, &v, "no service "+name+" in the catalogue")
			return
		}
		av.Service, svcs = name, svcs[i:i+1]
	}
	now := x.rt.Now()
	all, days, err := x.servicesDays(svcs, av.Days, now)
	if err != nil {
		x.fail(w, r, "availability", err)
		return
	}
	daysOf := map[string]store.ServiceDays{}
	slo := map[string]float64{}
	for i, svc := range svcs {
		daysOf[svc.Name], slo[svc.Name] = days[i], svc.SLO
		av.From = days[i].Bounds[0]
	}
	av.Services = all
	// Services in trouble first: over budget, then by how much of the budget (or availability) is left.
	slices.SortStableFunc(av.Services, func(a, b serviceAvailability) int {
		if c := cmp.Compare(b.BudgetUsed, a.BudgetUsed); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Percent, b.Percent); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	for _, a := range av.Services[:min(len(av.Services), maxCharts)] {
		a.Chart = availabilityChart(daysOf[a.Service], slo[a.Service], x.zone())
		av.Charted = append(av.Charted, a)
	}
	x.render(w, r, http.StatusOK, "availability.html", page{Title: "Availability", Nav: "availability", Viewer: &v}, av)
}
