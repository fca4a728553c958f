package commands

import (
	"context"
	"strings"
	"time"

	"github.com/opsbot/opsbot/store"
)

// The contracts between command families. A family that needs another family's data declares the need here
// and takes it as a typed parameter of its constructor; the composition root passes the providing family (the
// paging family is the OnCall and Pager) or the store (*store.Store keeps the catalogue, freezes and the
// per-service summaries). A consumer given nil leaves that part out, so one family can be tested alone.

// Catalog is the service catalogue (services family).
type Catalog interface {
	// ServiceOwner returns the owner (an account or a team name, possibly empty); an unknown service is an
	// error wrapping store.ErrNotFound.
	ServiceOwner(name string) (string, error)
	// ServiceImpact returns every service that depends on name, directly or transitively, nearest first.
	ServiceImpact(name string) ([]string, error)
	// ServiceNames lists all services (for "did you mean" suggestions).
	ServiceNames() ([]string, error)
}

// OnCall says who is on call (on-call family).
type OnCall interface {
	// OnCallAt returns the account on call at t, with overrides applied; ok is false when nobody is.
	OnCallAt(t time.Time) (account string, ok bool, err error)
}

// Pager pages people (paging family).
type Pager interface {
	// PageOnCall pages whoever is on call for service ("" = ops) on behalf of by, and returns the page id
	// ("P-3"). It stores the page before returning; notification and escalation happen after.
	PageOnCall(ctx context.Context, by, service, text string) (string, error)
}

// Freezes says whether deploys of a service are frozen by open incidents (incidents family).
type Freezes interface {
	// FrozenBy returns why deploys of service are frozen ("INC-7 SEV1 open"), or "" when they are not.
	FrozenBy(service string) (string, error)
}

// FreezesOf joins the freezes of several families (open incidents, maintenance windows): a service is
// frozen when any of them freezes it, for all their reasons.
type FreezesOf []Freezes

// FrozenBy implements Freezes.
func (fs FreezesOf) FrozenBy(service string) (string, error) {
	var why []string
	for _, f := range fs {
		r, err := f.FrozenBy(service)
		if err != nil {
			return "", err
		}
		if r != "" {
			why = append(why, r)
		}
	}
	return strings.Join(why, "; "), nil
}

// ServiceIncidents summarises open incidents per service (the store, from the incidents family's records).
type ServiceIncidents interface {
	// OpenIncidents returns one short line per open incident affecting service ("INC-7 SEV2 investigating").
	OpenIncidents(service string) ([]string, error)
}

// ServiceDeploys summarises deploys per service (the store, from the deploys family's records).
type ServiceDeploys interface {
	// CurrentVersion is the version last deployed successfully to env ("" if none).
	CurrentVersion(service, env string) (string, error)
	DeploysStarted
}

// DeploysStarted finds the deploys of a service started in a window (the store).
type DeploysStarted interface {
	// DeploysStartedBetween returns the deploys of service started in [from, to), oldest first.
	DeploysStartedBetween(service string, from, to time.Time) ([]store.Deploy, error)
}

// SLOs gives services' availability objectives (services family).
type SLOs interface {
	// ServiceSLO returns the service's SLO in percent (99.9); ok is false when it has none.
	ServiceSLO(name string) (slo float64, ok bool, err error)
}

// AgendaSource contributes live data to the weekly meeting reminders (reminders family consumes; requests,
// incidents, availability and deploys provide). kind is "retro", "planning" or "scalability"; [from, to) is
// the week the meeting looks back on. A source with nothing to say for a kind returns no lines.
type AgendaSource interface {
	// AgendaName names the source in the agenda ("requests", "incidents", "deploys").
	AgendaName() string
	// Agenda returns short lines for the kind, most important first.
	Agenda(kind string, from, to time.Time) ([]string, error)
}

// Schedules are the on-call schedules (paging family): the default one, ops (the [oncall] rotation), and
// those of [[oncall.schedules]].
type Schedules interface {
	// ScheduleNames lists the schedules, the default first.
	ScheduleNames() []string
	// Rotation returns a schedule's rotation ("" is the default schedule); ok is false for an unknown name.
	Rotation(schedule string) (r store.Rotation, ok bool)
}

// DigestSource contributes to the on-call handoff digest: what the incoming person must know (handoffs
// family consumes; paging, requests, incidents and deploys provide, and so may any other family). schedule
// is the schedule handing over ("ops", "db"); a source may keep to what concerns it or ignore it. [since,
// now) is the shift that is ending: what happened during it (a rollback) is the source's to weigh; what is
// still open is reported whenever it began. A source with nothing to say returns the zero DigestPart: it
// is then left out of the digest altogether (no "nothing to report" lines in a six-line digest). The digest
// ranks sources by name: pages, incidents, alerts, requests, deploys, maintenance, then any other.
type DigestSource interface {
	// DigestName names the source in the digest ("pages", "incidents", "requests", "deploys").
	DigestName() string
	// Digest returns the source's part of the digest.
	Digest(schedule string, since, now time.Time) (DigestPart, error)
}

// DigestPart is one source's part of a handoff digest.
type DigestPart struct {
	// Summary is a few words for the channel's handoff line ("2 pages open", "INC-7 open", "1 lock"); ""
	// keeps the source out of that line.
	Summary string
	// Items are short items ("P-3 open 4m, paging carol: db is down"), most important first, ids first,
	// nobody highlighted; the digest shows as many as fit one line and counts the rest ("+2 more").
	Items []string
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

// Windows says which maintenance window is in progress (maintenance family): alert pages are held back
// during one, a person's page is marked with it.
type Windows interface {
	// During returns the window in progress at t that covers service (an "all" window covers every
	// service; service "" asks for an "all" window), with its reason.
	During(service string, t time.Time) (ref, reason string, ok bool, err error)
}
