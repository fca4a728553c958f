package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// reqEnv is the request family behind the real dispatcher, on a real store, with an injected clock.
type reqEnv struct {
	t      *testing.T
	path   string
	now    time.Time
	st     *store.Store
	disp   *Dispatcher
	jobs   []Job
	ann    *recAnnouncer
	onCall *fakeOnCall
	deps   testDeps
}

// recAnnouncer records announcements and private notices.
type recAnnouncer struct{ sent []string }

func (a *recAnnouncer) Announce(channel, text string, urgent bool) error {
	a.sent = append(a.sent, fmt.Sprintf("channel %q urgent=%v: %s", channel, urgent, text))
	return nil
}

func (a *recAnnouncer) Notify(nick, text string, urgent bool) error {
	a.sent = append(a.sent, fmt.Sprintf("notify %s urgent=%v: %s", nick, urgent, text))
	return nil
}

type fakeOnCall struct {
	who string
	err error
}

func (f *fakeOnCall) OnCallAt(time.Time) (string, bool, error) { return f.who, f.who != "", f.err }

type reqCatalog map[string]string

func (c reqCatalog) ServiceOwner(name string) (string, error) {
	owner, ok := c[name]
	if !ok {
		return "", fmt.Errorf("service %s: %w", name, store.ErrNotFound)
	}
	return owner, nil
}
func (c reqCatalog) ServiceImpact(string) ([]string, error) { return nil, nil }
func (c reqCatalog) ServiceNames() ([]string, error) {
	return sortedKeys(c), nil
}

// newReqEnv opens a store in t.TempDir(); alice is admin, alice and carol are ops, anyone else a developer.
// edit may change the Deps before the registry is built.
func newReqEnv(t *testing.T, edit func(*testDeps)) *reqEnv {
	t.Helper()
	e := &reqEnv{t: t, path: filepath.Join(t.TempDir(), "opsbot.db"), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		ann: &recAnnouncer{}, onCall: &fakeOnCall{who: "alice"}}
	e.deps = testDeps{Announce: e.ann, Prefix: "!", Now: e.clock, Location: time.UTC, Channel: "#operations",
		OnCall: e.onCall, Catalog: reqCatalog{"playlist": "carol", "search": ""},
		Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil), RequestWIPLimit: 2, RequestNagAfter: 30 * time.Minute}
	if edit != nil {
		edit(&e.deps)
	}
	e.open()
	t.Cleanup(func() { e.st.Close() })
	return e
}

func (e *reqEnv) clock() time.Time { return e.now }

// open (re)opens the store and builds registry, dispatcher and jobs over it, like a (re)started bot.
func (e *reqEnv) open() {
	e.t.Helper()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	st.Now = e.clock
	e.st = st
	d := e.deps
	d.Store = st
	reg, jobs, err := buildAll(d)
	if err != nil {
		e.t.Fatal(err)
	}
	e.jobs = jobs
	e.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: d.Roles, Audit: st, Now: e.clock})
}

// restart closes the store and opens it again.
func (e *reqEnv) restart() {
	e.st.Close()
	e.open()
}

// run dispatches text as account ("" = anonymous) in #operations, or privately when private is set.
func (e *reqEnv) run(account, text string, private bool) *Buffer {
	e.t.Helper()
	nick := account
	if nick == "" {
		nick = "anon"
	}
	m := Message{Caller: Caller{Account: account, Nick: nick}, Text: text, Channel: "#operations"}
	if private {
		m.Channel = ""
	}
	var b Buffer
	e.disp.Dispatch(context.Background(), m, &b)
	return &b
}

// nagJob runs the request nag job at the current time.
func (e *reqEnv) nagJob() {
	e.t.Helper()
	if err := e.nagJobErr(); err != nil {
		e.t.Fatalf("nag job: %v", err)
	}
}

// nagJobErr runs the request nag job at the current time and returns its error.
func (e *reqEnv) nagJobErr() error {
	e.t.Helper()
	for _, j := range e.jobs {
		if j.Name == "request nag" {
			return j.Run(context.Background(), e.now)
		}
	}
	e.t.Fatal("no request nag job")
	return nil
}

const reqZW = "\u200b"

// reqStep is one command of a scripted conversation and its exact answer.
type reqStep struct {
	advance time.Duration
	as      string // account; "" = anonymous
	private bool
	cmd     string
	want    []string // exact reply lines
	wantErr string   // exact error line
}

