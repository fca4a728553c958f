package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Defaults of the [incidents] config section.
const (
	DefaultIncidentPageOnSev   = 2
	DefaultIncidentFreezeOnSev = 2
)

// IncidentConfig configures the incidents and availability family ([incidents] and [availability]).
type IncidentConfig struct {
	// DeclareRole is the role that may declare and change incidents: "developer", "ops" (default) or "admin".
	DeclareRole string
	// PageOnSev pages the on-call for incidents of this severity or worse (2: SEV1 and SEV2); 0 never.
	PageOnSev int
	// FreezeOnSev freezes deploys of the affected services while such an incident is open; 0 never.
	FreezeOnSev int
	// Topic shows the open incidents in the channel topic.
	Topic bool
	// TopicEvery is the least time between two topic changes; 0 means 30s.
	TopicEvery time.Duration
	// Weights are availability.weights by "sev1".."sev4"; missing severities take store.DefaultWeights.
	Weights map[string]float64
}

// SeverityWeights returns the availability weights with the defaults filled in.
func (o IncidentConfig) SeverityWeights() store.SeverityWeights {
	w := store.DefaultWeights
	for sev := 1; sev < len(w); sev++ {
		if v, ok := o.Weights[fmt.Sprintf("sev%d", sev)]; ok {
			w[sev] = v
		}
	}
	return w
}

// IncidentLog is the part of the store the incidents family uses (*store.Store implements it).
type IncidentLog interface {
	DeclareIncident(in store.Incident) (store.Incident, error)
	NoteIncident(id uint64, by, text string) (store.Incident, error)
	NotePublicIncident(id uint64, by, text string) (store.Incident, error)
	SetIncidentStatus(id uint64, by, status string) (store.IncidentChange, error)
	SetIncidentSeverity(id uint64, by string, sev int, freeze bool) (store.IncidentChange, error)
	SetIncidentCommander(id uint64, by, account string) (store.IncidentChange, error)
	AddIncidentService(id uint64, by, service string) (store.IncidentChange, error)
	ResolveIncident(id uint64, by, text string, at time.Time) (store.IncidentChange, error)
	ReopenIncident(id uint64, by string) (store.IncidentChange, error)
	SetIncidentPage(id uint64, by, page string) (store.Incident, error)
	Incident(id uint64) (store.Incident, error)
	IncidentTimeline(id uint64, n int) ([]store.TimelineEntry, error)
	OpenIncidentList() ([]store.Incident, error)
	RecentIncidents(since time.Time, limit int) ([]store.Incident, int, error)
	IncidentTopic(channel string) (store.TopicState, error)
	SetIncidentTopic(channel string, st store.TopicState) error
	Availability(service string, from, to time.Time, w store.SeverityWeights) (store.ServiceAvailability, error)
	AvailabilityAll(from, to time.Time, w store.SeverityWeights) ([]store.ServiceAvailability, error)
}

// Topic reads and sets channel topics (the IRC transport implements it).
type Topic interface {
	// Topic returns the channel's current topic; ok is false while the bot is not in the channel or has not
	// learnt its topic yet.
	Topic(channel string) (topic string, ok bool)
	// SetTopic sets the channel's topic; it fails when the bot is not in the channel, may not set the topic,
	// or the text is not a valid topic.
	SetTopic(channel, text string) error
}

// Text limits of the incidents family.
const (
	maxSummary  = 300
	maxNoteText = 400
)

var (
	accountNameRE = regexp.MustCompile(`^[^\s,*?!@#:]{1,64}$`)
)

// IncidentLinks are the other families' parts the incidents family uses (nil: that part is left out).
type IncidentLinks struct {
	Catalog Catalog        // checks services, names owners and what an outage may take down
	Pager   Pager          // pages the on-call for severe incidents
	Deploys ServiceDeploys // the deploys before an incident
	SLOs    SLOs           // availability against each service's objective
	Topic   Topic          // the channel topic shows open incidents (incidents.topic)
	Alerts  PageAlerts     // what an incident declared from a page (--from P-12) records
	Windows MaintWindows   // maintenance windows in progress: in the topic; --planned work is checked against them
}

// MaintWindows is what the incidents family shows of maintenance windows (maintenance family).
type MaintWindows interface {
	Windows
	// InProgress gives one short line per window in progress ("M-3 maintenance playlist until 04:00").
	InProgress(now time.Time) ([]string, error)
}

