// Package seed fills a store with the history of a busy ops team, through the store's public API only, for
// the benchmarks at scale (make bench SIZES=1,5,10). Per year: 20,000 requests, 2,000 incidents, 20,000
// deploys, 4,000 pages and 200,000 audit entries, over 200 services. Every step of every record (a request's
// take, comment and done; a rollout's progress; a page's ack) is a write of its own at its own time, and the
// writes of all families are interleaved in time order, as the bot would make them: the file's pages then
// fill and split as they do in production.
package seed

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/opsbot/opsbot/store"
)

// Per year, as a busy team of the probe.
const (
	RequestsPerYear  = 20_000
	IncidentsPerYear = 2_000
	DeploysPerYear   = 20_000
	PagesPerYear     = 4_000
	AuditPerYear     = 200_000
	Services         = 200
)

// Config says how much history to write.
type Config struct {
	// Years of history (fractions allowed): the rates above times Years.
	Years float64
	// End is when the history ends (default: now); it starts Years before.
	End time.Time
	// Seed makes the history repeatable (the same seed and config write the same records).
	Seed uint64
	// Progress, if set, is called after each simulated day with the share done (0 to 1).
	Progress func(done float64)
	// Jobs run the bot's housekeeping once a simulated day, as a bot running through those years would:
	// the audit log and delivery ids pruned after their retention, acked pages resolved after
	// AckResolveAfter (zero: that job is off, as in a bot that has none).
	Jobs Jobs
}

// Jobs are the store's housekeeping the generator runs daily (see Config).
type Jobs struct {
	AuditRetention, DeliveryRetention, AckResolveAfter time.Duration
}

// DefaultJobs are the bot's defaults.
var DefaultJobs = Jobs{AuditRetention: store.DefaultAuditRetention, DeliveryRetention: store.DefaultDeliveryRetention,
	AckResolveAfter: 24 * time.Hour}

// Counts are the records written (and refusals the store gave, which are part of real traffic too).
type Counts struct {
	Requests, Incidents, Deploys, Pages, Audit, Writes, Refused int
}

// Names the generator uses, for benchmarks that look records up.
var (
	Ops  = []string{"alice", "carol", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	Devs = func() []string {
		var out []string
		for i := range 60 {
			out = append(out, fmt.Sprintf("dev%02d", i))
		}
		return out
	}()
	// Envs are the environments of deploys, most common first; RareEnv is about 2% of them.
	Envs    = []string{"prod", "staging"}
	RareEnv = "qa"
)

// ServiceName is the name of service i (0 <= i < Services); low numbers deploy and break most.
func ServiceName(i int) string {
	pre := []string{"api", "auth", "billing", "cache", "catalog", "checkout", "dns", "edge", "email", "feed",
		"gateway", "image", "index", "kafka", "ledger", "login", "media", "metrics", "notify", "playlist"}
	suf := []string{"", "-worker", "-db", "-cache", "-proxy", "-eu", "-us", "-batch", "-admin", "-v2"}
	return pre[i%len(pre)] + suf[(i/len(pre))%len(suf)]
}

// event is one write at one moment.
type event struct {
	at  time.Time
	seq int
	run func() error
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// gen is one run of the generator.
type gen struct {
	st    *store.Store
	rng   *rand.Rand
	now   time.Time
	end   time.Time
	q     queue
	seq   int
	n     Counts
	vers  map[string]int // service -> last version number
	hooks int            // webhook delivery ids
	jobs  Jobs
}

// Run writes cfg's history into st. st.Now is the simulated clock while it runs and is restored after.
func Run(st *store.Store, cfg Config) (Counts, error) {
	if cfg.End.IsZero() {
		cfg.End = time.Now().UTC().Truncate(time.Minute)
	}
	start := cfg.End.Add(-time.Duration(cfg.Years * 365 * 24 * float64(time.Hour)))
	g := &gen{st: st, rng: rand.New(rand.NewPCG(cfg.Seed, 20)), now: start, end: cfg.End, vers: map[string]int{}, jobs: cfg.Jobs}
	oldNow := st.Now
	st.Now = func() time.Time { return g.now }
	defer func() { st.Now = oldNow }()

	if err := g.services(); err != nil {
		return g.n, err
	}
	days := int(math.Ceil(cfg.End.Sub(start).Hours() / 24))
	for d := range days {
		g.push(start.Add(time.Duration(d)*24*time.Hour), func() error { g.day(); return nil })
	}
	total := cfg.End.Sub(start)
	lastDay := -1
	for g.q.Len() > 0 {
		e := heap.Pop(&g.q).(*event)
		if e.at.After(cfg.End) {
			continue // after the end of history: still open work
		}
		g.now = e.at
		if err := e.run(); err != nil {
			return g.n, fmt.Errorf("seed: at %s: %w", e.at.Format(time.RFC3339), err)
		}
		if day := int(e.at.Sub(start).Hours() / 24); cfg.Progress != nil && day != lastDay {
			lastDay = day
			cfg.Progress(float64(e.at.Sub(start)) / float64(total))
		}
	}
	g.now = cfg.End
	if _, err := st.AuditLog(1); err != nil { // commits the queued audit entries
		return g.n, err
	}
	return g.n, nil
}

func (g *gen) push(at time.Time, f func() error) {
	g.seq++
	heap.Push(&g.q, &event{at: at, seq: g.seq, run: f})
}

// after schedules f d after now.
func (g *gen) after(d time.Duration, f func() error) { g.push(g.now.Add(d), f) }

// between is a random duration in [lo, hi).
func (g *gen) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)))
}

