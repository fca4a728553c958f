package bot

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// hookReceiver is a webhook endpoint for tests: it checks the signature, answers the statuses in fail first
// (then 200), and records every event it accepted with its arrival time.
type hookReceiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	fail   []int
	calls  int
	got    []hookEvent
	events chan hookEvent
}

type hookEvent struct {
	notify.WebhookBody
	At time.Time
}

func newHookReceiver(t testing.TB, secret string, fail ...int) *hookReceiver {
	h := &hookReceiver{t: t, secret: secret, fail: fail, events: make(chan hookEvent, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		raw, _ := io.ReadAll(r.Body)
		if got, want := r.Header.Get("X-Opsbot-Signature"), notify.Signature([]byte(secret), r.Header.Get("X-Opsbot-Timestamp"), raw); got != want {
			t.Errorf("webhook signature %q, want %q", got, want)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		h.calls++
		if len(h.fail) > 0 {
			code := h.fail[0]
			h.fail = h.fail[1:]
			h.mu.Unlock()
			http.Error(w, "receiver is down", code)
			return
		}
		var ev hookEvent
		if err := json.Unmarshal(raw, &ev.WebhookBody); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		ev.At = at
		h.got = append(h.got, ev)
		h.mu.Unlock()
		h.events <- ev
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// next waits for the next accepted event.
func (h *hookReceiver) next(wait time.Duration) hookEvent {
	h.t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(wait):
		h.t.Fatalf("webhook: no event within %v", wait)
	}
	return hookEvent{}
}

// pagingOptions: alice is on call (rotation of one), escalation goes to carol, the webhook is notified.
func pagingOptions(t testing.TB, addr, hookURL string, ackTimeout time.Duration) Options {
	o := testOptions(t, addr)
	o.Paging = commands.PagingConfig{
		Rotation:   store.Rotation{Accounts: []string{"alice"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC},
		AckTimeout: ackTimeout, Escalation: []string{"carol"}, MaxEscalations: 1, DedupeWindow: 10 * time.Minute, RateLimit: 10,
	}
	if hookURL != "" {
		o.Notifiers = []notify.Config{{Type: "webhook", URL: hookURL, Secret: "hook-secret"}}
	}
	o.NotifyBackoff = 50 * time.Millisecond
	return o
}

func TestE2EPageAck(t *testing.T) {
	n := irctest.Start(t)
	hook := newHookReceiver(t, "hook-secret")
	o := pagingOptions(t, n.Addr, hook.srv.URL, time.Minute)
	o.APIToken = "api-token"
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", true)
	dave := joinedClient(t, n, "dave", true)

	bob.Say("#operations", "!page the db is down")
	l := alice.Expect(wait, irctest.FromContaining("opsbot", "P-1"))
	if l.Msg.Params[0] != "#operations" || l.Text() != "P-1 paging alice: the db is down (ack with !ack P-1 within 1m)" {
		t.Fatalf("channel got %q in %s", l.Text(), l.Msg.Params[0])
	}
	l = alice.Expect(wait, irctest.FromContaining("opsbot", "P-1"))
	if l.Msg.Params[0] != "alice" || l.Text() != "P-1 page from b\u200bob: the db is down (ack with !ack P-1 within 1m)" {
		t.Fatalf("alice got %q in %s, want the page privately", l.Text(), l.Msg.Params[0])
	}
	if ev := hook.next(wait); ev.Event != "trigger" || ev.Page.ID != "P-1" || ev.Page.Target != "alice" || ev.Page.Text != "the db is down" {
		t.Fatalf("webhook trigger = %+v", ev)
	}

	// A developer who was not paged may not ack; a bad id is one clear line.
	dave.Say("#operations", "!ack P-1")
	if l := dave.Expect(wait, irctest.FromContaining("opsbot", "dave:")); l.Text() != "dave: error: only the paged person (a\u200blice) or ops may ack P-1" {
		t.Errorf("dave's ack = %q", l.Text())
	}
	dave.Say("#operations", "!ack nope")
	if l := dave.Expect(wait, irctest.FromContaining("opsbot", "dave:")); l.Text() != `dave: error: "nope" is not a page id (like P-12)` {
		t.Errorf("bad id = %q", l.Text())
	}
	// alice acks in private, without the id; the channel hears it.
	alice.Say("opsbot", "ack")
	l = alice.Expect(wait, func(l irctest.Line) bool {
		return irctest.FromContaining("opsbot", "acked")(l) && l.Msg.Params[0] == "alice"
	})
	if l.Msg.Params[0] != "alice" || !strings.HasPrefix(l.Text(), "P-1 acked by alice after ") {
		t.Fatalf("alice's ack answered %q in %s", l.Text(), l.Msg.Params[0])
	}
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "acked")); l.Msg.Params[0] != "#operations" {
		t.Errorf("the channel did not hear the ack: %q", l.Raw)
	}
	if ev := hook.next(wait); ev.Event != "acknowledge" || ev.Page.AckedBy != "alice" || ev.Page.State != "acked" {
		t.Fatalf("webhook acknowledge = %+v", ev)
	}

	// The API, behind the token.
	base := "http://" + rb.HTTPAddr()
	if resp, err := http.Get(base + "/api/v1/pages"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("pages without token: %v %v", resp.StatusCode, err)
	}
	var pages struct{ Pages []store.PageDoc }
	apiGet(t, base+"/api/v1/pages", "api-token", &pages)
	if len(pages.Pages) != 1 || pages.Pages[0].ID != "P-1" || pages.Pages[0].AckedBy != "alice" {
		t.Errorf("GET /api/v1/pages = %+v", pages)
	}
	var oc struct {
		OnCall   string `json:"on_call"`
		Rotation []string
		Handoff  string
		Shifts   []struct{ Account string }
	}
	apiGet(t, base+"/api/v1/oncall", "api-token", &oc)
	if oc.OnCall != "alice" || oc.Handoff != "Mon 10:00" || len(oc.Shifts) != 4 || !slices.Equal(oc.Rotation, []string{"alice"}) {
		t.Errorf("GET /api/v1/oncall = %+v", oc)
	}
}

func apiGet(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestE2EPageEscalatesAndSecondPersonAcks(t *testing.T) {
	n := irctest.Start(t)
	hook := newHookReceiver(t, "hook-secret")
	rb := startBot(t, pagingOptions(t, n.Addr, hook.srv.URL, 2*time.Second))
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	carol := joinedClient(t, n, "carol", true)
	bob := joinedClient(t, n, "bob", true)

	bob.Say("#operations", "!page payments are failing")
	alice.Expect(wait, irctest.FromContaining("opsbot", "P-1 page from"))
	// Nobody acks within 2s: carol is paged, in the channel and privately.
	l := carol.Expect(wait, irctest.FromContaining("opsbot", "escalated"))
	want := "P-1 escalated to carol (step 1/1, a\u200blice did not ack within 2s): payments are failing (ack with !ack P-1 within 2s)"
	if l.Msg.Params[0] != "#operations" || l.Text() != want {
		t.Fatalf("escalation in the channel = %q in %s\nwant %q", l.Text(), l.Msg.Params[0], want)
	}
	l = carol.Expect(wait, irctest.FromContaining("opsbot", "escalated to you"))
	if l.Msg.Params[0] != "carol" {
		t.Fatalf("carol's private page went to %s", l.Msg.Params[0])
	}
	carol.Say("#operations", "!ack P-1")
	l = bob.Expect(wait, irctest.FromContaining("opsbot", "acked"))
	if !strings.HasPrefix(l.Text(), "P-1 acked by carol after ") {
		t.Fatalf("carol's ack = %q", l.Text())
	}
	var kinds []string
	for range 3 {
		kinds = append(kinds, hook.next(wait).Event)
	}
	if !slices.Equal(kinds, []string{"trigger", "escalate", "acknowledge"}) {
		t.Errorf("webhook events = %v", kinds)
	}
	// Acked: no final notice follows.
	if l, ok := bob.Wait(3*time.Second, irctest.FromContaining("opsbot", "still not acknowledged")); ok {
		t.Errorf("final notice after the ack: %q", l.Text())
	}
}

// TestE2EEscalationAcrossRestart stops the bot right after a page and starts it again on the same database:
// once before the escalation is due (it fires at its original time, not earlier) and once after (it fires at
// once); each step fires exactly once.
func TestE2EEscalationAcrossRestart(t *testing.T) {
	n := irctest.Start(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	o := pagingOptions(t, n.Addr, "", 6*time.Second)
	o.Paging.DedupeWindow = 0
	start := func() *runningBot { return botOn(t, path, o) }
	stop := func(rb *runningBot) { stopBot(t, rb) }

	rb := start()
	carol := joinedClient(t, n, "carol", true)
	bob := joinedClient(t, n, "bob", true)
	bob.Say("#operations", "!page first")
	l := carol.Expect(wait, irctest.FromContaining("opsbot", "P-1 paging alice"))
	due := l.At.Add(6 * time.Second)
	stop(rb)
	rb = start() // back before the step is due
	if time.Now().After(due) {
		t.Fatal("the restart took longer than the ack timeout; the test cannot tell on time from overdue")
	}
	l = carol.Expect(wait, irctest.FromContaining("opsbot", "P-1 escalated to carol"))
	if l.At.Before(due.Add(-500 * time.Millisecond)) {
		t.Errorf("step fired %v before its time", due.Sub(l.At))
	}

	bob.Say("#operations", "!page second")
	carol.Expect(wait, irctest.FromContaining("opsbot", "P-2 paging alice"))
	stop(rb)
	time.Sleep(7 * time.Second) // down while P-2's step (and P-1's final notice) are due
	rb = start()
	// At once: P-2's step and P-1's final notice; 6s later P-2's final notice. Each exactly once.
	count := map[string]int{}
	for _, l := range carol.Collect(9*time.Second, irctest.From("opsbot")) {
		for _, k := range []string{"P-1 escalated", "P-2 escalated", "P-1 is still not acknowledged", "P-2 is still not acknowledged"} {
			if strings.Contains(l.Text(), k) && l.Msg.Params[0] == "#operations" {
				count[k]++
			}
		}
	}
	want := map[string]int{"P-2 escalated": 1, "P-1 is still not acknowledged": 1, "P-2 is still not acknowledged": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("after the restart the channel got %v, want %v", count, want)
	}
	_ = rb
}

func TestE2ENotifierFailsThenRecovers(t *testing.T) {
	n := irctest.Start(t)
	hook := newHookReceiver(t, "hook-secret", 503, 500)
	rb := startBot(t, pagingOptions(t, n.Addr, hook.srv.URL, time.Minute))
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", true)

	bob.Say("#operations", "!page queue is stuck")
	// IRC does not wait for the failing webhook.
	alice.Expect(wait, irctest.FromContaining("opsbot", "P-1 page from"))
	if ev := hook.next(wait); ev.Event != "trigger" || ev.Page.ID != "P-1" {
		t.Fatalf("webhook after recovery = %+v", ev)
	}
	hook.mu.Lock()
	calls := hook.calls
	hook.mu.Unlock()
	if calls != 3 {
		t.Errorf("webhook called %d times, want 3 (two failures, then success)", calls)
	}
	// The receiver sees the request before the deliverer has counted the answer: wait for the counters.
	wants := []string{`opsbot_notifier_failures_total{notifier="webhook-0"} 2`, `opsbot_notifier_deliveries_total{notifier="webhook-0"} 1`}
	var body string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body = httpGet(t, "http://"+rb.HTTPAddr()+"/metrics")
		if strings.Contains(body, wants[0]) && strings.Contains(body, wants[1]) {
			return
		}
	}
	t.Errorf("/metrics lacks %q after %v:\n%s", wants, wait, body)
}

func TestE2EPageDedupeRateLimitAndOnCall(t *testing.T) {
	n := irctest.Start(t)
	o := pagingOptions(t, n.Addr, "", time.Minute)
	o.Paging.RateLimit = 2
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", true)

	bob.Say("#operations", "!page one")
	alice.Expect(wait, irctest.FromContaining("opsbot", "P-1 page from"))
	bob.Say("#operations", "!page one again")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "updated")); !strings.HasPrefix(l.Text(), "P-1 updated (your open page, ") {
		t.Errorf("second page within the window = %q", l.Text())
	}
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", "update")); l.Text() != "P-1 update from b\u200bob: one again (ack with !ack P-1)" || l.Msg.Params[0] != "alice" {
		t.Errorf("alice got %q in %s", l.Text(), l.Msg.Params[0])
	}
	bob.Say("#operations", "!page resolve P-1")
	bob.Expect(wait, irctest.FromContaining("opsbot", "P-1 resolved by bob"))
	bob.Say("#operations", "!page two")
	bob.Expect(wait, irctest.FromContaining("opsbot", "P-2 paging alice"))
	bob.Say("#operations", "!page resolve P-2")
	bob.Expect(wait, irctest.FromContaining("opsbot", "P-2 resolved"))
	bob.Say("#operations", "!page three")
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "bob: error: you opened 2 pages in the last hour (paging.rate_limit = 2); next page possible at ") {
		t.Errorf("third page = %q", l.Text())
	}

	// On call: the rotation, an override by ops, a refusal, the cap.
	bob.Say("#operations", "!oncall")
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "on call: a\u200blice until Mon 10:00 UTC") {
		t.Errorf("!oncall = %q", l.Text())
	}
	bob.Say("#operations", "!oncall take")
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "bob: error: !oncall take needs the ops role (you are a developer)" {
		t.Errorf("developer take = %q", l.Text())
	}
	alice.Say("#operations", "!oncall override carol 48h")
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", "max_override")); l.Text() != "alice: error: 2d is longer than oncall.max_override (1d)" {
		t.Errorf("override above the cap = %q", l.Text())
	}
	alice.Say("#operations", "!oncall override carol 2h")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "on call: carol")); !strings.Contains(l.Text(), "(in 2h, override by a\u200blice; rotation: a\u200blice)") {
		t.Errorf("override = %q", l.Text())
	}
	alice.Say("#operations", "!oncall clear")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "cleared")); !strings.HasPrefix(l.Text(), "on call: alice until ") {
		t.Errorf("clear = %q", l.Text())
	}
}