// PageAlerts gives the timeline lines of an incident declared from a page: the alerts behind it (alerts family).
type PageAlerts interface {
	// AlertsOfPage returns the lines for page id; an unknown page is an error wrapping store.ErrNotFound.
	AlertsOfPage(id uint64) ([]string, error)
}

// Incidents is the incidents and availability family. It is also a source of the meeting agendas.
type Incidents struct {
	rt    Runtime
	cfg   IncidentConfig
	log   IncidentLog
	links IncidentLinks
}

// NewIncidents builds the incidents and availability family.
func NewIncidents(rt Runtime, st IncidentLog, cfg IncidentConfig, links IncidentLinks) *Incidents {
	return &Incidents{rt: rt.withDefaults(), cfg: cfg, log: st, links: links}
}

// Family offers !incident and !availability, the topic job (with incidents.topic), the incidents and
// availability API and each incident's postmortem skeleton.
func (x *Incidents) Family() Family {
	role := roleNamed(x.cfg.DeclareRole)
	write := func(name, args, help string, minArgs, maxArgs int, run Handler, flags ...Flag) *Command {
		return &Command{Name: name, Args: args, Help: help, Role: role, Write: true, MinArgs: minArgs, MaxArgs: maxArgs,
			Flags: flags, Run: run}
	}
	cmds := []*Command{
		write("incident declare", "<sev1|sev2|sev3|sev4> <service> <summary> [--since <time or duration ago>] [--from P-n] [--planned]",
			"Declares an incident; severe ones page the on-call and freeze deploys; --from links the page it grew from; --planned marks planned work (planned downtime inside a maintenance window).",
			3, -1, x.declare, Flag{Name: "since", Value: true}, Flag{Name: "from", Value: true}, Flag{Name: "planned"}),
		write("incident update", "<INC-n> <text> [--public]",
			"Adds an update to the incident's timeline; --public also shows it on the public status page.", 2, -1, x.update,
			Flag{Name: "public"}),
		write("incident status", "<INC-n> <investigating|identified|monitoring>", "Sets the incident's status.", 2, 2, x.status),
		write("incident sev", "<INC-n> <sev1|sev2|sev3|sev4>", "Changes the incident's severity.", 2, 2, x.severity),
		write("incident commander", "<INC-n> <account>", "Hands the incident to another incident commander.", 2, 2, x.commander),
		write("incident affects", "<INC-n> <service>", "Records another service the incident affects.", 2, 2, x.affects),
		write("incident resolve", "<INC-n> [text] [--at <time or duration ago>]",
			"Resolves the incident; --at records when the impact really ended.", 1, -1, x.resolve, Flag{Name: "at", Value: true}),
		write("incident reopen", "<INC-n>", "Reopens a resolved incident; its impact continues from the original start.", 1, 1, x.reopen),
		{Name: "incident list", Args: "[open|recent|all]", Help: "Lists open incidents (default), those of the last 7 days, or all.",
			Role: RoleAnyone, MaxArgs: 1, Run: x.list, Page: "/incidents"},
		{Name: "incident show", Args: "<INC-n>", Help: "Shows an incident: summary, duration, deploys before it and the last timeline entries.",
			Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: x.show, Page: "/incidents"},
		{Name: "availability", Args: "[service] [7d|30d|90d|<duration>]",
			Help: "Availability from the incident log, impact weighted by severity, against the SLO; without a service, worst services first.",
			Role: RoleAnyone, MaxArgs: 2, Run: x.availability, Page: "/availability"},
	}
	var jobs []Job
	if x.cfg.Topic && x.links.Topic != nil {
		jobs = append(jobs, x.topicJob())
	}
	return Family{Name: "incidents", Commands: cmds, Jobs: jobs, Routes: []Route{
		{Pattern: "GET /api/v1/incidents", Handler: http.HandlerFunc(x.apiIncidents)},
		{Pattern: "GET /api/v1/incidents/{id}", Handler: http.HandlerFunc(x.apiIncident)},
		{Pattern: "GET /api/v1/availability", Handler: http.HandlerFunc(x.apiAvailability)},
		{Pattern: "GET /incidents/{id}/postmortem.md", Handler: http.HandlerFunc(x.postmortem)},
	}}
}

// roleNamed maps incidents.declare_role to a role; anything unknown is ops.
func roleNamed(name string) Role {
	switch name {
	case "developer":
		return RoleDeveloper
	case "admin":
		return RoleAdmin
	}
	return RoleOps
}

