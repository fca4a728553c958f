package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests need the zones on any machine

	"github.com/opsbot/opsbot/store"
)

// post is one message the reminders family announced, with the injected clock's time.
type post struct {
	At     time.Time
	Target string
	Text   string
	Notify bool
}

// fakeAnnouncer records announcements; fail makes the next calls fail.
type fakeAnnouncer struct {
	mu    sync.Mutex
	now   func() time.Time
	posts []post
	fail  error
}

func (a *fakeAnnouncer) Announce(channel, text string, _ bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.posts = append(a.posts, post{At: a.now(), Target: channel, Text: text})
	return nil
}

func (a *fakeAnnouncer) Notify(nick, text string, _ bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.posts = append(a.posts, post{At: a.now(), Target: nick, Text: text, Notify: true})
	return nil
}

// headlines are the first lines of channel posts ("Reminder ..."), with their times.
func (a *fakeAnnouncer) headlines() []post {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []post
	for _, p := range a.posts {
		if !p.Notify && strings.HasPrefix(p.Text, "Reminder ") {
			out = append(out, p)
		}
	}
	return out
}

func (a *fakeAnnouncer) reset() {
	a.mu.Lock()
	a.posts = nil
	a.mu.Unlock()
}

// fakeSource is an AgendaSource with canned lines per kind; it records the windows it was asked for.
type fakeSource struct {
	name    string
	lines   map[string][]string
	err     error
	panics  bool
	mu      sync.Mutex
	windows [][2]time.Time
}

func (s *fakeSource) AgendaName() string { return s.name }

func (s *fakeSource) Agenda(kind string, from, to time.Time) ([]string, error) {
	s.mu.Lock()
	s.windows = append(s.windows, [2]time.Time{from, to})
	s.mu.Unlock()
	if s.panics {
		panic("source exploded")
	}
	return s.lines[kind], s.err
}

// remindEnv is the reminders family over a real store file, through the real dispatcher, with an injected
// clock; restart reopens the store and rebuilds everything, like a bot restart.
type remindEnv struct {
	t      *testing.T
	path   string
	now    time.Time
	st     *store.Store
	disp   *Dispatcher
	jobs   []Job
	ann    *fakeAnnouncer
	logs   *bytes.Buffer
	deps   testDeps
	ticked int
}

// newRemindEnv starts at now with the bot's zone loc and the config's reminders.
func newRemindEnv(t *testing.T, now time.Time, loc *time.Location, cfg []store.Reminder, sources ...AgendaSource) *remindEnv {
	t.Helper()
	e := &remindEnv{t: t, path: filepath.Join(t.TempDir(), "opsbot.db"), now: now, logs: &bytes.Buffer{}}
	e.ann = &fakeAnnouncer{now: func() time.Time { return e.now }}
	e.deps = testDeps{Prefix: "!", Version: "test", Now: func() time.Time { return e.now }, Location: loc, Announce: e.ann,
		Channel: "#operations", Channels: []string{"#operations", "#meetings"}, MaxLines: 4,
		Log: slog.New(slog.NewTextHandler(e.logs, nil)), ConfigReminders: cfg, Agenda: sources}
	e.start()
	t.Cleanup(func() { e.st.Close() })
	return e
}

func (e *remindEnv) start() {
	e.t.Helper()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	st.Now = func() time.Time { return e.now }
	e.st = st
	d := e.deps
	d.Store = st
	reg, jobs, err := buildAll(d)
	if err != nil {
		e.t.Fatal(err)
	}
	e.jobs = nil
	for _, j := range jobs {
		if j.Name == "reminders" {
			e.jobs = append(e.jobs, j)
		}
	}
	if len(e.jobs) != 1 {
		e.t.Fatalf("All returned %d reminders jobs, want 1", len(e.jobs))
	}
	e.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil),
		Audit: st, Log: d.Log, Now: d.Now})
}

// restart closes the store and starts again at the current clock.
func (e *remindEnv) restart() {
	e.t.Helper()
	if err := e.st.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

// tick runs the reminders job once at the current clock.
func (e *remindEnv) tick() {
	e.t.Helper()
	e.ticked++
	if err := e.jobs[0].Run(context.Background(), e.now); err != nil {
		e.t.Fatalf("reminders job at %s: %v", e.now.Format(time.RFC3339), err)
	}
}

// runUntil moves the clock in steps to end, running the job at every step, like the bot's scheduler.
func (e *remindEnv) runUntil(end time.Time, step time.Duration) {
	e.t.Helper()
	for !e.now.After(end) {
		e.tick()
		e.now = e.now.Add(step)
	}
	e.now = end
}

// do runs a command as caller in channel ("" = private) and returns what it answered.
func (e *remindEnv) do(caller Caller, channel, text string) *recorder {
	var r recorder
	e.disp.Dispatch(context.Background(), Message{Caller: caller, Text: text, Channel: channel}, &r)
	return &r
}

// postTimes renders the headline posts' times in UTC for comparison.
func (e *remindEnv) postTimes() []string {
	var out []string
	for _, p := range e.ann.headlines() {
		out = append(out, p.At.UTC().Format("2006-01-02 15:04"))
	}
	return out
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

var errDiskFull = errors.New("disk full")

func joinLines(ps []post) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s %s %s\n", p.At.UTC().Format(time.RFC3339), p.Target, p.Text)
	}
	return b.String()
}

func (a *fakeAnnouncer) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}
