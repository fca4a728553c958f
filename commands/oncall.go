package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// accountPattern is what a services account name may look like (as in the config's validation).
var accountPattern = regexp.MustCompile(`^[^\s,*?!@#:]{1,64}$`)

func (p *Paging) onCallCommands() []*Command {
	sched := []Flag{{Name: "schedule", Value: true}}
	return []*Command{
		{
			Name: "oncall", Args: "[schedule]", Role: RoleAnyone, MaxArgs: 1, Run: p.show, Page: "/oncall",
			Help: "Shows who is on call now, until when, who is next, and any override (every schedule, or the one named).",
		},
		{
			Name: "oncall take", Args: "[duration] [--schedule S]", Role: RoleOps, Write: true, MaxArgs: 1, Flags: sched, Run: p.take,
			Help: fmt.Sprintf("Puts you on call from now for the duration (default 1h, at most oncall.max_override = %s).", chat.FormatDuration(p.cfg.MaxOverride)),
		},
		{
			Name: "oncall override", Args: "<account> <duration> [--schedule S]", Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Flags: sched, Run: p.override,
			Help: fmt.Sprintf("Puts someone else on call from now for the duration (at most %s).", chat.FormatDuration(p.cfg.MaxOverride)),
		},
		{
			Name: "oncall clear", Args: "[--schedule S]", Help: "Ends the override in force; the rotation applies again.",
			Role: RoleOps, Write: true, MaxArgs: 0, Flags: sched, Run: p.clear,
		},
	}
}

// show answers !oncall: one line per schedule, or for the schedule named, the last with the web page's link
// (when web.base_url is set).
func (p *Paging) show(_ context.Context, c *Call, w Replier) error {
	scheds, link := p.scheds, "/oncall"
	if len(c.Args) == 1 {
		s, err := p.scheduleArg(c.Args[0])
		if err != nil {
			return err
		}
		scheds = []Schedule{s}
		if scheduleLabel(s.Name()) != "" {
			link += "?schedule=" + s.Name()
		}
	}
	now := p.rt.Now()
	lines := make([]string, 0, len(scheds))
	for _, s := range scheds {
		st, err := p.st.OnCallNow(s.Rotation, now)
		if err != nil {
			return err
		}
		if st.Account == "" {
			lines = append(lines, p.nobodyLine(s.Name()))
			continue
		}
		lines = append(lines, p.stateLine(s.Name(), st, now, chat.NoHighlight(st.Account), ""))
	}
	lines[len(lines)-1] += p.rt.Link(link)
	w.Reply(lines...)
	return nil
}

// nobodyLine says that nobody is on call in a schedule and what ops can do.
func (p *Paging) nobodyLine(sched string) string {
	if scheduleLabel(sched) == "" {
		return fmt.Sprintf("nobody is on call (oncall.rotation is empty); ops can %soncall take [duration]", p.rt.Prefix)
	}
	return fmt.Sprintf("nobody is on call in %s (its rotation is empty); ops can %soncall take [duration] --schedule %s", sched, p.rt.Prefix, sched)
}

// stateLine is "on call: alice until Mon 10:00 CET (in 4d2h), next: carol" ("on call (db): ..." for another
// schedule than ops), with the override if any; who is the on-call person as it should appear, note is added
// to the parenthesis.
func (p *Paging) stateLine(sched string, st store.OnCallState, now time.Time, who, note string) string {
	return onCallLine(p.rt.Location, sched, st, now, who, note)
}

// onCallLine is stateLine with the time zone to show times in.
func onCallLine(loc *time.Location, sched string, st store.OnCallState, now time.Time, who, note string) string {
	paren := []string{"in " + chat.FormatDuration(st.Until.Sub(now).Round(time.Second))}
	if o := st.Override; o != nil {
		ov := "override by " + chat.NoHighlight(o.By)
		if st.Shift.Account != "" {
			ov += "; rotation: " + chat.NoHighlight(st.Shift.Account)
		}
		paren = append(paren, ov)
	}
	if note != "" {
		paren = append(paren, note)
	}
	line := fmt.Sprintf("on call%s: %s until %s (%s)", scheduleLabel(sched), who, when(st.Until, now, loc), strings.Join(paren, ", "))
	if st.Next != "" {
		line += ", next: " + chat.NoHighlight(st.Next)
	} else {
		line += ", then nobody"
	}
	return line
}

