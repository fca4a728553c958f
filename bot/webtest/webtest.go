// Package webtest drives a real headless Chromium (Debian's chromium package) from Go tests, for the
// bot's server-rendered web pages: open a page, read its text and HTML, click links, read the status and
// headers of the main document, look at cookies, take full-page screenshots, and check that the page
// logged no Content-Security-Policy violation or JavaScript error.
//
// A test starts one browser with Start and opens pages (each in its own tab) with Browser.Open:
//
//	b := webtest.Start(t)
//	p := b.Open(t, srv.URL+"/board")
//	if got := p.Status(); got != 200 { ... }
//	p.NoCSPViolations(t)
//
// Without chromium the test is skipped, unless CI is set: then it fails.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Window size of the browser, and the viewport that every tab emulates (device scale factor 1, so a
// screenshot has one pixel per CSS pixel).
const (
	Width  = 1280
	Height = 900
)

// DefaultTimeout bounds each action (open, click, query): a selector that never matches fails the test
// after this long instead of hanging until the test binary's timeout.
const DefaultTimeout = 15 * time.Second

// installHint says how to get the browser.
const installHint = "run `sudo bash testdata/chromium/install.sh` (Debian package chromium)"

// ExecPath returns the Chromium binary the harness runs: $OPSBOT_CHROMIUM if set, else `chromium` on
// PATH, else /usr/bin/chromium. It returns "" when none is executable.
func ExecPath() string {
	if p := os.Getenv("OPSBOT_CHROMIUM"); p != "" {
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
		return ""
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Available reports whether Chromium is installed; when not, it says how to get it.
func Available() (bool, string) {
	if p := os.Getenv("OPSBOT_CHROMIUM"); p != "" && ExecPath() == "" {
		return false, fmt.Sprintf("OPSBOT_CHROMIUM=%s is not an executable", p)
	}
	if ExecPath() == "" {
		return false, "chromium not installed: " + installHint
	}
	return true, ""
}

// Browser is a running headless Chromium (Start). Its tabs are Pages (Open). It is stopped at the end of
// the test that started it; subtests may share it.
type Browser struct {
	// ExecPath is the binary that was started, Version what it reports (e.g. "Chrome/156.0.8078.114").
	ExecPath string
	Version  string
	// StartupTime is how long the browser took from exec to its first tab being ready.
	StartupTime time.Duration
	// Timeout bounds each action of the pages opened after it is changed (default DefaultTimeout).
	Timeout time.Duration

	allocCancel context.CancelFunc
	ctx         context.Context // the first tab; new tabs are its children
	cancel      context.CancelFunc
	dataDir     string
	out         *syncBuffer // the browser's stdout and stderr, shown when the test fails
}

// Start starts a browser for the test and stops it at cleanup. Without Chromium the test is skipped,
// unless CI is set: then it fails, so CI can never pass without the browser.
func Start(t testing.TB) *Browser {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the browser tests cannot run: %s", why)
		}
		t.Skip(why)
	}
	dataDir, err := os.MkdirTemp("", "opsbot-webtest-")
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{ExecPath: ExecPath(), Timeout: DefaultTimeout, dataDir: dataDir, out: &syncBuffer{}}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(b.ExecPath),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(Width, Height),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these Chromium keeps calling home, and this machine's closed network refuses it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.CombinedOutput(b.out),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox on.
		opts = append(opts, chromedp.NoSandbox)
	} else {
		opts = append(opts, chromedp.Flag("no-sandbox", false))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b.allocCancel, b.ctx, b.cancel = allocCancel, ctx, cancel
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			if out := b.output(); out != "" {
				t.Logf("webtest: browser output:\n%s", out)
			}
		}
	})

	start := time.Now()
	if err := firstDo(ctx, cancel, 60*time.Second); err != nil {
		t.Fatalf("webtest: start %s: %v\n%s", b.ExecPath, err, b.output())
	}
	b.StartupTime = time.Since(start)
	if v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{}); err == nil {
		b.Version = v.Product
	}
	t.Logf("webtest: %s (%s) started in %v", b.Version, b.ExecPath, b.StartupTime.Round(time.Millisecond))
	return b
}

