package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// MaintStore is what the maintenance family needs from the store.
type MaintStore interface {
	AddWindow(w store.Window, series *store.Series) (store.Window, error)
	ChangeWindow(id uint64, now time.Time, change func(w *store.Window) error) (store.Window, error)
	Window(id uint64) (store.Window, error)
	OpenWindows() ([]store.Window, error)
	RecentWindows(n int) ([]store.Window, error)
	ActiveWindow(service string, t time.Time) (store.Window, bool, error)
	AllSeries() ([]store.Series, error)
	AddOccurrence(id uint64, start, added time.Time) (store.Window, bool, error)
	StopSeries(id uint64) error
}

// Defaults of the [maintenance] config section.
const DefaultMaintMaxDuration = 12 * time.Hour

// MaintConfig configures the maintenance family: [maintenance], and from [alerts] where silences go.
type MaintConfig struct {
	// MaxDuration caps a window (0: DefaultMaintMaxDuration).
	MaxDuration time.Duration
	// AlertmanagerURL is Alertmanager's base URL for silences (alerts.alertmanager_url); empty: --silence is
	// refused. ServiceLabel is the label a silence matches the service on (alerts.service_label).
	AlertmanagerURL string
	ServiceLabel    string
}

// MaintLinks are the other families' parts the maintenance family uses.
type MaintLinks struct {
	Catalog Catalog       // checks the service names (nil: any well-formed name)
	Routes  ServiceRoutes // the services' schedules, for the handoff digest (nil: every window is everyone's)
}

// Timing of the maintenance job.
const (
	// maintAhead is how far ahead a recurring series' occurrences are created (so planning sees next week).
	maintAhead = 7 * 24 * time.Hour
	// endingSoon is when before its end a window in progress is announced as ending.
	endingSoon = 15 * time.Minute
	// maxMaintReason caps a window's reason.
	maxMaintReason = 300
)

// Maint is the maintenance family: windows M-n of planned work that hold alert pages back, may freeze deploys
// and silence Alertmanager, and are announced when added, when they start, before they end and when they
// end. It provides the windows to the alerts, paging, deploys and incidents families.
type Maint struct {
	rt    Runtime
	st    MaintStore
	cfg   MaintConfig
	links MaintLinks
	am    *silencer // nil without alerts.alertmanager_url
}

// NewMaint builds the maintenance family.
func NewMaint(rt Runtime, st MaintStore, cfg MaintConfig, links MaintLinks) *Maint {
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaintMaxDuration
	}
	if cfg.ServiceLabel == "" {
		cfg.ServiceLabel = DefaultAlertServiceLabel
	}
	m := &Maint{rt: rt.withDefaults(), st: st, cfg: cfg, links: links}
	if cfg.AlertmanagerURL != "" {
		m.am = newSilencer(cfg.AlertmanagerURL, cfg.ServiceLabel)
	}
	return m
}

// Family offers !maint, the job that creates recurring windows, announces and keeps silences in step, and
// GET /api/v1/maintenance.
func (m *Maint) Family() Family {
	id := func(args string) string { return "<M-n>" + args }
	return Family{Name: "maintenance",
		Commands: []*Command{
			{Name: "maint add", Args: `<service|all> <now|+2h|14:05|RFC 3339> <duration> <reason> [--freeze] [--silence] [--every "<cron>"]`,
				Help: "Plans a maintenance window: alert pages for the service are held back; --freeze stops deploys, --silence silences Alertmanager, --every repeats it.",
				Role: RoleOps, Write: true, MinArgs: 4, MaxArgs: -1, Run: m.add,
				Flags: []Flag{{Name: "freeze"}, {Name: "silence"}, {Name: "every", Value: true}}},
			{Name: "maint", Help: "Lists the maintenance windows in progress and planned (as !maint list).", Role: RoleAnyone, MaxArgs: 0, Run: m.list},
			{Name: "maint list", Help: "Lists the maintenance windows in progress and planned.", Role: RoleAnyone, Run: m.list},
			{Name: "maint show", Args: id(""), Help: "Shows a maintenance window, with its Alertmanager silence.", Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: m.show},
			{Name: "maint end", Args: id(""), Help: "Ends a window in progress now.", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Run: m.end},
			{Name: "maint cancel", Args: id(" [--series]"), Help: "Cancels a window before it starts; --series stops its recurring series too.",
				Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Flags: []Flag{{Name: "series"}}, Run: m.cancel},
			{Name: "maint extend", Args: id(" <duration>"), Help: "Makes a window longer.", Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Run: m.extend},
		},
		Jobs:   []Job{{Name: "maintenance", Every: time.Second, Run: m.tick}},
		Routes: []Route{{Pattern: "GET /api/v1/maintenance", Handler: http.HandlerFunc(m.api)}},
	}
}