// overrideFor parses and caps an override duration.
func (p *Paging) overrideFor(arg string) (time.Duration, error) {
	d, err := chat.ParseDuration(arg)
	if err != nil || d < time.Second { // 1ms would be an override nobody could see
		return 0, Errorf("error: bad duration %q (use 90s, 15m, 2h, 3d, 1w)", chat.Truncate(arg, 40))
	}
	if d > p.cfg.MaxOverride {
		return 0, Errorf("error: %s is longer than oncall.max_override (%s)", chat.FormatDuration(d), chat.FormatDuration(p.cfg.MaxOverride))
	}
	return d, nil
}

// scheduleFlag is the schedule of --schedule (the default one without it).
func (p *Paging) scheduleFlag(c *Call) (Schedule, error) {
	name, _ := c.Flag("schedule")
	return p.scheduleArg(name)
}

func (p *Paging) take(_ context.Context, c *Call, w Replier) error {
	s, err := p.scheduleFlag(c)
	if err != nil {
		return err
	}
	d := time.Hour
	if len(c.Args) == 1 {
		if d, err = p.overrideFor(c.Args[0]); err != nil {
			return err
		}
	} else {
		d = min(d, p.cfg.MaxOverride)
	}
	return p.putOnCall(c, w, s, c.Caller.Account, d)
}

func (p *Paging) override(_ context.Context, c *Call, w Replier) error {
	s, err := p.scheduleFlag(c)
	if err != nil {
		return err
	}
	account := p.rt.Roles.Fold(c.Args[0]) // as every account is compared: the network's casemapping
	if !accountPattern.MatchString(account) {
		return Errorf("error: %q is not an account name", chat.Truncate(c.Args[0], 40))
	}
	d, err := p.overrideFor(c.Args[1])
	if err != nil {
		return err
	}
	return p.putOnCall(c, w, s, account, d)
}

func (p *Paging) putOnCall(c *Call, w Replier, s Schedule, account string, d time.Duration) error {
	now := p.rt.Now()
	_, st, err := p.st.AddOverride(s.Rotation, store.Override{Account: account, By: c.Caller.Account, Start: now, End: now.Add(d)})
	if err != nil {
		return err
	}
	w.Reply(p.stateLine(s.Name(), st, now, account, ""))
	if !p.rt.Roles.Same(account, c.Caller.Account) {
		msg := fmt.Sprintf("you are on call%s until %s (override by %s)", scheduleLabel(s.Name()), when(st.Until, now, p.rt.Location), chat.NoHighlight(c.Caller.Account))
		if err := p.rt.Announce.Tell(account, msg, false); err != nil {
			return fmt.Errorf("oncall: notify %s: %w", account, err)
		}
	}
	return nil
}

func (p *Paging) clear(_ context.Context, c *Call, w Replier) error {
	s, err := p.scheduleFlag(c)
	if err != nil {
		return err
	}
	now := p.rt.Now()
	o, st, err := p.st.ClearOverride(s.Rotation, now)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf("error: no override is in force%s", scheduleLabel(s.Name()))
	}
	if err != nil {
		return err
	}
	note := fmt.Sprintf("override of %s cleared by %s", chat.NoHighlight(o.Account), chat.NoHighlight(c.Caller.Account))
	if st.Account == "" {
		w.Reply(fmt.Sprintf("nobody is on call%s now (%s)", scheduleLabel(s.Name()), note))
		return nil
	}
	w.Reply(p.stateLine(s.Name(), st, now, st.Account, note))
	return nil
}
