package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
)

// DigestName names the deploys family's part of the handoff digest.
func (p *Deploys) DigestName() string { return "deploys" }

// Digest gives the rollbacks of the shift that is ending ([since, now)) and the deploy locks in force (a
// lock left after a rollback is the next person's to lift), whatever the schedule.
func (p *Deploys) Digest(_ string, since, now time.Time) (DigestPart, error) {
	// The shift's rollbacks, of deploys started whenever.
	rolledBack, err := p.st.DeploysRolledBack(since, now)
	if err != nil {
		return DigestPart{}, err
	}
	_, locks, err := p.st.DeployOverview()
	if err != nil {
		return DigestPart{}, err
	}
	var part DigestPart
	var sums []string
	for _, d := range rolledBack { // oldest first
		part.Items = append(part.Items, fmt.Sprintf("%s %s rolled back %s -> %s%s", chat.FormatID(chat.KindDeploy, d.ID), d.Service,
			d.Version, orString(d.RolledBackTo, "previous"), reasonText(chat.Truncate(d.Reason, 60))))
	}
	if rollbacks := len(rolledBack); rollbacks > 0 {
		sums = append(sums, fmt.Sprintf("%d rollback%s", rollbacks, plural(rollbacks)))
	}
	for _, l := range locks {
		part.Items = append(part.Items, fmt.Sprintf("%s locked (%s, by %s)", l.Service, chat.Truncate(l.Reason, 60), chat.NoHighlight(l.By)))
	}
	if len(locks) > 0 {
		sums = append(sums, fmt.Sprintf("%d lock%s", len(locks), plural(len(locks))))
	}
	part.Summary = strings.Join(sums, ", ")
	return part, nil
}