// output returns what the browser printed, less its noise on this kind of machine: there is no D-Bus,
// and Debian's /usr/bin/chromium wrapper trips on its own /dev/shm size test.
func (b *Browser) output() string {
	var keep []string
	for _, l := range strings.Split(b.out.String(), "\n") {
		if strings.Contains(l, "dbus/") || strings.Contains(l, "unexpected operator") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// stop closes the browser gracefully (killing it after 10s), then removes its profile.
func (b *Browser) stop() {
	tctx, tcancel := context.WithTimeout(b.ctx, 10*time.Second)
	_ = chromedp.Cancel(tctx)
	tcancel()
	b.cancel()
	b.allocCancel()
	for range 20 { // Chromium's helpers may still be writing to the profile for a moment
		if os.RemoveAll(b.dataDir) == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SetCookie sets a cookie in the browser (all tabs share one cookie jar) as if rawURL had set it: the
// cookie's Domain and Path default from rawURL. Useful before Open, to log a test user in.
func (b *Browser) SetCookie(t testing.TB, rawURL string, c *http.Cookie) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, cookieParams(rawURL, c)); err != nil {
		t.Fatalf("webtest: SetCookie %s: %v", c.Name, err)
	}
}

// Cookies returns the browser's cookies that would be sent to rawURL (HttpOnly ones included), by name.
func (b *Browser) Cookies(t testing.TB, rawURL string) []*network.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	if err != nil {
		t.Fatalf("webtest: Cookies: %v", err)
	}
	sortCookies(res.Cookies)
	return res.Cookies
}

func cookieParams(rawURL string, c *http.Cookie) network.SetCookieParams {
	p := network.SetCookieParams{Name: c.Name, Value: c.Value, URL: rawURL, Domain: c.Domain, Path: c.Path}
	if c.Secure {
		p.Secure = new(true)
	}
	if c.HttpOnly {
		p.HTTPOnly = new(true)
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		p.SameSite = network.CookieSameSiteLax
	case http.SameSiteStrictMode:
		p.SameSite = network.CookieSameSiteStrict
	case http.SameSiteNoneMode:
		p.SameSite = network.CookieSameSiteNone
	}
	if !c.Expires.IsZero() {
		p.Expires = cdp.TimeSinceEpoch(float64(c.Expires.UnixMilli()) / 1000)
	}
	return p
}

// Page is one tab. It records, from the browser's events, the response of the main document of the
// last navigation and every console message, log entry, uncaught exception and DevTools issue.
type Page struct {
	ctx     context.Context
	timeout time.Duration

	mu        sync.Mutex
	mainFrame cdp.FrameID
	docs      map[cdp.FrameID]*network.Response // last Document response of each frame
	messages  []Message
}

// Message is something the page or the browser logged for the page.
type Message struct {
	// Kind is "console" (a console.* call), "exception" (an uncaught JS error), "log" (the browser's
	// log, e.g. a CSP violation or a failed load) or "issue" (a DevTools issue, e.g. a CSP issue).
	Kind string
	// Level is "error", "warning", "info", "debug" (console, log) or the issue code (issue).
	Level string
	// Source is the log entry's source ("security", "network", "javascript", ...), for Kind "log".
	Source string
	Text   string
	URL    string
	Line   int64
}

func (m Message) String() string {
	s := m.Kind + " " + m.Level
	if m.Source != "" {
		s += "/" + m.Source
	}
	s += ": " + m.Text
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return s
}

// IsCSPViolation reports whether the message is a Content-Security-Policy violation.
func (m Message) IsCSPViolation() bool {
	switch m.Kind {
	case "issue":
		return m.Level == string(audits.InspectorIssueCodeContentSecurityPolicyIssue)
	case "log", "console":
		return strings.Contains(m.Text, "Content Security Policy")
	}
	return false
}

// IsJSError reports whether the message is an uncaught exception or a console.error call.
func (m Message) IsJSError() bool {
	return m.Kind == "exception" || (m.Kind == "console" && m.Level == "error")
}

// Open opens url in a new tab, waits until it has loaded, and returns the tab. The tab is closed at the
// end of t. A URL that cannot be loaded at all (connection refused) fails the test; an HTTP error status
// does not (check Status).
func (b *Browser) Open(t testing.TB, url string) *Page {
	t.Helper()
	p := &Page{timeout: b.Timeout, docs: map[cdp.FrameID]*network.Response{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(p.onEvent))
	p.ctx = ctx
	t.Cleanup(cancel)
	// The first action creates the tab and binds the tab's life to the context it runs with, so it runs
	// with the tab's own context (no timeout) under a watchdog. Audits (DevTools issues, e.g. CSP ones)
	// are the one domain chromedp does not enable by itself.
	if err := firstDo(ctx, cancel, b.Timeout, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, audits.Enable, cdp.Empty{})
		return err
	}), chromedp.EmulateViewport(Width, Height)); err != nil {
		t.Fatalf("webtest: new tab: %v", err)
	}
	p.mu.Lock()
	p.mainFrame = cdp.FrameID(chromedp.FromContext(ctx).Target.TargetID) // a tab's main frame has its id
	p.mu.Unlock()
	p.Navigate(t, url)
	return p
}

