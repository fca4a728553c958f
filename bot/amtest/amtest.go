// Package amtest runs a real Prometheus Alertmanager (Debian's prometheus-alertmanager, 0.25) on loopback
// for tests, and talks to it through its own API v2 as Prometheus and amtool would: fire and resolve alerts,
// list alerts and silences, create, update and expire silences.
//
// One Alertmanager per test: Start picks a free loopback port, writes am.yml in a temporary folder, starts
// the process with gossip off and waits until GET /-/ready answers 200. It is stopped at cleanup, and its log
// (debug level) is copied to the test log when the test failed. Without the binary the test is skipped with
// an install hint, unless CI is set: then it fails (as bot/irctest does).
//
// # Order when the webhook's address is not known yet
//
// The bot's HTTP port is often picked after the Alertmanager is started. Either start the bot first and pass
// Options.WebhookURL, or start the Alertmanager with an empty WebhookURL (the receiver then has no webhook and
// notifies nobody) and call SetWebhook once the bot listens: it rewrites am.yml and POSTs /-/reload. Alerts
// fired before SetWebhook are not lost: the reload rebuilds every aggregation group from the alerts in memory,
// nothing was logged as sent to the empty receiver, so the groups are delivered to the new URL right away
// (their alerts are already older than group_wait). TestSetWebhookLater shows it.
//
// # Observed behaviour of 0.25 (measured here, see amtest_test.go)
//
//   - Fire to delivery takes group_wait plus a few milliseconds (1s group_wait: 1.01s; group_wait 0s:
//     4-50ms). group_wait 0s and group_interval 100ms are accepted: there is no minimum, except that
//     group_interval and repeat_interval may not be 0. An alert whose startsAt is already older than
//     group_wait is flushed at once when its group is new.
//   - After the first notification, a group is evaluated every group_interval but re-sent only when it
//     changed (an alert added, or resolved with send_resolved) or when repeat_interval has passed since the
//     last send: an unchanged firing group is not re-sent every group_interval.
//   - A resolve (endsAt <= now) is delivered at the group's next group_interval tick, so 0 to group_interval
//     after Resolve (about 1-2s with the defaults here). Resolving only some alerts of a group sends the group
//     with "status":"firing" and the resolved alerts marked "resolved" inside.
//   - GET /api/v2/alerts no longer lists resolved alerts. Alerts live in memory only: after a restart the
//     Alertmanager has no alerts until they are fired again. Silences and the notification log are kept in
//     --storage.path (written on SIGTERM and every --data.maintenance-interval, 15m), so after Stop+Restart the silences are back,
//     and re-firing the same alerts does not send the group again (already notified) until repeat_interval.
//     After Kill (SIGKILL), what changed since the last snapshot is lost.
//   - The webhook's Authorization header is "Bearer TOKEN" from http_config.authorization.credentials; the body
//     ends with a newline (JSON encoder), Content-Type is application/json, User-Agent "Alertmanager/0.25.0".
//   - The receiver's answer matters: a 5xx is retried at once with jittered backoff (first retry 0.25-0.65s later); a
//     4xx (e.g. 401 for a bad token) is not retried, but as the group was not logged as sent it is tried
//     again at every group_interval tick. So the hook should answer 2xx once it has stored the alert, 4xx for
//     a request that will never be accepted, and 5xx only when a later try can succeed.
//   - A silenced alert is "suppressed" in GET /api/v2/alerts (status.silencedBy holds the silence's id) and
//     is not sent; when the silence is expired it is sent at its group's next group_interval tick.
//
// # Webhook payload (version 4), as posted to the receiver
//
//	{
//	  "receiver":          string  // the receiver's name in am.yml ("opsbot")
//	  "status":            string  // "firing" if any alert in the group fires, else "resolved"
//	  "alerts": [{                  // every alert of the group (firing and, with send_resolved, resolved)
//	    "status":          string  // "firing" | "resolved"
//	    "labels":          {string: string}
//	    "annotations":     {string: string}
//	    "startsAt":        string  // RFC 3339 with nanoseconds
//	    "endsAt":          string  // "0001-01-01T00:00:00Z" while firing; the resolve time once resolved
//	    "generatorURL":    string  // "" when the alert had none
//	    "fingerprint":     string  // 16 hex digits, a hash of the labels: stable across fires of the same alert
//	  }],
//	  "groupLabels":       {string: string}  // the group_by labels
//	  "commonLabels":      {string: string}  // labels with the same value in every alert of the group
//	  "commonAnnotations": {string: string}
//	  "externalURL":       string  // --web.external-url (amtest sets http://127.0.0.1:PORT)
//	  "version":           "4"     // a string, not a number
//	  "groupKey":          string  // the route's matchers and the group labels, stable for the group
//	  "truncatedAlerts":   number  // 0 unless max_alerts cut the list
//	}
//
// A real capture (TestWebhookAndSilences: group_by [alertname, service], two alerts; only the second alert's
// annotations are elided):
//
//	{"receiver":"opsbot","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency",
//	"instance":"playlist-1","service":"playlist","severity":"critical"},"annotations":{"runbook_url":
//	"https://runbooks.example.test/playlist/latency","summary":"p99 latency above 2s"},"startsAt":
//	"2026-12-02T04:59:36.902085955Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":
//	"http://prometheus.example.test/graph?g0.expr=latency","fingerprint":"4454a2ca47444bc2"},{"status":
//	"firing","labels":{"alertname":"HighLatency","instance":"playlist-2","service":"playlist","severity":
//	"critical"},"annotations":{...},"startsAt":"2026-12-02T04:59:36.902085955Z","endsAt":
//	"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example.test/graph?g0.expr=latency",
//	"fingerprint":"d606f4c93957df1f"}],"groupLabels":{"alertname":"HighLatency","service":"playlist"},
//	"commonLabels":{"alertname":"HighLatency","service":"playlist","severity":"critical"},
//	"commonAnnotations":{"runbook_url":"https://runbooks.example.test/playlist/latency","summary":
//	"p99 latency above 2s"},"externalURL":"http://127.0.0.1:37949","version":"4","groupKey":
//	"{}:{alertname=\"HighLatency\", service=\"playlist\"}","truncatedAlerts":0}
//
// The resolved delivery is the same shape with "status":"resolved" at the top and in each alert, and endsAt
// set to the time given in the resolving POST (startsAt and fingerprint unchanged).
//
// # Silences (API v2)
//
// POST /api/v2/silences, body (Silence below):
//
//	{"matchers": [{"name": "service", "value": "playlist", "isRegex": false, "isEqual": true}],
//	 "startsAt": "2026-12-02T05:00:00Z", "endsAt": "2026-12-02T06:00:00Z",
//	 "createdBy": "alice", "comment": "maintenance window", "id": "<only to update>"}
//
// matchers, startsAt, endsAt, createdBy, comment are required (422 {"code":602,"message":"createdBy in body
// is required"} otherwise), and so is isRegex in each matcher; isEqual is optional and defaults to true
// (false makes != or !~). At least one matcher must not match the empty string (400). endsAt in the past:
// 400 "Failed to create silence: end time can't be in the past". A startsAt in the past is stored as now;
// a future one makes a "pending" silence. Answer: 200 {"silenceID":"<uuid>"}.
//
// GET /api/v2/silences (optional ?filter=service="playlist") lists every silence, expired ones included
// until they are garbage-collected (--data.retention, 120h): id, status.state ("active" | "pending" |
// "expired"), updatedAt, comment, createdBy, startsAt, endsAt, matchers (isEqual always present).
// GET /api/v2/silence/{id} returns one. Times come back with millisecond precision.
//
// Updating (POST with an existing "id") in 0.25 keeps the id only when the silence can be changed in place:
// same matchers, and for an active silence the same startsAt as stored (send back the startsAt that GET
// returned, not your own original one: a past startsAt was replaced by the creation time) and an endsAt not
// in the past; a pending silence may also move its startsAt. Then the new comment and endsAt are stored and
// the answer carries the same id. Otherwise (matchers changed, active silence's startsAt changed, or the
// silence already expired) the old silence is expired and a new one is created: the answer carries a NEW
// id. An id that does not exist: 404 "silence not found". So a caller must always store the id from the
// answer.
//
// DELETE /api/v2/silence/{id} expires it: 200 with an empty body, endsAt (and for a pending silence startsAt
// too) set to now, state "expired". Expiring an expired silence again: 200. An unknown id: 500 "silence not
// found" (not 404).
package amtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure the Alertmanager's single route and receiver ("opsbot"). Zero values take the defaults.
type Options struct {
	// WebhookURL receives every group, e.g. http://127.0.0.1:PORT/hooks/alertmanager. Empty: the receiver
	// has no webhook until SetWebhook.
	WebhookURL string
	// Token is sent as "Authorization: Bearer TOKEN" (http_config.authorization.credentials). Empty: no
	// Authorization header.
	Token string
	// GroupBy defaults to [alertname, service]. []string{"..."} groups by all labels (one alert a group).
	GroupBy []string
	// GroupWait defaults to 1s; a negative value means 0s (send a new group at once).
	GroupWait time.Duration
	// GroupInterval defaults to 2s, RepeatInterval to 1h.
	GroupInterval, RepeatInterval time.Duration
	// ResolveTimeout (global.resolve_timeout) defaults to 5m: an alert fired without endsAt is resolved by
	// the Alertmanager itself when it is not fired again within it.
	ResolveTimeout time.Duration
	// SkipResolved turns send_resolved off (it is on by default).
	SkipResolved bool
	// LogLevel defaults to "debug" (the log is shown only when the test fails).
	LogLevel string
}