func runReqSteps(t *testing.T, e *reqEnv, steps []reqStep) {
	t.Helper()
	for i, s := range steps {
		e.now = e.now.Add(s.advance)
		b := e.run(s.as, s.cmd, s.private)
		var gotErr string
		if len(b.Errors) > 0 {
			gotErr = strings.Join(b.Errors, " | ")
		}
		if gotErr != s.wantErr || !slices.Equal(b.Lines, s.want) {
			t.Fatalf("step %d: %s: %q\n got lines %q\n     error %q\nwant lines %q\n     error %q",
				i, s.as, s.cmd, b.Lines, gotErr, s.want, s.wantErr)
		}
	}
}

func TestRequestLifecycleThroughDispatcher(t *testing.T) {
	e := newReqEnv(t, nil)
	const login = "error: log in to NickServ first (this bot trusts accounts, not nicks)"
	runReqSteps(t, e, []reqStep{
		{as: "bob", cmd: "request open disk full on db3", want: []string{"R-1 opened by bob: disk full on db3 [todo]. On duty: alice"}},
		{as: "", cmd: "request open let me in", wantErr: login},
		{as: "bob", cmd: "request open", wantErr: "usage: !request open <text> [--service S] [--urgent]"},
		{as: "bob", cmd: "request open --urgent", wantErr: "usage: !request open <text> [--service S] [--urgent]"},
		{advance: time.Minute, as: "dan", cmd: `request open "rotate certs" on search --service Playlist --urgent`,
			want: []string{"R-2 opened by dan: rotate certs on search [todo]. Urgent. Service playlist, owner c" + reqZW + "arol. On duty: alice"}},
		{as: "dan", cmd: "request open x --service playlst", wantErr: "error: no service playlst in the catalogue (did you mean playlist?)"},
		{as: "dan", cmd: "request open x --service nothing-like-it", wantErr: "error: no service nothing-like-it in the catalogue"},
		{as: "dan", cmd: `request open x --service "a b"`, wantErr: `error: "a b" is not a service name (letters, digits, . _ -)`},
		{as: "dan", cmd: "request open x --service search", want: []string{"R-3 opened by dan: x [todo]. Service search, no owner. On duty: alice"}},
		// Developers may not work the queue; anonymous users may not comment.
		{advance: time.Minute, as: "bob", cmd: "request take R-1", wantErr: "error: !request take needs the ops role (you are a developer)"},
		{as: "", cmd: "request comment 1 hello", wantErr: login},
		{as: "", cmd: "request take 1", wantErr: login},
		{as: "dan", cmd: "request comment r1 same on db4", want: []string{"R-1 comment added by dan [todo]"}},
		{advance: 4 * time.Minute, as: "alice", cmd: "request take r1", want: []string{"R-1 taken by alice [doing]: disk full on db3 (from b" + reqZW + "ob)"}},
		{as: "alice", cmd: "request take R-1", wantErr: "error: R-1 is already yours (doing)"},
		{as: "alice", cmd: "request take R-99", wantErr: "error: no request R-99"},
		{as: "alice", cmd: "request take xyz", wantErr: `error: "xyz" is not a request id (like R-12)`},
		{as: "alice", cmd: "request block R-2 waiting", wantErr: "error: R-2 is todo; take it before blocking it (!request take R-2)"},
		{as: "alice", cmd: "request block R-1", wantErr: "usage: !request block <R-12> <reason>"},
		{as: "alice", cmd: "request block R-1 waiting for the storage vendor", want: []string{"R-1 blocked by alice [blocked]: waiting for the storage vendor"}},
		{as: "alice", cmd: "request block R-1 again", wantErr: "error: R-1 is already blocked"},
		{as: "alice", cmd: "request assign R-1 dan", wantErr: "error: d" + reqZW + "an is not an ops account (auth.ops); only ops work requests"},
		{as: "alice", cmd: `request assign R-1 ""`, wantErr: "usage: !request assign <R-12> <account> [--force]"},
		{as: "alice", cmd: "request assign R-1 Carol", want: []string{"R-1 assigned to carol by alice [blocked]: disk full on db3"}},
		{as: "carol", cmd: "request assign R-1 carol", wantErr: "error: R-1 is already assigned to c" + reqZW + "arol"},
		{as: "carol", cmd: "request take R-1", want: []string{"R-1 taken by carol [doing]: disk full on db3 (from b" + reqZW + "ob)"}},
		{as: "carol", cmd: "request reopen R-1", wantErr: "error: R-1 is still open (doing); only done or cancelled requests can be reopened"},
		{advance: 2 * time.Hour, as: "carol", cmd: "request done R-1 freed 40G", want: []string{"R-1 done by carol [done] after 2h06m, for bob: freed 40G"}},
		{as: "carol", cmd: "request done R-1", wantErr: "error: R-1 is already done"},
		{as: "carol", cmd: "request take R-1", wantErr: "error: R-1 is done; reopen it first (!request reopen R-1)"},
		{as: "bob", cmd: "request cancel R-1", wantErr: "error: R-1 is already done"},
		{as: "bob", cmd: "request reopen R-1", wantErr: "error: !request reopen needs the ops role (you are a developer)"},
		{as: "alice", cmd: "request reopen R-1", want: []string{"R-1 reopened by alice [todo]: disk full on db3"}},
		// Cancel: the requester or ops, nobody else.
		{as: "dan", cmd: "request cancel R-1", wantErr: "error: only the requester or ops may cancel R-1"},
		{as: "bob", cmd: "request cancel R-1", want: []string{"R-1 cancelled by bob [cancelled]: disk full on db3"}},
		{as: "carol", cmd: "request cancel R-3", want: []string{"R-3 cancelled by carol [cancelled]: x"}},
		{as: "bob", cmd: "request comment R-1 never mind, it was a cron job", want: []string{"R-1 comment added by bob [cancelled]"}},
		{as: "bob", cmd: "request frobnicate R-1", wantErr: "usage: !request <open|list|show|comment|take|assign|block|done|reopen|cancel|stats> (!help request)"},
	})

	r, err := e.st.Request(1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range r.History {
		got = append(got, fmt.Sprintf("%s %s %s->%s", ev.By, ev.Action, ev.From, ev.To))
	}
	want := []string{"bob open ->todo", "dan comment todo->todo", "alice take todo->doing", "alice block doing->blocked",
		"alice assign blocked->blocked", "carol take blocked->doing", "carol done doing->done", "alice reopen done->todo",
		"bob cancel todo->cancelled", "bob comment cancelled->cancelled"}
	if !slices.Equal(got, want) {
		t.Fatalf("history of R-1 = %q\nwant %q", got, want)
	}
	if d, ok := r.FirstResponseTime(); !ok || d != 6*time.Minute || r.FirstResponder != "alice" {
		t.Fatalf("first response %v %v by %q, want 6m by alice", d, ok, r.FirstResponder)
	}
}

func TestRequestOnDutyVariants(t *testing.T) {
	// The on-call family is always built in (the paging family, as the composition root links it): with an
	// empty rotation nobody is on call, and the reply says so.
	e := newReqEnv(t, func(d *testDeps) { d.OnCall, d.Catalog = nil, nil })
	runReqSteps(t, e, []reqStep{
		{as: "bob", cmd: "request open a --service anything", want: []string{"R-1 opened by bob: a [todo]. Service anything. On duty: nobody on call"}},
	})
	e = newReqEnv(t, func(d *testDeps) { d.Catalog = reqCatalog{} }) // an empty catalogue checks nothing
	runReqSteps(t, e, []reqStep{
		{as: "bob", cmd: "request open a --service anything", want: []string{"R-1 opened by bob: a [todo]. Service anything. On duty: alice"}},
	})
	e = newReqEnv(t, nil)
	e.onCall.who = ""
	runReqSteps(t, e, []reqStep{{as: "bob", cmd: "request open a", want: []string{"R-1 opened by bob: a [todo]. On duty: nobody on call"}}})
	e.onCall.err = errors.New("rotation broken")
	runReqSteps(t, e, []reqStep{{as: "bob", cmd: "request open b", want: []string{"R-2 opened by bob: b [todo]. On duty: unknown (on-call lookup failed)"}}})
	long := strings.Repeat("x", 401)
	runReqSteps(t, e, []reqStep{{as: "bob", cmd: "request open " + long, wantErr: "error: request text too long (401 bytes, at most 400)"}})
	if n, _ := e.st.OpenCounts(); n["requests"] != 2 {
		t.Fatalf("refused open stored something: %v", n)
	}
}

func TestRequestWIPLimitAndForce(t *testing.T) {
	e := newReqEnv(t, nil) // wip_limit 2
	for i := range 4 {
		e.run("bob", fmt.Sprintf("request open job %d", i+1), false)
	}
	runReqSteps(t, e, []reqStep{
		{as: "alice", cmd: "request take R-1", want: []string{"R-1 taken by alice [doing]: job 1 (from b" + reqZW + "ob)"}},
		{as: "alice", cmd: "request take R-2", want: []string{"R-2 taken by alice [doing]: job 2 (from b" + reqZW + "ob)"}},
		{as: "alice", cmd: "request take R-3", wantErr: "error: alice already has 2 in doing (WIP limit 2): R-1 job 1, R-2 job 2; finish one or add --force"},
		{as: "carol", cmd: "request assign R-3 alice", wantErr: "error: a" + reqZW + "lice already has 2 in doing (WIP limit 2): R-1 job 1, R-2 job 2; finish one or add --force"},
		{as: "alice", cmd: "request take R-3 --force", want: []string{"R-3 taken by alice [doing]: job 3 (from b" + reqZW + "ob)"}},
		{as: "carol", cmd: "request assign R-4 alice --force", want: []string{"R-4 assigned to alice by carol [doing]: job 4"}},
		{as: "alice", cmd: "request done R-1", want: []string{"R-1 done by alice [done] after 0s, for bob: job 1"}},
		{as: "carol", cmd: "request take R-2", want: []string{"R-2 taken by carol [doing]: job 2 (from b" + reqZW + "ob)"}},
	})
	if got, _ := e.st.Request(3); got.State != store.RequestDoing || got.Assignee != "alice" {
		t.Fatalf("R-3 = %s %s", got.State, got.Assignee)
	}
}

func TestRequestListShowBoard(t *testing.T) {
	e := newReqEnv(t, nil)
	e.run("bob", "request open disk full on db3 --urgent", false)
	e.now = e.now.Add(10 * time.Minute)
	e.run("dan", "request open rotate certs", false)
	e.now = e.now.Add(10 * time.Minute)
	e.run("bob", "request open new kafka topic", false)
	e.run("dan", "request open dns for staging", false)
	e.run("alice", "request take R-2", false)
	e.run("carol", "request take R-3", false)
	e.run("carol", "request block R-3 waiting for schema", false)
	e.run("alice", "request done R-4 added", false)
	e.now = e.now.Add(time.Hour)
	runReqSteps(t, e, []reqStep{
		{as: "", cmd: "request list", want: []string{
			"R-1 [todo, urgent] 1h20m, unassigned, from b" + reqZW + "ob: disk full on db3",
			"R-2 [doing] 1h10m, a" + reqZW + "lice, from d" + reqZW + "an: rotate certs",
			"R-3 [blocked] 1h, c" + reqZW + "arol, from b" + reqZW + "ob: new kafka topic (blocked: waiting for schema)"}},
		{as: "", cmd: "request list doing", want: []string{"R-2 [doing] 1h10m, a" + reqZW + "lice, from d" + reqZW + "an: rotate certs"}},
		{as: "bob", cmd: "request list mine", want: []string{
			"R-1 [todo, urgent] 1h20m, unassigned, from b" + reqZW + "ob: disk full on db3",
			"R-3 [blocked] 1h, c" + reqZW + "arol, from b" + reqZW + "ob: new kafka topic (blocked: waiting for schema)"}},
		{as: "alice", cmd: "request list mine", want: []string{"R-2 [doing] 1h10m, a" + reqZW + "lice, from d" + reqZW + "an: rotate certs"}},
		{as: "", cmd: "request list mine", wantErr: "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{as: "", cmd: "request list done", want: []string{"requests done: 1-1 of 1, most recently closed first",
			"R-4 [done] 1h ago, a" + reqZW + "lice, from d" + reqZW + "an, lead 0s: dns for staging"}},
		{as: "", cmd: "request list cancelled", want: []string{"requests: nothing in cancelled"}},
		{as: "", cmd: "request list later", wantErr: "usage: !request list [todo|doing|blocked|done|cancelled|mine|all] [--page N]"},
		{as: "", cmd: "request list --page 0", wantErr: "usage: !request list [todo|doing|blocked|done|cancelled|mine|all] [--page N]"},
		{as: "", cmd: "request list --page 922337203685477581", wantErr: "usage: !request list [todo|doing|blocked|done|cancelled|mine|all] [--page N]"}, // (page-1)*per overflowed
		{as: "", cmd: "request list all --page 2", wantErr: "error: page 2 is past the end (1 page)"},
		{as: "", cmd: "request show R-3", want: []string{
			"R-3 [blocked] new kafka topic. from b" + reqZW + "ob 1h ago; assignee c" + reqZW + "arol; blocked: waiting for schema; first response 0s",
			"09:20 b" + reqZW + "ob opened it", "09:20 c" + reqZW + "arol took it", "09:20 c" + reqZW + "arol blocked it: waiting for schema"}},
		{as: "", cmd: "request show 4", want: []string{
			"R-4 [done] dns for staging. from d" + reqZW + "an 1h ago; assignee a" + reqZW + "lice; first response 0s; lead time 0s",
			"09:20 d" + reqZW + "an opened it", "09:20 a" + reqZW + "lice marked it done: added"}},
		{as: "", cmd: "request show 44", wantErr: "error: no request R-44"},
		{as: "", cmd: "board", want: []string{
			"todo 1: R-1 (1h20m, urgent) disk full on db3",
			"doing 1: R-2 (1h10m, a" + reqZW + "lice) rotate certs",
			"blocked 1: R-3 (1h, c" + reqZW + "arol) new kafka topic",
			"WIP (limit 2): a" + reqZW + "lice 1, c" + reqZW + "arol 0 +1 blocked; 1 done in 7d"}},
	})
	// In a channel, show gives the last three events; in private, all of them.
	for range 3 {
		e.run("bob", "request comment R-3 any news?", false)
	}
	b := e.run("", "request show R-3", false)
	if len(b.Lines) != 4 || !strings.Contains(b.Lines[0], "last 3 of 6 events (all in private)") {
		t.Fatalf("show in channel = %q", b.Lines)
	}
	if b := e.run("", "request show R-3", true); len(b.Lines) != 7 {
		t.Fatalf("show in private = %d lines, want 7", len(b.Lines))
	}
}

