package commands

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// agendaFamilies lists, per agenda kind, the families whose data the contract (docs/contract.md) puts on that
// meeting's agenda. A family without an agenda source renders as "<family>: no data", so a meeting is
// announced even when a source is missing.
var agendaFamilies = map[string][]string{
	"retro":       {"requests", "incidents", "deploys"},
	"planning":    {"requests"},
	"scalability": {"incidents", "availability", "deploys"},
}

// lineBudget is the most text the reminders family puts in one channel line: it fits one IRC line for any
// channel name (the bot would split a longer one, breaking the line budget).
const lineBudget = 350

// AgendaSection is one source's part of an agenda. Status is "ok", "empty" (the source had nothing to
// report), "no data" (the family is not wired) or "error" (logged).
type AgendaSection struct {
	Source string   `json:"source"`
	Status string   `json:"status"`
	Lines  []string `json:"lines"`
}

// Agenda is a meeting's live data over [From, To).
type Agenda struct {
	Kind     string          `json:"kind"`
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	Sections []AgendaSection `json:"sections"`
}

// agenda asks the sources for their lines for kind over the week before now, in the order the contract lists the
// meeting's families, then any other source. A source that fails or panics shows as unavailable; it never
// stops the reminder. An expected family without a source shows "no data".
func (f *Reminders) agenda(kind string, now time.Time) Agenda {
	// The same local time a week earlier: across a DST change a week is 167 or 169 hours, and a fixed 168
	// would drop an hour from both meetings or count one in both.
	a := Agenda{Kind: kind, From: now.In(f.rt.Location).AddDate(0, 0, -7), To: now}
	want := agendaFamilies[kind]
	bySource := map[string]AgendaSource{}
	names := slices.Clone(want)
	for _, src := range f.sources {
		if src == nil {
			continue
		}
		name := chat.Sanitize(src.AgendaName())
		if _, dup := bySource[name]; dup {
			continue // the first source of a name wins: an injected one (Options.Agenda) replaces the built-in
		}
		if !slices.Contains(want, name) {
			names = append(names, name)
		}
		bySource[name] = src
	}
	for _, name := range names {
		src, ok := bySource[name]
		if !ok {
			a.Sections = append(a.Sections, AgendaSection{Source: name, Status: "no data", Lines: []string{"no data"}})
			continue
		}
		lines, err := askAgenda(src, kind, a.From, a.To)
		switch {
		case err != nil:
			f.rt.Log.Error("agenda source failed", "source", name, "kind", kind, "err", err)
			if !slices.Contains(want, name) {
				continue // not part of this meeting's agenda: the log is enough
			}
			a.Sections = append(a.Sections, AgendaSection{Source: name, Status: "error", Lines: []string{"unavailable (error logged)"}})
		case len(lines) > 0:
			for i, l := range lines {
				lines[i] = chat.Sanitize(l) // whole: !remind show and the API give every line in full
			}
			a.Sections = append(a.Sections, AgendaSection{Source: name, Status: "ok", Lines: lines})
		case slices.Contains(want, name):
			a.Sections = append(a.Sections, AgendaSection{Source: name, Status: "empty", Lines: []string{"nothing to report"}})
		}
	}
	return a
}

func askAgenda(src AgendaSource, kind string, from, to time.Time) (lines []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			lines, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	lines, err = src.Agenda(kind, from, to)
	return append([]string(nil), lines...), err
}

// headline is the reminder's first line: "Reminder retro: <text>", with "(late, due ...)" when late.
func (f *Reminders) headline(r store.Reminder, sc schedule, due *time.Time) string {
	late := ""
	if due != nil {
		late = " (late, due " + due.In(sc.loc).Format("Mon 15:04 MST") + ")"
	}
	return fmt.Sprintf("Reminder %s%s: %s", r.Name, late, r.Text)
}

// channelMessage is what a reminder posts: the headline, then the agenda packed into the channel's line
// budget (max_lines in all), with the full agenda behind !remind show.
func (f *Reminders) channelMessage(r store.Reminder, sc schedule, now time.Time, due *time.Time) []string {
	head := f.headline(r, sc, due)
	if r.Agenda == "" {
		return []string{chat.Truncate(head, lineBudget)}
	}
	hint := fmt.Sprintf(" (full agenda: %sremind show %s)", f.rt.Prefix, r.Name)
	out := []string{chat.Truncate(head, lineBudget-len(hint)) + hint}
	var segs []string
	for _, s := range f.agenda(r.Agenda, now).Sections {
		short := make([]string, len(s.Lines))
		for i, l := range s.Lines {
			short[i] = chat.Truncate(l, lineBudget/2) // the channel gets the gist; the rest is behind !remind show
		}
		segs = append(segs, s.Source+": "+strings.Join(short, "; "))
	}
	return append(out, pack("Agenda: ", segs, " | ", f.rt.MaxLines-1, lineBudget)...)
}

// agendaFor is the reminder's agenda at now, nil when it has none.
func (f *Reminders) agendaFor(r store.Reminder, now time.Time) *Agenda {
	if r.Agenda == "" {
		return nil
	}
	a := f.agenda(r.Agenda, now)
	return &a
}

// fullMessage is the reminder with its whole agenda a (nil: none) and the next occurrence (!remind show).
func (f *Reminders) fullMessage(r store.Reminder, sc schedule, now time.Time, a *Agenda) []string {
	out := []string{chat.Truncate(f.headline(r, sc, nil), lineBudget)}
	if a != nil {
		out = append(out, fmt.Sprintf("Agenda %s, %s to %s:", a.Kind, a.From.In(sc.loc).Format("Mon 2006-01-02 15:04"), a.To.In(sc.loc).Format("Mon 2006-01-02 15:04 MST")))
		for _, s := range a.Sections {
			for _, l := range s.Lines {
				out = append(out, s.Source+": "+l) // a long line is split on the wire, never cut
			}
		}
	}
	if next := sc.upcoming(sc.reference(r), now, 1); len(next) > 0 {
		out = append(out, fmt.Sprintf("Next: %s in %s", f.when(next[0], sc), r.Channel))
	}
	return out
}

// pack joins segments with sep into at most maxLines lines of at most budget bytes, the first starting with
// prefix. What does not fit is cut, marked with "…".
func pack(prefix string, segs []string, sep string, maxLines, budget int) []string {
	if maxLines < 1 || len(segs) == 0 {
		return nil
	}
	var out []string
	cur := prefix
	fresh := true // cur holds no segment yet
	for _, s := range segs {
		s = chat.Truncate(s, budget-len(prefix))
		if !fresh && len(cur)+len(sep)+len(s) > budget {
			out = append(out, cur)
			cur, fresh = "", true
		}
		if !fresh {
			cur += sep
		}
		cur += s
		fresh = false
	}
	out = append(out, cur)
	if len(out) > maxLines {
		out = out[:maxLines]
		out[maxLines-1] = chat.Truncate(out[maxLines-1], budget-len(" …")) + " …"
	}
	return out
}