// Context returns the tab's chromedp context, for actions the harness does not wrap. Give each action a
// timeout derived from it: cancelling this context itself closes the tab.
func (p *Page) Context() context.Context { return p.ctx }

// Navigate loads url in this tab and waits until it has loaded.
func (p *Page) Navigate(t testing.TB, url string) {
	t.Helper()
	if err := p.do(chromedp.Navigate(url)); err != nil {
		t.Fatalf("webtest: open %s: %v", url, err)
	}
}

// firstDo runs the first actions on a new chromedp context: that call starts the browser or creates the
// tab, and binds its life to the context it is given, so it must not get one with a timeout. A watchdog
// cancels the context instead if the actions take longer than d.
func firstDo(ctx context.Context, cancel context.CancelFunc, d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx, actions...) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cancel()
		<-done
		return fmt.Errorf("no answer from the browser after %v", d)
	}
}

// do runs actions with the page's timeout.
func (p *Page) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// run runs one action with the page's timeout.
func run[T any](p *Page, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// onEvent runs in the tab's event loop, in the order the browser sent the events: it must be quick and
// send no command.
func (p *Page) onEvent(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && ev.Response != nil {
			p.docs[ev.FrameID] = ev.Response
		}
	case *page.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			p.mainFrame = ev.Frame.ID
		}
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		m := Message{Kind: "console", Level: string(ev.Type), Text: strings.Join(parts, " ")}
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			m.URL, m.Line = ev.StackTrace.CallFrames[0].URL, ev.StackTrace.CallFrames[0].LineNumber
		}
		p.messages = append(p.messages, m)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		p.messages = append(p.messages, Message{Kind: "exception", Level: "error", Text: text, URL: d.URL, Line: d.LineNumber})
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return
		}
		p.messages = append(p.messages, Message{Kind: "log", Level: string(e.Level), Source: string(e.Source),
			Text: e.Text, URL: e.URL, Line: e.LineNumber})
	case *audits.EventIssueAdded:
		if ev.Issue == nil {
			return
		}
		m := Message{Kind: "issue", Level: string(ev.Issue.Code)}
		if d := ev.Issue.Details; d != nil && d.ContentSecurityPolicyIssueDetails != nil {
			c := d.ContentSecurityPolicyIssueDetails
			m.Text = fmt.Sprintf("%s violates directive %q", c.ContentSecurityPolicyViolationType, c.ViolatedDirective)
			if c.BlockedURL != "" {
				m.Text += " (blocked " + c.BlockedURL + ")"
			}
			if l := c.SourceCodeLocation; l != nil {
				m.URL, m.Line = l.URL, l.LineNumber
			}
		}
		p.messages = append(p.messages, m)
	}
}