func TestRequestBoardStaysFourLines(t *testing.T) {
	e := newReqEnv(t, nil)
	for i := range 60 {
		e.run("bob", fmt.Sprintf("request open a rather long request text number %d that goes on and on", i+1), false)
		e.now = e.now.Add(time.Minute)
	}
	for i := 1; i <= 40; i++ {
		who := []string{"alice", "carol"}[i%2]
		e.run(who, fmt.Sprintf("request take R-%d --force", i), false)
		if i%4 == 0 {
			e.run(who, fmt.Sprintf("request block R-%d vendor", i), false)
		}
	}
	b := e.run("", "board", false)
	if len(b.Lines) != 4 || len(b.Errors) != 0 {
		t.Fatalf("board = %d lines %q, errors %q", len(b.Lines), b.Lines, b.Errors)
	}
	for _, l := range b.Lines {
		if len(l) > 350 {
			t.Errorf("board line of %d bytes: %q", len(l), l)
		}
	}
	if !strings.HasPrefix(b.Lines[0], "todo 20: R-41 (") || !strings.HasSuffix(b.Lines[0], ", +17 more") ||
		!strings.HasPrefix(b.Lines[1], "doing 30: R-1 (") || !strings.HasPrefix(b.Lines[2], "blocked 10: R-4 (") ||
		b.Lines[3] != "WIP (limit 2): a"+reqZW+"lice 10 +10 blocked, c"+reqZW+"arol 20; 0 done in 7d" {
		t.Fatalf("board = %q", b.Lines)
	}
}

