package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Family offers !deploy, POST /hooks/deploy (signed, so open without the API token) and the deploys API.
// Any logged-in developer may record rollouts (the people who deploy are developers); ops lock and unlock,
// and only ops may --force a start past a lock or a freeze.
func (p *Deploys) Family() Family {
	env := Flag{Name: "env", Value: true}
	rollbackHelp := "Rolls back the rollout in progress (else the newest deploy) and locks the service."
	if p.cfg.NoLockOnRollback {
		rollbackHelp = "Rolls back the rollout in progress (else the newest deploy)."
	}
	return Family{Name: "deploys", Commands: []*Command{
		{Name: "deploy start", Args: "<service> <version> [--env prod] [--percent N | --sites a,b] [--force]",
			Help: "Records the start of a rollout; refused while locked or frozen unless ops add --force.",
			Role: RoleDeveloper, Write: true, MinArgs: 2, MaxArgs: 2, Run: p.chatStart,
			Flags: []Flag{env, {Name: "percent", Value: true}, {Name: "sites", Value: true}, {Name: "force"}}},
		{Name: "deploy progress", Args: "<service|D-n> <percent|sites> [--env E]",
			Help: "Records how far a rollout has gone: a percentage, or sites (they add up).",
			Role: RoleDeveloper, Write: true, MinArgs: 2, MaxArgs: 2, Flags: []Flag{env}, Run: p.chatProgress},
		{Name: "deploy done", Args: "<service|D-n> [--env E]", Help: "Records the rollout as succeeded; its version becomes current.",
			Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: 1, Flags: []Flag{env}, Run: p.chatFinish(store.DeploySucceeded)},
		{Name: "deploy fail", Args: "<service|D-n> [reason] [--env E]", Help: "Records the rollout as failed; the environment keeps its version.",
			Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: -1, Flags: []Flag{env}, Run: p.chatFinish(store.DeployFailed)},
		{Name: "deploy rollback", Args: "<service|D-n> [to-version] [reason] [--env E]", Help: rollbackHelp,
			Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: -1, Flags: []Flag{env}, Run: p.chatRollback},
		{Name: "deploy status", Args: "[service]", Help: "Shows versions per environment, rollouts in progress, locks and freezes.",
			Role: RoleAnyone, MaxArgs: 1, Run: p.chatStatus, Page: "/deploys"},
		{Name: "deploy history", Args: "<service> [n]", Help: "Lists the newest deploys of a service (default 5).",
			Role: RoleAnyone, MinArgs: 1, MaxArgs: 2, Run: p.chatHistory, Page: "/deploys"},
		{Name: "deploy lock", Args: "<service|all> <reason>", Help: "Stops new rollouts of a service, or of all services.",
			Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: -1, Run: p.chatLock},
		{Name: "deploy unlock", Args: "<service|all>", Help: "Lifts a deploy lock.",
			Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Run: p.chatUnlock},
	}, Routes: []Route{
		{Pattern: "POST /hooks/deploy", Handler: http.HandlerFunc(p.webhook), Open: true},
		{Pattern: "GET /api/v1/deploys", Handler: http.HandlerFunc(p.apiOverview)},
		{Pattern: "GET /api/v1/deploys/{service}/gate", Handler: http.HandlerFunc(p.apiGate)},
		{Pattern: "GET /api/v1/deploys/{service}/history", Handler: http.HandlerFunc(p.apiHistory)},
	}}
}

// chatEvent starts an event for c's service (first argument) and --env flag. After a start, the first
// argument may also be the rollout's id as the bot announced it (D-40): the event is then for that
// rollout's service and environment, provided it is the one the event would act on.
func (p *Deploys) chatEvent(c *Call, status store.DeployState, lockAll bool) (store.DeployEvent, error) {
	svc, err := p.Service(c.Args[0], lockAll)
	var byID *store.Deploy
	// "D-40" or "d-40" is a deploy id, unless the catalogue has a service of that name.
	if status != store.DeployStarted && deployIDRe.MatchString(c.Args[0]) && (err != nil || !p.cataloged(svc)) {
		d, derr := p.deployArg(c, status)
		if derr != nil {
			return store.DeployEvent{}, derr
		}
		byID, svc, err = &d, d.Service, nil
	}
	if err != nil {
		return store.DeployEvent{}, userErr(err)
	}
	ev := store.DeployEvent{Status: status, Service: svc, By: c.Caller.Who(), Source: "chat"}
	if v, ok := c.Flag("env"); ok {
		ev.Env = strings.ToLower(v)
		if err := checkEnv(ev.Env); err != nil {
			return ev, userErr(err)
		}
	}
	if byID != nil {
		if ev.Env != "" && ev.Env != byID.Env {
			return ev, Errorf("error: %s is in %s, not %s", chat.FormatID(chat.KindDeploy, byID.ID), byID.Env, ev.Env)
		}
		ev.Env = byID.Env
		if status == store.DeployRolledBack {
			ev.Version = byID.Version // the store refuses if it is not the rollout a rollback acts on
		}
	}
	return ev, nil
}

