package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/opsbot/opsbot/store"
)

// Priority lanes of the outbound queue: pages and incident notices go before chatter.
const (
	PriorityHigh   = 0
	PriorityNormal = 1
	lanes          = 2
)

// maxQueued bounds the in-memory queue of ordinary replies; durable messages are never dropped.
const maxQueued = 1000

// maxPerOwner bounds one caller's queued lines: a flood of replies to one caller (say, private listings
// asked for page after page) sheds that caller's own lines, never anyone else's. It holds a full private
// reply (maxPrivateLines) and a few more.
const maxPerOwner = 32

// anonymousOwner owns the replies to everyone not logged in (replyOwner). They take one turn together, and
// at most half the token bucket (its own bucket of half the burst, at half the rate), so that during an
// anonymous flood the bucket keeps tokens for everyone else: a logged-in person's answer goes out at once.
const anonymousOwner = "anonymous"

// maxOptional bounds the optional protocol lines queued (see Line.optional).
const maxOptional = 8

// syncEvery is how many durable lines may be written before a sync PING follows them, at most.
const syncEvery = 8

// syncPrefix starts the token of the bot's sync PINGs: "PING :opsbot-sync-<n>". The server answers a PING
// only after every line the bot sent before it, so its PONG says those lines were processed.
const syncPrefix = "opsbot-sync-"

// Line is one outgoing PRIVMSG or NOTICE (already within the byte budget), or a protocol line.
type Line struct {
	Target   string
	Text     string
	Notice   bool
	Priority int
	outboxID uint64 // non-zero: remove from the durable outbox once the server has processed it
	queued   time.Time
	// owner is who the line answers (replyOwner): replies of different owners take turns, and each owner
	// may have at most maxPerOwner of them queued. Lines nobody asked for (the bot's own: reminders,
	// notices) have none, and go first, in order.
	owner string
	seq   uint64 // the order lines were queued in (ties between owners go to the older line)

	// raw is a protocol line written as it is (CR LF included): one of girc's (PONG, PING, JOIN, NICK, WHO,
	// a message to NickServ, ...) for the connection conn, or the bot's sync PING (sync > 0) for the
	// current connection. Protocol lines go before every other line, through the same token bucket.
	raw  []byte
	conn *filterConn
	sync uint64
	// optional marks a protocol line the bot can do without (girc's WHO for someone who joined, on a server
	// without extended-join): beyond maxOptional queued, more are dropped.
	optional bool
}

// lineWriter writes one line to the server; it fails with errNotReady while disconnected.
type lineWriter interface {
	writeLine(l Line) error
	ready() <-chan struct{}
	canSend(target string) bool
}

var errNotReady = errors.New("irc: not connected")

// Outbound is the single owner of writes to IRC: a token bucket (burst, then one line per interval) over
// priority lanes, fed by replies in memory, by the durable outbox in the store and by girc's protocol
// lines. The lanes, in order: protocol lines (FIFO), pages and incident notices (FIFO), then ordinary
// lines: the bot's own (reminders, notices; FIFO), then replies, where the owner (caller) who had a line
// written longest ago goes first, so one person's flood of replies never holds up another's answer.
//
// A durable line leaves the outbox only once the server has certainly processed it: a sync PING follows
// each batch of durable lines, and its PONG confirms them. Lines written but not confirmed when the link
// dies are queued again and sent after the reconnect: delivery is at least once, never zero times.
type Outbound struct {
	// writeMu is held while a line is taken from the queue and written, so lines leave in queue order
	// whether the sender goroutine or a worker (inline, when a token is free) writes them.
	writeMu sync.Mutex
	stopped bool       // under writeMu: QUIT is written (stopWrites), nothing more goes out
	w       lineWriter // set by run; nil until then
	mu      sync.Mutex
	proto   []Line            // protocol lines
	high    []Line            // PriorityHigh
	own     []Line            // PriorityNormal without an owner
	normal  map[string][]Line // PriorityNormal, by owner
	nNormal int               // lines in normal
	turns   map[string]uint64 // owner -> turn of its last written line (0: none lately)
	turn    uint64            // turns handed out
	seq     uint64            // lines queued
	wake    chan struct{}
	lim     *rate.Limiter
	anonLim *rate.Limiter // anonymousOwner's share of lim
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	late    time.Duration
	metrics *Metrics

	// confirms is set when the writer tells when the server has processed a line (the transport: attach);
	// without it a durable line leaves the outbox once written.
	confirms    bool
	unconfirmed []sentLine // durable lines written and not yet confirmed, oldest first
	unsynced    int        // of unconfirmed, those written after the last sync PING
	syncs       uint64     // sync PINGs made
	confirmed   []uint64   // outbox ids confirmed, for the sender to remove from the store
}

