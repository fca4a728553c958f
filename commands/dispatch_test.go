package commands

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// recorder is a Replier that records what it was sent.
type recorder struct {
	lines  []string
	errors []string
}

func (r *recorder) Reply(lines ...string) { r.lines = append(r.lines, lines...) }
func (r *recorder) Error(msg string)      { r.errors = append(r.errors, msg) }

func (r *recorder) all() string {
	return strings.Join(append(append([]string{}, r.lines...), r.errors...), "\n")
}

// testDispatcher builds the real registry over a real store, plus test-only commands.
func testDispatcher(t *testing.T, extra ...*Command) (*Dispatcher, *store.Store, *bytes.Buffer) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	reg, _, err := buildAll(testDeps{Store: st, Prefix: "!", Version: "test", Started: now.Add(-90 * time.Minute), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cmds := append(reg.Commands(), extra...)
	reg, err = NewRegistry(cmds...)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d := NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"Admin"}, []string{"alice", "Carol"}, nil),
		Audit: st, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	return d, st, &logs
}

var (
	anon  = Caller{Nick: "mallory"}
	dev   = Caller{Account: "bob", Nick: "bob"}
	ops   = Caller{Account: "carol", Nick: "carol"}
	admin = Caller{Account: "admin", Nick: "root"}
)

// echo is a test command that writes; it shows what the dispatcher parsed.
var echo = &Command{Name: "echo say", Args: "<text> [--loud] [--to T]", Help: "Echoes.", Role: RoleDeveloper, Write: true,
	MinArgs: 1, MaxArgs: -1, Flags: []Flag{{Name: "loud"}, {Name: "to", Value: true}},
	Run: func(_ context.Context, c *Call, w Replier) error {
		to, _ := c.Flag("to")
		w.Reply(strings.Join(c.Args, "|") + " loud=" + boolStr(c.Bool("loud")) + " to=" + to)
		return nil
	}}

var opsOnly = &Command{Name: "opsonly", Help: "Ops only.", Role: RoleOps, Write: true,
	Run: func(_ context.Context, _ *Call, w Replier) error { w.Reply("done"); return nil }}

