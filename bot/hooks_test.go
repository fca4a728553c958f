package bot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

const (
	hookSecret     = "s3cret-current"
	hookSecretPrev = "s3cret-previous"
)

// hookServer is the bot's real HTTP handler on a real socket, over a bot that is not connected to IRC:
// announcements land in the durable outbox, where the tests read them.
type hookServer struct {
	*httptest.Server
	st *store.Store
}

func newHookServer(t *testing.T, mod func(*Options)) *hookServer {
	t.Helper()
	st := openTestStore(t)
	o := testOptions(t, "127.0.0.1:1")
	o.Deploys.WebhookSecrets = []string{hookSecret, hookSecretPrev}
	o.APIToken = "tok"
	if mod != nil {
		mod(&o)
	}
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.httpServer().Handler)
	t.Cleanup(srv.Close)
	return &hookServer{Server: srv, st: st}
}

func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends body signed with secret at time at; it returns the status and the decoded JSON answer.
func (h *hookServer) post(t *testing.T, body []byte, secret string, at time.Time) (int, map[string]any) {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	req, _ := http.NewRequest("POST", h.URL+"/hooks/deploy", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Opsbot-Timestamp", ts)
	req.Header.Set("X-Opsbot-Signature", sign(secret, ts, body))
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %q", req.Method, req.URL.Path, ct, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", req.Method, req.URL.Path, raw)
	}
	return resp.StatusCode, out
}

func hookBody(fields map[string]any) []byte {
	b, _ := json.Marshal(fields)
	return b
}

func (h *hookServer) outbox(t *testing.T) []string {
	t.Helper()
	msgs, err := h.st.OutboxPending()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, strings.ReplaceAll(m.Text, "\u200b", ""))
	}
	return out
}

func TestDeployHook(t *testing.T) {
	h := newHookServer(t, nil)
	now := time.Now()
	ev := func(id, status string, extra map[string]any) []byte {
		f := map[string]any{"id": id, "service": "playlist", "version": "1.42", "status": status, "actor": "ci-bot", "url": "https://ci.example/run/7"}
		for k, v := range extra {
			f[k] = v
		}
		return hookBody(f)
	}
	// A canary reported by CI: started at 10%, progress to 50%, succeeded; each step announced.
	for i, st := range []struct {
		body []byte
		want string
	}{
		{ev("d1", "started", map[string]any{"percent": 10, "message": "fix playlist order"}), "D-1 playlist 1.42 started by ci-bot at 10% (prod): fix playlist order https://ci.example/run/7"},
		{ev("d2", "progress", map[string]any{"percent": 50, "sites": []string{"eu-1"}}), "D-1 playlist 1.42 at 50% on eu-1 (prod): fix playlist order https://ci.example/run/7"},
		{ev("d3", "succeeded", nil), "D-1 playlist 1.42 succeeded in prod after 0s: fix playlist order https://ci.example/run/7"},
	} {
		code, out := h.post(t, st.body, hookSecret, now)
		if code != 200 || out["deploy"] != "D-1" || out["duplicate"] != false {
			t.Fatalf("step %d: %d %v", i, code, out)
		}
		if got := h.outbox(t); len(got) != i+1 || got[i] != st.want {
			t.Fatalf("step %d: announced %q, want %q last", i, got, st.want)
		}
	}
	if v, _ := h.st.CurrentVersion("playlist", "prod"); v != "1.42" {
		t.Fatalf("current version after the webhook = %q", v)
	}

	// The previous secret is accepted during a rotation.
	if code, out := h.post(t, ev("d4", "started", map[string]any{"version": "1.43"}), hookSecretPrev, now); code != 200 {
		t.Fatalf("previous secret: %d %v", code, out)
	}
	// A second started for another version is refused, naming the rollout in progress.
	code, out := h.post(t, ev("d5", "started", map[string]any{"version": "1.44"}), hookSecret, now)
	if code != 409 || !strings.HasPrefix(out["error"].(string), "D-2 playlist 1.43 is already rolling out in prod") || strings.Contains(out["error"].(string), "\u200b") ||
		out["duplicate"] != false {
		t.Fatalf("conflicting start: %d %v", code, out)
	}
	// Once D-2 has ended, replaying the refused delivery's signed bytes is refused still: its id is spent.
	refused := ev("d5", "started", map[string]any{"version": "1.44"})
	if code, out := h.post(t, ev("d6", "succeeded", map[string]any{"version": "1.43"}), hookSecret, now); code != 200 {
		t.Fatalf("D-2 succeeded: %d %v", code, out)
	}
	before := len(h.outbox(t))
	code, out = h.post(t, refused, hookSecret, now)
	if code != 409 || out["duplicate"] != true || !strings.HasPrefix(out["error"].(string), "delivery d5 was refused at ") ||
		!strings.Contains(out["error"].(string), "(D-2 playlist 1.43 is already rolling out in prod") {
		t.Fatalf("replay of a refused delivery: %d %v", code, out)
	}
	if n := len(h.outbox(t)); n != before {
		t.Fatalf("the replay was announced (%d -> %d messages)", before, n)
	}
	if d, err := h.st.GetDeploy(3); err == nil {
		t.Fatalf("the replay started a rollout: %+v", d)
	}
	// The same event with a new delivery id is a new try, and goes through.
	if code, out := h.post(t, ev("d7", "started", map[string]any{"version": "1.44"}), hookSecret, now); code != 200 || out["deploy"] != "D-3" {
		t.Fatalf("a new delivery after the refusal: %d %v", code, out)
	}

	// A redelivery answers 200 and changes nothing: no new announcement, same state.
	before = len(h.outbox(t))
	code, out = h.post(t, ev("d3", "succeeded", nil), hookSecret, now)
	if code != 200 || out["duplicate"] != true || out["deploy"] != "D-1" {
		t.Fatalf("redelivery: %d %v", code, out)
	}
	if n := len(h.outbox(t)); n != before {
		t.Fatalf("redelivery announced again (%d -> %d messages)", before, n)
	}
	if d, _ := h.st.GetDeploy(3); d.State != store.DeployStarted {
		t.Fatalf("redelivery changed D-3: %+v", d)
	}
}

