// Package demo fills a store with a few months of plausible ops history, so that `make run`, the web pages'
// screenshots and their browser tests all have something on every page: services with owners, SLOs and
// dependencies (some on the public status page), requests in every column of the board, incidents (one
// open, more resolved over 90 days, some with public updates), deploys with a rollback and locks, and an
// on-call override. Everything goes through the store's own methods with the clock turned back, so the
// records are what the commands would have written at those times.
package demo

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/opsbot/opsbot/store"
)

// Rotation is the demo's on-call rotation (scripts/demo.toml.in has the same).
func Rotation() store.Rotation {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		loc = time.UTC
	}
	return store.Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: loc}
}

// Service is one service of the demo catalogue.
type Service struct {
	Name, Owner string
	SLO         float64
	Public      bool
	Depends     []string
}

// Services is the demo catalogue.
var Services = []Service{
	{Name: "storage", Owner: "carol", SLO: 99.95},
	{Name: "cache", Owner: "carol", Depends: []string{"storage"}},
	{Name: "auth", Owner: "alice", SLO: 99.95, Public: true, Depends: []string{"storage"}},
	{Name: "playlist", Owner: "bob", SLO: 99.9, Public: true, Depends: []string{"storage", "cache"}},
	{Name: "search", Owner: "dave", SLO: 99.5, Public: true, Depends: []string{"playlist"}},
	{Name: "radio", Owner: "erin", SLO: 99.5, Depends: []string{"playlist", "storage"}},
	{Name: "billing", Owner: "team-payments", SLO: 99.99, Depends: []string{"auth", "storage"}},
	{Name: "web", Owner: "team-frontend", SLO: 99.9, Public: true, Depends: []string{"search", "radio", "auth"}},
	{Name: "mobile-api", Owner: "team-mobile", SLO: 99.9, Public: true, Depends: []string{"search", "auth", "billing"}},
}

// clock is the store's clock while seeding: set to the moment each record is written.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// Seeded reports whether the store already holds the demo (its catalogue), so a restarted demo keeps
// its data.
func Seeded(st *store.Store) (bool, error) {
	names, err := st.ServiceNames()
	return len(names) > 0, err
}

// Seed writes the demo history ending at now. The store's clock is restored when it returns.
func Seed(st *store.Store, now time.Time) error {
	saved := st.Now
	defer func() { st.Now = saved }()
	c := &clock{t: now}
	st.Now = c.now
	at := func(ago time.Duration) time.Time { c.t = now.Add(-ago); return c.t }
	s := seeder{st: st, at: at, now: now, loc: Rotation().Location}
	for _, step := range []func() error{s.services, s.incidents, s.requests, s.deploys, s.oncall, s.maintenance} {
		if err := step(); err != nil {
			return err
		}
	}
	c.t = now
	return nil
}

type seeder struct {
	st  *store.Store
	at  func(ago time.Duration) time.Time // sets the clock that long before now, and returns it
	now time.Time
	loc *time.Location
}

// dayAt is how long before now it was hh:mm local time, days days ago: history happens in office hours
// whenever the demo starts.
func (s seeder) dayAt(days, hh, mm int) time.Duration {
	l := s.now.In(s.loc)
	return s.now.Sub(time.Date(l.Year(), l.Month(), l.Day()-days, hh, mm, 0, 0, s.loc))
}

const day = 24 * time.Hour

func (s seeder) services() error {
	s.at(120 * day)
	for _, svc := range Services {
		slo, owner, public := svc.SLO, svc.Owner, svc.Public
		notes := ""
		if svc.Name == "playlist" {
			notes = "Playlist API; runbook at https://wiki.example.net/playlist"
		}
		if _, err := s.st.AddService(svc.Name, store.ServiceFields{Owner: &owner, SLO: &slo, Public: &public, Notes: &notes},
			svc.Depends, false, "config"); err != nil {
			return fmt.Errorf("demo: service %s: %w", svc.Name, err)
		}
	}
	return nil
}