func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Value != nil {
		s := string(o.Value)
		if len(s) >= 2 && s[0] == '"' {
			var u string
			if err := json.Unmarshal(o.Value, &u); err == nil {
				return u
			}
		}
		return s
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// Document is the response of a page's main document, as the browser received it.
type Document struct {
	URL      string
	Status   int
	MimeType string
	Protocol string
	Header   http.Header
}

// Document returns the response of the main document of the last navigation (Open, Navigate, Click), or
// nil if none was seen (e.g. about:blank).
func (p *Page) Document() *Document {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.docs[p.mainFrame]
	if r == nil {
		return nil
	}
	return &Document{URL: r.URL, Status: int(r.Status), MimeType: r.MimeType, Protocol: r.Protocol,
		Header: toHeader(r.Headers)}
}

// Status returns the HTTP status code of the main document of the last navigation, 0 if none. After
// redirects it is the final response's (a 303 to a page that answers 200 gives 200).
func (p *Page) Status() int {
	if d := p.Document(); d != nil {
		return d.Status
	}
	return 0
}

// Header returns the response headers of the main document of the last navigation (canonical keys; a
// header sent several times has several values), or an empty header if none. Chromium may leave out
// Set-Cookie: read cookies with Cookies.
func (p *Page) Header() http.Header {
	if d := p.Document(); d != nil {
		return d.Header
	}
	return http.Header{}
}

func toHeader(h network.Headers) http.Header {
	out := http.Header{}
	for k, v := range h {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		// DevTools joins the values of a repeated header with newlines.
		for _, part := range strings.Split(s, "\n") {
			out.Add(k, part)
		}
	}
	return out
}

// Messages returns everything logged for the page so far (see Message), after letting the browser
// deliver what it had queued.
func (p *Page) Messages(t testing.TB) []Message {
	t.Helper()
	p.settle(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.messages...)
}

// CSPViolations returns the Content-Security-Policy violations reported for the page so far: the
// browser log's security errors ("... violates the following Content Security Policy directive ...")
// and the DevTools CSP issues. One violation usually gives one of each.
func (p *Page) CSPViolations(t testing.TB) []Message {
	t.Helper()
	var out []Message
	for _, m := range p.Messages(t) {
		if m.IsCSPViolation() {
			out = append(out, m)
		}
	}
	return out
}

// JSErrors returns the uncaught exceptions and console.error calls of the page so far.
func (p *Page) JSErrors(t testing.TB) []Message {
	t.Helper()
	var out []Message
	for _, m := range p.Messages(t) {
		if m.IsJSError() {
			out = append(out, m)
		}
	}
	return out
}

// NoCSPViolations fails the test if the page reported a CSP violation or a JavaScript error.
func (p *Page) NoCSPViolations(t testing.TB) {
	t.Helper()
	var bad []string
	for _, m := range p.Messages(t) {
		if m.IsCSPViolation() || m.IsJSError() {
			bad = append(bad, m.String())
		}
	}
	if len(bad) > 0 {
		t.Errorf("webtest: %s: CSP violations or JS errors:\n  %s", p.CurrentURL(t), strings.Join(bad, "\n  "))
	}
}

// settle makes sure the events the browser sent before now have been handled: a command's reply comes
// after them on the same connection, and a short pause lets the renderer flush console messages that
// it queues asynchronously.
func (p *Page) settle(t testing.TB) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if _, err := run(p, chromedp.Location()); err != nil {
		t.Fatalf("webtest: %v", err)
	}
}

// Text returns the rendered text of the first element matching the CSS selector (innerText for HTML
// elements, textContent for SVG ones, whose text has no innerText), waiting for it to exist.
func (p *Page) Text(t testing.TB, selector string) string {
	t.Helper()
	s, err := callOnFirst[string](p, selector,
		`function() { return this instanceof HTMLElement ? this.innerText : this.textContent; }`)
	if err != nil {
		t.Fatalf("webtest: Text(%q) on %s: %v", selector, p.CurrentURL(t), err)
	}
	return s
}