func TestRequestListAllPagesInPrivate(t *testing.T) {
	e := newReqEnv(t, nil)
	for i := range 45 {
		e.run("bob", fmt.Sprintf("request open job %d", i+1), false)
	}
	for i := 1; i <= 45; i += 3 {
		e.run("alice", fmt.Sprintf("request done R-%d", i), false)
	}
	b := e.run("bob", "request list all", true)
	if len(b.Lines) != 21 || b.Lines[0] != "requests all: 1-20 of 45, oldest first; next: !request list all --page 2" ||
		!strings.HasPrefix(b.Lines[1], "R-1 [done]") || !strings.HasPrefix(b.Lines[20], "R-20 [todo]") {
		t.Fatalf("page 1 = %q", b.Lines)
	}
	b = e.run("bob", "request list all --page 3", true)
	if len(b.Lines) != 6 || b.Lines[0] != "requests all: 41-45 of 45, oldest first" || !strings.HasPrefix(b.Lines[5], "R-45 ") {
		t.Fatalf("page 3 = %q", b.Lines)
	}
	// Open lists page too in private (30 open), and show everything in a channel (the bot caps the lines).
	b = e.run("bob", "request list", true)
	if len(b.Lines) != 21 || b.Lines[0] != "requests open: 1-20 of 30, oldest first; next: !request list --page 2" {
		t.Fatalf("open page 1 = %q", b.Lines[:2])
	}
	b = e.run("bob", "request list todo --page 2", true)
	if len(b.Lines) != 11 || b.Lines[0] != "requests todo: 21-30 of 30, oldest first" || !strings.HasPrefix(b.Lines[10], "R-45 ") {
		t.Fatalf("todo page 2 = %q", b.Lines)
	}
	if b := e.run("bob", "request list", false); len(b.Lines) != 30 {
		t.Fatalf("channel list = %d lines, want all 30 (capped by the bot)", len(b.Lines))
	}
}