// pastIncident is a resolved incident: which day (days ago) and time it started, for how long, and what
// was said.
type pastIncident struct {
	days     int
	hh, mm   int
	length   time.Duration
	sev      int
	service  string
	affects  []string
	summary  string
	updates  []string // internal
	public   []string // for the status page
	resolved string
}

var pastIncidents = []pastIncident{
	{days: 84, hh: 12, mm: 39, length: 95 * time.Minute, sev: 2, service: "playlist", summary: "500s on play after the 1.38 rollout",
		updates: []string{"rolled back to 1.37"}, resolved: "error rate back to normal"},
	{days: 71, hh: 14, mm: 26, length: 40 * time.Minute, sev: 3, service: "search", summary: "index lag, stale results",
		updates: []string{"reindex running"}, resolved: "index caught up"},
	{days: 63, hh: 11, mm: 18, length: 2*time.Hour + 10*time.Minute, sev: 1, service: "storage", affects: []string{"playlist", "radio"},
		summary: "storage cluster lost quorum", updates: []string{"two nodes rebooted by the provider", "quorum back, replaying"},
		public:   []string{"Playback and radio are unavailable. We are restoring the storage cluster.", "Service is recovering."},
		resolved: "quorum restored, no data lost"},
	{days: 49, hh: 16, mm: 54, length: 25 * time.Minute, sev: 3, service: "auth", summary: "slow logins (token cache cold)", resolved: "cache warm"},
	{days: 38, hh: 13, mm: 43, length: 3 * time.Hour, sev: 2, service: "mobile-api", summary: "iOS clients fail to refresh tokens",
		public: []string{"Some iOS users are logged out. A fix is being deployed."}, resolved: "hotfix 4.2.1 deployed"},
	{days: 27, hh: 15, mm: 32, length: 50 * time.Minute, sev: 2, service: "search", affects: []string{"web"}, summary: "search returns empty pages",
		updates: []string{"bad synonym file in 7.1", "rolled back to 7.0"}, public: []string{"Search shows no results for some queries; we are fixing it."},
		resolved: "synonyms restored"},
	{days: 16, hh: 18, mm: 21, length: 15 * time.Minute, sev: 4, service: "billing", summary: "invoice e-mails delayed", resolved: "queue drained"},
	{days: 9, hh: 11, mm: 14, length: 70 * time.Minute, sev: 3, service: "radio", summary: "stream stutters in eu-1", resolved: "CDN node replaced"},
	{days: 4, hh: 14, mm: 9, length: 35 * time.Minute, sev: 2, service: "web", summary: "login page 502 behind the new load balancer",
		updates: []string{"health check path was wrong"}, public: []string{"Some users cannot log in on the website. We are on it.",
			"Logins work again."}, resolved: "health check fixed"},
}

