package web

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// The public status page is for people outside the team: it names only the services marked public, their
// state from the open incidents, 90 days of bars, and the recent incidents with only the updates written
// for them (!incident update --public). No nick, summary or internal note of an incident leaves here: an
// incident is titled by its impact and the public services it touches.

// Status page settings.
const (
	statusDays       = 90
	statusRecentDays = 14 // how far back the page lists incidents
	feedDays         = 90 // and the Atom feed
)

// Component states, as Atlassian Statuspage names them, worst last.
const (
	stateOperational = "operational"
	stateMaintenance = "under_maintenance"
	stateDegraded    = "degraded_performance"
	statePartial     = "partial_outage"
	stateMajor       = "major_outage"
)

// stateOfSeverity maps an incident's severity to the state of the services it affects: SEV1 major outage,
// SEV2 partial outage, SEV3 degraded performance; SEV4 leaves a service operational.
func stateOfSeverity(sev int) string {
	switch sev {
	case 1:
		return stateMajor
	case 2:
		return statePartial
	case 3:
		return stateDegraded
	}
	return stateOperational
}

var stateRank = map[string]int{stateOperational: 0, stateMaintenance: 1, stateDegraded: 2, statePartial: 3, stateMajor: 4}

var stateWords = map[string]string{stateOperational: "Operational", stateMaintenance: "Under maintenance",
	stateDegraded: "Degraded performance", statePartial: "Partial outage", stateMajor: "Major outage"}

// impactOfSeverity is Statuspage's incident impact.
func impactOfSeverity(sev int) string {
	switch sev {
	case 1:
		return "critical"
	case 2:
		return "major"
	case 3:
		return "minor"
	}
	return "none"
}

// statusService is one public service on the status page.
type statusService struct {
	Name    string
	State   string
	Word    string
	Uptime  float64
	Bars    []statusBar
	Strip   template.HTML // Bars as SVG
	Updated time.Time
	Created time.Time
}

// statusUpdate is an update written for the public.
type statusUpdate struct {
	ID   string
	At   time.Time
	Text string
}

// statusIncident is an incident as the public sees it.
type statusIncident struct {
	ID       string // INC-7
	Title    string
	Impact   string // none, minor, major, critical
	State    string // the services' state while it is open
	Status   string // investigating, identified, monitoring, resolved
	Services []string
	Start    time.Time
	End      time.Time
	Updated  time.Time
	Updates  []statusUpdate // newest first
}

// Open reports whether the incident is not resolved.
func (i statusIncident) Open() bool { return i.Status != store.IncidentResolved }

// statusMaintenance is a maintenance window as the public sees it: which public services and when, not why
// (a window's reason is written for the team).
type statusMaintenance struct {
	ID         string // M-3
	Services   []string
	Start, End time.Time
	Added      time.Time
	InProgress bool
}

// statusView is everything the public may see.
type statusView struct {
	Title     string
	State     string // the worst state of any public service
	Indicator string // none, minor, major, critical
	Summary   string // "All systems operational"
	Services  []statusService
	Incidents []statusIncident // open first, then the recent ones, newest first
	// Maintenance is the maintenance of public services in progress and planned for the next week.
	Maintenance []statusMaintenance
	Updated     time.Time
	From        time.Time
}

// public serves h without login, only when web.public_status is on.
func (x *Web) public(h http.HandlerFunc) http.Handler {
	return x.secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !x.cfg.PublicStatus || x.links.Services == nil || x.links.Incidents == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=30")
		h(w, r)
	}))
}