func TestRequestStats(t *testing.T) {
	e := newReqEnv(t, nil)
	runReqSteps(t, e, []reqStep{
		{as: "", cmd: "request stats", want: []string{"requests, last 7d: 0 opened, 0 done, median first response n/a, median lead time n/a, interrupt rate n/a"}},
	})
	e.run("bob", "request open old one", false) // R-1, outside the window later
	e.now = e.now.Add(10 * 24 * time.Hour)
	e.run("bob", "request open a --urgent", false)
	e.run("bob", "request open b", false)
	e.run("bob", "request open c", false)
	e.run("bob", "request open d", false)
	e.now = e.now.Add(4 * time.Minute)
	e.run("alice", "request take R-2", false)
	e.now = e.now.Add(4 * time.Minute)
	e.run("carol", "request comment R-3 looking", false)
	e.run("bob", "request comment R-4 me again", false) // not ops: no response
	e.now = e.now.Add(2 * time.Hour)
	e.run("alice", "request done R-2", false)
	e.run("carol", "request done R-1", false)
	runReqSteps(t, e, []reqStep{
		{as: "", cmd: "request stats", want: []string{"requests, last 7d: 4 opened, 2 done, median first response 6m, " +
			"median lead time 5d2h, interrupt rate 25% (1 of 4 urgent); oldest open R-3 (2h08m)"}},
		{as: "", cmd: "request stats 30d", want: []string{"requests, last 30d: 5 opened, 2 done, median first response 8m, " +
			"median lead time 5d2h, interrupt rate 20% (1 of 5 urgent); oldest open R-3 (2h08m)"}},
		{as: "", cmd: "request stats soon", wantErr: "usage: !request stats [7d] (a window from 1h to 366d, like 7d or 30d)"},
	})
}