// Alertmanager is one running (or stopped) Alertmanager process.
type Alertmanager struct {
	Dir  string // holds am.yml, alertmanager.log and data/ (the storage path, kept across Restart)
	Port int
	Addr string // 127.0.0.1:Port

	bin    string
	client *http.Client

	mu      sync.Mutex
	opts    Options
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	starts  int
	stopped bool
}

const installHint = "run `sudo bash testdata/alertmanager/install.sh` (Debian package prometheus-alertmanager)"

// binary finds the Alertmanager: $OPSBOT_ALERTMANAGER, then Debian's name, then upstream's.
func binary() (string, error) {
	if b := os.Getenv("OPSBOT_ALERTMANAGER"); b != "" {
		return exec.LookPath(b)
	}
	var err error
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		var p string
		if p, err = exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", err
}

// Available reports whether the Alertmanager is installed; when not, it says how to get it.
func Available() (bool, string) {
	if _, err := binary(); err != nil {
		if b := os.Getenv("OPSBOT_ALERTMANAGER"); b != "" {
			return false, fmt.Sprintf("OPSBOT_ALERTMANAGER=%s: %v", b, err)
		}
		return false, "prometheus-alertmanager not installed: " + installHint
	}
	return true, ""
}

// Start starts an Alertmanager for the test and stops it at cleanup. Without the binary the test is
// skipped, unless CI is set: then it fails, so CI can never pass without it.
func Start(t testing.TB, o Options) *Alertmanager {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the Alertmanager cannot run: %s", why)
		}
		t.Skip(why)
	}
	bin, _ := binary()
	// t.TempDir's removal is registered before our Stop, so it runs after it (cleanups run last first).
	a := &Alertmanager{Dir: t.TempDir(), bin: bin, opts: o, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("alertmanager log (%s):\n%s", a.Addr, a.Log())
		}
	})
	if err := a.writeConfig(); err != nil {
		t.Fatal(err)
	}
	// A free port can be taken by someone else between our check and the Alertmanager's bind: try again
	// on another one then.
	var err error
	for range 3 {
		a.Port = freePort(t)
		a.Addr = "127.0.0.1:" + strconv.Itoa(a.Port)
		if err = a.launch(); err == nil || !strings.Contains(a.Log(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("start alertmanager: %v\n%s", err, a.Log())
	}
	return a
}

// URL is the Alertmanager's base URL, http://127.0.0.1:PORT (also its externalURL).
func (a *Alertmanager) URL() string { return "http://" + a.Addr }

// ConfigPath is the am.yml the Alertmanager reads.
func (a *Alertmanager) ConfigPath() string { return filepath.Join(a.Dir, "am.yml") }

// Log returns everything the Alertmanager wrote to stdout and stderr so far, across restarts.
func (a *Alertmanager) Log() string {
	b, err := os.ReadFile(filepath.Join(a.Dir, "alertmanager.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 256 << 10
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	return string(b)
}

// SetWebhook points the receiver at url (with the same token) and reloads the configuration: for a bot whose
// HTTP port is known only after the Alertmanager started. Alerts already fired are delivered to url.
func (a *Alertmanager) SetWebhook(t testing.TB, url string) {
	t.Helper()
	a.mu.Lock()
	o := a.opts
	a.mu.Unlock()
	o.WebhookURL = url
	a.Reconfigure(t, o)
}

// Reconfigure rewrites am.yml from o and reloads it (POST /-/reload, which answers only once the new
// configuration is in force). Aggregation groups are rebuilt from the alerts in memory.
func (a *Alertmanager) Reconfigure(t testing.TB, o Options) {
	t.Helper()
	a.mu.Lock()
	a.opts = o
	a.mu.Unlock()
	if err := a.writeConfig(); err != nil {
		t.Fatal(err)
	}
	status, body, err := a.do(http.MethodPost, "/-/reload", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("alertmanager reload: %v %d %s", err, status, body)
	}
}

func (a *Alertmanager) writeConfig() error {
	a.mu.Lock()
	o := a.opts
	a.mu.Unlock()
	groupBy := o.GroupBy
	if groupBy == nil {
		groupBy = []string{"alertname", "service"}
	}
	groupWait := defaultDuration(o.GroupWait, time.Second)
	if o.GroupWait < 0 {
		groupWait = 0
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // a JSON string is a YAML string
	gb := make([]string, len(groupBy))
	for i, l := range groupBy {
		gb[i] = q(l)
	}
	var c strings.Builder
	c.WriteString("# written by bot/amtest\n")
	fmt.Fprintf(&c, "global:\n  resolve_timeout: %s\n", promDuration(defaultDuration(o.ResolveTimeout, 5*time.Minute)))
	fmt.Fprintf(&c, "route:\n  receiver: opsbot\n  group_by: [%s]\n", strings.Join(gb, ", "))
	fmt.Fprintf(&c, "  group_wait: %s\n  group_interval: %s\n  repeat_interval: %s\n", promDuration(groupWait),
		promDuration(defaultDuration(o.GroupInterval, 2*time.Second)), promDuration(defaultDuration(o.RepeatInterval, time.Hour)))
	c.WriteString("receivers:\n  - name: opsbot\n")
	if o.WebhookURL != "" {
		fmt.Fprintf(&c, "    webhook_configs:\n      - url: %s\n        send_resolved: %t\n", q(o.WebhookURL), !o.SkipResolved)
		if o.Token != "" {
			fmt.Fprintf(&c, "        http_config:\n          authorization:\n            credentials: %s\n", q(o.Token))
		}
	}
	return os.WriteFile(filepath.Join(a.Dir, "am.yml"), []byte(c.String()), 0o600)
}

func defaultDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// promDuration writes d as Prometheus does (1h, 2s, 1s500ms): Go's "1h0m0s" is not always accepted.
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "1ms"
	}
	return b.String()
}

// launch starts the process on a.Port and waits until it is ready.
func (a *Alertmanager) launch() error {
	a.mu.Lock()
	level := a.opts.LogLevel
	a.starts++
	n := a.starts
	a.mu.Unlock()
	if level == "" {
		level = "debug"
	}
	logf, err := os.OpenFile(filepath.Join(a.Dir, "alertmanager.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	fmt.Fprintf(logf, "=== amtest: start %d on %s at %s\n", n, a.Addr, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(a.bin,
		"--config.file="+filepath.Join(a.Dir, "am.yml"),
		"--storage.path="+filepath.Join(a.Dir, "data"),
		"--web.listen-address="+a.Addr,
		"--web.external-url="+a.URL(),
		"--cluster.listen-address=", // no gossip
		"--log.level="+level,
	)
	cmd.Dir = a.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	exited := make(chan struct{})
	if err := startCmd(cmd, exited); err != nil {
		return err
	}
	a.mu.Lock()
	a.cmd, a.exited, a.stopped = cmd, exited, false
	a.mu.Unlock()

	deadline := time.Now().Add(20 * time.Second)
	probe := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("alertmanager exited before it was ready: %v", cmd.ProcessState)
		default:
		}
		if resp, err := probe.Get(a.URL() + "/-/ready"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Kill()
	return errors.New("alertmanager not ready after 20s")
}

// Stop stops the Alertmanager as an operator would (SIGTERM, which snapshots silences and the notification
// log to the data folder; SIGKILL after 5s) and waits until it has exited. Stopping a stopped one does
// nothing.
func (a *Alertmanager) Stop() { a.signal(syscall.SIGTERM, 5*time.Second) }

// Kill kills the Alertmanager (SIGKILL: a crash, nothing saved since the last snapshot) and waits until it
// has exited.
func (a *Alertmanager) Kill() { a.signal(syscall.SIGKILL, 0) }

func (a *Alertmanager) signal(sig syscall.Signal, grace time.Duration) {
	a.mu.Lock()
	cmd, exited, stopped := a.cmd, a.exited, a.stopped
	a.stopped = true
	a.mu.Unlock()
	if cmd == nil || stopped {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, sig) // its process group
	if grace > 0 {
		select {
		case <-exited:
			return
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	<-exited
}

// Running reports whether the process is up (started and not exited).
func (a *Alertmanager) Running() bool {
	a.mu.Lock()
	exited := a.exited
	a.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Restart starts the Alertmanager again (stopping it first if it runs) on the same port, configuration and
// data folder: silences and the notification log come back, alerts do not.
func (a *Alertmanager) Restart(t testing.TB) {
	t.Helper()
	a.Stop()
	if err := a.writeConfig(); err != nil {
		t.Fatal(err)
	}
	if err := a.launch(); err != nil {
		t.Fatalf("restart alertmanager on %s: %v\n%s", a.Addr, err, a.Log())
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// --- API v2 ---

// Alert is an alert as Prometheus posts it (POST /api/v2/alerts). A zero StartsAt is set to now by the
// Alertmanager; a zero EndsAt means "firing until resolve_timeout unless fired again".
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Fire posts the alerts (POST /api/v2/alerts) and fails the test unless the Alertmanager accepts them.
func (a *Alertmanager) Fire(t testing.TB, alerts ...Alert) {
	t.Helper()
	if alerts == nil {
		alerts = []Alert{}
	}
	a.must(t, http.MethodPost, "/api/v2/alerts", alerts, nil)
}

// Resolve posts the alerts again with EndsAt set to now (unless it is already set and not in the future):
// Prometheus' way of saying they stopped firing. The Alertmanager matches them to the firing ones by their
// labels (keeping their startsAt) and sends the group at its next group_interval.
func (a *Alertmanager) Resolve(t testing.TB, alerts ...Alert) {
	t.Helper()
	now := time.Now()
	out := make([]Alert, len(alerts))
	for i, al := range alerts {
		if al.EndsAt.IsZero() || al.EndsAt.After(now) {
			al.EndsAt = now
		}
		out[i] = al
	}
	a.Fire(t, out...)
}

// AlertState is an alert as GET /api/v2/alerts returns it.
type AlertState struct {
	Alert
	Fingerprint string         `json:"fingerprint"`
	UpdatedAt   time.Time      `json:"updatedAt"`
	Receivers   []ReceiverName `json:"receivers"`
	Status      struct {
		State       string   `json:"state"` // "unprocessed", "active" or "suppressed"
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// ReceiverName is an entry of AlertState.Receivers.
type ReceiverName struct {
	Name string `json:"name"`
}

// Alerts lists the alerts the Alertmanager holds (GET /api/v2/alerts: active, silenced and inhibited ones,
// not resolved ones).
func (a *Alertmanager) Alerts(t testing.TB) []AlertState {
	t.Helper()
	var out []AlertState
	a.must(t, http.MethodGet, "/api/v2/alerts", nil, &out)
	return out
}

// Matcher is a silence matcher. IsEqual nil means true, as in the API (false makes != or !~).
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

// Equal reports whether the matcher is = or =~ (IsEqual nil or true).
func (m Matcher) Equal() bool { return m.IsEqual == nil || *m.IsEqual }

// Eq is name="value"; Re is name=~"regex"; NotEq is name!="value".
func Eq(name, value string) Matcher { return Matcher{Name: name, Value: value, IsEqual: ptr(true)} }

// Re is name=~"regex" (anchored by the Alertmanager).
func Re(name, regex string) Matcher {
	return Matcher{Name: name, Value: regex, IsRegex: true, IsEqual: ptr(true)}
}

// NotEq is name!="value".
func NotEq(name, value string) Matcher { return Matcher{Name: name, Value: value, IsEqual: ptr(false)} }

func ptr[T any](v T) *T { return &v }

// Silence is a silence as GET /api/v2/silences returns it and POST /api/v2/silences takes it (ID set to
// update; UpdatedAt and Status are ignored on POST).
type Silence struct {
	ID        string         `json:"id,omitempty"`
	Matchers  []Matcher      `json:"matchers"`
	StartsAt  time.Time      `json:"startsAt"`
	EndsAt    time.Time      `json:"endsAt"`
	CreatedBy string         `json:"createdBy"`
	Comment   string         `json:"comment"`
	UpdatedAt time.Time      `json:"updatedAt,omitzero"`
	Status    *SilenceStatus `json:"status,omitempty"`
}

// SilenceStatus holds the state: "active", "pending" or "expired".
type SilenceStatus struct {
	State string `json:"state"`
}

// State is Status.State, or "" for a silence not read from the Alertmanager.
func (s Silence) State() string {
	if s.Status == nil {
		return ""
	}
	return s.Status.State
}

// Silences lists every silence (GET /api/v2/silences), expired ones included.
func (a *Alertmanager) Silences(t testing.TB) []Silence {
	t.Helper()
	var out []Silence
	a.must(t, http.MethodGet, "/api/v2/silences", nil, &out)
	return out
}

// Silence returns one silence (GET /api/v2/silence/{id}).
func (a *Alertmanager) Silence(t testing.TB, id string) Silence {
	t.Helper()
	var out Silence
	a.must(t, http.MethodGet, "/api/v2/silence/"+id, nil, &out)
	return out
}

// PostSilence creates a silence, or updates s.ID, and returns the id from the answer, which for an update
// may be a new one (see the package notes).
func (a *Alertmanager) PostSilence(t testing.TB, s Silence) string {
	t.Helper()
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	a.must(t, http.MethodPost, "/api/v2/silences", s, &out)
	if out.SilenceID == "" {
		t.Fatal("alertmanager: POST /api/v2/silences answered no silenceID")
	}
	return out.SilenceID
}

// ExpireSilence expires a silence (DELETE /api/v2/silence/{id}).
func (a *Alertmanager) ExpireSilence(t testing.TB, id string) {
	t.Helper()
	a.must(t, http.MethodDelete, "/api/v2/silence/"+id, nil, nil)
}

// Do sends one request to the Alertmanager (body, when not nil, as JSON) and returns the status and body,
// for tests that check error answers or send raw shapes.
func (a *Alertmanager) Do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	status, b, err := a.do(method, path, body)
	if err != nil {
		t.Fatalf("alertmanager %s %s: %v", method, path, err)
	}
	return status, b
}

func (a *Alertmanager) must(t testing.TB, method, path string, in, out any) {
	t.Helper()
	status, body, err := a.do(method, path, in)
	if err != nil {
		t.Fatalf("alertmanager %s %s: %v", method, path, err)
	}
	if status/100 != 2 {
		t.Fatalf("alertmanager %s %s: %d %s", method, path, status, bytes.TrimSpace(body))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("alertmanager %s %s: decoding %s: %v", method, path, body, err)
		}
	}
}

func (a *Alertmanager) do(method, path string, in any) (int, []byte, error) {
	var rd io.Reader
	if in != nil {
		switch v := in.(type) {
		case []byte:
			rd = bytes.NewReader(v)
		case string:
			rd = strings.NewReader(v)
		default:
			b, err := json.Marshal(in)
			if err != nil {
				return 0, nil, err
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, a.URL()+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// --- webhook payload ---

// WebhookMessage is the body of the Alertmanager's webhook (version "4"); see the package notes.
type WebhookMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []WebhookAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

// WebhookAlert is one alert of a WebhookMessage. EndsAt is the zero time while firing.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}