// pct is true p percent of the time.
func (g *gen) pct(p float64) bool { return g.rng.Float64()*100 < p }

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// service picks a service, the low numbers far more often (a few services deploy and break most).
func (g *gen) service() string {
	u := g.rng.Float64()
	return ServiceName(int(float64(Services) * u * u))
}

// timeOfDay is a moment in the day starting at day, mostly in working hours.
func (g *gen) timeOfDay(day time.Time) time.Time {
	if g.pct(85) {
		return day.Add(7*time.Hour + g.between(0, 12*time.Hour))
	}
	return day.Add(g.between(0, 24*time.Hour))
}

// refused counts a write the store refused for a reason of its rules (part of real traffic), and fails on
// anything else.
func (g *gen) refused(err error) error {
	var rule *store.IncidentRuleError
	var dep *store.DeployError
	var rl *store.RateLimitError
	switch {
	case err == nil:
		g.n.Writes++
		return nil
	case errors.As(err, &rule), errors.As(err, &dep), errors.As(err, &rl),
		errors.Is(err, store.ErrIllegalTransition), errors.Is(err, store.ErrPageAcked), errors.Is(err, store.ErrPageResolved),
		errors.Is(err, store.ErrNotFound):
		g.n.Refused++
		return nil
	}
	return err
}

