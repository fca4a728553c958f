package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// fakeAM speaks the silence part of Alertmanager's API v2 (the end-to-end tests use a real one): it keeps
// silences, answers 503 while down, and records the requests.
type fakeAM struct {
	mu       sync.Mutex
	down     bool
	silences map[string]map[string]any
	seq      int
	requests []string
	srv      *httptest.Server
}

func newFakeAM(t *testing.T) *fakeAM {
	f := &fakeAM{silences: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		if f.down {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v2/silences":
			var s map[string]any
			json.Unmarshal(body, &s)
			id, _ := s["id"].(string)
			if id == "" {
				f.seq++
				id = fmt.Sprintf("sil-%d", f.seq)
			}
			s["state"] = "active"
			f.silences[id] = s
			fmt.Fprintf(w, `{"silenceID":%q}`, id)
		case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/api/v2/silence/"):
			id := strings.TrimPrefix(r.URL.Path, "/api/v2/silence/")
			if s, ok := f.silences[id]; ok {
				s["state"] = "expired"
				return
			}
			http.Error(w, "silence not found", 500)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAM) silence(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.silences[id]
}

func (f *fakeAM) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// maintEnv is the maintenance family with the alerts, paging, incidents and deploys families over a real
// store, an injected clock, a fake Alertmanager for silences, and the real dispatcher.
type maintEnv struct {
	t      *testing.T
	path   string
	loc    *time.Location
	st     *store.Store
	now    time.Time
	ann    *pagingAnnouncer
	am     *fakeAM
	disp   *Dispatcher
	jobs   map[string]Job
	mux    *http.ServeMux
	maint  *Maint
	deploy *Deploys
	topic  *incTopic
}

func newMaintEnv(t *testing.T, now time.Time, loc *time.Location) *maintEnv {
	e := &maintEnv{t: t, path: filepath.Join(t.TempDir(), "opsbot.db"), now: now, loc: loc, ann: &pagingAnnouncer{}, am: newFakeAM(t),
		topic: &incTopic{topics: map[string]string{"#operations": "Welcome"}}}
	e.start()
	t.Cleanup(func() { e.st.Close() })
	return e
}

func (e *maintEnv) start() {
	e.t.Helper()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	st.Now = func() time.Time { return e.now }
	e.st = st
	rt := Runtime{Now: st.Now, Location: e.loc, Announce: e.ann, Channel: "#operations",
		Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil)}
	if _, err := st.SeedServices([]store.ServiceSeed{{Name: "playlist", SLO: 99.9}, {Name: "search"}}); err != nil {
		e.t.Fatal(err)
	}
	e.maint = NewMaint(rt, st, MaintConfig{AlertmanagerURL: e.am.srv.URL}, MaintLinks{Catalog: st})
	paging := NewPaging(rt, st, PagingConfig{Rotation: store.Rotation{Accounts: []string{"alice"}, Weekday: time.Monday, At: 10 * time.Hour,
		Location: time.UTC}}, PagingLinks{Catalog: st, Windows: e.maint})
	alerts := NewAlerts(rt, st, AlertConfig{Token: alertToken}, paging, e.maint)
	incidents := NewIncidents(rt, st, IncidentConfig{DeclareRole: "ops", Topic: true, TopicEvery: time.Second}, IncidentLinks{Catalog: st, Pager: paging,
		SLOs: st, Topic: e.topic, Windows: e.maint})
	e.deploy = NewDeploys(rt, st, DeployConfig{}, DeployLinks{Catalog: st, Freezes: FreezesOf{st, e.maint}})
	w := wireSet(e.t, rt, st, paging.Family(), alerts.Family(), incidents.Family(), e.deploy.Family(), e.maint.Family())
	e.jobs, e.mux, e.disp = w.jobs, w.mux, w.disp
}

func (e *maintEnv) restart() {
	e.st.Close()
	e.start()
}

// say runs a command as account in #operations ("/msg ..." in private) and returns the answer.
func (e *maintEnv) say(account, text string) string {
	channel := "#operations"
	if rest, ok := strings.CutPrefix(text, "/msg "); ok {
		text, channel = rest, ""
	}
	var b Buffer
	e.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: account, Nick: account}, Channel: channel, Text: text}, &b)
	return strings.ReplaceAll(strings.Join(append(b.Lines, b.Errors...), "\n"), "\u200b", "")
}

