package commands

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// AgendaName names the deploys family in meeting agendas; with Agenda it implements AgendaSource.
func (p *Deploys) AgendaName() string { return "deploys" }

// Agenda gives the deploys family's lines for a meeting: the week's deploys and rollbacks for the retro and
// the scalability review, the locks and rollouts in progress for planning. Nothing to say is no lines.
func (p *Deploys) Agenda(kind string, from, to time.Time) ([]string, error) {
	more := "(!deploy history <service>)"
	if kind == "planning" {
		active, locks, err := p.st.DeployOverview()
		if err != nil {
			return nil, err
		}
		var out []string
		if len(locks) > 0 {
			var items []string
			for _, l := range locks {
				items = append(items, fmt.Sprintf("%s (%s, by %s)", l.Service, l.Reason, chat.NoHighlight(l.By)))
			}
			out = append(out, capLine(fmt.Sprintf("deploy locks (%d): ", len(locks)), items, "(!deploy status)"))
		}
		if len(active) > 0 {
			var items []string
			for _, d := range active {
				items = append(items, fmt.Sprintf("%s %s %s %s", chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, orString(progressText(d), "started")))
			}
			out = append(out, capLine(fmt.Sprintf("rolling out (%d): ", len(active)), items, "(!deploy status)"))
		}
		return out, nil
	}
	if kind != "retro" && kind != "scalability" {
		return nil, nil
	}
	started, err := p.st.DeploysSince(from)
	if err != nil {
		return nil, err
	}
	// Rollbacks this week, of deploys started whenever (often the week before).
	rolledBack, err := p.st.DeploysRolledBack(from, to)
	if err != nil {
		return nil, err
	}
	count := map[store.DeployState]int{}
	perService := map[string]int{}
	for _, d := range started {
		if d.Started.Before(to) {
			state := d.State
			if state == store.DeployStarted {
				state = store.DeployProgress
			}
			count[state]++
			perService[d.Service]++
		}
	}
	var rollbacks []string
	for _, d := range rolledBack {
		rollbacks = append(rollbacks, fmt.Sprintf("%s %s %s -> %s%s", chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.RolledBackTo, reasonText(d.Reason)))
	}
	total := count[store.DeploySucceeded] + count[store.DeployFailed] + count[store.DeployRolledBack] + count[store.DeployProgress]
	var out []string
	if total > 0 {
		line := fmt.Sprintf("deploys: %d to %d services (%d succeeded, %d failed, %d rolled back, %d in progress)", total, len(perService),
			count[store.DeploySucceeded], count[store.DeployFailed], count[store.DeployRolledBack], count[store.DeployProgress])
		if kind == "scalability" {
			names := sortedKeys(perService)
			slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(perService[b], perService[a]) })
			var busiest []string
			for _, n := range names[:min(3, len(names))] {
				busiest = append(busiest, fmt.Sprintf("%s %d", n, perService[n]))
			}
			line += "; most: " + strings.Join(busiest, ", ")
		}
		out = append(out, line)
	}
	if len(rollbacks) > 0 {
		out = append(out, capLine(fmt.Sprintf("rollbacks (%d): ", len(rollbacks)), rollbacks, more))
	}
	return out, nil
}