// BenchmarkE2EPageLatency measures, on the real test network, how long a page takes from "!page" sent by an IRC
// client to the webhook receiver and to the paged person's private message, next to the floor: a message
// from one plain client to another through the same server. It reports medians (p50) in milliseconds.
// Run: go test ./bot -run '^$' -bench PageLatency -benchtime 20x
func BenchmarkE2EPageLatency(b *testing.B) {
	n := irctest.Start(b)
	hook := newHookReceiver(b, "hook-secret")
	o := pagingOptions(b, n.Addr, hook.srv.URL, time.Hour)
	o.Paging.DedupeWindow, o.Paging.RateLimit = 0, 0
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	rb := startBot(b, o)
	rb.waitJoined(b, "#operations")
	alice := joinedClient(b, n, "alice", true)
	bob := joinedClient(b, n, "bob", true)

	var floor, toHook, toPM []time.Duration
	for i := range b.N {
		t0 := time.Now()
		bob.Say("alice", fmt.Sprintf("ping %d", i))
		l := alice.Expect(wait, irctest.FromContaining("bob", fmt.Sprintf("ping %d", i)))
		floor = append(floor, l.At.Sub(t0))

		id := fmt.Sprintf("P-%d ", i+1)
		t0 = time.Now()
		bob.Say("#operations", fmt.Sprintf("!page bench %d", i))
		l = alice.Expect(wait, func(l irctest.Line) bool {
			return irctest.FromContaining("opsbot", id)(l) && l.Msg.Params[0] == "alice"
		})
		toPM = append(toPM, l.At.Sub(t0))
		for {
			if ev := hook.next(wait); ev.Event == "trigger" && ev.Page.ID+" " == id {
				toHook = append(toHook, ev.At.Sub(t0))
				break
			}
		}
	}
	ms := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	b.ReportMetric(ms(floor), "floor-ms-p50")
	b.ReportMetric(ms(toPM), "privmsg-ms-p50")
	b.ReportMetric(ms(toHook), "webhook-ms-p50")
	b.ReportMetric(0, "ns/op")
}

