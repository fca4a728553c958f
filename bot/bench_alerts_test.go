package bot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/amtest"
	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// TestBenchAlerts prints the alert rows of `make bench`: a real Alertmanager posts each new alert group to
// the bot through a timing proxy, which measures the time from Alertmanager's POST to the bot's 2xx; the paged
// person's client measures the time from that POST to its private message. Beside them, the floors: a POST of
// the same body to a handler that only reads it, and a private message between two plain IRC clients. It runs
// only with OPSBOT_BENCH=1.
func TestBenchAlerts(t *testing.T) {
	if os.Getenv("OPSBOT_BENCH") == "" {
		t.Skip("set OPSBOT_BENCH=1 (make bench) to run the benchmark table")
	}
	const samples = 40
	n := irctest.Start(t)
	o := pagingOptions(t, n.Addr, "", time.Hour)
	o.FloodBurst, o.FloodInterval = 1000, 0
	o.Alerts = commands.AlertConfig{Token: amToken}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)

	type post struct {
		at   time.Time
		took time.Duration
		code int
		body []byte
	}
	posts := make(chan post, samples*4)
	bot := "http://" + rb.HTTPAddr() + "/hooks/alertmanager"
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest("POST", bot, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		took := time.Since(at) // the status line and headers: what Alertmanager waits for
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
		posts <- post{at: at, took: took, code: resp.StatusCode, body: body}
	}))
	defer proxy.Close()
	am := amtest.Start(t, amtest.Options{WebhookURL: proxy.URL, Token: amToken, GroupWait: -1, GroupInterval: time.Hour})

	var toBot, toPage []time.Duration
	var lastBody []byte
	for i := range samples {
		name := fmt.Sprintf("Bench%03d", i)
		am.Fire(t, amtest.Alert{Labels: map[string]string{"alertname": name, "service": "playlist", "severity": "critical"},
			Annotations: map[string]string{"summary": "benchmark alert"}})
		var p post
		select {
		case p = <-posts:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Alertmanager did not post within 10s", name)
		}
		if p.code != 200 {
			t.Fatalf("%s: the bot answered %d", name, p.code)
		}
		l := alice.Expect(10*time.Second, func(l irctest.Line) bool {
			return irctest.From("opsbot")(l) && l.Msg.Params[0] == "alice" && strings.Contains(l.Text(), name)
		})
		toPage = append(toPage, l.At.Sub(p.at))
		toBot = append(toBot, p.took)
		lastBody = p.body
		time.Sleep(400 * time.Millisecond) // one page at a time: a storm's pages are summed up, not timed here
	}

	// Floors: the same body posted to a handler that only reads it; a private message between plain clients.
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer sink.Close()
	var httpFloor []time.Duration
	for range samples * 5 {
		t0 := time.Now()
		resp, err := http.Post(sink.URL, "application/json", bytes.NewReader(lastBody))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		httpFloor = append(httpFloor, time.Since(t0))
	}
	x := irctest.Dial(t, n.Addr, "floorx", irctest.Options{})
	y := irctest.Dial(t, n.Addr, "floory", irctest.Options{})
	var ircFloor []time.Duration
	for i := range samples * 5 {
		t0 := time.Now()
		x.Say("floory", fmt.Sprintf("ping %d", i))
		if _, ok := y.Wait(5*time.Second, irctest.From("floorx")); !ok {
			t.Fatal("floor message lost")
		}
		ircFloor = append(ircFloor, time.Since(t0))
	}
	var commits []time.Duration // what the webhook's one commit costs on this disk now
	for range samples * 2 {
		t0 := time.Now()
		if _, err := rb.Store.Audit(store.AuditEntry{Command: "bench"}); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, time.Since(t0))
	}
	hf, irf := summarize(httpFloor, 0), summarize(ircFloor, 0)
	pageFloor := stats{p50: hf.p50 + irf.p50, p99: hf.p99 + irf.p99}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-52s %10s %10s %9s %9s\n", "alerts (a real Alertmanager, one group at a time)", "p50", "p99", "p50/floor", "p99/floor")
	for _, r := range []benchRow{
		{"floor: POST of the same body to a handler that reads it", hf, hf},
		{"floor: private message between two plain clients", irf, irf},
		{"Alertmanager's POST to the bot's 2xx", summarize(toBot, 0), hf},
		{"Alertmanager's POST to the page's private message", summarize(toPage, 0), pageFloor},
	} {
		fmt.Fprintf(&sb, "%-52s %10s %10s %8.2fx %8.2fx\n", r.name, r.s.p50.Round(time.Microsecond), r.s.p99.Round(time.Microsecond),
			float64(r.s.p50)/float64(r.floor.p50), float64(r.s.p99)/float64(r.floor.p99))
	}
	c := summarize(commits, 0)
	fmt.Fprintf(&sb, "%-52s %10s %10s\n", "store: one bare bbolt commit (fsync)", c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond))
	fmt.Fprintf(&sb, "(the page's floor is the sum of the two floors; %d samples)\n", samples)
	fmt.Print(sb.String())
}
