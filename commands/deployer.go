package commands

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// DeployStore is the part of the store the deploys family uses.
type DeployStore interface {
	ApplyDeploy(ev store.DeployEvent) (store.DeployResult, error)
	RefuseDelivery(id, reason string) error
	DeployStatusOf(service string) (store.DeployStatus, error)
	DeployOverview() ([]store.Deploy, []store.DeployLock, error)
	DeployHistory(service string, n int) ([]store.Deploy, error)
	LockDeploys(service, reason, by string) (store.DeployLock, *store.DeployLock, error)
	UnlockDeploys(service string) (store.DeployLock, error)
	DeployLocksFor(service string) ([]store.DeployLock, error)
	DeploysSince(since time.Time) ([]store.Deploy, error)
	DeploysRolledBack(from, to time.Time) ([]store.Deploy, error)
	GetDeploy(id uint64) (store.Deploy, error)
	RecentDeploys(n int) ([]store.Deploy, error)
}

// DeployConfig is the deploys family's config: [deploys] and the webhook's secrets from [http].
type DeployConfig struct {
	// NoLockOnRollback is deploys.lock_on_rollback = false.
	NoLockOnRollback bool
	// WebhookSecrets verify POST /hooks/deploy (http.webhook_secret and, during a rotation,
	// http.webhook_secret_previous); with none the webhook answers 503.
	WebhookSecrets []string
}

// DeployLinks are the other families' parts the deploys family checks (nil: not checked).
type DeployLinks struct {
	Catalog Catalog // service names
	Freezes Freezes // open incidents that freeze a service's deploys
}

// Deploys is the deploys family: a ledger of rollouts fed from chat and from CI. Chat and the webhook apply
// events with the same checks (catalogue, locks, freezes), the same state machine (in the store) and the
// same announcement text. It is also a source of the meeting agendas.
type Deploys struct {
	rt    Runtime
	st    DeployStore
	cfg   DeployConfig
	links DeployLinks
}

// NewDeploys builds the deploys family.
func NewDeploys(rt Runtime, st DeployStore, cfg DeployConfig, links DeployLinks) *Deploys {
	var secrets []string
	for _, s := range cfg.WebhookSecrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	cfg.WebhookSecrets = secrets
	return &Deploys{rt: rt.withDefaults(), st: st, cfg: cfg, links: links}
}