// The private page goes to whoever is logged in as the paged account, whatever their nick, and never to a
// client that merely holds the nick equal to the account name.
func TestE2EPrivatePageFollowsTheAccountNotTheNick(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, pagingOptions(t, n.Addr, "", time.Minute))
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)     // the account alice...
	rb.rename(t, alice, "alice", "alice_work")     // ...now under another nick
	impostor := joinedClient(t, n, "alice", false) // not logged in, holding the nick "alice"
	bob := joinedClient(t, n, "bob", true)

	bob.Say("#operations", "!page the db is down")
	if l := alice.Expect(wait, privateFromBot("alice_work", "P-1 page from")); l.Text() != "P-1 page from b\u200bob: the db is down (ack with !ack P-1 within 1m)" {
		t.Fatalf("alice_work got %q", l.Text())
	}
	if got := impostor.Collect(time.Second, privateFromBot("alice", "")); len(got) != 0 {
		t.Fatalf("the client holding the nick alice (not logged in) got the page privately: %q", got[0].Text())
	}
	if n := outboxLen(rb.Store); n != 0 {
		t.Errorf("outbox holds %d messages after delivery", n)
	}
}

// A private page for an account nobody is logged in as (in sight of the bot) waits, durably, and reaches the
// person once they join logged in.
func TestE2EPrivatePageWaitsForTheAccount(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, pagingOptions(t, n.Addr, "", time.Minute))
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	bob.Say("#operations", "!page the db is down")
	bob.Expect(wait, irctest.FromContaining("opsbot", "P-1 paging alice"))
	// The channel line leaves the outbox once the server's PONG confirms it; alice's private page, stored in
	// a commit of its own after the channel line went out, stays while she is away.
	if ms, ok := rb.waitOutbox(func(ms []store.OutMsg) bool { return len(ms) == 1 && ms[0].Target == accountPrefix+"alice" }); !ok {
		t.Fatalf("outbox holds %+v while alice is away, want her private page only", ms)
	}
	alice := joinedClient(t, n, "alice", true)
	l := alice.Expect(wait, privateFromBot("alice", "P-1 page from"))
	if !strings.HasSuffix(l.Text(), "P-1 page from b\u200bob: the db is down (ack with !ack P-1 within 1m)") {
		t.Fatalf("alice got %q", l.Text())
	}
	rb.waitOutboxEmpty()
	if got := outboxLen(rb.Store); got != 0 {
		t.Errorf("outbox holds %d messages after delivery", got)
	}
}

