// Package web is the web family: read-only pages a team keeps open (the board, incidents, availability,
// services, deploys, on call), a public status page for the rest of the company, and the on-call calendar
// feed. Pages are rendered by the server from the store with html/template, their stylesheet is embedded,
// and they need no JavaScript. People log in with a one-time link that !web sends in private; the family
// keeps its logins in the store through Store and reads what it shows through Links. Like every family it
// knows neither IRC nor bbolt.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// Defaults and limits of the web pages.
const (
	// DefaultSessionTTL is web.session_ttl's default: a browser stays logged in for 30 days.
	DefaultSessionTTL = 30 * 24 * time.Hour
	// LoginTTL is how long a login link from !web stays valid.
	LoginTTL = 10 * time.Minute
	// CalendarWeeks is how far ahead the on-call page shows the rotation; FeedWeeks the calendar feed.
	CalendarWeeks = 8
	FeedWeeks     = 12
)

// Config is the [web] config section, with what the family needs from other sections.
type Config struct {
	// BaseURL is web.base_url ("https://opsbot.example.net"): login links, calendar feeds and chat links
	// point here, and the session cookie is Secure when it is https. Empty: LocalURL.
	BaseURL string
	// LocalURL, when BaseURL is empty, says where the HTTP server listens ("http://127.0.0.1:8080"), for
	// links used on the bot's own machine; nil or "": there are no links to give.
	LocalURL func() string
	// PublicStatus serves /status, its summary.json and its feed without login (web.public_status).
	PublicStatus bool
	// SessionTTL is how long a browser stays logged in (web.session_ttl; 0: DefaultSessionTTL).
	SessionTTL time.Duration
	// TrustLoopback lets requests from this machine in without a session, as the API does without a token
	// (web.trust_loopback); false behind a reverse proxy, whose requests all come from loopback.
	TrustLoopback bool
	// APIToken is http.api_token: scripts that send it as a Bearer token read the pages too.
	APIToken string
	// Nick is the bot's nick, for the "ask opsbot for a link" page.
	Nick string
	// WIPLimit is requests.wip_limit, shown against each person's work on the board.
	WIPLimit int
	// Weights are availability.weights.
	Weights store.SeverityWeights
	// StatusTitle heads the public status page (default "Service status").
	StatusTitle string
}

// Store is what the family keeps: login links, browser sessions and calendar feed tokens.
type Store interface {
	AddWebLogin(token, account string, expires time.Time) error
	WebLogin(token string, now time.Time) (string, error)
	ConsumeWebLogin(token, session string, now time.Time, ttl time.Duration) (store.WebSession, error)
	WebSession(session string, now time.Time) (store.WebSession, error)
	EndWebSessions(account string) (sessions, links int, err error)
	PruneWeb(now time.Time) (int, error)
	ICalTokenOf(account, fresh string, now time.Time) (store.ICalToken, error)
	ResetICalToken(account, fresh string, now time.Time) (store.ICalToken, error)
	ICalAccount(token string) (string, error)
}

// Links are the other families' records the pages show (nil: that part says "no data").
type Links struct {
	Requests    Requests
	Incidents   Incidents
	Services    Services
	Deploys     Deploys
	Pages       Pages
	OnCall      OnCall
	Handoffs    Handoffs
	Meetings    Meetings
	Postmortems Postmortems
	Alerts      Alerts
	Windows     Windows
}

// Requests are the requests family's records (the store).
type Requests interface {
	RequestBoard(n int, since time.Time) (store.RequestBoard, error)
	OpenRequests(state store.RequestState) ([]store.Request, error)
	ClosedRequests(st store.RequestState, page, per int) ([]store.Request, int, error)
	Request(id uint64) (store.Request, error)
}

// Incidents are the incidents family's records and the availability computed from them (the store).
type Incidents interface {
	FindIncidents(q store.IncidentQuery) ([]store.Incident, bool, error)
	OpenIncidentList() ([]store.Incident, error)
	Incident(id uint64) (store.Incident, error)
	IncidentTimeline(id uint64, n int) ([]store.TimelineEntry, error)
	AvailabilityDaysOf(services []string, bounds []time.Time, w store.SeverityWeights) ([]store.ServiceDays, error)
}

// Services is the service catalogue (the store).
type Services interface {
	Services() ([]store.Service, error)
	Impact(name string) (store.Impact, error)
}

// Deploys is the deploy ledger (the store).
type Deploys interface {
	CurrentDeploys() (map[string][]store.DeployCurrent, error)
	DeployOverview() ([]store.Deploy, []store.DeployLock, error)
	RecentDeploys(n int) ([]store.Deploy, error)
	DeployHistory(service string, n int) ([]store.Deploy, error)
	DeploysStartedBetween(service string, from, to time.Time) ([]store.Deploy, error)
}

// Pages are the paging family's pages (the store).
type Pages interface {
	GetPage(id uint64) (store.Page, error)
}

