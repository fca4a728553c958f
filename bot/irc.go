package bot

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ergochat/irc-go/ircmsg"
	"github.com/lrstanley/girc"

	"github.com/opsbot/opsbot/commands"
)

// inbound is one command taken off the wire, handed to the worker pool.
type inbound struct {
	msg     commands.Message
	replyTo string // channel, or the sender's nick for private messages
}

// connState is the state of one connection; a new one is made for every connect.
type connState struct {
	client     *girc.Client
	conn       *filterConn // the wire under girc, set once dialed
	saslOK     bool
	registered bool // end of MOTD seen and the SASL gate passed
	since      time.Time
	joined     map[string]bool // folded channel name -> joined
	// The rejoin tries of each configured channel the bot is not in (see rejoinLater): tries since it last
	// stayed, whether one is pending, and since when it is in the channel.
	rejoinTries map[string]int
	rejoining   map[string]bool
	joinedAt    map[string]time.Time
	// refused holds back lines to a target the server refused a line to, until its time (see onRefused).
	refused map[string]refusal
	// sentTo is the account each nick last had a line for an account sent to (a refusal names the nick).
	sentTo map[string]string
	timers []*time.Timer
	topics map[string]string // folded channel -> its topic, once known (see addTopicHandlers)
	// nick is the bot's nick as the server knows it: from the end of registration, then its NICK changes.
	nick string
	// asked is what NickServ was last asked, to free the configured nick ("REGAIN", "GHOST"; "" for
	// nothing); noRegain is set once NickServ has answered REGAIN with an unknown command (Atheme 7.2).
	asked    string
	noRegain bool
	// direct is set once registration is complete (SASL gate passed, casemapping known): from then on the
	// wire tap takes commands off the wire (takeCommand).
	direct atomic.Bool
}

// transport owns the IRC connection: dial (with timeout and our own TLS), register, authenticate (fail
// closed), join, rejoin, regain the nick, and reconnect with backoff. girc handlers here only parse and
// enqueue; nothing in them touches the store or the network beyond single protocol lines.
type transport struct {
	o       *Options
	roles   *commands.Roles
	metrics *Metrics
	enqueue func(inbound) bool
	// out is the outbound queue (attached by its run): once registered, girc's own lines go through it.
	out atomic.Pointer[Outbound]

	mu      sync.Mutex
	cur     *connState
	changed chan struct{} // closed and replaced on every state change

	// usersMu serialises reads of girc's user state: girc v1.1.2's User.Copy (behind Client.Users) copies a
	// user's ChannelList onto its own backing array while holding only the state's read lock, so two
	// callers at once write the same memory (a data race the race detector reports).
	usersMu sync.Mutex
}

func newTransport(o *Options, roles *commands.Roles, m *Metrics, enqueue func(inbound) bool) *transport {
	return &transport{o: o, roles: roles, metrics: m, enqueue: enqueue, changed: make(chan struct{})}
}

// notifyLocked wakes everyone waiting on ready(). t.mu must be held.
func (t *transport) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
	if t.cur != nil && t.cur.registered {
		t.metrics.Connected.Set(1)
	} else {
		t.metrics.Connected.Set(0)
	}
	if t.offNickLocked() {
		t.metrics.NickMismatch.Set(1)
	} else {
		t.metrics.NickMismatch.Set(0)
	}
}

// offNickLocked reports whether the bot is connected under another nick than the configured one (someone
// else holds it). t.mu must be held.
func (t *transport) offNickLocked() bool {
	return t.cur != nil && t.cur.registered && t.roles.Fold(t.cur.nick) != t.roles.Fold(t.o.Nick)
}

// ready returns a channel closed at the next state change.
func (t *transport) ready() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// run connects until ctx ends, with capped exponential backoff and jitter between attempts.
func (t *transport) run(ctx context.Context) {
	delay := t.o.BackoffMin
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			t.metrics.Reconnects.Inc()
		}
		start := time.Now()
		err := t.connectOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 2*time.Minute {
			delay = t.o.BackoffMin // the link was healthy for a while: start over
		}
		wait := delay/2 + rand.N(delay/2+1)
		t.o.Log.Warn("irc: disconnected, reconnecting", "server", t.o.Server, "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, t.o.BackoffMax)
	}
}

