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

// incidentHarness runs the real dispatcher over a real store with fake contracts and an injected clock.
type incidentHarness struct {
	t     *testing.T
	now   time.Time
	st    *store.Store
	disp  *Dispatcher
	jobs  []Job
	pager *incPager
	topic *incTopic
	ann   *incAnnouncer
	deps  testDeps
}

func newIncidentHarness(t *testing.T, configure func(*testDeps)) *incidentHarness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &incidentHarness{t: t, now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), st: st,
		pager: &incPager{}, topic: &incTopic{topics: map[string]string{"#operations": "Welcome to ops"}}, ann: &incAnnouncer{}}
	st.Now = func() time.Time { return h.now }
	d := testDeps{Store: st, Prefix: "!", Now: func() time.Time { return h.now }, Location: time.UTC, Channel: "#operations",
		Announce: h.ann, Pager: h.pager, Topic: h.topic,
		Catalog: incCatalog{"playlist": {"bob", "search", "radio"}, "search": {"carol", "web"}, "radio": {""}, "web": {""}},
		Deploys: incDeploys{"playlist": {{ID: 40, Service: "playlist", Version: "1.42", Env: "prod", State: store.DeploySucceeded,
			Started: time.Date(2026, 3, 10, 10, 5, 0, 0, time.UTC), By: "alice"}}},
		SLOs: incSLOs{"playlist": 99.9},
		IncidentOptions: IncidentConfig{DeclareRole: "ops", PageOnSev: 2, FreezeOnSev: 2, Topic: true,
			Weights: map[string]float64{"sev1": 1, "sev2": 0.5, "sev3": 0.1, "sev4": 0}},
	}
	if configure != nil {
		configure(&d)
	}
	h.deps = d
	reg, jobs, err := buildAll(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs { // the incidents family's own jobs; paging's run elsewhere
		if strings.HasPrefix(j.Name, "incident") {
			h.jobs = append(h.jobs, j)
		}
	}
	h.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil),
		Audit: st, Now: func() time.Time { return h.now }})
	return h
}

// run dispatches text from account (anonymous when "") in #operations and returns replies and errors.
func (h *incidentHarness) run(account, text string) *Buffer {
	return h.runIn(account, "#operations", text)
}

func (h *incidentHarness) runIn(account, channel, text string) *Buffer {
	nick := account
	if nick == "" {
		nick = "anon"
	}
	b := &Buffer{}
	h.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: account, Nick: nick}, Text: text, Channel: channel}, b)
	return b
}

// one dispatches and returns the single line of output (reply or error), failing if there is not exactly one.
func (h *incidentHarness) one(account, text string) string {
	h.t.Helper()
	b := h.run(account, text)
	out := append(append([]string(nil), b.Lines...), b.Errors...)
	if len(out) != 1 {
		h.t.Fatalf("%s: %q gave %d lines, want 1: %q", account, text, len(out), out)
	}
	return out[0]
}

func (h *incidentHarness) runJobs() {
	h.t.Helper()
	for _, j := range h.jobs {
		if err := j.Run(context.Background(), h.now); err != nil {
			h.t.Fatalf("job %s: %v", j.Name, err)
		}
	}
}

type incPager struct{ calls []string }

func (p *incPager) PageOnCall(_ context.Context, by, service, text string) (string, error) {
	p.calls = append(p.calls, fmt.Sprintf("%s/%s: %s", by, service, text))
	return fmt.Sprintf("P-%d", len(p.calls)), nil
}

type incTopic struct {
	topics map[string]string
	sets   []string
	err    error
}

func (f *incTopic) Topic(ch string) (string, bool) { t, ok := f.topics[ch]; return t, ok }
func (f *incTopic) SetTopic(ch, text string) error {
	if f.err != nil {
		return f.err
	}
	f.sets = append(f.sets, text)
	f.topics[ch] = text
	return nil
}

type incAnnouncer struct{ posts []string }

func (a *incAnnouncer) Announce(ch, text string, urgent bool) error {
	a.posts = append(a.posts, fmt.Sprintf("[%s urgent=%v] %s", ch, urgent, text))
	return nil
}
func (a *incAnnouncer) Notify(nick, text string, urgent bool) error { return nil }

// incCatalog maps a service to its owner followed by its dependents.
type incCatalog map[string][]string