// sentLine is a durable line written to the server, waiting for the PONG of the sync PING sync (0: none
// written after it yet). refused is set when the server refused a line to its target meanwhile: at the
// PONG it is queued again rather than delivered.
type sentLine struct {
	l       Line
	sync    uint64
	refused bool
}

func newOutbound(st *store.Store, burst int, interval time.Duration, late time.Duration, log *slog.Logger, now func() time.Time) *Outbound {
	every := rate.Inf
	if interval > 0 {
		every = rate.Every(interval)
	}
	return &Outbound{wake: make(chan struct{}, 1), lim: rate.NewLimiter(every, burst), anonLim: rate.NewLimiter(every/2, max(burst/2, 1)),
		store: st, log: log, now: now, late: late,
		normal: map[string][]Line{}, turns: map[string]uint64{}}
}

// Send queues a line in memory (an ordinary reply). A line beyond its owner's bound (maxPerOwner) is
// dropped, and beyond the queue's bound the newest line of the owner with the most queued; both counted.
func (o *Outbound) Send(l Line) {
	l.queued = o.now()
	o.enqueue(l, false)
	o.writeInline()
	if o.Depth() > 0 { // not written at once (no token, not joined, or another writer busy): the sender's turn
		o.signal()
	}
}

// writeInline writes queued lines from the caller's goroutine while the token bucket allows it without
// waiting, saving the hand-off to the sender goroutine for a reply to an idle bot. Anything it cannot write
// at once stays queued for run, which waits for tokens.
func (o *Outbound) writeInline() { o.writeNow(false) }

// writeNow writes what it can without waiting (see writeInline); with protoOnly, only protocol lines.
func (o *Outbound) writeNow(protoOnly bool) {
	o.mu.Lock()
	w := o.w
	o.mu.Unlock()
	if w == nil || !o.writeMu.TryLock() {
		return
	}
	defer o.writeMu.Unlock()
	if o.stopped {
		return
	}
	for {
		var l Line
		var ok bool
		if protoOnly {
			l, ok = o.nextProto()
		} else {
			l, ok = o.next(w)
		}
		if !ok {
			return
		}
		if !o.lim.Allow() {
			if l.sync == 0 { // a sync PING is made again when due
				o.enqueue(l, true)
			}
			return
		}
		if !o.write(w, l) {
			return
		}
	}
}

// pushProto queues one of girc's protocol lines and writes it at once when a token is free; otherwise the
// sender writes it, before any other line. It never blocks (girc's writer calls it).
func (o *Outbound) pushProto(l Line) {
	o.enqueue(l, false)
	o.writeNow(true)
	if o.protoQueued() {
		o.signal()
	}
}

// nextProto takes the first protocol line, if any.
func (o *Outbound) nextProto() (Line, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.proto) == 0 {
		return Line{}, false
	}
	l := o.proto[0]
	o.proto = o.proto[1:]
	return l, true
}

func (o *Outbound) protoQueued() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.proto) > 0
}

// SendDurable stores the line in the outbox first (it survives a crash or a disconnect) and then queues it.
// It returns only after the outbox commit, so the caller may acknowledge.
func (o *Outbound) SendDurable(l Line) error {
	m, err := o.store.OutboxAdd(store.OutMsg{Target: l.Target, Text: l.Text, Priority: l.Priority, Notice: l.Notice})
	if err != nil {
		if o.metrics != nil {
			o.metrics.storeFailed(err)
		}
		return fmt.Errorf("outbound: %w", err)
	}
	l.outboxID, l.queued = m.ID, m.Queued
	o.push(l, false)
	return nil
}