// A durable line that no longer fits once written (the account's nick is long, the line starts with a
// character the bot defuses, or it is marked late) is cut again, never dropped: every byte arrives.
func TestE2EDurableLineIsCutAgainNotLost(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, pagingOptions(t, n.Addr, "", time.Minute))
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	const nick = "bob_on_the_work_laptop"
	rb.rename(t, bob, "bob", nick)
	var sb strings.Builder
	for sb.Len() < 1200 {
		sb.WriteString("!x-y-z ") // each piece starts with "!": defused with a zero-width space on the wire
	}
	text := strings.TrimSpace(sb.String())
	if err := rb.Tell("bob", text, true); err != nil {
		t.Fatal(err)
	}
	var got []string
	for strings.ReplaceAll(strings.Join(got, ""), "\u200b", "") != strings.ReplaceAll(text, " ", "") {
		l, ok := bob.Wait(wait, func(l irctest.Line) bool { return irctest.From("opsbot")(l) && l.Msg.Params[0] == nick })
		if !ok {
			t.Fatalf("after %d lines, got %d of %d bytes", len(got), len(strings.Join(got, "")), len(text))
		}
		if n := len(stripTags(l.Raw)) + 2; n > MaxLineBytes {
			t.Fatalf("line of %d bytes on the wire", n)
		}
		got = append(got, strings.ReplaceAll(l.Text(), " ", ""))
	}
	rb.waitOutboxEmpty()
	if v := testCounter(t, rb.metrics.LinesDropped.WithLabelValues("invalid")); v != 0 || outboxLen(rb.Store) != 0 {
		t.Errorf("lines dropped as invalid: %v; outbox left: %d", v, outboxLen(rb.Store))
	}
}

// rename changes c's nick (logged in as account) and waits until the bot sees the new nick logged in as
// account: a line written in the moment between a nick change and the bot hearing of it goes to the old
// nick, which the server no longer has.
func (rb *runningBot) rename(t *testing.T, c *irctest.Client, account, nick string) {
	t.Helper()
	c.Send("NICK " + nick)
	c.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "NICK" && l.Msg.Params[0] == nick })
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		rb.t.mu.Lock()
		cs := rb.t.cur
		rb.t.mu.Unlock()
		if cs != nil && slices.Contains(rb.t.nicksOf(cs, account), nick) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the bot does not see %s logged in as %s", nick, account)
}

// waitOutboxEmpty waits, at most wait, until the outbox has delivered everything.
func (rb *runningBot) waitOutboxEmpty() {
	deadline := time.Now().Add(wait)
	for outboxLen(rb.Store) != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// privateFromBot matches a private line from the bot to nick that contains text.
func privateFromBot(nick, text string) func(irctest.Line) bool {
	return func(l irctest.Line) bool {
		return irctest.FromContaining("opsbot", text)(l) && l.Msg.Params[0] == nick
	}
}
