package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lrstanley/girc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Bot is a running opsbot: transport, outbound queue, worker pool, health, metrics, backup and the HTTP server
// over one store; the command families (families.go) bring the commands, jobs and routes.
type Bot struct {
	o       Options
	store   *store.Store
	metrics *Metrics
	out     *Outbound
	t       *transport
	disp    *commands.Dispatcher
	set     *commands.Set
	roles   *commands.Roles
	notify  *notify.Deliverer // pager notifiers (webhook, PagerDuty, e-mail)

	inbound   chan inbound
	callers   callerQueues
	accepting atomic.Bool
	// handed, begun and idle count commands handed to the pool, commands a worker started, and workers
	// waiting for a command: the group commit waits for commands about to start (unstarted).
	handed, begun, idle atomic.Int64
	nudge               func() // wakes a commit leader waiting for commands about to start
	started             time.Time
	httpAddr            atomic.Value // string, once listening
	backupMu            sync.Mutex   // GET /api/v1/backup, one at a time
}

// New builds a bot over an open store. The store stays the caller's to close, after Run returns; its clock
// becomes the bot's.
func New(o Options, st *store.Store) (*Bot, error) {
	o.defaults()
	st.Now = o.Now
	b := &Bot{o: o, store: st, inbound: make(chan inbound, 128), callers: callerQueues{waiting: map[string][]inbound{}}, started: o.Now()}
	b.out = newOutbound(st, o.FloodBurst, o.FloodInterval, o.LateAfter, o.Log, o.Now)
	b.metrics = newMetrics(func() float64 { return float64(b.out.Depth()) }, st.OutboxCount)
	b.out.metrics = b.metrics
	st.OnWriteFailure(func(error) { b.metrics.StoreErrors.Inc() })
	b.nudge = st.HoldCommits(b.unstarted)
	b.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "opsbot_audit_errors_total", Help: "Audit entries the background writer could not commit.",
	}, func() float64 { return float64(st.AuditErrors()) }))
	b.metrics.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "opsbot_store_commits_total", Help: "Write transactions committed (or tried): concurrent writes share one (group commit).",
		}, func() float64 { c, _ := st.WriteStats(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "opsbot_store_writes_total", Help: "Writes carried by those transactions; writes/commits is the group commit's gain.",
		}, func() float64 { _, w := st.WriteStats(); return float64(w) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "opsbot_store_integrity_ok", Help: "0 when the store's integrity check found damage (restore a backup), else 1.",
		}, func() float64 {
			if st.IntegrityStatus().State == store.IntegrityCorrupt {
				return 0
			}
			return 1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "opsbot_store_integrity_check_seconds", Help: "How long the last full integrity check took (0 until one has finished).",
		}, func() float64 { return st.IntegrityStatus().Duration.Seconds() }))
	b.roles = commands.NewRoles(o.Admins, o.Ops, nil)
	b.t = newTransport(&b.o, b.roles, b.metrics, b.enqueue)
	if b.o.Web.LocalURL == nil { // links from !web point here when web.base_url is not set
		b.o.Web.LocalURL = func() string {
			if a := b.HTTPAddr(); a != "" {
				return "http://" + a
			}
			return ""
		}
	}
	if err := b.setupPaging(); err != nil {
		return nil, err
	}
	set, err := families(b.runtime(b), st, &b.o, commands.CoreConfig{Version: o.Version, Started: b.started, Insecure: !o.RequireAccount, IRC: b.t,
		Retention: o.Retention}, b.t)
	if err != nil {
		return nil, err
	}
	b.metrics.Registry.MustRegister(set.Collectors...)
	b.set = set
	b.disp = newDispatcher(&b.o, set.Registry, st, b.roles, b.metrics.observe)
	return b, nil
}

// runtime is what every command family shares, with ann as the announcer (the bot, or the shell's printer).
func (b *Bot) runtime(ann commands.Announcer) commands.Runtime {
	o := &b.o
	return commands.Runtime{Now: o.Now, Location: o.Location, Prefix: o.Prefix, Announce: ann, MaxLines: o.MaxLines, Log: o.Log,
		Channel: o.Channels[0], Channels: o.Channels, Roles: b.roles, BaseURL: o.BaseURL, Failed: func(err error) {
			if b.metrics != nil {
				b.metrics.storeFailed(err)
			}
		}}
}

// newDispatcher builds the dispatcher over the registry; the IRC bot and the shell share it.
func newDispatcher(o *Options, reg *commands.Registry, st *store.Store, roles *commands.Roles, observe commands.Observer) *commands.Dispatcher {
	return commands.NewDispatcher(reg, commands.DispatcherOptions{
		Prefix: o.Prefix, Roles: roles, Audit: st, Log: o.Log, Observe: observe,
		RateInterval: o.CommandInterval, RateBurst: o.CommandBurst, Now: o.Now,
	})
}

