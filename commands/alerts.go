package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// AlertStore is what the alerts family needs from the store.
type AlertStore interface {
	ApplyAlerts(u store.AlertUpdate) (store.AlertChange, error)
	AlertsTold(told []store.AlertGroup) error
	FiringAlertGroups() ([]store.AlertGroup, error)
	UntoldAlertGroups(limit int) ([]store.AlertGroup, error)
	AlertGroup(id uint64) (store.AlertGroup, error)
	AlertGroupOfPage(page uint64) (store.AlertGroup, error)
	FiringAlertCount() (int, error)
	AlertHeartbeat() (store.Heartbeat, error)
	SeeHeartbeat(now time.Time) (store.Heartbeat, error)
	HeartbeatPaged(lastSeen time.Time, page uint64) error
	GetPage(id uint64) (store.Page, error)
	ReleaseAlertGroup(id uint64, page store.AlertPage, now time.Time) (store.AlertChange, error)
}

// SourcePager pages for something that is not a person (the paging family): an alert group's page is
// routed like !page <service>, opened once (keyed), kept with its group and resolved with it.
type SourcePager interface {
	// PageRequest is how a page about service is opened, for the store to open it with the group.
	PageRequest(source, service string) (store.PageRequest, error)
	// Paged wakes the pager notifiers after the store opened or resolved pages.
	Paged()
	// PageFor opens a keyed page by itself; ResolveFor resolves one (the dead man's switch's page).
	PageFor(source, key, service, text string) (store.Page, error)
	ResolveFor(source string, id uint64) (pg store.Page, resolved bool, err error)
	// SendNoticesOf sends the pages' due notices, summed up when many.
	SendNoticesOf(ids []uint64) error
}

// kindAlertGroup is the id kind of an alert group that has no page: A-7.
const kindAlertGroup chat.Kind = "A"

// alertSource is the By and Source of the pages alerts open.
const alertSource = "alertmanager"

// Defaults of the [alerts] config section.
const (
	DefaultAlertServiceLabel     = "service"
	DefaultAlertHeartbeat        = "Watchdog"
	DefaultAlertHeartbeatTimeout = 10 * time.Minute
)

// DefaultAlertSeverity maps the severity label to an action when the config names none.
func DefaultAlertSeverity() map[string]string {
	return map[string]string{"critical": store.ActionPage, "warning": store.ActionNotify, "info": store.ActionIgnore}
}

// AlertConfig is the [alerts] config section.
type AlertConfig struct {
	// Token is the bearer token Alertmanager sends; empty turns POST /hooks/alertmanager off (404).
	Token string
	// ServiceLabel is the label naming the service an alert is about ("" : DefaultAlertServiceLabel).
	ServiceLabel string
	// Severity maps the severity label's values to page, notify or ignore; DefaultAction is for a missing or
	// unknown severity ("": page, so that an alert nobody classified is not lost).
	Severity      map[string]string
	DefaultAction string
	// Heartbeat is the alertname of the always-firing alert (""): DefaultAlertHeartbeat); HeartbeatTimeout is
	// how long without it before the pipeline is paged as silent (0: the dead man's switch is off).
	Heartbeat        string
	HeartbeatTimeout time.Duration
}

// Alerts is the alerts family: Alertmanager's webhook receiver. One alert group is one page (or one channel
// line, by severity), routed by the service catalogue, announced without flooding the channel.
type Alerts struct {
	rt      Runtime
	st      AlertStore
	cfg     AlertConfig
	pager   SourcePager
	windows Windows // maintenance windows hold pages back (nil: none)
	started time.Time

	received *prometheus.CounterVec

	mu         sync.Mutex // guards the burst count
	burstStart time.Time
	burst      int
}

// NewAlerts builds the alerts family; pager opens, updates and resolves the alert groups' pages, windows
// holds them back during maintenance.
func NewAlerts(rt Runtime, st AlertStore, cfg AlertConfig, pager SourcePager, windows Windows) *Alerts {
	rt = rt.withDefaults()
	if cfg.ServiceLabel == "" {
		cfg.ServiceLabel = DefaultAlertServiceLabel
	}
	if cfg.Severity == nil {
		cfg.Severity = DefaultAlertSeverity()
	}
	if cfg.DefaultAction == "" {
		cfg.DefaultAction = store.ActionPage
	}
	if cfg.Heartbeat == "" {
		cfg.Heartbeat = DefaultAlertHeartbeat
	}
	return &Alerts{rt: rt, st: st, cfg: cfg, pager: pager, windows: windows, started: rt.Now(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_alerts_received_total", Help: "Alerts received from Alertmanager's webhook, by their status (firing, resolved).",
		}, []string{"status"})}
}

