package bot

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/amtest"
	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// maintBot starts an IRC network, a real Alertmanager and the bot with both the alert intake and the silences
// pointed at it (alice on call).
func maintBot(t *testing.T) (*irctest.Network, *runningBot, *amtest.Alertmanager) {
	t.Helper()
	n := irctest.Start(t)
	am := amtest.Start(t, amtest.Options{Token: amToken})
	o := pagingOptions(t, n.Addr, "", time.Hour)
	o.Alerts = commands.AlertConfig{Token: amToken}
	o.Maint = commands.MaintConfig{AlertmanagerURL: am.URL()}
	o.Services.Seeds = []store.ServiceSeed{{Name: "playlist", Owner: "alice"}, {Name: "search"}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	am.SetWebhook(t, "http://"+rb.HTTPAddr()+"/hooks/alertmanager")
	return n, rb, am
}

// TestE2EMaintWindow: a window with --silence creates the silence in Alertmanager (matchers, end), --freeze
// makes the deploy gate 423, an alert of a service in maintenance is held back while a person's page goes
// through, !maint end expires the silence, and the alert still firing pages once its window is over.
func TestE2EMaintWindow(t *testing.T) {
	n, rb, am := maintBot(t)
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", true)

	alice.Say("#operations", "!maint add playlist now 1h db migration --freeze --silence")
	l := bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist"))
	if !strings.Contains(l.Text(), "deploys frozen; alert pages held back; alerts silenced in Alertmanager (silence ") {
		t.Fatalf("add: %q", l.Text())
	}
	var sil amtest.Silence
	for _, s := range am.Silences(t) {
		if s.State() == "active" {
			sil = s
		}
	}
	if sil.ID == "" || len(sil.Matchers) != 1 || sil.Matchers[0].Name != "service" || sil.Matchers[0].Value != "playlist" ||
		sil.CreatedBy != "alice" || sil.Comment != "M-1: db migration" || time.Until(sil.EndsAt) < 55*time.Minute || time.Until(sil.EndsAt) > 61*time.Minute {
		t.Fatalf("silence in Alertmanager = %+v", sil)
	}
	code, body := httpGet(t, "http://"+rb.HTTPAddr()+"/api/v1/deploys/playlist/gate")
	if code != 423 || !strings.Contains(body, "M-1: db migration until") {
		t.Fatalf("gate = %d %s", code, body)
	}

	// search: a window without a silence, so Alertmanager sends its alert and the bot holds the page back.
	alice.Say("#operations", "!maint add search now 1h reindex")
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-2 maintenance on search"))
	am.Fire(t, latency("search", "s1", "critical"))
	deadline := time.Now().Add(wait)
	for {
		groups, _ := rb.Store.FiringAlertGroups()
		if len(groups) == 1 && groups[0].SuppressedBy == "M-2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search alert was not stored as suppressed: %+v", groups)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bob.Say("#operations", "!alerts")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "HighLatency")); !strings.Contains(l.Text(), "suppressed by M-2") {
		t.Fatalf("!alerts: %q", l.Text())
	}
	bob.Say("#operations", "!page search it is slow")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "P-1")); !strings.Contains(l.Text(), "it is slow (during M-2: reindex)") {
		t.Fatalf("a person's page: %q", l.Text())
	}
	if pages, _ := rb.Store.OpenPages(); len(pages) != 1 {
		t.Fatalf("%d pages open, want the person's only", len(pages))
	}

	alice.Say("#operations", "!maint end M-1")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist ended")); !strings.Contains(l.Text(), "the silence is expired in Alertmanager") {
		t.Fatalf("end: %q", l.Text())
	}
	for _, s := range am.Silences(t) {
		if s.ID == sil.ID && s.State() != "expired" {
			t.Fatalf("the silence after !maint end: %s", s.State())
		}
	}
	alice.Say("#operations", "!maint end M-2")
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-2 maintenance on search ended"))
	if l := bob.Expect(15*time.Second, irctest.FromContaining("opsbot", "P-2 paging")); !strings.Contains(l.Text(), "[FIRING:1] HighLatency on search") {
		t.Fatalf("after the window: %q", l.Text())
	}
	if extra := bob.Collect(6*time.Second, irctest.FromContaining("opsbot", "paging")); len(extra) != 0 {
		t.Fatalf("paged again: %q", extra[0].Text())
	}
}

// TestE2EMaintSilenceRetried: Alertmanager down when the window is planned; the window stands, the reply says
// the silence failed and will be retried, and the retry creates it once Alertmanager is back.
func TestE2EMaintSilenceRetried(t *testing.T) {
	n, _, am := maintBot(t)
	alice := joinedClient(t, n, "alice", true)
	am.Stop()
	alice.Say("#operations", "!maint add playlist now 30m failover test --silence")
	l := alice.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist"))
	if !strings.Contains(l.Text(), "the silence failed (alertmanager") || !strings.Contains(l.Text(), "and will be retried (!maint show M-1)") {
		t.Fatalf("add with Alertmanager down: %q", l.Text())
	}
	am.Restart(t)
	deadline := time.Now().Add(40 * time.Second)
	for {
		var active []amtest.Silence
		for _, s := range am.Silences(t) {
			if s.State() == "active" && s.Comment == "M-1: failover test" {
				active = append(active, s)
			}
		}
		if len(active) == 1 {
			break
		}
		if len(active) > 1 || time.Now().After(deadline) {
			t.Fatalf("silences after Alertmanager came back: %+v", active)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The bot records the silence right after Alertmanager answered: !maint show says so at once or soon.
	for deadline := time.Now().Add(wait); ; {
		alice.Say("#operations", "!maint show M-1")
		l := alice.Expect(wait, irctest.FromContaining("opsbot", "M-1 silence"))
		if strings.HasPrefix(l.Text(), "M-1 silence: in Alertmanager until") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("show: %q", l.Text())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestE2EMaintAnnouncedOnceAcrossRestarts: added, started, ending soon and ended, each once, with the bot
// restarted in the middle of the window (its clock moved by the test).
func TestE2EMaintAnnouncedOnceAcrossRestarts(t *testing.T) {
	n := irctest.Start(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	clock := newTestClock(time.Now())
	o := testOptions(t, n.Addr)
	o.Now = clock.Now
	o.Services.Seeds = []store.ServiceSeed{{Name: "playlist"}}
	start := func() *runningBot { return botOn(t, path, o) }
	stop := func(rb *runningBot) { stopBot(t, rb) }
	rb := start()
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", false)
	alice.Say("#operations", "!maint add playlist now 20m db migration")
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist"))
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance started"))
	stop(rb)
	rb = start()
	clock.Set(clock.Now().Add(6 * time.Minute)) // 14m left
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist ends in"))
	stop(rb)
	rb = start()
	clock.Set(clock.Now().Add(15 * time.Minute))
	bob.Expect(wait, irctest.FromContaining("opsbot", "M-1 maintenance on playlist ended (20m)"))
	stop(rb)
	rb = start()
	if extra := bob.Collect(3*time.Second, irctest.FromContaining("opsbot", "M-1")); len(extra) != 0 {
		t.Fatalf("told again after the restarts: %q", extra[0].Text())
	}
	_ = rb
}