func (c incCatalog) ServiceOwner(name string) (string, error) {
	if v, ok := c[name]; ok {
		return v[0], nil
	}
	return "", fmt.Errorf("service %s: %w", name, store.ErrNotFound)
}
func (c incCatalog) ServiceImpact(name string) ([]string, error) {
	if v, ok := c[name]; ok {
		return v[1:], nil
	}
	return nil, fmt.Errorf("service %s: %w", name, store.ErrNotFound)
}
func (c incCatalog) ServiceNames() ([]string, error) { return sortedKeys(c), nil }

type incDeploys map[string][]store.Deploy

func (d incDeploys) CurrentVersion(service, env string) (string, error) { return "", nil }
func (d incDeploys) DeploysStartedBetween(service string, from, to time.Time) ([]store.Deploy, error) {
	return d[service], nil
}

type incSLOs map[string]float64

func (s incSLOs) ServiceSLO(name string) (float64, bool, error) { v, ok := s[name]; return v, ok, nil }

func TestIncidentLifecycleThroughTheDispatcher(t *testing.T) {
	h := newIncidentHarness(t, nil)
	steps := []struct{ who, text, want string }{
		{"alice", `incident declare sev2 playlist 500s on play --since 15m`,
			"INC-1 declared SEV2 on playlist by a" + zw + "lice: 500s on play. Commander: a" + zw + "lice. Owner: b" + zw + "ob. May affect: search, radio. Impact since 11:45. Deploys of playlist frozen while open. Paged the on-call: P-1"},
		{"carol", "incident update INC-1 rolled back to 1.41", "INC-1 updated: rolled back to 1.41"},
		{"carol", "incident status 1 identified", "INC-1 status: identified (was investigating)"},
		{"carol", "incident status inc1 monitoring", "INC-1 status: monitoring (was identified)"},
		{"carol", "incident commander INC-1 carol", "INC-1 commander: c" + zw + "arol (was a" + zw + "lice)"},
		{"carol", "incident commander INC-1 alice", "INC-1 commander: alice (was c" + zw + "arol)"},
		{"alice", "incident affects INC-1 search", "INC-1 now affects playlist, search. Deploys of search frozen while open"},
		{"alice", "incident list", "INC-1 SEV2 playlist,search monitoring for 15m: 500s on play (commander a" + zw + "lice)"},
		{"alice", "incident sev INC-1 sev3", "INC-1 is now SEV3 (was SEV2). INC-1 no longer freezes deploys of playlist, search"},
		{"alice", "incident sev INC-1 SEV1", "INC-1 is now SEV1 (was SEV3). Deploys of playlist, search frozen while open"},
	}
	for _, s := range steps {
		if got := h.one(s.who, s.text); got != s.want {
			t.Fatalf("%s: %q\n got %q\nwant %q", s.who, s.text, got, s.want)
		}
	}
	if len(h.pager.calls) != 1 || h.pager.calls[0] != "alice/playlist: INC-1 SEV2 on playlist: 500s on play" {
		t.Errorf("pages = %q, want one for the declaration (already paged when raised to SEV1)", h.pager.calls)
	}
	if why, _ := h.st.FrozenBy("search"); why != "INC-1 SEV1 open" {
		t.Errorf("FrozenBy(search) = %q", why)
	}
	h.now = h.now.Add(50 * time.Minute)
	if got, want := h.one("alice", "incident resolve INC-1 bad config reverted --at 5m"),
		"INC-1 resolved by a"+zw+"lice after 1h (SEV1 on playlist, search): bad config reverted. INC-1 no longer freezes deploys of playlist, search"; got != want {
		t.Fatalf("resolve\n got %q\nwant %q", got, want)
	}
	if why, _ := h.st.FrozenBy("playlist"); why != "" {
		t.Errorf("FrozenBy(playlist) after resolve = %q", why)
	}
	if got := h.one("alice", "incident list"); got != "no open incidents" {
		t.Errorf("list after resolve = %q", got)
	}
	if got, want := h.one("alice", "incident list recent"), "INC-1 SEV1 playlist,search resolved 12:45 after 1h: 500s on play"; got != want {
		t.Errorf("list recent\n got %q\nwant %q", got, want)
	}
	show := h.run("", "incident show INC-1").Lines
	want := []string{
		"INC-1 SEV1 resolved on playlist, search: 500s on play. Impact 11:45 to 12:45 (1h). Commander: a" + zw + "lice. Paged P-1",
		"deploys in the 24h before: playlist D-40 1.42 prod succeeded 10:05 by a" + zw + "lice",
		"12:00 a" + zw + "lice: severity SEV3 -> SEV1",
		"12:50 a" + zw + "lice: resolved (impact ended 12:45): bad config reverted",
	}
	if len(show) != 4 || show[0] != want[0] || show[1] != want[1] || show[2] != want[2] || show[3] != want[3] {
		t.Errorf("show =\n%q\nwant head, deploys and the last 2 entries\n%q", show, want)
	}
	private := h.runIn("", "", "incident show INC-1").Lines
	if len(private) != 13 {
		t.Errorf("show in private has %d lines, want head, deploys and all 11 entries", len(private))
	}
	for _, want := range []string{
		"12:00 a" + zw + "lice: declared SEV2 on playlist: 500s on play (impact since 11:45)",
		"12:00 c" + zw + "arol: commander a" + zw + "lice -> c" + zw + "arol",
	} {
		if !slices.Contains(private, want) {
			t.Errorf("show in private lacks %q:\n%q", want, private)
		}
	}
	if got, want := h.one("alice", "incident reopen INC-1"), "INC-1 reopened by a"+zw+"lice: SEV1 on playlist, search, investigating, impact since 11:45. Deploys of playlist, search frozen while open"; got != want {
		t.Errorf("reopen\n got %q\nwant %q", got, want)
	}
	tl, _ := h.st.IncidentTimeline(1, 0)
	if len(tl) != 12 { // declared, paged, 8 changes, resolved, reopened
		t.Errorf("timeline has %d entries, want 12: %+v", len(tl), tl)
	}
	// Said in private: the main channel gets the notable ones.
	h.runIn("carol", "", "incident resolve 1 fixed again")
	if len(h.ann.posts) != 1 || !strings.HasPrefix(h.ann.posts[0], "[ urgent=true] INC-1 resolved by c"+zw+"arol") {
		t.Errorf("announcements = %q", h.ann.posts)
	}
}