// Family offers !alerts, the jobs that tell the channel and watch the heartbeat, POST /hooks/alertmanager
// (it checks its own bearer token) and GET /api/v1/alerts, and the alert metrics.
func (a *Alerts) Family() Family {
	firing := StoreGauge("opsbot_alert_groups_firing", "Alert groups with alerts firing now.", a.st.FiringAlertCount)
	var jobs []Job
	if a.cfg.Token != "" {
		jobs = append(jobs, Job{Name: "alerts news", Every: time.Second, Run: a.tell})
		if a.windows != nil {
			jobs = append(jobs, Job{Name: "alerts release", Every: 5 * time.Second, Run: a.release})
		}
		if a.cfg.HeartbeatTimeout > 0 {
			jobs = append(jobs, Job{Name: "alerts heartbeat", Every: 5 * time.Second, Run: a.watchHeartbeat})
		}
	}
	return Family{Name: "alerts",
		Commands: []*Command{
			{Name: "alerts", Help: "Lists the alert groups firing now, one line each, with their page.", Role: RoleAnyone, Run: a.list},
			{Name: "alerts show", Args: "<P-n|A-n>", Help: "Shows an alert group's alerts: labels, since when, runbook and source.",
				Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: a.show},
		},
		Jobs: jobs,
		Routes: []Route{
			{Pattern: "POST /hooks/alertmanager", Handler: http.HandlerFunc(a.webhook), Open: true},
			{Pattern: "GET /api/v1/alerts", Handler: http.HandlerFunc(a.apiAlerts)},
		},
		Collectors: []prometheus.Collector{a.received, firing},
	}
}

// quiet reports whether a page opened now may send its notices at once: the first few pages of a second do;
// in a storm the rest wait for the news job, which summarises them.
func (a *Alerts) quiet() bool {
	now := a.rt.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.burstStart) >= time.Second {
		a.burstStart, a.burst = now, 0
	}
	a.burst++
	return a.burst <= plainNotices
}

// groupRef is how people name a group: its page (P-14), or A-7 for a group without one.
func groupRef(g store.AlertGroup) string {
	if g.Page != 0 {
		return pageID(g.Page)
	}
	return g.Ref()
}

// headline is "[FIRING:3] HighLatency on playlist (critical)".
func headline(g store.AlertGroup) string {
	state := fmt.Sprintf("[FIRING:%d]", g.Firing)
	if !g.Resolved.IsZero() {
		state = "[RESOLVED]"
	}
	s := state + " " + orString(g.Name, "alert")
	if g.Service != "" {
		s += " on " + g.Service
	}
	if g.Severity != "" {
		s += " (" + g.Severity + ")"
	}
	return s
}

// pageText is an alert group's page text: "[FIRING:3] HighLatency on playlist (critical): p99 latency 2s,
// runbook https://...".
func alertText(g store.AlertGroup) string {
	s := headline(g)
	if g.Summary != "" {
		s += ": " + chat.Truncate(g.Summary, 160)
	}
	if g.Runbook != "" {
		s += ", runbook " + g.Runbook
	}
	return s
}

func (a *Alerts) list(_ context.Context, _ *Call, w Replier) error {
	groups, err := a.st.FiringAlertGroups()
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		w.Reply("no alerts firing")
		return nil
	}
	sort.SliceStable(groups, func(i, j int) bool { return actionOrder(groups[i]) < actionOrder(groups[j]) })
	now := a.rt.Now()
	for _, g := range groups {
		line := fmt.Sprintf("%s %s since %s", groupRef(g), headline(g), chat.FormatDuration(now.Sub(firingSince(g))))
		switch {
		case g.SuppressedBy != "":
			line += ", suppressed by " + g.SuppressedBy
		case g.Page != 0:
			if pg, err := a.st.GetPage(g.Page); err == nil {
				line += ", " + pageState(pg)
			}
		case g.PageNote != "":
			line += ", not paged: " + g.PageNote
		}
		if g.Summary != "" {
			line += ": " + chat.Truncate(g.Summary, 120)
		}
		w.Reply(line)
	}
	return nil
}

// firingSince is when the group's problem began: its earliest alert's start (Alertmanager's startsAt), else
// when the bot first heard of it.
func firingSince(g store.AlertGroup) time.Time {
	since := g.Opened
	for _, al := range g.Alerts {
		if !al.StartsAt.IsZero() && al.StartsAt.Before(since) {
			since = al.StartsAt
		}
	}
	return since
}

