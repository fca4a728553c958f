package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/opsbot/opsbot/store"
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
	// Channels are all configured channels (reminders post only there); empty means just Channel.
	Channels []string
	// MaxLines is bot.max_lines, a channel's line budget (0: 4); read it through ChannelLines.
	MaxLines int
	// Log is for families that log what they do on their own (jobs); nil: slog.Default().
	Log *slog.Logger
	// ConfigReminders are the [[reminders]] of the config file, seeded into the store at start.
	ConfigReminders []store.Reminder
	// ReminderGrace is how late a missed reminder may still be posted (0: DefaultReminderGrace).
	ReminderGrace time.Duration
	// Agenda are the sources of live data for meeting agendas, in order; families without one render as
	// "no data".
	Agenda []AgendaSource
	// Freezes says whether deploys of a service are frozen (nil: never frozen).
	Freezes Freezes
	// Catalog validates service names (nil: any well-formed name is accepted).
	Catalog Catalog
	// NoLockOnRollback is deploys.lock_on_rollback = false.
	NoLockOnRollback bool
	// Incidents and Deploys feed !service <name>; nil when those families are not wired.
	Incidents Incidents
	Deploys   Deploys
	Pager     Pager
	SLOs      SLOs
	// Topic reads and sets channel topics (the IRC transport); nil in the shell.
	Topic Topic
	// IncidentOptions configure the incidents and availability family.
	IncidentOptions IncidentOptions
	// Paging configures the on-call and paging family.
	Paging PagingConfig
	// OnCall is provided by the on-call and paging family (nil when not wired).
	OnCall OnCall
	// Roles tells ops accounts apart (the board's WIP per person, who may be assigned).
	Roles *Roles
	// RequestWIPLimit and RequestNagAfter are requests.wip_limit and requests.nag_after.
	RequestWIPLimit int
	RequestNagAfter time.Duration
}

// Announcer posts messages that are not replies (pages, notices, reminders). Every method stores the message
// durably before it returns; it is delivered once connected, even across a restart.
type Announcer interface {
	// Announce posts to a channel ("" = the default channel). Urgent messages jump the outbound queue.
	Announce(channel, text string, urgent bool) error
	// Notify sends a private message to a nick (someone who just spoke, by the nick they spoke with).
	Notify(nick, text string, urgent bool) error
	// Tell sends a private message to the person logged in as account, whatever their nick: never to a
	// nick merely equal to the account name, which anyone may hold.
	Tell(account, text string, urgent bool) error
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
		if d.OnCall == nil {
			d.OnCall = pg
		}
		if d.Pager == nil {
			d.Pager = pg
		}
		cmds = append(cmds, pg.commands()...)
		jobs = append(jobs, pg.jobs()...)
	}
	reqCmds, reqJobs := requestCommands(d)
	cmds, jobs = append(cmds, reqCmds...), append(jobs, reqJobs...)
	cmds = append(cmds, serviceCommands(d)...)
	incCmds, incJobs := incidentCommands(d)
	cmds = append(cmds, incCmds...)
	jobs = append(jobs, incJobs...)
	cmds = append(cmds, availabilityCommands(d)...)
	cmds = append(cmds, deployCommands(d)...)
	remind, remindJobs, remindErr := remindCommands(d)
	if remindErr != nil {
		return nil, nil, remindErr
	}
	cmds = append(cmds, remind...)
	jobs = append(jobs, remindJobs...)
	var err error
	reg, err = NewRegistry(cmds...)
	return reg, jobs, err
}

// ChannelLines is bot.max_lines: the most lines a reply may have in a channel (4 when unset).
func (d Deps) ChannelLines() int {
	if d.MaxLines > 0 {
		return d.MaxLines
	}
	return 4
}

// Logger is Log, or slog.Default() when unset.
func (d Deps) Logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}
