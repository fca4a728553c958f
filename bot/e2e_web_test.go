package bot

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/bot/webtest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/web"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/demo"
)

// webBot starts a bot on the test network over a store holding the demo's history, with the web pages on
// web.base_url = its own loopback address, loopback not trusted (as behind a reverse proxy) and the public
// status page on.
func webBot(t *testing.T, n *irctest.Network) (*runningBot, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	st := openSeededStore(t)
	o := testOptions(t, n.Addr)
	o.HTTPListen, o.BaseURL = addr, base
	o.Location, _ = time.LoadLocation("Europe/Stockholm")
	o.Paging = commands.PagingConfig{Rotation: demo.Rotation()}
	o.Reminders = commands.ReminderConfig{Seeds: []store.Reminder{{Name: "retro", Schedule: "CRON_TZ=Europe/Stockholm 0 15 * * FRI",
		Channel: "#operations", Text: "Weekly retrospective in 15 minutes", Agenda: "retro"}}}
	o.Web = web.Config{BaseURL: base, PublicStatus: true}
	rb := startBotOn(t, o, st)
	rb.waitJoined(t, "#operations")
	return rb, base
}

// openSeededStore is a store in t.TempDir() with the demo's history up to now.
func openSeededStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(st, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}

// screenshotDir is where the pages' screenshots go: $OPSBOT_SCREENSHOTS (make screenshots writes
// docs/screenshots), else the test's temp dir.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("OPSBOT_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

var loginLinkRE = regexp.MustCompile(`http://\S+/login/[A-Za-z0-9_-]{43}`)

