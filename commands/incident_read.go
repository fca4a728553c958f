package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Limits of incident listings.
const (
	recentIncidents = 7 * 24 * time.Hour
	maxListed       = 50
	// deployLookback is how long before an incident's start its services' deploys are shown ("24h" in text).
	deployLookback = 24 * time.Hour
)

func (x *Incidents) list(_ context.Context, c *Call, w Replier) error {
	mode := "open"
	if len(c.Args) == 1 {
		mode = strings.ToLower(c.Args[0])
	}
	now := x.rt.Now()
	var (
		incs  []store.Incident
		total int
		err   error
	)
	switch mode {
	case "open":
		incs, err = x.log.OpenIncidentList()
		total = len(incs)
	case "recent":
		incs, total, err = x.log.RecentIncidents(now.Add(-recentIncidents), maxListed)
	case "all":
		incs, total, err = x.log.RecentIncidents(time.Time{}, maxListed)
	default:
		return c.Usage()
	}
	if err != nil {
		return err
	}
	if len(incs) == 0 {
		switch mode {
		case "open":
			w.Reply("no open incidents")
		case "recent":
			w.Reply("no incidents in the last " + chat.FormatDuration(recentIncidents))
		default:
			w.Reply("no incidents yet")
		}
		return nil
	}
	lines := make([]string, 0, len(incs)+1)
	for _, inc := range incs {
		lines = append(lines, x.listLine(inc, now))
	}
	if mode == "all" && total > len(incs) {
		lines = append(lines, fmt.Sprintf("... and %d older (GET /api/v1/incidents?state=all)", total-len(incs)))
	}
	w.Reply(lines...)
	return nil
}

// listLine is one incident in a listing:
// "INC-7 SEV2 playlist investigating for 1h05m: <summary> (commander a​lice)".
func (x *Incidents) listLine(inc store.Incident, now time.Time) string {
	svcs := strings.Join(inc.Services(), ",")
	if inc.Open() {
		return fmt.Sprintf("%s SEV%d %s %s for %s: %s (commander %s)", inc.Name(), inc.Severity, svcs, inc.Status,
			chat.FormatDuration(inc.Duration(now)), inc.Summary, chat.NoHighlight(inc.Commander))
	}
	return fmt.Sprintf("%s SEV%d %s resolved %s after %s: %s", inc.Name(), inc.Severity, svcs, x.clock(inc.End, now),
		chat.FormatDuration(inc.Duration(now)), inc.Summary)
}

func (x *Incidents) show(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	inc, err := x.log.Incident(id)
	if err != nil {
		return incidentError(err, id)
	}
	now := x.rt.Now()
	at := func(t time.Time) string { return x.clock(t, now) } // every time of the reply, in the bot's zone
	head := fmt.Sprintf("%s SEV%d %s on %s: %s. ", inc.Name(), inc.Severity, inc.Status, strings.Join(inc.Services(), ", "), inc.Summary)
	if inc.Open() {
		head += fmt.Sprintf("Open for %s (since %s)", chat.FormatDuration(inc.Duration(now)), at(inc.Start))
	} else {
		head += fmt.Sprintf("Impact %s to %s (%s)", at(inc.Start), at(inc.End), chat.FormatDuration(inc.Duration(now)))
	}
	head += ". Commander: " + chat.NoHighlight(inc.Commander)
	if inc.Page != "" {
		head += ". Paged " + inc.Page
	}
	c.Page = "/incidents/" + inc.Name()
	lines := []string{head + x.rt.Link(c.Page)}
	if x.links.Deploys != nil {
		deploys, err := DeploysBefore(x.links.Deploys, inc, func(d store.Deploy) string {
			return DeployStartLine(d, at(d.Started), chat.NoHighlight(d.By))
		})
		if err != nil {
			return err
		}
		lines = append(lines, "deploys in the 24h before: "+cmpJoin(deploys, "; ", "none"))
	}
	n := x.rt.ChannelLines() - len(lines) // the last timeline entries that fit a channel reply
	if c.Private() {
		n = 20
	}
	if n > 0 { // (n <= 0 would ask the store for the whole timeline)
		tl, err := x.log.IncidentTimeline(id, n)
		if err != nil {
			return err
		}
		for _, e := range tl {
			lines = append(lines, fmt.Sprintf("%s %s: %s", at(e.At), chat.NoHighlight(e.Author), e.Render(chat.NoHighlight, at)))
		}
	}
	w.Reply(lines...)
	return nil
}

// DeploysBefore lists the deploys to inc's services in the 24 h before its impact started, one line each as
// line writes it, prefixed with the service when the incident affects several; nil deploys means no data.
// Chat, the postmortem and the web page each write the line for their medium.
func DeploysBefore(deploys DeploysStarted, inc store.Incident, line func(store.Deploy) string) ([]string, error) {
	if deploys == nil {
		return nil, nil
	}
	out := []string{}
	svcs := inc.Services()
	for _, svc := range svcs {
		ds, err := deploys.DeploysStartedBetween(svc, inc.Start.Add(-deployLookback), inc.Start)
		if err != nil {
			return nil, fmt.Errorf("incident: deploys of %s: %w", svc, err)
		}
		for _, d := range ds {
			l := line(d)
			if len(svcs) > 1 {
				l = svc + " " + l
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// DeployStartLine is a deploy as the views of an incident list it, "D-40 1.42 prod succeeded 10:05 by alice":
// when it started (as at writes it) and who started it (as by writes it).
func DeployStartLine(d store.Deploy, at, by string) string {
	state := string(d.State)
	if d.State == store.DeployRolledBack {
		state = "rolled back to " + d.RolledBackTo
	}
	return fmt.Sprintf("%s %s %s %s %s by %s", chat.FormatID(chat.KindDeploy, d.ID), d.Version, d.Env, state, at, by)
}

// cmpJoin joins items with sep, or is def when there are none.
func cmpJoin(items []string, sep, def string) string {
	if len(items) == 0 {
		return def
	}
	return strings.Join(items, sep)
}