// callOnFirst waits for an element matching the CSS selector and calls the JavaScript function on it
// (as this), reading the live DOM: chromedp's own attribute actions read a copy that DOM events keep up
// to date, which can lag behind a click.
func callOnFirst[T any](p *Page, selector, function string) (T, error) {
	return run(p, chromedp.QueryAfter(chromedp.CSS(selector),
		func(ctx context.Context, tg *chromedp.Target, nodes []*chromedp.Node) (T, error) {
			var zero T
			if len(nodes) == 0 {
				return zero, chromedp.ErrNoResults
			}
			obj, err := cdp.Call(ctx, tg, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
			if err != nil {
				return zero, err
			}
			return chromedp.CallFunctionOn[T](function,
				func(cp *runtime.CallFunctionOnParams) { cp.ObjectID = obj.Object.ObjectID })(ctx, tg)
		}))
}

// Count returns how many elements match the CSS selector now (it does not wait).
func (p *Page) Count(t testing.TB, selector string) int {
	t.Helper()
	n, err := run(p, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%s).length", jsString(selector))))
	if err != nil {
		t.Fatalf("webtest: Count(%q): %v", selector, err)
	}
	return n
}

// Attr returns an attribute of the first element matching the CSS selector, and whether it is set.
func (p *Page) Attr(t testing.TB, selector, name string) (string, bool) {
	t.Helper()
	r, err := callOnFirst[[]any](p, selector,
		fmt.Sprintf(`function() { const v = this.getAttribute(%s); return [v ?? "", v !== null]; }`, jsString(name)))
	if err != nil || len(r) != 2 {
		t.Fatalf("webtest: Attr(%q, %q): %v", selector, name, err)
	}
	v, _ := r[0].(string)
	ok, _ := r[1].(bool)
	return v, ok
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// HTML returns the serialized DOM of the whole document (<html>...</html>).
func (p *Page) HTML(t testing.TB) string {
	t.Helper()
	s, err := run(p, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatalf("webtest: HTML: %v", err)
	}
	return s
}

// Title returns the document's title.
func (p *Page) Title(t testing.TB) string {
	t.Helper()
	s, err := run(p, chromedp.Title())
	if err != nil {
		t.Fatalf("webtest: Title: %v", err)
	}
	return s
}

// CurrentURL returns the URL of the document now shown.
func (p *Page) CurrentURL(t testing.TB) string {
	t.Helper()
	s, err := run(p, chromedp.Location())
	if err != nil {
		t.Fatalf("webtest: CurrentURL: %v", err)
	}
	return s
}

// Click clicks (with the mouse, as a person would) the first visible element matching the CSS
// selector, and waits until the navigation it starts has loaded: a link, a submit button. The click
// must navigate; for one that does not, use ClickNoWait.
func (p *Page) Click(t testing.TB, selector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		t.Fatalf("webtest: Click(%q) on %s: %v (a click that does not navigate needs ClickNoWait)",
			selector, p.CurrentURL(t), err)
	}
}

// ClickNoWait clicks the first visible element matching the CSS selector and returns at once (e.g. a
// <summary>, a checkbox's label).
func (p *Page) ClickNoWait(t testing.TB, selector string) {
	t.Helper()
	if err := p.do(chromedp.Click(chromedp.CSS(selector))); err != nil {
		t.Fatalf("webtest: ClickNoWait(%q): %v", selector, err)
	}
}

// Cookies returns the cookies the browser would send to the page's current URL, HttpOnly ones included,
// by name.
func (p *Page) Cookies(t testing.TB) []*network.Cookie {
	t.Helper()
	res, err := run(p, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
	})
	if err != nil {
		t.Fatalf("webtest: Cookies: %v", err)
	}
	sortCookies(res.Cookies)
	return res.Cookies
}

func sortCookies(cs []*network.Cookie) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
}

// Cookie returns the cookie of that name for the page's current URL, or nil.
func (p *Page) Cookie(t testing.TB, name string) *network.Cookie {
	t.Helper()
	for _, c := range p.Cookies(t) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SetCookie sets a cookie as if the page's current URL had set it (Domain and Path default from it).
// It is sent from the next request on.
func (p *Page) SetCookie(t testing.TB, c *http.Cookie) {
	t.Helper()
	u := p.CurrentURL(t)
	_, err := run(p, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.SetCookie, cookieParams(u, c))
	})
	if err != nil {
		t.Fatalf("webtest: SetCookie %s: %v", c.Name, err)
	}
}

// Screenshot writes a PNG of the whole page (not only the viewport: the full scrollable width and
// height, one pixel per CSS pixel) to path, creating its folder, and returns the image's size.
func (p *Page) Screenshot(t testing.TB, path string) (width, height int) {
	t.Helper()
	buf, err := run(p, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, tg, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		w, h := float64(Width), float64(Height)
		if cs := m.CSSContentSize; cs != nil {
			w, h = math.Max(w, math.Ceil(cs.Width)), math.Max(h, math.Ceil(cs.Height))
		}
		r, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &page.Viewport{X: 0, Y: 0, Width: w, Height: h, Scale: 1},
			CaptureBeyondViewport: new(true),
			FromSurface:           new(true),
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	})
	if err != nil {
		t.Fatalf("webtest: Screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("webtest: Screenshot: the browser sent no PNG: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

// syncBuffer collects the browser's output; chromedp writes to it from its own goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the first MiB
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
