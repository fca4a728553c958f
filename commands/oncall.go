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
	return []*Command{
		{
			Name: "oncall", Help: "Shows who is on call now, until when, who is next, and any override.",
			Role: RoleAnyone, MaxArgs: 0, Run: p.show, Page: "/oncall",
		},
		{
			Name: "oncall take", Args: "[duration]", Role: RoleOps, Write: true, MaxArgs: 1, Run: p.take,
			Help: fmt.Sprintf("Puts you on call from now for the duration (default 1h, at most oncall.max_override = %s).", chat.FormatDuration(p.cfg.MaxOverride)),
		},
		{
			Name: "oncall override", Args: "<account> <duration>", Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Run: p.override,
			Help: fmt.Sprintf("Puts someone else on call from now for the duration (at most %s).", chat.FormatDuration(p.cfg.MaxOverride)),
		},
		{
			Name: "oncall clear", Help: "Ends the override in force; the rotation applies again.",
			Role: RoleOps, Write: true, MaxArgs: 0, Run: p.clear,
		},
	}
}

// show answers !oncall in one line.
func (p *Paging) show(_ context.Context, _ *Call, w Replier) error {
	now := p.rt.Now()
	st, err := p.st.OnCallNow(p.cfg.Rotation, now)
	if err != nil {
		return err
	}
	if st.Account == "" {
		w.Reply(fmt.Sprintf("nobody is on call (oncall.rotation is empty); ops can %soncall take [duration]", p.rt.Prefix))
		return nil
	}
	w.Reply(p.stateLine(st, now, chat.NoHighlight(st.Account), "") + p.rt.Link("/oncall"))
	return nil
}

// stateLine is "on call: alice until Mon 10:00 CET (in 4d2h), next: carol", with the override if any; who is
// the on-call person as it should appear, note is added to the parenthesis.
func (p *Paging) stateLine(st store.OnCallState, now time.Time, who, note string) string {
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
	line := fmt.Sprintf("on call: %s until %s (%s)", who, when(st.Until, now, p.rt.Location), strings.Join(paren, ", "))
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
	if err != nil || d <= 0 {
		return 0, Errorf("error: bad duration %q (use 90s, 15m, 2h, 3d, 1w)", chat.Truncate(arg, 40))
	}
	if d > p.cfg.MaxOverride {
		return 0, Errorf("error: %s is longer than oncall.max_override (%s)", chat.FormatDuration(d), chat.FormatDuration(p.cfg.MaxOverride))
	}
	return d, nil
}

func (p *Paging) take(_ context.Context, c *Call, w Replier) error {
	d := time.Hour
	if len(c.Args) == 1 {
		var err error
		if d, err = p.overrideFor(c.Args[0]); err != nil {
			return err
		}
	} else {
		d = min(d, p.cfg.MaxOverride)
	}
	return p.putOnCall(c, w, c.Caller.Account, d)
}

func (p *Paging) override(_ context.Context, c *Call, w Replier) error {
	account := strings.ToLower(c.Args[0])
	if !accountPattern.MatchString(account) {
		return Errorf("error: %q is not an account name", chat.Truncate(c.Args[0], 40))
	}
	d, err := p.overrideFor(c.Args[1])
	if err != nil {
		return err
	}
	return p.putOnCall(c, w, account, d)
}

func (p *Paging) putOnCall(c *Call, w Replier, account string, d time.Duration) error {
	now := p.rt.Now()
	_, st, err := p.st.AddOverride(p.cfg.Rotation, store.Override{Account: account, By: c.Caller.Account, Start: now, End: now.Add(d)})
	if err != nil {
		return err
	}
	w.Reply(p.stateLine(st, now, account, ""))
	if !p.rt.Roles.Same(account, c.Caller.Account) {
		msg := fmt.Sprintf("you are on call until %s (override by %s)", when(st.Until, now, p.rt.Location), chat.NoHighlight(c.Caller.Account))
		if err := p.rt.Announce.Tell(account, msg, false); err != nil {
			return fmt.Errorf("oncall: notify %s: %w", account, err)
		}
	}
	return nil
}

func (p *Paging) clear(_ context.Context, c *Call, w Replier) error {
	now := p.rt.Now()
	o, st, err := p.st.ClearOverride(p.cfg.Rotation, now)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf("error: no override is in force")
	}
	if err != nil {
		return err
	}
	note := fmt.Sprintf("override of %s cleared by %s", chat.NoHighlight(o.Account), chat.NoHighlight(c.Caller.Account))
	if st.Account == "" {
		w.Reply("nobody is on call now (" + note + ")")
		return nil
	}
	w.Reply(p.stateLine(st, now, st.Account, note))
	return nil
}

// handoff is the job that announces each change of who is on call (a new shift, or an override ending) once.
// The change is recorded only once its announcement is queued, so a failed outbox write is tried again.
func (p *Paging) handoff(_ context.Context, now time.Time) error {
	_, _, _, err := p.st.Handoff(p.cfg.Rotation, now, func(prev string, cur store.OnCallState) error {
		var line string
		switch {
		case cur.Account == "":
			line = fmt.Sprintf("on call: nobody from now (after %s); ops can %soncall take", chat.NoHighlight(prev), p.rt.Prefix)
		case prev == "":
			line = p.stateLine(cur, now, cur.Account, "")
		default:
			line = p.stateLine(cur, now, cur.Account+" takes over from "+chat.NoHighlight(prev), "")
		}
		return p.rt.Announce.Announce("", line, false)
	})
	return err
}