func (s seeder) incidents() error {
	for _, p := range pastIncidents {
		ago := s.dayAt(p.days, p.hh, p.mm)
		start := s.at(ago)
		inc, err := s.st.DeclareIncident(store.Incident{Severity: p.sev, Service: p.service, Summary: p.summary, DeclaredBy: "alice",
			Commander: "alice", Start: start, Freeze: p.sev <= 2})
		if err != nil {
			return fmt.Errorf("demo: incident: %w", err)
		}
		for i, a := range p.affects {
			s.at(ago - time.Duration(i+1)*5*time.Minute)
			if _, err := s.st.AddIncidentService(inc.ID, "alice", a); err != nil {
				return err
			}
		}
		step := p.length / time.Duration(len(p.updates)+len(p.public)+2)
		k := 1
		for _, u := range p.updates {
			s.at(ago - time.Duration(k)*step)
			k++
			if _, err := s.st.NoteIncident(inc.ID, "carol", u); err != nil {
				return err
			}
		}
		for _, u := range p.public {
			s.at(ago - time.Duration(k)*step)
			k++
			if _, err := s.st.NotePublicIncident(inc.ID, "alice", u); err != nil {
				return err
			}
		}
		end := s.at(ago - p.length)
		if _, err := s.st.ResolveIncident(inc.ID, "alice", p.resolved, end); err != nil {
			return err
		}
	}
	// The open one: Alertmanager paged the on-call for search's latency 45 minutes ago, and carol
	// declared the incident from that page.
	pg, err := s.alerts()
	if err != nil {
		return err
	}
	start := s.at(40 * time.Minute)
	inc, err := s.st.DeclareIncident(store.Incident{Severity: 2, Service: "search", Summary: "search p99 latency 4s, timeouts on web",
		DeclaredBy: "carol", Commander: "carol", Start: start.Add(-5 * time.Minute), Freeze: true})
	if err != nil {
		return err
	}
	if _, err := s.st.SetIncidentPage(inc.ID, "carol", pg.Name()); err != nil {
		return err
	}
	s.at(37 * time.Minute)
	if _, err := s.st.AckPage(pg.ID, pg.Target, s.now.Add(-37*time.Minute), nil, func(store.Page) error { return nil }); err != nil {
		return fmt.Errorf("demo: ack: %w", err)
	}
	s.at(30 * time.Minute)
	if _, err := s.st.AddIncidentService(inc.ID, "carol", "web"); err != nil {
		return err
	}
	s.at(25 * time.Minute)
	if _, err := s.st.NoteIncident(inc.ID, "carol", "GC pauses on search-3 since the 7.3 deploy"); err != nil {
		return err
	}
	s.at(22 * time.Minute)
	if _, err := s.st.NotePublicIncident(inc.ID, "carol", "Search is slow for some users and some searches time out. We are working on it."); err != nil {
		return err
	}
	s.at(12 * time.Minute)
	if _, err := s.st.SetIncidentStatus(inc.ID, "carol", store.IncidentIdentified); err != nil {
		return err
	}
	return nil
}

// request is one request of the demo queue and what happened to it.
type request struct {
	ago       time.Duration
	by, text  string
	service   string
	urgent    bool
	steps     []store.RequestChange // one every stepEvery
	stepEvery time.Duration
}

