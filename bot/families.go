package bot

import (
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/web"
	"github.com/opsbot/opsbot/store"
)

// FamilyConfig are the config sections of the command families, one field per family.
type FamilyConfig struct {
	Requests  commands.RequestConfig
	Paging    commands.PagingConfig
	Handoffs  commands.HandoffConfig
	Incidents commands.IncidentConfig
	Deploys   commands.DeployConfig
	Services  commands.ServiceConfig
	Reminders commands.ReminderConfig
	Alerts    commands.AlertConfig
	Maint     commands.MaintConfig
	Web       web.Config
}

// families is the composition root: it builds every command family once, from the store and its config
// section, and connects the families that use each other's data. The IRC bot and the shell both call it, and
// the bot hands the same family values to chat (the registry), to the job scheduler and to the HTTP server.
//
// Adding a family: write it in commands (its constructor takes its typed store interface, the Runtime and
// its config section, and its Family method gives its commands, jobs, routes and metrics), give FamilyConfig
// a field for its config section, and add one line here. Passing st where a family's store interface is asked
// for makes the build fail if *store.Store ever stops providing what the family needs.
func families(rt commands.Runtime, st *store.Store, o *Options, core commands.CoreConfig, topic commands.Topic) (*commands.Set, error) {
	svcCfg := o.Services
	svcCfg.Schedules = o.Paging.ScheduleNames()
	services, err := commands.NewServices(rt, st, svcCfg, commands.ServiceLinks{Incidents: st, Deploys: st})
	if err != nil {
		return nil, err
	}
	maint := commands.NewMaint(rt, st, o.Maint, commands.MaintLinks{Catalog: st, Routes: st})
	paging := commands.NewPaging(rt, st, o.Paging, commands.PagingLinks{Catalog: st, Windows: maint})
	var pager commands.Pager = paging
	if o.Pager != nil {
		pager = o.Pager
	}
	requests := commands.NewRequests(rt, st, o.Requests, paging, st)
	alerts := commands.NewAlerts(rt, st, o.Alerts, paging, maint)
	incidents := commands.NewIncidents(rt, st, o.Incidents, commands.IncidentLinks{Catalog: st, Pager: pager, Deploys: st, SLOs: st, Topic: topic,
		Alerts: alerts, Windows: maint})
	deploys := commands.NewDeploys(rt, st, o.Deploys, commands.DeployLinks{Catalog: st, Freezes: commands.FreezesOf{st, maint}})
	// The handoff digest's sources (it ranks them by importance).
	digest := append(append([]commands.DigestSource(nil), o.Digest...), paging, incidents, alerts, requests, deploys, maint)
	handoffs := commands.NewHandoffs(rt, st, o.Handoffs, paging, digest...)
	agenda := append(append([]commands.AgendaSource(nil), o.Agenda...), requests, incidents, incidents.AvailabilityAgenda(), deploys, maint)
	reminders, err := commands.NewReminders(rt, st, o.Reminders, agenda...)
	if err != nil {
		return nil, err
	}
	webCfg := o.Web
	webCfg.APIToken, webCfg.Nick, webCfg.WIPLimit, webCfg.Weights = o.APIToken, o.Nick, requests.WIPLimit(), o.Incidents.SeverityWeights()
	pages, err := web.New(rt, st, webCfg, web.Links{Requests: st, Incidents: st, Services: st, Deploys: st, Pages: st,
		OnCall: paging, Handoffs: handoffs, Meetings: reminders, Postmortems: incidents, Alerts: st, Windows: st})
	if err != nil {
		return nil, err
	}
	return commands.NewSet(rt,
		commands.NewCore(rt, st, core).Family(),
		paging.Family(),
		handoffs.Family(),
		requests.Family(),
		services.Family(),
		incidents.Family(),
		deploys.Family(),
		reminders.Family(),
		alerts.Family(),
		maint.Family(),
		pages.Family(),
	)
}