func TestRequestNagTimingAcrossRestart(t *testing.T) {
	e := newReqEnv(t, nil) // nag_after 30m, alice on call
	start := e.now
	e.run("bob", "request open disk full on db3", false)
	e.run("dan", "request open prod is down --urgent", false)
	e.run("dan", "request open taken right away", false)
	e.run("carol", "request take R-3", false)
	at := func(d time.Duration) {
		e.now = start.Add(d)
		e.nagJob()
	}
	expect := func(want ...string) {
		t.Helper()
		if !slices.Equal(e.ann.sent, want) {
			t.Fatalf("at +%v sent %q\nwant %q", e.now.Sub(start), e.ann.sent, want)
		}
		e.ann.sent = nil
	}
	at(9 * time.Minute)
	expect()
	at(10 * time.Minute)
	expect("notify alice urgent=true: R-2 waiting in todo for 10m (urgent): prod is down. Take it: !request take R-2")
	at(10*time.Minute + 30*time.Second)
	expect()
	// The bot restarts: the nag state is in the store, so nothing is repeated.
	e.restart()
	at(11 * time.Minute)
	expect()
	at(30 * time.Minute)
	expect("notify alice urgent=false: R-1 waiting in todo for 30m: disk full on db3. Take it: !request take R-1")
	e.restart()
	at(30 * time.Minute)
	expect()
	at(39 * time.Minute)
	expect()
	// Nobody on call: to the channel, naming nobody. Two due at once share one line.
	e.onCall.who = ""
	at(60 * time.Minute)
	expect(`channel "" urgent=true: 2 requests waiting in todo: R-1 1h: disk full on db3; R-2 1h urgent: prod is down. ` +
		"Take one: !request take <id> (!board) (nobody on call)")
	// Taken requests are not nagged; a reopened one counts from its reopening.
	e.run("alice", "request done R-1", false)
	e.run("alice", "request reopen R-1", false)
	e.run("alice", "request take R-2", false)
	at(89 * time.Minute)
	expect()
	at(90 * time.Minute)
	expect(`channel "" urgent=false: R-1 waiting in todo for 30m: disk full on db3. Take it: !request take R-1 (nobody on call)`)
	// A failed on-call lookup is not "nobody on call": the channel is told so (and the job reports the error).
	e.onCall.err = errors.New("store: on call: disk I/O error")
	e.now = start.Add(120 * time.Minute)
	if err := e.nagJobErr(); err == nil {
		t.Error("the nag job hid the failed lookup")
	}
	expect(`channel "" urgent=false: R-1 waiting in todo for 1h: disk full on db3. Take it: !request take R-1 (the on-call lookup failed: see the log)`)
}