// During implements the windows other families ask about: the window in progress at t that covers service
// (an "all" window covers every service, and a page about no service), with its reason.
func (m *Maint) During(service string, t time.Time) (ref, reason string, ok bool, err error) {
	w, ok, err := m.st.ActiveWindow(orString(service, store.AllServices), t)
	if !ok || err != nil {
		return "", "", false, err
	}
	return w.Ref(), w.Reason, true, nil
}

// FrozenBy implements Freezes: "M-3: db migration until 04:00" while a --freeze window covers service.
func (m *Maint) FrozenBy(service string) (string, error) {
	now := m.rt.Now()
	open, err := m.st.OpenWindows()
	if err != nil {
		return "", fmt.Errorf("maintenance: freezes: %w", err)
	}
	var why []string
	for _, w := range open {
		if w.Freeze && w.Active(now) && w.Covers(service) {
			why = append(why, fmt.Sprintf("%s: %s until %s", w.Ref(), w.Reason, m.clock(w.End, now)))
		}
	}
	return strings.Join(why, ", "), nil
}

// InProgress gives the windows in progress at now for the channel topic: "M-3 maintenance playlist until 04:00".
func (m *Maint) InProgress(now time.Time) ([]string, error) {
	open, err := m.st.OpenWindows()
	var out []string
	for _, w := range open {
		if w.Active(now) {
			out = append(out, fmt.Sprintf("%s maintenance %s until %s", w.Ref(), w.Service, m.clock(w.End, now)))
		}
	}
	return out, err
}

// AgendaName names the maintenance part of the weekly planning: the windows of the week ahead.
func (m *Maint) AgendaName() string { return "maintenance" }

// Agenda lists, for planning, the windows starting in the week after to.
func (m *Maint) Agenda(kind string, _, to time.Time) ([]string, error) {
	if kind != "planning" {
		return nil, nil
	}
	open, err := m.st.OpenWindows()
	if err != nil {
		return nil, err
	}
	var items []string
	for _, w := range open {
		if w.Cancelled.IsZero() && w.End.After(to) && w.Start.Before(to.Add(7*24*time.Hour)) {
			items = append(items, fmt.Sprintf("%s %s %s: %s%s", w.Ref(), w.Service, m.span(w, to), chat.Truncate(w.Reason, 60), m.flags(w)))
		}
	}
	if len(items) == 0 {
		return []string{"no maintenance planned for the week ahead"}, nil
	}
	return []string{chat.Truncate(fmt.Sprintf("%d window%s: %s", len(items), plural(len(items)), strings.Join(items, "; ")), lineBudget)}, nil
}

func (m *Maint) add(ctx context.Context, c *Call, w Replier) error {
	now := m.rt.Now()
	service, err := m.service(c.Args[0])
	if err != nil {
		return err
	}
	start, err := m.start(c.Args[1], now)
	if err != nil {
		return err
	}
	d, err := m.duration(c.Args[2])
	if err != nil {
		return err
	}
	reason := c.Rest(3)
	if err := checkLength("reason", reason, maxMaintReason, true); err != nil {
		return err
	}
	win := store.Window{Service: service, Start: start, End: start.Add(d), Reason: reason, By: c.Caller.Who(), Added: now,
		Freeze: c.Bool("freeze"), Silence: c.Bool("silence")}
	if win.Silence && m.am == nil {
		return Errorf("error: --silence needs alerts.alertmanager_url in the config (where to create the silence)")
	}
	var series *store.Series
	if spec, ok := c.Flag("every"); ok {
		if series, err = m.series(spec, &win, d); err != nil {
			return err
		}
	}
	if !win.End.After(now) {
		return Errorf("error: that window is over already (it would end %s)", m.clock(win.End, now))
	}
	win.Told.Added = m.rt.inHomeChannel(c) // the reply is the announcement there
	if win.Silence {
		win.SilenceRetry = now.Add(time.Minute) // the command tries first; the job waits for it
	}
	win, err = m.st.AddWindow(win, series)
	if err != nil {
		return err
	}
	line := m.addedLine(win, now)
	if win.Silence {
		line += "; " + m.trySilence(ctx, win.ID)
	}
	w.Reply(line)
	if !win.Told.Added {
		if err := m.rt.Announce.Announce("", line, false); err != nil {
			return Errorf("error: %s is planned, but announcing it failed: %v", win.Ref(), err)
		}
		_, err = m.st.ChangeWindow(win.ID, now, func(x *store.Window) error { x.Told.Added = true; return nil })
		return err
	}
	return nil
}