// loadOutbox queues what an earlier run left undelivered, oldest first. A line for a channel that is no
// longer configured (irc.channels changed since it was queued) could never go out, and would hold up every
// shutdown's flush: moved, when it returns ok, names the channel to deliver it to instead, and the line then
// says where it was meant for ("(for #old) ..."). Its outbox entry is removed once its last part is written.
func (o *Outbound) loadOutbox(moved func(target string) (to string, ok bool)) error {
	msgs, err := o.store.OutboxPending()
	if err != nil {
		return err
	}
	redirected := map[string]int{}
	for _, m := range msgs {
		l := Line{Target: m.Target, Text: m.Text, Notice: m.Notice, Priority: m.Priority, outboxID: m.ID, queued: m.Queued}
		to, ok := moved(m.Target)
		if !ok {
			o.push(l, false)
			continue
		}
		redirected[m.Target]++
		parts := splitText(fmt.Sprintf("(for %s) %s", m.Target, m.Text), textBudget("PRIVMSG", to))
		for i, text := range parts {
			part := l
			part.Target, part.Text = to, text
			if i < len(parts)-1 {
				part.outboxID = 0 // the entry leaves the outbox with the last part only
			}
			o.push(part, false)
		}
	}
	for from, n := range redirected {
		o.log.Warn("outbox: lines queued for a channel no longer configured go to the first configured channel",
			"channel", from, "lines", n)
	}
	return nil
}

// push queues a line and wakes the sender.
func (o *Outbound) push(l Line, front bool) {
	o.enqueue(l, front)
	o.signal()
}