var (
	deployEnvRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)
	deployVersionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$`)
	deploySiteRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
)

// maxSites bounds the sites of one rollout.
const maxSites = 32

// Invalid is a problem with input that its sender must fix, shown as is: chat prefixes "error: ", the
// webhook puts it under the field's name, the API answers 404 or 400 with it.
type Invalid string

func (c Invalid) Error() string { return string(c) }

// Service validates and lowercases a service name, against the catalogue when there is one. lockAll allows
// "all" (lock and unlock). A name the caller must fix is an Invalid error; others are internal.
func (p *Deploys) Service(name string, lockAll bool) (string, error) {
	name = strings.ToLower(name)
	if name == store.LockAll {
		if lockAll {
			return name, nil
		}
		return "", Invalid(`"all" is not a service (it means every service in lock and unlock)`)
	}
	if !store.ValidServiceName(name) {
		return "", Invalid(fmt.Sprintf("%q is not a service name (a-z, 0-9, . _ -, at most 64)", chat.Truncate(name, 40)))
	}
	if p.links.Catalog == nil {
		return name, nil
	}
	_, err := p.links.Catalog.ServiceOwner(name)
	if errors.Is(err, store.ErrNotFound) {
		// Like incidents: an empty catalogue validates nothing, so a team without one can still record deploys.
		names, err := p.links.Catalog.ServiceNames()
		if err != nil {
			return "", fmt.Errorf("deploy: catalogue: %w", err)
		}
		if len(names) == 0 {
			return name, nil
		}
		msg := fmt.Sprintf("no service %s in the catalogue", name)
		if s := Suggest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return "", Invalid(msg)
	}
	if err != nil {
		return "", fmt.Errorf("deploy: catalogue: %w", err)
	}
	return name, nil
}

func checkVersion(v string) error {
	if !deployVersionRe.MatchString(v) {
		return Invalid(fmt.Sprintf("%q is not a version (letters, digits, . _ + ~ -, at most 64)", chat.Truncate(v, 40)))
	}
	return nil
}

func checkEnv(env string) error {
	if !deployEnvRe.MatchString(env) {
		return Invalid(fmt.Sprintf("%q is not an environment name (a-z, 0-9, . _ -, at most 32)", chat.Truncate(env, 40)))
	}
	return nil
}

func checkSites(sites []string) error {
	if len(sites) == 0 || len(sites) > maxSites {
		return Invalid(fmt.Sprintf("give 1 to %d sites", maxSites))
	}
	for _, s := range sites {
		if !deploySiteRe.MatchString(s) {
			return Invalid(fmt.Sprintf("%q is not a site name (letters, digits, . _ -, at most 32)", chat.Truncate(s, 40)))
		}
	}
	return nil
}

// userErr turns an Invalid into the chat's "error: ..." and passes other errors on.
func userErr(err error) error {
	var cf Invalid
	if errors.As(err, &cf) {
		return Errorf("error: %s", string(cf))
	}
	return err
}

// Apply checks, records and announces one deploy event. from is where it was asked: the reply there is the
// announcement when it is the announcement channel; otherwise (private, the shell, the webhook) the text is
// also announced there. A refusal is a *UserError ("error: ..."); nothing is changed then.
func (p *Deploys) Apply(ev store.DeployEvent, from string) (string, store.DeployResult, error) {
	ev.LockOnRollback = !p.cfg.NoLockOnRollback
	if ev.Status == store.DeployStarted || ev.AutoStart {
		frozen, err := p.frozenBy(ev.Service)
		if err != nil {
			return "", store.DeployResult{}, err
		}
		if frozen != "" && !ev.Force {
			return "", store.DeployResult{}, Errorf("error: deploys of %s are frozen: %s; ops may add --force", ev.Service, frozen)
		}
		ev.Frozen = frozen
	}
	res, err := p.st.ApplyDeploy(ev)
	if err != nil {
		return "", res, p.explain(err, ev)
	}
	text := p.describe(res)
	if res.Duplicate {
		return text + " (delivery seen before, nothing changed)", res, nil
	}
	if err := p.announce(from, text, ev.Status == store.DeployRolledBack || res.Deploy.Override != ""); err != nil {
		// The event is stored: answering with an error would make CI retry it, and the retry, a duplicate,
		// is never announced. Say what happened instead (the failed commit is counted and logged).
		p.rt.Log.Error("deploy: recorded but not announced", "deploy", res.Deploy.ID, "err", err)
		return text + fmt.Sprintf(" (recorded, but the announcement in %s failed: see the log)", p.rt.Channel), res, nil
	}
	return text, res, nil
}

// announce posts text to the announcement channel unless it was asked there (the reply is then enough).
func (p *Deploys) announce(from, text string, urgent bool) error {
	if from != "" && p.rt.Roles.Same(from, p.rt.Channel) {
		return nil
	}
	if err := p.rt.Announce.Announce("", text, urgent); err != nil {
		return fmt.Errorf("deploy: announce: %w", err)
	}
	return nil
}

func (p *Deploys) frozenBy(service string) (string, error) {
	if p.links.Freezes == nil {
		return "", nil
	}
	why, err := p.links.Freezes.FrozenBy(service)
	if err != nil {
		return "", fmt.Errorf("deploy: freezes of %s: %w", service, err)
	}
	return chat.Sanitize(why), nil
}

// Gate returns what stops a rollout of service now: its locks (its own, then the one on all) and a freeze.
func (p *Deploys) Gate(service string) ([]store.DeployLock, string, error) {
	locks, err := p.st.DeployLocksFor(service)
	if err != nil {
		return nil, "", err
	}
	frozen, err := p.frozenBy(service)
	return locks, frozen, err
}

// explain turns a refusal of the store into one line for the caller.
func (p *Deploys) explain(err error, ev store.DeployEvent) error {
	var de *store.DeployError
	if !errors.As(err, &de) {
		return err
	}
	in := ""
	if ev.Env != "" {
		in = " in " + ev.Env
	}
	switch {
	case errors.Is(err, store.ErrDeliveryRefused):
		return &UserError{Err: err, Msg: fmt.Sprintf("error: delivery %s was refused at %s (%s); a replay changes nothing: send the event again with a new delivery id",
			ev.Delivery, de.RefusedAt.In(p.rt.Location).Format(time.RFC3339), de.Refused)}
	case errors.Is(err, store.ErrDeployInProgress):
		d := de.Deploy
		return Errorf("error: %s %s %s is already rolling out in %s (%s): %sdeploy done, fail or rollback %s first",
			chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.Env, p.since(*d), p.rt.Prefix, d.Service)
	case errors.Is(err, store.ErrDeployLocked):
		var why []string
		for _, l := range de.Locks {
			why = append(why, p.lockText(l))
		}
		return Errorf("error: %s; ops may add --force", strings.Join(why, "; "))
	case errors.Is(err, store.ErrNoRollout):
		return Errorf("error: no rollout of %s in progress%s", ev.Service, in)
	case errors.Is(err, store.ErrDeployEnv):
		return Errorf("error: %s is rolling out in %s: add --env %s", ev.Service, strings.Join(de.Envs, " and "), de.Envs[0])
	case errors.Is(err, store.ErrNothingToRollBack) && de.Deploy == nil:
		return Errorf("error: nothing to roll back: no deploy of %s in %s recorded", ev.Service, orString(ev.Env, store.DefaultEnv))
	case errors.Is(err, store.ErrNothingToRollBack) && de.Deploy.State == store.DeployRolledBack:
		d := de.Deploy
		return Errorf("error: nothing to roll back: %s %s %s was already rolled back to %s (%s); to go further, start an older version",
			chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.RolledBackTo, d.Env)
	case errors.Is(err, store.ErrNothingToRollBack):
		d := de.Deploy
		return Errorf("error: nothing to roll back: %s %s is not the newest deploy in %s (%s %s is)", d.Service, ev.Version, d.Env, chat.FormatID(chat.KindDeploy, d.ID), d.Version)
	case errors.Is(err, store.ErrRolloutEnded):
		d := de.Deploy
		return Errorf("error: %s %s %s already ended in %s (%s): a late or repeated event changes nothing",
			chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.Env, strings.ReplaceAll(string(d.State), "_", " "))
	case errors.Is(err, store.ErrNotRunBefore):
		d := de.Deploy
		return Errorf("error: %s %s never ran in %s: a rollback goes back to a version that did (ops may name any); to deploy it: %sdeploy start %s %s",
			d.Service, ev.ToVersion, d.Env, p.rt.Prefix, d.Service, ev.ToVersion)
	case errors.Is(err, store.ErrNoPrevious):
		d := de.Deploy
		return Errorf("error: no version before %s %s %s known in %s: name one (%sdeploy rollback %s <version>)",
			chat.FormatID(chat.KindDeploy, d.ID), d.Service, d.Version, d.Env, p.rt.Prefix, d.Service)
	}
	return err
}

// describe is the one line that a deploy event gives in the reply and the announcement.
func (p *Deploys) describe(res store.DeployResult) string {
	d := res.Deploy
	id := chat.FormatID(chat.KindDeploy, d.ID)
	var s string
	switch d.State {
	case store.DeployStarted:
		s = fmt.Sprintf("%s %s %s started by %s%s (%s)", id, d.Service, d.Version, chat.NoHighlight(d.By), withSpace(progressText(d)), d.Env)
	case store.DeployProgress:
		s = fmt.Sprintf("%s %s %s %s (%s)", id, d.Service, d.Version, orString(progressText(d), "in progress"), d.Env)
	case store.DeploySucceeded:
		s = fmt.Sprintf("%s %s %s succeeded in %s after %s", id, d.Service, d.Version, d.Env, chat.FormatDuration(d.Ended.Sub(d.Started)))
		if d.Previous != "" && d.Previous != d.Version {
			s += " (was " + d.Previous + ")"
		}
	case store.DeployFailed:
		s = fmt.Sprintf("%s %s %s failed%s (%s)%s", id, d.Service, d.Version, withSpace(progressText(d)), d.Env, reasonText(d.Reason))
		if d.Previous != "" {
			s += fmt.Sprintf("; %s stays on %s", d.Env, d.Previous)
		}
	case store.DeployRolledBack:
		s = fmt.Sprintf("%s %s rolled back from %s to %s in %s by %s%s", id, d.Service, d.Version, d.RolledBackTo, d.Env, chat.NoHighlight(d.EndedBy), reasonText(d.Reason))
		switch {
		case res.Lock != nil:
			s += fmt.Sprintf(". Locked: %s (ops: %sdeploy unlock %s)", res.Lock.Reason, p.rt.Prefix, d.Service)
		case res.KeptLock != nil:
			s += ". Still locked: " + res.KeptLock.Reason
		}
	}
	if res.Started {
		s += forcedMark(d)
	}
	if d.Source == "webhook" {
		if d.Note != "" && d.Reason == "" {
			s += ": " + chat.Truncate(d.Note, 120)
		}
		if d.URL != "" {
			s += " " + d.URL
		}
	}
	return s
}

func reasonText(r string) string {
	if r == "" {
		return ""
	}
	return ": " + chat.Truncate(r, 160)
}

func withSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func orString(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// progressText is how far a partial rollout has gone: "at 50%", "on eu-1, us-1", "at 50% on eu-1" or "".
func progressText(d store.Deploy) string {
	var parts []string
	if d.Percent > 0 {
		parts = append(parts, fmt.Sprintf("at %d%%", d.Percent))
	}
	if n := len(d.Sites); n > 0 {
		shown := d.Sites[:min(n, 5)]
		s := "on " + strings.Join(shown, ", ")
		if n > len(shown) {
			s += fmt.Sprintf(" +%d", n-len(shown))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// since is "at 50% since 10:05 by alice".
func (p *Deploys) since(d store.Deploy) string {
	return strings.TrimSpace(fmt.Sprintf("%s since %s by %s", progressText(d), p.when(d.Started), chat.NoHighlight(d.By)))
}

func (p *Deploys) lockText(l store.DeployLock) string {
	what := l.Service + " is"
	if l.Service == store.LockAll {
		what = "all deploys are"
	}
	return what + " " + p.lockedBy(l)
}

// lockedBy is "locked by carol since 10:30: db migration".
func (p *Deploys) lockedBy(l store.DeployLock) string {
	return fmt.Sprintf("locked by %s since %s: %s", chat.NoHighlight(l.By), p.when(l.At), l.Reason)
}

// when is a time for chat: "10:05" today, "11-24 10:05" before, in the bot's time zone.
func (p *Deploys) when(t time.Time) string {
	t, now := t.In(p.rt.Location), p.rt.Now().In(p.rt.Location)
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}
