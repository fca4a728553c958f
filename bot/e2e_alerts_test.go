package bot

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/amtest"
	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

const amToken = "am-token-0123456789abcdef"

// alertBot starts an IRC network, the bot with the alert intake on (alice on call, escalation to carol after
// ackTimeout) and a real Alertmanager sending every group to it.
func alertBot(t *testing.T, ackTimeout, heartbeat time.Duration) (*irctest.Network, *runningBot, *amtest.Alertmanager) {
	t.Helper()
	n := irctest.Start(t)
	o := pagingOptions(t, n.Addr, "", ackTimeout)
	o.Alerts = commands.AlertConfig{Token: amToken, HeartbeatTimeout: heartbeat}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	am := amtest.Start(t, amtest.Options{WebhookURL: "http://" + rb.HTTPAddr() + "/hooks/alertmanager", Token: amToken})
	return n, rb, am
}

func latency(service, instance, severity string) amtest.Alert {
	return amtest.Alert{Labels: map[string]string{"alertname": "HighLatency", "service": service, "instance": instance, "severity": severity},
		Annotations:  map[string]string{"summary": "p99 latency 2s", "runbook_url": "https://runbooks.example.test/latency"},
		GeneratorURL: "http://prometheus.example.test/graph?g0.expr=latency"}
}

// TestE2EAlertPagesOnce: an alert group from a real Alertmanager pages the on-call once (channel and private
// message), a new alert in the group is one line and no second page, the ack works as for any page, the
// resolve resolves the page with one line, and the group firing again is a new page.
func TestE2EAlertPagesOnce(t *testing.T) {
	n, rb, am := alertBot(t, time.Minute, 0)
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", false)

	am.Fire(t, latency("playlist", "p1", "critical"), latency("playlist", "p2", "critical"))
	want := "P-1 paging alice: [FIRING:2] HighLatency on playlist (critical): p99 latency 2s, runbook https://runbooks.example.test/latency (ack with !ack P-1 within 1m)"
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "P-1")); l.Text() != want {
		t.Fatalf("channel got %q, want %q", l.Text(), want)
	}
	if l := alice.Expect(wait, func(l irctest.Line) bool { return irctest.From("opsbot")(l) && l.Msg.Params[0] == "alice" }); !strings.HasPrefix(l.Text(), "P-1 page from alertmanager: [FIRING:2] HighLatency on playlist") {
		t.Fatalf("alice got %q privately", l.Text())
	}
	am.Fire(t, latency("playlist", "p1", "critical"), latency("playlist", "p2", "critical"), latency("playlist", "p3", "critical"))
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "P-1 [FIRING:3] HighLatency on playlist (critical): 1 more alert joined (p99 latency 2s)" {
		t.Fatalf("joined alert: %q", l.Text())
	}
	// Alertmanager evaluates the group every group_interval (2s): nothing more is told, nothing paged again.
	if extra := bob.Collect(5*time.Second, irctest.From("opsbot")); len(extra) != 0 {
		t.Fatalf("re-sends told %q", extra[0].Text())
	}
	alice.Say("#operations", "!ack")
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "P-1 acked by alice after") {
		t.Fatalf("ack: %q", l.Text())
	}
	alice.Say("#operations", "!alerts show P-1")
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", "(critical), since")); !strings.HasPrefix(l.Text(), "P-1 [FIRING:3] HighLatency on playlist (critical), since") {
		t.Fatalf("!alerts show: %q", l.Text())
	}
	alice.Collect(time.Second, irctest.From("opsbot"))
	am.Resolve(t, latency("playlist", "p1", "critical"), latency("playlist", "p2", "critical"), latency("playlist", "p3", "critical"))
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "[RESOLVED]")); !strings.HasPrefix(l.Text(), "P-1 [RESOLVED] HighLatency on playlist (critical) after") {
		t.Fatalf("resolve: %q", l.Text())
	}
	if pg, _ := rb.Store.GetPage(1); pg.State != store.PageResolved || pg.ResolvedBy != "alertmanager" {
		t.Fatalf("page after the resolve: %+v", pg)
	}
	am.Fire(t, latency("playlist", "p1", "critical"))
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "P-2")); !strings.HasPrefix(l.Text(), "P-2 paging alice: [FIRING:1] HighLatency on playlist") {
		t.Fatalf("firing again: %q, want a new page", l.Text())
	}
}

// TestE2EAlertSeverityAndEscalation: warning is one line, info nothing, critical pages and escalates to carol
// when alice does not ack; the API lists the firing groups.
func TestE2EAlertSeverityAndEscalation(t *testing.T) {
	n, rb, am := alertBot(t, 2*time.Second, 0)
	carol := joinedClient(t, n, "carol", true)
	bob := joinedClient(t, n, "bob", false)
	disk := amtest.Alert{Labels: map[string]string{"alertname": "DiskFilling", "service": "storage", "severity": "warning"},
		Annotations: map[string]string{"summary": "disk 91% full"}}
	cert := amtest.Alert{Labels: map[string]string{"alertname": "CertExpiry", "service": "web", "severity": "info"}}
	am.Fire(t, disk, cert)
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "A-1 [FIRING:1] DiskFilling on storage (warning): disk 91% full" &&
		l.Text() != "A-2 [FIRING:1] DiskFilling on storage (warning): disk 91% full" {
		t.Fatalf("warning: %q", l.Text())
	}
	am.Fire(t, latency("search", "s1", "critical"))
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "P-1 paging alice: [FIRING:1] HighLatency on search") {
		t.Fatalf("critical: %q", l.Text())
	}
	l := carol.Expect(10*time.Second, func(l irctest.Line) bool { return irctest.From("opsbot")(l) && l.Msg.Params[0] == "carol" })
	if !strings.HasPrefix(l.Text(), "P-1 page from alertmanager, escalated to you") {
		t.Fatalf("carol got %q", l.Text())
	}
	for _, l := range bob.Collect(time.Second, irctest.From("opsbot")) {
		if strings.Contains(l.Text(), "CertExpiry") {
			t.Fatalf("an info alert was told: %q", l.Text())
		}
	}
	code, body := httpGet(t, "http://"+rb.HTTPAddr()+"/api/v1/alerts")
	if code != 200 || strings.Count(body, `"group_key"`) != 3 || !strings.Contains(body, `"ref": "P-1"`) {
		t.Fatalf("GET /api/v1/alerts = %d %s", code, body)
	}
}