func (s seeder) requests() error {
	take := func(who string) store.RequestChange {
		return store.RequestChange{Action: store.RequestTake, By: who, ByOps: true}
	}
	done := func(who, note string) store.RequestChange {
		return store.RequestChange{Action: store.RequestFinish, By: who, ByOps: true, Text: note}
	}
	block := func(who, why string) store.RequestChange {
		return store.RequestChange{Action: store.RequestBlock, By: who, ByOps: true, Text: why}
	}
	comment := func(who, text string) store.RequestChange {
		return store.RequestChange{Action: store.RequestComment, By: who, ByOps: who == "alice" || who == "carol", Text: text}
	}
	// "Done this week" must have something, whatever day it is: spread over the week so far.
	l := s.now.In(s.loc)
	week := s.now.Sub(time.Date(l.Year(), l.Month(), l.Day()-(int(l.Weekday())+6)%7, 0, 0, 0, 0, s.loc))
	var reqs []request
	// History: done over the last weeks.
	for i := range 24 {
		who := []string{"alice", "carol"}[i%2]
		reqs = append(reqs, request{ago: s.dayAt(60-2*i, 9+i%7, 10+7*(i%5)), by: []string{"bob", "dave", "erin"}[i%3],
			text: fmt.Sprintf("%s for %s", []string{"new bucket", "dns record", "vpn access", "bigger disk", "kafka topic", "cert renewal"}[i%6],
				[]string{"playlist", "search", "radio", "billing"}[i%4]),
			steps: []store.RequestChange{take(who), done(who, "done")}, stepEvery: time.Duration(1+i%4) * time.Hour})
	}
	// Done this week.
	for i, t := range []string{"rotate the TLS certs of radio", "grant erin read access to the billing db", "raise the playlist rate limit",
		"add a DNS record for status.example.net", "archive old search indexes"} {
		who := []string{"alice", "carol"}[i%2]
		ago := week * time.Duration(5-i) / 6
		reqs = append(reqs, request{ago: ago, by: []string{"bob", "dave", "erin", "frank"}[i%4], text: t,
			steps: []store.RequestChange{take(who), done(who, "")}, stepEvery: min(25*time.Minute, ago/3)})
	}
	reqs = append(reqs,
		// Todo.
		request{ago: 3 * time.Hour, by: "bob", text: "disk full on db3", service: "storage", urgent: true},
		request{ago: 2*time.Hour + 10*time.Minute, by: "dave", text: "staging search cluster for the synonyms test", service: "search"},
		request{ago: 55 * time.Minute, by: "erin", text: "open port 8443 from radio to the CDN", service: "radio"},
		request{ago: 12 * time.Minute, by: "frank", text: "new S3 bucket for web assets", service: "web"},
		// Doing: carol at the WIP limit, alice below it.
		request{ago: 26 * time.Hour, by: "bob", text: "upgrade the playlist database to Postgres 16", service: "playlist",
			steps: []store.RequestChange{take("carol")}, stepEvery: 3 * time.Hour},
		request{ago: 7 * time.Hour, by: "dave", text: "kafka topic for search clicks", service: "search",
			steps: []store.RequestChange{take("carol"), comment("carol", "waiting for the retention decision")}, stepEvery: time.Hour},
		request{ago: 3*time.Hour + 30*time.Minute, by: "erin", text: "vpn for the new contractor",
			steps: []store.RequestChange{take("carol")}, stepEvery: 40 * time.Minute},
		request{ago: 5 * time.Hour, by: "frank", text: "CDN cache rules for /static", service: "web",
			steps: []store.RequestChange{take("alice")}, stepEvery: 30 * time.Minute},
		request{ago: 90 * time.Minute, by: "bob", text: "read replica for playlist reports", service: "playlist", urgent: true,
			steps: []store.RequestChange{take("alice")}, stepEvery: 10 * time.Minute},
		// Blocked.
		request{ago: 3 * day, by: "dave", text: "move search to the new network", service: "search",
			steps: []store.RequestChange{take("alice"), block("alice", "waiting for the vendor's cross-connect")}, stepEvery: 5 * time.Hour},
		request{ago: 2 * day, by: "erin", text: "billing export to the finance bucket", service: "billing",
			steps: []store.RequestChange{take("carol"), block("carol", "finance has not named the bucket")}, stepEvery: 2 * time.Hour},
	)
	slices.SortStableFunc(reqs, func(a, b request) int { return cmp.Compare(b.ago, a.ago) }) // as they happened
	for _, r := range reqs {
		s.at(r.ago)
		req, err := s.st.OpenRequest(r.by, r.text, r.service, r.urgent)
		if err != nil {
			return fmt.Errorf("demo: request: %w", err)
		}
		for i, ch := range r.steps {
			s.at(r.ago - time.Duration(i+1)*r.stepEvery)
			ch.Force = true // the demo's history need not replay who took what when under the WIP limit
			if _, err := s.st.UpdateRequest(req.ID, ch); err != nil {
				return fmt.Errorf("demo: request %d %s: %w", req.ID, ch.Action, err)
			}
		}
	}
	return nil
}

// rollout is one deploy of the demo ledger.
type rollout struct {
	ago       time.Duration
	service   string
	version   string
	env       string
	by        string
	steps     []store.DeployState // after started
	percent   int
	reason    string
	takes     time.Duration
	lockAfter bool
}

