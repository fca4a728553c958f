package amtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// delivery is one request the webhook receiver got.
type delivery struct {
	At                                  time.Time
	Method, Path, Auth, CType, UA, Body string
}

// receiver is a webhook receiver that records every request; status, when set, gives the answer to the
// n-th request (from 1).
type receiver struct {
	srv    *httptest.Server
	ch     chan delivery
	mu     sync.Mutex
	n      int
	status func(n int) int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{ch: make(chan delivery, 100), status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.n++
		n := r.n
		r.mu.Unlock()
		r.ch <- delivery{At: time.Now(), Method: req.Method, Path: req.URL.Path, Auth: req.Header.Get("Authorization"),
			CType: req.Header.Get("Content-Type"), UA: req.Header.Get("User-Agent"), Body: string(body)}
		code := http.StatusOK
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks/alertmanager" }

// next waits for the next delivery.
func (r *receiver) next(t *testing.T, timeout time.Duration) delivery {
	t.Helper()
	select {
	case d := <-r.ch:
		return d
	case <-time.After(timeout):
		t.Fatalf("no webhook delivery within %s", timeout)
		return delivery{}
	}
}

// none fails if a delivery arrives within d.
func (r *receiver) none(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case got := <-r.ch:
		t.Fatalf("%s: unexpected delivery after %s: %s", why, d, got.Body)
	case <-time.After(d):
	}
}

func decode(t *testing.T, body string) (WebhookMessage, map[string]any) {
	t.Helper()
	var m WebhookMessage
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("webhook body: %v\n%s", err, body)
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func latencyAlerts() []Alert {
	var out []Alert
	for _, inst := range []string{"playlist-1", "playlist-2"} {
		out = append(out, Alert{
			Labels: map[string]string{"alertname": "HighLatency", "service": "playlist", "severity": "critical",
				"instance": inst},
			Annotations: map[string]string{"summary": "p99 latency above 2s",
				"runbook_url": "https://runbooks.example.test/playlist/latency"},
			GeneratorURL: "http://prometheus.example.test/graph?g0.expr=latency",
		})
	}
	return out
}

// checkShape checks the raw JSON of a webhook body: every field present, with its JSON type.
func checkShape(t *testing.T, raw map[string]any, status string, nAlerts int) {
	t.Helper()
	want := map[string]string{"receiver": "string", "status": "string", "alerts": "array", "groupLabels": "object",
		"commonLabels": "object", "commonAnnotations": "object", "externalURL": "string", "version": "string",
		"groupKey": "string", "truncatedAlerts": "number"}
	for k, typ := range want {
		if got := jsonType(raw[k]); got != typ {
			t.Errorf("webhook field %q: %s, want %s", k, got, typ)
		}
	}
	if raw["version"] != "4" || raw["status"] != status || raw["groupKey"] == "" {
		t.Errorf("webhook: version %v status %v groupKey %v", raw["version"], raw["status"], raw["groupKey"])
	}
	alerts, _ := raw["alerts"].([]any)
	if len(alerts) != nAlerts {
		t.Fatalf("webhook: %d alerts, want %d", len(alerts), nAlerts)
	}
	wantAlert := map[string]string{"status": "string", "labels": "object", "annotations": "object",
		"startsAt": "string", "endsAt": "string", "generatorURL": "string", "fingerprint": "string"}
	for i, a := range alerts {
		am, _ := a.(map[string]any)
		for k, typ := range wantAlert {
			if got := jsonType(am[k]); got != typ {
				t.Errorf("webhook alert %d field %q: %s, want %s", i, k, got, typ)
			}
		}
		if len(am) != len(wantAlert) {
			t.Errorf("webhook alert %d has other fields: %v", i, am)
		}
	}
	if len(raw) != len(want) {
		t.Errorf("webhook has other fields: %v", raw)
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "missing/null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestWebhookAndSilences is the recipe end to end: alerts fired as Prometheus would reach a webhook with the
// bearer token, in one group, then resolved; silences are created, listed, updated and expired, and a
// silence holds back an alert until it is expired.
func TestWebhookAndSilences(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token"
	rcv := newReceiver(t, nil)
	am := Start(t, Options{WebhookURL: rcv.url(), Token: token})

	alerts := latencyAlerts()
	fired := time.Now()
	am.Fire(t, alerts...)
	d := rcv.next(t, 10*time.Second)
	t.Logf("Fire to webhook delivery (group_wait 1s): %s", d.At.Sub(fired).Round(time.Millisecond))
	t.Logf("firing body: %s", d.Body)
	if d.Method != http.MethodPost || d.Path != "/hooks/alertmanager" || d.Auth != "Bearer "+token {
		t.Errorf("delivery: %s %s Authorization %q", d.Method, d.Path, d.Auth)
	}
	if d.CType != "application/json" {
		t.Errorf("Content-Type %q", d.CType)
	}
	t.Logf("User-Agent: %q", d.UA)
	if lat := d.At.Sub(fired); lat < 900*time.Millisecond {
		t.Errorf("delivered after %s, before group_wait (1s)", lat)
	}
	m, raw := decode(t, d.Body)
	checkShape(t, raw, "firing", 2)
	if m.Receiver != "opsbot" || m.ExternalURL != am.URL() || m.TruncatedAlerts != 0 {
		t.Errorf("receiver %q externalURL %q (want %q) truncated %d", m.Receiver, m.ExternalURL, am.URL(), m.TruncatedAlerts)
	}
	if want := map[string]string{"alertname": "HighLatency", "service": "playlist"}; !mapsEqual(m.GroupLabels, want) {
		t.Errorf("groupLabels %v, want %v", m.GroupLabels, want)
	}
	if want := map[string]string{"alertname": "HighLatency", "service": "playlist", "severity": "critical"}; !mapsEqual(m.CommonLabels, want) {
		t.Errorf("commonLabels %v, want %v", m.CommonLabels, want)
	}
	if !mapsEqual(m.CommonAnnotations, alerts[0].Annotations) {
		t.Errorf("commonAnnotations %v", m.CommonAnnotations)
	}
	firing := map[string]WebhookAlert{}
	for _, a := range m.Alerts {
		if a.Status != "firing" || !a.EndsAt.IsZero() || a.StartsAt.Before(fired.Add(-time.Second)) ||
			a.GeneratorURL != alerts[0].GeneratorURL || len(a.Fingerprint) != 16 || a.Annotations["runbook_url"] == "" {
			t.Errorf("firing alert: %+v", a)
		}
		firing[a.Labels["instance"]] = a
	}
	if len(firing) != 2 {
		t.Fatalf("alerts by instance: %v", firing)
	}

	resolved := time.Now()
	am.Resolve(t, alerts...)
	d = rcv.next(t, 10*time.Second)
	t.Logf("Resolve to webhook delivery (group_interval 2s): %s", d.At.Sub(resolved).Round(time.Millisecond))
	m2, raw := decode(t, d.Body)
	checkShape(t, raw, "resolved", 2)
	if d.Auth != "Bearer "+token || m2.GroupKey != m.GroupKey {
		t.Errorf("resolved: Authorization %q groupKey %q (firing: %q)", d.Auth, m2.GroupKey, m.GroupKey)
	}
	for _, a := range m2.Alerts {
		f := firing[a.Labels["instance"]]
		if a.Status != "resolved" || a.EndsAt.IsZero() || !a.StartsAt.Equal(f.StartsAt) || a.Fingerprint != f.Fingerprint {
			t.Errorf("resolved alert %+v (firing was %+v)", a, f)
		}
	}
	if got := am.Alerts(t); len(got) != 0 {
		t.Errorf("GET /api/v2/alerts after resolve: %+v", got)
	}

	// A silence, posted in the raw shape the bot will send.
	start, end := time.Now().UTC(), time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	status, body := am.Do(t, http.MethodPost, "/api/v2/silences", map[string]any{
		"matchers":  []map[string]any{{"name": "service", "value": "playlist", "isRegex": false, "isEqual": true}},
		"startsAt":  start.Format(time.RFC3339Nano),
		"endsAt":    end.Format(time.RFC3339Nano),
		"createdBy": "alice",
		"comment":   "maintenance: playlist DB upgrade",
	})
	var created map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &created) != nil || len(created) != 1 || created["silenceID"] == "" {
		t.Fatalf("POST /api/v2/silences: %d %s", status, body)
	}
	id := created["silenceID"].(string)
	t.Logf("silence POST answer: %s", body)

	var s Silence
	for _, x := range am.Silences(t) {
		if x.ID == id {
			s = x
		}
	}
	if s.ID == "" || s.State() != "active" || s.CreatedBy != "alice" || s.Comment != "maintenance: playlist DB upgrade" ||
		!s.EndsAt.Equal(end) || s.StartsAt.Before(start.Add(-time.Second)) || s.UpdatedAt.IsZero() ||
		len(s.Matchers) != 1 || s.Matchers[0].Name != "service" || s.Matchers[0].Value != "playlist" ||
		s.Matchers[0].IsRegex || s.Matchers[0].IsEqual == nil || !*s.Matchers[0].IsEqual {
		t.Fatalf("silence in GET /api/v2/silences: %+v", s)
	}
	_, rawList := am.Do(t, http.MethodGet, "/api/v2/silence/"+id, nil)
	t.Logf("silence GET: %s", rawList)

	// While the silence is active, a matching alert is held back ("suppressed") and not delivered.
	down := Alert{Labels: map[string]string{"alertname": "PlaylistDown", "service": "playlist", "severity": "critical"},
		Annotations: map[string]string{"summary": "playlist is down"}}
	am.Fire(t, down)
	held := am.Alerts(t)
	if len(held) != 1 || held[0].Status.State != "suppressed" || !slices.Equal(held[0].Status.SilencedBy, []string{id}) {
		t.Errorf("GET /api/v2/alerts under the silence: %+v", held)
	}
	rcv.none(t, 1500*time.Millisecond, "silenced alert")

	// Update in place: same matchers, the stored startsAt, a later end and a new comment: the id is kept.
	s.EndsAt = s.EndsAt.Add(time.Hour)
	s.Comment = "maintenance: extended"
	if got := am.PostSilence(t, s); got != id {
		t.Errorf("updating endsAt and comment: id %s, want the same %s", got, id)
	}
	if got := am.Silence(t, id); got.Comment != "maintenance: extended" || !got.EndsAt.Equal(s.EndsAt) || got.State() != "active" {
		t.Errorf("after update: %+v", got)
	}
	// A different startsAt for an active silence: Alertmanager expires it and makes a new one.
	moved := s
	moved.StartsAt = time.Now().Add(-time.Hour)
	id2 := am.PostSilence(t, moved)
	if id2 == id {
		t.Errorf("changing startsAt of an active silence kept the id")
	}
	if got := am.Silence(t, id).State(); got != "expired" {
		t.Errorf("old silence after a replacing update: %s", got)
	}
	// Changed matchers: a new id too.
	wider := am.Silence(t, id2)
	wider.Matchers = []Matcher{Re("service", "playlist|search")}
	id3 := am.PostSilence(t, wider)
	if id3 == id2 || am.Silence(t, id2).State() != "expired" || am.Silence(t, id3).State() != "active" {
		t.Errorf("changing matchers: id %s -> %s", id2, id3)
	}
	// Unknown id on POST: 404; on DELETE: 500.
	ghost := wider
	ghost.ID = "00000000-0000-0000-0000-000000000000"
	if code, b := am.Do(t, http.MethodPost, "/api/v2/silences", ghost); code != http.StatusNotFound {
		t.Errorf("POST with unknown id: %d %s", code, b)
	}
	if code, b := am.Do(t, http.MethodDelete, "/api/v2/silence/"+ghost.ID, nil); code != http.StatusInternalServerError {
		t.Errorf("DELETE unknown id: %d %s", code, b)
	}
	// Missing comment: 422.
	if code, b := am.Do(t, http.MethodPost, "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z","createdBy":"x"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("POST without comment: %d %s", code, b)
	}

	// Expire: DELETE /api/v2/silence/{id}. The held-back alert is then delivered.
	expired := time.Now()
	status, body = am.Do(t, http.MethodDelete, "/api/v2/silence/"+id3, nil)
	if status != http.StatusOK {
		t.Fatalf("DELETE silence: %d %s", status, body)
	}
	t.Logf("silence DELETE answer: %d %q", status, body)
	var got Silence
	for _, x := range am.Silences(t) {
		if x.ID == id3 {
			got = x
		}
	}
	if got.State() != "expired" || got.EndsAt.After(time.Now()) || got.EndsAt.Before(expired.Add(-time.Second)) {
		t.Errorf("after DELETE: %+v", got)
	}
	if code, _ := am.Do(t, http.MethodDelete, "/api/v2/silence/"+id3, nil); code != http.StatusOK {
		t.Errorf("DELETE an expired silence again: %d", code)
	}
	d = rcv.next(t, 10*time.Second)
	m3, _ := decode(t, d.Body)
	t.Logf("expire to delivery of the held-back alert: %s", d.At.Sub(expired).Round(time.Millisecond))
	if m3.Status != "firing" || len(m3.Alerts) != 1 || m3.Alerts[0].Labels["alertname"] != "PlaylistDown" {
		t.Errorf("after the silence expired: %s", d.Body)
	}
}

// TestSetWebhookLater: the Alertmanager starts before the receiver's URL is known; alerts fired meanwhile
// are delivered once SetWebhook reloads the configuration.
func TestSetWebhookLater(t *testing.T) {
	t.Parallel()
	am := Start(t, Options{Token: "tok", GroupWait: 200 * time.Millisecond, GroupInterval: 500 * time.Millisecond})
	am.Fire(t, latencyAlerts()...)
	time.Sleep(time.Second) // the group has been flushed to a receiver without a webhook

	rcv := newReceiver(t, nil)
	set := time.Now()
	am.SetWebhook(t, rcv.url())
	// The reload rebuilds Alertmanager's dispatcher, which takes the alerts back one by one.
	d := rcv.wholeGroup(t, 2, "after SetWebhook")
	if d.Auth != "Bearer tok" {
		t.Fatalf("delivery after SetWebhook: %q %s", d.Auth, d.Body)
	}
	t.Logf("SetWebhook to the whole group: %s", d.At.Sub(set).Round(time.Millisecond))
	rcv.none(t, 1500*time.Millisecond, "unchanged group after SetWebhook")
}

// wholeGroup waits for the delivery that carries all n firing alerts of a group. Alertmanager's dispatcher
// takes a group's alerts one by one, so with no group_wait (or after a reload) its first flush may hold
// only the first alert and the next one (a group_interval later) them all; either way the whole group
// arrives within a few intervals.
func (r *receiver) wholeGroup(t *testing.T, n int, what string) delivery {
	t.Helper()
	for {
		d := r.next(t, 10*time.Second)
		m, _ := decode(t, d.Body)
		if m.Status != "firing" || len(m.Alerts) == 0 || len(m.Alerts) > n {
			t.Fatalf("delivery %s: %s", what, d.Body)
		}
		if len(m.Alerts) == n {
			return d
		}
	}
}

// TestRestart: the Alertmanager goes down and comes back on the same port and data: silences come back,
// alerts do not, and the notification log keeps a re-fired group from being sent twice.
func TestRestart(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	am := Start(t, Options{WebhookURL: rcv.url(), GroupWait: -1, GroupInterval: 300 * time.Millisecond})
	alerts := latencyAlerts()
	fired := time.Now()
	am.Fire(t, alerts...)
	d := rcv.wholeGroup(t, len(alerts), "after Fire")
	t.Logf("Fire to the whole group with group_wait 0s: %s", d.At.Sub(fired).Round(time.Millisecond))
	if d.Auth != "" {
		t.Errorf("no token configured but Authorization %q", d.Auth)
	}
	// Five group_intervals with nothing new: nothing is re-sent.
	rcv.none(t, 1500*time.Millisecond, "unchanged group")

	kept := am.PostSilence(t, Silence{Matchers: []Matcher{Eq("service", "search")}, StartsAt: time.Now(),
		EndsAt: time.Now().Add(time.Hour), CreatedBy: "amtest", Comment: "kept across a stop"})
	am.Stop()
	if am.Running() {
		t.Fatal("running after Stop")
	}
	if _, _, err := am.do(http.MethodGet, "/-/ready", nil); err == nil {
		t.Fatal("API answers after Stop")
	}
	am.Restart(t)
	if !am.Running() {
		t.Fatal("not running after Restart")
	}
	if got := am.Silence(t, kept); got.State() != "active" {
		t.Errorf("silence after Stop+Restart: %+v", got)
	}
	if got := am.Alerts(t); len(got) != 0 {
		t.Errorf("alerts after restart: %+v", got)
	}
	am.Fire(t, alerts...)
	rcv.none(t, 1500*time.Millisecond, "re-fired group already notified before the restart")
	am.Resolve(t, alerts...)
	if m, _ := decode(t, rcv.next(t, 10*time.Second).Body); m.Status != "resolved" {
		t.Errorf("after restart, resolve: %+v", m)
	}

	// A crash loses what changed since the last snapshot (taken at SIGTERM).
	lost := am.PostSilence(t, Silence{Matchers: []Matcher{Eq("service", "search")}, StartsAt: time.Now(),
		EndsAt: time.Now().Add(time.Hour), CreatedBy: "amtest", Comment: "lost in a crash"})
	am.Kill()
	am.Restart(t)
	ids := map[string]bool{}
	for _, s := range am.Silences(t) {
		ids[s.ID] = true
	}
	t.Logf("after Kill+Restart: silence from before the Stop present %v, silence made after it present %v", ids[kept], ids[lost])
	if !ids[kept] {
		t.Errorf("silence saved at Stop lost after a crash: %v", ids)
	}
}

// TestReceiverErrors: a 5xx answer is retried at once (with backoff); a 4xx is not, but the group is tried
// again at its next group_interval.
func TestReceiverErrors(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(n int) int {
		switch n {
		case 1:
			return http.StatusServiceUnavailable
		case 3:
			return http.StatusUnauthorized
		}
		return http.StatusOK
	})
	am := Start(t, Options{WebhookURL: rcv.url(), GroupWait: -1, GroupInterval: 5 * time.Second, GroupBy: []string{"alertname"}})
	am.Fire(t, Alert{Labels: map[string]string{"alertname": "A"}})
	first := rcv.next(t, 10*time.Second)
	second := rcv.next(t, 10*time.Second)
	t.Logf("503, retried after %s", second.At.Sub(first.At).Round(time.Millisecond))
	am.Fire(t, Alert{Labels: map[string]string{"alertname": "B"}})
	refused := rcv.next(t, 10*time.Second) // answered 401
	rcv.none(t, 3*time.Second, "a 401 answer")
	// Not logged as sent, so the group is sent again at its next group_interval tick.
	again := rcv.next(t, 10*time.Second)
	t.Logf("401, sent again %s later (group_interval 5s)", again.At.Sub(refused.At).Round(time.Millisecond))
	if m, _ := decode(t, again.Body); len(m.Alerts) != 1 || m.Alerts[0].Labels["alertname"] != "B" {
		t.Errorf("after 401: %s", again.Body)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