func TestDeployHookRefusals(t *testing.T) {
	h := newHookServer(t, nil)
	now := time.Now()
	valid := hookBody(map[string]any{"id": "x1", "service": "playlist", "version": "1.0", "status": "started"})
	cases := []struct {
		name     string
		body     []byte
		secret   string
		at       time.Time
		wantCode int
		wantIn   string // in the JSON answer
	}{
		{"wrong signature", valid, "guess", now, 401, "signature does not match"},
		{"expired timestamp", valid, hookSecret, now.Add(-6 * time.Minute), 401, "off the bot's clock (at most 5m0s)"},
		{"timestamp from the future", valid, hookSecret, now.Add(6 * time.Minute), 401, "off the bot's clock (at most 5m0s)"},
		{"malformed JSON", []byte(`{"id": "x1", "service": `), hookSecret, now, 400, `"body":"not a JSON object`},
		{"not an object", []byte(`["started"]`), hookSecret, now, 400, `"body":"not a JSON object`},
		{"field errors", hookBody(map[string]any{"id": "x2", "service": "Play list", "version": "1.0\r\nQUIT", "status": "deployed", "percent": 150, "url": "javascript:alert(1)"}), hookSecret, now, 400,
			`{"errors":{"percent":"must be an integer from 0 to 100","service":"\"play list\" is not a service name (a-z, 0-9, . _ -, at most 64)","status":"must be one of started, progress, succeeded, failed, rolled_back","url":"must be an http(s) URL without spaces, at most 400 bytes","version":"\"1.0  QUIT\" is not a version (letters, digits, . _ + ~ -, at most 64)"}}`},
		{"wrong types", []byte(`{"id": 7, "service": "playlist", "version": "1.0", "status": "progress", "percent": "10", "sites": 3}`), hookSecret, now, 400,
			`{"errors":{"id":"must be a string","percent":"must be an integer from 0 to 100","sites":"must be an array of strings"}}`},
		{"missing fields", []byte(`{}`), hookSecret, now, 400, `"id":"required`},
		{"unknown field, not dropped (env is not environment)", hookBody(map[string]any{"id": "x4", "service": "playlist", "version": "1.0", "status": "succeeded", "env": "staging"}), hookSecret, now, 400,
			`{"errors":{"env":"unknown field (the fields are id, service, version, environment, status, percent, sites, actor, url, message)"}}`},
		{"oversized body", append(append([]byte(`{"id":"big","service":"playlist","version":"1","status":"started","message":"`), bytes.Repeat([]byte("a"), 2<<20)...), '"', '}'), hookSecret, now, 413, "body larger than 1048576 bytes"},
		{"oversized by one byte", bytes.Repeat([]byte(" "), commands.MaxBody+1), hookSecret, now, 413, "body larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.post(t, tc.body, tc.secret, tc.at)
			raw, _ := json.Marshal(out)
			if code != tc.wantCode || !strings.Contains(string(raw), tc.wantIn) {
				t.Fatalf("got %d %s\nwant %d with %s", code, raw, tc.wantCode, tc.wantIn)
			}
		})
	}
	// Missing headers.
	req, _ := http.NewRequest("POST", h.URL+"/hooks/deploy", bytes.NewReader(valid))
	if code, out := do(t, req); code != 401 || !strings.Contains(out["error"].(string), "X-Opsbot-Timestamp") {
		t.Fatalf("unsigned: %d %v", code, out)
	}
	// Nothing was recorded or announced by any refused request.
	if d, _ := h.st.RecentDeploys(10); len(d) != 0 {
		t.Fatalf("refused requests recorded deploys: %+v", d)
	}
	if got := h.outbox(t); len(got) != 0 {
		t.Fatalf("refused requests announced %q", got)
	}
	// A body of exactly 1 MiB is accepted.
	head := []byte(`{"id":"max","service":"playlist","version":"1","status":"started","message":"`)
	body := append(append(head, bytes.Repeat([]byte("a"), commands.MaxBody-len(head)-2)...), '"', '}')
	if code, out := h.post(t, body, hookSecret, now); code != 200 || len(body) != commands.MaxBody {
		t.Fatalf("1 MiB body: %d %v", code, out)
	}
}