// statusData reads the status page: public services, their state and bars, and the incidents touching them
// since (open ones whenever they began).
func (x *Web) statusData(since time.Time) (statusView, error) {
	now := x.rt.Now()
	sv := statusView{Title: x.cfg.StatusTitle, State: stateOperational, Updated: now}
	svcs, err := x.links.Services.Services()
	if err != nil {
		return sv, err
	}
	public := map[string]bool{}
	for _, s := range svcs {
		if s.Public {
			public[s.Name] = true
		}
	}
	open, err := x.links.Incidents.OpenIncidentList()
	if err != nil {
		return sv, err
	}
	var shown []store.Service
	for _, s := range svcs {
		if s.Public {
			shown = append(shown, s)
		}
	}
	avail, days, err := x.servicesDays(shown, statusDays, now)
	if err != nil {
		return sv, err
	}
	windows, err := x.windowsAt(now, maintenanceAhead)
	if err != nil {
		return sv, err
	}
	for _, w := range windows {
		m := statusMaintenance{ID: w.Ref(), Start: w.Start, End: w.End, Added: w.Added, InProgress: w.Active(now)}
		for _, s := range shown {
			if w.Covers(s.Name) {
				m.Services = append(m.Services, s.Name)
			}
		}
		if len(m.Services) > 0 {
			sv.Maintenance = append(sv.Maintenance, m)
		}
	}
	for i, s := range shown {
		ss := statusService{Name: s.Name, State: stateOperational, Created: s.Created, Updated: s.Updated}
		for _, inc := range open {
			if slices.Contains(inc.Services(), s.Name) {
				if st := stateOfSeverity(inc.Severity); stateRank[st] > stateRank[ss.State] {
					ss.State = st
				}
				ss.Updated = latest(ss.Updated, inc.Start)
			}
		}
		for _, m := range sv.Maintenance {
			if m.InProgress && slices.Contains(m.Services, s.Name) && stateRank[stateMaintenance] > stateRank[ss.State] {
				ss.State, ss.Updated = stateMaintenance, latest(ss.Updated, m.Start)
			}
		}
		ss.Uptime, ss.Bars, ss.Word = avail[i].Percent, statusBars(days[i], x.zone()), stateWords[ss.State]
		ss.Strip = statusStrip(ss.Bars)
		sv.From = days[i].Bounds[0]
		if stateRank[ss.State] > stateRank[sv.State] {
			sv.State = ss.State
		}
		sv.Services = append(sv.Services, ss)
	}
	sv.Indicator, sv.Summary = "none", "All systems operational"
	switch sv.State {
	case stateMajor:
		sv.Indicator, sv.Summary = "critical", "Major outage"
	case statePartial:
		sv.Indicator, sv.Summary = "major", "Partial outage"
	case stateDegraded:
		sv.Indicator, sv.Summary = "minor", "Degraded performance"
	case stateMaintenance:
		sv.Indicator, sv.Summary = "maintenance", "Under maintenance"
	}
	// Incidents touching a public service: each one's own index walk, merged by id.
	seen := map[uint64]bool{}
	var incs []store.Incident
	for name := range public {
		found, _, err := x.links.Incidents.FindIncidents(store.IncidentQuery{Service: name, Since: since, Limit: 200})
		if err != nil {
			return sv, err
		}
		for _, inc := range found {
			if !seen[inc.ID] {
				seen[inc.ID] = true
				incs = append(incs, inc)
			}
		}
	}
	slices.SortFunc(incs, func(a, b store.Incident) int {
		if a.Open() != b.Open() {
			if a.Open() {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for _, inc := range incs {
		si, ok, err := x.publicIncident(inc, public)
		if err != nil {
			return sv, err
		}
		if ok {
			sv.Incidents = append(sv.Incidents, si)
		}
	}
	return sv, nil
}

// publicIncident is inc as the public may see it; ok is false for an incident the public need not hear
// of (a SEV4 with no public update).
func (x *Web) publicIncident(inc store.Incident, public map[string]bool) (statusIncident, bool, error) {
	si := statusIncident{ID: inc.Name(), Impact: impactOfSeverity(inc.ImpactSeverity()), State: stateOfSeverity(inc.Severity),
		Status: inc.Status, Start: inc.Start, End: inc.End, Updated: latest(inc.Start, inc.End)}
	for _, s := range inc.Services() {
		if public[s] {
			si.Services = append(si.Services, s)
		}
	}
	tl, err := x.links.Incidents.IncidentTimeline(inc.ID, 0)
	if err != nil {
		return si, false, err
	}
	for i := len(tl) - 1; i >= 0; i-- {
		if e := tl[i]; e.Public {
			si.Updates = append(si.Updates, statusUpdate{ID: fmt.Sprintf("%s-%d", inc.Name(), e.Seq), At: e.At, Text: e.Text})
			si.Updated = latest(si.Updated, e.At)
		}
	}
	if inc.ImpactSeverity() > 3 && len(si.Updates) == 0 {
		return si, false, nil
	}
	word := stateWords[stateOfSeverity(inc.ImpactSeverity())]
	if inc.ImpactSeverity() > 3 {
		word = "Incident"
	}
	si.Title = word + " of " + strings.Join(si.Services, ", ")
	return si, true, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (x *Web) statusPage(w http.ResponseWriter, r *http.Request) {
	sv, err := x.statusData(x.rt.Now().AddDate(0, 0, -statusRecentDays))
	if err != nil {
		x.fail(w, r, "status", err)
		return
	}
	x.render(w, r, http.StatusOK, "status.html", page{Title: sv.Title, Public: true}, sv)
}

// The /status/summary.json document, in the shape of Atlassian Statuspage's summary.json (v2): the page,
// its components, the unresolved incidents with their (public) updates, scheduled maintenances and the
// overall status, so dashboards that read Statuspage read this too.
type (
	spSummary struct {
		Page                  spPage          `json:"page"`
		Components            []spComponent   `json:"components"`
		Incidents             []spIncident    `json:"incidents"`
		ScheduledMaintenances []spMaintenance `json:"scheduled_maintenances"`
		Status                spStatus        `json:"status"`
	}
	spPage struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		URL       string    `json:"url"`
		TimeZone  string    `json:"time_zone"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	spComponent struct {
		ID                 string    `json:"id"`
		Name               string    `json:"name"`
		Status             string    `json:"status"`
		CreatedAt          time.Time `json:"created_at"`
		UpdatedAt          time.Time `json:"updated_at"`
		Position           int       `json:"position"`
		Description        *string   `json:"description"`
		Showcase           bool      `json:"showcase"`
		StartDate          *string   `json:"start_date"`
		GroupID            *string   `json:"group_id"`
		PageID             string    `json:"page_id"`
		Group              bool      `json:"group"`
		OnlyShowIfDegraded bool      `json:"only_show_if_degraded"`
	}
	spIncident struct {
		ID              string       `json:"id"`
		Name            string       `json:"name"`
		Status          string       `json:"status"`
		CreatedAt       time.Time    `json:"created_at"`
		UpdatedAt       time.Time    `json:"updated_at"`
		MonitoringAt    *time.Time   `json:"monitoring_at"`
		ResolvedAt      *time.Time   `json:"resolved_at"`
		Impact          string       `json:"impact"`
		Shortlink       string       `json:"shortlink"`
		StartedAt       time.Time    `json:"started_at"`
		PageID          string       `json:"page_id"`
		IncidentUpdates []spUpdate   `json:"incident_updates"`
		Components      []spAffected `json:"components"`
	}
	spUpdate struct {
		ID                   string    `json:"id"`
		Status               string    `json:"status"`
		Body                 string    `json:"body"`
		IncidentID           string    `json:"incident_id"`
		CreatedAt            time.Time `json:"created_at"`
		UpdatedAt            time.Time `json:"updated_at"`
		DisplayAt            time.Time `json:"display_at"`
		DeliverNotifications bool      `json:"deliver_notifications"`
	}
	spAffected struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	spMaintenance struct {
		ID             string       `json:"id"`
		Name           string       `json:"name"`
		Status         string       `json:"status"`
		CreatedAt      time.Time    `json:"created_at"`
		UpdatedAt      time.Time    `json:"updated_at"`
		ScheduledFor   time.Time    `json:"scheduled_for"`
		ScheduledUntil time.Time    `json:"scheduled_until"`
		Impact         string       `json:"impact"`
		PageID         string       `json:"page_id"`
		Components     []spAffected `json:"components"`
	}
	spStatus struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	}
)

// statusPageID is the page id of the summary (a Statuspage page id is an opaque string).
const statusPageID = "opsbot"

func (x *Web) statusSummary(w http.ResponseWriter, r *http.Request) {
	now := x.rt.Now()
	sv, err := x.statusData(now.AddDate(0, 0, -statusRecentDays))
	if err != nil {
		x.fail(w, r, "status summary", err)
		return
	}
	doc := spSummary{Page: spPage{ID: statusPageID, Name: sv.Title, URL: x.baseURL() + "/status", TimeZone: x.zone().String(), UpdatedAt: now.UTC()},
		Components: []spComponent{}, Incidents: []spIncident{}, ScheduledMaintenances: []spMaintenance{},
		Status: spStatus{Indicator: sv.Indicator, Description: sv.Summary}}
	if doc.Status.Indicator == "maintenance" { // Statuspage's indicator has no maintenance value
		doc.Status.Indicator = "none"
	}
	state := map[string]string{}
	for i, s := range sv.Services {
		state[s.Name] = s.State
		doc.Components = append(doc.Components, spComponent{ID: s.Name, Name: s.Name, Status: s.State, CreatedAt: s.Created.UTC(),
			UpdatedAt: latest(s.Created, s.Updated).UTC(), Position: i + 1, PageID: statusPageID})
	}
	for _, m := range sv.Maintenance {
		sm := spMaintenance{ID: m.ID, Name: "Maintenance of " + strings.Join(m.Services, ", "), Status: "scheduled",
			CreatedAt: m.Added.UTC(), UpdatedAt: latest(m.Added, m.Start).UTC(), ScheduledFor: m.Start.UTC(), ScheduledUntil: m.End.UTC(),
			Impact: "maintenance", PageID: statusPageID, Components: []spAffected{}}
		if m.InProgress {
			sm.Status = "in_progress"
		}
		for _, s := range m.Services {
			sm.Components = append(sm.Components, spAffected{ID: s, Name: s, Status: state[s]})
		}
		doc.ScheduledMaintenances = append(doc.ScheduledMaintenances, sm)
	}
	for _, si := range sv.Incidents {
		if !si.Open() {
			continue // summary.json lists unresolved incidents only
		}
		inc := spIncident{ID: si.ID, Name: si.Title, Status: si.Status, CreatedAt: si.Start.UTC(), UpdatedAt: si.Updated.UTC(),
			Impact: si.Impact, Shortlink: x.baseURL() + "/status#" + si.ID, StartedAt: si.Start.UTC(), PageID: statusPageID,
			IncidentUpdates: []spUpdate{}, Components: []spAffected{}}
		if si.Status == store.IncidentMonitoring {
			t := si.Updated.UTC()
			inc.MonitoringAt = &t
		}
		for _, u := range si.Updates {
			inc.IncidentUpdates = append(inc.IncidentUpdates, spUpdate{ID: u.ID, Status: si.Status, Body: u.Text, IncidentID: si.ID,
				CreatedAt: u.At.UTC(), UpdatedAt: u.At.UTC(), DisplayAt: u.At.UTC()})
		}
		for _, s := range si.Services {
			inc.Components = append(inc.Components, spAffected{ID: s, Name: s, Status: state[s]})
		}
		doc.Incidents = append(doc.Incidents, inc)
	}
	commands.WriteJSON(w, http.StatusOK, doc)
}

// The Atom feed (RFC 4287) of the status page's incidents.
type (
	atomFeed struct {
		XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string      `xml:"id"`
		Title   string      `xml:"title"`
		Updated string      `xml:"updated"`
		Links   []atomLink  `xml:"link"`
		Author  atomAuthor  `xml:"author"`
		Entries []atomEntry `xml:"entry"`
	}
	atomLink struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr,omitempty"`
		Type string `xml:"type,attr,omitempty"`
	}
	atomAuthor struct {
		Name string `xml:"name"`
	}
	atomEntry struct {
		ID        string     `xml:"id"`
		Title     string     `xml:"title"`
		Updated   string     `xml:"updated"`
		Published string     `xml:"published"`
		Links     []atomLink `xml:"link"`
		Content   atomText   `xml:"content"`
	}
	atomText struct {
		Type string `xml:"type,attr"`
		Body string `xml:",chardata"`
	}
)

func (x *Web) statusFeed(w http.ResponseWriter, r *http.Request) {
	now := x.rt.Now()
	sv, err := x.statusData(now.AddDate(0, 0, -feedDays))
	if err != nil {
		x.fail(w, r, "status feed", err)
		return
	}
	base := x.baseURL()
	host := "opsbot"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	feed := atomFeed{ID: "tag:" + host + ",2024:status", Title: sv.Title, Updated: rfc(sv.Updated), Author: atomAuthor{Name: sv.Title},
		Links: []atomLink{{Href: base + "/status/history.atom", Rel: "self", Type: "application/atom+xml"}, {Href: base + "/status", Rel: "alternate", Type: "text/html"}}}
	var updated time.Time
	for _, si := range sv.Incidents {
		updated = latest(updated, si.Updated)
	}
	if !updated.IsZero() {
		feed.Updated = rfc(updated)
	}
	for _, si := range sv.Incidents {
		var body strings.Builder
		fmt.Fprintf(&body, "%s (%s) since %s", si.Title, si.Status, si.Start.In(x.zone()).Format("Mon 2 Jan 15:04 MST"))
		if !si.End.IsZero() {
			fmt.Fprintf(&body, ", resolved %s", si.End.In(x.zone()).Format("Mon 2 Jan 15:04 MST"))
		}
		body.WriteString(".")
		for _, u := range si.Updates {
			fmt.Fprintf(&body, "\n%s: %s", u.At.In(x.zone()).Format("Mon 2 Jan 15:04 MST"), u.Text)
		}
		feed.Entries = append(feed.Entries, atomEntry{ID: "tag:" + host + ",2024:" + si.ID, Title: si.Title + " (" + si.Status + ")",
			Updated: rfc(si.Updated), Published: rfc(si.Start), Links: []atomLink{{Href: base + "/status#" + si.ID, Rel: "alternate"}},
			Content: atomText{Type: "text", Body: body.String()}})
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		x.rt.Log.Error("web: status feed", "err", err)
	}
}
