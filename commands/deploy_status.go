package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// statusLineBytes keeps each line of a listing within one IRC line (the bot splits beyond ~390 bytes).
const statusLineBytes = 350

// chatStatus answers "may I deploy, and what runs where?". Without a service, a channel gets at most two
// lines (rollouts in progress, locks) however many there are; a private query gets one line per item.
func (p *Deploys) chatStatus(_ context.Context, c *Call, w Replier) error {
	if len(c.Args) == 1 {
		return p.serviceStatus(c, w)
	}
	active, locks, err := p.st.DeployOverview()
	if err != nil {
		return err
	}
	if len(active) == 0 && len(locks) == 0 {
		w.Reply("no rollouts in progress, no deploy locks")
		return nil
	}
	var rollouts, locked []string
	for _, d := range active {
		rollouts = append(rollouts, fmt.Sprintf("%s %s %s %s %s", chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.Env, p.since(d)))
	}
	for _, l := range locks {
		name := l.Service
		if name == store.LockAll {
			name = "all deploys"
		}
		locked = append(locked, name+" "+p.lockedBy(l))
	}
	if c.Private() {
		w.Reply(rollouts...)
		w.Reply(locked...)
		return nil
	}
	more := fmt.Sprintf("(%sdeploy status <service>, or ask in private)", c.Prefix)
	if len(rollouts) > 0 {
		w.Reply(capLine(fmt.Sprintf("rolling out (%d): ", len(rollouts)), rollouts, more))
	} else {
		w.Reply("no rollouts in progress")
	}
	if len(locked) > 0 {
		w.Reply(capLine(fmt.Sprintf("locked (%d): ", len(locked)), locked, more))
	}
	return nil
}

// capLine joins items after head with "; " up to statusLineBytes, then says how many did not fit.
func capLine(head string, items []string, more string) string {
	reserve := len(fmt.Sprintf("; ... and %d more %s", len(items), more))
	line := head
	for i, it := range items {
		sep := "; "
		if i == 0 {
			sep = ""
		}
		last := i == len(items)-1
		if len(line)+len(sep)+len(it) > statusLineBytes || (!last && len(line)+len(sep)+len(it)+reserve > statusLineBytes) {
			return line + fmt.Sprintf("%s... and %d more %s", sep, len(items)-i, more)
		}
		line += sep + it
	}
	return line
}

func (p *Deploys) serviceStatus(c *Call, w Replier) error {
	svc, err := p.Service(c.Args[0], false)
	if err != nil {
		return userErr(err)
	}
	st, err := p.st.DeployStatusOf(svc)
	if err != nil {
		return err
	}
	frozen, err := p.frozenBy(svc)
	if err != nil {
		return err
	}
	var envs []string
	for _, cur := range st.Current {
		s := fmt.Sprintf("%s %s since %s", cur.Env, cur.Version, p.when(cur.At))
		if cur.Previous != "" {
			s += " (was " + cur.Previous + ")"
		}
		envs = append(envs, s)
	}
	line := svc + ": " + orString(strings.Join(envs, ", "), "no version deployed yet")
	var gate []string
	for _, l := range st.Locks {
		if l.Service == store.LockAll {
			gate = append(gate, "all deploys "+p.lockedBy(l))
		} else {
			gate = append(gate, p.lockedBy(l))
		}
	}
	if frozen != "" {
		gate = append(gate, "frozen: "+frozen)
	}
	c.Page = "/deploys?service=" + svc
	w.Reply(line + "; " + orString(strings.Join(gate, "; "), "deploys open") + p.rt.Link(c.Page))
	for _, d := range st.Active {
		w.Reply(fmt.Sprintf("%s %s rolling out in %s %s%s", chat.FormatID(chat.KindDeploy, d.ID), d.Version, d.Env, p.since(d), forcedMark(d)))
	}
	return nil
}

func (p *Deploys) chatHistory(_ context.Context, c *Call, w Replier) error {
	svc, err := p.Service(c.Args[0], false)
	if err != nil {
		return userErr(err)
	}
	n := 5
	if len(c.Args) == 2 {
		if n, err = strconv.Atoi(c.Args[1]); err != nil || n < 1 || n > 50 {
			return c.Usage()
		}
	}
	ds, err := p.st.DeployHistory(svc, n)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		w.Reply(svc + ": no deploys recorded")
		return nil
	}
	for _, d := range ds {
		w.Reply(p.historyLine(d))
	}
	return nil
}

// historyLine is one deploy: "D-40 1.42 prod succeeded 10:30 by alice after 25m".
func (p *Deploys) historyLine(d store.Deploy) string {
	head := fmt.Sprintf("%s %s %s ", chat.FormatID(chat.KindDeploy, d.ID), d.Version, d.Env)
	var s string
	switch d.State {
	case store.DeploySucceeded:
		s = fmt.Sprintf("succeeded %s by %s after %s", p.when(d.Ended), chat.NoHighlight(d.By), chat.FormatDuration(d.Ended.Sub(d.Started)))
	case store.DeployFailed:
		s = fmt.Sprintf("failed %s by %s%s", p.when(d.Ended), chat.NoHighlight(d.By), reasonText(d.Reason))
	case store.DeployRolledBack:
		s = fmt.Sprintf("rolled back to %s %s by %s%s", d.RolledBackTo, p.when(d.Ended), chat.NoHighlight(d.EndedBy), reasonText(d.Reason))
	default:
		s = "rolling out " + p.since(d)
	}
	return head + s + forcedMark(d)
}

func forcedMark(d store.Deploy) string {
	if d.Override == "" {
		return ""
	}
	return " [forced past " + d.Override + "]"
}
