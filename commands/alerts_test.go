package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsbot/opsbot/store"
)

const alertToken = "test-token-0123456789"

// alertEnv is the alerts family with the paging and incidents families over a real store, the real
// dispatcher, the family's HTTP routes and an injected clock.
type alertEnv struct {
	t      *testing.T
	path   string
	st     *store.Store
	now    time.Time
	ann    *pagingAnnouncer
	cfg    AlertConfig
	disp   *Dispatcher
	jobs   map[string]Job
	mux    *http.ServeMux
	alerts *Alerts
}

func newAlertEnv(t *testing.T, cfg AlertConfig) *alertEnv {
	t.Helper()
	e := &alertEnv{t: t, path: filepath.Join(t.TempDir(), "opsbot.db"), now: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC),
		ann: &pagingAnnouncer{}, cfg: cfg}
	e.start()
	t.Cleanup(func() { e.st.Close() })
	return e
}

// start opens the store and builds the families over it, like a bot (re)starting at the current clock.
func (e *alertEnv) start() {
	e.t.Helper()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	st.Now = func() time.Time { return e.now }
	e.st = st
	rt := Runtime{Now: st.Now, Location: time.UTC, Announce: e.ann, Channel: "#operations",
		Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil)}
	paging := NewPaging(rt, st, PagingConfig{Rotation: store.Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday,
		At: 10 * time.Hour, Location: time.UTC}, MaxEscalations: 2}, PagingLinks{})
	e.alerts = NewAlerts(rt, st, e.cfg, paging, nil)
	incidents := NewIncidents(rt, st, IncidentConfig{DeclareRole: "ops", PageOnSev: 2}, IncidentLinks{Pager: paging, Alerts: e.alerts})
	w := wireSet(e.t, rt, st, paging.Family(), e.alerts.Family(), incidents.Family())
	e.jobs, e.mux, e.disp = w.jobs, w.mux, w.disp
}

// wired is a Set as a bot serves it: its jobs by name, its routes on a mux, and a dispatcher over its
// commands (audited to audit).
type wired struct {
	jobs map[string]Job
	mux  *http.ServeMux
	disp *Dispatcher
}

func wireSet(t *testing.T, rt Runtime, audit Auditor, families ...Family) wired {
	t.Helper()
	set, err := NewSet(rt, families...)
	if err != nil {
		t.Fatal(err)
	}
	w := wired{jobs: map[string]Job{}, mux: http.NewServeMux()}
	for _, j := range set.Jobs {
		w.jobs[j.Name] = j
	}
	for _, r := range set.Routes {
		w.mux.Handle(r.Pattern, r.Handler)
	}
	w.disp = NewDispatcher(set.Registry, DispatcherOptions{Prefix: "!", Roles: rt.Roles, Audit: audit, Now: rt.Now})
	return w
}

func (e *alertEnv) restart() {
	e.st.Close()
	e.start()
}

// post sends a webhook body with the bearer token tok ("" = none) and returns the status and body.
func (e *alertEnv) post(body, tok string) (int, string) { return postHook(e.mux, body, tok) }

// postHook sends a webhook body to mux's POST /hooks/alertmanager with the bearer token tok ("" = none).
func postHook(mux http.Handler, body, tok string) (int, string) {
	r := httptest.NewRequest("POST", "/hooks/alertmanager", strings.NewReader(body))
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// fire posts a valid webhook message and fails the test unless it is a 200.
func (e *alertEnv) fire(body string) {
	e.t.Helper()
	if code, resp := e.post(body, alertToken); code != 200 {
		e.t.Fatalf("webhook = %d %s", code, resp)
	}
}

// job runs a job of the families at the current clock.
func (e *alertEnv) job(name string) {
	e.t.Helper()
	j, ok := e.jobs[name]
	if !ok {
		e.t.Fatalf("no job %q", name)
	}
	if err := j.Run(context.Background(), e.now); err != nil {
		e.t.Fatalf("job %s: %v", name, err)
	}
}

func (e *alertEnv) say(account, text string) string {
	var b Buffer
	e.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: account, Nick: account}, Channel: "#operations", Text: text}, &b)
	return strings.ReplaceAll(strings.Join(append(b.Lines, b.Errors...), "\n"), "\u200b", "")
}

// scrape gathers the family's metrics as /metrics does: each series by its name and label values
// ("opsbot_alerts_received_total{resolved}"), and the scrape's error.
func (e *alertEnv) scrape() (map[string]float64, error) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.alerts.Family().Collectors...)
	mfs, err := reg.Gather()
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			out[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return out, err
}