func (t *transport) connectOnce(ctx context.Context) error {
	host, portStr, err := net.SplitHostPort(t.o.Server)
	if err != nil {
		return fmt.Errorf("irc: server %q: %w", t.o.Server, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("irc: server %q: the port must be a number from 1 to 65535", t.o.Server)
	}
	cfg := girc.Config{
		Server: host, Port: port, Nick: t.o.Nick, User: t.o.User, Name: t.o.Realname,
		DisableSTS: true, AllowFlood: true, // TLS and flood control are ours (girc's flood limiter lets bursts through)
		// girc's WHO and MODE on joining are replaced by one WHOX per channel, through the queue (JOIN handler).
		DisableAutoWHOOnJoin: true, DisableAutoMODEOnJoin: true,
		PingDelay: t.o.PingDelay, Version: "opsbot " + t.o.Version,
		RecoverFunc: func(_ *girc.Client, e *girc.HandlerError) {
			t.o.Log.Error("irc: handler panicked", "err", e.Error(), "stack", string(e.Stack))
		},
	}
	if t.o.SASLUser != "" {
		cfg.SASL = &girc.SASLPlain{User: t.o.SASLUser, Pass: t.o.SASLPassword}
	}
	cs := &connState{joined: map[string]bool{}, rejoinTries: map[string]int{}, rejoining: map[string]bool{}, joinedAt: map[string]time.Time{},
		refused: map[string]refusal{}, sentTo: map[string]string{}}
	// girc renames on every 433, also when our own attempt to regain the nick fails: only during registration.
	cfg.HandleNickCollide = func(old string) string {
		t.mu.Lock()
		defer t.mu.Unlock()
		if cs.registered {
			return ""
		}
		return old + "_"
	}
	c := girc.New(cfg)
	cs.client = c
	t.addHandlers(cs)

	t.mu.Lock()
	t.cur = cs
	t.notifyLocked()
	t.mu.Unlock()

	// The connection ends when ctx ends: its socket is closed, and girc returns. Not girc's Close, which
	// reads what girc sets while connecting, unlocked (a data race when shutdown meets a reconnect).
	closeConn := func() {
		t.mu.Lock()
		fc := cs.conn
		t.mu.Unlock()
		if fc != nil {
			fc.Close()
		}
	}
	done := make(chan struct{})
	go func() { // exits with the connection
		select {
		case <-ctx.Done():
			closeConn()
		case <-done:
		}
	}()
	err = c.DialerConnect(&dialer{ctx: ctx, o: t.o, metrics: t.metrics, onConn: func(fc *filterConn) {
		fc.tap = func(line []byte) bool { return t.takeCommand(cs, line) }
		fc.route = func(line []byte) bool { return t.route(cs, fc, line) }
		t.mu.Lock()
		cs.conn = fc
		t.mu.Unlock()
		if ctx.Err() != nil { // ended while dialing: the watcher may have found no socket yet
			closeConn()
		}
	}})
	close(done)

	t.mu.Lock()
	for _, tm := range cs.timers {
		tm.Stop()
	}
	t.cur = nil
	t.notifyLocked()
	t.mu.Unlock()
	if o := t.out.Load(); o != nil {
		o.linkLost()
	}
	if err == nil {
		err = errors.New("connection closed")
	}
	return err
}

// quit sends QUIT with a reason and waits (bounded by ctx) for the connection to close.
func (t *transport) quit(ctx context.Context, reason string) {
	t.mu.Lock()
	cs := t.cur
	ch := t.changed
	var fc *filterConn
	if cs != nil {
		fc = cs.conn
	}
	t.mu.Unlock()
	if fc == nil || !cs.client.IsConnected() {
		return
	}
	// Not girc's Quit: it closes the socket right after writing, so the server may never read the reason.
	// We write QUIT and let the server close the link.
	_ = fc.writeNow([]byte("QUIT :" + wireClean(reason) + "\r\n"))
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		t.mu.Lock()
		gone := t.cur != cs
		ch = t.changed
		t.mu.Unlock()
		if gone {
			return
		}
	}
}

func (t *transport) addHandlers(cs *connState) {
	c := cs.client
	h := c.Handlers
	h.Add(girc.RPL_SASLSUCCESS, func(_ *girc.Client, _ girc.Event) {
		t.mu.Lock()
		cs.saslOK = true
		t.mu.Unlock()
	})
	for _, code := range []string{"902", girc.ERR_SASLFAIL, girc.ERR_SASLTOOLONG, girc.ERR_SASLABORTED} {
		h.Add(code, func(_ *girc.Client, e girc.Event) {
			t.o.Log.Error("irc: SASL authentication failed", "account", t.o.SASLUser, "reply", e.Last())
		})
	}
	// End of MOTD, or no MOTD: the reply's first parameter is the nick the server registered the bot under.
	h.Add("376", func(c *girc.Client, e girc.Event) { t.onRegistered(cs, e) })
	h.Add("422", func(c *girc.Client, e girc.Event) { t.onRegistered(cs, e) })
	h.Add(girc.JOIN, func(c *girc.Client, e girc.Event) {
		if e.Source == nil || len(e.Params) == 0 || !t.isMe(c, e.Source.Name) {
			return
		}
		t.mu.Lock()
		key := t.roles.Fold(e.Params[0])
		cs.joined[key], cs.joinedAt[key] = true, time.Now()
		delete(cs.refused, key) // (re)joined: try its lines again at once
		t.notifyLocked()
		t.mu.Unlock()
		t.o.Log.Info("irc: joined", "channel", e.Params[0])
		// One WHOX for the whole channel tells girc everyone's account; from then on extended-join and
		// account-notify keep it current, with no line per join (see route).
		c.Send(&girc.Event{Command: girc.WHO, Params: []string{e.Params[0], "%tacuhnr,1"}})
	})
	h.Add(girc.PONG, func(_ *girc.Client, e girc.Event) {
		if n, ok := syncToken(e.Last()); ok {
			if o := t.out.Load(); o != nil {
				o.confirm(n)
			}
		}
	})
	h.Add(girc.PART, func(c *girc.Client, e girc.Event) {
		// The bot never parts by itself: a PART of ours is forced (an op's REMOVE, an oper's SAPART), and
		// is treated like a kick, rejoined with the same backoff, so the channel's lines do not wait for good.
		if e.Source != nil && len(e.Params) > 0 && t.isMe(c, e.Source.Name) && t.isOurChannel(e.Params[0]) {
			t.rejoinLater(cs, e.Params[0], "parted: "+e.Last())
		}
	})
	h.Add(girc.KICK, func(c *girc.Client, e girc.Event) {
		// A channel an oper made the bot join is not rejoined.
		if len(e.Params) < 2 || !t.isMe(c, e.Params[1]) || !t.isOurChannel(e.Params[0]) {
			return
		}
		t.rejoinLater(cs, e.Params[0], "kicked: "+e.Last())
	})
	// A JOIN the server refused (banned, invite only, full, a key, registered users only, too many channels,
	// TLS or opers only) is tried again later: the channel's lines wait for it, durable ones included.
	for _, code := range joinRefusals {
		h.Add(code, func(c *girc.Client, e girc.Event) {
			if len(e.Params) >= 2 && t.isOurChannel(e.Params[1]) && !t.inChannel(cs, e.Params[1]) {
				t.rejoinLater(cs, e.Params[1], "join refused: "+e.Last())
			}
		})
	}
	// A line the server refused to deliver (404, 401, 531) is taken in the wire tap (tapRefusal), in wire
	// order: girc runs each line's handlers in a goroutine of its own, so a refusal's handler could run after
	// the handler of the PONG that follows it, which would confirm the refused line.
	h.Add(girc.PRIVMSG, func(c *girc.Client, e girc.Event) { t.onPrivmsg(c, e) })
	t.addTopicHandlers(cs)
	// Regain the configured nick as soon as its holder leaves or renames.
	regain := func(c *girc.Client, e girc.Event) {
		if e.Source != nil && t.roles.Fold(e.Source.Name) == t.roles.Fold(t.o.Nick) && !t.onNick(cs) {
			c.Cmd.Nick(t.o.Nick)
		}
	}
	h.Add(girc.QUIT, regain)
	h.Add(girc.NICK, regain)
	h.Add(girc.NICK, func(_ *girc.Client, e girc.Event) {
		if e.Source != nil && len(e.Params) > 0 {
			t.onNickChange(cs, e.Source.Name, e.Last())
		}
	})
	h.Add(girc.NOTICE, func(c *girc.Client, e girc.Event) {
		if e.Source != nil && strings.EqualFold(e.Source.Name, "NickServ") && len(e.Params) > 1 {
			t.onNickServ(cs, e.Last())
		}
	})
}