func (s seeder) deploys() error {
	var rs []rollout
	versions := map[string][]string{
		"playlist": {"1.36", "1.37", "1.38", "1.39", "1.40", "1.41", "1.42"},
		"search":   {"6.9", "7.0", "7.1", "7.0.1", "7.2"},
		"radio":    {"2.0", "2.1", "2.2"},
		"web":      {"3.0", "3.1", "3.2", "3.3"},
		"auth":     {"5.4", "5.5"},
		"billing":  {"12", "13"},
		"storage":  {"2024.1"},
	}
	for svc, vs := range versions {
		for i, v := range vs {
			ago := s.dayAt((len(vs)-i)*9, 9+len(svc)%8, 30)
			rs = append(rs, rollout{ago: ago, service: svc, version: v, env: "prod", by: []string{"bob", "dave", "ci"}[i%3],
				steps: []store.DeployState{store.DeployProgress, store.DeploySucceeded}, percent: 50, takes: 40 * time.Minute})
			if i == len(vs)-1 && svc != "storage" { // staging runs ahead
				rs = append(rs, rollout{ago: s.dayAt(2, 15, 10+len(svc)), service: svc, version: v + "-rc1", env: "staging", by: "ci",
					steps: []store.DeployState{store.DeploySucceeded}, takes: 10 * time.Minute})
			}
		}
	}
	rs = append(rs,
		// search 7.3 went out yesterday and was rolled back: the service is locked.
		rollout{ago: 20 * time.Hour, service: "search", version: "7.3", env: "prod", by: "dave",
			steps: []store.DeployState{store.DeployProgress, store.DeploySucceeded}, percent: 25, takes: time.Hour},
		rollout{ago: 50 * time.Minute, service: "search", env: "prod", by: "carol", steps: []store.DeployState{store.DeployRolledBack},
			reason: "GC pauses since 7.3", lockAfter: true},
		// radio 2.3 is rolling out now.
		rollout{ago: 35 * time.Minute, service: "radio", version: "2.3", env: "prod", by: "erin",
			steps: []store.DeployState{store.DeployProgress}, percent: 50, takes: 20 * time.Minute},
	)
	sortRollouts(rs)
	for _, r := range rs {
		s.at(r.ago)
		if r.steps[0] == store.DeployRolledBack {
			if _, err := s.st.ApplyDeploy(store.DeployEvent{Status: store.DeployRolledBack, Service: r.service, Env: r.env, By: r.by,
				Reason: r.reason, LockOnRollback: r.lockAfter, Source: "chat"}); err != nil {
				return fmt.Errorf("demo: rollback %s: %w", r.service, err)
			}
			continue
		}
		pct := 0
		if len(r.steps) > 1 || r.steps[0] == store.DeployProgress {
			pct = 10
		}
		if _, err := s.st.ApplyDeploy(store.DeployEvent{Status: store.DeployStarted, Service: r.service, Env: r.env, Version: r.version,
			By: r.by, Percent: pct, Source: "chat", Force: true}); err != nil {
			return fmt.Errorf("demo: deploy %s %s: %w", r.service, r.version, err)
		}
		for i, st := range r.steps {
			s.at(r.ago - time.Duration(i+1)*r.takes/time.Duration(len(r.steps)))
			ev := store.DeployEvent{Status: st, Service: r.service, Env: r.env, Version: r.version, By: r.by, Source: "chat"}
			if st == store.DeployProgress {
				ev.Percent = r.percent
			}
			if _, err := s.st.ApplyDeploy(ev); err != nil {
				return fmt.Errorf("demo: deploy %s %s %s: %w", r.service, r.version, st, err)
			}
		}
	}
	s.at(5 * time.Hour)
	if _, _, err := s.st.LockDeploys("storage", "db migration until Friday", "carol"); err != nil {
		return err
	}
	return nil
}

// sortRollouts puts the rollouts in the order they happened (the longest ago first); map order made the list.
func sortRollouts(rs []rollout) {
	slices.SortStableFunc(rs, func(a, b rollout) int {
		if c := cmp.Compare(b.ago, a.ago); c != 0 {
			return c
		}
		return cmp.Compare(a.service+a.env, b.service+b.env)
	})
}

