package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// noZW drops zero-width spaces, which keep owner names in replies from highlighting anyone.
func noZW(s string) string { return strings.ReplaceAll(s, zwsp, "") }

// expectReply waits for the bot to say want (zero-width spaces aside) where c can see it; every client in
// the channel sees every reply, so lines before it are skipped, and shown if want never comes.
func expectReply(t *testing.T, c *irctest.Client, want string) {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		l, ok := c.Wait(time.Until(deadline), irctest.From("opsbot"))
		if !ok {
			break
		}
		got := noZW(l.Text())
		if got == want {
			return
		}
		seen = append(seen, got)
	}
	t.Fatalf("%s: the bot never said %q; it said %q", c.Nick, want, seen)
}

func TestE2EServices(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.Services.Seeds = []store.ServiceSeed{{Name: "storage", Owner: "carol", SLO: 99.95}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true) // ops
	bob := joinedClient(t, n, "bob", true)     // developer
	dave := joinedClient(t, n, "dave", false)  // anonymous

	// Ops build the catalogue on top of the seeded storage.
	alice.Say("#operations", "!service add playlist --owner bob --depends storage --slo 99.9")
	expectReply(t, alice, "playlist added: owner bob; depends on storage; SLO 99.9%")
	alice.Say("#operations", "!service add search --depends playlist")
	expectReply(t, alice, "search added: no owner; depends on playlist; no SLO")
	alice.Say("#operations", "!service depend radio playlist")
	expectReply(t, alice, `alice: error: no service "radio"`)
	alice.Say("#operations", "!service add radio")
	expectReply(t, alice, "radio added: no owner; no SLO")
	alice.Say("#operations", "!service depend radio playlist")
	expectReply(t, alice, "radio now depends on playlist")
	alice.Say("#operations", "!service add Bad")
	expectReply(t, alice, `alice: error: "Bad" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64 (like bad)`)

	// Anyone reads.
	dave.Say("#operations", "!impact storage")
	expectReply(t, dave, "if storage fails: playlist; then radio, search (via playlist)")
	dave.Say("#operations", "!impact plalist")
	expectReply(t, dave, `dave: error: no service "plalist", did you mean playlist?`)
	dave.Say("#operations", "!owner storage")
	expectReply(t, dave, "storage: owner carol")
	dave.Say("#operations", "!service playlist")
	expectReply(t, dave, "playlist: owner bob; depends on storage; depended on by radio, search; no open incidents; no prod version yet; SLO 99.9%")

	// Writes are refused for anonymous users and developers.
	dave.Say("#operations", "!service add x")
	expectReply(t, dave, "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)")
	bob.Say("#operations", "!service remove playlist --force")
	expectReply(t, bob, "bob: error: !service remove needs the ops role (you are a developer)")
	bob.Say("#operations", "!service depend storage radio")
	expectReply(t, bob, "bob: error: !service depend needs the ops role (you are a developer)")

	// Removal: refused while in use, then forced.
	alice.Say("#operations", "!service remove playlist")
	expectReply(t, alice, "alice: error: radio, search depend on playlist; remove those dependencies first or use !service remove playlist --force")
	alice.Say("#operations", "!service remove playlist --force")
	expectReply(t, alice, "playlist removed; detached radio, search (they no longer depend on it)")
	alice.Say("#operations", "!impact storage")
	expectReply(t, alice, "if storage fails: nothing depends on it")

	// What chat wrote is what the API serves.
	var list commands.ServiceList
	getServicesJSON(t, rb, "", "/api/v1/services", http.StatusOK, &list)
	var names []string
	for _, s := range list.Services {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "radio search storage" {
		t.Errorf("GET /api/v1/services lists %v", names)
	}
}

// getServicesJSON GETs path from the bot's HTTP server, checks the status and content type, and decodes.
func getServicesJSON(t *testing.T, rb *runningBot, token, path string, status int, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+rb.HTTPAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d %s, want %d", path, resp.StatusCode, body, status)
	}
	if status == http.StatusUnauthorized {
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// waitHTTP waits until the bot's HTTP server listens.
func waitHTTP(t *testing.T, rb *runningBot) {
	t.Helper()
	for deadline := time.Now().Add(wait); rb.HTTPAddr() == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("HTTP server did not start")
		}
	}
}