// A reminder whose outbox write fails is tried again at the job's next run, not a whole nag_after later.
func TestRequestNagRetriedAfterFailedSend(t *testing.T) {
	ann := &pagingAnnouncer{}
	e := newReqEnv(t, func(d *testDeps) { d.Announce = ann }) // nag_after 30m, alice on call
	e.run("bob", "request open disk full on db3", false)
	ann.take()
	ann.failAfter(0) // the next outbox write fails
	e.now = e.now.Add(30 * time.Minute)
	if err := e.nagJobErr(); err == nil {
		t.Fatal("the failed send was not reported")
	}
	for range 2 {
		e.now = e.now.Add(time.Minute)
		e.nagJob()
	}
	if got := ann.take(); len(got) != 1 || !strings.HasPrefix(got[0].Text, "R-1 waiting in todo for 31m") {
		t.Fatalf("sent after the failed reminder: %+v, want R-1's once, a minute later", got)
	}
}

func TestRequestFamilyHelp(t *testing.T) {
	e := newReqEnv(t, nil)
	b := e.run("", "help request take", false)
	if len(b.Lines) != 1 || b.Lines[0] != "usage: !request take <R-12> [--force] (ops) Takes a request (to doing), within your WIP limit unless --force." {
		t.Fatalf("help = %q", b.Lines)
	}
	b = e.run("", "status", false)
	if len(b.Lines) != 1 || !strings.Contains(b.Lines[0], "open: nothing") {
		t.Fatalf("status = %q", b.Lines)
	}
	e.run("bob", "request open the disk is full", false)
	if b = e.run("", "status", false); len(b.Lines) != 1 || !strings.Contains(b.Lines[0], "open: 1 request;") {
		t.Fatalf("status with one request = %q", b.Lines)
	}
}

func TestRequestAgenda(t *testing.T) {
	e := newReqEnv(t, nil)
	week := e.now
	e.run("bob", "request open disk full on db3 --urgent", false)
	e.run("bob", "request open upgrade postgres", false)
	e.run("dan", "request open dns for staging", false)
	e.now = e.now.Add(time.Hour)
	e.run("carol", "request take R-2", false)
	e.run("carol", "request block R-2 waiting for the vendor", false)
	e.run("alice", "request take R-3", false)
	e.run("alice", "request done R-1", false)
	e.now = e.now.Add(24 * time.Hour)
	d := e.deps
	var a AgendaSource = NewRequests(d.runtime(), e.st, RequestConfig{WIPLimit: d.RequestWIPLimit, NagAfter: d.RequestNagAfter}, d.OnCall, d.Catalog)
	if a.AgendaName() != "requests" {
		t.Fatalf("AgendaName = %q", a.AgendaName())
	}
	tests := []struct {
		kind string
		want []string
	}{
		{"retro", []string{"opened 3, done 1, median first response 1h, median lead time 1h, 33% urgent", "oldest open R-2 (7d)"}},
		{"planning", []string{"open: todo 0, doing 1, blocked 1",
			"blocked: R-2 (7d, c" + reqZW + "arol) upgrade postgres: waiting for the vendor",
			"WIP (limit 2): a" + reqZW + "lice 1, c" + reqZW + "arol 0 +1 blocked"}},
		{"scalability", nil},
	}
	for _, tt := range tests {
		got, err := a.Agenda(tt.kind, week, week.Add(7*24*time.Hour))
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Agenda(%q) = %q, %v\nwant %q", tt.kind, got, err, tt.want)
		}
	}
}

func (a *recAnnouncer) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}
