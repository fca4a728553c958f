package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// ReminderStore is what the reminders family needs from the store (implemented by *store.Store).
type ReminderStore interface {
	ReminderSeed(cfg []store.Reminder, now time.Time) (store.SeedResult, error)
	ReminderAdd(r store.Reminder) (store.Reminder, error)
	ReminderRemove(name string) (store.Reminder, error)
	Reminder(name string) (store.Reminder, error)
	Reminders() ([]store.Reminder, error)
	ReminderSetSkip(name string, skip *store.Occurrence) (store.Reminder, error)
	ReminderAdvance(name string, from *store.Occurrence, to store.Occurrence, posted time.Time) (store.Reminder, error)
	ReminderUndoAdvance(name string, to store.Occurrence, before store.Reminder) error
}

// DefaultReminderGrace is how late a missed occurrence may still be posted when reminders grace is not set.
const DefaultReminderGrace = time.Hour

// ReminderName is the form of a reminder name: lowercase letters, digits, ".", "_", "-"; at most 32.
var ReminderName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// maxReminderText bounds a reminder's text so the headline fits one line.
const maxReminderText = 250

// ReminderConfig is [[reminders]] and reminder_settings in the config.
type ReminderConfig struct {
	// Seeds are the config's reminders, seeded into the store at start (see store.ReminderSeed for which
	// wins when config and chat both name a reminder).
	Seeds []store.Reminder
	// Grace is how late a missed occurrence may still be posted (0: DefaultReminderGrace).
	Grace time.Duration
}

// Reminders is the reminders family: recurring messages (the weekly meetings) with live agendas. All its
// state lives in the store.
type Reminders struct {
	rt      Runtime
	st      ReminderStore
	grace   time.Duration
	sources []AgendaSource

	mu       sync.Mutex
	badSpecs map[string]bool
}

// NewReminders builds the reminders family over the agenda sources (the other families' live data, in the
// order the meetings read it), and seeds the config's reminders into the store.
func NewReminders(rt Runtime, st ReminderStore, cfg ReminderConfig, agenda ...AgendaSource) (*Reminders, error) {
	f := &Reminders{rt: rt.withDefaults(), st: st, grace: cfg.Grace, sources: agenda, badSpecs: map[string]bool{}}
	if f.grace <= 0 {
		f.grace = DefaultReminderGrace
	}
	if err := f.seed(cfg.Seeds); err != nil {
		return nil, err
	}
	return f, nil
}

// Family offers !remind, the job that posts reminders when due, and GET /api/v1/reminders.
func (f *Reminders) Family() Family {
	return Family{Name: "reminders", Commands: f.commands(),
		Jobs: []Job{{Name: "reminders", Every: time.Second, Run: f.Tick}},
		Routes: []Route{
			{Pattern: "GET /api/v1/reminders", Handler: http.HandlerFunc(f.apiList)},
			{Pattern: "GET /api/v1/reminders/{name}/agenda", Handler: http.HandlerFunc(f.apiAgenda)},
		}}
}

// seed makes the store's config-owned reminders match [[reminders]] (see store.ReminderSeed for precedence).
func (f *Reminders) seed(seeds []store.Reminder) error {
	cfg := make([]store.Reminder, 0, len(seeds))
	for _, r := range seeds {
		if r.Channel == "" {
			r.Channel = f.rt.Channel
		}
		r.Text = chat.Sanitize(r.Text)
		cfg = append(cfg, r)
	}
	res, err := f.st.ReminderSeed(cfg, f.rt.Now())
	if err != nil {
		return fmt.Errorf("reminders: %w", err)
	}
	if len(res.Added)+len(res.Updated)+len(res.Removed)+len(res.TookOver) > 0 {
		f.rt.Log.Info("reminders from config", "added", res.Added, "updated", res.Updated, "removed", res.Removed)
	}
	if len(res.TookOver) > 0 {
		f.rt.Log.Warn("config reminders replaced chat-added reminders of the same name", "names", res.TookOver)
	}
	return nil
}

func (f *Reminders) commands() []*Command {
	name := func(args string) string { return "<name>" + args }
	return []*Command{
		{Name: "remind list", Help: "Lists the reminders: next occurrence, schedule, channel, agenda.", Role: RoleAnyone, Run: f.list},
		{Name: "remind next", Args: "[name]", Help: "Shows the upcoming occurrences with local times and time zones.", Role: RoleAnyone, MaxArgs: 1, Run: f.next},
		{Name: "remind show", Args: name(""), Help: "Renders a reminder with its full live agenda now, in private.", Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: f.show},
		{Name: "remind add", Args: name(` "<cron>" <text> [--agenda retro|planning|scalability] [--channel C]`),
			Help: "Adds a reminder (5-field cron, optionally CRON_TZ=Zone; at most hourly).", Role: RoleOps, Write: true,
			MinArgs: 3, MaxArgs: -1, Flags: []Flag{{Name: "agenda", Value: true}, {Name: "channel", Value: true}}, Run: f.add},
		{Name: "remind remove", Args: name(""), Help: "Removes a reminder added in chat.", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Run: f.remove},
		{Name: "remind skip", Args: name(" [--undo]"), Help: "Skips the reminder's next occurrence (--undo takes the skip back).", Role: RoleOps, Write: true,
			MinArgs: 1, MaxArgs: 1, Flags: []Flag{{Name: "undo"}}, Run: f.skip},
		{Name: "remind run", Args: name(""), Help: "Posts the reminder now, with its agenda; the schedule is unchanged.", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Run: f.run},
	}
}

// store returns the reminder store or a user error.
func (f *Reminders) store() (ReminderStore, error) {
	return f.st, nil
}

