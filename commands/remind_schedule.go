package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Exactly once, across restarts and DST changes. A reminder's occurrences come from robfig/cron's
// Schedule.Next in the schedule's zone (CRON_TZ=, else bot.timezone). The store keeps the last handled
// occurrence (posted or skipped) per reminder: its scheduled instant and its local date and time. The next
// occurrence is the first one after the last instant whose local date and time is also later than the last
// one's, so:
//   - a restart resumes from the stored occurrence and never posts it again;
//   - on a fall-back day the repeated hour's second pass (01:30 EDT, then 01:30 EST) is the same local time,
//     not a new occurrence: it posts once, at the first pass;
//   - on a spring-forward day a local time that does not exist (02:30 in Stockholm on the last Sunday of
//     March) is no occurrence at all: cron never yields it, and the reminder posts next at its next real
//     time (the meetings are in office hours, where this cannot happen).
// Occurrences missed while the bot was down: only the latest is posted, marked late, if it is at most
// reminders grace old; the others, and the latest beyond the grace, are skipped and logged.

const (
	// maxCatchUp bounds how many occurrences one tick walks for one reminder; a reminder that fires every
	// minute and was down for a month catches up over a few ticks instead of one long one.
	maxCatchUp = 10000
	// lateAfter is how late a post may be before it says so.
	lateAfter = time.Minute
	// localLayout identifies an occurrence by its local date and time (store.Occurrence.Local).
	localLayout = "2006-01-02 15:04"
)

// schedule is a parsed reminder schedule with its zone.
type schedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// parseSchedule parses a 5-field cron spec, optionally with CRON_TZ=; without it the schedule runs in def.
// robfig/cron v3.0.1 panics on some malformed CRON_TZ= specs: that becomes an error.
func parseSchedule(spec string, def *time.Location) (sc schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed schedule (%v)", r)
		}
	}()
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") {
		return sc, errors.New("use CRON_TZ=, not TZ=")
	}
	if rest, ok := strings.CutPrefix(spec, "CRON_TZ="); ok {
		tz, _, found := strings.Cut(rest, " ")
		if !found || tz == "" { // "CRON_TZ= 0 * * * *" would quietly be UTC
			return sc, errors.New("CRON_TZ= needs a time zone and a schedule")
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return sc, fmt.Errorf("unknown time zone %q", tz)
		}
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return sc, err
	}
	sc = schedule{sched: s, loc: def}
	if ss, ok := s.(*cron.SpecSchedule); ok {
		if ss.Location == time.Local { // no CRON_TZ=: cron.WithLocation(bot.timezone) semantics
			ss.Location = def
		}
		sc.loc = ss.Location
	}
	return sc, nil
}

// ValidateSchedule checks a 5-field cron spec with an optional CRON_TZ= (the config's [[reminders]] use it
// too, so a schedule the config accepts is one the reminders can run).
func ValidateSchedule(spec string) error {
	_, err := parseSchedule(spec, time.UTC)
	return err
}

// zone is the schedule's IANA zone name.
func (s schedule) zone() string { return s.loc.String() }

// occurrence identifies t as an occurrence of s.
func (s schedule) occurrence(t time.Time) store.Occurrence {
	return store.Occurrence{At: t.UTC(), Local: t.In(s.loc).Format(localLayout), Zone: s.zone()}
}

// next is the first occurrence after prev: later than its instant and, in the same zone, later than its
// local date and time (so a repeated fall-back hour does not fire twice). Zero when there is none.
func (s schedule) next(prev store.Occurrence) time.Time {
	t := prev.At
	for range 1000 {
		o := s.sched.Next(t)
		if o.IsZero() || prev.Zone != s.zone() || o.In(s.loc).Format(localLayout) > prev.Local {
			return o
		}
		t = o
	}
	return time.Time{}
}

// after is the first occurrence after the occurrence at t (see next).
func (s schedule) after(t time.Time) time.Time { return s.next(s.occurrence(t)) }

// upcoming lists the next k occurrences after now, continuing from prev (the last handled occurrence).
func (s schedule) upcoming(prev store.Occurrence, now time.Time, k int) []time.Time {
	var out []time.Time
	for range maxCatchUp {
		o := s.next(prev)
		if o.IsZero() {
			return out
		}
		if o.After(now) {
			if out = append(out, o); len(out) == k {
				return out
			}
		}
		prev = s.occurrence(o)
	}
	return out
}

