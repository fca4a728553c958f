package bot

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"

	"github.com/opsbot/opsbot/bot/irctest"
)

// reqSayExpect sends text to #operations as c and returns the bot's first line that starts with what pattern
// has before its "*" (a pattern has at most one "*", standing for a time that depends on the real clock).
func reqSayExpect(t *testing.T, c *irctest.Client, text, pattern string) string {
	t.Helper()
	c.Say("#operations", text)
	prefix, _, _ := strings.Cut(pattern, "*")
	var seen []string
	l, ok := c.Wait(wait, func(l irctest.Line) bool {
		if irctest.From("opsbot")(l) {
			seen = append(seen, l.Text())
		}
		return irctest.From("opsbot")(l) && strings.HasPrefix(l.Text(), prefix)
	})
	if !ok {
		t.Fatalf("%s: %q: no answer starting with %q within %v; the bot said %q", c.Nick, text, prefix, wait, seen)
	}
	return l.Text()
}

// matchPattern reports whether got is pattern with its "*" (if any) replaced by some text.
func matchPattern(got, pattern string) bool {
	prefix, suffix, wild := strings.Cut(pattern, "*")
	if !wild {
		return got == pattern
	}
	return len(got) >= len(prefix)+len(suffix) && strings.HasPrefix(got, prefix) && strings.HasSuffix(got, suffix)
}