// services adds the catalogue: owners, SLOs and a few dependencies each on lower-numbered services.
func (g *gen) services() error {
	for i := range Services {
		owner := g.pick(Ops)
		slo := []float64{99, 99.5, 99.9, 99.95}[g.rng.IntN(4)]
		notes := fmt.Sprintf("runbook: https://wiki.example.net/runbooks/%s", ServiceName(i))
		var deps []string
		for range min(i, g.rng.IntN(4)) {
			if d := ServiceName(g.rng.IntN(i)); d != ServiceName(i) && !contains(deps, d) {
				deps = append(deps, d)
			}
		}
		if _, err := g.st.AddService(ServiceName(i), store.ServiceFields{Owner: &owner, SLO: &slo, Notes: &notes}, deps, false, "alice"); err != nil {
			return err
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// housekeeping runs the bot's jobs that keep the store from growing, as the bot runs them (in batches).
func (g *gen) housekeeping() error {
	if r := g.jobs.AuditRetention; r > 0 {
		for n := 1000; n == 1000; {
			var err error
			if n, err = g.st.PruneAudit(g.now.Add(-r), 1000); err != nil {
				return err
			}
		}
	}
	if r := g.jobs.DeliveryRetention; r > 0 {
		for more := true; more; {
			var err error
			if _, more, err = g.st.PruneDeliveries(g.now.Add(-r), 1000); err != nil {
				return err
			}
		}
	}
	if r := g.jobs.AckResolveAfter; r > 0 {
		for n := 200; n == 200; {
			ps, err := g.st.ResolveAckedPages(g.now.Add(-r), g.now, nil, 200)
			if err != nil {
				return err
			}
			for _, p := range ps { // the bot's channel line about each, sent
				if err := g.st.PageNoticesSent(p.ID, p.Notices...); err != nil {
					return err
				}
			}
			n = len(ps)
		}
	}
	return nil
}

// day schedules one day's arrivals of each kind, and the day's housekeeping.
func (g *gen) day() {
	day := g.now
	g.push(day.Add(3*time.Hour+g.between(0, time.Hour)), g.housekeeping)
	for range g.poisson(RequestsPerYear / 365.0) {
		g.push(g.timeOfDay(day), g.request)
	}
	for range g.poisson(IncidentsPerYear / 365.0) {
		g.push(g.timeOfDay(day), g.incident)
	}
	for range g.poisson(DeploysPerYear / 365.0) {
		g.push(g.timeOfDay(day), g.deploy)
	}
	for range g.poisson(PagesPerYear / 365.0) {
		g.push(g.timeOfDay(day), g.page)
	}
	for range g.poisson(AuditPerYear / 365.0) {
		g.push(g.timeOfDay(day), g.audit)
	}
}

// poisson is a count with mean m (normal approximation, fine for the means used here).
func (g *gen) poisson(m float64) int {
	return max(0, int(math.Round(m+math.Sqrt(m)*g.rng.NormFloat64())))
}

var requestTexts = []string{
	"disk full on %s, please extend the volume", "need a kafka topic for %s events with 12 partitions",
	"rotate the TLS certificates of %s before they expire next week", "please give the new team read access to %s logs",
	"dns record for %s staging is wrong, points at the old load balancer", "can we get a new bucket for %s backups",
	"vpn access for the contractor working on %s", "upgrade postgres under %s to the next minor version",
}

// request opens a request and plays its life: a take (or a cancel), maybe comments and a block, then done,
// now and then a reopening.
func (g *gen) request() error {
	svc := ""
	if g.pct(30) {
		svc = g.service()
	}
	urgent := g.pct(14)
	text := fmt.Sprintf(g.pick(requestTexts), g.service())
	r, err := g.st.OpenRequest(g.pick(Devs), text, svc, urgent)
	if err != nil {
		return err
	}
	g.n.Requests++
	g.n.Writes++
	id, requester := r.ID, r.Requester
	wait := g.between(2*time.Minute, 3*time.Hour)
	if urgent {
		wait = g.between(time.Minute, 20*time.Minute)
	}
	if g.pct(5) {
		g.after(g.between(10*time.Minute, 24*time.Hour), func() error {
			_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestCancel, By: requester})
			return g.refused(err)
		})
		return nil
	}
	who := g.pick(Ops)
	g.after(wait, func() error { return g.work(id, requester, who, true) })
	return nil
}

// work takes request id and plays the rest of its life.
func (g *gen) work(id uint64, requester, who string, first bool) error {
	if _, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestTake, By: who, ByOps: true, Force: true}); err != nil {
		return g.refused(err)
	}
	g.n.Writes++
	lead := time.Duration(math.Exp(g.rng.NormFloat64()*1.2+math.Log(float64(3*time.Hour)))) + 10*time.Minute
	if g.pct(25) {
		g.after(g.between(time.Minute, lead), func() error {
			_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestComment, By: requester, Text: "any news? this blocks our release"})
			return g.refused(err)
		})
	}
	if g.pct(10) {
		g.after(lead/3, func() error {
			_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestBlock, By: who, ByOps: true, Text: "waiting for the vendor"})
			return g.refused(err)
		})
		lead += g.between(time.Hour, 48*time.Hour)
		g.after(lead-time.Minute, func() error {
			_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestTake, By: who, ByOps: true, Force: true})
			return g.refused(err)
		})
	}
	g.after(lead, func() error {
		_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestFinish, By: who, ByOps: true, Text: "done, see the ticket"})
		if err != nil || !first || !g.pct(2) {
			return g.refused(err)
		}
		g.after(g.between(time.Hour, 5*24*time.Hour), func() error {
			_, err := g.st.UpdateRequest(id, store.RequestChange{Action: store.RequestReopen, By: who, ByOps: true})
			if err != nil {
				return g.refused(err)
			}
			g.after(g.between(5*time.Minute, time.Hour), func() error { return g.work(id, requester, g.pick(Ops), false) })
			return nil
		})
		return nil
	})
	return nil
}

var incidentTexts = []string{"500s on play", "latency up 10x in eu", "login fails for a third of users",
	"queue backlog growing", "certificate expired", "disk full on the primary", "packet loss between sites"}

var incidentNotes = []string{"rolled back to the previous version", "failing over to the replica",
	"vendor confirms an outage on their side", "errors back to normal, watching", "root cause: config push at 14:02",
	"scaled out to 12 instances", "customer support informed"}