func (x *Incidents) declare(ctx context.Context, c *Call, w Replier) error {
	sev, err := parseSeverity(c.Args[0])
	if err != nil {
		return err
	}
	service, err := x.service(c.Args[1])
	if err != nil {
		return err
	}
	summary := c.Rest(2)
	if err := checkLength("summary", summary, maxSummary, true); err != nil {
		return err
	}
	now := x.rt.Now()
	start := now
	if v, ok := c.Flag("since"); ok {
		if start, err = x.when(v, now); err != nil {
			return err
		}
	}
	from, fromLines, err := x.fromPage(c)
	if err != nil {
		return err
	}
	inc, err := x.log.DeclareIncident(store.Incident{Severity: sev, Service: service, Summary: summary,
		DeclaredBy: c.Caller.Who(), Start: start, Freeze: x.freezes(sev), Page: from, Planned: c.Bool("planned")})
	if err != nil {
		return incidentError(err, 0)
	}
	for _, l := range fromLines { // the alerts it grew from, on its timeline
		if _, err := x.log.NoteIncident(inc.ID, alertSource, l); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("%s declared SEV%d on %s by %s: %s. Commander: %s", inc.Name(), sev, service,
		chat.NoHighlight(inc.DeclaredBy), summary, chat.NoHighlight(inc.Commander))
	if x.links.Catalog != nil {
		owner, err := x.links.Catalog.ServiceOwner(service)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		line += ". Owner: " + cmp.Or(chat.NoHighlight(owner), "none")
		if impact, err := x.links.Catalog.ServiceImpact(service); err == nil && len(impact) > 0 {
			line += ". May affect: " + joinCapped(impact, 8)
		}
	}
	if start.Before(now.Add(-time.Minute)) {
		line += ". Impact since " + x.clock(start, now)
	}
	if inc.Freeze {
		line += ". Deploys of " + service + " frozen while open"
	}
	if from != "" {
		line += ". From " + from + " (" + fmt.Sprint(len(fromLines)) + " timeline entries)"
	}
	if inc.Planned {
		line += ". " + x.plannedNote(service, now)
	}
	return x.finish(ctx, c, w, inc, line, true)
}

// plannedNote says what --planned means for the incident now: planned downtime inside a window of its
// service, or downtime like any other when no window covers its impact.
func (x *Incidents) plannedNote(service string, now time.Time) string {
	if x.links.Windows != nil {
		if ref, _, ok, err := x.links.Windows.During(service, now); err == nil && ok {
			return "Planned work in " + ref + ": planned downtime while its impact stays inside the window"
		}
	}
	return "Planned work, but no maintenance window covers " + service + " now: downtime unless one covers its whole impact"
}

// fromPage reads --from P-n: the page an incident grows from (it is then not paged again) and the lines its
// timeline records about it.
func (x *Incidents) fromPage(c *Call) (string, []string, error) {
	v, ok := c.Flag("from")
	if !ok {
		return "", nil, nil
	}
	id, err := parseID(chat.KindPage, v)
	if err != nil {
		return "", nil, err
	}
	if x.links.Alerts == nil {
		return pageID(id), nil, nil
	}
	lines, err := x.links.Alerts.AlertsOfPage(id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, Errorf("error: no page %s", pageID(id))
	}
	return pageID(id), lines, err
}

// finish pages for inc when its severity calls for it and no page was sent yet, replies line and announces it
// in the main channel when it was said elsewhere and notable.
func (x *Incidents) finish(ctx context.Context, c *Call, w Replier, inc store.Incident, line string, notable bool) error {
	var pageErr error
	if inc.Open() && inc.Page == "" && x.pages(inc.Severity) && x.links.Pager != nil {
		text := fmt.Sprintf("%s SEV%d on %s: %s", inc.Name(), inc.Severity, strings.Join(inc.Services(), ", "), inc.Summary)
		id, err := x.links.Pager.PageOnCall(ctx, c.Caller.Who(), inc.Service, text)
		switch {
		case errors.Is(err, store.ErrNobodyOnCall):
			// Not a failure of the incident: say so plainly; a later severity change pages again.
			line += ". Nobody is on call to page"
			err = nil
		case err == nil:
			_, err = x.log.SetIncidentPage(inc.ID, c.Caller.Who(), id)
			line += ". Paged the on-call: " + id
		}
		pageErr = err
	}
	w.Reply(line)
	if notable && !x.rt.inHomeChannel(c) {
		if err := x.rt.Announce.Announce("", line, inc.Severity <= 2); err != nil {
			return Errorf("error: %s is recorded, but announcing it in %s failed: %v", inc.Name(), x.rt.Channel, err)
		}
	}
	if pageErr != nil {
		return Errorf("error: %s is recorded, but paging the on-call failed: %v", inc.Name(), pageErr)
	}
	return nil
}

// incidentError turns the store's not-found and rule errors into what the caller should read.
func incidentError(err error, id uint64) error {
	var re *store.IncidentRuleError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Errorf("error: no incident %s", chat.FormatID(chat.KindIncident, id))
	case errors.As(err, &re):
		return Errorf("error: %s", re.Msg)
	}
	return err
}