// signal wakes the sender goroutine.
func (o *Outbound) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// enqueue queues a line in its lane. A line requeued at the front is never dropped; otherwise an ordinary
// line beyond its owner's bound is dropped, and beyond the queue's bound the newest line of the owner with
// the most lines queued. Durable lines are never dropped.
func (o *Outbound) enqueue(l Line, front bool) {
	if l.Priority < 0 || l.Priority >= lanes {
		l.Priority = PriorityNormal
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if l.seq == 0 {
		o.seq++
		l.seq = o.seq
	}
	put := func(q []Line) []Line {
		if front {
			return append([]Line{l}, q...)
		}
		return append(q, l)
	}
	switch {
	case l.raw != nil:
		if l.optional && !front {
			n := 0
			for _, x := range o.proto {
				if x.optional {
					n++
				}
			}
			if n >= maxOptional {
				o.dropped("optional")
				return
			}
		}
		o.proto = put(o.proto)
	case l.Priority == PriorityHigh:
		o.high = put(o.high)
		if len(o.high) > maxQueued {
			for i, x := range o.high {
				if x.outboxID == 0 {
					o.high = append(o.high[:i], o.high[i+1:]...)
					o.dropped("queue_full")
					break
				}
			}
		}
	case l.owner == "":
		o.own = put(o.own)
		if len(o.own) > maxQueued {
			for i, x := range o.own {
				if x.outboxID == 0 {
					o.own = append(o.own[:i], o.own[i+1:]...)
					o.dropped("queue_full")
					break
				}
			}
		}
	default:
		q := o.normal[l.owner]
		if !front && l.outboxID == 0 && len(q) >= maxPerOwner {
			o.dropped("caller_full")
			return
		}
		o.normal[l.owner] = put(q)
		o.nNormal++
		if o.nNormal > maxQueued {
			o.dropNewestOfLongest()
		}
	}
}

// dropNewestOfLongest drops the newest line that is not durable of the owner with the most lines queued
// (o.mu held).
func (o *Outbound) dropNewestOfLongest() {
	longest := ""
	for k, q := range o.normal {
		if len(q) > len(o.normal[longest]) {
			longest = k
		}
	}
	q := o.normal[longest]
	for i := len(q) - 1; i >= 0; i-- {
		if q[i].outboxID == 0 {
			o.removeNormal(longest, i)
			o.dropped("queue_full")
			return
		}
	}
}

// removeNormal takes line i of owner key's queue out (o.mu held).
func (o *Outbound) removeNormal(key string, i int) Line {
	q := o.normal[key]
	l := q[i]
	q = append(q[:i:i], q[i+1:]...)
	if len(q) == 0 {
		delete(o.normal, key)
	} else {
		o.normal[key] = q
	}
	o.nNormal--
	return l
}

func (o *Outbound) dropped(reason string) {
	if o.metrics != nil {
		o.metrics.LinesDropped.WithLabelValues(reason).Inc()
	}
}

// settledDepth is the number of queued lines worth waiting for at shutdown, read under writeMu so that a
// line a writer has taken but not yet written counts. A line for an account nobody logged in as is in sight
// is not, nor one for a channel the server refuses lines to for now: it waits in the outbox for the next
// start.
func (o *Outbound) settledDepth() int {
	o.writeMu.Lock()
	defer o.writeMu.Unlock()
	o.mu.Lock()
	w := o.w
	o.mu.Unlock()
	rf, _ := w.(refuser)
	n := 0
	for _, l := range o.queued() {
		_, account := targetAccount(l.Target)
		switch {
		case w != nil && w.canSend(l.Target):
			n++
		case !account && (rf == nil || !rf.refusing(l.Target)):
			n++
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return n + len(o.unconfirmed) + len(o.confirmed) // the server's PONG, then the store, are worth waiting for
}

// queued is a copy of the queue, highest priority first.
func (o *Outbound) queued() []Line {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := append(append(append([]Line{}, o.proto...), o.high...), o.own...)
	for _, q := range o.normal {
		out = append(out, q...)
	}
	return out
}

// stopWrites runs quit (which writes QUIT) with the writers held off, and after it lets nothing more out: a
// line written after QUIT would be ignored by the server yet count as delivered, and a durable one would
// leave the outbox. Lines queued from now on stay queued (durable ones in the outbox, for the next start).
func (o *Outbound) stopWrites(quit func()) {
	o.writeMu.Lock()
	defer o.writeMu.Unlock()
	o.stopped = true
	quit()
}

// Depth is the number of queued lines.
func (o *Outbound) Depth() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.proto) + len(o.high) + len(o.own) + o.nNormal
}

// next takes the line to write next: a protocol line; else the sync PING that ends a batch of durable
// lines; else the first sendable page or notice; else the bot's own first sendable ordinary line; else
// the first sendable reply of the owner whose last line was written longest ago (never, for someone new),
// the older line when two are tied.
func (o *Outbound) next(w lineWriter) (Line, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.proto) > 0 {
		l := o.proto[0]
		o.proto = o.proto[1:]
		return l, true
	}
	p := o.pickLocked(w)
	if o.unsynced > 0 && w.canSend("") && (!p.found || p.line.outboxID == 0 || o.unsynced >= syncEvery) {
		o.syncs++
		return Line{raw: []byte(fmt.Sprintf("PING :%s%d\r\n", syncPrefix, o.syncs)), sync: o.syncs}, true
	}
	switch {
	case !p.found:
		return Line{}, false
	case p.lane != nil:
		*p.lane = append((*p.lane)[:p.i:p.i], (*p.lane)[p.i+1:]...)
		return p.line, true
	}
	if p.owner == anonymousOwner {
		o.anonLim.Allow()
	}
	o.turn++
	o.turns[p.owner] = o.turn
	if len(o.turns) > 4*maxQueued { // forget owners served long ago: they are as good as new
		for k, t := range o.turns {
			if _, queued := o.normal[k]; !queued && t+maxQueued < o.turn {
				delete(o.turns, k)
			}
		}
	}
	return o.removeNormal(p.owner, p.i), true
}

// pick is where the line next would write is, if found: line i of lane (the page lane or the bot's own
// lines), or, lane nil, of owner's replies.
type pick struct {
	found bool
	lane  *[]Line
	owner string
	i     int
	line  Line
}

// pickLocked finds the line next would write, from the page lane, else the bot's own lines, else the
// replies of the owner served longest ago. o.mu held.
func (o *Outbound) pickLocked(w lineWriter) pick {
	for _, lane := range []*[]Line{&o.high, &o.own} {
		for i, l := range *lane {
			if w.canSend(l.Target) {
				return pick{found: true, lane: lane, i: i, line: l}
			}
		}
	}
	var p pick
	var bestTurn uint64
	anonOK := o.anonLim.Tokens() >= 1
	for k, q := range o.normal {
		if k == anonymousOwner && !anonOK {
			continue
		}
		for i, l := range q {
			if !w.canSend(l.Target) {
				continue
			}
			if t := o.turns[k]; !p.found || t < bestTurn || (t == bestTurn && l.seq < p.line.seq) {
				p, bestTurn = pick{found: true, owner: k, i: i, line: l}, t
			}
			break
		}
	}
	return p
}