func (t *transport) isMe(c *girc.Client, nick string) bool {
	return t.roles.Fold(nick) == t.roles.Fold(c.GetNick())
}

// onRegistered runs once per connection at the end of registration (e is the end of the MOTD, or its
// absence): it applies the SASL gate, learns the casemapping, joins the channels and starts regaining the
// nick.
func (t *transport) onRegistered(cs *connState, e girc.Event) {
	c := cs.client
	nick := c.GetNick() // girc learns it from the welcome, in a goroutine of its own: the reply is surer
	if len(e.Params) > 0 && e.Params[0] != "" && e.Params[0] != "*" {
		nick = e.Params[0]
	}
	t.mu.Lock()
	if cs.registered {
		t.mu.Unlock()
		return
	}
	if t.o.SASLUser != "" && !cs.saslOK {
		t.mu.Unlock()
		// girc carries on unauthenticated when the server offers no SASL or it fails: we do not.
		t.o.Log.Error("irc: SASL is configured but authentication did not succeed; not joining, will retry",
			"account", t.o.SASLUser, "sasl_offered", c.HasCapability("sasl"))
		c.Close()
		return
	}
	cs.registered = true
	cs.since = time.Now()
	cs.nick = nick
	t.mu.Unlock()

	if cm, ok := c.GetServerOption("CASEMAPPING"); ok {
		t.roles.Names().Set(cm)
	}
	cs.direct.Store(true)
	if t.o.RequireAccount && !c.HasCapability("account-tag") {
		t.o.Log.Warn("irc: server did not acknowledge account-tag: every caller is anonymous (read only)")
	}
	for _, ch := range t.o.Channels {
		c.Cmd.Join(ch)
	}
	t.mu.Lock()
	t.notifyLocked()
	t.mu.Unlock()
	t.o.Log.Info("irc: registered", "server", t.o.Server, "nick", nick, "sasl", cs.saslOK)
	if !t.onNick(cs) {
		t.o.Log.Warn("irc: the configured nick is taken: using another until it is regained", "nick", t.o.Nick, "using", nick)
		t.regainNick(cs, 0)
	}
}

// onNick reports whether the bot is on its configured nick.
func (t *transport) onNick(cs *connState) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.roles.Fold(cs.nick) == t.roles.Fold(t.o.Nick)
}

// regainNick works to get the configured nick back, with backoff between attempts: logged in, it asks
// NickServ to REGAIN it, or, where NickServ does not know REGAIN (Atheme 7.2), to GHOST its holder, and
// takes it on NickServ's answer (onNickServ); it also tries NICK itself from the second attempt on, and
// always when not logged in.
func (t *transport) regainNick(cs *connState, attempt int) {
	c := cs.client
	if t.onNick(cs) || !c.IsConnected() {
		return
	}
	if cs.saslOK {
		t.mu.Lock()
		cs.asked = "REGAIN"
		if cs.noRegain {
			cs.asked = "GHOST"
		}
		ask := cs.asked
		t.mu.Unlock()
		c.Cmd.Message("NickServ", ask+" "+t.o.Nick)
	}
	if !cs.saslOK || attempt > 0 {
		c.Cmd.Nick(t.o.Nick)
	}
	delay := min(time.Duration(1<<min(attempt, 6))*5*time.Second, 5*time.Minute)
	t.after(cs, delay, func() { t.regainNick(cs, attempt+1) })
}

