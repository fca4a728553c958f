package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// AgendaName names the incidents family's part of the weekly meeting agendas: for "retro" the week's
// incidents, for "scalability" the week's incidents with services and durations and the services below their
// SLO over 30 days; nothing for "planning".
func (x *Incidents) AgendaName() string { return "incidents" }

// agendaShown caps the incidents named in an agenda.
const agendaShown = 5

// Agenda returns the lines for kind about [from, to).
func (x *Incidents) Agenda(kind string, from, to time.Time) ([]string, error) {
	if kind != "retro" && kind != "scalability" {
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
	return lines, nil
}

// AvailabilityAgenda is the availability part of the scalability meeting's agenda: the services below their
// SLO over the 30 days before the meeting.
func (x *Incidents) AvailabilityAgenda() AgendaSource { return availabilityAgenda{x} }

type availabilityAgenda struct{ x *Incidents }

// AgendaName is "availability".
func (a availabilityAgenda) AgendaName() string { return "availability" }

// Agenda gives the services below their SLO, for "scalability" only.
func (a availabilityAgenda) Agenda(kind string, _, to time.Time) ([]string, error) {
	if kind != "scalability" {
		return nil, nil
	}
	return a.x.belowSLO(to)
}

// belowSLO names the services whose availability over the 30 days before to is below their SLO.
func (x *Incidents) belowSLO(to time.Time) ([]string, error) {
	if x.links.SLOs == nil {
		return nil, nil
	}
	all, err := x.log.AvailabilityAll(to.Add(-defaultWindow), to, x.cfg.SeverityWeights())
	if err != nil {
		return nil, err
	}
	var below []string
	for _, av := range all {
		slo, ok, err := x.links.SLOs.ServiceSLO(av.Service)
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