// addedLine is "M-3 maintenance on playlist Tue 02:00-04:00 CET (2h) by alice: db migration; deploys frozen".
func (m *Maint) addedLine(w store.Window, now time.Time) string {
	line := fmt.Sprintf("%s maintenance on %s %s (%s) by %s: %s", w.Ref(), w.Service, m.span(w, now),
		chat.FormatDuration(w.End.Sub(w.Start)), chat.NoHighlight(w.By), w.Reason)
	if w.Series != 0 {
		line += "; repeats (" + m.seriesNote(w) + ")"
	}
	if w.Freeze {
		line += "; deploys frozen"
	}
	return line + "; alert pages held back"
}

func (m *Maint) seriesNote(w store.Window) string {
	all, err := m.st.AllSeries()
	if err == nil {
		for _, s := range all {
			if s.ID == w.Series {
				return s.Schedule
			}
		}
	}
	return "recurring"
}

// service checks a window's service: "all", or a service of the catalogue.
func (m *Maint) service(arg string) (string, error) {
	name := strings.ToLower(arg)
	if name == store.AllServices {
		return name, nil
	}
	if !store.ValidServiceName(name) {
		return "", Errorf("error: %q is not a service name (lowercase letters, digits, . _ -) or all", chat.Truncate(arg, 40))
	}
	if m.links.Catalog == nil {
		return name, nil
	}
	_, err := m.links.Catalog.ServiceOwner(name)
	if !errors.Is(err, store.ErrNotFound) {
		return name, err
	}
	names, err := m.links.Catalog.ServiceNames()
	if err != nil || len(names) == 0 {
		return name, err
	}
	if s := Suggest(name, names); s != "" {
		return "", Errorf("error: unknown service %q, did you mean %s?", name, s)
	}
	return "", Errorf("error: unknown service %q (add it first: %sservice add %s)", name, m.rt.Prefix, name)
}

