package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// TestE2EMetricsForAlerting: /metrics has what an operator alerts on, and each moves when it should:
// disconnected (opsbot_irc_connected), outbox backlog, notifier failures, escalations pending, store errors.
func TestE2EMetricsForAlerting(t *testing.T) {
	n := irctest.Start(t)
	hook := newHookReceiver(t, "hook-secret", 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	g := newGate(t, n.Addr)
	rb := startBot(t, pagingOptions(t, g.Addr(), hook.srv.URL, time.Hour))
	rb.waitJoined(t, "#operations")
	base := "http://" + rb.HTTPAddr()
	// eventually waits until the sample has the value (metrics move asynchronously).
	eventually := func(name, labels string, want func(float64) bool, what string) {
		t.Helper()
		var v float64
		for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if v = scrapeMetric(t, base, name, labels); want(v) {
				return
			}
		}
		t.Errorf("%s{%s} = %v, want %s", name, labels, v, what)
	}
	is := func(x float64) func(float64) bool { return func(v float64) bool { return v == x } }

	_, body := httpGet(t, base+"/metrics")
	for _, name := range []string{"opsbot_irc_connected 1", "opsbot_outbox_backlog 0", "opsbot_escalations_pending 0",
		"opsbot_escalations_overdue 0", "opsbot_store_errors_total 0", `opsbot_notifier_failures_total{notifier="webhook-0"} 0`} {
		if !strings.Contains(body, "\n"+name+"\n") {
			t.Errorf("/metrics lacks %q", name)
		}
	}

	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", true)
	bob.Say("#operations", "!page the db is down")
	alice.Expect(wait, irctest.FromContaining("opsbot", "P-1 paging alice"))
	eventually("opsbot_escalations_pending", "", is(1), "1 after a page")
	// The page was committed: the group commit counters moved, and no commit carried fewer than one write.
	if c, w := scrapeMetric(t, base, "opsbot_store_commits_total", ""), scrapeMetric(t, base, "opsbot_store_writes_total", ""); c < 1 || w < c {
		t.Errorf("opsbot_store_commits_total = %v, opsbot_store_writes_total = %v after a page: want 1 <= commits <= writes", c, w)
	}
	eventually("opsbot_notifier_failures_total", `notifier="webhook-0"`, func(v float64) bool { return v >= 1 }, ">= 1 with the receiver down")
	alice.Say("#operations", "!ack P-1")
	alice.Expect(wait, irctest.FromContaining("opsbot", "P-1"))
	eventually("opsbot_escalations_pending", "", is(0), "0 after the ack")

	// Disconnected: the gauge drops, and what is announced meanwhile waits in the outbox.
	g.setOpen(false)
	g.closeAll()
	eventually("opsbot_irc_connected", "", is(0), "0 while disconnected")
	if err := rb.Announce("", "INC-9: announced while disconnected", false); err != nil {
		t.Fatal(err)
	}
	eventually("opsbot_outbox_backlog", "", is(1), "1 while disconnected")
	if code, _ := httpGet(t, base+"/healthz"); code != 503 {
		t.Errorf("/healthz while disconnected = %d", code)
	}
	g.setOpen(true)
	eventually("opsbot_irc_connected", "", is(1), "1 after the reconnect")
	eventually("opsbot_outbox_backlog", "", is(0), "0 once delivered")
	eventually("opsbot_store_errors_total", "", is(0), "0 (nothing failed)")
}
