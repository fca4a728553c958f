package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// IncidentAgenda contributes the incidents and availability lines to the weekly meeting agendas (it has the
// method set of the AgendaSource contract on main): for "retro" the week's incidents, for "scalability" the
// week's incidents with services and durations and the services below their SLO over 30 days. It has nothing
// to say for "planning".
type IncidentAgenda struct{ x *incidents }

// NewIncidentAgenda builds the incidents family's agenda source over d.
func NewIncidentAgenda(d Deps) *IncidentAgenda {
	x := &incidents{d: d}
	x.log, _ = d.Store.(IncidentLog)
	return &IncidentAgenda{x: x}
}

// AgendaName is "incidents".
func (a *IncidentAgenda) AgendaName() string { return "incidents" }

// agendaShown caps the incidents named in an agenda.
const agendaShown = 5

// Agenda returns the lines for kind about [from, to).
func (a *IncidentAgenda) Agenda(kind string, from, to time.Time) ([]string, error) {
	x := a.x
	if x.log == nil || (kind != "retro" && kind != "scalability") {
		return nil, nil
	}
	recent, _, err := x.log.RecentIncidents(from, maxListed)
	if err != nil {
		return nil, err
	}
	var week []store.Incident // declared in the week, or declared before and still open
	var impact time.Duration  // impact time within the week, unweighted
	bySev := map[int]int{}
	for _, inc := range recent {
		if !inc.Declared.Before(to) || (inc.Declared.Before(from) && !inc.Open()) {
			continue
		}
		week = append(week, inc)
		bySev[inc.Severity]++
		start, end := inc.Start, to
		if start.Before(from) {
			start = from
		}
		if !inc.Open() && inc.End.Before(to) {
			end = inc.End
		}
		impact += max(end.Sub(start), 0)
	}
	var lines []string
	if len(week) == 0 {
		lines = append(lines, "no incidents this week")
	} else {
		var sevs []string
		for _, sev := range sortedKeys(bySev) {
			sevs = append(sevs, fmt.Sprintf("%d SEV%d", bySev[sev], sev))
		}
		lines = append(lines, fmt.Sprintf("%d incident%s (%s), %s of impact", len(week), plural(len(week)), strings.Join(sevs, ", "), chat.FormatDuration(impact)))
		for i, inc := range week {
			if i == agendaShown {
				lines = append(lines, fmt.Sprintf("... and %d more (!incident list recent)", len(week)-i))
				break
			}
			lines = append(lines, x.listLine(inc, to))
		}
	}
	if kind == "scalability" {
		below, err := a.belowSLO(to)
		if err != nil {
			return nil, err
		}
		lines = append(lines, below...)
	}
	return lines, nil
}

// belowSLO names the services whose availability over the 30 days before to is below their SLO.
func (a *IncidentAgenda) belowSLO(to time.Time) ([]string, error) {
	x := a.x
	if x.d.SLOs == nil {
		return nil, nil
	}
	all, err := x.log.AvailabilityAll(to.Add(-defaultWindow), to, x.d.IncidentOptions.SeverityWeights())
	if err != nil {
		return nil, err
	}
	var below []string
	for _, av := range all {
		slo, ok, err := x.d.SLOs.ServiceSLO(av.Service)
		if err != nil {
			return nil, err
		}
		if ok && av.Percent < slo {
			below = append(below, fmt.Sprintf("%s %s (SLO %v%%)", av.Service, FormatPercent(av.Percent), slo))
		}
	}
	if len(below) == 0 {
		return []string{"every service within its SLO over 30d"}, nil
	}
	return []string{"below SLO over 30d: " + strings.Join(below, ", ")}, nil
}