// actionOrder puts pages first, then channel lines, then the ignored.
func actionOrder(g store.AlertGroup) int {
	switch g.Action {
	case store.ActionPage:
		return 0
	case store.ActionNotify:
		return 1
	}
	return 2
}

// pageState is "paging a​lice", "acked by a​lice" or "resolved by a​lice".
func pageState(pg store.Page) string {
	switch pg.State {
	case store.PageAcked:
		return "acked by " + chat.NoHighlight(pg.AckedBy)
	case store.PageResolved:
		return "page resolved by " + chat.NoHighlight(pg.ResolvedBy)
	}
	return "paging " + chat.NoHighlight(pg.Target)
}

func (a *Alerts) show(_ context.Context, c *Call, w Replier) error {
	g, err := a.group(c.Args[0])
	if err != nil {
		return err
	}
	now := a.rt.Now()
	head := fmt.Sprintf("%s %s, since %s", groupRef(g), headline(g), chat.FormatDuration(now.Sub(firingSince(g))))
	if !g.Resolved.IsZero() {
		head += fmt.Sprintf(", resolved %s ago", chat.FormatDuration(now.Sub(g.Resolved)))
	}
	if g.Runbook != "" {
		head += ", runbook " + g.Runbook
	}
	lines := []string{head}
	for _, al := range g.Alerts {
		lines = append(lines, a.alertLine(al, now))
	}
	w.Reply(lines...)
	return nil
}

// alertLine is one alert: "firing since 14:05 (12m) instance=playlist-1 pod=api-7: p99 latency 2s; source
// http://prometheus/graph?...".
func (a *Alerts) alertLine(al store.Alert, now time.Time) string {
	var labels []string
	for _, k := range sortedKeys(al.Labels) {
		if k == "alertname" || k == "severity" || k == a.cfg.ServiceLabel {
			continue
		}
		labels = append(labels, k+"="+al.Labels[k])
	}
	line := fmt.Sprintf("%s since %s (%s)", al.Status, al.StartsAt.In(a.rt.Location).Format("01-02 15:04"), chat.FormatDuration(now.Sub(al.StartsAt)))
	if len(labels) > 0 {
		line += " " + strings.Join(labels, " ")
	}
	if s := summaryOf(al.Annotations); s != "" {
		line += ": " + s
	}
	if al.GeneratorURL != "" {
		line += "; source " + al.GeneratorURL
	}
	return chat.Truncate(line, 2*lineBudget)
}

// group finds a group by its page (P-14) or its own id.
func (a *Alerts) group(arg string) (store.AlertGroup, error) {
	if strings.HasPrefix(strings.ToUpper(arg), "A") {
		id, err := chat.ParseID(kindAlertGroup, arg)
		if err != nil {
			return store.AlertGroup{}, Errorf("error: %q is not an alert group (like P-14 or A-7)", chat.Truncate(arg, 40))
		}
		g, err := a.st.AlertGroup(id)
		if errors.Is(err, store.ErrNotFound) {
			return g, Errorf("error: no alert group A-%d", id)
		}
		return g, err
	}
	id, err := parseID(chat.KindPage, arg)
	if err != nil {
		return store.AlertGroup{}, Errorf("error: %q is not an alert group (like P-14 or A-7)", chat.Truncate(arg, 40))
	}
	g, err := a.st.AlertGroupOfPage(id)
	if errors.Is(err, store.ErrNotFound) {
		return g, Errorf("error: %s is not an alert's page", pageID(id))
	}
	return g, err
}

// AlertsOfPage gives the timeline lines an incident declared from page id records (!incident declare ...
// --from P-12): the group's headline and summary, then one line per alert (at most 10). A page that is no
// alert's gives its own text; an unknown page is an error wrapping store.ErrNotFound.
func (a *Alerts) AlertsOfPage(id uint64) ([]string, error) {
	pg, err := a.st.GetPage(id)
	if err != nil {
		return nil, err
	}
	g, err := a.st.AlertGroupOfPage(id)
	if errors.Is(err, store.ErrNotFound) {
		return []string{fmt.Sprintf("from %s: %s", pageID(id), chat.Truncate(pg.Text, 300))}, nil
	}
	if err != nil {
		return nil, err
	}
	now := a.rt.Now()
	lines := []string{fmt.Sprintf("from %s: %s", pageID(id), alertText(g))}
	for i, al := range g.Alerts {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("... and %d more alerts (%salerts show %s)", len(g.Alerts)-i, a.rt.Prefix, pageID(id)))
			break
		}
		lines = append(lines, "alert "+a.alertLine(al, now))
	}
	return lines, nil
}