var failing = &Command{Name: "fail", Args: "<kind>", Help: "Fails.", Role: RoleAnyone, MinArgs: 1, MaxArgs: 1,
	Run: func(_ context.Context, c *Call, w Replier) error {
		switch c.Args[0] {
		case "user":
			return Errorf("error: no request R-99")
		case "panic":
			panic("boom")
		}
		return errors.New("disk on fire")
	}}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		caller Caller
		text   string
		want   string
	}{
		{anon, "help", "commands: help, status, audit, oncall, page, ack, handoff, request, board, service, owner, impact, incident, availability, deploy, remind, alerts, maint. Details: !help <command>"},
		{anon, "help status", "usage: !status (anyone) Shows version, uptime, connection, identity mode, open work and database size."},
		{anon, "help !status", "usage: !status (anyone) Shows version, uptime, connection, identity mode, open work and database size."},
		{anon, "help audit", "usage: !audit [n] (ops) Shows the newest write commands: who, when, what, and the result."},
		{anon, "help stauts", `error: no command "stauts", did you mean status?`},
		{anon, "HELP", "commands: help, status, audit, oncall, page, ack, handoff, request, board, service, owner, impact, incident, availability, deploy, remind, alerts, maint. Details: !help <command>"},
		{anon, "stauts", `error: unknown command "stauts", did you mean !status?`},
		{anon, "zzzzzz", `error: unknown command "zzzzzz" (try !help)`},
		{anon, "echo", "usage: !echo <say> (!help echo)"},
		{anon, "echo sya hi", `error: no !echo subcommand "sya", did you mean !echo say?`},
		{anon, "echo zzzzzz", "usage: !echo <say> (!help echo)"},
		{anon, "request opne the db is slow", `error: no !request subcommand "opne", did you mean !request open?`},
		{anon, "echo say hi", "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{dev, "echo say", "usage: !echo say <text> [--loud] [--to T]"},
		{dev, `echo say "two words" three`, "two words|three loud=false to="},
		{dev, "echo say a --loud --to=#x b", "a|b loud=true to=#x"},
		{dev, "echo say a --to #x", "a loud=false to=#x"},
		{dev, "echo say a -- --loud", "a|--loud loud=false to="},
		{dev, "echo say a --to", "usage: !echo say <text> [--loud] [--to T]"},
		{dev, "echo say a --nope", "usage: !echo say <text> [--loud] [--to T]"},
		{dev, "echo say a --loud=yes", "usage: !echo say <text> [--loud] [--to T]"},
		{dev, `echo say "unterminated`, "error: unterminated quote"},
		{dev, "echo say \x02bold\x02 \x0304red\x03", "bold|red loud=false to="},
		{dev, "opsonly", "error: !opsonly needs the ops role (you are a developer)"},
		{ops, "opsonly", "done"},
		{Caller{Account: "CAROL", Nick: "x"}, "opsonly", "done"},
		{admin, "opsonly", "done"},
		{anon, "opsonly", "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{dev, "audit", "error: !audit needs the ops role (you are a developer)"},
		{anon, "fail user", "error: no request R-99"},
		{anon, "   ", "error: empty command (try !help)"},
		{anon, strings.Repeat("x", MaxInputBytes+1), "error: command too long (1001 bytes, at most 1000)"},
	}
	for _, tt := range tests {
		d, _, _ := testDispatcher(t, echo, opsOnly, failing)
		var r recorder
		d.Dispatch(context.Background(), Message{Caller: tt.caller, Text: tt.text}, &r)
		if got := r.all(); got != tt.want {
			t.Errorf("Dispatch(%+v, %q) = %q, want %q", tt.caller, tt.text, got, tt.want)
		}
	}
}

// A swap of two neighbouring letters is one edit, as typing makes it; other edits count as before.
func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"open", "open", 0}, {"opne", "open", 1}, {"opne", "done", 2}, {"stauts", "status", 1},
		{"plalist", "playlist", 1}, {"", "ack", 3}, {"abc", "ca", 3}, {"tset", "test", 1}, {"ca", "abc", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestInternalErrorsGetARefAndAreLogged(t *testing.T) {
	for _, kind := range []string{"internal", "panic"} {
		d, _, logs := testDispatcher(t, failing)
		var r recorder
		d.Dispatch(context.Background(), Message{Caller: dev, Text: "fail " + kind}, &r)
		if len(r.errors) != 1 || !strings.HasPrefix(r.errors[0], "error: internal error (ref ") {
			t.Fatalf("fail %s replied %q", kind, r.all())
		}
		ref := strings.TrimSuffix(strings.TrimPrefix(r.errors[0], "error: internal error (ref "), ")")
		if len(ref) != 6 || !strings.Contains(logs.String(), "ref="+ref) {
			t.Fatalf("ref %q not found in log:\n%s", ref, logs)
		}
		if strings.Contains(r.all(), "disk on fire") || strings.Contains(r.all(), "boom") {
			t.Fatalf("internal detail leaked to chat: %q", r.all())
		}
	}
}

func TestWritesAreAudited(t *testing.T) {
	d, st, _ := testDispatcher(t, echo, opsOnly)
	for _, m := range []Message{{Caller: dev, Text: "echo say hello"}, {Caller: dev, Text: "opsonly"}, {Caller: anon, Text: "help"}} {
		d.Dispatch(context.Background(), m, &recorder{})
	}
	log, err := st.AuditLog(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("audit log has %d entries, want 2 (help is a read): %+v", len(log), log)
	}
	if log[0].Command != "opsonly" || log[0].Result != "denied" || log[1].Command != "echo say" || log[1].Result != "ok" || log[1].Account != "bob" {
		t.Fatalf("audit log = %+v", log)
	}
}

// !audit names who ran each write without highlighting them, and someone not logged in by the nick they used.
func TestAuditNamesWhoWithoutHighlighting(t *testing.T) {
	d, _, _ := testDispatcher(t, echo)
	for _, m := range []Message{{Caller: dev, Text: "echo say hello"}, {Caller: anon, Text: "echo say hi"}} {
		d.Dispatch(context.Background(), m, &recorder{})
	}
	var r recorder
	d.Dispatch(context.Background(), Message{Caller: ops, Text: "audit"}, &r)
	want := []*regexp.Regexp{
		regexp.MustCompile(`^#2 \d\d-\d\d \d\d:\d\d m\x{200b}allory \(not logged in\): !echo say hi -> denied$`),
		regexp.MustCompile(`^#1 \d\d-\d\d \d\d:\d\d b\x{200b}ob: !echo say hello -> ok$`),
	}
	if len(r.lines) != len(want) {
		t.Fatalf("!audit replied %q, want %d lines", r.all(), len(want))
	}
	for i, re := range want {
		if !re.MatchString(r.lines[i]) {
			t.Errorf("!audit line %d = %q, want %s", i, r.lines[i], re)
		}
	}
}

func TestRateLimitWarnsOnceThenStaysQuiet(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	reg, _, _ := buildAll(testDeps{Store: st, Prefix: "!", Now: func() time.Time { return now }})
	d := NewDispatcher(reg, DispatcherOptions{Prefix: "!", RateInterval: 2 * time.Second, RateBurst: 3, Now: func() time.Time { return now }})
	var r recorder
	for range 10 {
		d.Dispatch(context.Background(), Message{Caller: anon, Text: "help"}, &r)
	}
	if len(r.lines) != 3 || len(r.errors) != 1 || !strings.Contains(r.errors[0], "slow down") {
		t.Fatalf("10 commands at once: %d answers and errors %q; want 3 answers and one slow-down", len(r.lines), r.errors)
	}
	// An anonymous caller does not get a fresh allowance by changing nick: the limit follows user@host.
	var renamed recorder
	d.Dispatch(context.Background(), Message{Caller: Caller{Nick: "mallory2", Host: "m@evil.example"}, Text: "help"}, &renamed)
	d.Dispatch(context.Background(), Message{Caller: Caller{Nick: "mallory3", Host: "m@evil.example"}, Text: "help"}, &renamed)
	d.Dispatch(context.Background(), Message{Caller: Caller{Nick: "mallory4", Host: "m@evil.example"}, Text: "help"}, &renamed)
	d.Dispatch(context.Background(), Message{Caller: Caller{Nick: "mallory5", Host: "m@evil.example"}, Text: "help"}, &renamed)
	if len(renamed.lines) != 3 || len(renamed.errors) != 1 {
		t.Fatalf("4 commands under 4 nicks from one host: %d answers, errors %q; want 3 and one slow-down", len(renamed.lines), renamed.errors)
	}
	// Another caller is not affected.
	var other recorder
	d.Dispatch(context.Background(), Message{Caller: dev, Text: "help"}, &other)
	if len(other.lines) != 1 {
		t.Fatalf("other caller got %q", other.all())
	}
	now = now.Add(2 * time.Second)
	r = recorder{}
	d.Dispatch(context.Background(), Message{Caller: anon, Text: "help"}, &r)
	if len(r.lines) != 1 {
		t.Fatalf("after 2s the caller got %q, want an answer", r.all())
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	run := func(context.Context, *Call, Replier) error { return nil }
	if _, err := NewRegistry(&Command{Name: "a", Run: run}, &Command{Name: "b", Aliases: []string{"a"}, Run: run}); err == nil {
		t.Fatal("duplicate alias accepted")
	}
	if _, err := NewRegistry(&Command{Name: "A", Run: run}); err == nil {
		t.Fatal("upper-case name accepted")
	}
	if _, err := NewRegistry(&Command{Name: "a"}); err == nil {
		t.Fatal("command without handler accepted")
	}
}

func TestStatus(t *testing.T) {
	d, _, _ := testDispatcher(t)
	var r recorder
	d.Dispatch(context.Background(), Message{Caller: anon, Text: "status"}, &r)
	got := r.all()
	for _, want := range []string{"opsbot test", "up 1h30m", "identity: services accounts", "open: nothing", "db "} {
		if !strings.Contains(got, want) {
			t.Errorf("status = %q, want %q in it", got, want)
		}
	}
}

func TestOpenSummary(t *testing.T) {
	for _, tt := range []struct {
		in   map[string]int
		want string
	}{
		{map[string]int{}, "open: nothing"},
		{map[string]int{"requests": 0, "pages": 0}, "open: nothing"},
		{map[string]int{"requests": 2, "pages": 1, "incidents": 0, "deploys": 1}, "open: 2 requests, 1 page, 1 deploy in progress"},
		{map[string]int{"incidents": 3, "widgets": 1}, "open: 3 incidents, 1 widgets"},
	} {
		if got := openSummary(tt.in); got != tt.want {
			t.Errorf("openSummary(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