func (e *maintEnv) job(name string) {
	e.t.Helper()
	if err := e.jobs[name].Run(context.Background(), e.now); err != nil {
		e.t.Fatalf("job %s: %v", name, err)
	}
}

func (e *maintEnv) told() []string { return alertTexts(e.ann.take()) }

var maintNow = time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC) // a Tuesday evening

// Bad input is one clear line and plans nothing.
func TestMaintRefusals(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	for _, tt := range []struct{ as, cmd, want string }{
		{"bob", "maint add playlist now 1h x", "error: !maint add needs the ops role (you are a developer)"},
		{"alice", "maint add playlist 2026-12-01T10:00:00Z 1h x", "error: 2026-12-01T10:00:00Z is in the past (a window starts now or later)"},
		{"alice", "maint add playlist now 0s x", `error: bad duration "0s" (use 30m, 2h)`},
		{"alice", "maint add playlist now 13h x", "error: 13h is longer than maintenance.max_duration (12h)"},
		{"alice", "maint add playlst now 1h x", `error: unknown service "playlst", did you mean playlist?`},
		{"alice", "maint add playlist tomorrow 1h x", `error: bad start "tomorrow" (use now, +2h, 14:05 or 2026-12-08T02:00:00+01:00)`},
		{"alice", "maint add playlist +0s 1h x", `error: bad start "+0s" (use now, +2h, 14:05 or 2026-12-08T02:00:00+01:00)`},
		{"alice", "maint add playlist +2 1h x", `error: bad start "+2" (use now, +2h, 14:05 or 2026-12-08T02:00:00+01:00)`},
		{"alice", `maint add playlist now 2h x --every "0 * * * *"`, `error: --every "0 * * * *" repeats every 1h, sooner than the window's 2h: windows would overlap`},
		{"alice", `maint add playlist now 2h x --every "61 * * * *"`, `error: --every "61 * * * *": end of range (61) above maximum (59): 61`},
		{"alice", "maint add playlist now 1h", "usage: !maint add <service|all> <now|+2h|14:05|RFC 3339> <duration> <reason> [--freeze] [--silence] [--every \"<cron>\"]"},
		{"alice", "maint end M-9", "error: no maintenance window M-9"},
	} {
		if got := e.say(tt.as, tt.cmd); got != tt.want {
			t.Errorf("%s: %q\n got %q\nwant %q", tt.as, tt.cmd, got, tt.want)
		}
	}
	if ws, _ := e.st.RecentWindows(10); len(ws) != 0 {
		t.Fatalf("refusals planned %d windows", len(ws))
	}
	off := newMaintEnv(t, maintNow, time.UTC)
	off.maint.am = nil
	if got := off.say("alice", "maint add playlist now 1h x --silence"); got != "error: --silence needs alerts.alertmanager_url in the config (where to create the silence)" {
		t.Errorf("--silence without a URL: %q", got)
	}
}

// "+2h" starts a window that long from now, and !maint alone lists the windows as !maint list does.
func TestMaintRelativeStartAndBareList(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	if got := e.say("alice", "maint add playlist +2h30m 1h db vacuum"); !strings.HasPrefix(got, "M-1 maintenance on playlist Wed 00:30-01:30 UTC (1h)") {
		t.Fatalf("+2h30m: %q", got)
	}
	if w, err := e.st.Window(1); err != nil || !w.Start.Equal(maintNow.Add(150*time.Minute)) {
		t.Fatalf("M-1 = %+v, %v; want a start 2h30m from now", w, err)
	}
	if bare, list := e.say("bob", "maint"), e.say("bob", "maint list"); bare != list || !strings.HasPrefix(bare, "M-1 playlist ") {
		t.Errorf("!maint = %q, !maint list = %q", bare, list)
	}
}