// OnCall are the on-call schedules (the paging family): who is on call in each, and its shifts and
// overrides. A schedule's name "" is the default one; an unknown one is an error.
type OnCall interface {
	ScheduleNames() []string // the default schedule first
	ScheduleOnCall(schedule string, t time.Time) (store.OnCallState, error)
	Calendar(schedule string, from, to time.Time) ([]store.Shift, []store.Override, error)
	ScheduleZone(schedule string) (*time.Location, error)
}

// Handoffs are the handoff family: what the person on call in a schedule would hand over now.
type Handoffs interface {
	HandoffNow(schedule string) ([]string, error)
}

// Alerts are the alert groups from Alertmanager (the store, from the alerts family's records).
type Alerts interface {
	FiringAlertGroups() ([]store.AlertGroup, error)
}

// Windows are the maintenance windows (the store, from the maintenance family's records).
type Windows interface {
	OpenWindows() ([]store.Window, error)
}

// Meetings are the weekly meetings (the reminders family).
type Meetings interface {
	List(now time.Time) ([]commands.ReminderView, error)
}

// Postmortems render an incident's postmortem skeleton (the incidents family).
type Postmortems interface {
	Postmortem(id uint64) (string, error)
}

// Web is the web family.
type Web struct {
	rt     commands.Runtime
	cfg    Config
	st     Store
	links  Links
	pages  map[string]*template.Template
	static http.Handler
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// New builds the web family; it fails only when a template does not parse.
func New(rt commands.Runtime, st Store, cfg Config, links Links) (*Web, error) {
	rt = rt.WithDefaults()
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Weights == (store.SeverityWeights{}) {
		cfg.Weights = store.DefaultWeights
	}
	if cfg.Nick == "" {
		cfg.Nick = "opsbot"
	}
	if cfg.StatusTitle == "" {
		cfg.StatusTitle = "Service status"
	}
	x := &Web{rt: rt, cfg: cfg, st: st, links: links}
	var err error
	if x.pages, err = parseTemplates(x.funcs()); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	x.static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
	return x, nil
}

// Family offers !web, !web logout and !oncall ical, the pages, the status page and the calendar feed (each
// authenticates its callers itself, so every route is Open), and a job that forgets expired logins.
func (x *Web) Family() commands.Family {
	team := func(h pageHandler) http.Handler { return x.team(h) }
	routes := []commands.Route{
		{Pattern: "GET /{$}", Handler: team(x.overview)},
		{Pattern: "GET /board", Handler: team(x.board)},
		{Pattern: "GET /requests/{id}", Handler: team(x.request)},
		{Pattern: "GET /incidents", Handler: team(x.incidents)},
		{Pattern: "GET /incidents/{id}", Handler: team(x.incident)},
		{Pattern: "GET /incidents/{id}/postmortem", Handler: team(x.postmortem)},
		{Pattern: "GET /availability", Handler: team(x.availability)},
		{Pattern: "GET /services", Handler: team(x.services)},
		{Pattern: "GET /services/{name}", Handler: team(x.service)},
		{Pattern: "GET /deploys", Handler: team(x.deploys)},
		{Pattern: "GET /oncall", Handler: team(x.oncall)},
		{Pattern: "GET /oncall.ics", Handler: x.secured(http.HandlerFunc(x.feed))},
		{Pattern: "GET /login", Handler: x.secured(http.HandlerFunc(x.askForLink))},
		{Pattern: "GET /login/{token}", Handler: x.secured(http.HandlerFunc(x.loginPage))},
		{Pattern: "POST /login/{token}", Handler: x.secured(http.HandlerFunc(x.login))},
		{Pattern: "GET /static/", Handler: x.secured(x.static)},
		{Pattern: "GET /status", Handler: x.public(x.statusPage)},
		{Pattern: "GET /status/summary.json", Handler: x.public(x.statusSummary)},
		{Pattern: "GET /status/history.atom", Handler: x.public(x.statusFeed)},
	}
	for i := range routes {
		routes[i].Open = true
	}
	return commands.Family{Name: "web", Commands: x.commands(), Routes: routes, Jobs: []commands.Job{
		{Name: "web logins", Every: time.Hour, Run: func(_ context.Context, now time.Time) error {
			_, err := x.st.PruneWeb(now)
			return err
		}},
	}}
}

// baseURL is where links point: web.base_url, else the local listener, else "".
func (x *Web) baseURL() string {
	if x.cfg.BaseURL != "" {
		return strings.TrimRight(x.cfg.BaseURL, "/")
	}
	if x.cfg.LocalURL != nil {
		return strings.TrimRight(x.cfg.LocalURL(), "/")
	}
	return ""
}

// secure reports whether the pages are reached over https (the session cookie is then Secure).
func (x *Web) secure() bool { return strings.HasPrefix(strings.ToLower(x.cfg.BaseURL), "https://") }

// errNoLinks is the answer when there is nowhere for a link to point.
func errNoLinks() error {
	return commands.Errorf("error: the web pages have no address: set web.base_url (or http.listen) in the config")
}

// zone is the time zone pages show times in (bot.timezone).
func (x *Web) zone() *time.Location { return x.rt.Location }
