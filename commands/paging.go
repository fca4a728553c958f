package commands

import (
	"slices"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// PagingConfig configures the on-call and paging family ([oncall] and [paging] in the config).
type PagingConfig struct {
	Rotation store.Rotation
	// MaxOverride caps !oncall take and !oncall override (0: 24h).
	MaxOverride time.Duration
	// AckTimeout is how long a paged person has to ack before the page escalates (0: 5m).
	AckTimeout time.Duration
	// Escalation lists the steps: accounts, or "next" for the next in the rotation (empty: ["next"]). The last
	// step repeats until MaxEscalations steps have been taken; then a final notice goes to the channel.
	Escalation     []string
	MaxEscalations int
	// DedupeWindow: a second page by the same person with an open page this recent is added to it (0: never).
	DedupeWindow time.Duration
	// RateLimit is how many pages one person may open per hour (0: no limit).
	RateLimit int
	// Ops are accounts a service owner may name to be paged directly (with the rotation's accounts).
	Ops []string
	// Notifiers names the external notifiers (webhook, PagerDuty, e-mail): every page event is stored as a
	// delivery task for each. Wake, if set, is called after tasks were stored.
	Notifiers []string
	Wake      func()
}

func (c PagingConfig) withDefaults() PagingConfig {
	if c.MaxOverride <= 0 {
		c.MaxOverride = 24 * time.Hour
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Minute
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
	Handoff(r store.Rotation, now time.Time, announce func(prev string, cur store.OnCallState) error) (prev string, cur store.OnCallState, changed bool, err error)
	OpenPage(req store.PageRequest) (store.Page, bool, error)
	AckPage(id uint64, by string, now time.Time, notifiers []string, check func(store.Page) error) (store.Page, error)
	ResolvePage(id uint64, by string, now time.Time, notifiers []string, check func(store.Page) error) (store.Page, error)
	EscalatePage(id uint64, due time.Time, to string, next, now time.Time, note string, notifiers []string) (store.Page, bool, error)
	ExhaustPage(id uint64, due, now time.Time, notifiers []string) (store.Page, bool, error)
	DuePages(now time.Time, limit int) ([]store.Page, error)
	OpenPages() ([]store.Page, error)
	PageNoticeSent(id uint64, n store.PageNotice) error
	PagesWithNotices() ([]store.Page, error)
}

// paging is the on-call and paging family. It implements the OnCall and Pager contracts.
type paging struct {
	d   Deps
	cfg PagingConfig
	st  PagingStore
}

// newPaging builds the family, or returns nil when the store cannot hold pages.
func newPaging(d Deps) *paging {
	st, ok := d.Store.(PagingStore)
	if !ok {
		return nil
	}
	if d.Announce == nil {
		d.Announce = silentAnnouncer{}
	}
	return &paging{d: d, cfg: d.Paging.withDefaults(), st: st}
}

// silentAnnouncer stands in when no Announcer is wired (pages are still stored and escalate).
type silentAnnouncer struct{}

func (silentAnnouncer) Announce(string, string, bool) error { return nil }
func (silentAnnouncer) Notify(string, string, bool) error   { return nil }
func (silentAnnouncer) Tell(string, string, bool) error     { return nil }

// NewOnCallPaging builds the family's core over d, to wire its OnCall and Pager contracts outside All; ok is
// false when d.Store cannot hold pages.
func NewOnCallPaging(d Deps) (OnCall, Pager, bool) {
	p := newPaging(d)
	if p == nil {
		return nil, nil, false
	}
	if p.d.Now == nil {
		p.d.Now = time.Now
	}
	if p.d.Location == nil {
		p.d.Location = time.UTC
	}
	return p, p, true
}

func (p *paging) commands() []*Command {
	return append(p.onCallCommands(), p.pageCommands()...)
}

func (p *paging) jobs() []Job {
	return []Job{
		{Name: "oncall handoff", Every: 15 * time.Second, Run: p.handoff},
		{Name: "page escalation", Every: time.Second, Run: p.escalateDue},
	}
}

// OnCallAt implements OnCall: the account on call at t, overrides applied.
func (p *paging) OnCallAt(t time.Time) (string, bool, error) {
	st, err := p.st.OnCallNow(p.cfg.Rotation, t)
	return st.Account, st.Account != "", err
}

// sameAccount compares account names whatever the casemapping that folded them.
func sameAccount(a, b string) bool { return chat.FoldRFC1459(a) == chat.FoldRFC1459(b) }

// paged reports whether account was paged for pg, with the casefolding accounts have on IRC: a rotation's
// dan[m] arrives as dan{m} (store.Page.WasPaged compares case-insensitively only).
func paged(pg store.Page, account string) bool {
	return slices.ContainsFunc(pg.Paged, func(a string) bool { return sameAccount(a, account) })
}

// knownAccount reports whether a is in the rotation or among ops (so it may be paged as a service owner).
func (p *paging) knownAccount(a string) bool {
	match := func(x string) bool { return sameAccount(x, a) }
	return a != "" && (slices.ContainsFunc(p.cfg.Rotation.Accounts, match) || slices.ContainsFunc(p.cfg.Ops, match))
}

// inAnnounceChannel reports whether a call came from the channel where announcements go, so an announcement
// there is its answer.
func (p *paging) inAnnounceChannel(c *Call) bool {
	return c.Channel != "" && p.d.Channel != "" && chat.FoldRFC1459(c.Channel) == chat.FoldRFC1459(p.d.Channel)
}

func (p *paging) wake() {
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