// A window's life: planned (the reply is the channel's line), started, ending soon and ended, each told once,
// also across a restart in the middle; it freezes deploys and holds alert pages back while it lasts, lets a
// person's page through, and the alerts still firing page once it is over.
func TestMaintWindowLife(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	if got := e.say("alice", "maint add playlist 23:00 2h db migration --freeze"); got !=
		"M-1 maintenance on playlist 23:00-01:00 UTC (2h) by alice: db migration; deploys frozen; alert pages held back" {
		t.Fatalf("add = %q", got)
	}
	e.job("maintenance")
	if got := e.told(); len(got) != 0 {
		t.Fatalf("told %q before the start (the reply was the announcement)", got)
	}
	if got := e.say("", "maint list"); got != "M-1 playlist 23:00-01:00 UTC: db migration [freeze]" {
		t.Fatalf("list = %q", got)
	}
	e.now = e.now.Add(time.Hour)
	e.job("maintenance")
	if got := e.told(); len(got) != 1 || got[0] != "# M-1 maintenance started on playlist until 01:00: db migration; deploys frozen; alert pages held back" {
		t.Fatalf("start told %q", got)
	}
	if got := e.say("bob", "deploy start playlist 1.2"); got != "error: deploys of playlist are frozen: M-1: db migration until 01:00; ops may add --force" {
		t.Fatalf("deploy during the freeze = %q", got)
	}
	if why, _ := e.deploy.links.Freezes.FrozenBy("search"); why != "" {
		t.Fatalf("search is frozen: %q", why)
	}
	// An alert for playlist is held back; a person's page goes through, marked.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/hooks/alertmanager", strings.NewReader(amBody(am{"HighLatency", "playlist", "critical", "p1", ""})))
	req.Header.Set("Authorization", "Bearer "+alertToken)
	e.mux.ServeHTTP(rec, req)
	e.job("alerts news")
	if got := e.told(); rec.Code != 200 || len(got) != 0 {
		t.Fatalf("alert during the window: %d, told %q", rec.Code, got)
	}
	if got := e.say("", "alerts"); !strings.HasPrefix(got, "A-1 [FIRING:1] HighLatency on playlist (critical) since") || !strings.Contains(got, "suppressed by M-1") {
		t.Fatalf("!alerts = %q", got)
	}
	e.say("bob", "page playlist the db migration broke search")
	if got := e.told(); len(got) != 2 || !strings.HasSuffix(got[0], "P-1 paging alice: [playlist] the db migration broke search (during M-1: db migration) (ack with !ack P-1 within 5m)") {
		t.Fatalf("person's page told %q", got)
	}
	e.restart()
	e.now = e.now.Add(time.Hour + 45*time.Minute - time.Hour) // 23:45: nothing due
	e.job("maintenance")
	if got := e.told(); len(got) != 0 {
		t.Fatalf("after a restart: told %q again", got)
	}
	e.now = time.Date(2026, 12, 2, 0, 46, 0, 0, time.UTC)
	e.job("maintenance")
	if got := e.told(); len(got) != 1 || got[0] != "# M-1 maintenance on playlist ends in 14m (01:00): db migration" {
		t.Fatalf("ending told %q", got)
	}
	e.restart()
	e.job("maintenance")
	if got := e.told(); len(got) != 0 {
		t.Fatalf("ending told again after a restart: %q", got)
	}
	e.now = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	e.job("maintenance")
	e.job("maintenance")
	if got := e.told(); len(got) != 1 || got[0] != "# M-1 maintenance on playlist ended (2h)" {
		t.Fatalf("end told %q", got)
	}
	e.job("alerts release")
	got := e.told()
	if len(got) != 2 || !strings.HasPrefix(got[0], "# P-2 paging alice: [FIRING:1] HighLatency on playlist (critical)") {
		t.Fatalf("after the window the alert paged: %q", got)
	}
	e.job("alerts release")
	if got := e.told(); len(got) != 0 {
		t.Fatalf("released twice: %q", got)
	}
	if got := e.say("bob", "deploy start playlist 1.2"); !strings.HasPrefix(got, "D-1 playlist 1.2 started") {
		t.Fatalf("deploy after the window = %q", got)
	}
	if got := e.say("", "maint list"); !strings.HasPrefix(got, "no maintenance windows planned") {
		t.Fatalf("list after = %q", got)
	}
}