func TestDeployHookSanitisesText(t *testing.T) {
	h := newHookServer(t, nil)
	body := hookBody(map[string]any{"id": "inj", "service": "playlist", "version": "1.0", "status": "started",
		"actor": "ci\r\nPRIVMSG #operations :pwned", "message": "fix\x01ACTION\x01 \x02bold\x02\nQUIT :bye\u202e", "url": "https://ci.example/1\r\nJOIN #x"})
	code, out := h.post(t, body, hookSecret, time.Now())
	if code != 400 || !strings.Contains(out["errors"].(map[string]any)["url"].(string), "without spaces") {
		t.Fatalf("URL with CR/LF: %d %v", code, out)
	}
	body = hookBody(map[string]any{"id": "inj", "service": "playlist", "version": "1.0", "status": "started",
		"actor": "ci\r\nPRIVMSG #operations :pwned", "message": "fix\x01ACTION\x01 \x02bold\x02\nQUIT :bye\u202e"})
	if code, out = h.post(t, body, hookSecret, time.Now()); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	got := h.outbox(t)
	want := "D-1 playlist 1.0 started by ci  PRIVMSG #operations :pwned (prod): fixACTION bold QUIT :bye"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("announced %q, want %q", got, want)
	}
	d, _ := h.st.GetDeploy(1)
	if strings.ContainsAny(d.By+d.Note, "\r\n\x01\x02\u202e") {
		t.Fatalf("stored control characters: %q %q", d.By, d.Note)
	}
}

func TestDeployHookNotConfigured(t *testing.T) {
	h := newHookServer(t, func(o *Options) { o.Deploys.WebhookSecrets = nil })
	code, out := h.post(t, []byte(`{}`), "", time.Now())
	if code != 503 || !strings.Contains(out["error"].(string), "http.webhook_secret") {
		t.Fatalf("%d %v", code, out)
	}
}

func TestDeployAPI(t *testing.T) {
	h := newHookServer(t, nil)
	get := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", h.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := get("/api/v1/deploys/playlist/gate", ""); code != 401 {
		t.Fatalf("gate without token: %d", code)
	}
	if code, out := get("/api/v1/deploys/playlist/gate", "tok"); code != 200 || out["ok"] != true {
		t.Fatalf("open gate: %d %v", code, out)
	}
	h.st.LockDeploys("playlist", "db migration", "carol")
	code, out := get("/api/v1/deploys/playlist/gate", "tok")
	if code != 423 || out["ok"] != false || !strings.HasPrefix(out["reason"].(string), "playlist is locked by carol since ") || !strings.HasSuffix(out["reason"].(string), ": db migration") {
		t.Fatalf("locked gate: %d %v", code, out)
	}
	if code, out := get("/api/v1/deploys/search/gate", "tok"); code != 200 {
		t.Fatalf("another service's gate: %d %v", code, out)
	}
	h.st.LockDeploys(store.LockAll, "release", "alice")
	if code, out := get("/api/v1/deploys/search/gate", "tok"); code != 423 || !strings.HasPrefix(out["reason"].(string), "all deploys are locked by alice") {
		t.Fatalf("gate under lock all: %d %v", code, out)
	}
	if code, out := get("/api/v1/deploys/Bad!Name/gate", "tok"); code != 404 {
		t.Fatalf("bad service name: %d %v", code, out)
	}

	h.post(t, hookBody(map[string]any{"id": "a", "service": "playlist", "version": "2", "status": "started", "percent": 5}), hookSecret, time.Now())
	code, out = get("/api/v1/deploys", "tok")
	if code != 200 || len(out["in_progress"].([]any)) != 1 || len(out["locks"].([]any)) != 2 || len(out["recent"].([]any)) != 1 {
		t.Fatalf("overview: %d %v", code, out)
	}
	code, out = get("/api/v1/deploys/playlist/history?n=5", "tok")
	deploys, _ := out["deploys"].([]any)
	if code != 200 || len(deploys) != 1 || deploys[0].(map[string]any)["state"] != "started" || deploys[0].(map[string]any)["percent"] != 5.0 {
		t.Fatalf("history: %d %v", code, out)
	}
	if code, _ := get("/api/v1/deploys/playlist/history?n=0", "tok"); code != 400 {
		t.Fatalf("history n=0: %d", code)
	}
}