// TestE2EAlertWebhookRefusals: a forged or missing token, a wrong version and a 2 MiB body, on the bot's
// real HTTP server.
func TestE2EAlertWebhookRefusals(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.Alerts = commands.AlertConfig{Token: amToken}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	url := "http://" + rb.HTTPAddr() + "/hooks/alertmanager"
	post := func(tok, body string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"version":"4","status":"firing","groupKey":"k","alerts":[{"status":"firing","labels":{"alertname":"X"}}]}`
	for _, tt := range []struct {
		name, tok, body string
		code            int
	}{
		{"missing token", "", good, 401},
		{"forged token", "am-token-0123456789abcdeX", good, 401},
		{"version 3", amToken, strings.Replace(good, `"4"`, `"3"`, 1), 400},
		{"2 MiB", amToken, `{"version":"4","x":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
	} {
		if code := post(tt.tok, tt.body); code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.code)
		}
	}
	if g, _ := rb.Store.FiringAlertGroups(); len(g) != 0 {
		t.Fatalf("refused requests stored %d groups", len(g))
	}
}

// TestE2EAlertHeartbeat: the Watchdog keeps the dead man's switch quiet; when it stops, the on-call is paged
// once ("the alert pipeline is silent"); when it fires again, the page is resolved with one line.
func TestE2EAlertHeartbeat(t *testing.T) {
	n, _, am := alertBot(t, time.Minute, 3*time.Second)
	bob := joinedClient(t, n, "bob", false)
	watchdog := amtest.Alert{Labels: map[string]string{"alertname": "Watchdog", "severity": "none"}}
	am.Fire(t, watchdog)
	time.Sleep(2 * time.Second) // delivered after group_wait
	am.Resolve(t, watchdog)     // Prometheus stops: the heartbeat stops coming
	l := bob.Expect(15*time.Second, irctest.From("opsbot"))
	if !strings.HasPrefix(l.Text(), "P-1 paging alice: the alert pipeline is silent since") {
		t.Fatalf("silence: %q", l.Text())
	}
	if extra := bob.Collect(7*time.Second, irctest.FromContaining("opsbot", "silent")); len(extra) != 0 {
		t.Fatalf("paged again: %q", extra[0].Text())
	}
	am.Fire(t, watchdog)
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "P-1 resolved: the alert pipeline's heartbeat (Watchdog) is back after") {
		t.Fatalf("return: %q", l.Text())
	}
}

// TestE2EAlertStorm: 500 alerts in 50 groups within a few seconds give a handful of channel lines and lose
// no state.
func TestE2EAlertStorm(t *testing.T) {
	n, rb, am := alertBot(t, time.Hour, 0)
	bob := joinedClient(t, n, "bob", false)
	var alerts []amtest.Alert
	for g := range 50 {
		for i := range 10 {
			alerts = append(alerts, amtest.Alert{Labels: map[string]string{"alertname": fmt.Sprintf("Storm%02d", g),
				"service": fmt.Sprintf("svc%d", g%5), "instance": fmt.Sprintf("i%d", i), "severity": "critical"}})
		}
	}
	start := time.Now()
	am.Fire(t, alerts...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		groups, _ := rb.Store.FiringAlertGroups()
		paged := 0
		for _, g := range groups {
			if g.Firing == 10 && g.Page != 0 {
				paged++
			}
		}
		if paged == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d of 50 groups stored with 10 alerts and a page", paged)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("500 alerts in 50 groups stored and paged %v after the fire", time.Since(start).Round(time.Millisecond))
	lines := bob.Collect(5*time.Second, irctest.From("opsbot"))
	if len(lines) == 0 || len(lines) > 5 {
		var texts []string
		for _, l := range lines {
			texts = append(texts, l.Text())
		}
		t.Fatalf("the storm gave %d channel lines, want 1 to 5:\n%s", len(lines), strings.Join(texts, "\n"))
	}
	for _, l := range lines {
		t.Logf("channel: %s", l.Text())
	}
	if pages, _ := rb.Store.OpenPages(); len(pages) != 50 {
		t.Fatalf("%d pages open, want 50", len(pages))
	}
	base := "http://" + rb.HTTPAddr()
	if f, r := scrapeMetric(t, base, "opsbot_alert_groups_firing", ""), scrapeMetric(t, base, "opsbot_alerts_received_total", `status="firing"`); f != 50 || r < 500 {
		t.Fatalf("metrics: %v groups firing, %v firing alerts received; want 50 and at least 500", f, r)
	}
}
