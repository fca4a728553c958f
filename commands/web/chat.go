package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
)

// commands are !web, !web logout and !oncall ical.
func (x *Web) commands() []*commands.Command {
	return []*commands.Command{
		{Name: "web", Help: fmt.Sprintf("Sends you (in private) a link that logs your browser in to the web pages for %s; it works once, within %s.",
			chat.FormatDuration(x.cfg.SessionTTL), chat.FormatDuration(LoginTTL)),
			Role: commands.RoleDeveloper, Write: true, MaxArgs: 0, Run: x.loginLink},
		{Name: "web logout", Help: "Logs every browser of yours out of the web pages, and ends the login links you have not used.",
			Role: commands.RoleDeveloper, Write: true, MaxArgs: 0, Run: x.logout},
		{Name: "oncall ical", Args: "[reset]", Help: "Sends you (in private) the on-call calendar feed's URL for calendar apps; reset replaces its token.",
			Role: commands.RoleDeveloper, Write: true, MaxArgs: 1, Run: x.icalLink},
	}
}

// privateOnly refuses a secret link asked for in a channel, where everyone would read it.
func (x *Web) privateOnly(c *commands.Call, what string) error {
	if c.Private() {
		return nil
	}
	return commands.Errorf("error: %s is a secret: ask in private (/msg %s %s)", what, x.cfg.Nick, c.Cmd.Name)
}

// loginLink answers !web with a one-time login link.
func (x *Web) loginLink(_ context.Context, c *commands.Call, w commands.Replier) error {
	if err := x.privateOnly(c, "a login link"); err != nil {
		return err
	}
	base := x.baseURL()
	if base == "" {
		return errNoLinks()
	}
	token := newSecret()
	now := x.rt.Now()
	if err := x.st.AddWebLogin(token, c.Caller.Account, now.Add(LoginTTL)); err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s/login/%s (logs your browser in as %s for %s; valid once, until %s; %sweb logout ends every login)",
		base, token, c.Caller.Account, chat.FormatDuration(x.cfg.SessionTTL), now.Add(LoginTTL).In(x.zone()).Format("15:04 MST"), c.Prefix))
	return nil
}

// logout answers !web logout: every session of the caller ends, and so does every login link not yet used.
func (x *Web) logout(_ context.Context, c *commands.Call, w commands.Replier) error {
	n, links, err := x.st.EndWebSessions(c.Caller.Account)
	if err != nil {
		return err
	}
	msg := "you were not logged in to the web pages in any browser"
	switch {
	case n == 1:
		msg = "logged out of the web pages (1 browser)"
	case n > 1:
		msg = fmt.Sprintf("logged out of the web pages (%d browsers)", n)
	}
	switch {
	case links == 1:
		msg += "; your unused login link no longer works"
	case links > 1:
		msg += fmt.Sprintf("; your %d unused login links no longer work", links)
	}
	w.Reply(msg)
	return nil
}

// icalLink answers !oncall ical [reset] with the feed's URLs: the caller's own shifts, and the whole
// rotation. The token is the same every time until reset replaces it.
func (x *Web) icalLink(_ context.Context, c *commands.Call, w commands.Replier) error {
	reset := false
	if len(c.Args) == 1 {
		if c.Args[0] != "reset" {
			return c.Usage()
		}
		reset = true
	}
	if err := x.privateOnly(c, "a calendar feed URL"); err != nil {
		return err
	}
	base := x.baseURL()
	if base == "" {
		return errNoLinks()
	}
	now := x.rt.Now()
	get := x.st.ICalTokenOf
	if reset {
		get = x.st.ResetICalToken
	}
	tok, err := get(c.Caller.Account, newSecret(), now)
	if err != nil {
		return err
	}
	q := url.Values{"account": {c.Caller.Account}, "token": {tok.Token}}
	all := url.Values{"token": {tok.Token}}
	whole := "the whole rotation"
	var scheds []string
	if x.links.OnCall != nil {
		scheds = x.links.OnCall.ScheduleNames()
	}
	if len(scheds) > 1 {
		whole = "every schedule"
	}
	lines := []string{
		fmt.Sprintf("your on-call shifts: %s/oncall.ics?%s", base, q.Encode()),
		fmt.Sprintf("%s: %s/oncall.ics?%s", whole, base, all.Encode()),
	}
	if len(scheds) > 1 {
		lines = append(lines, fmt.Sprintf("one schedule only: add &schedule=%s to either (schedules: %s)", scheds[1], strings.Join(scheds, ", ")))
	}
	note := fmt.Sprintf("add either to your calendar app (%d weeks ahead, refreshed hourly); anyone with the link reads the schedule: %soncall ical reset replaces it", FeedWeeks, c.Prefix)
	if reset {
		note = "the old feed URLs no longer work; " + note
	}
	w.Reply(append(lines, note)...)
	return nil
}