// onNickServ follows NickServ's answers to what regainNick asked: REGAIN unknown (Atheme 7.2 says
// "Invalid command") -> GHOST; the holder ghosted, or gone -> NICK.
func (t *transport) onNickServ(cs *connState, text string) {
	text = girc.StripRaw(text)
	t.mu.Lock()
	asked, nick := cs.asked, cs.nick
	next := ""
	switch {
	case asked == "REGAIN" && (strings.Contains(text, "Invalid command") || strings.Contains(text, "Unknown command")):
		cs.noRegain, cs.asked, next = true, "GHOST", "GHOST"
	case asked == "GHOST" && (strings.Contains(text, "has been ghosted") || strings.Contains(text, "is not online")):
		cs.asked, next = "", "NICK"
	case asked == "GHOST":
		cs.asked = ""
	}
	t.mu.Unlock()
	c := cs.client
	switch {
	case next == "GHOST":
		t.o.Log.Warn("irc: NickServ does not know REGAIN: asking it to GHOST the configured nick's holder", "nick", t.o.Nick, "using", nick, "reply", text)
		c.Cmd.Message("NickServ", "GHOST "+t.o.Nick)
	case next == "NICK":
		t.o.Log.Info("irc: NickServ freed the configured nick: taking it", "nick", t.o.Nick, "reply", text)
		c.Cmd.Nick(t.o.Nick)
	case asked == "GHOST":
		t.o.Log.Warn("irc: NickServ did not ghost the configured nick's holder; will retry", "nick", t.o.Nick, "using", nick, "reply", text)
	}
}

// onNickChange follows the bot's own nick: regained, or lost (a server or services may rename it).
func (t *transport) onNickChange(cs *connState, from, to string) {
	t.mu.Lock()
	if t.roles.Fold(from) != t.roles.Fold(cs.nick) {
		t.mu.Unlock()
		return
	}
	cs.nick = to
	registered := cs.registered
	t.notifyLocked()
	t.mu.Unlock()
	if !registered {
		return
	}
	if t.onNick(cs) {
		t.o.Log.Info("irc: on the configured nick again", "nick", to, "was", from)
		return
	}
	t.o.Log.Warn("irc: renamed away from the configured nick; regaining it", "nick", t.o.Nick, "using", to)
	if t.roles.Fold(from) == t.roles.Fold(t.o.Nick) {
		t.regainNick(cs, 0)
	}
}

// joinRefusals are the replies to a JOIN the server refused: 405 too many channels, 471 full, 473 invite
// only, 474 banned, 475 bad key, 477 registered users only, 489 TLS only, 520 opers only (InspIRCd).
var joinRefusals = []string{girc.ERR_TOOMANYCHANNELS, girc.ERR_CHANNELISFULL, girc.ERR_INVITEONLYCHAN, girc.ERR_BANNEDFROMCHAN,
	girc.ERR_BADCHANNELKEY, "477", "489", "520"}

// retryDelay is the wait before try n (from 1) of something the server refused: RejoinDelay, doubling, at
// most 5m, so that a kick war or a ban cannot make the bot flood.
func (t *transport) retryDelay(n int) time.Duration {
	return min(time.Duration(1<<min(max(n, 1)-1, 6))*t.o.RejoinDelay, 5*time.Minute)
}

// rejoinSettle is how long the bot must have stayed in a channel for its next rejoin to start again from the
// first delay.
const rejoinSettle = 5 * time.Minute

// rejoinLater joins a configured channel the bot is not in (kicked, parted by force, or its JOIN refused)
// again after retryDelay of the tries since the bot last stayed in it. One try is pending at a time.
func (t *transport) rejoinLater(cs *connState, channel, why string) {
	t.mu.Lock()
	key := t.roles.Fold(channel)
	delete(cs.joined, key)
	t.notifyLocked()
	if cs.rejoining[key] {
		t.mu.Unlock()
		return
	}
	if at, ok := cs.joinedAt[key]; ok && time.Since(at) >= rejoinSettle {
		cs.rejoinTries[key] = 0
	}
	delete(cs.joinedAt, key)
	cs.rejoinTries[key]++
	delay := t.retryDelay(cs.rejoinTries[key])
	cs.rejoining[key] = true
	t.mu.Unlock()
	t.o.Log.Warn("irc: not in a channel, will join it again", "channel", channel, "why", why, "in", delay)
	t.after(cs, delay, func() {
		t.mu.Lock()
		delete(cs.rejoining, key)
		back := cs.joined[key] // an oper's SAJOIN, say
		t.mu.Unlock()
		if !back && cs.client.IsConnected() {
			cs.client.Cmd.Join(channel)
		}
	})
}

// inChannel reports whether the bot is in channel on this connection.
func (t *transport) inChannel(cs *connState, channel string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return cs.joined[t.roles.Fold(channel)]
}

// refusal is a target the server refused lines to: the tries so far, and until when lines to it wait.
type refusal struct {
	n     int
	until time.Time
}

// onRefused takes the server's refusal of a line to `to`: a channel, or a nick that a line for an account
// went to. The durable lines written to that target (the channel, or the account) and not yet confirmed are
// not delivered: they stay in the outbox and are queued again when their sync PING's PONG comes, instead of
// leaving it (Outbound.refuse). Lines to the target then wait retryDelay of its refusals in a row (canSend),
// or until the bot joins the channel again.
func (t *transport) onRefused(cs *connState, to, reason string) {
	target := to
	if !girc.IsValidChannel(to) {
		t.mu.Lock()
		account, ok := cs.sentTo[t.roles.Fold(to)]
		t.mu.Unlock()
		if !ok {
			return // a reply to someone who left: nothing durable, nothing to hold
		}
		target = accountPrefix + account
	} else if !t.isOurChannel(to) {
		return
	}
	key := t.roles.Fold(target)
	t.mu.Lock()
	r := cs.refused[key]
	if time.Since(r.until) > rejoinSettle { // the last refusal is long past: start again from the first delay
		r.n = 0
	}
	r.n++
	delay := t.retryDelay(r.n)
	r.until = time.Now().Add(delay)
	cs.refused[key] = r
	t.notifyLocked()
	t.mu.Unlock()
	n := 0
	if o := t.out.Load(); o != nil {
		n = o.refuse(func(lineTarget string) bool { return t.roles.Fold(lineTarget) == key })
	}
	t.o.Log.Warn("irc: the server refused a line; lines to its target wait", "to", to, "reason", reason,
		"durable_lines_kept", n, "retry_in", delay)
}