// --silence creates a silence on the service's label ending with the window; end expires it, extend moves its
// end; Alertmanager down at creation: the window stands, the reply says so, and the job creates it later.
func TestMaintSilence(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	got := e.say("alice", "maint add playlist now 1h db migration --silence")
	if !strings.HasSuffix(got, "alert pages held back; alerts silenced in Alertmanager (silence sil-1)") {
		t.Fatalf("add = %q", got)
	}
	s := e.am.silence("sil-1")
	m := s["matchers"].([]any)[0].(map[string]any)
	if m["name"] != "service" || m["value"] != "playlist" || m["isRegex"] != false || s["createdBy"] != "alice" ||
		s["comment"] != "M-1: db migration" || s["endsAt"] != "2026-12-01T23:00:00Z" {
		t.Fatalf("silence = %v", s)
	}
	if got := e.say("alice", "maint extend M-1 1ms"); got != `error: bad duration "1ms" (use 30m, 2h)` {
		t.Errorf("!maint extend M-1 1ms = %q", got)
	}
	if got := e.say("alice", "maint extend M-1 30m"); !strings.HasSuffix(got, "extended by 30m to 23:30 (1h30m in all); alerts silenced in Alertmanager (silence sil-1)") {
		t.Fatalf("extend = %q", got)
	}
	if s := e.am.silence("sil-1"); s["endsAt"] != "2026-12-01T23:30:00Z" {
		t.Fatalf("extended silence = %v", s)
	}
	e.now = e.now.Add(10 * time.Minute)
	if got := e.say("alice", "maint end M-1"); got != "M-1 maintenance on playlist ended by alice after 10m; the silence is expired in Alertmanager" {
		t.Fatalf("end = %q", got)
	}
	if s := e.am.silence("sil-1"); s["state"] != "expired" {
		t.Fatalf("silence after the end = %v", s)
	}

	e.am.setDown(true)
	got = e.say("alice", "maint add search now 1h network change --silence")
	if !strings.Contains(got, "M-2 maintenance on search") || !strings.Contains(got, "the silence failed (alertmanager answered 503: down for the test) and will be retried (!maint show M-2)") {
		t.Fatalf("add with Alertmanager down = %q", got)
	}
	if got := e.say("", "maint show M-2"); !strings.Contains(got, "M-2 silence: not created yet: alertmanager answered 503: down for the test; next try in") {
		t.Fatalf("show = %q", got)
	}
	e.now = e.now.Add(30 * time.Second)
	e.job("maintenance") // still down: tried again, backing off (10s, 20s, 40s, ...)
	e.now = e.now.Add(time.Minute)
	e.job("maintenance")
	e.am.setDown(false)
	e.now = e.now.Add(time.Minute)
	e.job("maintenance")
	if got := e.say("", "maint show M-2"); !strings.Contains(got, "M-2 silence: in Alertmanager until 23:10 (sil-2)") {
		t.Fatalf("show after the retry = %q", got)
	}
	// Cancelled before it starts, a window's silence is expired too; "all" matches every alert.
	got = e.say("alice", "maint add all 2026-12-05T02:00:00Z 1h datacenter move --silence")
	if !strings.HasSuffix(got, "(silence sil-3)") {
		t.Fatalf("add all = %q", got)
	}
	if m := e.am.silence("sil-3")["matchers"].([]any)[0].(map[string]any); m["name"] != "alertname" || m["value"] != ".+" || m["isRegex"] != true {
		t.Fatalf("all's matcher = %v", m)
	}
	if got := e.say("alice", "/msg maint cancel M-3"); !strings.HasSuffix(got, "cancelled by alice; the silence is expired in Alertmanager") {
		t.Fatalf("cancel = %q", got)
	}
	if got := e.told(); len(got) != 2 || !strings.Contains(got[1], "M-3 maintenance on all") || !strings.Contains(got[1], "cancelled by alice") {
		t.Fatalf("a private cancel told %q", got)
	}
}