// incident declares an incident and plays it: notes, status changes, sometimes more services, a severity
// change or a new commander, then resolution (and now and then a reopening).
func (g *gen) incident() error {
	sev := 4
	switch u := g.rng.Float64(); {
	case u < 0.05:
		sev = 1
	case u < 0.25:
		sev = 2
	case u < 0.70:
		sev = 3
	}
	by := g.pick(Ops)
	inc, err := g.st.DeclareIncident(store.Incident{Severity: sev, Service: g.service(), Summary: g.pick(incidentTexts),
		DeclaredBy: by, Start: g.now.Add(-g.between(0, 20*time.Minute)), Freeze: sev <= 2})
	if err != nil {
		return err
	}
	g.n.Incidents++
	g.n.Writes++
	id := inc.ID
	dur := g.between(20*time.Minute, 5*time.Hour)
	for range 2 + g.rng.IntN(6) {
		g.after(g.between(time.Minute, dur), func() error {
			_, err := g.st.NoteIncident(id, g.pick(Ops), g.pick(incidentNotes))
			return g.refused(err)
		})
	}
	g.after(dur/4, func() error {
		_, err := g.st.SetIncidentStatus(id, by, store.IncidentIdentified)
		return g.refused(err)
	})
	g.after(dur*2/3, func() error {
		_, err := g.st.SetIncidentStatus(id, by, store.IncidentMonitoring)
		return g.refused(err)
	})
	if g.pct(10) {
		g.after(dur/5, func() error { _, err := g.st.AddIncidentService(id, by, g.service()); return g.refused(err) })
	}
	if g.pct(5) {
		g.after(dur/3, func() error {
			_, err := g.st.SetIncidentSeverity(id, by, max(1, sev-1), sev-1 <= 2)
			return g.refused(err)
		})
	}
	if g.pct(5) {
		g.after(dur/2, func() error { _, err := g.st.SetIncidentCommander(id, by, g.pick(Ops)); return g.refused(err) })
	}
	g.after(dur, func() error {
		_, err := g.st.ResolveIncident(id, by, "fixed", time.Time{})
		if err != nil || !g.pct(1) {
			return g.refused(err)
		}
		g.after(g.between(time.Hour, 24*time.Hour), func() error {
			if _, err := g.st.ReopenIncident(id, by); err != nil {
				return g.refused(err)
			}
			g.after(g.between(10*time.Minute, 2*time.Hour), func() error {
				_, err := g.st.ResolveIncident(id, by, "fixed for good", time.Time{})
				return g.refused(err)
			})
			return nil
		})
		return nil
	})
	return nil
}

// deploy plays one rollout: from CI through the webhook (started, progress, then succeeded, failed or
// rolled back; now and then without "started") or from chat (start, then done).
func (g *gen) deploy() error {
	svc := g.service()
	env := Envs[0]
	switch u := g.rng.Float64(); {
	case u < 0.02:
		env = RareEnv
	case u < 0.40:
		env = Envs[1]
	}
	g.vers[svc]++
	version := fmt.Sprintf("1.%d.%d", g.vers[svc]/10, g.vers[svc]%10)
	g.n.Deploys++
	if g.pct(20) {
		by := g.pick(Devs)
		ev := store.DeployEvent{Status: store.DeployStarted, Service: svc, Env: env, Version: version, By: by, Source: "chat"}
		if _, err := g.st.ApplyDeploy(ev); err != nil {
			return g.refused(err)
		}
		g.n.Writes++
		g.after(g.between(5*time.Minute, 40*time.Minute), func() error {
			return g.endDeploy(store.DeployEvent{Service: svc, Env: env, By: by, Source: "chat"})
		})
		return nil
	}
	g.hooks++
	run := g.hooks
	hook := func(status store.DeployState, percent int, step string) store.DeployEvent {
		return store.DeployEvent{Status: status, Service: svc, Env: env, Version: version, Percent: percent, By: "ci",
			URL: fmt.Sprintf("https://ci.example.net/run/%d", run), Note: "merge pull request #" + fmt.Sprint(run),
			Force: true, AutoStart: true, Delivery: fmt.Sprintf("run-%d-%s", run, step), Source: "webhook"}
	}
	t := time.Duration(0)
	if !g.pct(10) {
		if err := g.refused(g.apply(hook(store.DeployStarted, 10, "start"))); err != nil {
			return err
		}
	}
	t += g.between(2*time.Minute, 10*time.Minute)
	g.after(t, func() error { return g.refused(g.apply(hook(store.DeployProgress, 50, "progress"))) })
	t += g.between(2*time.Minute, 15*time.Minute)
	g.after(t, func() error {
		ev := hook(store.DeploySucceeded, 100, "done")
		switch u := g.rng.Float64(); {
		case u < 0.05:
			ev = hook(store.DeployFailed, 0, "failed")
			ev.Reason = "smoke tests failed"
		case u < 0.08:
			ev = hook(store.DeployRolledBack, 0, "rollback")
			ev.Reason, ev.LockOnRollback = "error rate up", true
			g.after(g.between(30*time.Minute, 24*time.Hour), func() error {
				_, err := g.st.UnlockDeploys(svc)
				return g.refused(err)
			})
		}
		return g.refused(g.apply(ev))
	})
	return nil
}