// schedule parses a stored reminder's schedule in its zone.
func (f *Reminders) schedule(r store.Reminder) (schedule, error) {
	return parseSchedule(r.Schedule, f.rt.Location)
}

// lookup finds a reminder by name and parses its schedule.
func (f *Reminders) lookup(arg string) (store.Reminder, schedule, error) {
	r, err := f.find(arg)
	if err != nil {
		return r, schedule{}, err
	}
	sc, err := f.schedule(r)
	if err != nil {
		return r, sc, Errorf("error: reminder %s has a bad schedule %q: %v", r.Name, r.Schedule, err)
	}
	return r, sc, nil
}

// find finds a reminder by name, with "did you mean" for near misses.
func (f *Reminders) find(arg string) (store.Reminder, error) {
	st, err := f.store()
	if err != nil {
		return store.Reminder{}, err
	}
	name := strings.ToLower(arg)
	r, err := st.Reminder(name)
	if errors.Is(err, store.ErrNotFound) {
		msg := fmt.Sprintf("error: no reminder %s", chat.Truncate(name, 40))
		if all, lerr := st.Reminders(); lerr == nil {
			var names []string
			for _, x := range all {
				names = append(names, x.Name)
			}
			if s := Suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
		}
		return r, Errorf("%s", msg)
	}
	return r, err
}

// when renders an occurrence in the schedule's zone, with the bot's time when that zone differs:
// "Fri 2026-11-27 15:00 CET" or "Mon 2026-11-30 09:00 EST = Mon 15:00 CET".
func (f *Reminders) when(t time.Time, sc schedule) string {
	s := t.In(sc.loc).Format("Mon 2006-01-02 15:04 MST")
	if sc.zone() != f.rt.Location.String() {
		s += " = " + t.In(f.rt.Location).Format("Mon 15:04 MST")
	}
	return s
}

// all lists every reminder, by name.
func (f *Reminders) all() ([]store.Reminder, error) {
	st, err := f.store()
	if err != nil {
		return nil, err
	}
	return st.Reminders()
}

func (f *Reminders) list(_ context.Context, _ *Call, w Replier) error {
	rs, err := f.all()
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		w.Reply(fmt.Sprintf("reminders: none (ops add one with %sremind add <name> \"<cron>\" <text>)", f.rt.Prefix))
		return nil
	}
	now := f.rt.Now()
	for _, r := range rs {
		line := r.Name + ": "
		if sc, err := f.schedule(r); err != nil {
			line += "bad schedule"
		} else if next := sc.upcoming(sc.reference(r), now, 1); len(next) == 0 {
			line += "never fires"
		} else {
			line += "next " + f.when(next[0], sc)
			if r.Skip != nil && r.Skip.At.Equal(next[0]) {
				line += " (skipped)"
			}
		}
		line += fmt.Sprintf("; %q to %s", r.Schedule, r.Channel)
		if r.Agenda != "" {
			line += ", agenda " + r.Agenda
		}
		w.Reply(line + " (" + r.Source + ")")
	}
	return nil
}

func (f *Reminders) next(_ context.Context, c *Call, w Replier) error {
	now := f.rt.Now()
	if len(c.Args) == 1 {
		r, sc, err := f.lookup(c.Args[0])
		if err != nil {
			return err
		}
		ups := sc.upcoming(sc.reference(r), now, 3)
		if len(ups) == 0 {
			w.Reply(r.Name + ": never fires")
			return nil
		}
		var parts []string
		for i, t := range ups {
			p := f.when(t, sc)
			if i == 0 {
				p += " (in " + chat.FormatDuration(t.Sub(now)) + ")"
			}
			if r.Skip != nil && r.Skip.At.Equal(t) {
				p += " (skipped)"
			}
			parts = append(parts, p)
		}
		w.Reply(fmt.Sprintf("%s (%s) to %s: %s", r.Name, sc.zone(), r.Channel, strings.Join(parts, ", ")))
		return nil
	}
	rs, err := f.all()
	if err != nil {
		return err
	}
	type up struct {
		at   time.Time
		line string
	}
	var ups []up
	for _, r := range rs {
		sc, err := f.schedule(r)
		if err != nil {
			continue
		}
		next := sc.upcoming(sc.reference(r), now, 2)
		if len(next) == 0 {
			continue
		}
		t, note := next[0], ""
		if r.Skip != nil && r.Skip.At.Equal(t) && len(next) > 1 {
			note = fmt.Sprintf(" (%s skipped)", next[0].In(sc.loc).Format("Mon 2006-01-02 15:04 MST"))
			t = next[1]
		}
		ups = append(ups, up{t, fmt.Sprintf("%s: %s (%s), in %s, to %s%s", r.Name, f.when(t, sc), sc.zone(), chat.FormatDuration(t.Sub(now)), r.Channel, note)})
	}
	if len(ups) == 0 {
		w.Reply("reminders: nothing scheduled")
		return nil
	}
	sort.SliceStable(ups, func(i, j int) bool { return ups[i].at.Before(ups[j].at) })
	for _, u := range ups {
		w.Reply(u.line)
	}
	return nil
}

func (f *Reminders) show(_ context.Context, c *Call, w Replier) error {
	r, sc, err := f.lookup(c.Args[0])
	if err != nil {
		return err
	}
	now := f.rt.Now()
	lines := f.fullMessage(r, sc, now, f.agendaFor(r, now))
	if c.Private() || c.Caller.Nick == "" {
		w.Reply(lines...)
		return nil
	}
	for _, l := range lines {
		if err := f.rt.Announce.Notify(c.Caller.Nick, l, false); err != nil {
			return err
		}
	}
	w.Reply(fmt.Sprintf("%s: sent to you in private (%d lines)", r.Name, len(lines)))
	return nil
}