func TestE2ERequestLifecycle(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr) // admins [alice], ops [alice, carol]
	o.Paging.Rotation = store.Rotation{Accounts: []string{"alice"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	carol := joinedClient(t, n, "carol", true)
	bob := joinedClient(t, n, "bob", true) // a developer
	dave := joinedClient(t, n, "dave", false)

	const zw = "\u200b"
	checks := []struct {
		c    *irctest.Client
		cmd  string
		want string // a pattern: "*" stands for a time
	}{
		// Refusals: anonymous writes, developers working the queue, bad input.
		{dave, "!request open let me in", "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{bob, "!request open", "bob: usage: !request open <text> [--service S] [--urgent]"},
		{bob, "!request open disk full on db3 --urgent", "R-1 opened by bob: disk full on db3 [todo]. Urgent. On duty: alice"},
		{bob, "!request take R-1", "bob: error: !request take needs the ops role (you are a developer)"},
		{dave, "!request take R-1", "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{dave, "!request comment R-1 me too", "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)"},
		{alice, "!request take R-9", "alice: error: no request R-9"},
		// The lifecycle: comment, take, block, assign, resume, done, reopen, cancel.
		{carol, "!request comment r1 looking at it", "R-1 comment added by carol [todo]"},
		{alice, "!request take 1", "R-1 taken by alice [doing]: disk full on db3 (from b" + zw + "ob)"},
		{alice, "!request block R-1 waiting for the vendor", "R-1 blocked by alice [blocked]: waiting for the vendor"},
		{alice, "!request assign R-1 carol", "R-1 assigned to carol by alice [blocked]: disk full on db3"},
		{carol, "!request take R-1", "R-1 taken by carol [doing]: disk full on db3 (from b" + zw + "ob)"},
		{bob, "!request list mine", "R-1 [doing, urgent] *, c" + zw + "arol, from b" + zw + "ob: disk full on db3"},
		{carol, "!board", "todo 0"},
		{carol, "!request done R-1 freed 40G", "R-1 done by carol [done] after *, for bob: freed 40G"},
		{carol, "!request done R-1", "carol: error: R-1 is already done"},
		{alice, "!request reopen R-1", "R-1 reopened by alice [todo]: disk full on db3"},
		{bob, "!request cancel R-1", "R-1 cancelled by bob [cancelled]: disk full on db3"},
		{bob, "!request stats", "requests, last 7d: 1 opened, 0 done, median first response *, median lead time n/a, interrupt rate 100% (1 of 1 urgent)"},
	}
	for _, ck := range checks {
		got := reqSayExpect(t, ck.c, ck.cmd, ck.want)
		if !matchPattern(got, ck.want) {
			t.Fatalf("%s: %q\n got %q\nwant %q", ck.c.Nick, ck.cmd, got, ck.want)
		}
	}
	// The board is four lines in the channel.
	carol.Say("#operations", "!request open second ask")
	carol.Expect(wait, irctest.FromContaining("opsbot", "R-2 opened by carol"))
	carol.Say("#operations", "!board")
	board := []string{carol.Expect(wait, irctest.FromContaining("opsbot", "todo 1: R-2")).Text()}
	for len(board) < 4 {
		board = append(board, carol.Expect(wait, irctest.From("opsbot")).Text())
	}
	if board[1] != "doing 0" || board[2] != "blocked 0" || board[3] != "WIP (limit 3): a"+zw+"lice 0, c"+zw+"arol 0; 0 done in 7d" {
		t.Fatalf("board = %q", board)
	}
	// The whole history in private.
	bob.Say("opsbot", "request show R-1")
	first := bob.Expect(wait, irctest.FromContaining("opsbot", "R-1 [cancelled, urgent] disk full on db3."))
	if first.Msg.Params[0] != "bob" {
		t.Fatalf("private show answered to %s", first.Msg.Params[0])
	}
	last := bob.Expect(wait, irctest.FromContaining("opsbot", "cancelled it"))
	if !strings.HasSuffix(last.Text(), "b"+zw+"ob cancelled it") {
		t.Fatalf("last history line = %q", last.Text())
	}

	// HTTP: the JSON API and the metrics.
	var list struct {
		Total    int `json:"total"`
		Requests []struct {
			Ref   string `json:"ref"`
			State string `json:"state"`
		} `json:"requests"`
	}
	getJSON(t, "http://"+rb.HTTPAddr()+"/api/v1/requests?state=all", &list)
	if list.Total != 2 || len(list.Requests) != 2 || list.Requests[0].Ref != "R-1" || list.Requests[0].State != "cancelled" {
		t.Fatalf("GET /api/v1/requests?state=all = %+v", list)
	}
	getJSON(t, "http://"+rb.HTTPAddr()+"/api/v1/requests?state=todo", &list)
	if list.Total != 1 || list.Requests[0].Ref != "R-2" {
		t.Fatalf("GET /api/v1/requests?state=todo = %+v", list)
	}
	var one struct {
		Ref     string            `json:"ref"`
		History []json.RawMessage `json:"history"`
	}
	getJSON(t, "http://"+rb.HTTPAddr()+"/api/v1/requests/r1", &one)
	if one.Ref != "R-1" || len(one.History) != 9 {
		t.Fatalf("GET /api/v1/requests/r1 = %s with %d events, want R-1 with 9", one.Ref, len(one.History))
	}
	metrics := httpGetStatus(t, "http://"+rb.HTTPAddr()+"/metrics", http.StatusOK)
	for _, want := range []string{`opsbot_requests{state="cancelled"} 1`, `opsbot_requests{state="todo"} 1`,
		`opsbot_requests_opened_total{urgent="true"} 1`, "opsbot_requests_done_total 1",
		"opsbot_request_first_response_seconds_count 1", "opsbot_request_lead_time_seconds_count 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestE2ERequestNagAndAPIToken(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.Requests.NagAfter = 3 * time.Second // urgent requests nag after 1s
	o.APIToken = "s3cret"
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	bob.Say("#operations", "!request open prod is down --urgent")
	bob.Expect(wait, irctest.FromContaining("opsbot", "R-1 opened by bob"))
	// Nobody is on call (no on-call family here): the reminder goes to the channel, once per nag_after.
	l := bob.Expect(wait, irctest.FromContaining("opsbot", "R-1 waiting in todo"))
	if !strings.HasSuffix(l.Text(), "(urgent): prod is down. Take it: !request take R-1 (nobody on call)") {
		t.Fatalf("nag = %q", l.Text())
	}
	if again := bob.Collect(2*time.Second, irctest.FromContaining("opsbot", "R-1 waiting in todo")); len(again) != 0 {
		t.Fatalf("nagged again within nag_after: %q", again[0].Text())
	}
	httpGetStatus(t, "http://"+rb.HTTPAddr()+"/api/v1/requests", http.StatusUnauthorized)
}

// httpGetStatus is httpGet that fails the test unless the status is wantStatus.
func httpGetStatus(t *testing.T, url string, wantStatus int) string {
	t.Helper()
	code, body := httpGet(t, url)
	if code != wantStatus {
		t.Fatalf("GET %s = %d %s, want %d", url, code, body, wantStatus)
	}
	return body
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