// minGap is the shortest time between the first n occurrences after from.
func (s schedule) minGap(from time.Time, n int) time.Duration {
	gap := time.Duration(-1)
	prev := s.occurrence(from)
	var last time.Time
	for range n {
		o := s.next(prev)
		if o.IsZero() {
			break
		}
		if !last.IsZero() && (gap < 0 || o.Sub(last) < gap) {
			gap = o.Sub(last)
		}
		last, prev = o, s.occurrence(o)
	}
	return gap
}

// reference is where a reminder's next occurrence is counted from: its last handled occurrence, or its
// creation (occurrences before a reminder existed never fire).
func (s schedule) reference(r store.Reminder) store.Occurrence {
	if r.Last != nil {
		return *r.Last
	}
	return s.occurrence(r.Created)
}

// Tick handles every reminder whose occurrence is due at now: it posts it, or skips and logs it. It is the
// reminders job; it keeps no state outside the store.
func (f *Reminders) Tick(ctx context.Context, now time.Time) error {
	if f.st == nil {
		return nil
	}
	rs, err := f.st.Reminders()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.tickOne(r, now); err != nil {
			errs = append(errs, fmt.Errorf("reminder %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (f *Reminders) tickOne(r store.Reminder, now time.Time) error {
	sc, err := f.schedule(r)
	if err != nil {
		return f.badScheduleOnce(r, err)
	}
	prev := sc.reference(r)
	var first, latest time.Time
	n, complete := 0, false
	for range maxCatchUp {
		o := sc.next(prev)
		if o.IsZero() || o.After(now) {
			complete = true
			break
		}
		if first.IsZero() {
			first = o
		}
		latest, n = o, n+1
		prev = sc.occurrence(o)
	}
	if n == 0 {
		return nil
	}
	occ := sc.occurrence(latest)
	missed := now.Sub(latest)
	log := f.rt.Log.With("reminder", r.Name, "occurrence", occ.Local+" "+occ.Zone)
	skip := func(why string) error {
		if _, err := f.st.ReminderAdvance(r.Name, r.Last, occ, time.Time{}); err != nil {
			return ignoreStale(err)
		}
		log.Info("reminder skipped", "why", why)
		return nil
	}
	if !complete {
		log.Warn("reminder occurrences missed while the bot was down: skipped, still catching up", "count", n,
			"first", sc.occurrence(first).Local)
		return skip("missed while the bot was down")
	}
	if n > 1 {
		log.Warn("reminder occurrences missed while the bot was down: skipped, only the latest may be posted",
			"count", n-1, "first", sc.occurrence(first).Local)
	}
	switch {
	case r.Skip != nil && r.Skip.At.Equal(latest):
		return skip("!remind skip")
	case missed > f.grace:
		return skip(fmt.Sprintf("missed by %s, beyond reminders grace %s", chat.FormatDuration(missed), chat.FormatDuration(f.grace)))
	case !f.postable(r.Channel):
		return skip(fmt.Sprintf("%s is not one of the bot's channels (irc.channels)", r.Channel))
	}
	before, err := f.st.ReminderAdvance(r.Name, r.Last, occ, now.UTC())
	if err != nil {
		return ignoreStale(err)
	}
	var due *time.Time
	if missed > lateAfter {
		due = &latest
	}
	posted, err := f.post(r, sc, now, due)
	if err != nil && posted == 0 {
		// Nothing went out: undo, so the next tick tries this occurrence again.
		if uerr := f.st.ReminderUndoAdvance(r.Name, occ, before); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("posted %d lines, then: %w", posted, err)
	}
	log.Info("reminder posted", "channel", r.Channel, "late", chat.FormatDuration(missed))
	return nil
}

// ignoreStale treats a lost compare-and-set as done: another run handled the occurrence, or the reminder was
// removed meanwhile.
func ignoreStale(err error) error {
	if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// badScheduleOnce reports an unparsable stored schedule once per reminder and spec, not every second.
func (f *Reminders) badScheduleOnce(r store.Reminder, err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Name + "\x00" + r.Schedule
	if f.badSpecs[key] {
		return nil
	}
	f.badSpecs[key] = true
	return fmt.Errorf("schedule %q: %w", r.Schedule, err)
}