// Metrics exposes the bot's metrics (for tests and embedding).
func (b *Bot) Metrics() *Metrics { return b.metrics }

// HTTPAddr is the address the HTTP server listens on, once Run has started it ("" before, or if disabled).
func (b *Bot) HTTPAddr() string {
	s, _ := b.httpAddr.Load().(string)
	return s
}

// Announce posts a durable message to a channel (the first configured one when channel is ""): it is stored
// before Announce returns and delivered once connected, even across a restart.
func (b *Bot) Announce(channel, text string, urgent bool) error {
	if channel == "" {
		channel = b.o.Channels[0]
	}
	return b.durable(channel, text, urgent)
}

// movedChannel tells, for a durable line left by an earlier run, whether its target is a channel the bot is
// no longer configured for, and then where it goes instead: the first configured channel.
func (b *Bot) movedChannel(target string) (string, bool) {
	if !girc.IsValidChannel(target) || b.t.isOurChannel(target) {
		return "", false
	}
	return b.o.Channels[0], true
}

// Notify sends a durable private message to nick.
func (b *Bot) Notify(nick, text string, urgent bool) error { return b.durable(nick, text, urgent) }

// Tell sends a durable private message to whoever is logged in as account: the transport resolves the
// account to nicks when the line goes out (accountTarget), and holds it while nobody is.
func (b *Bot) Tell(account, text string, urgent bool) error {
	return b.durable(accountTarget(account), text, urgent)
}

func (b *Bot) durable(target, text string, urgent bool) error {
	prio := PriorityNormal
	if urgent {
		prio = PriorityHigh
	}
	for _, l := range splitText(wireClean(text), textBudget("PRIVMSG", target)) {
		if err := b.out.SendDurable(Line{Target: target, Text: l, Priority: prio}); err != nil {
			return err
		}
	}
	return nil
}

// callerQueues keeps each caller's commands in order while different callers' commands run at once: a
// caller's first command goes to the pool, and the commands the same caller sends while it runs wait here and
// are run after it by the same worker. Someone who pastes three commands gets three answers in that order.
type callerQueues struct {
	mu      sync.Mutex
	waiting map[string][]inbound // caller -> commands behind the one running; present while one runs
}

// maxWaitingPerCaller bounds one caller's queue (the per-caller rate limit normally answers long before).
const maxWaitingPerCaller = 16

// enqueue hands a command to the worker pool, behind the caller's command in progress if there is one,
// without blocking the reader. It reports false when the command is dropped (pool or caller queue full).
func (b *Bot) enqueue(in inbound) bool {
	key := in.msg.Caller.Key()
	cq := &b.callers
	cq.mu.Lock()
	defer cq.mu.Unlock()
	if !b.accepting.Load() { // read under cq.mu: Run turns it off under cq.mu before the workers stop
		return false
	}
	if q, busy := cq.waiting[key]; busy {
		if len(q) >= maxWaitingPerCaller {
			return false
		}
		cq.waiting[key] = append(q, in)
		return true
	}
	b.handed.Add(1) // before the send: a worker may start it at once
	select {
	case b.inbound <- in:
		cq.waiting[key] = nil // busy: later commands of this caller wait behind this one
		return true
	default:
		b.handed.Add(-1)
		return false
	}
}

// unstarted reports commands handed to the pool that an idle worker is about to start (their writes are about to
// reach the store: see store.HoldCommits). With no idle worker, queued commands wait for a busy one, which may
// itself wait for the commit: nothing to hold for.
func (b *Bot) unstarted() bool {
	return b.handed.Load() > b.begun.Load() && b.idle.Load() > 0
}

// runCaller runs a command, then the commands its caller sent meanwhile, in order.
func (b *Bot) runCaller(in inbound) {
	key := in.msg.Caller.Key()
	cq := &b.callers
	for {
		b.handle(in)
		cq.mu.Lock()
		q := cq.waiting[key]
		if len(q) == 0 {
			delete(cq.waiting, key)
			cq.mu.Unlock()
			return
		}
		in, cq.waiting[key] = q[0], q[1:]
		cq.mu.Unlock()
	}
}