// --every makes a window of its own at each occurrence, created a week ahead, at the local time across a DST
// change.
func TestMaintRecurringAcrossDST(t *testing.T) {
	sthlm, _ := time.LoadLocation("Europe/Stockholm")
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, sthlm) // a Friday; DST begins Sunday 2026-03-29
	e := newMaintEnv(t, now, sthlm)
	got := e.say("alice", `maint add playlist now 1h weekly vacuum --every "0 2 * * TUE"`)
	if !strings.HasPrefix(got, "M-1 maintenance on playlist Tue 02:00-03:00 CET (1h) by alice: weekly vacuum; repeats (0 2 * * TUE)") {
		t.Fatalf("add = %q", got)
	}
	e.job("maintenance")
	e.now = time.Date(2026, 3, 27, 12, 0, 0, 0, sthlm)
	e.job("maintenance")
	e.job("maintenance")
	ws, _ := e.st.RecentWindows(10)
	if len(ws) != 2 {
		t.Fatalf("%d windows, want the occurrences of Mar 24 and 31", len(ws))
	}
	first, second := ws[1], ws[0]
	if first.Start.UTC() != time.Date(2026, 3, 24, 1, 0, 0, 0, time.UTC) || second.Start.UTC() != time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC) ||
		second.End.Sub(second.Start) != time.Hour || second.Series != first.Series || second.Ref() != "M-2" {
		t.Fatalf("occurrences %v..%v and %v..%v (series %d, %d): want 02:00 local before and after the change", first.Start, first.End,
			second.Start, second.End, first.Series, second.Series)
	}
	if got := e.say("", "maint list"); !strings.Contains(got, "M-2 playlist Tue 02:00-03:00 CEST: weekly vacuum [recurring]") {
		t.Fatalf("list = %q", got)
	}
	if got := e.told(); len(got) != 1 || !strings.Contains(got[0], "M-1 maintenance on playlist ended (1h); it ran") {
		t.Fatalf("told %q (the occurrence is not announced when created, the first ran while the clock jumped)", got)
	}
	if got := e.say("alice", "maint cancel M-2 --series"); !strings.Contains(got, "its series stopped") {
		t.Fatalf("cancel --series = %q", got)
	}
	e.now = e.now.Add(14 * 24 * time.Hour)
	e.job("maintenance")
	if ws, _ := e.st.RecentWindows(10); len(ws) != 2 {
		t.Fatalf("a stopped series made %d windows", len(ws))
	}
}

// stockholmSeries is a maintenance env in Stockholm at local time now ("2026-10-19 12:00") where alice added
// "maint add playlist now <length> vacuum --every <spec>" and the maintenance job has run.
func stockholmSeries(t *testing.T, now, length, spec string) *maintEnv {
	t.Helper()
	sthlm, _ := time.LoadLocation("Europe/Stockholm")
	at, _ := time.ParseInLocation("2006-01-02 15:04", now, sthlm)
	e := newMaintEnv(t, at, sthlm)
	if got := e.say("alice", fmt.Sprintf("maint add playlist now %s vacuum --every %q", length, spec)); !strings.HasPrefix(got, "M-1 maintenance on playlist") {
		t.Fatalf("at %s, %s every %q: add = %q", now, length, spec, got)
	}
	e.job("maintenance")
	return e
}

