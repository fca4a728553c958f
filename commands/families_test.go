package commands

import (
	"cmp"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// mustOpen opens a store in tb.TempDir(), closed at cleanup.
func mustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// testDeps are what a test gives the families: the shared runtime, a real store, each family's config
// section, and the links between families. A nil link is left out (no catalogue check, no deploys shown),
// except OnCall and Pager, which are the paging family's when nil; Agenda are the reminders' only sources.
type testDeps struct {
	Store    *store.Store
	Announce Announcer
	Prefix   string
	Now      func() time.Time
	Location *time.Location
	Channel  string
	Channels []string
	MaxLines int
	Log      *slog.Logger
	Roles    *Roles
	BaseURL  string

	Version  string
	Started  time.Time
	Insecure bool
	Status   StatusSource

	ConfigReminders  []store.Reminder
	ReminderGrace    time.Duration
	Agenda           []AgendaSource
	NoLockOnRollback bool
	IncidentOptions  IncidentConfig
	Paging           PagingConfig
	RequestWIPLimit  int
	RequestNagAfter  time.Duration

	Handoff HandoffConfig
	Digest  []DigestSource // read before the families' own (a source of the same name replaces the family's)

	Freezes   Freezes
	Catalog   Catalog
	Routes    ServiceRoutes
	Incidents ServiceIncidents
	Deploys   ServiceDeploys
	Pager     Pager
	SLOs      SLOs
	Topic     Topic
	OnCall    OnCall
	// AsTheBot links the families as the bot's composition root does: every link left nil is the store's,
	// and the agenda sources after Agenda are the families' own.
	AsTheBot bool
}

// runtime is the Runtime of d.
func (d testDeps) runtime() Runtime {
	return Runtime{Now: d.Now, Location: d.Location, Prefix: d.Prefix, Announce: d.Announce, MaxLines: d.MaxLines, Log: d.Log,
		Channel: d.Channel, Channels: d.Channels, Roles: d.Roles, BaseURL: d.BaseURL}
}

// incidents is the incidents family over d, linked as buildAll links it.
func (d testDeps) incidents() *Incidents {
	return NewIncidents(d.runtime(), d.Store, d.IncidentOptions, IncidentLinks{Catalog: d.Catalog, Pager: d.Pager, Deploys: d.Deploys, SLOs: d.SLOs, Topic: d.Topic})
}

// buildAll builds every family over d as the bot's composition root does (with d's links instead of the
// store's), and returns the registry and the jobs.
func buildAll(d testDeps) (*Registry, []Job, error) {
	rt := d.runtime()
	if d.AsTheBot {
		d.Catalog = cmp.Or[Catalog](d.Catalog, d.Store)
		d.Routes = cmp.Or[ServiceRoutes](d.Routes, d.Store)
		d.Freezes = cmp.Or[Freezes](d.Freezes, d.Store)
		d.Incidents = cmp.Or[ServiceIncidents](d.Incidents, d.Store)
		d.Deploys = cmp.Or[ServiceDeploys](d.Deploys, d.Store)
		d.SLOs = cmp.Or[SLOs](d.SLOs, d.Store)
	}
	maint := NewMaint(rt, d.Store, MaintConfig{}, MaintLinks{Catalog: d.Catalog, Routes: d.Routes})
	paging := NewPaging(rt, d.Store, d.Paging, PagingLinks{Catalog: d.Routes, Windows: maint})
	if d.OnCall == nil {
		d.OnCall = paging
	}
	if d.Pager == nil {
		d.Pager = paging
	}
	services, err := NewServices(rt, d.Store, ServiceConfig{Schedules: d.Paging.ScheduleNames()}, ServiceLinks{Incidents: d.Incidents, Deploys: d.Deploys})
	if err != nil {
		return nil, nil, err
	}
	requests := NewRequests(rt, d.Store, RequestConfig{WIPLimit: d.RequestWIPLimit, NagAfter: d.RequestNagAfter}, d.OnCall, d.Catalog)
	incidents := NewIncidents(rt, d.Store, d.IncidentOptions, IncidentLinks{Catalog: d.Catalog, Pager: d.Pager, Deploys: d.Deploys, SLOs: d.SLOs, Topic: d.Topic})
	deploys := NewDeploys(rt, d.Store, DeployConfig{NoLockOnRollback: d.NoLockOnRollback}, DeployLinks{Catalog: d.Catalog, Freezes: d.Freezes})
	if d.AsTheBot {
		d.Agenda = append(d.Agenda, requests, incidents, incidents.AvailabilityAgenda(), deploys)
	}
	alerts := NewAlerts(rt, d.Store, AlertConfig{}, paging, maint)
	handoffs := NewHandoffs(rt, d.Store, d.Handoff, paging, append(d.Digest, paging, incidents, alerts, requests, deploys, maint)...)
	reminders, err := NewReminders(rt, d.Store, ReminderConfig{Seeds: d.ConfigReminders, Grace: d.ReminderGrace}, d.Agenda...)
	if err != nil {
		return nil, nil, err
	}
	set, err := NewSet(rt,
		NewCore(rt, d.Store, CoreConfig{Version: d.Version, Started: d.Started, Insecure: d.Insecure, IRC: d.Status}).Family(),
		paging.Family(), handoffs.Family(), requests.Family(), services.Family(), incidents.Family(), deploys.Family(), reminders.Family(),
		alerts.Family(), maint.Family())
	if err != nil {
		return nil, nil, err
	}
	return set.Registry, set.Jobs, nil
}