func (g *gen) apply(ev store.DeployEvent) error {
	_, err := g.st.ApplyDeploy(ev)
	return err
}

// endDeploy ends a chat rollout: done mostly, failed or rolled back now and then.
func (g *gen) endDeploy(ev store.DeployEvent) error {
	ev.Status = store.DeploySucceeded
	switch u := g.rng.Float64(); {
	case u < 0.05:
		ev.Status, ev.Reason = store.DeployFailed, "errors in canary"
	case u < 0.07:
		ev.Status, ev.Reason, ev.LockOnRollback = store.DeployRolledBack, "errors up", true
		svc := ev.Service
		g.after(g.between(30*time.Minute, 24*time.Hour), func() error {
			_, err := g.st.UnlockDeploys(svc)
			return g.refused(err)
		})
	}
	return g.refused(g.apply(ev))
}

var pageTexts = []string{"db is down", "checkout returns 502", "queue is not draining", "disk at 98% on the primary",
	"customers report login failures", "alertmanager: HighErrorRate firing"}

// page opens a page and plays it: an ack within minutes, then a resolve (most pages); some are acked and
// never resolved, and pile up as the issue describes.
func (g *gen) page() error {
	svc := ""
	if g.pct(40) {
		svc = g.service()
	}
	target := g.pick(Ops)
	p, deduped, err := g.st.OpenPage(store.PageRequest{By: g.pick(Devs), Service: svc, Text: g.pick(pageTexts), Target: target,
		Now: g.now, AckTimeout: 5 * time.Minute, DedupeWindow: 10 * time.Minute, RateLimit: 10})
	if err != nil {
		return g.refused(err)
	}
	g.n.Writes++
	if deduped {
		return nil
	}
	g.n.Pages++
	id := p.ID
	ok := func(store.Page) error { return nil }
	ack := g.between(30*time.Second, 8*time.Minute)
	g.after(ack, func() error {
		_, err := g.st.AckPage(id, target, g.now, nil, ok)
		return g.refused(err)
	})
	if g.pct(95) {
		g.after(ack+g.between(5*time.Minute, 3*time.Hour), func() error {
			_, err := g.st.ResolvePage(id, target, g.now, nil, ok)
			return g.refused(err)
		})
	}
	return nil
}

var auditCommands = []struct{ cmd, args string }{
	{"request open", "request open %s --service playlist"}, {"request take", "request take R-%d"},
	{"request done", "request done R-%d done, see the ticket"}, {"request comment", "request comment R-%d any news?"},
	{"deploy start", "deploy start playlist 1.%d --env prod"}, {"deploy done", "deploy done playlist"},
	{"page", "page checkout returns 502 for %d%% of requests"}, {"ack", "ack P-%d"},
	{"incident update", "incident update INC-%d errors back to normal, watching"}, {"oncall take", "oncall take %dh"},
}

// audit queues one audit entry, as the dispatcher does for each write command.
func (g *gen) audit() error {
	c := auditCommands[g.rng.IntN(len(auditCommands))]
	var args string
	if c.cmd == "request open" {
		args = fmt.Sprintf(c.args, fmt.Sprintf(g.pick(requestTexts), g.service()))
	} else {
		args = fmt.Sprintf(c.args, g.rng.IntN(100_000))
	}
	result := "ok"
	if g.pct(5) {
		result = "error: R-12 is done; reopen it first (!request reopen R-12)"
	}
	who := g.pick(append(Devs[:10:10], Ops...))
	g.st.AuditLater(store.AuditEntry{At: g.now, Account: who, Nick: who, Command: c.cmd, Args: args, Result: result})
	g.n.Audit++
	return nil
}