// parseSeverity accepts sev1..sev4 (any case) or 1..4.
func parseSeverity(s string) (int, error) {
	v := strings.TrimPrefix(strings.ToLower(s), "sev")
	if len(v) == 1 && v[0] >= '1' && v[0] <= '4' {
		return int(v[0] - '0'), nil
	}
	return 0, Errorf("error: %q is not a severity (sev1, sev2, sev3 or sev4)", chat.Truncate(s, 20))
}

// service checks a service name and, when the catalogue knows services, that it is one of them.
func (x *Incidents) service(arg string) (string, error) {
	name := strings.ToLower(arg)
	if !store.ValidServiceName(name) {
		return "", Errorf("error: %q is not a service name (lowercase letters, digits, . _ -)", chat.Truncate(arg, 40))
	}
	if x.links.Catalog == nil {
		return name, nil
	}
	_, err := x.links.Catalog.ServiceOwner(name)
	if !errors.Is(err, store.ErrNotFound) {
		return name, err
	}
	names, err := x.links.Catalog.ServiceNames()
	if err != nil || len(names) == 0 { // an empty catalogue knows no services to check against
		return name, err
	}
	if s := Suggest(name, names); s != "" {
		return "", Errorf("error: unknown service %q, did you mean %s?", name, s)
	}
	return "", Errorf("error: unknown service %q (add it first: %sservice add %s)", name, x.rt.Prefix, name)
}

// when parses a time ("14:05", RFC 3339) or a duration ago ("15m"). A clock time later than now is yesterday's.
func (x *Incidents) when(v string, now time.Time) (time.Time, error) {
	var t time.Time
	if d, err := chat.ParseDuration(v); err == nil {
		t = now.Add(-d)
	} else if t, err = chat.ParseTime(v, now, x.rt.Location); err != nil {
		return t, Errorf("error: bad time %q (use 14:05, 2026-11-25T14:05:00Z or a duration ago like 15m)", chat.Truncate(v, 40))
	} else if t.After(now) && !strings.Contains(v, "T") {
		t = t.AddDate(0, 0, -1)
	}
	if t.After(now) {
		return t, Errorf("error: %s is in the future", v)
	}
	if now.Sub(t) > maxIncidentBack {
		return t, Errorf("error: %s is more than a year ago", chat.Truncate(v, 40))
	}
	return t, nil
}

// maxIncidentBack is how far back an impact's start or end may be given: further is a typo of the year (an
// incident's impact since 1026 would also count against every availability window since).
const maxIncidentBack = 366 * 24 * time.Hour

func (x *Incidents) pages(sev int) bool   { return sev <= x.cfg.PageOnSev }
func (x *Incidents) freezes(sev int) bool { return sev <= x.cfg.FreezeOnSev }

// clock renders t briefly relative to now: 14:05 today, 03-09 14:05 this year, else with the year.
func (x *Incidents) clock(t, now time.Time) string {
	t, now = t.In(x.rt.Location), now.In(x.rt.Location)
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("01-02 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// checkLength refuses too long free text, and empty text when required.
func checkLength(what, text string, max int, required bool) error {
	if required && strings.TrimSpace(text) == "" {
		return Errorf("error: the %s is empty", what)
	}
	if len(text) > max {
		return Errorf("error: %s too long (%d bytes, at most %d)", what, len(text), max)
	}
	return nil
}

// joinCapped joins at most n names, then "+N more".
func joinCapped(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(names[:n], ", "), len(names)-n)
}
