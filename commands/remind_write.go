package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// The reminders family's write commands (ops): add, remove, skip, run.

func (f *Reminders) add(_ context.Context, c *Call, w Replier) error {
	st, err := f.store()
	if err != nil {
		return err
	}
	name, spec, text := strings.ToLower(c.Args[0]), c.Args[1], c.Rest(2)
	if !ReminderName.MatchString(name) {
		return Errorf("error: reminder name %q: lowercase letters, digits, . _ -, at most 32", chat.Truncate(name, 40))
	}
	sc, err := parseSchedule(spec, f.rt.Location)
	if err != nil {
		return Errorf("error: schedule %q: %v (like \"0 15 * * FRI\" or \"CRON_TZ=Europe/Stockholm 45 9 * * MON\")", chat.Truncate(spec, 80), err)
	}
	now := f.rt.Now()
	switch gap := sc.minGap(now, 50); {
	case gap < 0 && len(sc.upcoming(sc.occurrence(now), now, 1)) == 0:
		return Errorf("error: schedule %q never fires", spec)
	case gap >= 0 && gap < time.Hour:
		return Errorf("error: schedule %q fires every %s; chat reminders fire at most once an hour", spec, chat.FormatDuration(gap))
	}
	if strings.TrimSpace(text) == "" { // as check-config refuses a [[reminders]] without text
		return Errorf("error: the reminder text is empty")
	}
	if len(text) > maxReminderText {
		return Errorf("error: text is %d bytes, at most %d", len(text), maxReminderText)
	}
	agenda, _ := c.Flag("agenda")
	agenda = strings.ToLower(agenda)
	if _, ok := agendaFamilies[agenda]; agenda != "" && !ok {
		return Errorf("error: agenda %q: want retro, planning or scalability", agenda)
	}
	channel, err := f.channelFor(c)
	if err != nil {
		return err
	}
	r, err := st.ReminderAdd(store.Reminder{Name: name, Schedule: strings.TrimSpace(spec), Channel: channel, Text: text,
		Agenda: agenda, By: c.Caller.Who(), Created: now.UTC()})
	if errors.Is(err, store.ErrExists) {
		return Errorf("error: reminder %s exists (%sremind remove %s first)", name, f.rt.Prefix, name)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s added: %q (%s) to %s", r.Name, r.Schedule, sc.zone(), r.Channel)
	if r.Agenda != "" {
		msg += ", agenda " + r.Agenda
	}
	if next := sc.upcoming(sc.reference(r), now, 1); len(next) > 0 {
		msg += "; next " + f.when(next[0], sc)
	}
	w.Reply(msg)
	return nil
}

// channelFor is --channel, else the channel the command was said in, else the default channel; reminders
// post only to configured channels (the bot is in no other).
func (f *Reminders) channelFor(c *Call) (string, error) {
	if ch, given := c.Flag("channel"); given {
		if k, ok := f.knownChannel(ch); ok {
			return k, nil
		}
		return "", Errorf("error: channel %q: reminders post only to the bot's channels (%s)", chat.Truncate(ch, 50), strings.Join(f.channels(), ", "))
	}
	if k, ok := f.knownChannel(c.Channel); ok {
		return k, nil
	}
	if f.rt.Channel == "" {
		return "", Errorf("error: no channel: give --channel")
	}
	return f.rt.Channel, nil
}

// channels are the bot's channels, the only ones a reminder can post to.
func (f *Reminders) channels() []string {
	if len(f.rt.Channels) == 0 && f.rt.Channel != "" {
		return []string{f.rt.Channel}
	}
	return f.rt.Channels
}

// postable reports whether the bot can post to ch (any channel when it has no list of channels).
func (f *Reminders) postable(ch string) bool {
	_, ok := f.knownChannel(ch)
	return ok || len(f.channels()) == 0
}

// knownChannel finds ch among the bot's channels (casefolded) and returns it as configured.
func (f *Reminders) knownChannel(ch string) (string, bool) {
	known := f.channels()
	i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, ch) })
	if i < 0 {
		return "", false
	}
	return known[i], true
}

func (f *Reminders) remove(_ context.Context, c *Call, w Replier) error {
	r, err := f.find(c.Args[0])
	if err != nil {
		return err
	}
	if r.Source == store.ReminderConfig {
		return Errorf("error: reminder %s comes from the config file; remove it there and restart", r.Name)
	}
	if _, err := f.st.ReminderRemove(r.Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Errorf("error: no reminder %s", r.Name)
		}
		return err
	}
	w.Reply(r.Name + " removed")
	return nil
}

func (f *Reminders) skip(_ context.Context, c *Call, w Replier) error {
	r, sc, err := f.lookup(c.Args[0])
	if err != nil {
		return err
	}
	now := f.rt.Now()
	ups := sc.upcoming(sc.reference(r), now, 2)
	after := func(i int) string {
		if i < len(ups) {
			return "; next post " + f.when(ups[i], sc)
		}
		return "; no later occurrence"
	}
	if c.Bool("undo") {
		if r.Skip == nil {
			return Errorf("error: reminder %s has no skip pending", r.Name)
		}
		if _, err := f.st.ReminderSetSkip(r.Name, nil); err != nil {
			return err
		}
		w.Reply(r.Name + ": skip undone" + after(0))
		return nil
	}
	if len(ups) == 0 {
		return Errorf("error: reminder %s has no upcoming occurrence", r.Name)
	}
	skipped := f.when(ups[0], sc)
	if r.Skip != nil && r.Skip.At.Equal(ups[0]) {
		w.Reply(fmt.Sprintf("%s: already skipping %s%s", r.Name, skipped, after(1)))
		return nil
	}
	occ := sc.occurrence(ups[0])
	if _, err := f.st.ReminderSetSkip(r.Name, &occ); err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s: skipping %s%s", r.Name, skipped, after(1)))
	return nil
}

func (f *Reminders) run(_ context.Context, c *Call, w Replier) error {
	r, sc, err := f.lookup(c.Args[0])
	if err != nil {
		return err
	}
	if _, err := f.post(r, sc, f.rt.Now(), nil); err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s posted to %s", r.Name, r.Channel))
	return nil
}

// post announces the reminder with its compact agenda in its channel, durably (through the outbox). It
// returns how many lines were stored before an error.
func (f *Reminders) post(r store.Reminder, sc schedule, now time.Time, due *time.Time) (int, error) {
	if !f.postable(r.Channel) {
		// The bot is not in that channel (irc.channels changed since): the lines would wait forever.
		return 0, Errorf("error: reminder %s posts to %s, which is not one of the bot's channels (%s)", r.Name, r.Channel, strings.Join(f.channels(), ", "))
	}
	lines := f.channelMessage(r, sc, now, due)
	for i, l := range lines {
		if err := f.rt.Announce.Announce(r.Channel, l, false); err != nil {
			return i, err
		}
	}
	return len(lines), nil
}