func TestIncidentRefusalsAndBadInput(t *testing.T) {
	h := newIncidentHarness(t, nil)
	h.one("alice", "incident declare sev3 search slow queries")
	tests := []struct{ who, text, want string }{
		{"bob", "incident declare sev1 playlist down", "error: !incident declare needs the ops role (you are a developer)"},
		{"bob", "incident resolve INC-1", "error: !incident resolve needs the ops role (you are a developer)"},
		{"", "incident update INC-1 hi", "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{"alice", "incident declare sev9 playlist down", `error: "sev9" is not a severity (sev1, sev2, sev3 or sev4)`},
		{"alice", "incident declare sev1 playlst down", `error: unknown service "playlst", did you mean playlist?`},
		{"alice", "incident declare sev1 Play/list down", `error: "Play/list" is not a service name (lowercase letters, digits, . _ -)`},
		{"alice", "incident declare sev1 playlist", "usage: !incident declare <sev1|sev2|sev3|sev4> <service> <summary> [--since <time or duration ago>] [--from P-n] [--planned]"},
		{"alice", `incident declare sev1 playlist ""`, "error: the summary is empty"},
		{"alice", "incident declare sev1 playlist down --since 25:99", `error: bad time "25:99" (use 14:05, 2026-11-25T14:05:00Z or a duration ago like 15m)`},
		{"alice", "incident declare sev1 playlist down --since 2026-03-11T00:00:00Z", "error: 2026-03-11T00:00:00Z is in the future"},
		{"alice", "incident declare sev1 playlist down --since 1026-03-09T00:00:00Z", "error: 1026-03-09T00:00:00Z is more than a year ago"},
		{"alice", "incident declare sev1 playlist down --since 5000w", "error: 5000w is more than a year ago"},
		{"alice", "incident declare sev1 playlist down --sinse 5m", "usage: !incident declare <sev1|sev2|sev3|sev4> <service> <summary> [--since <time or duration ago>] [--from P-n] [--planned]"},
		{"alice", "incident update INC-99 hello", "error: no incident INC-99"},
		{"alice", "incident update R-3 hello", `error: "R-3" is not a incident id (like INC-12)`},
		{"alice", "incident status INC-1 resolved", "error: status must be investigating, identified or monitoring (to resolve: !incident resolve INC-1)"},
		{"alice", "incident status INC-1 investigating", "error: INC-1 is already investigating"},
		{"alice", "incident sev INC-1 sev3", "error: INC-1 is already SEV3"},
		{"alice", "incident affects INC-1 search", "error: INC-1 already affects search"},
		{"alice", "incident commander INC-1 a,b", `error: "a,b" is not an account name`},
		{"alice", "incident resolve INC-1 --at 2h", "error: the impact cannot end before it started (2026-03-10T12:00:00Z)"},
		{"alice", "incident reopen INC-1", "error: INC-1 is not resolved"},
		{"alice", "incident list closed", "usage: !incident list [open|recent|all]"},
		{"alice", "incident show", "usage: !incident show <INC-n>"},
		{"alice", "incident frobnicate", "usage: !incident <declare|update|status|sev|commander|affects|resolve|reopen|list|show> (!help incident)"},
	}
	for _, tt := range tests {
		if got := h.one(tt.who, tt.text); got != tt.want {
			t.Errorf("%s: %q\n got %q\nwant %q", tt.who, tt.text, got, tt.want)
		}
	}
	if inc, _ := h.st.Incident(1); inc.Entries != 1 || inc.Severity != 3 || !inc.Open() {
		t.Errorf("refused commands changed INC-1: %+v", inc)
	}
	if _, err := h.st.Incident(2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused declaration stored INC-2 (%v)", err)
	}
	// Anyone may read.
	if got := h.one("", "incident list"); !strings.HasPrefix(got, "INC-1 SEV3 search investigating") {
		t.Errorf("anonymous list = %q", got)
	}
}

func TestIncidentDeclareRoleAndMissingContracts(t *testing.T) {
	h := newIncidentHarness(t, func(d *testDeps) {
		d.IncidentOptions.DeclareRole = "developer"
		d.Catalog, d.Pager, d.Deploys, d.SLOs = nil, nil, nil, nil
	})
	got := h.one("bob", "incident declare sev1 anything total outage")
	// The paging family is always built in; with an empty rotation nobody is on call, which the line says.
	if want := "INC-1 declared SEV1 on anything by b" + zw + "ob: total outage. Commander: b" + zw + "ob. Deploys of anything frozen while open. Nobody is on call to page"; got != want {
		t.Errorf("declare without catalogue or on-call\n got %q\nwant %q", got, want)
	}
	if show := h.run("bob", "incident show 1").Lines; len(show) != 2 || strings.Contains(strings.Join(show, "\n"), "deploys") {
		t.Errorf("show without deploys data = %q", show)
	}
	h.now = h.now.Add(2 * time.Hour)
	if got := h.one("bob", "availability anything 1h"); got != "anything: 0.00% over 1h, 1h weighted impact in 1 incident" {
		t.Errorf("availability without SLOs = %q", got)
	}
}

func TestIncidentPagingThreshold(t *testing.T) {
	h := newIncidentHarness(t, nil)
	h.one("alice", "incident declare sev3 radio crackles")
	if len(h.pager.calls) != 0 {
		t.Fatalf("a SEV3 paged: %q", h.pager.calls)
	}
	if why, _ := h.st.FrozenBy("radio"); why != "" {
		t.Errorf("a SEV3 froze deploys: %q", why)
	}
	if got := h.one("alice", "incident sev 1 sev2"); got != "INC-1 is now SEV2 (was SEV3). Deploys of radio frozen while open. Paged the on-call: P-1" {
		t.Errorf("raise to SEV2 = %q", got)
	}
	if inc, _ := h.st.Incident(1); inc.Page != "P-1" {
		t.Errorf("page not recorded: %+v", inc)
	}
}

func TestAvailabilityCommand(t *testing.T) {
	h := newIncidentHarness(t, nil)
	// playlist: SEV1 for 21m, 10 days ago; search: SEV2 still open for 2h; radio: SEV4 (weight 0).
	h.now = h.now.Add(-10 * 24 * time.Hour)
	h.one("alice", "incident declare sev1 playlist down --since 21m")
	h.one("alice", "incident resolve 1")
	h.now = h.now.Add(10 * 24 * time.Hour)
	h.one("alice", "incident declare sev2 search slow --since 2h")
	h.one("alice", "incident declare sev4 radio typo --since 1h")
	tests := []struct{ text, want string }{
		{"availability playlist", "playlist: 99.95% over 30d, SLO 99.9%, 21m of 43m budget used"},
		{"availability playlist 7d", "playlist: 100% over 7d, SLO 99.9%, 0s of 10m budget used"},
		{"availability 90d playlist", "playlist: 99.98% over 90d, SLO 99.9%, 21m of 2h09m budget used"},
		{"availability playlist 2h", "playlist: 100% over 2h, SLO 99.9%, 0s of 7s budget used"},
		{"availability search 1d", "search: 95.83% over 1d, 1h weighted impact in 1 incident"},
		{"availability radio", "radio: 100% over 30d, 0s weighted impact in 1 incident"},
		{"availability web", "web: 100% over 30d, no incidents"},
		{"availability playlist 10d1h", "playlist: 99.85% over 10d1h, SLO 99.9%, 21m of 14m budget used (over budget)"},
		{"availability plalist", "error: unknown service \"plalist\", did you mean playlist?"}, // not a reassuring 100%
	}
	for _, tt := range tests {
		if got := h.one("", tt.text); got != tt.want {
			t.Errorf("%q\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
	all := h.run("", "availability").Lines
	want := []string{
		"search: 99.86% over 30d, 1h weighted impact in 1 incident",
		"playlist: 99.95% over 30d, SLO 99.9%, 21m of 43m budget used",
		"radio: 100% over 30d, 0s weighted impact in 1 incident",
	}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("availability (all) =\n%q\nwant worst first\n%q", all, want)
	}
	for text, want := range map[string]string{
		"availability playlist search": "usage: !availability [service] [7d|30d|90d|<duration>]",
		"availability playlist 500d":   "error: window 500d: between 1m and 400d",
		"availability Play!":           `error: "Play!" is not a service name (lowercase letters, digits, . _ -)`,
		"availability a b c":           "usage: !availability [service] [7d|30d|90d|<duration>]",
	} {
		if got := h.one("", text); got != want {
			t.Errorf("%q = %q, want %q", text, got, want)
		}
	}
}

func TestIncidentTopicFollowsOpenIncidents(t *testing.T) {
	h := newIncidentHarness(t, nil)
	h.runJobs()
	if len(h.topic.sets) != 0 {
		t.Fatalf("topic changed with no incident: %q", h.topic.sets)
	}
	h.one("alice", "incident declare sev1 playlist down")
	h.runJobs()
	if got := h.topic.topics["#operations"]; got != "INC-1 SEV1 playlist investigating | Welcome to ops" {
		t.Fatalf("topic with INC-1 = %q", got)
	}
	// Two changes within 30s are coalesced into one topic change, 30s after the previous one.
	h.now = h.now.Add(10 * time.Second)
	h.one("alice", "incident declare sev3 search slow")
	h.one("alice", "incident status 1 identified")
	h.runJobs()
	if len(h.topic.sets) != 1 {
		t.Fatalf("topic changed again within 30s: %q", h.topic.sets)
	}
	h.now = h.now.Add(20 * time.Second)
	h.runJobs()
	if got := h.topic.topics["#operations"]; got != "INC-1 SEV1 playlist identified, INC-2 SEV3 search investigating | Welcome to ops" || len(h.topic.sets) != 2 {
		t.Fatalf("topic after 30s = %q (%d changes)", got, len(h.topic.sets))
	}
	// Someone edits the rest of the topic: kept, and restored later.
	h.topic.topics["#operations"] = "INC-1 SEV1 playlist identified, INC-2 SEV3 search investigating | Standup at 10:00"
	h.now = h.now.Add(time.Minute)
	h.one("alice", "incident resolve 1")
	h.one("alice", "incident resolve 2")
	// A restart: a new harness over the same store resumes from the stored state.
	reg, jobs, err := buildAll(testDeps{Store: h.st, Now: func() time.Time { return h.now }, Location: time.UTC, Channel: "#operations",
		Topic: h.topic, IncidentOptions: IncidentConfig{Topic: true}})
	if err != nil || reg == nil {
		t.Fatalf("All: %v", err)
	}
	h.jobs = nil
	for _, j := range jobs {
		if j.Name == "incident-topic" {
			h.jobs = append(h.jobs, j)
		}
	}
	if len(h.jobs) != 1 {
		t.Fatalf("All: %d topic jobs among %d, want 1", len(h.jobs), len(jobs))
	}
	h.runJobs()
	if got := h.topic.topics["#operations"]; got != "Standup at 10:00" {
		t.Fatalf("restored topic = %q, want the edited rest", got)
	}
	h.now = h.now.Add(time.Minute)
	h.topic.topics["#operations"] = "Something else"
	h.runJobs()
	if got := h.topic.topics["#operations"]; got != "Something else" || len(h.topic.sets) != 3 {
		t.Errorf("with no incidents the bot touched the topic: %q (%d changes)", got, len(h.topic.sets))
	}
	// A topic still showing incidents that the store does not know about (lost state) is cleaned up.
	h.now = h.now.Add(time.Minute)
	h.topic.topics["#operations"] = "INC-9 SEV2 radio identified | Something else"
	h.runJobs()
	if got := h.topic.topics["#operations"]; got != "Something else" {
		t.Errorf("stale incident topic = %q, want it cleaned", got)
	}
}

func TestIncidentTopicRefusalReportedOnce(t *testing.T) {
	h := newIncidentHarness(t, nil)
	h.topic.err = errors.New("not a channel operator")
	h.one("alice", "incident declare sev1 playlist down")
	job := h.jobs[0]
	if err := job.Run(context.Background(), h.now); err == nil {
		t.Fatal("topic refusal not reported")
	}
	h.now = h.now.Add(time.Minute)
	if err := job.Run(context.Background(), h.now); err != nil {
		t.Errorf("the same refusal reported again: %v", err)
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[float64]string{100: "100%", 99.999: "99.99%", 99.951: "99.95%", 99.9: "99.90%", 0: "0.00%", 42.0049: "42.00%"} {
		if got := FormatPercent(in); got != want {
			t.Errorf("FormatPercent(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestIncidentAgenda(t *testing.T) {
	h := newIncidentHarness(t, nil)
	to := h.now
	from := to.Add(-7 * 24 * time.Hour)
	h.now = from.Add(-24 * time.Hour) // last week: not on this week's agenda once resolved
	h.one("alice", "incident declare sev3 radio old")
	h.one("alice", "incident resolve 1")
	h.now = from.Add(-time.Hour) // declared before the week, still open: on it, impact from the week's start
	h.one("alice", "incident declare sev2 search slow")
	h.now = from.Add(48 * time.Hour)
	h.one("alice", "incident declare sev1 playlist down --since 1h")
	h.now = h.now.Add(time.Hour)
	h.one("alice", "incident resolve 3")
	h.now = to
	x := h.deps.incidents()
	src := AgendaSource(x)
	retro, err := src.Agenda("retro", from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2 incidents (1 SEV1, 1 SEV2), 7d2h of impact",
		"INC-3 SEV1 playlist resolved 03-05 13:00 after 2h: down",
		"INC-2 SEV2 search investigating for 7d1h: slow (commander a" + zw + "lice)",
	}
	if strings.Join(retro, "\n") != strings.Join(want, "\n") {
		t.Errorf("retro agenda =\n%q\nwant\n%q", retro, want)
	}
	if scal, _ := src.Agenda("scalability", from, to); strings.Join(scal, "\n") != strings.Join(want, "\n") {
		t.Errorf("scalability agenda =\n%q\nwant the retro's incidents\n%q", scal, want)
	}
	// The services below their SLO are the availability part of the scalability agenda.
	avail := x.AvailabilityAgenda()
	if got, err := avail.Agenda("scalability", from, to); avail.AgendaName() != "availability" || err != nil ||
		strings.Join(got, "\n") != "below SLO over 30d: playlist 99.72% (SLO 99.9%)" {
		t.Errorf("availability agenda %s = %q, %v; want playlist below its SLO", avail.AgendaName(), got, err)
	}
	if got, _ := avail.Agenda("retro", from, to); len(got) != 0 {
		t.Errorf("availability agenda for the retro = %q, want nothing", got)
	}
	if lines, _ := src.Agenda("planning", from, to); len(lines) != 0 {
		t.Errorf("planning agenda = %q, want nothing", lines)
	}
}

// In a channel, !incident show fills bot.max_lines (head, deploys, then the latest timeline entries), and
// with a budget too small for any entry it shows none rather than asking for the whole timeline.
func TestIncidentShowFollowsMaxLines(t *testing.T) {
	for _, tt := range []struct{ maxLines, want int }{{0, 4}, {7, 7}, {2, 2}, {1, 2}} {
		h := newIncidentHarness(t, func(d *testDeps) { d.MaxLines = tt.maxLines })
		h.one("alice", "incident declare sev3 search slow queries")
		for i := range 8 {
			h.one("alice", fmt.Sprintf("incident update INC-1 step %d", i))
		}
		show := h.run("", "incident show INC-1").Lines
		if len(show) != tt.want || !strings.HasPrefix(show[0], "INC-1 SEV3") {
			t.Errorf("max_lines %d: show has %d lines, want %d:\n%q", tt.maxLines, len(show), tt.want, show)
			continue
		}
		if tt.want > 2 && show[len(show)-1] != "12:00 a"+zw+"lice: step 7" {
			t.Errorf("max_lines %d: last line %q, want the latest entry", tt.maxLines, show[len(show)-1])
		}
	}
}

func (a *incAnnouncer) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}

func TestIncidentPublicUpdate(t *testing.T) {
	h := newIncidentHarness(t, nil)
	h.one("alice", "incident declare sev2 playlist bob's push broke play")
	if got, want := h.one("carol", "incident update INC-1 --public Playback fails for some users"),
		"INC-1 updated (public, shown on the status page): Playback fails for some users"; got != want {
		t.Fatalf("public update = %q, want %q", got, want)
	}
	h.one("carol", "incident update INC-1 internal note")
	tl, err := h.st.IncidentTimeline(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var public []string
	for _, e := range tl {
		if e.Public {
			public = append(public, e.Text)
		}
	}
	if len(public) != 1 || public[0] != "Playback fails for some users" {
		t.Errorf("public entries = %q, want only the --public update", public)
	}
}

// The deploys before an incident, from the deploy ledger, and the names and times the store wrote into the
// timeline are written for each medium: in chat in the bot's zone with names that do not highlight, in the
// postmortem (a document) with a full stamp and plain names.
func TestIncidentDeploysBeforeInEachMedium(t *testing.T) {
	zone, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	h := newIncidentHarness(t, func(d *testDeps) { d.Deploys, d.Location = d.Store, zone })
	h.now = time.Date(2026, 3, 10, 10, 5, 0, 0, time.UTC)
	for _, status := range []store.DeployState{store.DeployStarted, store.DeploySucceeded} {
		if _, err := h.st.ApplyDeploy(store.DeployEvent{Status: status, Service: "playlist", Version: "1.42", By: "bob", Source: "chat"}); err != nil {
			t.Fatal(err)
		}
	}
	h.now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if lines := h.run("alice", "incident declare sev3 playlist slow plays").Lines; len(lines) != 1 {
		t.Fatalf("declare: %q", lines)
	}
	show := h.run("", "incident show INC-1").Lines
	if want := "deploys in the 24h before: D-1 1.42 prod succeeded 11:05 by b" + zw + "ob"; len(show) < 2 || show[1] != want {
		t.Errorf("show = %q\nwant line 2 %q", show, want)
	}
	h.now = h.now.Add(time.Hour)
	h.run("alice", "incident commander INC-1 carol")
	h.run("carol", "incident resolve INC-1 reverted --at 30m")
	show = h.runIn("", "", "incident show INC-1").Lines
	for _, want := range []string{
		"14:00 c" + zw + "arol: resolved (impact ended 13:30): reverted", // 12:30 UTC
		"14:00 a" + zw + "lice: commander a" + zw + "lice -> c" + zw + "arol",
	} {
		if !slices.Contains(show, want) {
			t.Errorf("show lacks %q:\n%q", want, show)
		}
	}
	pm, err := h.deps.incidents().Postmortem(1)
	for _, want := range []string{"\n- D-1 1.42 prod succeeded 2026-03-10 11:05 CET by bob\n",
		"\n- 2026-03-10 14:00 CET alice: commander alice -\\> carol\n", // (Markdown escaped)
		"\n- 2026-03-10 14:00 CET carol: resolved \\(impact ended 2026-03-10 13:30 CET\\): reverted\n"} {
		if err != nil || !strings.Contains(pm, want) {
			t.Errorf("postmortem (%v) lacks %q:\n%s", err, want, pm)
		}
	}
}
