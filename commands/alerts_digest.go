package commands

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// DigestName names the alerts family's part of the handoff digest.
func (a *Alerts) DigestName() string { return "alerts" }

// Digest gives the alert groups firing now whose pages would go to the schedule (routed as their pages are,
// by the service catalogue), those that page first, then those that only tell the channel; the groups a
// maintenance window holds back are marked, since they page when it ends. Ignored groups are left out.
func (a *Alerts) Digest(schedule string, _, now time.Time) (DigestPart, error) {
	groups, err := a.st.FiringAlertGroups()
	if err != nil {
		return DigestPart{}, err
	}
	sort.SliceStable(groups, func(i, j int) bool { return actionOrder(groups[i]) < actionOrder(groups[j]) })
	var part DigestPart
	suppressed, first := 0, ""
	for _, g := range groups {
		if g.Action == store.ActionIgnore || a.scheduleOf(g) != schedule {
			continue
		}
		item := fmt.Sprintf("%s %s on %s firing %s", groupRef(g), orString(g.Name, "alert"), orString(g.Service, "no service"),
			chat.FormatDuration(now.Sub(firingSince(g)).Round(time.Minute)))
		switch {
		case g.SuppressedBy != "":
			suppressed++
			item += ", suppressed by " + g.SuppressedBy
		case g.Page != 0:
			if pg, err := a.st.GetPage(g.Page); err == nil {
				item += ", " + pageState(pg)
			}
		case g.Action == store.ActionNotify:
			item += ", not paging"
		}
		if first == "" {
			first = groupRef(g)
		}
		part.Items = append(part.Items, item)
	}
	n := len(part.Items)
	if n == 0 {
		return DigestPart{}, nil
	}
	sums := []string{fmt.Sprintf("%d alert groups firing", n)}
	if n == 1 {
		sums[0] = first + " firing"
	}
	if suppressed > 0 {
		sums = append(sums, fmt.Sprintf("%d suppressed", suppressed))
	}
	part.Summary = strings.Join(sums, ", ")
	return part, nil
}

// scheduleOf is the schedule a group's page goes (or went) to: its page's, else its service's route, else
// the default schedule.
func (a *Alerts) scheduleOf(g store.AlertGroup) string {
	if g.Page != 0 {
		if pg, err := a.st.GetPage(g.Page); err == nil {
			return pg.ScheduleName()
		}
	}
	req, err := a.pager.PageRequest(alertSource, g.Service)
	if err != nil {
		return store.DefaultSchedule
	}
	return req.Rotation.Schedule()
}
