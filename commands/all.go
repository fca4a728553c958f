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
	// OnCall says who is on call (nil: the on-call family is not wired; nobody is named).
	OnCall OnCall
	// Catalog is the service catalogue (nil: any well-formed service name is accepted, no owner shown).
	Catalog Catalog
	// Roles is the dispatcher's role table: who the ops accounts are (nil: unknown).
	Roles *Roles
	// RequestWIPLimit (requests.wip_limit) and RequestNagAfter (requests.nag_after); zero uses the defaults.
	RequestWIPLimit int
	RequestNagAfter time.Duration
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
	reqCmds, reqJobs := requestCommands(d)
	cmds, jobs = append(cmds, reqCmds...), append(jobs, reqJobs...)
	var err error
	reg, err = NewRegistry(cmds...)
	return reg, jobs, err
}