// refusing reports whether lines to target wait after the server refused one (see onRefused).
func (t *transport) refusing(target string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur != nil && t.cur.refusing(t.roles.Fold(target))
}

// refusing reports whether lines to the target folded to key wait (t.mu held).
func (cs *connState) refusing(key string) bool {
	if len(cs.refused) == 0 {
		return false
	}
	r, ok := cs.refused[key]
	return ok && time.Now().Before(r.until)
}

// after runs f after d unless the connection has ended by then.
func (t *transport) after(cs *connState, d time.Duration, f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != cs {
		return
	}
	cs.timers = append(cs.timers, time.AfterFunc(d, func() {
		t.mu.Lock()
		live := t.cur == cs
		t.mu.Unlock()
		if live {
			f()
		}
	}))
}

// privmsg is one PRIVMSG as both ways in see it: girc's event loop and the wire tap (takeCommand).
type privmsg struct {
	nick, ident, host string
	target, text      string
	accountTag        string // the message's own account tag, "" when it has none
}

// onPrivmsg hands a PRIVMSG that reached girc's event loop to command. Once registered, commands are taken
// off the wire before girc sees them (takeCommand); this path serves the moments before that.
func (t *transport) onPrivmsg(c *girc.Client, e girc.Event) {
	if e.Source == nil || len(e.Params) < 2 {
		return
	}
	tag, _ := e.Tags.Get("account")
	t.command(c, privmsg{nick: e.Source.Name, ident: e.Source.Ident, host: e.Source.Host,
		target: e.Params[0], text: e.Last(), accountTag: tag})
}

// takeCommand is the wire tap (filterConn.Read): once the connection is registered, a PRIVMSG that is a
// command goes straight to the worker pool and is taken out of what girc reads, saving girc's goroutine per
// line and per handler and its event loop on the path of every reply. Any other line is left to girc.
func (t *transport) takeCommand(cs *connState, line []byte) (taken bool) {
	if !cs.direct.Load() {
		return false
	}
	if !bytes.Contains(line, []byte(" PRIVMSG ")) {
		t.tapRefusal(cs, line)
		return false
	}
	defer func() { // girc's RecoverFunc does not cover its reader: a panic here leaves the line to girc
		if r := recover(); r != nil {
			t.o.Log.Error("irc: wire tap panicked; the line goes to girc", "panic", r)
			taken = false
		}
	}()
	m, err := ircmsg.ParseLine(string(bytes.TrimRight(line, "\r\n")))
	if err != nil || m.Command != girc.PRIVMSG || len(m.Params) < 2 {
		return false
	}
	src, err := m.NUH()
	if err != nil || src.Name == "" {
		return false
	}
	_, tag := m.GetTag("account")
	return t.command(cs.client, privmsg{nick: src.Name, ident: src.User, host: src.Host,
		target: m.Params[0], text: m.Params[len(m.Params)-1], accountTag: tag})
}

// tapRefusal takes the server's refusal of a line (404: banned, quieted or moderated in the channel; 477 in
// a channel the bot is in: registered users only, on some servers; 401 and 531: the nick an account's line
// went to is gone, or takes no messages) as the reader reads it, before any later line (the PONG that would
// confirm the refused line) is handled: see onRefused. girc sees it too.
func (t *transport) tapRefusal(cs *connState, line []byte) {
	if !slices.ContainsFunc(refusalCodes, func(code []byte) bool { return bytes.Contains(line, code) }) {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			t.o.Log.Error("irc: wire tap panicked on a refusal", "panic", r)
		}
	}()
	m, err := ircmsg.ParseLine(string(bytes.TrimRight(line, "\r\n")))
	if err != nil || len(m.Params) < 2 {
		return
	}
	switch m.Command {
	case "477": // to a JOIN (the bot is not in the channel), a join refusal: the girc handler's
		if !t.inChannel(cs, m.Params[1]) {
			return
		}
		fallthrough
	case girc.ERR_CANNOTSENDTOCHAN, girc.ERR_NOSUCHNICK, "531":
		t.onRefused(cs, m.Params[1], m.Params[len(m.Params)-1])
	}
}

// refusalCodes are the numerics tapRefusal looks at, as they appear in a line.
var refusalCodes = [][]byte{[]byte(" 404 "), []byte(" 401 "), []byte(" 531 "), []byte(" 477 ")}

// command turns a PRIVMSG into a command for the worker pool, or ignores it. It reports whether the line
// was a command (queued, or dropped because the pool is full). It never blocks.
func (t *transport) command(c *girc.Client, p privmsg) bool {
	if strings.HasPrefix(p.text, "\x01") || t.isMe(c, p.nick) { // CTCP (ACTION too) or our own echo
		return false
	}
	in := inbound{replyTo: p.nick}
	if girc.IsValidChannel(p.target) {
		if !t.isOurChannel(p.target) {
			return false
		}
		body, ok := t.addressed(p.text, c.GetNick())
		if !ok {
			return false
		}
		in.replyTo, in.msg.Channel, in.msg.Text = p.target, p.target, body
	} else if t.isMe(c, p.target) {
		in.msg.Text = strings.TrimPrefix(strings.TrimLeft(p.text, " "), t.o.Prefix)
	} else {
		// Neither our channel nor us: "@#operations" (a message to the channel's operators, which the bot
		// gets as one) is chat among ops, not a private command without prefix.
		return false
	}
	in.msg.Caller = commands.Caller{Nick: p.nick, Account: t.accountOf(c, p.accountTag, p.nick), Host: p.ident + "@" + p.host}
	if !t.enqueue(in) {
		t.metrics.InboundDropped.Inc()
	}
	return true
}

