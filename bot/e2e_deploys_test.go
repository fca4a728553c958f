package bot

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// sayExpect sends a command and waits for the bot's line in #operations that starts with want (zero-width
// spaces removed); lines queued before, such as answers to others, are skipped.
func sayExpect(t *testing.T, c *irctest.Client, text, want string) {
	t.Helper()
	c.Say("#operations", text)
	var seen []string
	_, ok := c.Wait(wait, func(l irctest.Line) bool {
		if !irctest.From("opsbot")(l) || l.Msg.Params[0] != "#operations" {
			return false
		}
		got := strings.ReplaceAll(l.Text(), "\u200b", "")
		seen = append(seen, got)
		return strings.HasPrefix(got, want)
	})
	if !ok {
		t.Fatalf("%s: %s: no line starting with %q; the bot said %q", c.Nick, text, want, seen)
	}
}

func TestE2EDeployChatRollout(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)     // a developer
	alice := joinedClient(t, n, "alice", true) // ops

	for _, st := range []struct {
		c         *irctest.Client
		cmd, want string
	}{
		{bob, "!deploy start playlist 1.41", "D-1 playlist 1.41 started by bob (prod)"},
		{bob, "!deploy done playlist", "D-1 playlist 1.41 succeeded in prod after "},
		// A canary: 10%, 50%, done.
		{bob, "!deploy start playlist 1.42 --percent 10", "D-2 playlist 1.42 started by bob at 10% (prod)"},
		{bob, "!deploy progress playlist 50%", "D-2 playlist 1.42 at 50% (prod)"},
		{bob, "!deploy done playlist", "D-2 playlist 1.42 succeeded in prod after "},
		// A failed rollout, then its rollback with the automatic lock.
		{bob, "!deploy start playlist 1.43 --sites eu-1", "D-3 playlist 1.43 started by bob on eu-1 (prod)"},
		{bob, "!deploy fail playlist 5xx on eu-1", "D-3 playlist 1.43 failed on eu-1 (prod): 5xx on eu-1; prod stays on 1.42"},
		{bob, "!deploy rollback playlist", "D-3 playlist rolled back from 1.43 to 1.42 in prod by bob. Locked: rolled back from 1.43 (ops: !deploy unlock playlist)"},
		// Refused while locked; forced by ops, and the override shows.
		{bob, "!deploy start playlist 1.44", "bob: error: playlist is locked by bob since "},
		{bob, "!deploy start playlist 1.44 --force", "bob: error: --force needs the ops role (you are a developer)"},
		{alice, "!deploy start playlist 1.44 --force", "D-4 playlist 1.44 started by alice (prod) [forced past locked: rolled back from 1.43 (bob)]"},
		// Bad input: one line, nothing changed.
		{bob, "!deploy progress playlist 150%", `bob: error: "150%" is not a percentage from 1 to 100`},
		{bob, "!deploy status", "rolling out (1): D-4 playlist 1.44 prod since "},
	} {
		sayExpect(t, st.c, st.cmd, st.want)
	}
	// Anonymous users may read but not deploy.
	anon := joinedClient(t, n, "eve", false)
	sayExpect(t, anon, "!deploy start playlist 9", "eve: error: log in to NickServ first (this bot trusts accounts, not nicks)")
	sayExpect(t, anon, "!deploy history playlist 2", "D-4 1.44 prod rolling out since ")
}

// postHook signs and posts a webhook body to the running bot.
func postHook(t *testing.T, addr, secret string, body []byte) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/deploy", bytes.NewReader(body))
	req.Header.Set("X-Opsbot-Timestamp", ts)
	req.Header.Set("X-Opsbot-Signature", sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestE2EDeployWebhookAnnounced posts CI events to the running bot and watches them arrive in #operations.
// It logs the webhook-to-channel latency (POST sent -> line received by a client), median of the runs.
func TestE2EDeployWebhookAnnounced(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.Deploys.WebhookSecrets = []string{"ci-secret"}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "watcher", false)

	// CR/LF and control codes in the payload cannot make a second IRC line.
	body := hookBody(map[string]any{"id": "inj-1", "service": "search", "version": "3.1", "status": "started",
		"actor": "ci", "message": "merge\r\nPRIVMSG #operations :injected\nQUIT :bye\x01"})
	if code := postHook(t, rb.HTTPAddr(), "ci-secret", body); code != 200 {
		t.Fatalf("webhook answered %d", code)
	}
	l := c.Expect(wait, irctest.FromContaining("opsbot", "D-1 search 3.1"))
	if l.Text() != "D-1 search 3.1 started by c\u200bi (prod): merge  PRIVMSG #operations :injected QUIT :bye" {
		t.Fatalf("announced %q", l.Text())
	}
	if l, ok := c.Wait(time.Second, func(l irctest.Line) bool {
		return l.Msg.Command == "QUIT" || (l.Msg.Command == "PRIVMSG" && strings.HasPrefix(l.Text(), "injected"))
	}); ok {
		t.Fatalf("payload produced an extra IRC line: %q", l.Raw)
	}
	// A wrong signature is refused and announces nothing.
	if code := postHook(t, rb.HTTPAddr(), "guess", hookBody(map[string]any{"id": "bad", "service": "search", "version": "3.2", "status": "succeeded"})); code != 401 {
		t.Fatalf("wrong signature answered %d", code)
	}

	var lat []time.Duration
	for i := range 9 {
		status := "succeeded"
		if i%2 == 1 {
			status = "started"
		}
		id := fmt.Sprintf("lat-%d", i)
		body := hookBody(map[string]any{"id": id, "service": "search", "version": fmt.Sprintf("3.%d", 1+(i+1)/2), "status": status})
		sent := time.Now()
		if code := postHook(t, rb.HTTPAddr(), "ci-secret", body); code != 200 {
			t.Fatalf("run %d: webhook answered %d", i, code)
		}
		l := c.Expect(wait, irctest.FromContaining("opsbot", "search 3."))
		if !strings.Contains(l.Text(), status) {
			t.Fatalf("run %d: announced %q, want %s", i, l.Text(), status)
		}
		lat = append(lat, l.At.Sub(sent))
	}
	slices.Sort(lat)
	t.Logf("webhook-to-channel latency over %d runs: median %v (min %v, max %v)", len(lat), lat[len(lat)/2], lat[0], lat[len(lat)-1])
}