// Run runs the bot until ctx ends, then shuts down in order: stop taking commands, finish the ones in
// flight, flush replies, QUIT, stop HTTP. It returns an error only if the bot could not start.
func (b *Bot) Run(ctx context.Context) error {
	var ln net.Listener
	if b.o.HTTPListen != "" {
		var err error
		if ln, err = net.Listen("tcp", b.o.HTTPListen); err != nil {
			return fmt.Errorf("http: listen on %s: %w", b.o.HTTPListen, err)
		}
		b.httpAddr.Store(ln.Addr().String())
	}
	if err := b.out.loadOutbox(b.movedChannel); err != nil {
		if ln != nil {
			ln.Close()
		}
		return fmt.Errorf("outbox: %w", err)
	}

	var wg sync.WaitGroup
	tctx, stopTransport := context.WithCancel(context.Background())
	sctx, stopSender := context.WithCancel(context.Background())
	stopWorkers := make(chan struct{})
	var workers sync.WaitGroup
	b.accepting.Store(true)
	for range b.o.Workers {
		workers.Go(func() { b.work(stopWorkers) })
	}
	wg.Go(func() { b.t.run(tctx) })
	wg.Go(func() { b.out.run(sctx, b.t) })
	jctx, stopJobs := context.WithCancel(context.Background())
	wg.Go(func() { b.runJobs(jctx) })
	wg.Go(func() { b.notify.Run(jctx) })
	var srv *http.Server
	if ln != nil {
		srv = b.httpServer()
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				b.o.Log.Error("http: server stopped", "err", err)
			}
		})
	}
	b.o.Log.Info("opsbot running", "server", b.o.Server, "channels", b.o.Channels, "http", b.HTTPAddr())

	<-ctx.Done()
	b.o.Log.Info("shutting down: no new commands")
	b.callers.mu.Lock() // after this no command enters the pool, so the workers' drain below sees them all
	b.accepting.Store(false)
	b.callers.mu.Unlock()
	close(stopWorkers)
	waitTimeout(&workers, 15*time.Second)

	flushCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	b.out.flush(flushCtx)
	cancel()
	quitCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	b.out.stopWrites(func() { b.t.quit(quitCtx, "opsbot shutting down") })
	cancel()
	stopJobs()
	stopTransport()
	stopSender()
	if srv != nil {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(hctx)
		cancel()
	}
	wg.Wait()
	b.o.Log.Info("stopped")
	return nil
}

// work runs commands until stop is closed, then finishes what is already queued.
func (b *Bot) work(stop <-chan struct{}) {
	for {
		b.idle.Add(1)
		select {
		case in := <-b.inbound:
			b.begin(b.idle.Add(-1))
			b.runCaller(in)
		case <-stop:
			b.idle.Add(-1)
			for {
				select {
				case in := <-b.inbound:
					b.begin(1)
					b.runCaller(in)
				default:
					return
				}
			}
		}
	}
}

// begin counts a command started, and nudges a commit leader waiting for commands about to start when there
// are none left (it was the last one handed, or it took the last idle worker). idleLeft is the idle workers
// left after this one took its command.
func (b *Bot) begin(idleLeft int64) {
	if (b.begun.Add(1) >= b.handed.Load() || idleLeft == 0) && b.nudge != nil {
		b.nudge()
	}
}

// handle runs one command. Its context is not the shutdown context: a command in flight is finished.
func (b *Bot) handle(in inbound) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b.disp.Dispatch(ctx, in.msg, &ircReplier{b: b, target: in.replyTo, nick: in.msg.Caller.Nick, private: in.msg.Private(),
		owner: replyOwner(in.msg.Caller)})
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// ircReplier sends a command's answer to where it was asked, within the line budget: bot.max_lines in a
// channel, maxPrivateLines in private.
type ircReplier struct {
	b       *Bot
	target  string
	nick    string
	private bool
	owner   string // whose turn the lines take in the outbound queue (replyOwner)
	page    string // the web page with the whole answer (commands.PageReplier)
}

// maxPrivateLines caps a private reply: a page of a listing (20 lines and its header) fits, a flood of
// listings does not turn into thousands of queued lines.
const maxPrivateLines = 24

// replyOwner is whose turn a reply takes in the outbound queue: each logged-in caller takes turns of their
// own, while everyone not logged in shares one (and at most half the bucket), as they share one command
// budget.
func replyOwner(c commands.Caller) string {
	if c.Anonymous() {
		return anonymousOwner
	}
	return c.Key()
}

// Page implements commands.PageReplier.
func (r *ircReplier) Page(path string) { r.page = path }

func (r *ircReplier) Reply(lines ...string) {
	budget := textBudget("PRIVMSG", r.target)
	var wire []string
	for _, l := range lines {
		wire = append(wire, splitText(l, budget)...)
	}
	max, where := r.b.o.MaxLines, "ask in private"
	if r.private {
		max, where = maxPrivateLines, "use --page, or narrow it down"
	}
	if base := strings.TrimRight(r.b.o.BaseURL, "/"); base != "" {
		where = base + cmp.Or(r.page, "/")
	}
	if len(wire) > max {
		more := len(wire) - (max - 1)
		wire = append(wire[:max-1], fmt.Sprintf("... and %d more (%s)", more, where))
	}
	for _, l := range wire {
		r.b.out.Send(Line{Target: r.target, Text: l, Priority: PriorityNormal, owner: r.owner})
	}
}

func (r *ircReplier) Error(msg string) {
	if !r.private {
		msg = r.nick + ": " + msg
	}
	r.b.out.Send(Line{Target: r.target, Text: chat.Truncate(msg, textBudget("PRIVMSG", r.target)), Priority: PriorityNormal, owner: r.owner})
}