// accountOf is the caller's services account from the message's own account tag (never from the nick or a
// cached user record), casefolded. In the insecure mode the nick stands in when there is no tag.
func (t *transport) accountOf(c *girc.Client, tag, nick string) string {
	acct := ""
	if tag != "" && tag != "*" && c.HasCapability("account-tag") {
		acct = tag
	}
	if acct == "" && !t.o.RequireAccount {
		acct = nick
	}
	return t.roles.Fold(acct)
}

// addressed returns the command in a channel line: "!cmd ..." or "opsbot: cmd ...".
func (t *transport) addressed(text, curNick string) (string, bool) {
	if p := t.o.Prefix; strings.HasPrefix(text, p) {
		rest := text[len(p):]
		if rest == "" || rest[0] == ' ' || strings.HasPrefix(rest, p) {
			return "", false
		}
		return rest, true
	}
	for _, n := range []string{curNick, t.o.Nick} {
		if len(text) > len(n)+1 && t.roles.Fold(text[:len(n)]) == t.roles.Fold(n) && strings.ContainsRune(":, ", rune(text[len(n)])) {
			if rest := strings.TrimLeft(text[len(n)+1:], " "); rest != "" {
				return strings.TrimPrefix(rest, t.o.Prefix), true
			}
		}
	}
	return "", false
}

func (t *transport) isOurChannel(ch string) bool {
	f := t.roles.Fold(ch)
	for _, c := range t.o.Channels {
		if t.roles.Fold(c) == f {
			return true
		}
	}
	return false
}

// accountPrefix marks an outgoing line's target as a services account rather than a nick (Bot.Tell). No nick
// or channel can look like it (a nick has no colon; "~" would not do: some networks start channels with it),
// so in memory or in the outbox it is never taken for one.
const accountPrefix = "account:"

// accountTarget is the target of a line for whoever is logged in as account.
func accountTarget(account string) string { return accountPrefix + account }

// targetAccount returns the account a target names, if it names one.
func targetAccount(target string) (string, bool) {
	a, ok := strings.CutPrefix(target, accountPrefix)
	return a, ok && a != ""
}

// nicksOf returns the nicks the connection sees logged in as account, never the bot's own. girc tracks
// accounts from extended-join, account-notify, WHOX on join and account tags, for the users of the bot's
// channels. In the insecure nick mode (no services), the nick equal to the account stands in when there is
// no such user. A nick that merely equals the account name is never enough otherwise: anyone may hold it.
func (t *transport) nicksOf(cs *connState, account string) []string {
	want, me := t.roles.Fold(account), t.roles.Fold(cs.client.GetNick())
	var nicks []string
	t.usersMu.Lock()
	users := cs.client.Users()
	t.usersMu.Unlock()
	for _, u := range users {
		a := u.Extras.Account
		if a == "" || a == "*" || t.roles.Fold(a) != want || t.roles.Fold(u.Nick) == me {
			continue
		}
		nicks = append(nicks, u.Nick)
	}
	if len(nicks) == 0 && !t.o.RequireAccount && girc.IsValidNick(account) {
		nicks = []string{account}
	}
	return nicks
}

// canSend reports whether a line to target can go out now: connected, the channel joined, or for an
// account someone logged in as it in sight.
func (t *transport) canSend(target string) bool {
	t.mu.Lock()
	cs := t.cur
	if cs == nil || !cs.registered {
		t.mu.Unlock()
		return false
	}
	if girc.IsValidChannel(target) {
		defer t.mu.Unlock()
		key := t.roles.Fold(target)
		return cs.joined[key] && !cs.refusing(key)
	}
	account, ok := targetAccount(target)
	if !ok {
		t.mu.Unlock()
		return true
	}
	held := cs.refusing(t.roles.Fold(target))
	t.mu.Unlock()
	return !held && len(t.nicksOf(cs, account)) > 0 // outside t.mu: girc's state has its own lock
}

// attach is called by the outbound queue's run: from then on girc's lines go through the queue once the
// connection is registered, and the server's answers to sync PINGs confirm durable lines.
func (t *transport) attach(o *Outbound) { t.out.Store(o) }

// route takes one of girc's lines (filterConn.Write) and reports whether it was taken: queued in the
// outbound queue's protocol lane, or dropped. A line not taken is written at once: before registration
// girc's few lines (CAP, NICK, USER, AUTHENTICATE, PONG: five to seven per connection, fixed, well within
// what servers allow a new connection, InspIRCd's stock threshold being ten) go straight out without taking
// a token. Charging them emptied the default bucket (four), so the JOIN after the welcome waited for a
// token: a start took one flood interval longer than the server's registration. After registration every
// line of girc's waits for its token like any other, before replies and notices.
//
// girc asks WHO for everyone who joins a channel the bot is in. With extended-join the JOIN itself names
// the account (and account-notify every later login or logout), so that WHO is dropped: a join storm, or
// a netsplit rejoining hundreds, costs no line at all. Without extended-join it is kept, but optional: at
// most maxOptional wait.
func (t *transport) route(cs *connState, fc *filterConn, line []byte) bool {
	o := t.out.Load()
	if o == nil {
		return false
	}
	if !cs.direct.Load() {
		return false
	}
	joiner := isJoinerWHO(line)
	if joiner && cs.client.HasCapability("extended-join") {
		return true
	}
	o.pushProto(Line{raw: bytes.Clone(line), conn: fc, optional: joiner})
	return true
}