func (s seeder) oncall() error {
	// bob covers the rotation this afternoon; alice put him on call an hour ago, as !oncall override does.
	start := s.at(time.Hour)
	_, _, err := s.st.AddOverride(Rotation(), store.Override{Account: "bob", By: "alice", Start: start, End: start.Add(5 * time.Hour)})
	return err
}

// alerts are two groups firing from Alertmanager: search's latency, which paged the on-call (the page is
// returned), and a disk filling up on storage (a warning: a line in the channel, no page). The channel has
// been told of both.
func (s seeder) alerts() (store.Page, error) {
	var told []store.AlertGroup
	var page store.Page
	for _, g := range []struct {
		ago                     time.Duration
		name, service, severity string
		action, summary         string
		instances               int
	}{
		{3 * time.Hour, "DiskWillFillIn4Hours", "storage", "warning", store.ActionNotify, "db3 /var/lib/postgres fills in 4h", 1},
		{45 * time.Minute, "HighLatency", "search", "critical", store.ActionPage, "search p99 latency above 2s", 3},
	} {
		at := s.at(g.ago)
		var alerts []store.Alert
		for i := range g.instances {
			labels := map[string]string{"alertname": g.name, "service": g.service, "severity": g.severity,
				"instance": fmt.Sprintf("%s-%d:9100", g.service, i+1)}
			alerts = append(alerts, store.Alert{Fingerprint: fmt.Sprintf("%s-%d", g.name, i), Status: "firing", Labels: labels,
				Annotations: map[string]string{"summary": g.summary}, StartsAt: at})
		}
		u := store.AlertUpdate{Key: "{}:{alertname=\"" + g.name + "\"}", Name: g.name, Service: g.service,
			Severity: g.severity, Action: g.action, Alerts: alerts, Summary: g.summary,
			Runbook: "https://wiki.example.net/runbooks/" + g.name, Now: at}
		if g.action == store.ActionPage {
			u.Page = &store.AlertPage{Request: store.PageRequest{By: "alertmanager", Service: g.service, Rotation: Rotation(), Now: at,
				AckTimeout: 5 * time.Minute, Source: "alertmanager"},
				Text: func(g store.AlertGroup) string {
					return fmt.Sprintf("[FIRING:%d] %s on %s: %s", g.Firing, g.Name, g.Service, g.Summary)
				}}
		}
		ch, err := s.st.ApplyAlerts(u)
		if err != nil {
			return page, fmt.Errorf("demo: alerts: %w", err)
		}
		if ch.Opened {
			page = ch.Page
		}
		told = append(told, ch.Group)
	}
	if page.ID == 0 {
		return page, fmt.Errorf("demo: the alert opened no page")
	}
	return page, s.st.AlertsTold(told)
}

// maintenance is a window in progress on auth (deploys frozen) and one planned for playlist's database in
// three nights, both announced already.
func (s seeder) maintenance() error {
	start := s.at(30 * time.Minute)
	if _, err := s.st.AddWindow(store.Window{Service: "auth", Start: start, End: start.Add(2 * time.Hour), Reason: "rotating the token signing keys",
		By: "carol", Added: start.Add(-24 * time.Hour), Freeze: true, Told: store.WindowTold{Added: true, Started: true}}, nil); err != nil {
		return fmt.Errorf("demo: maintenance: %w", err)
	}
	s.at(2 * time.Hour)
	l := s.now.In(s.loc)
	next := time.Date(l.Year(), l.Month(), l.Day()+3, 2, 0, 0, 0, s.loc)
	if _, err := s.st.AddWindow(store.Window{Service: "playlist", Start: next, End: next.Add(2 * time.Hour),
		Reason: "Postgres 16 upgrade of the playlist database", By: "carol", Added: s.now.Add(-2 * time.Hour), Freeze: true,
		Told: store.WindowTold{Added: true}}, nil); err != nil {
		return fmt.Errorf("demo: maintenance: %w", err)
	}
	return nil
}