// start parses a window's start: now, 14:05 (the next 14:05: tonight's 02:00 typed in the evening is
// tomorrow's) or RFC 3339 (not in the past).
func (m *Maint) start(arg string, now time.Time) (time.Time, error) {
	if strings.EqualFold(arg, "now") {
		return now, nil
	}
	if rel, ok := strings.CutPrefix(arg, "+"); ok { // +2h: that long from now
		d, err := chat.ParseDuration(rel)
		if err != nil || d <= 0 {
			return now, Errorf("error: bad start %q (use now, +2h, 14:05 or 2026-12-08T02:00:00+01:00)", chat.Truncate(arg, 40))
		}
		return now.Add(d), nil
	}
	t, err := chat.ParseTime(arg, now, m.rt.Location)
	if err != nil {
		return t, Errorf("error: bad start %q (use now, +2h, 14:05 or 2026-12-08T02:00:00+01:00)", chat.Truncate(arg, 40))
	}
	if strings.Contains(arg, "T") {
		if t.Before(now.Add(-time.Minute)) {
			return t, Errorf("error: %s is in the past (a window starts now or later)", arg)
		}
		return t, nil
	}
	for t.Before(now.Add(-time.Minute)) {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// duration parses a window's length: more than zero, at most maintenance.max_duration.
func (m *Maint) duration(arg string) (time.Duration, error) {
	d, err := chat.ParseDuration(arg)
	if err != nil || d <= 0 {
		return 0, Errorf("error: bad duration %q (use 30m, 2h)", chat.Truncate(arg, 40))
	}
	if d > m.cfg.MaxDuration {
		return 0, Errorf("error: %s is longer than maintenance.max_duration (%s)", chat.FormatDuration(d), chat.FormatDuration(m.cfg.MaxDuration))
	}
	return d, nil
}

// series checks --every and moves the first window to its first occurrence at or after the given start.
func (m *Maint) series(spec string, w *store.Window, d time.Duration) (*store.Series, error) {
	sc, err := parseSchedule(spec, m.rt.Location)
	if err != nil {
		return nil, Errorf("error: --every %q: %v", chat.Truncate(spec, 60), err)
	}
	first := sc.windowAfter(w.Start.Add(-time.Second))
	second := sc.windowAfter(first)
	if first.IsZero() || second.IsZero() {
		return nil, Errorf("error: --every %q never fires", chat.Truncate(spec, 60))
	}
	if second.Sub(first) < d {
		return nil, Errorf("error: --every %q repeats every %s, sooner than the window's %s: windows would overlap", spec,
			chat.FormatDuration(second.Sub(first)), chat.FormatDuration(d))
	}
	w.Start, w.End = first, first.Add(d)
	return &store.Series{Schedule: spec, Duration: d, Template: *w}, nil
}

func (m *Maint) list(_ context.Context, _ *Call, w Replier) error {
	now := m.rt.Now()
	open, err := m.st.OpenWindows()
	if err != nil {
		return err
	}
	var lines []string
	for _, win := range open {
		if win.Over(now) {
			continue
		}
		lines = append(lines, m.listLine(win, now))
	}
	if len(lines) == 0 {
		w.Reply(fmt.Sprintf("no maintenance windows planned (ops: %smaint add <service> <start> <duration> <reason>)", m.rt.Prefix))
		return nil
	}
	w.Reply(lines...)
	return nil
}

// listLine is "M-3 playlist in progress until 04:00 (1h20m left): db migration [freeze, silence]" or
// "M-4 all Tue 02:00-03:00 CET: network upgrade".
func (m *Maint) listLine(w store.Window, now time.Time) string {
	when := m.span(w, now)
	if w.Active(now) {
		when = fmt.Sprintf("in progress until %s (%s left)", m.clock(w.End, now), chat.FormatDuration(w.End.Sub(now)))
	}
	return fmt.Sprintf("%s %s %s: %s%s", w.Ref(), w.Service, when, chat.Truncate(w.Reason, 120), m.flags(w))
}

// flags is " [freeze, silence]" for a window that freezes deploys or silences alerts.
func (m *Maint) flags(w store.Window) string {
	var f []string
	if w.Freeze {
		f = append(f, "freeze")
	}
	if w.Silence {
		f = append(f, "silence")
	}
	if w.Series != 0 {
		f = append(f, "recurring")
	}
	if len(f) == 0 {
		return ""
	}
	return " [" + strings.Join(f, ", ") + "]"
}

func (m *Maint) show(_ context.Context, c *Call, w Replier) error {
	win, err := m.window(c.Args[0])
	if err != nil {
		return err
	}
	now := m.rt.Now()
	state := "planned"
	switch {
	case !win.Cancelled.IsZero():
		state = "cancelled"
	case win.Over(now):
		state = "over"
		if win.EndedBy != "" {
			state = "ended early by " + chat.NoHighlight(win.EndedBy)
		}
	case win.Active(now):
		state = "in progress"
	}
	lines := []string{fmt.Sprintf("%s maintenance on %s %s (%s), %s, by %s: %s%s", win.Ref(), win.Service, m.span(win, now),
		chat.FormatDuration(win.End.Sub(win.Start)), state, chat.NoHighlight(win.By), win.Reason, m.flags(win))}
	if win.Silence {
		lines = append(lines, win.Ref()+" silence: "+m.silenceState(win, now))
	}
	w.Reply(lines...)
	return nil
}

// silenceState is "active in Alertmanager (1a2b3c)", "not created yet: <error>; next try in 40s (3 tries)".
func (m *Maint) silenceState(w store.Window, now time.Time) string {
	switch {
	case w.SilenceState == store.SilenceActive && w.Over(now):
		return "ended with the window (" + w.SilenceID + ")"
	case w.SilenceState == store.SilenceActive:
		return "in Alertmanager until " + m.clock(w.End, now) + " (" + w.SilenceID + ")"
	case w.SilenceState == store.SilenceDone:
		return "expired in Alertmanager (" + orString(w.SilenceID, "never created") + ")"
	}
	what := "not created yet"
	if w.SilenceState == store.SilenceExpire {
		what = "not expired yet"
	} else if w.SilenceID != "" {
		what = "not updated yet"
	}
	if w.SilenceError != "" {
		what += ": " + w.SilenceError
	}
	next := "now"
	if w.SilenceRetry.After(now) {
		next = "in " + chat.FormatDuration(w.SilenceRetry.Sub(now))
	}
	tries := "tries"
	if w.SilenceTries == 1 {
		tries = "try"
	}
	return fmt.Sprintf("%s; next try %s (%d %s so far)", what, next, w.SilenceTries, tries)
}

// window finds M-n.
func (m *Maint) window(arg string) (store.Window, error) {
	id, err := chat.ParseID(kindWindow, arg)
	if err != nil {
		return store.Window{}, Errorf("error: %q is not a maintenance window (like M-3)", chat.Truncate(arg, 40))
	}
	w, err := m.st.Window(id)
	if errors.Is(err, store.ErrNotFound) {
		return w, Errorf("error: no maintenance window M-%d", id)
	}
	return w, err
}

// kindWindow is a maintenance window's id kind: M-3.
const kindWindow chat.Kind = "M"

func (m *Maint) end(ctx context.Context, c *Call, w Replier) error {
	win, err := m.window(c.Args[0])
	if err != nil {
		return err
	}
	now := m.rt.Now()
	win, err = m.st.ChangeWindow(win.ID, now, func(x *store.Window) error {
		switch {
		case !x.Cancelled.IsZero() || x.Over(now):
			return Errorf("error: %s is over already", x.Ref())
		case !x.Active(now):
			return Errorf("error: %s has not started (it starts %s): cancel it instead (%smaint cancel %s)", x.Ref(), m.clock(x.Start, now), m.rt.Prefix, x.Ref())
		}
		x.End, x.EndedBy = now, c.Caller.Who()
		x.Told.Ending, x.Told.Ended = true, m.rt.inHomeChannel(c)
		m.silenceTask(x, now)
		return nil
	})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s maintenance on %s ended by %s after %s", win.Ref(), win.Service, chat.NoHighlight(c.Caller.Who()), chat.FormatDuration(now.Sub(win.Start)))
	if win.Silence {
		line += "; " + m.trySilence(ctx, win.ID)
	}
	return m.answer(c, w, win, line, func(x *store.Window) { x.Told.Ended = true })
}

func (m *Maint) cancel(ctx context.Context, c *Call, w Replier) error {
	win, err := m.window(c.Args[0])
	if err != nil {
		return err
	}
	now := m.rt.Now()
	win, err = m.st.ChangeWindow(win.ID, now, func(x *store.Window) error {
		switch {
		case !x.Cancelled.IsZero():
			return Errorf("error: %s is cancelled already", x.Ref())
		case x.Over(now):
			return Errorf("error: %s is over already", x.Ref())
		case x.Active(now):
			return Errorf("error: %s is in progress: end it instead (%smaint end %s)", x.Ref(), m.rt.Prefix, x.Ref())
		}
		x.Cancelled, x.EndedBy = now, c.Caller.Who()
		m.silenceTask(x, now)
		return nil
	})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s maintenance on %s %s cancelled by %s", win.Ref(), win.Service, m.span(win, now), chat.NoHighlight(c.Caller.Who()))
	if c.Bool("series") && win.Series != 0 {
		if err := m.st.StopSeries(win.Series); err != nil {
			return err
		}
		line += "; its series stopped (no more occurrences)"
	}
	if win.Silence {
		line += "; " + m.trySilence(ctx, win.ID)
	}
	return m.answer(c, w, win, line, nil)
}

func (m *Maint) extend(ctx context.Context, c *Call, w Replier) error {
	win, err := m.window(c.Args[0])
	if err != nil {
		return err
	}
	d, err := chat.ParseDuration(c.Args[1])
	if err != nil || d < time.Second {
		return Errorf("error: bad duration %q (use 30m, 2h)", chat.Truncate(c.Args[1], 40))
	}
	now := m.rt.Now()
	win, err = m.st.ChangeWindow(win.ID, now, func(x *store.Window) error {
		if !x.Cancelled.IsZero() || x.Over(now) {
			return Errorf("error: %s is over already: plan a new one (%smaint add)", x.Ref(), m.rt.Prefix)
		}
		if total := x.End.Add(d).Sub(x.Start); total > m.cfg.MaxDuration {
			return Errorf("error: %s would last %s, longer than maintenance.max_duration (%s)", x.Ref(), chat.FormatDuration(total), chat.FormatDuration(m.cfg.MaxDuration))
		}
		x.End = x.End.Add(d)
		if x.End.Sub(now) > endingSoon {
			x.Told.Ending = false // announced again 15 minutes before the new end
		}
		m.silenceTask(x, now)
		return nil
	})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s maintenance on %s extended by %s to %s (%s in all)", win.Ref(), win.Service, chat.FormatDuration(d),
		m.clock(win.End, now), chat.FormatDuration(win.End.Sub(win.Start)))
	if win.Silence {
		line += "; " + m.trySilence(ctx, win.ID)
	}
	return m.answer(c, w, win, line, nil)
}

// answer replies with line, and tells the channel too when the command came from elsewhere; told marks the
// announcement made.
func (m *Maint) answer(c *Call, w Replier, win store.Window, line string, told func(*store.Window)) error {
	w.Reply(line)
	if m.rt.inHomeChannel(c) {
		return nil
	}
	if err := m.rt.Announce.Announce("", line, false); err != nil {
		return Errorf("error: %s changed, but announcing it failed: %v", win.Ref(), err)
	}
	if told == nil {
		return nil
	}
	_, err := m.st.ChangeWindow(win.ID, m.rt.Now(), func(x *store.Window) error { told(x); return nil })
	return err
}

// span is a window's times in the bot's zone: "Tue 02:00-04:00 CET", "23:00-01:00 UTC" (across midnight),
// or with both days when it lasts a day or more.
func (m *Maint) span(w store.Window, now time.Time) string {
	s, e := w.Start.In(m.rt.Location), w.End.In(m.rt.Location)
	head := when(w.Start, now, m.rt.Location)
	if e.Sub(s) >= 24*time.Hour {
		return head + " - " + when(w.End, now, m.rt.Location)
	}
	if zone := s.Format("MST"); zone == e.Format("MST") {
		head = strings.TrimSuffix(head, " "+zone)
	}
	return head + "-" + e.Format("15:04 MST")
}

// clock is a time for chat: "04:00" within the next day, else with the weekday or date (see when).
func (m *Maint) clock(t, now time.Time) string {
	if d := t.Sub(now); d >= -12*time.Hour && d < 24*time.Hour {
		return t.In(m.rt.Location).Format("15:04")
	}
	return when(t, now, m.rt.Location)
}

// api is GET /api/v1/maintenance: the windows in progress and planned, and the newest 50 of all.
func (m *Maint) api(w http.ResponseWriter, _ *http.Request) {
	open, err := m.st.OpenWindows()
	if err != nil {
		m.rt.fail(w, "maintenance", err)
		return
	}
	recent, err := m.st.RecentWindows(50)
	if err != nil {
		m.rt.fail(w, "maintenance", err)
		return
	}
	type view struct {
		Ref string `json:"ref"`
		store.Window
		InProgress bool `json:"in_progress"`
	}
	now := m.rt.Now()
	views := func(ws []store.Window) []view {
		out := make([]view, 0, len(ws))
		for _, x := range ws {
			out = append(out, view{Ref: x.Ref(), Window: x, InProgress: x.Active(now)})
		}
		return out
	}
	var upcoming []store.Window
	for _, x := range open {
		if !x.Over(now) {
			upcoming = append(upcoming, x)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"windows": views(upcoming), "recent": views(recent)})
}
