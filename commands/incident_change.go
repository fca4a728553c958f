package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

func (x *Incidents) update(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	text := c.Rest(1)
	if err := checkLength("update", text, maxNoteText, true); err != nil {
		return err
	}
	note, public := x.log.NoteIncident, c.Bool("public")
	if public {
		note = x.log.NotePublicIncident
	}
	inc, err := note(id, c.Caller.Who(), text)
	if err != nil {
		return incidentError(err, id)
	}
	if public {
		w.Reply(fmt.Sprintf("%s updated (public, shown on the status page): %s", inc.Name(), text))
		return nil
	}
	w.Reply(fmt.Sprintf("%s updated: %s", inc.Name(), text))
	return nil
}

func (x *Incidents) status(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	st := strings.ToLower(c.Args[1])
	if st != store.IncidentInvestigating && st != store.IncidentIdentified && st != store.IncidentMonitoring {
		return Errorf("error: status must be investigating, identified or monitoring (to resolve: %sincident resolve %s)",
			c.Prefix, chat.FormatID(chat.KindIncident, id))
	}
	ch, err := x.log.SetIncidentStatus(id, c.Caller.Who(), st)
	if err != nil {
		return incidentError(err, id)
	}
	w.Reply(fmt.Sprintf("%s status: %s (was %s)", ch.After.Name(), st, ch.Before.Status))
	return nil
}

func (x *Incidents) severity(ctx context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	sev, err := parseSeverity(c.Args[1])
	if err != nil {
		return err
	}
	ch, err := x.log.SetIncidentSeverity(id, c.Caller.Who(), sev, x.freezes(sev))
	if err != nil {
		return incidentError(err, id)
	}
	line := fmt.Sprintf("%s is now SEV%d (was SEV%d)", ch.After.Name(), sev, ch.Before.Severity)
	if ch.After.Open() {
		line += freezeNote(ch)
	}
	return x.finish(ctx, c, w, ch.After, line, ch.After.Open() && min(sev, ch.Before.Severity) <= 2)
}

// freezeNote says how a change moved the incident's deploy freeze.
func freezeNote(ch store.IncidentChange) string {
	svcs := strings.Join(ch.After.Services(), ", ")
	switch {
	case ch.After.Freeze && (!ch.Before.Freeze || !ch.Before.Open()):
		return ". Deploys of " + svcs + " frozen while open"
	case ch.After.Freeze && len(ch.After.Affects) > len(ch.Before.Affects):
		return ". Deploys of " + ch.After.Affects[len(ch.After.Affects)-1] + " frozen while open"
	case ch.Before.Freeze && ch.Before.Open() && (!ch.After.Freeze || !ch.After.Open()):
		return fmt.Sprintf(". %s no longer freezes deploys of %s", ch.After.Name(), svcs)
	}
	return ""
}

func (x *Incidents) commander(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	account := strings.ToLower(strings.TrimPrefix(c.Args[1], "@"))
	if !accountNameRE.MatchString(account) {
		return Errorf("error: %q is not an account name", chat.Truncate(c.Args[1], 40))
	}
	ch, err := x.log.SetIncidentCommander(id, c.Caller.Who(), account)
	if err != nil {
		return incidentError(err, id)
	}
	who := account // the new commander must act: highlighted, unless they gave it to themselves
	if account == c.Caller.Who() {
		who = chat.NoHighlight(account)
	}
	w.Reply(fmt.Sprintf("%s commander: %s (was %s)", ch.After.Name(), who, chat.NoHighlight(ch.Before.Commander)))
	return nil
}

func (x *Incidents) affects(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	service, err := x.service(c.Args[1])
	if err != nil {
		return err
	}
	ch, err := x.log.AddIncidentService(id, c.Caller.Who(), service)
	if err != nil {
		return incidentError(err, id)
	}
	line := fmt.Sprintf("%s now affects %s", ch.After.Name(), strings.Join(ch.After.Services(), ", "))
	if ch.After.Open() {
		line += freezeNote(ch)
	}
	w.Reply(line)
	return nil
}

func (x *Incidents) resolve(ctx context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	text := c.Rest(1)
	if err := checkLength("text", text, maxNoteText, false); err != nil {
		return err
	}
	now := x.rt.Now()
	var at time.Time
	if v, ok := c.Flag("at"); ok {
		if at, err = x.when(v, now); err != nil {
			return err
		}
	}
	ch, err := x.log.ResolveIncident(id, c.Caller.Who(), text, at)
	if err != nil {
		return incidentError(err, id)
	}
	inc := ch.After
	line := fmt.Sprintf("%s resolved by %s after %s (SEV%d on %s)", inc.Name(), chat.NoHighlight(c.Caller.Who()),
		chat.FormatDuration(inc.Duration(now)), inc.Severity, strings.Join(inc.Services(), ", "))
	if text != "" {
		line += ": " + text
	}
	line += freezeNote(ch)
	return x.finish(ctx, c, w, inc, line, true)
}

func (x *Incidents) reopen(ctx context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindIncident, c.Args[0])
	if err != nil {
		return err
	}
	ch, err := x.log.ReopenIncident(id, c.Caller.Who())
	if err != nil {
		return incidentError(err, id)
	}
	inc := ch.After
	line := fmt.Sprintf("%s reopened by %s: SEV%d on %s, investigating, impact since %s", inc.Name(), chat.NoHighlight(c.Caller.Who()),
		inc.Severity, strings.Join(inc.Services(), ", "), x.clock(inc.Start, x.rt.Now()))
	line += freezeNote(ch)
	return x.finish(ctx, c, w, inc, line, true)
}
