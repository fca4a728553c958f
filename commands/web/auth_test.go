package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var loginURL = regexp.MustCompile(`https?://\S+/login/[A-Za-z0-9_-]{43}`)

// loginLink asks !web for alice's link in private and returns it.
func (h *harness) loginLink(account string) string {
	h.t.Helper()
	got := h.say(account, "web")
	if len(got) != 1 {
		h.t.Fatalf("!web = %q", got)
	}
	link := loginURL.FindString(got[0])
	if link == "" {
		h.t.Fatalf("!web = %q: no login link", got[0])
	}
	return link
}

// post posts to a URL (a login link) and returns the response.
func (h *harness) post(link string) *http.Response {
	h.t.Helper()
	u, _ := url.Parse(link)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Post(h.srv.URL+u.Path, "application/x-www-form-urlencoded", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTeamPagesNeedALogin(t *testing.T) {
	h := newHarness(t, Config{APIToken: "s3cret"}) // loopback not trusted: as behind a reverse proxy
	for _, path := range []string{"/", "/board", "/requests/R-1", "/incidents", "/incidents/INC-1", "/incidents/INC-1/postmortem",
		"/availability", "/services", "/services/storage", "/deploys", "/oncall"} {
		resp, _ := h.get(path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("GET %s without a session = %d to %q, want 303 to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := h.get(path, "Authorization", "Bearer s3cret"); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the API token = %d", path, resp.StatusCode)
		}
		if resp, _ := h.get(path, "Authorization", "Bearer wrong"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s with a wrong token = %d", path, resp.StatusCode)
		}
	}
	resp, body := h.get("/login")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ask opsbot for a link") || !strings.Contains(body, "/msg opsbot web") {
		t.Errorf("GET /login = %d:\n%s", resp.StatusCode, body)
	}
	// The status page is off unless web.public_status says otherwise.
	if resp, _ := h.get("/status"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /status with public_status off = %d, want 404", resp.StatusCode)
	}
	// A local request is trusted only with web.trust_loopback, and only when it names the server locally.
	trusting := newHarness(t, Config{TrustLoopback: true})
	if resp, _ := trusting.get("/board"); resp.StatusCode != http.StatusOK {
		t.Errorf("loopback with trust_loopback: GET /board = %d", resp.StatusCode)
	}
	if resp, _ := trusting.get("/board", "Host", "opsbot.evil.example"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("loopback naming another host (DNS rebinding): GET /board = %d, want 303", resp.StatusCode)
	}
}

func TestLoginLinkOnceThenSession(t *testing.T) {
	h := newHarness(t, Config{})
	// In a channel the link would be everyone's: refused.
	if got := h.sayIn("#operations", "alice", "web"); len(got) != 1 || !strings.Contains(got[0], "ask in private (/msg opsbot web)") {
		t.Errorf("!web in a channel = %q", got)
	}
	if got := h.say("", "web"); len(got) != 1 || !strings.Contains(got[0], "log in to NickServ first") {
		t.Errorf("!web anonymous = %q", got)
	}
	link := h.loginLink("alice")
	u, _ := url.Parse(link)
	// Opening the link (a chat client's preview does) shows a button and uses nothing up.
	for range 2 {
		resp, body := h.get(u.Path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log in as alice") || resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("GET %s = %d, cookie %q:\n%s", u.Path, resp.StatusCode, resp.Header.Get("Set-Cookie"), body)
		}
	}
	resp := h.post(link)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("POST %s = %d to %q", u.Path, resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || cookie.Path != "/" ||
		cookie.MaxAge != int(DefaultSessionTTL.Seconds()) {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, not Secure over http, Path=/, 30 days", cookie)
	}
	if resp, body := h.get("/board", "Cookie", cookie.Name+"="+cookie.Value); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="viewer">alice<`) {
		t.Fatalf("GET /board with the session = %d", resp.StatusCode)
	}
	// Reused: refused, and the page says why.
	if resp := h.post(link); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("reused link = %d with cookies %v, want 403 and none", resp.StatusCode, resp.Cookies())
	}
	if resp, body := h.get(u.Path); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "does not work") {
		t.Errorf("GET of a used link = %d", resp.StatusCode)
	}
	// Forged and expired links.
	if resp := h.post(h.srv.URL + "/login/" + strings.Repeat("A", 43)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged link = %d, want 403", resp.StatusCode)
	}
	late := h.loginLink("carol")
	h.now = h.now.Add(LoginTTL + time.Second)
	if resp := h.post(late); resp.StatusCode != http.StatusForbidden {
		t.Errorf("link used after %s = %d, want 403", LoginTTL, resp.StatusCode)
	}
	// The session lasts its TTL, and !web logout ends it.
	if resp, _ := h.get("/", "Cookie", cookie.Name+"="+cookie.Value); resp.StatusCode != http.StatusOK {
		t.Errorf("session after 10 minutes = %d", resp.StatusCode)
	}
	if got := h.say("alice", "web logout"); len(got) != 1 || got[0] != "logged out of the web pages (1 browser)" {
		t.Errorf("!web logout = %q", got)
	}
	if resp, _ := h.get("/", "Cookie", cookie.Name+"="+cookie.Value); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session after !web logout = %d, want 303 to /login", resp.StatusCode)
	}
	// A session expires.
	link = h.loginLink("alice")
	resp = h.post(link)
	c := resp.Cookies()[0]
	h.now = h.now.Add(DefaultSessionTTL)
	if resp, _ := h.get("/", "Cookie", c.Name+"="+c.Value); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session after its TTL = %d, want 303", resp.StatusCode)
	}
	// A cookie from another opsbot (another store) is unknown here.
	other := newHarness(t, Config{})
	theirs := other.post(other.loginLink("alice")).Cookies()[0]
	if resp, _ := h.get("/", "Cookie", theirs.Name+"="+theirs.Value); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another instance's cookie = %d, want 303", resp.StatusCode)
	}
}

// !web promises "!web logout ends every login": a link pasted in the wrong window ends with the sessions,
// before anyone uses it, and someone else's link still works.
func TestLogoutEndsUnusedLoginLinks(t *testing.T) {
	h := newHarness(t, Config{})
	leaked, bobs := h.loginLink("alice"), h.loginLink("bob")
	if got := h.say("alice", "web logout"); len(got) != 1 || got[0] != "you were not logged in to the web pages in any browser; your unused login link no longer works" {
		t.Errorf("!web logout = %q", got)
	}
	if resp := h.post(leaked); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("alice's link after !web logout = %d with cookies %v, want 403 and none", resp.StatusCode, resp.Cookies())
	}
	if resp := h.post(bobs); resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Errorf("bob's link after alice's !web logout = %d with cookies %v, want 303 and a session", resp.StatusCode, resp.Cookies())
	}
}

func TestSessionCookieIsSecureBehindHTTPS(t *testing.T) {
	h := newHarness(t, Config{BaseURL: "https://opsbot.example.net"})
	link := h.loginLink("alice")
	if !strings.HasPrefix(link, "https://opsbot.example.net/login/") {
		t.Errorf("link = %q, want it under web.base_url", link)
	}
	c := h.post(link).Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Errorf("cookie over https = %+v, want Secure and HttpOnly", c)
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true, PublicStatus: true})
	for _, path := range []string{"/", "/login", "/login/nope", "/static/style.css", "/status", "/status/summary.json",
		"/status/history.atom", "/incidents/INC-999", "/oncall.ics", "/board"} {
		resp, _ := h.get(path)
		for k, want := range map[string]string{"Content-Security-Policy": csp, "X-Frame-Options": "DENY",
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
	if resp, _ := h.get("/incidents/INC-999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /incidents/INC-999 = %d, want 404", resp.StatusCode)
	}
}

// Every value shown is escaped: text from chat cannot become markup.
func TestValuesAreEscaped(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true, PublicStatus: true})
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	r, err := h.st.OpenRequest("mallory", evil, "", false)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := h.st.DeclareIncident(storeIncident("auth", evil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.NotePublicIncident(inc.ID, "alice", evil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/board", "/requests/" + reqName(r.ID), "/incidents", "/incidents/" + inc.Name(), "/status", "/"} {
		_, body := h.get(path)
		if strings.Contains(body, "<script>") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s shows the text unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the text (escaped)", path)
		}
	}
}

// Another site's form cannot log a browser in (with the attacker's own link), and the stylesheet folder is
// not listed.
func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true})
	link := h.loginLink("mallory")
	u, _ := url.Parse(link)
	req, _ := http.NewRequest("POST", h.srv.URL+u.Path, nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login post = %d, cookies %v; want 403 and none", resp.StatusCode, resp.Cookies())
	}
	req, _ = http.NewRequest("POST", h.srv.URL+u.Path, nil)
	req.Header.Set("Origin", "null")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("login post a browser calls cross-site = %v, %v; want 403", resp, err)
	}
	req, _ = http.NewRequest("POST", h.srv.URL+u.Path, nil)
	req.Header.Set("Origin", h.srv.URL)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err = c.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin login post = %v, %v; want 303", resp, err)
	}
	if resp, _ := h.get("/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/ = %d, want 404", resp.StatusCode)
	}
	if resp, body := h.get("/static/style.css"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "--accent") {
		t.Errorf("GET /static/style.css = %d", resp.StatusCode)
	}
}