func TestServicesAPI(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, "127.0.0.1:1") // no IRC needed for the API
	o.APIToken = "s3cret"
	o.Services.Seeds = []store.ServiceSeed{
		{Name: "storage", Owner: "carol", SLO: 99.95},
		{Name: "playlist", Owner: "bob", Depends: []string{"storage"}, SLO: 99.9, Notes: "runbook: wiki/playlist"},
		{Name: "search", Depends: []string{"playlist"}},
		{Name: "web", Depends: []string{"search"}},
	}
	rb := startBotOn(t, o, st)
	waitHTTP(t, rb)

	getServicesJSON(t, rb, "", "/api/v1/services", http.StatusUnauthorized, nil)
	getServicesJSON(t, rb, "wrong", "/api/v1/services/playlist", http.StatusUnauthorized, nil)

	var list commands.ServiceList
	getServicesJSON(t, rb, "s3cret", "/api/v1/services", http.StatusOK, &list)
	if len(list.Services) != 4 || list.Services[0].Name != "playlist" || list.Services[0].Owner != "bob" ||
		strings.Join(list.Services[0].Depends, ",") != "storage" || strings.Join(list.Services[0].Dependents, ",") != "search" {
		t.Errorf("GET /api/v1/services = %+v", list)
	}

	var raw map[string]any
	getServicesJSON(t, rb, "s3cret", "/api/v1/services/storage", http.StatusOK, &raw)
	for _, key := range []string{"name", "owner", "slo", "depends", "dependents", "impact", "cycles", "created"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("GET /api/v1/services/storage has no %q: %v", key, raw)
		}
	}
	var detail commands.ServiceDetail
	getServicesJSON(t, rb, "s3cret", "/api/v1/services/storage", http.StatusOK, &detail)
	var impact []string
	for _, d := range detail.Impact {
		impact = append(impact, strings.Join(d.Path, ">"))
	}
	if detail.Name != "storage" || detail.SLO != 99.95 || strings.Join(detail.Dependents, ",") != "playlist" ||
		strings.Join(impact, " ") != "storage>playlist storage>playlist>search storage>playlist>search>web" || len(detail.Cycles) != 0 {
		t.Errorf("GET /api/v1/services/storage = %+v (impact paths %v)", detail, impact)
	}

	var e commands.ServiceNotFound
	getServicesJSON(t, rb, "s3cret", "/api/v1/services/plalist", http.StatusNotFound, &e)
	if e.Error != `no service "plalist"` || e.DidYouMean != "playlist" {
		t.Errorf("unknown service: %+v", e)
	}
	getServicesJSON(t, rb, "s3cret", "/api/v1/services/Not%20A%20Name", http.StatusNotFound, &e)

	// An empty catalogue is an empty list, not null.
	empty, err := store.Open(filepath.Join(t.TempDir(), "empty.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o2 := testOptions(t, "127.0.0.1:1")
	rb2 := startBotOn(t, o2, empty)
	waitHTTP(t, rb2)
	var rawList map[string]any
	getServicesJSON(t, rb2, "", "/api/v1/services", http.StatusOK, &rawList)
	if l, ok := rawList["services"].([]any); !ok || len(l) != 0 {
		t.Errorf("empty catalogue = %v, want {\"services\": []}", rawList)
	}
}

// TestServicesConfigVersusChat proves the README's rule: config seeds only the services the store has never
// had; chat edits and removals persist across a restart with the same config.
func TestServicesConfigVersusChat(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := testOptions(t, "127.0.0.1:1")
	o.Services.Seeds = []store.ServiceSeed{
		{Name: "storage", Owner: "carol"},
		{Name: "playlist", Owner: "bob", Depends: []string{"storage"}, SLO: 99.9},
		{Name: "cache", Owner: "carol"},
	}
	shell := func(input string) string {
		t.Helper()
		var out bytes.Buffer
		if err := Shell(context.Background(), o, st, "alice", strings.NewReader(input), &out); err != nil {
			t.Fatal(err)
		}
		return noZW(out.String())
	}
	// Start (the shell seeds like the bot does), then edit in chat.
	got := shell("owner playlist\nservice set playlist --owner dave --slo 99.95\nservice remove cache\n")
	want := "playlist: owner bob\nplaylist updated: owner bob -> dave; SLO 99.9% -> 99.95%\ncache removed\n"
	if got != want {
		t.Fatalf("first run:\n%s\nwant:\n%s", got, want)
	}
	// Restart as the IRC bot with the same config: the chat edits survive.
	if _, err := New(o, st); err != nil {
		t.Fatal(err)
	}
	got = shell("owner playlist\nservice playlist\nowner cache\n")
	want = "playlist: owner dave\nplaylist: owner dave; depends on storage; nothing depends on it; no open incidents; no prod version yet; SLO 99.95%\nerror: no service \"cache\"\n"
	if got != want {
		t.Errorf("after restart:\n%s\nwant:\n%s", got, want)
	}
	// A service new in the config is still created.
	o.Services.Seeds = append(o.Services.Seeds, store.ServiceSeed{Name: "search", Depends: []string{"playlist", "cache"}})
	got = shell("service search\n")
	if want := "search: no owner; depends on playlist; nothing depends on it; no open incidents; no prod version yet; no SLO\n"; got != want {
		t.Errorf("new config entry: %q, want %q", got, want)
	}
}