// deployIDRe is a deploy id as the bot writes it (D-40), in either case.
var deployIDRe = regexp.MustCompile(`^[dD]-[0-9]{1,19}$`)

// cataloged reports whether the catalogue has a service of that name.
func (p *Deploys) cataloged(name string) bool {
	if p.links.Catalog == nil {
		return false
	}
	_, err := p.links.Catalog.ServiceOwner(name)
	return err == nil
}

// deployArg reads a D-n argument given where a service is expected. The rollout must be the one the event
// acts on: in progress, or for a rollback also the current version of its environment.
func (p *Deploys) deployArg(c *Call, status store.DeployState) (store.Deploy, error) {
	id, err := parseID(chat.KindDeploy, c.Args[0])
	if err != nil {
		return store.Deploy{}, err
	}
	d, err := p.st.GetDeploy(id)
	if errors.Is(err, store.ErrNotFound) {
		return d, Errorf("error: no deploy %s", chat.FormatID(chat.KindDeploy, id))
	}
	if err != nil {
		return d, err
	}
	if d.State.Active() {
		return d, nil
	}
	if status == store.DeployRolledBack {
		st, err := p.st.DeployStatusOf(d.Service)
		if err != nil {
			return d, err
		}
		for _, a := range st.Active {
			if a.Env == d.Env { // a rollback acts on the rollout in progress: that one, not the one named
				return d, Errorf("error: %s %s %s is rolling out in %s: a rollback would act on it, not on %s (%sdeploy rollback %s)",
					chat.FormatID(chat.KindDeploy, a.ID), a.Service, a.Version, a.Env, chat.FormatID(chat.KindDeploy, d.ID), c.Prefix, chat.FormatID(chat.KindDeploy, a.ID))
			}
		}
		for _, cur := range st.Current {
			if cur.Env == d.Env && cur.DeployID == d.ID {
				return d, nil
			}
		}
	}
	return d, Errorf("error: %s (%s %s in %s) is no longer in progress: it %s; for the service's current rollout: %s%s %s",
		chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.Env, strings.ReplaceAll(string(d.State), "_", " "), c.Prefix, c.Cmd.Name, d.Service)
}

func (p *Deploys) chatStart(_ context.Context, c *Call, w Replier) error {
	ev, err := p.chatEvent(c, store.DeployStarted, false)
	if err != nil {
		return err
	}
	if ev.Env == "" {
		ev.Env = store.DefaultEnv
	}
	ev.Version = c.Args[1]
	if err := checkVersion(ev.Version); err != nil {
		return userErr(err)
	}
	pct, hasPct := c.Flag("percent")
	sites, hasSites := c.Flag("sites")
	switch {
	case hasPct && hasSites:
		return c.Usage()
	case hasPct:
		if ev.Percent, err = parsePercent(pct); err != nil {
			return userErr(err)
		}
	case hasSites:
		if ev.Sites, err = parseSites(sites); err != nil {
			return userErr(err)
		}
	}
	if ev.Force = c.Bool("force"); ev.Force && c.Role < RoleOps {
		return Errorf("error: --force needs the ops role (you are %s)", article(c.Role))
	}
	return p.reply(ev, c, w)
}

func (p *Deploys) chatProgress(_ context.Context, c *Call, w Replier) error {
	ev, err := p.chatEvent(c, store.DeployProgress, false)
	if err != nil {
		return err
	}
	if _, perr := strconv.Atoi(strings.TrimSuffix(c.Args[1], "%")); perr == nil {
		ev.Percent, err = parsePercent(c.Args[1])
	} else {
		ev.Sites, err = parseSites(c.Args[1])
	}
	if err != nil {
		return userErr(err)
	}
	return p.reply(ev, c, w)
}