// startsOn lists the windows' starts on a local day ("2026-10-25") as "02:30 CEST".
func (e *maintEnv) startsOn(day string) []string {
	e.t.Helper()
	ws, err := e.st.RecentWindows(50)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, w := range ws {
		if s := w.Start.In(e.loc); s.Format("2006-01-02") == day {
			out = append(out, s.Format("15:04 MST"))
		}
	}
	return out
}

// On the autumn DST change (25 October, 03:00 CEST -> 02:00 CET) the repeated 02:30 is one local time, as for
// reminders: one window, and a weekly 2h series added the day before is weekly, not "every 1h".
func TestMaintRecurringFallBackIsOneOccurrence(t *testing.T) {
	e := stockholmSeries(t, "2026-10-19 12:00", "1h", "30 2 * * SUN")
	if got := e.startsOn("2026-10-25"); len(got) != 1 || got[0] != "02:30 CEST" {
		t.Fatalf("windows on 25 October: %q, want one at 02:30 CEST", got)
	}
	stockholmSeries(t, "2026-10-24 12:00", "2h", "30 2 * * SUN")
}

// On the spring DST change (29 March, 02:00 CET -> 03:00 CEST) a nightly 02:30 window, whose local time does
// not exist that night, starts when the gap ends, as classic cron runs it; the nights around it keep 02:30.
func TestMaintRecurringSpringForwardStartsAfterTheGap(t *testing.T) {
	e := stockholmSeries(t, "2026-03-25 12:00", "1h", "30 2 * * *")
	for day, want := range map[string]string{"2026-03-28": "02:30 CET", "2026-03-29": "03:00 CEST", "2026-03-30": "02:30 CEST"} {
		if got := e.startsOn(day); len(got) != 1 || got[0] != want {
			t.Errorf("windows on %s: %q, want one at %s", day, got, want)
		}
	}
}

// Planned work inside a window is planned downtime beside availability, not against the SLO; the topic shows
// the window in progress; the planning agenda and the API list the coming windows.
func TestMaintPlannedDowntimeTopicAgenda(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	e.say("alice", "maint add playlist now 2h db migration")
	e.job("maintenance")
	e.job("incident-topic")
	if got := e.topic.topics["#operations"]; got != "M-1 maintenance playlist until 00:00 | Welcome" {
		t.Fatalf("topic = %q", got)
	}
	got := e.say("alice", "incident declare sev1 playlist planned switch-over --planned")
	if !strings.Contains(got, "Planned work in M-1: planned downtime while its impact stays inside the window") {
		t.Fatalf("declare --planned = %q", got)
	}
	e.now = e.now.Add(30 * time.Minute)
	e.say("alice", "incident resolve INC-1")
	e.say("alice", "incident declare sev1 playlist an outage") // not planned: counts
	e.now = e.now.Add(10 * time.Minute)
	e.say("alice", "incident resolve INC-2")
	if got := e.say("", "availability playlist 30d"); got != "playlist: 99.97% over 30d, SLO 99.9%, 10m of 43m budget used; 30m planned downtime (not counted)" {
		t.Fatalf("availability = %q", got)
	}
	agenda, _ := e.maint.Agenda("planning", maintNow.Add(-7*24*time.Hour), maintNow.Add(-time.Hour))
	if len(agenda) != 1 || !strings.HasPrefix(agenda[0], "1 window: M-1 playlist") {
		t.Fatalf("planning agenda = %q", agenda)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/maintenance", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ref": "M-1"`) || !strings.Contains(rec.Body.String(), `"in_progress": true`) {
		t.Fatalf("GET /api/v1/maintenance = %d %s", rec.Code, rec.Body)
	}
}