// isJoinerWHO reports girc's WHO for a user who joined: "WHO <nick> %tacuhnr,1" (to a nick, not a channel).
func isJoinerWHO(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("WHO "))
	if !ok {
		return false
	}
	target, query, _ := bytes.Cut(bytes.TrimRight(rest, "\r\n"), []byte(" "))
	return !girc.IsValidChannel(string(target)) && string(query) == "%tacuhnr,1"
}

// syncToken returns n from a sync PING's token "opsbot-sync-<n>".
func syncToken(token string) (uint64, bool) {
	rest, ok := strings.CutPrefix(token, syncPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil && n > 0
}

// writeLine validates and writes one line. Targets are only configured channels or nicks taken from events.
// It writes to the connection directly rather than through girc's Send, which would add a goroutine hop and
// drop the line silently if the link had just died; a failed write here is errNotReady, and the line is kept.
func (t *transport) writeLine(l Line) error {
	t.mu.Lock()
	cs := t.cur
	var fc *filterConn
	if cs != nil && (cs.registered || (l.conn != nil && cs.conn == l.conn)) {
		fc = cs.conn
	}
	t.mu.Unlock()
	if l.conn != nil && fc != l.conn {
		return nil // one of girc's lines for a connection that has ended: it means nothing on another
	}
	if fc == nil {
		return errNotReady
	}
	if l.raw != nil {
		if err := fc.writeNow(l.raw); err != nil {
			return fmt.Errorf("%w: %v", errNotReady, err)
		}
		return nil
	}
	if account, ok := targetAccount(l.Target); ok {
		nicks := t.nicksOf(cs, account)
		if len(nicks) == 0 {
			return errNotReady // kept (durably, for a page) until someone logged in as account is in sight
		}
		t.mu.Lock()
		if len(cs.sentTo) > 4*maxQueued { // forget nicks written to long ago: a refusal comes within seconds
			clear(cs.sentTo)
		}
		for _, nick := range nicks {
			cs.sentTo[t.roles.Fold(nick)] = t.roles.Fold(account)
		}
		t.mu.Unlock()
		for _, nick := range nicks {
			l.Target = nick
			if err := t.writeLine(l); err != nil {
				return err
			}
		}
		return nil
	}
	if girc.IsValidChannel(l.Target) {
		if !t.isOurChannel(l.Target) {
			return fmt.Errorf("irc: refusing to send to unconfigured channel %q", l.Target)
		}
	} else if !nickTarget(l.Target) {
		return fmt.Errorf("irc: invalid target %q", l.Target)
	}
	cmd := girc.PRIVMSG
	if l.Notice {
		cmd = girc.NOTICE
	}
	clean := wireClean(l.Text)
	if clean == "" {
		return nil
	}
	// The text was cut to fit the target it was queued for; the nick an account resolves to, a late mark or
	// a defused start can make it longer than a line holds. Cut it again rather than lose it.
	budget := textBudget(string(cmd), l.Target)
	pieces := []string{defuse(clean, t.o.Prefix)}
	if len(pieces[0]) > budget {
		pieces = splitText(clean, budget-len(zwsp))
		for i, p := range pieces {
			pieces[i] = defuse(p, t.o.Prefix)
		}
	}
	var lines [][]byte
	for _, p := range pieces {
		m := ircmsg.MakeMessage(nil, "", cmd, l.Target, p)
		line, err := m.LineBytesStrict(true, MaxLineBytes-sourceReserve)
		if err != nil {
			return fmt.Errorf("irc: invalid line to %q: %w", l.Target, err)
		}
		lines = append(lines, line)
	}
	for _, line := range lines {
		if err := fc.writeNow(line); err != nil {
			return fmt.Errorf("%w: %v", errNotReady, err)
		}
	}
	return nil
}

// nickTarget reports whether nick, which the server gave (a message's source, a WHO reply), can be a
// PRIVMSG's target: one parameter, not a channel. Not girc.IsValidNick, which takes ASCII nicks only: Ergo
// allows UTF-8 nicks, and InspIRCd renames a user to a UID starting with a digit on a nick collision.
func nickTarget(nick string) bool {
	return nick != "" && nick[0] != ':' && !girc.IsValidChannel(nick) && !strings.ContainsAny(nick, " ,\x00\r\n")
}

// IRCStatus reports the connection for !status and /healthz.
func (t *transport) IRCStatus() commands.IRCStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil || !t.cur.registered {
		return commands.IRCStatus{Server: t.o.Server}
	}
	st := commands.IRCStatus{Connected: true, Since: t.cur.since, Nick: t.cur.nick, Server: t.o.Server}
	if t.offNickLocked() {
		st.NickWanted = t.o.Nick
	}
	return st
}

// dialer dials with a timeout, does TLS itself (verifying unless configured otherwise), and wraps the
// plaintext connection in a filter that is the last line of defence on the wire. Dialing and the TLS
// handshake end when ctx does (shutdown), not only at the timeout.
type dialer struct {
	ctx     context.Context
	o       *Options
	metrics *Metrics
	onConn  func(*filterConn)
}