// run writes lines until ctx ends. It waits for the transport to be ready, takes a token, writes, and on
// failure puts the line back at the front of its lane.
func (o *Outbound) run(ctx context.Context, w lineWriter) {
	a, confirms := w.(attacher)
	if confirms {
		a.attach(o)
	}
	o.mu.Lock()
	o.w, o.confirms = w, confirms
	o.mu.Unlock()
	defer o.removeConfirmed() // what the server confirmed before the end leaves the outbox
	for {
		o.removeConfirmed()
		// The state-change channel is taken before looking: a JOIN between the look and the wait would
		// otherwise close a channel this loop never sees, and its line would wait for an unrelated wake-up.
		changed := w.ready()
		if !o.sendable(w) {
			// A line held for an account nobody logged in as is in sight becomes sendable when girc learns
			// who is who (a join, an account change, a WHO reply), which it does not tell us: look again now
			// and then while lines wait.
			var recheck *time.Timer
			var again <-chan time.Time
			if o.Depth() > 0 {
				recheck = time.NewTimer(heldRecheck)
				again = recheck.C
			}
			select {
			case <-ctx.Done():
				return
			case <-o.wake:
			case <-changed:
			case <-again:
			}
			if recheck != nil {
				recheck.Stop()
			}
			continue
		}
		if err := o.lim.Wait(ctx); err != nil {
			return
		}
		o.writeMu.Lock()
		if o.stopped {
			o.writeMu.Unlock()
			for {
				select {
				case <-ctx.Done():
					return
				case <-o.wake: // a PONG after QUIT still confirms what went before it
					o.removeConfirmed()
				}
			}
		}
		if l, ok := o.next(w); ok {
			o.write(w, l)
		}
		o.writeMu.Unlock()
	}
}

// refuser is a lineWriter that tells the targets the server refuses lines to for now (the transport).
type refuser interface {
	refusing(target string) bool
}

// attacher is a lineWriter that produces lines of its own and confirms what the server processed (the
// transport): run attaches it to the queue.
type attacher interface {
	attach(o *Outbound)
}

// heldRecheck is how often the sender looks again at lines it cannot send yet.
const heldRecheck = time.Second

// sendable reports whether a queued line (or a due sync PING) could be written now.
func (o *Outbound) sendable(w lineWriter) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.proto) > 0 || (o.unsynced > 0 && w.canSend("")) {
		return true
	}
	for _, q := range [][]Line{o.high, o.own} {
		for _, l := range q {
			if w.canSend(l.Target) {
				return true
			}
		}
	}
	anonOK := o.anonLim.Tokens() >= 1
	for k, q := range o.normal {
		if k == anonymousOwner && !anonOK {
			continue // its share comes back with time: the sender looks again (heldRecheck)
		}
		for _, l := range q {
			if w.canSend(l.Target) {
				return true
			}
		}
	}
	return false
}

// write writes one line (o.writeMu held). It returns false when the transport is not ready: the line is back
// at the front of its lane (a sync PING is dropped: the next one is made when due). A durable line written
// waits for the server's confirmation (confirm) before it leaves the outbox; with a writer that gives none,
// it leaves at once.
func (o *Outbound) write(w lineWriter, l Line) bool {
	out := l // the late mark goes on the copy that is written; a requeued line keeps its own text
	if l.outboxID != 0 && o.now().Sub(l.queued) > o.late {
		out.Text = fmt.Sprintf("(late, queued %s UTC) %s", l.queued.UTC().Format("15:04"), l.Text) // the writer cuts it to fit
	}
	if l.sync != 0 { // before the PING goes out: its PONG may come back before writeLine returns
		o.markSync(l.sync, 0)
	}
	// A durable line waits for its confirmation from before it goes out: the server's refusal of it may be
	// read before writeLine returns (refuse).
	o.mu.Lock()
	waits := l.outboxID != 0 && o.confirms
	if waits {
		o.unconfirmed = append(o.unconfirmed, sentLine{l: l})
		o.unsynced++
	}
	o.mu.Unlock()
	err := w.writeLine(out)
	if err != nil && waits {
		o.mu.Lock()
		for i := len(o.unconfirmed) - 1; i >= 0; i-- {
			if o.unconfirmed[i].l.outboxID == l.outboxID && o.unconfirmed[i].sync == 0 {
				o.unconfirmed = append(o.unconfirmed[:i], o.unconfirmed[i+1:]...)
				o.unsynced--
				break
			}
		}
		o.mu.Unlock()
	}
	if err != nil && l.sync != 0 {
		o.markSync(0, l.sync) // not sent: the lines wait for the next one
	}
	switch {
	case err != nil && errors.Is(err, errNotReady):
		if l.sync == 0 {
			o.push(l, true)
		}
		return false
	case err != nil:
		o.log.Warn("outbound line rejected", "target", l.Target, "err", err)
		o.dropped("invalid")
	case l.raw == nil && o.metrics != nil:
		o.metrics.LinesSent.Inc()
	}
	if l.outboxID == 0 {
		return true
	}
	if err == nil && waits {
		return true
	}
	if err := o.store.OutboxDone(l.outboxID); err != nil { // delivered (no confirmation to wait for), or never deliverable
		o.log.Error("outbox: mark delivered", "id", l.outboxID, "err", err)
		if o.metrics != nil {
			o.metrics.storeFailed(err)
		}
	}
	return true
}

