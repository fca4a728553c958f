package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/demo"
)

// testNow is the demo's "now" in these tests: a Thursday afternoon in Stockholm.
var testNow = time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC)

// harness is the web family over a store holding the demo history, served by an httptest server on
// loopback, linked to the other families as the bot links them.
type harness struct {
	t    *testing.T
	st   *store.Store
	web  *Web
	srv  *httptest.Server
	now  time.Time
	disp *commands.Dispatcher
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, nil)
}

// newHarnessWith is newHarness with on-call schedules besides the default one (the demo's rotation).
func newHarnessWith(t *testing.T, cfg Config, schedules []commands.Schedule) *harness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := demo.Seed(st, testNow); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, now: testNow}
	st.Now = func() time.Time { return h.now }
	loc, _ := time.LoadLocation("Europe/Stockholm")
	rt := commands.Runtime{Now: func() time.Time { return h.now }, Location: loc, Channel: "#operations",
		Roles: commands.NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil),
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil))}
	paging := commands.NewPaging(rt, st, commands.PagingConfig{Rotation: demo.Rotation(), Schedules: schedules}, commands.PagingLinks{Catalog: st})
	incidents := commands.NewIncidents(rt, st, commands.IncidentConfig{}, commands.IncidentLinks{Catalog: st, Deploys: st, SLOs: st})
	handoffs := commands.NewHandoffs(rt, st, commands.HandoffConfig{}, paging, paging, incidents)
	reminders, err := commands.NewReminders(rt, st, commands.ReminderConfig{Seeds: []store.Reminder{{Name: "retro",
		Schedule: "CRON_TZ=Europe/Stockholm 0 15 * * FRI", Channel: "#operations", Text: "Weekly retrospective in 15 minutes", Agenda: "retro"}}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WIPLimit == 0 {
		cfg.WIPLimit = 3
	}
	if cfg.Nick == "" {
		cfg.Nick = "opsbot"
	}
	if cfg.LocalURL == nil {
		cfg.LocalURL = func() string { return h.srv.URL }
	}
	w, err := New(rt, st, cfg, Links{Requests: st, Incidents: st, Services: st, Deploys: st, Pages: st, OnCall: paging,
		Handoffs: handoffs, Meetings: reminders, Postmortems: incidents, Alerts: st, Windows: st})
	if err != nil {
		t.Fatal(err)
	}
	h.web = w
	set, err := commands.NewSet(rt, w.Family())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range set.Routes {
		mux.Handle(r.Pattern, r.Handler)
	}
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	h.disp = commands.NewDispatcher(set.Registry, commands.DispatcherOptions{Prefix: "!", Roles: rt.Roles, Now: rt.Now})
	return h
}

// get fetches a path without following redirects, with the given headers.
func (h *harness) get(path string, header ...string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest("GET", h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// say runs a command as account, in private unless channel is given, and returns the replies and errors.
func (h *harness) say(account, text string) []string {
	h.t.Helper()
	buf := &commands.Buffer{}
	h.disp.Dispatch(context.Background(), commands.Message{Caller: commands.Caller{Account: account, Nick: account}, Text: text}, buf)
	return append(buf.Lines, buf.Errors...)
}

func (h *harness) sayIn(channel, account, text string) []string {
	h.t.Helper()
	buf := &commands.Buffer{}
	h.disp.Dispatch(context.Background(), commands.Message{Caller: commands.Caller{Account: account, Nick: account}, Text: text, Channel: channel}, buf)
	return append(buf.Lines, buf.Errors...)
}

func TestEveryPageRendersFromTheStore(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true, PublicStatus: true})
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/", []string{"On call", "bob", "INC-10", "search p99 latency 4s", "Next meeting", "retro", "db migration until Friday", "rolled back from 7.3",
			"Firing alerts", "HighLatency", "DiskWillFillIn4Hours", "runbooks/HighLatency",
			"Maintenance", "M-1", "rotating the token signing keys", "in progress", "Postgres 16 upgrade", "during maintenance M-1"}},
		{"/board", []string{"disk full on db3", "upgrade the playlist database", "waiting for the vendor&#39;s cross-connect", "Done this week", "3 / 3"}},
		{"/requests/R-1", []string{"R-1", "History", "took it (doing)", "finished it (done)"}},
		{"/incidents", []string{"INC-10", "INC-1", "storage cluster lost quorum"}},
		{"/incidents?service=search&window=all", []string{"INC-10", "INC-6", "INC-2"}},
		{"/incidents/INC-10", []string{"search p99 latency 4s", "GC pauses on search-3", "public", "P-1", "Deploys in the 24 h before", "7.3 prod"}},
		{"/incidents/INC-3/postmortem", []string{"Postmortem: INC-3 SEV1 on storage, playlist, radio", "## Timeline"}},
		{"/availability", []string{"<svg", "SLO 99.9%", "error budget", "playlist"}},
		{"/availability?days=365&service=storage", []string{"365 days", "storage", "INC-3"}},
		{"/services", []string{"<svg", "mobile-api", "team-payments", "public"}},
		{"/services/storage", []string{"If storage fails", "playlist", "web", "class=\"node impact\"", "class=\"node focus\""}},
		{"/deploys", []string{"What runs where", "1.42", "rolled back to 7.2", "radio", "50%", "db migration until Friday",
			"during maintenance M-1"}},
		{"/oncall", []string{"bob", "alice", "carol", "override by alice", "calendar"}},
		{"/status", []string{"Partial outage", "search", "Search is slow for some users", "uptime"}},
	} {
		resp, body := h.get(tt.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d:\n%.2000s", tt.path, resp.StatusCode, body)
			continue
		}
		for _, want := range tt.want {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: no %q in the page", tt.path, want)
			}
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("GET %s: Content-Security-Policy %q", tt.path, got)
		}
	}
}

// The times the store wrote into a timeline ("impact since", in RFC 3339) are shown in the page's zone.
func TestIncidentTimelineInThePageZone(t *testing.T) {
	h := newHarness(t, Config{TrustLoopback: true})
	_, body := h.get("/incidents/INC-10")
	if got := regexp.MustCompile(`\(impact since [^)]*\)`).FindString(body); !regexp.MustCompile(`^\(impact since \w{3} \d{1,2} \w{3} \d\d:\d\d \w+\)$`).MatchString(got) {
		t.Errorf("the declaration's entry says %q, want the page's stamp", got)
	}
}
