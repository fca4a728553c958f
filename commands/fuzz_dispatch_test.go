package commands

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot/store"
)

// FuzzDispatch runs scripts of commands through every family (commands.All and the real dispatcher over a
// real store, wired like the bot wires them) and the periodic jobs. One line of the script is one command:
// its first byte picks the caller (alice admin, carol ops, bob developer, or anonymous) and whether it is
// said in private; the rest is the text. Nothing may panic or fail internally, and every line of output,
// reply, error or announcement, must be valid UTF-8 without CR, LF or NUL.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		"0help\n1status\n2board",
		"2request open disk full on db3 --urgent --service playlist\n0request take R-1\n1request block 1 vendor\n0request done r1 fixed",
		"2page playlist is down\n1ack\n0oncall override carol 2h\n4oncall",
		"0service add playlist --owner carol --depends db,cache --create --slo 99.9\n2owner playlist\n3impact db",
		"0incident declare sev1 playlist everything is down\n1incident update INC-1 found it\n0incident resolve INC-1\n4availability playlist 7d",
		"2deploy start playlist 1.2 --percent 10\n2deploy progress playlist 50\n2deploy rollback playlist\n0deploy unlock all",
		"0remind add standup \"CRON_TZ=America/New_York 0 9 * * MON-FRI\" Standup --agenda planning\n4remind next standup\n0remind run standup",
		"2request open \"unterminated\n3request show R-99999999999999999999\n0audit 99999999999999999999",
		"2request open \x02bold\x03 \u202eevil \x01VERSION\x01 \xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		h := newFuzzHarness(t)
		for i, line := range strings.Split(script, "\n") {
			if i == 20 || line == "" {
				break
			}
			h.run(line[0], line[1:])
			h.now = h.now.Add(7 * time.Minute)
			for _, j := range h.jobs {
				if err := j.Run(context.Background(), h.now); err != nil {
					h.fatalf("job %s after %q: %v", j.Name, line, err)
				}
			}
			h.announced(line)
		}
	})
}

type fuzzHarness struct {
	t    *testing.T
	logs bytes.Buffer // the families' and the dispatcher's log, shown when the input fails
	st   *store.Store
	now  time.Time
	ann  *pagingAnnouncer
	disp *Dispatcher
	jobs []Job
}

func newFuzzHarness(t *testing.T) *fuzzHarness {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &fuzzHarness{t: t, st: st, now: time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC), ann: &pagingAnnouncer{}}
	st.Now = func() time.Time { return h.now }
	log := slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	roles := NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil)
	d := testDeps{Store: st, Announce: h.ann, Prefix: "!", Version: "fuzz", Now: st.Now, Log: log, Location: pagingStockholm,
		Channel: "#operations", Channels: []string{"#operations"}, Roles: roles,
		Paging: PagingConfig{
			Rotation:   store.Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: pagingStockholm},
			AckTimeout: 5 * time.Minute, Escalation: []string{"next"}, MaxEscalations: 2, DedupeWindow: 10 * time.Minute, RateLimit: 10,
			MaxOverride: 24 * time.Hour, Ops: []string{"alice", "carol"},
		},
		ConfigReminders: []store.Reminder{{Name: "retro", Schedule: "CRON_TZ=Europe/Stockholm 0 15 * * FRI", Channel: "#operations",
			Text: "Weekly retrospective", Agenda: "retro"}},
		IncidentOptions: IncidentConfig{DeclareRole: "ops", PageOnSev: 2, FreezeOnSev: 2},
		AsTheBot:        true,
	}
	reg, jobs, err := buildAll(d)
	if err != nil {
		t.Fatal(err)
	}
	h.jobs = jobs
	h.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: roles, Audit: st, Now: st.Now, Log: log,
		RateInterval: time.Second, RateBurst: 1000})
	return h
}

// run dispatches text for the caller and place that sel picks, and checks the output.
func (h *fuzzHarness) run(sel byte, text string) {
	h.t.Helper()
	account := []string{"alice", "carol", "bob", ""}[sel%4]
	nick := account
	if nick == "" {
		nick = "anon"
	}
	m := Message{Caller: Caller{Account: account, Nick: nick}, Text: text, Channel: "#operations"}
	if sel&4 != 0 {
		m.Channel = ""
	}
	var b Buffer
	h.disp.Dispatch(context.Background(), m, &b)
	// In the announcement channel, an announcement (a page, a deploy) is the answer.
	if len(b.Lines)+len(b.Errors)+h.announced(text) == 0 {
		h.fatalf("%s: %q got no answer at all", account, text)
	}
	for _, l := range append(b.Lines, b.Errors...) {
		if msg := badOutput(l); msg != "" {
			h.fatalf("%s: %q answered %q: %s", account, text, l, msg)
		}
	}
	for _, e := range b.Errors {
		if strings.Contains(e, "internal error") {
			h.fatalf("%s: %q failed internally: %q", account, text, e)
		}
	}
}

// announced checks and forgets what was announced since the last call, and says how many messages it was.
func (h *fuzzHarness) announced(after string) int {
	h.t.Helper()
	msgs := h.ann.take()
	for _, m := range msgs {
		if msg := badOutput(m.Text); msg != "" {
			h.fatalf("after %q: announced %q to %q: %s", after, m.Text, m.To, msg)
		}
	}
	return len(msgs)
}

func (h *fuzzHarness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf(format+"\nlog:\n%s", append(args, h.logs.String())...)
}

// badOutput says what is wrong with a line of output, or "".
func badOutput(l string) string {
	switch {
	case !utf8.ValidString(l):
		return "invalid UTF-8"
	case strings.ContainsAny(l, "\r\n\x00"):
		return fmt.Sprintf("contains CR, LF or NUL at %d", strings.IndexAny(l, "\r\n\x00"))
	}
	return ""
}
