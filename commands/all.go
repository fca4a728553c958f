package commands

import (
	"context"
	"time"
)

// Deps is what the command families need from the running bot.
type Deps struct {
	Store    Ledger
	Status   StatusSource
	Announce Announcer
	Prefix   string
	Version  string
	Started  time.Time
	Insecure bool // auth.require_account = false: nicks are trusted
	Now      func() time.Time
	Location *time.Location
	// Channel is where announcements go by default (the first configured channel).
	Channel string
	// Paging configures the on-call and paging family.
	Paging PagingConfig
	// Catalog is the service catalogue; nil when the services family is not wired (pages go to the on-call).
	Catalog Catalog
	// OnCall and Pager are provided by the on-call and paging family: All sets them for the families after it.
	OnCall OnCall
	Pager  Pager
}

// Announcer posts messages that are not replies (pages, notices, reminders). Both methods store the message
// durably before they return; it is delivered once connected, even across a restart.
type Announcer interface {
	// Announce posts to a channel ("" = the default channel). Urgent messages jump the outbound queue.
	Announce(channel, text string, urgent bool) error
	// Notify sends a private message to a nick.
	Notify(nick, text string, urgent bool) error
}

// Job is periodic work of a family (nags, escalations, reminders). The bot runs every job in one scheduler
// goroutine, at most once per Every, with the injected clock's time. State lives in the store, so a job
// picks up after a restart where the last run left off.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// All builds the registry of every command family and their periodic jobs. It is the one place where
// commands are registered.
func All(d Deps) (*Registry, []Job, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	var reg *Registry
	var cmds []*Command
	var jobs []Job
	cmds = append(cmds, helpCommands(d, func() *Registry { return reg })...)
	cmds = append(cmds, statusCommands(d)...)
	cmds = append(cmds, auditCommands(d)...)
	if pg := newPaging(d); pg != nil { // on call and paging: before the families that use d.OnCall and d.Pager
		d.OnCall, d.Pager = pg, pg
		cmds = append(cmds, pg.commands()...)
		jobs = append(jobs, pg.jobs()...)
	}
	var err error
	reg, err = NewRegistry(cmds...)
	return reg, jobs, err
}