func (p *Deploys) chatFinish(status store.DeployState) Handler {
	return func(_ context.Context, c *Call, w Replier) error {
		ev, err := p.chatEvent(c, status, false)
		if err != nil {
			return err
		}
		ev.Reason = chat.Truncate(c.Rest(1), 200)
		return p.reply(ev, c, w)
	}
}

func (p *Deploys) chatRollback(_ context.Context, c *Call, w Replier) error {
	ev, err := p.chatEvent(c, store.DeployRolledBack, false)
	if err != nil {
		return err
	}
	reasonFrom := 1
	if len(c.Args) > 1 && looksLikeVersion(c.Args[1]) {
		ev.ToVersion, reasonFrom = c.Args[1], 2
	}
	ev.Reason = chat.Truncate(c.Rest(reasonFrom), 200)
	ev.Force = c.Role >= RoleOps // ops may roll back to any version; a developer only to one that ran there
	return p.reply(ev, c, w)
}

func (p *Deploys) reply(ev store.DeployEvent, c *Call, w Replier) error {
	text, _, err := p.Apply(ev, c.Channel)
	if err != nil {
		return err
	}
	w.Reply(text)
	return nil
}

// looksLikeVersion tells a rollback's to-version from the first word of its reason: a version has a digit.
func looksLikeVersion(s string) bool {
	return deployVersionRe.MatchString(s) && strings.ContainsAny(s, "0123456789")
}

func parsePercent(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n < 1 || n > 100 {
		return 0, Invalid(fmt.Sprintf("%q is not a percentage from 1 to 100", chat.Truncate(s, 20)))
	}
	return n, nil
}

func parseSites(s string) ([]string, error) {
	var sites []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			sites = append(sites, x)
		}
	}
	return sites, checkSites(sites)
}

func (p *Deploys) chatLock(_ context.Context, c *Call, w Replier) error {
	svc, err := p.Service(c.Args[0], true)
	if err != nil {
		return userErr(err)
	}
	if strings.TrimSpace(c.Rest(1)) == "" { // `!deploy lock playlist ""`: a lock must say why
		return c.Usage()
	}
	l, prev, err := p.st.LockDeploys(svc, chat.Truncate(c.Rest(1), 200), c.Caller.Who())
	if err != nil {
		return err
	}
	what := svc
	if svc == store.LockAll {
		what = "all deploys"
	}
	text := fmt.Sprintf("%s locked by %s: %s", what, chat.NoHighlight(l.By), l.Reason)
	if prev != nil {
		text += fmt.Sprintf(" (replaces the lock by %s: %s)", chat.NoHighlight(prev.By), prev.Reason)
	}
	if err := p.announce(c.Channel, text, false); err != nil {
		return err
	}
	w.Reply(text)
	return nil
}

func (p *Deploys) chatUnlock(_ context.Context, c *Call, w Replier) error {
	svc, err := p.Service(c.Args[0], true)
	if err != nil {
		return userErr(err)
	}
	l, err := p.st.UnlockDeploys(svc)
	if errors.Is(err, store.ErrNotFound) {
		msg := fmt.Sprintf("error: %s is not locked", svc)
		if svc == store.LockAll {
			msg = "error: there is no lock on all deploys"
		} else if locks, lerr := p.st.DeployLocksFor(svc); lerr == nil && len(locks) > 0 {
			msg += fmt.Sprintf(" itself, but all deploys are (%sdeploy unlock all)", c.Prefix)
		}
		return Errorf("%s", msg)
	}
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s unlocked (was %s)", svc, p.lockedBy(l))
	if svc == store.LockAll {
		text = fmt.Sprintf("all deploys unlocked (was %s)", p.lockedBy(l))
		if _, locks, err := p.st.DeployOverview(); err == nil && len(locks) > 0 {
			var names []string
			for _, x := range locks {
				names = append(names, x.Service)
			}
			text += "; still locked: " + strings.Join(names, ", ")
		}
	}
	if err := p.announce(c.Channel, text, false); err != nil {
		return err
	}
	w.Reply(text)
	return nil
}