func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	dial := func(network, addr string) (net.Conn, error) {
		return (&net.Dialer{Timeout: d.o.DialTimeout}).DialContext(d.ctx, network, addr)
	}
	if d.o.dial != nil {
		dial = d.o.dial
	}
	conn, err := dial(network, addr)
	if err != nil {
		return nil, err
	}
	var raw syscall.RawConn // the TCP socket under TLS, for quickAck
	if sc, ok := conn.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	if d.o.TLS {
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: d.o.TLSInsecure, MinVersion: tls.VersionTLS12}) //nolint:gosec // opt-in
		_ = conn.SetDeadline(time.Now().Add(d.o.DialTimeout))
		if err := tc.HandshakeContext(d.ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("irc: tls handshake with %s: %w", addr, err)
		}
		_ = conn.SetDeadline(time.Time{})
		conn = tc
	}
	fc := &filterConn{Conn: conn, metrics: d.metrics, raw: raw}
	d.onConn(fc)
	return fc, nil
}

// filterConn drops CTCP replies girc would send on its own (it answers unknown CTCPs even with every handler
// cleared, bypassing any rate limit) and any line over 512 bytes, which would be a bug upstream. On the way
// in it offers every complete line to tap, and girc reads only the lines tap did not take.
type filterConn struct {
	net.Conn
	mu      sync.Mutex // girc's writes (pending)
	pending []byte
	wmu     sync.Mutex // writes to the socket
	metrics *Metrics
	// route, when set, is offered each of girc's lines; it reports whether it took the line (to queue it
	// or drop it), else the line is written at once.
	route func(line []byte) bool

	// Read side; only girc's reader calls Read, one call at a time.
	tap  func(line []byte) bool
	rbuf [4096]byte
	in   []byte          // read from the server, not yet split into lines (at most a partial line between calls)
	out  []byte          // lines for girc
	rerr error           // the server read's error, returned once out is empty
	skip bool            // in the middle of an overlong line given to girc in pieces
	raw  syscall.RawConn // the TCP socket, when there is one: acknowledged at once after each read (quickAck)
}

// maxPartial bounds a line without its LF: longer, it goes to girc as it is (tags may make lines up to 8 KiB).
const maxPartial = 16 << 10

// Read returns the server's bytes less the lines tap takes.
func (f *filterConn) Read(p []byte) (int, error) {
	if f.tap == nil {
		n, err := f.Conn.Read(p)
		f.acked(n)
		return n, err
	}
	for len(f.out) == 0 {
		if f.rerr != nil {
			return 0, f.rerr
		}
		f.fill()
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

// fill reads once from the server and moves the complete lines tap does not take to out.
func (f *filterConn) fill() {
	n, err := f.Conn.Read(f.rbuf[:])
	f.acked(n)
	f.in = append(f.in, f.rbuf[:n]...)
	out, rest, taken := f.out[:0], f.in, false
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if line := rest[:i+1]; f.skip || !f.tap(line) {
			out = append(out, line...)
			f.skip = false
		} else {
			taken = true
		}
		rest = rest[i+1:]
	}
	if err != nil || len(rest) > maxPartial {
		out, rest = append(out, rest...), nil
		f.skip = err == nil // the rest of that line is no line of its own: girc gets it untapped
	}
	f.in = append(f.in[:0], rest...)
	f.out, f.rerr = out, err
	if taken && err == nil {
		// A taken line is traffic girc did not see: renew the read deadline girc sets before every line.
		_ = f.Conn.SetReadDeadline(time.Now().Add(gircReadTimeout))
	}
}

// acked acknowledges a read of n bytes at once (quickAck).
func (f *filterConn) acked(n int) {
	if n > 0 && f.raw != nil {
		quickAck(f.raw)
	}
}

// gircReadTimeout is the read deadline girc v1.1.2 sets before reading each line (conn.go, readLoop).
const gircReadTimeout = 300 * time.Second

// Write takes girc's writes: complete lines are filtered, then offered to route, and written at once if
// route does not take them. girc's writer is the only caller.
func (f *filterConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, p...)
	var out []byte
	for {
		i := bytes.IndexByte(f.pending, '\n')
		if i < 0 {
			break
		}
		line := f.pending[:i+1]
		switch {
		case isCTCP(line):
			f.metrics.LinesDropped.WithLabelValues("ctcp").Inc()
		case len(line) > MaxLineBytes && !hasTags(line):
			f.metrics.LinesDropped.WithLabelValues("too_long").Inc()
		case f.route != nil && f.route(line):
		default:
			out = append(out, line...)
		}
		f.pending = f.pending[i+1:]
	}
	if len(out) > 0 {
		if err := f.writeNow(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeNow writes complete lines to the socket, past route: the outbound queue's lines, which have their
// token, and QUIT.
func (f *filterConn) writeNow(b []byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	// A server that stops reading must not block the writers forever (girc sets no write deadline).
	_ = f.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := f.Conn.Write(b)
	return err
}

func hasTags(line []byte) bool { return len(line) > 0 && line[0] == '@' }

// isCTCP reports a PRIVMSG or NOTICE whose text starts with \x01.
func isCTCP(line []byte) bool {
	s := strings.TrimRight(string(line), "\r\n")
	if strings.HasPrefix(s, "@") {
		_, s, _ = strings.Cut(s, " ")
	}
	if strings.HasPrefix(s, ":") {
		_, s, _ = strings.Cut(s, " ")
	}
	cmd, rest, _ := strings.Cut(s, " ")
	cmd = strings.ToUpper(cmd)
	if cmd != "PRIVMSG" && cmd != "NOTICE" {
		return false
	}
	_, text, ok := strings.Cut(rest, " ")
	return ok && strings.HasPrefix(strings.TrimPrefix(text, ":"), "\x01")
}