// am is an alert of a webhook message: name, service, severity, instance, status.
type am struct{ name, service, severity, instance, status string }

// amBody is Alertmanager's webhook body (version 4) for one group of alerts keyed by name and service.
func amBody(alerts ...am) string {
	type alert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	status := "resolved"
	var out []alert
	for _, a := range alerts {
		if a.status == "" {
			a.status = "firing"
		}
		if a.status == "firing" {
			status = "firing"
		}
		out = append(out, alert{Status: a.status,
			Labels:      map[string]string{"alertname": a.name, "service": a.service, "severity": a.severity, "instance": a.instance},
			Annotations: map[string]string{"summary": "p99 latency 2s on " + a.instance, "runbook_url": "https://runbooks.example.test/" + a.name},
			StartsAt:    time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), GeneratorURL: "http://prometheus.example.test/graph?g0.expr=x",
			Fingerprint: a.name + "-" + a.instance})
	}
	first := alerts[0]
	b, _ := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "opsbot",
		"groupKey":     fmt.Sprintf(`{}:{alertname=%q, service=%q}`, first.name, first.service),
		"groupLabels":  map[string]string{"alertname": first.name, "service": first.service},
		"commonLabels": map[string]string{"alertname": first.name, "service": first.service}, "commonAnnotations": map[string]string{},
		"externalURL": "http://am.example.test", "alerts": out})
	return string(b)
}

// without is a JSON object without one of its keys.
func without(body, key string) string {
	return edited(body, func(m map[string]any) { delete(m, key) })
}

// regrouped is a webhook body under another groupKey, with these group (and common) labels.
func regrouped(body, key string, labels map[string]string) string {
	return edited(body, func(m map[string]any) { m["groupKey"], m["groupLabels"], m["commonLabels"] = key, labels, labels })
}

// edited is a JSON object changed by edit.
func edited(body string, edit func(map[string]any)) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	edit(m)
	b, _ := json.Marshal(m)
	return string(b)
}

func alertTexts(msgs []pagingMsg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		to := m.To
		if to == "" {
			to = "#"
		}
		out[i] = to + " " + strings.ReplaceAll(m.Text, "\u200b", "")
	}
	return out
}

var alertCfg = AlertConfig{Token: alertToken, HeartbeatTimeout: 10 * time.Minute}