// markSync moves the written durable lines waiting for sync PING from to sync PING to (0: none yet).
func (o *Outbound) markSync(to, from uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.unconfirmed {
		if o.unconfirmed[i].sync == from {
			o.unconfirmed[i].sync = to
			if to == 0 {
				o.unsynced++
			} else {
				o.unsynced--
			}
		}
	}
}

// confirm takes the server's PONG to sync PING n: every durable line written before that PING was
// processed, and leaves the outbox (removed by the sender goroutine: confirm runs in a girc handler), but
// the ones the server refused, which are queued again, in their order, before the rest of their lanes.
func (o *Outbound) confirm(n uint64) {
	o.mu.Lock()
	keep := o.unconfirmed[:0]
	var again []Line
	for _, s := range o.unconfirmed {
		switch {
		case s.sync == 0 || s.sync > n:
			keep = append(keep, s)
		case s.refused:
			again = append(again, s.l)
		default:
			o.confirmed = append(o.confirmed, s.l.outboxID)
		}
	}
	o.unconfirmed = keep
	o.mu.Unlock()
	for i := len(again) - 1; i >= 0; i-- {
		o.enqueue(again[i], true)
	}
	o.signal()
}

// refuse marks the durable lines written and not yet confirmed whose target matches as refused by the
// server (the transport saw its refusal: a ban, +m, a nick gone), and returns how many. The server answers
// in order, so the refusal comes before the PONG that would confirm the line. Which line of a target was
// refused is not told: all of them are sent again (at least once, never zero times).
func (o *Outbound) refuse(match func(target string) bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for i := range o.unconfirmed {
		if match(o.unconfirmed[i].l.Target) {
			o.unconfirmed[i].refused = true
			n++
		}
	}
	return n
}

// removeConfirmed removes the confirmed lines from the outbox.
func (o *Outbound) removeConfirmed() {
	o.mu.Lock()
	ids := o.confirmed
	o.confirmed = nil
	o.mu.Unlock()
	for _, id := range ids {
		if err := o.store.OutboxDone(id); err != nil {
			o.log.Error("outbox: mark delivered", "id", id, "err", err)
			if o.metrics != nil {
				o.metrics.storeFailed(err)
			}
		}
	}
}

// linkLost is told that the connection ended: the durable lines written on it and not confirmed may never
// have reached the server, and are queued again, in their order, before anything else of their lanes; the
// protocol lines queued for it are dropped.
func (o *Outbound) linkLost() {
	o.writeMu.Lock() // no line is between the queue and the wire meanwhile
	defer o.writeMu.Unlock()
	o.mu.Lock()
	lost := o.unconfirmed
	o.unconfirmed, o.unsynced = nil, 0
	proto := o.proto[:0]
	for _, l := range o.proto {
		if l.conn == nil {
			proto = append(proto, l)
		}
	}
	o.proto = proto
	o.mu.Unlock()
	for i := len(lost) - 1; i >= 0; i-- {
		o.enqueue(lost[i].l, true)
	}
	if len(lost) > 0 {
		o.log.Info("outbox: lines written but not confirmed by the server when the link ended are sent again", "lines", len(lost))
		o.signal()
	}
}

// flush waits until the queue is empty, and no line is between the queue and the wire, or the deadline
// passes (used at shutdown).
func (o *Outbound) flush(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for o.settledDepth() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