// TestE2EWebPages logs in with the link a real IRC client got from !web, in a real browser, opens every
// page and checks what it shows against the store, checks the status page and the "ask opsbot for a link"
// page without a session, saves a screenshot of each page, and checks that used, forged and unknown
// credentials are refused.
func TestE2EWebPages(t *testing.T) {
	n := irctest.Start(t)
	rb, base := webBot(t, n)
	st := rb.Store
	alice := joinedClient(t, n, "alice", true)
	b := webtest.Start(t)
	shots := screenshotDir(t)
	shot := func(p *webtest.Page, name string) {
		t.Helper()
		p.NoCSPViolations(t)
		w, h := p.Screenshot(t, filepath.Join(shots, name+".png"))
		if w < webtest.Width || h < 200 {
			t.Errorf("%s: screenshot %dx%d", name, w, h)
		}
	}

	// Without a session: a team page sends the browser to the page that says how to get a link, and the
	// public status page needs none.
	p := b.Open(t, base+"/board")
	if !strings.HasSuffix(p.CurrentURL(t), "/login") || !strings.Contains(p.Text(t, "main"), "Ask opsbot for a link") {
		t.Fatalf("/board without a session ended at %s: %q", p.CurrentURL(t), p.Text(t, "main"))
	}
	if !strings.Contains(p.Text(t, "pre"), "/msg opsbot web") {
		t.Errorf("the login page does not say what to type: %q", p.Text(t, "main"))
	}
	shot(p, "login")
	p = b.Open(t, base+"/status")
	if got := p.Text(t, "#banner"); p.Status() != 200 || got != "Partial outage" {
		t.Errorf("/status without a session = %d, banner %q", p.Status(), got)
	}
	statusText := p.Text(t, "body")
	for _, secret := range []string{"alice", "carol", "GC pauses", "storage cluster lost quorum", "p99"} {
		if strings.Contains(statusText, secret) {
			t.Errorf("the public status page shows %q", secret)
		}
	}
	if got := p.Text(t, "#svc-auth .head"); !strings.Contains(got, "Under maintenance") {
		t.Errorf("status: auth, in a maintenance window, is %q", got)
	}
	if p.Count(t, ".component") != 5 || p.Count(t, ".component svg.strip rect") != 5*90 {
		t.Errorf("status: %d components with %d bars, want the 5 public services with 90 days each",
			p.Count(t, ".component"), p.Count(t, ".component svg.strip rect"))
	}
	shot(p, "status")

	// The login link, as alice's IRC client receives it.
	alice.Say("#operations", "!web")
	if l := alice.Expect(wait, irctest.From("opsbot")); !strings.Contains(l.Text(), "ask in private") {
		t.Errorf("!web in the channel = %q", l.Text())
	}
	alice.Say("opsbot", "web")
	l := alice.Expect(wait, irctest.FromContaining("opsbot", "/login/"))
	link := loginLinkRE.FindString(l.Text())
	if link == "" || !strings.HasPrefix(link, base+"/login/") {
		t.Fatalf("!web answered %q", l.Text())
	}
	p = b.Open(t, link)
	if got := p.Text(t, "h1"); got != "Log in as alice" {
		t.Fatalf("the link's page says %q", got)
	}
	p.Click(t, "#login")
	if got := p.CurrentURL(t); got != base+"/" {
		t.Fatalf("after logging in the browser is at %s", got)
	}
	if got := p.Text(t, "#viewer"); got != "alice" {
		t.Errorf("logged in as %q", got)
	}
	c := p.Cookie(t, web.SessionCookie)
	if c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Secure || c.Expires < float64(time.Now().Add(29*24*time.Hour).Unix()) {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, for 30 days", c)
	}

	// Every page, checked against the store.
	now := time.Now()
	oc, err := st.OnCallNow(demo.Rotation(), now)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := st.OpenIncidentList()
	if got := p.Text(t, "#oncall .big"); got != oc.Account {
		t.Errorf("overview: on call %q, store %q", got, oc.Account)
	}
	if got := p.Count(t, "#incidents tbody tr"); got != len(open) {
		t.Errorf("overview: %d open incidents, store %d", got, len(open))
	}
	windows, _ := st.OpenWindows()
	if got := p.Count(t, "#maintenance li"); got != len(windows) || got == 0 {
		t.Errorf("overview: %d maintenance windows, store %d", got, len(windows))
	}
	firing, _ := st.FiringAlertGroups()
	if got := p.Count(t, "#alerts tbody tr"); got != len(firing) || got == 0 {
		t.Errorf("overview: %d firing alert groups, store %d", got, len(firing))
	}
	shot(p, "overview")

	p.Navigate(t, base+"/board")
	for _, col := range []store.RequestState{store.RequestTodo, store.RequestDoing, store.RequestBlocked} {
		rs, _ := st.OpenRequests(col)
		if got := p.Count(t, "#"+string(col)+" .card"); got != len(rs) {
			t.Errorf("board: %d cards in %s, store %d", got, col, len(rs))
		}
	}
	if got := p.Text(t, "#doing"); !strings.Contains(got, "carol") || !strings.Contains(got, "3 / 3") {
		t.Errorf("board: doing shows no WIP against the limit: %q", got)
	}
	shot(p, "board")
	p.Click(t, "#blocked .card")
	if !strings.Contains(p.CurrentURL(t), "/requests/R-") || p.Count(t, "#history li") == 0 {
		t.Errorf("a card leads to %s with %d history entries", p.CurrentURL(t), p.Count(t, "#history li"))
	}
	shot(p, "request")

	inc := open[0]
	tl, _ := st.IncidentTimeline(inc.ID, 0)
	p.Navigate(t, base+"/incidents")
	if got := p.Count(t, "table.incidents tbody tr"); got < 9 {
		t.Errorf("incidents: %d rows, want every incident of the last 90 days", got)
	}
	shot(p, "incidents")
	p.Navigate(t, base+"/incidents/"+inc.Name())
	if got := p.Count(t, "#timeline li"); got != len(tl) {
		t.Errorf("incident: %d timeline entries, store %d", got, len(tl))
	}
	if got := p.Text(t, "#summary"); got != inc.Summary {
		t.Errorf("incident: summary %q, store %q", got, inc.Summary)
	}
	shot(p, "incident")
	p.Click(t, "#postmortem")
	if got := p.Text(t, "#markdown"); !strings.Contains(got, "# Postmortem: "+inc.Name()) {
		t.Errorf("postmortem: %.200q", got)
	}

	p.Navigate(t, base+"/availability")
	loc, _ := time.LoadLocation("Europe/Stockholm")
	l0 := time.Now().In(loc)
	from := time.Date(l0.Year(), l0.Month(), l0.Day()-89, 0, 0, 0, 0, loc)
	a, err := st.Availability("storage", from, time.Now(), store.DefaultWeights)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Text(t, "#svc-storage h2"); !strings.Contains(got, commands.FormatPercent(a.Percent)+" over 90 days") {
		t.Errorf("availability of storage: %q, store %s", got, commands.FormatPercent(a.Percent))
	}
	if got := p.Count(t, "#svc-storage svg rect.bar"); got != 90 {
		t.Errorf("availability chart of storage has %d bars, want 90", got)
	}
	if got := p.Count(t, "#svc-storage svg line.slo"); got != 1 {
		t.Errorf("availability chart of storage has %d SLO lines", got)
	}
	shot(p, "availability")

	svcs, _ := st.Services()
	p.Navigate(t, base+"/services")
	if got := p.Count(t, "#catalogue tbody tr"); got != len(svcs) {
		t.Errorf("services: %d rows, store %d", got, len(svcs))
	}
	if got := p.Count(t, "svg.graph a.node"); got != len(svcs) {
		t.Errorf("services graph: %d nodes, store %d services", got, len(svcs))
	}
	shot(p, "services")
	im, _ := st.Impact("storage")
	p.Navigate(t, base+"/services/storage")
	if got := p.Count(t, "svg.graph a.node.impact"); got != len(im.Dependents) {
		t.Errorf("storage's graph marks %d services as failing with it, !impact lists %d", got, len(im.Dependents))
	}
	shot(p, "service")

	p.Navigate(t, base+"/deploys")
	v, _ := st.CurrentVersion("playlist", "prod")
	if got := p.Text(t, "#current"); !strings.Contains(got, v) || !strings.Contains(got, "rolling out 2.3 at 50%") {
		t.Errorf("deploys: %q lacks playlist %s or radio's rollout", got, v)
	}
	if got := p.Text(t, "#history"); !strings.Contains(got, "rolled back to 7.2") {
		t.Errorf("deploys history lacks the rollback")
	}
	shot(p, "deploys")

	p.Navigate(t, base+"/oncall")
	if got := p.Text(t, "#now"); !strings.HasPrefix(got, oc.Account+" until") {
		t.Errorf("oncall: %q, store %s", got, oc.Account)
	}
	if got := p.Count(t, "#calendar tbody tr"); got != web.CalendarWeeks {
		t.Errorf("oncall calendar has %d weeks", got)
	}
	shot(p, "oncall")

	// Chat links point to the pages.
	alice.Say("#operations", "!request list")
	more := alice.Expect(wait, irctest.FromContaining("opsbot", "... and "))
	if !strings.HasSuffix(more.Text(), "more ("+base+"/board)") {
		t.Errorf("a cut listing ends %q, want the board's URL", more.Text())
	}
	alice.Say("#operations", "!incident show "+inc.Name())
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", inc.Name()+" SEV")); !strings.HasSuffix(l.Text(), " "+base+"/incidents/"+inc.Name()) {
		t.Errorf("!incident show = %q, want it to end with the incident's URL", l.Text())
	}

	// Refused: the used link, a forged one, a cookie this opsbot never issued; and after !web logout.
	p.Navigate(t, link)
	if p.Status() != http.StatusForbidden || !strings.Contains(p.Text(t, "#refused"), "does not work") {
		t.Errorf("the used link = %d", p.Status())
	}
	p.Navigate(t, base+"/login/"+strings.Repeat("x", 43))
	if p.Status() != http.StatusForbidden {
		t.Errorf("a forged link = %d", p.Status())
	}
	alice.Say("opsbot", "web logout")
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", "logged out")); l.Text() != "logged out of the web pages (1 browser)" {
		t.Errorf("!web logout = %q", l.Text())
	}
	p.Navigate(t, base+"/board")
	if !strings.HasSuffix(p.CurrentURL(t), "/login") {
		t.Errorf("after !web logout /board is %s", p.CurrentURL(t))
	}
	b.SetCookie(t, base, &http.Cookie{Name: web.SessionCookie, Value: "c29tZW9uZSBlbHNlJ3Mgc2Vzc2lvbg", Path: "/", HttpOnly: true})
	p.Navigate(t, base+"/")
	if !strings.HasSuffix(p.CurrentURL(t), "/login") {
		t.Errorf("with an unknown session cookie / is %s", p.CurrentURL(t))
	}

	// The calendar feed with the URL !oncall ical gives, read by an independent iCalendar parser.
	alice.Say("opsbot", "oncall ical")
	l = alice.Expect(wait, irctest.FromContaining("opsbot", "the whole rotation: "))
	feed := strings.TrimPrefix(l.Text(), "the whole rotation: ")
	cal := webtest.FetchICS(t, feed)
	if got := len(cal.Events()); got < web.FeedWeeks {
		t.Errorf("the feed has %d events, want at least %d weekly shifts", got, web.FeedWeeks)
	}
	t.Logf("screenshots in %s", shots)
}
