package commands

import (
	"net/http"
	"slices"
	"time"

	"github.com/opsbot/opsbot/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the on-call and paging family ([oncall] and [paging] in the config file read them from here).
const (
	DefaultMaxOverride    = 24 * time.Hour
	DefaultAckTimeout     = 5 * time.Minute
	DefaultMaxEscalations = 3
	DefaultDedupeWindow   = 10 * time.Minute
	DefaultPageRateLimit  = 10
	// DefaultAckResolveAfter is how long a page may stay acked and not resolved before the bot resolves it.
	DefaultAckResolveAfter = 24 * time.Hour
)

// PagingConfig configures the on-call and paging family ([oncall] and [paging] in the config).
type PagingConfig struct {
	// Rotation is the [oncall] rotation: the default schedule, ops (its Name is ignored).
	Rotation store.Rotation
	// Schedules are the other schedules ([[oncall.schedules]]), each with a distinct name other than ops.
	Schedules []Schedule
	// MaxOverride caps !oncall take and !oncall override (0: DefaultMaxOverride).
	MaxOverride time.Duration
	// AckTimeout is how long a paged person has to ack before the page escalates (0: DefaultAckTimeout).
	AckTimeout time.Duration
	// Escalation lists the steps: accounts, or "next" for the next in the page's schedule's rotation (empty:
	// ["next"]); a schedule may have its own. The last step repeats until MaxEscalations steps have been
	// taken; then a final notice goes to the channel.
	Escalation     []string
	MaxEscalations int
	// DedupeWindow: a second page by the same person with an open page this recent is added to it (0: never).
	DedupeWindow time.Duration
	// RateLimit is how many pages one person may open per hour (0: no limit).
	RateLimit int
	// AckResolveAfter: a page acked this long ago and not resolved is resolved by the bot, with a line in
	// the channel and a resolve event for the notifiers (0: never), so that pages people forget to resolve
	// do not pile up in !page list.
	AckResolveAfter time.Duration
	// Ops are accounts a service owner may name to be paged directly (with the accounts of every schedule's
	// rotation); nil: the runtime's ops and admins.
	Ops []string
	// Notifiers names the external notifiers (webhook, PagerDuty, e-mail): every page event is stored as a
	// delivery task for each. Wake, if set, is called after tasks were stored.
	Notifiers []string
	Wake      func()
}

func (c PagingConfig) withDefaults() PagingConfig {
	if c.MaxOverride <= 0 {
		c.MaxOverride = DefaultMaxOverride
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if len(c.Escalation) == 0 {
		c.Escalation = []string{"next"}
	}
	return c
}

// PagingStore is what the on-call and paging family needs from the store.
type PagingStore interface {
	OnCallNow(r store.Rotation, t time.Time) (store.OnCallState, error)
	AddOverride(r store.Rotation, o store.Override) (store.Override, store.OnCallState, error)
	ClearOverride(r store.Rotation, now time.Time) (store.Override, store.OnCallState, error)
	Overrides(t time.Time) ([]store.Override, error)
	OpenPage(req store.PageRequest) (store.Page, bool, error)
	AckPage(id uint64, by string, now time.Time, notifiers []string, check func(store.Page) error) (store.Page, error)
	ResolvePage(id uint64, by string, now time.Time, notifiers []string, check func(store.Page) error) (store.Page, error)
	EscalatePage(id uint64, due time.Time, to string, next, now time.Time, note string, notifiers []string) (store.Page, bool, error)
	ExhaustPage(id uint64, due, now time.Time, notifiers []string) (store.Page, bool, error)
	DuePages(now time.Time, limit int) ([]store.Page, error)
	OpenPages() ([]store.Page, error)
	RecentPages(limit int) ([]store.Page, error)
	PageNoticesSent(id uint64, ns ...store.PageNotice) error
	PagesWithNotices() ([]store.Page, error)
	EscalationCounts(now time.Time) (pending, overdue int, err error)
	ResolveAckedPages(before, now time.Time, notifiers []string, limit int) ([]store.Page, error)
	GetPage(id uint64) (store.Page, error)
	PageByKey(key string) (store.Page, error)
}

// ServiceRoutes says where a page about a service goes (the services family's catalogue).
type ServiceRoutes interface {
	// ServiceRoute returns the service's owner ("" when none) and on-call schedule ("" for the default); an
	// unknown service is an error wrapping store.ErrNotFound.
	ServiceRoute(name string) (owner, schedule string, err error)
}

// PagingLinks are the other families' parts the paging family uses (nil: left out).
type PagingLinks struct {
	// Catalog is the service catalogue: the owners and schedules pages about a service go to; nil: every
	// page goes to the person on call in ops.
	Catalog ServiceRoutes
	Windows Windows // maintenance windows: a person's page during one is marked with it
}

// Paging is the on-call and paging family. It provides the OnCall, Pager and Schedules contracts to the
// other families, and the open pages to the handoff digest.
type Paging struct {
	rt      Runtime
	cfg     PagingConfig
	scheds  []Schedule // the default schedule first
	st      PagingStore
	routes  ServiceRoutes
	windows Windows
}

// NewPaging builds the on-call and paging family.
func NewPaging(rt Runtime, st PagingStore, cfg PagingConfig, links PagingLinks) *Paging {
	rt = rt.withDefaults()
	cfg = cfg.withDefaults()
	if cfg.Ops == nil {
		cfg.Ops = rt.Roles.Ops()
	}
	return &Paging{rt: rt, cfg: cfg, scheds: cfg.schedules(), st: st, routes: links.Catalog, windows: links.Windows}
}

// Family offers !oncall, !page and !ack, the escalation and auto-resolve jobs, GET /api/v1/oncall and
// /api/v1/pages, and the escalation metrics. (Handoffs, with their digest and shift notices, are the Handoffs
// family's.)
func (p *Paging) Family() Family {
	jobs := []Job{
		{Name: "page escalation", Every: time.Second, Run: p.escalateDue},
	}
	if p.cfg.AckResolveAfter > 0 {
		jobs = append(jobs, Job{Name: "page auto-resolve", Every: time.Minute, Run: p.autoResolve})
	}
	return Family{
		Name:     "paging",
		Commands: append(p.onCallCommands(), p.pageCommands()...),
		Jobs:     jobs,
		Routes: []Route{
			{Pattern: "GET /api/v1/oncall", Handler: http.HandlerFunc(p.apiOnCall)},
			{Pattern: "GET /api/v1/pages", Handler: http.HandlerFunc(p.apiPages)},
		},
		Collectors: []prometheus.Collector{newEscalationCollector(p.st, p.rt.Now)},
	}
}

// OnCallAt implements OnCall: the account on call in the default schedule at t, overrides applied.
func (p *Paging) OnCallAt(t time.Time) (string, bool, error) {
	st, err := p.st.OnCallNow(p.scheds[0].Rotation, t)
	return st.Account, st.Account != "", err
}

// paged reports whether account was paged for pg, with the network's casefolding: a rotation's dan[m]
// arrives as dan{m} on an RFC 1459 network (store.Page.WasPaged compares case-insensitively only).
func (p *Paging) paged(pg store.Page, account string) bool {
	return slices.ContainsFunc(pg.Paged, func(a string) bool { return p.rt.Roles.Same(a, account) })
}

// knownAccount reports whether a is in a schedule's rotation or among ops (so it may be paged as a service
// owner).
func (p *Paging) knownAccount(a string) bool {
	if a == "" {
		return false
	}
	match := func(x string) bool { return p.rt.Roles.Same(x, a) }
	for _, s := range p.scheds {
		if slices.ContainsFunc(s.Rotation.Accounts, match) {
			return true
		}
	}
	return slices.ContainsFunc(p.cfg.Ops, match)
}

func (p *Paging) wake() {
	if p.cfg.Wake != nil {
		p.cfg.Wake()
	}
}

// when renders a moment for chat in loc, as briefly as now allows: "15:04 CET", "Mon 15:04 CET" within the
// week, else "Mon 2 Jan 15:04 CET".
func when(t, now time.Time, loc *time.Location) string {
	lt, ln := t.In(loc), now.In(loc)
	switch {
	case lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay():
		return lt.Format("15:04 MST")
	case t.After(now) && t.Sub(now) < 6*24*time.Hour:
		return lt.Format("Mon 15:04 MST")
	}
	return lt.Format("Mon 2 Jan 15:04 MST")
}
