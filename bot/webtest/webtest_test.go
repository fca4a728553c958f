package webtest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// strictCSP is the policy the bot's pages are meant to send: no scripts at all, styles from the bot
// itself, images from the bot or inline data: URLs.
const strictCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:"

// testSite serves a few small pages like the bot's: a board with an inline SVG chart and a link, an
// incidents page, a page whose inline script the CSP must block, and one whose script throws.
func testSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	secure := func(w http.ResponseWriter, csp string) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
	page := func(w http.ResponseWriter, csp, title, body string) {
		secure(w, csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<link rel="stylesheet" href="/static/style.css"><link rel="icon" href="data:,"></head>
<body><div class="banner">opsbot</div>%s</body></html>`, title, body)
	}
	mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		secure(w, strictCSP)
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		fmt.Fprint(w, `body { margin: 0; font-family: sans-serif; }
.banner { background: #1f6feb; color: #fff; height: 40px; line-height: 40px; padding: 0 16px; }
main { padding: 16px; }
.tall { height: 1400px; border-top: 1px solid #ccc; }
`)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cr3t", Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode})
		page(w, strictCSP, "Board", `<main><h1>Board</h1>
<p id="summary">3 open incidents</p>
<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="320" height="140" viewBox="0 0 320 140" role="img">
  <title>Pages per day</title>
  <text class="title" x="10" y="16" font-size="14">Pages per day</text>
  <rect class="bar" x="20" y="60" width="60" height="70" fill="#d73a49"/>
  <rect class="bar" x="120" y="30" width="60" height="100" fill="#d73a49"/>
  <rect class="bar" x="220" y="90" width="60" height="40" fill="#d73a49"/>
</svg>
<p><img id="dot" alt="dot" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"></p>
<details id="more"><summary>More</summary><p>on call: alice</p></details>
<p><a id="next" href="/incidents">Incidents</a></p>
<div class="tall">the rest of the board</div></main>`)
	})
	mux.HandleFunc("GET /incidents", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if c, err := r.Cookie("session"); err == nil {
			who = c.Value
		}
		theme := "light"
		if c, err := r.Cookie("theme"); err == nil {
			theme = c.Value
		}
		page(w, strictCSP, "Incidents", fmt.Sprintf(`<main><h1>Incidents</h1>
<p id="who">session: %s</p><p id="theme">theme: %s</p></main>`, who, theme))
	})
	mux.HandleFunc("GET /go-incidents", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/incidents", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /inline-script", func(w http.ResponseWriter, r *http.Request) {
		page(w, strictCSP, "Inline", `<main><h1>Inline</h1><script>document.title = "pwned";</script></main>`)
	})
	mux.HandleFunc("GET /static/boom.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `null.explode();`)
	})
	mux.HandleFunc("GET /js-error", func(w http.ResponseWriter, r *http.Request) {
		page(w, strictCSP+"; script-src 'self'", "Boom", `<main><h1>Boom</h1><script src="/static/boom.js"></script></main>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserPages(t *testing.T) {
	srv := testSite(t)
	b := Start(t)
	p := b.Open(t, srv.URL+"/")

	// The main document: status and security headers, as the browser received them.
	if got := p.Status(); got != http.StatusOK {
		t.Errorf("Status() = %d, want 200", got)
	}
	h := p.Header()
	for k, want := range map[string]string{
		"Content-Security-Policy": strictCSP,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if d := p.Document(); d == nil || d.MimeType != "text/html" || d.URL != srv.URL+"/" {
		t.Errorf("Document() = %+v", d)
	}

	// Text, including SVG text (no innerText there), and counts.
	if got := p.Title(t); got != "Board" {
		t.Errorf("Title() = %q", got)
	}
	if got := p.Text(t, "h1"); got != "Board" {
		t.Errorf(`Text("h1") = %q`, got)
	}
	if got := p.Text(t, "#summary"); got != "3 open incidents" {
		t.Errorf(`Text("#summary") = %q`, got)
	}
	if got := p.Text(t, "#chart text.title"); got != "Pages per day" {
		t.Errorf("SVG chart title = %q", got)
	}
	if got := p.Count(t, "#chart rect.bar"); got != 3 {
		t.Errorf("bars = %d, want 3", got)
	}
	if html := p.HTML(t); !strings.HasPrefix(html, "<html") || !strings.Contains(html, `<a id="next" href="/incidents">`) {
		t.Errorf("HTML() = %.200q...", html)
	}

	// The server's cookie: present, HttpOnly and SameSite=Lax, seen through the cookies API.
	c := p.Cookie(t, "session")
	if c == nil {
		t.Fatalf("no session cookie; cookies: %v", p.Cookies(t))
	}
	if c.Value != "s3cr3t" || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Secure || !c.Session {
		t.Errorf("session cookie = %+v, want s3cr3t, HttpOnly, SameSite=Lax, session", *c)
	}

	// The strict CSP page with a stylesheet, an SVG and a data: image logs no violation or error.
	p.NoCSPViolations(t)
	for _, m := range p.Messages(t) {
		t.Logf("board logged: %s", m)
	}

	// A full-page screenshot: a PNG of the whole scrollable page, one pixel per CSS pixel.
	dir := t.TempDir()
	if keep := os.Getenv("WEBTEST_ARTIFACTS"); keep != "" {
		dir = keep
	}
	shot := filepath.Join(dir, "board.png")
	w, ht := p.Screenshot(t, shot)
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot is no PNG: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X != Width || sz.X != w || sz.Y != ht || sz.Y <= Height {
		t.Errorf("screenshot %dx%d (returned %dx%d), want %d wide and taller than the %d viewport", sz.X, sz.Y, w, ht, Width, Height)
	}
	// It is a real rendering: the banner's blue at the top left, the chart's red bar, white elsewhere.
	near := func(x, y int, r0, g0, b0 uint32) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		d := func(a, b uint32) bool { return a>>8 >= b-8 && a>>8 <= b+8 }
		return d(r, r0) && d(g, g0) && d(bl, b0)
	}
	if !near(5, 5, 0x1f, 0x6f, 0xeb) {
		t.Errorf("banner pixel is %v, want #1f6feb", img.At(5, 5))
	}
	if !near(Width-5, ht-5, 0xff, 0xff, 0xff) {
		t.Errorf("bottom right pixel is %v, want white", img.At(Width-5, ht-5))
	}
	t.Logf("screenshot %s: %dx%d, %d bytes", shot, w, ht, len(raw))

	// A click that does not navigate: <details> opens without any script.
	if _, open := p.Attr(t, "#more", "open"); open {
		t.Error("details open before the click")
	}
	p.ClickNoWait(t, "#more summary")
	if _, open := p.Attr(t, "#more", "open"); !open {
		t.Error("details still closed after the click")
	}
	if href, ok := p.Attr(t, "#next", "href"); !ok || href != "/incidents" {
		t.Errorf("link href = %q, %v", href, ok)
	}

	// Follow the link with a real click: the cookie goes along, the status is the new document's.
	p.Click(t, "#next")
	if got := p.CurrentURL(t); got != srv.URL+"/incidents" {
		t.Errorf("after click: CurrentURL() = %q", got)
	}
	if got := p.Text(t, "h1"); got != "Incidents" {
		t.Errorf("after click: h1 = %q", got)
	}
	if got := p.Text(t, "#who"); got != "session: s3cr3t" {
		t.Errorf("the HttpOnly cookie was not sent: %q", got)
	}
	if got := p.Status(); got != http.StatusOK {
		t.Errorf("after click: Status() = %d", got)
	}

	// A cookie set by the test is sent from the next request on.
	p.SetCookie(t, &http.Cookie{Name: "theme", Value: "dark", SameSite: http.SameSiteLaxMode})
	p.Navigate(t, srv.URL+"/incidents")
	if got := p.Text(t, "#theme"); got != "theme: dark" {
		t.Errorf("SetCookie: page shows %q", got)
	}
	p.NoCSPViolations(t)
	var names []string
	for _, c := range b.Cookies(t, srv.URL+"/incidents") {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "session,theme" {
		t.Errorf("Browser.Cookies = %s", got)
	}
	// A cookie set on the browser before a page is opened (how a test logs a user in).
	b.SetCookie(t, srv.URL, &http.Cookie{Name: "session", Value: "other-user", HttpOnly: true})
	p2 := b.Open(t, srv.URL+"/incidents")
	if got := p2.Text(t, "#who"); got != "session: other-user" {
		t.Errorf("Browser.SetCookie: page shows %q", got)
	}

	// After a redirect, the document is the final one.
	p.Navigate(t, srv.URL+"/go-incidents")
	if got, url := p.Status(), p.CurrentURL(t); got != http.StatusOK || url != srv.URL+"/incidents" {
		t.Errorf("after a 303: Status() = %d at %s, want 200 at /incidents", got, url)
	}

	// The status of an error page.
	p.Navigate(t, srv.URL+"/no-such-page")
	if got := p.Status(); got != http.StatusNotFound {
		t.Errorf("missing page: Status() = %d, want 404", got)
	}
}

// TestBrowserReportsCSPViolation is the negative check: an inline script under the strict CSP is
// blocked, and the harness reports the violation.
func TestBrowserReportsCSPViolation(t *testing.T) {
	srv := testSite(t)
	b := Start(t)

	p := b.Open(t, srv.URL+"/inline-script")
	v := p.CSPViolations(t)
	if len(v) == 0 {
		t.Fatalf("no CSP violation reported; messages: %v", p.Messages(t))
	}
	script := false
	for _, m := range v {
		t.Logf("reported: %s", m)
		script = script || strings.Contains(m.Text, "script")
	}
	if !script {
		t.Errorf("no reported violation is about the script: %v", v)
	}
	if got := p.Title(t); got != "Inline" {
		t.Errorf("the inline script ran: title %q", got)
	}
	if !failsWith(func(ft testing.TB) { p.NoCSPViolations(ft) }) {
		t.Error("NoCSPViolations passed on a page with a CSP violation")
	}

	// A script that is allowed but throws is a JS error, not a CSP violation.
	p2 := b.Open(t, srv.URL+"/js-error")
	errs := p2.JSErrors(t)
	if len(errs) == 0 {
		t.Fatalf("no JS error reported; messages: %v", p2.Messages(t))
	}
	t.Logf("reported: %s", errs[0])
	if v := p2.CSPViolations(t); len(v) != 0 {
		t.Errorf("unexpected CSP violations: %v", v)
	}
}

// failsWith reports whether f marks its testing.TB as failed.
func failsWith(f func(testing.TB)) bool {
	r := &recorder{}
	f(r)
	return r.failed
}

// recorder is a testing.TB that only records failures (the methods the harness calls on failure).
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Failed() bool          { return r.failed }