// One group is one page: firing opens it (its notices are the channel line), re-sends never page again, new
// alerts are one line, the resolve resolves the page with one line, and a group firing again is a new page.
func TestAlertGroupIsOnePage(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	hot := func(status string, instances ...string) string {
		var as []am
		for _, i := range instances {
			as = append(as, am{"HighLatency", "playlist", "critical", i, status})
		}
		return amBody(as...)
	}
	e.fire(hot("firing", "p1", "p2"))
	e.job("alerts news")
	want := []string{
		"# P-1 paging alice: [FIRING:2] HighLatency on playlist (critical): p99 latency 2s on p2, runbook https://runbooks.example.test/HighLatency (ack with !ack P-1 within 5m)",
		"alice P-1 page from alertmanager: [FIRING:2] HighLatency on playlist (critical): p99 latency 2s on p2, runbook https://runbooks.example.test/HighLatency (ack with !ack P-1 within 5m)",
	}
	if got := alertTexts(e.ann.take()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("firing told:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Alertmanager re-sends the group: nothing new is told, no second page.
	e.now = e.now.Add(time.Minute)
	e.fire(hot("firing", "p1", "p2"))
	e.job("alerts news")
	if got := e.ann.take(); len(got) != 0 {
		t.Fatalf("re-send told %q", alertTexts(got))
	}
	e.fire(hot("firing", "p1", "p2", "p3"))
	e.job("alerts news")
	if got := alertTexts(e.ann.take()); len(got) != 1 || got[0] != "# P-1 [FIRING:3] HighLatency on playlist (critical): 1 more alert joined (p99 latency 2s on p3)" {
		t.Fatalf("a joined alert told %q", got)
	}
	if r := e.say("", "alerts"); !strings.HasPrefix(r, "P-1 [FIRING:3] HighLatency on playlist (critical) since 6m, paging alice") {
		t.Fatalf("!alerts = %q", r)
	}
	if r := e.say("", "page list"); !strings.Contains(r, "[FIRING:3]") {
		t.Fatalf("the page does not follow its group: %q", r)
	}
	e.now = e.now.Add(10 * time.Minute)
	e.fire(hot("resolved", "p1", "p2", "p3"))
	e.job("alerts news")
	if got := alertTexts(e.ann.take()); len(got) != 1 || got[0] != "# P-1 [RESOLVED] HighLatency on playlist (critical) after 11m" {
		t.Fatalf("resolve told %q", got)
	}
	if pg, _ := e.st.GetPage(1); pg.State != store.PageResolved || pg.ResolvedBy != "alertmanager" {
		t.Fatalf("page after the resolve = %+v", pg)
	}
	e.fire(hot("resolved", "p1", "p2", "p3")) // re-sent resolve
	e.job("alerts news")
	if got := e.ann.take(); len(got) != 0 {
		t.Fatalf("a re-sent resolve told %q", alertTexts(got))
	}
	e.fire(hot("firing", "p1"))
	e.job("alerts news")
	if got := alertTexts(e.ann.take()); len(got) != 2 || !strings.HasPrefix(got[0], "# P-2 paging alice: [FIRING:1]") {
		t.Fatalf("firing again told %q, want a new page", got)
	}
	if r := e.say("", "alerts show P-2"); !strings.Contains(r, "firing since 12-01 14:00") || !strings.Contains(r, "instance=p1: p99 latency 2s on p1; source http://prometheus.example.test/graph?g0.expr=x") {
		t.Fatalf("!alerts show = %q", r)
	}
	if r := e.say("", "alerts show P-9"); r != "anon: error: P-9 is not an alert's page" && r != "error: P-9 is not an alert's page" {
		t.Fatalf("!alerts show P-9 = %q", r)
	}
}

// Severity decides: critical pages, warning is one line, info is stored only, an unknown severity pages.
func TestAlertSeverityMapping(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	e.fire(amBody(am{"DiskFilling", "storage", "warning", "db1", ""}))
	e.fire(amBody(am{"CertExpiry", "web", "info", "lb1", ""}))
	e.fire(amBody(am{"Odd", "search", "weird", "s1", ""}))
	e.job("alerts news")
	got := alertTexts(e.ann.take())
	want := []string{
		"# P-1 paging alice: [FIRING:1] Odd on search (weird): p99 latency 2s on s1, runbook https://runbooks.example.test/Odd (ack with !ack P-1 within 5m)",
		"alice P-1 page from alertmanager: [FIRING:1] Odd on search (weird): p99 latency 2s on s1, runbook https://runbooks.example.test/Odd (ack with !ack P-1 within 5m)",
		"# A-1 [FIRING:1] DiskFilling on storage (warning): p99 latency 2s on db1, runbook https://runbooks.example.test/DiskFilling",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("told:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := e.say("", "alerts"); strings.Count(r, "\n") != 2 || !strings.Contains(r, "A-2 [FIRING:1] CertExpiry on web (info)") {
		t.Fatalf("!alerts lists the ignored group too:\n%s", r)
	}
	// Configured otherwise: warning pages, and an unclassified alert only notifies.
	e = newAlertEnv(t, AlertConfig{Token: alertToken, Severity: map[string]string{"warning": "page"}, DefaultAction: "notify"})
	e.fire(amBody(am{"DiskFilling", "storage", "warning", "db1", ""}))
	e.fire(amBody(am{"Odd", "search", "", "s1", ""}))
	e.job("alerts news")
	if got := alertTexts(e.ann.take()); len(got) != 3 || !strings.HasPrefix(got[0], "# P-1 paging alice: [FIRING:1] DiskFilling") || !strings.HasPrefix(got[2], "# A-2 [FIRING:1] Odd on search:") {
		t.Fatalf("configured mapping told %q", got)
	}
}

// Bad requests are refused with a line naming what is wrong, and change nothing.
func TestAlertWebhookRefusals(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	good := amBody(am{"HighLatency", "playlist", "critical", "p1", ""})
	for _, tt := range []struct {
		name, body, tok string
		code            int
		want            string
	}{
		{"no token", good, "", 401, "unauthorized"},
		{"forged token", good, "test-token-0123456780", 401, "unauthorized"},
		{"version 3", strings.Replace(good, `"version":"4"`, `"version":"3"`, 1), alertToken, 400, `version: \"3\" is not supported`},
		{"no version", without(good, "version"), alertToken, 400, "version: missing"},
		{"no group key", without(good, "groupKey"), alertToken, 400, "groupKey: missing"},
		{"alert without status", strings.Replace(good, `"status":"firing","labels"`, `"labels"`, 1), alertToken, 400, "alerts[0].status"},
		{"wrong type", strings.Replace(good, `"alerts":[`, `"alerts":7,"x":[`, 1), alertToken, 400, "alerts: must be an array"},
		{"version as a number", strings.Replace(good, `"version":"4"`, `"version":4`, 1), alertToken, 400, "version: must be a string"},
		{"not JSON", "{", alertToken, 400, "body: not a JSON object"},
		{"2 MiB", `{"version":"4","pad":"` + strings.Repeat("x", 2<<20) + `"}`, alertToken, 413, "body larger than"},
	} {
		code, body := e.post(tt.body, tt.tok)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s, want %d with %q", tt.name, code, body, tt.code, tt.want)
		}
	}
	if g, _ := e.st.FiringAlertGroups(); len(g) != 0 {
		t.Fatalf("refused requests stored %d groups", len(g))
	}
	off := newAlertEnv(t, AlertConfig{})
	if code, body := off.post(good, alertToken); code != 404 || !strings.Contains(body, "alerts.token") {
		t.Fatalf("without alerts.token: %d %s, want 404 naming the key", code, body)
	}
	if _, ok := off.jobs["alerts news"]; ok {
		t.Fatal("alert jobs run without alerts.token")
	}
}

// opsbot_alerts_received_total counts every alert of a message, also those past the ones a group keeps.
func TestAlertsReceivedCountsEveryAlert(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	var as []am
	for i := range maxAlertsKept + 100 {
		status := "firing"
		if i >= maxAlertsKept {
			status = "resolved"
		}
		as = append(as, am{"HighLatency", "playlist", "critical", fmt.Sprint(i), status})
	}
	e.fire(amBody(as...))
	got, err := e.scrape()
	if f, r := got["opsbot_alerts_received_total{firing}"], got["opsbot_alerts_received_total{resolved}"]; err != nil || f != maxAlertsKept || r != 100 {
		t.Fatalf("received: firing %v, resolved %v (%v); want %d and 100", f, r, err, maxAlertsKept)
	}
}

// opsbot_alert_groups_firing counts the groups firing; a store that cannot be read leaves it out of the
// scrape (an error of the scrape), never a made-up value.
func TestAlertGroupsFiringGauge(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	e.fire(amBody(am{"HighLatency", "playlist", "critical", "p1", ""}))
	if got, err := e.scrape(); err != nil || got["opsbot_alert_groups_firing"] != 1 {
		t.Fatalf("scrape = %v, %v; want 1 group firing", got, err)
	}
	e.st.Close()
	got, err := e.scrape()
	if v, ok := got["opsbot_alert_groups_firing"]; ok || err == nil {
		t.Fatalf("store closed: opsbot_alert_groups_firing %v (in the scrape: %v), scrape error %v; want it left out", v, ok, err)
	}
}

// Fifty groups firing at once (500 alerts): the first pages of the second are told at once, one by one, the
// rest in one summary line to the channel and one to the paged person; every group is stored with its page.
func TestAlertStormIsSummarised(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	for g := range 50 {
		var as []am
		for i := range 10 {
			as = append(as, am{fmt.Sprintf("Alert%02d", g), fmt.Sprintf("svc%d", g%5), "critical", fmt.Sprintf("i%d", i), ""})
		}
		e.fire(amBody(as...))
	}
	e.job("alerts news")
	got := alertTexts(e.ann.take())
	if len(got) != 8 || !strings.HasPrefix(got[4], "# P-3 paging alice:") ||
		!strings.HasPrefix(got[6], "# 47 pages opened, paging alice: P-4, P-5, P-6, P-7, P-8, P-9 +41 more") ||
		!strings.HasPrefix(got[7], "alice 47 pages for you: P-4 [FIRING:10] Alert03 on svc3 (critical); P-5") || len(got[7]) > lineBudget+20 {
		t.Fatalf("storm told %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	groups, _ := e.st.FiringAlertGroups()
	pages, _ := e.st.OpenPages()
	if len(groups) != 50 || len(pages) != 50 || groups[49].Firing != 10 || groups[49].Page == 0 {
		t.Fatalf("stored %d groups, %d pages", len(groups), len(pages))
	}
	// They all resolve at once: one summary line.
	for g := range 50 {
		e.fire(amBody(am{fmt.Sprintf("Alert%02d", g), fmt.Sprintf("svc%d", g%5), "critical", "i0", "resolved"}))
	}
	e.job("alerts news")
	if got := alertTexts(e.ann.take()); len(got) != 1 || got[0] != "# 50 alert groups changed: 50 resolved on 5 services (svc0, svc1, svc2, svc3 +1 more): !alerts" {
		t.Fatalf("mass resolve told %q", got)
	}
	// Their escalations, had they not been resolved, would be summarised too: see TestEscalationsSummarised.
}

// Many pages escalating at one time are summarised like many opened at once.
func TestEscalationsSummarised(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	for g := range 5 {
		e.fire(amBody(am{fmt.Sprintf("Alert%d", g), "playlist", "critical", "i", ""}))
	}
	e.job("alerts news")
	e.ann.take()
	e.now = e.now.Add(6 * time.Minute)
	e.job("page escalation")
	got := alertTexts(e.ann.take())
	if len(got) != 2 || !strings.HasPrefix(got[0], "# 5 pages escalated, paging carol: P-1, P-2, P-3, P-4, P-5") ||
		!strings.HasPrefix(got[1], "carol 5 pages for you:") {
		t.Fatalf("escalation of 5 pages told:\n%s", strings.Join(got, "\n"))
	}
}

// The dead man's switch pages once when the heartbeat stops, across a restart, and resolves when it is back.
func TestAlertHeartbeat(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	watchdog := amBody(am{"Watchdog", "", "none", "", ""})
	e.fire(watchdog)
	e.now = e.now.Add(9 * time.Minute)
	e.job("alerts heartbeat")
	if got := e.ann.take(); len(got) != 0 {
		t.Fatalf("paged before the timeout: %q", alertTexts(got))
	}
	e.now = e.now.Add(2 * time.Minute)
	e.job("alerts heartbeat")
	got := alertTexts(e.ann.take())
	if len(got) != 2 || !strings.HasPrefix(got[0], "# P-1 paging alice: the alert pipeline is silent since 14:05: no Watchdog alert from Alertmanager for 11m") {
		t.Fatalf("silence paged %q", got)
	}
	e.job("alerts heartbeat")
	e.restart()
	e.now = e.now.Add(20 * time.Minute)
	e.job("alerts heartbeat")
	if got := e.ann.take(); len(got) != 0 {
		t.Fatalf("paged again (after a restart): %q", alertTexts(got))
	}
	if g, _ := e.st.FiringAlertGroups(); len(g) != 0 {
		t.Fatalf("the heartbeat is stored as an alert group: %+v", g)
	}
	e.fire(watchdog)
	if got := alertTexts(e.ann.take()); len(got) != 1 || got[0] != "# P-1 resolved: the alert pipeline's heartbeat (Watchdog) is back after 31m" {
		t.Fatalf("the return told %q", got)
	}
	if pg, _ := e.st.GetPage(1); pg.State != store.PageResolved {
		t.Fatalf("the silence's page is %s", pg.State)
	}
	e.fire(watchdog)
	if got := e.ann.take(); len(got) != 0 {
		t.Fatalf("a second heartbeat told %q", alertTexts(got))
	}
}

// A route not grouped by alertname may put the heartbeat in a group with other alerts: whichever comes
// first, the heartbeat feeds the dead man's switch and the others are a group like any other.
func TestAlertHeartbeatInAGroupWithOthers(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	watchdog, disk := am{"Watchdog", "", "none", "", ""}, am{"DiskFull", "storage", "critical", "db3", ""}
	mixed := func(alerts ...am) string {
		return regrouped(amBody(alerts...), `{}:{cluster="eu"}`, map[string]string{"cluster": "eu"})
	}
	e.fire(mixed(watchdog, disk))
	if g, _ := e.st.FiringAlertGroups(); len(g) != 1 || g[0].Name != "DiskFull" || g[0].Firing != 1 || g[0].Page == 0 {
		t.Fatalf("groups after the heartbeat and DiskFull: %+v, want DiskFull paging alone", g)
	}
	for range 12 { // the real alert first, every minute
		e.now = e.now.Add(time.Minute)
		e.fire(mixed(disk, watchdog))
		e.job("alerts heartbeat")
	}
	for _, l := range alertTexts(e.ann.take()) {
		if strings.Contains(l, "silent") {
			t.Fatalf("the heartbeat came every minute, yet: %s", l)
		}
	}
}

// Groups whose groupKeys share their first 1000 bytes (group_by on long labels) stay two groups, each
// resolved by its own resolve.
func TestAlertLongGroupKeysStayApart(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	long := `{}:{alertname="KubePodCrashLooping", pod="` + strings.Repeat("checkout-worker-7d9f8b6c5d-", 40)
	api, sidecar := am{"KubePodCrashLooping", "playlist", "critical", "api", ""}, am{"KubePodCrashLooping", "playlist", "critical", "sidecar", ""}
	e.fire(regrouped(amBody(api), long+`api"}`, nil))
	e.fire(regrouped(amBody(sidecar), long+`sidecar"}`, nil))
	api.status = "resolved"
	e.fire(regrouped(amBody(api), long+`api"}`, nil))
	if g, _ := e.st.FiringAlertGroups(); len(g) != 1 || g[0].Alerts[0].Labels["instance"] != "sidecar" || g[0].Page != 2 {
		t.Fatalf("firing after api's resolve: %+v, want sidecar's group with its own page", g)
	}
}

// A group that does not page, held back by a maintenance window, is told once when the window ends and it
// still fires; one told before the window, or resolved during it, is not told then.
func TestAlertHeldBackToldWhenTheWindowEnds(t *testing.T) {
	e := newMaintEnv(t, maintNow, time.UTC)
	fire := func(a am) {
		t.Helper()
		if code, body := postHook(e.mux, amBody(a), alertToken); code != 200 {
			t.Fatalf("webhook = %d %s", code, body)
		}
	}
	fire(am{"SwapHigh", "playlist", "warning", "p2", ""})
	e.job("alerts news")
	e.say("alice", "maint add playlist now 1h db migration")
	e.job("maintenance")
	e.told()
	fire(am{"SwapHigh", "playlist", "warning", "p2", ""})
	fire(am{"DiskFilling", "playlist", "warning", "p1", ""})
	fire(am{"CertExpiry", "playlist", "warning", "lb1", ""})
	fire(am{"CertExpiry", "playlist", "warning", "lb1", "resolved"})
	e.job("alerts news")
	if got := e.told(); len(got) != 0 {
		t.Fatalf("told during the window: %q", got)
	}
	e.now = e.now.Add(time.Hour)
	e.job("maintenance")
	e.told()
	for range 3 {
		e.job("alerts release")
		e.job("alerts news")
		e.now = e.now.Add(5 * time.Second)
	}
	if got := e.told(); len(got) != 1 || got[0] != "# A-2 [FIRING:1] DiskFilling on playlist (warning): p99 latency 2s on p1, runbook https://runbooks.example.test/DiskFilling" {
		t.Fatalf("after the window: %q, want DiskFilling once", got)
	}
	if untold, _ := e.st.UntoldAlertGroups(10); len(untold) != 0 {
		t.Fatalf("news still owed: %+v", untold)
	}
}

// An incident declared from an alert's page records the alerts and pages nobody again.
func TestIncidentFromAlertPage(t *testing.T) {
	e := newAlertEnv(t, alertCfg)
	e.fire(amBody(am{"HighLatency", "playlist", "critical", "p1", ""}, am{"HighLatency", "playlist", "critical", "p2", ""}))
	e.job("alerts news")
	e.ann.take()
	r := e.say("alice", "incident declare sev2 playlist slow plays --from P-1")
	if !strings.HasPrefix(r, "INC-1 declared SEV2 on playlist by alice: slow plays. Commander: alice. From P-1 (3 timeline entries)") || strings.Contains(r, "Paged the on-call") {
		t.Fatalf("declare --from = %q", r)
	}
	tl, _ := e.st.IncidentTimeline(1, 0)
	var lines []string
	for _, en := range tl {
		lines = append(lines, en.Author+": "+en.Text)
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "alertmanager: from P-1: [FIRING:2] HighLatency on playlist (critical)") || !strings.Contains(all, "alertmanager: alert firing since 12-01 14:00 (5m) instance=p2") {
		t.Fatalf("timeline:\n%s", all)
	}
	if pages, _ := e.st.OpenPages(); len(pages) != 1 {
		t.Fatalf("%d pages open, want the alert's only", len(pages))
	}
	if r := e.say("alice", "incident declare sev2 playlist x --from P-7"); r != "alice: error: no page P-7" && r != "error: no page P-7" {
		t.Fatalf("--from an unknown page = %q", r)
	}
}
