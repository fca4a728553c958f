package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Replier receives a command's answer, in the spirit of http.ResponseWriter.
type Replier interface {
	// Reply sends lines of normal output.
	Reply(lines ...string)
	// Error sends one line addressed to the caller ("bob: error: ...").
	Error(msg string)
}

// PageReplier is a Replier that can point to a web page for what a channel reply leaves out: the bot ends
// "... and N more" with the page's URL (web.base_url and the path) instead of "ask in private".
type PageReplier interface {
	Replier
	// Page names the path of the web page that shows the whole answer ("/incidents").
	Page(path string)
}

// Caller is who sent a command. Account is the IRC services account (casefolded), empty when not logged
// in. Nick is only for addressing replies: it is never used for authorisation, except in the explicit
// insecure mode, where the bot layer copies the nick into Account.
type Caller struct {
	Account string
	Nick    string
	// Host is user@host from the message's source; it keys the rate limit of anonymous callers, who could
	// otherwise get a fresh allowance with every nick change. Empty in the shell.
	Host string
}

// Key tells callers apart for per-caller bookkeeping (rate limits, the order of their commands): the account,
// else user@host (which a nick change keeps), else the nick. It never authorises.
func (c Caller) Key() string {
	switch {
	case c.Account != "":
		return "a:" + c.Account
	case c.Host != "":
		return "h:" + strings.ToLower(c.Host)
	default:
		return "n:" + strings.ToLower(c.Nick)
	}
}

// Anonymous reports whether the caller is not logged in.
func (c Caller) Anonymous() bool { return c.Account == "" }

// Who is the caller's name for records and replies: the account, or the nick for anonymous callers.
func (c Caller) Who() string {
	if c.Account != "" {
		return c.Account
	}
	return c.Nick
}

// Message is one command as received: the text after the prefix or addressing.
type Message struct {
	Caller  Caller
	Text    string
	Channel string // where it was said; "" in a private message or the shell
}

// Private reports whether the command came in a private message.
func (m Message) Private() bool { return m.Channel == "" }

// Call is a parsed command, handed to a Handler.
type Call struct {
	Cmd     *Command
	Caller  Caller
	Role    Role
	Channel string
	Args    []string
	Flags   map[string]string
	Prefix  string
	// Page is the web page that shows the whole answer; it starts as the command's Page, and a handler may
	// name a more precise one ("/requests/R-12").
	Page string
}

// Private reports whether the command came in a private message.
func (c *Call) Private() bool { return c.Channel == "" }

// Flag returns a flag's value and whether it was given.
func (c *Call) Flag(name string) (string, bool) {
	v, ok := c.Flags[name]
	return v, ok
}

// Bool reports whether a boolean flag was given.
func (c *Call) Bool(name string) bool { return c.Flags[name] == "true" }

// Rest joins the positional arguments from i on with single spaces (free text such as a summary).
func (c *Call) Rest(i int) string {
	if i >= len(c.Args) {
		return ""
	}
	return strings.Join(c.Args[i:], " ")
}

// Usage is a *UserError with this command's usage line.
func (c *Call) Usage() error { return Errorf("usage: %s", c.Cmd.Usage(c.Prefix)) }

// Auditor records write commands. The dispatcher queues entries (AuditLater) so that no command waits for
// its audit entry's commit; the store commits them in groups.
type Auditor interface {
	AuditLater(e store.AuditEntry)
}

// Observer receives one observation per command (for metrics): the command name (or "unknown") and the
// result: ok, usage, error, denied, internal, store (a database write failed), ratelimited.
type Observer func(command, result string, d time.Duration)

// Dispatcher parses, authorises, rate-limits, runs and audits commands.
type Dispatcher struct {
	reg     *Registry
	prefix  string
	roles   *Roles
	audit   Auditor
	log     *slog.Logger
	observe Observer

	limitEvery rate.Limit
	limitBurst int
	mu         sync.Mutex
	limiters   map[string]*userLimit
	// anonymous is the one budget that everyone not logged in shares, on top of each one's own: a crowd of
	// anonymous clients (each with its own user@host, so its own allowance) cannot flood the bot.
	anonymous *userLimit
	now       func() time.Time
}

// userLimit is a rate limit budget and its flood state. A flood starts at the first refused command (which
// gets the one "slow down" line) and ends when no command was refused for as long as the budget takes to
// fill up again.
type userLimit struct {
	lim         *rate.Limiter
	warned      bool // the "slow down" line of the current flood was sent
	lastRefused time.Time
	lastSeen    time.Time
}

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Prefix  string
	Roles   *Roles
	Audit   Auditor
	Log     *slog.Logger
	Observe Observer
	// RateInterval and RateBurst limit each caller's commands; zero interval disables the limit.
	RateInterval time.Duration
	RateBurst    int
	Now          func() time.Time
}

// NewDispatcher builds a dispatcher over reg.
func NewDispatcher(reg *Registry, o DispatcherOptions) *Dispatcher {
	d := &Dispatcher{reg: reg, prefix: o.Prefix, roles: o.Roles, audit: o.Audit, log: o.Log, observe: o.Observe,
		limitBurst: o.RateBurst, limiters: map[string]*userLimit{}, now: o.Now}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.observe == nil {
		d.observe = func(string, string, time.Duration) {}
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.roles == nil {
		d.roles = NewRoles(nil, nil, nil)
	}
	d.limitEvery = rate.Inf
	if o.RateInterval > 0 {
		d.limitEvery = rate.Every(o.RateInterval)
		if d.limitBurst < 1 {
			d.limitBurst = 1
		}
		// Together, people who are not logged in get twice what one person gets.
		d.anonymous = &userLimit{lim: rate.NewLimiter(2*d.limitEvery, 2*d.limitBurst)}
	}
	return d
}

// Registry is the dispatcher's command table.
func (d *Dispatcher) Registry() *Registry { return d.reg }

// Prefix is the configured command prefix.
func (d *Dispatcher) Prefix() string { return d.prefix }

// Dispatch runs one command and writes its answer to w. It never panics and never stays silent: every path
// ends in output, a usage line or an error line.
func (d *Dispatcher) Dispatch(ctx context.Context, m Message, w Replier) {
	start := d.now()
	name, result := "unknown", "ok"
	defer func() {
		if r := recover(); r != nil {
			ref := newRef()
			d.log.Error("command panicked", "ref", ref, "panic", r, "stack", string(debug.Stack()))
			w.Error(fmt.Sprintf("error: internal error (ref %s)", ref))
			result = "internal"
		}
		d.observe(name, result, d.now().Sub(start))
	}()

	text := chat.Sanitize(m.Text)
	if len(text) > MaxInputBytes {
		result = "usage"
		w.Error(fmt.Sprintf("error: command too long (%d bytes, at most %d)", len(text), MaxInputBytes))
		return
	}
	if !d.allow(m.Caller, w) {
		result = "ratelimited"
		return
	}
	toks, err := Tokenize(text)
	if err != nil {
		result = "usage"
		w.Error("error: " + err.Error())
		return
	}
	if len(toks) == 0 {
		result = "usage"
		w.Error(fmt.Sprintf("error: empty command (try %shelp)", d.prefix))
		return
	}
	cmd, rest := d.resolve(toks)
	if cmd == nil {
		result = "usage"
		w.Error(d.unknown(toks))
		return
	}
	name = cmd.Name
	role := d.roles.Of(m.Caller)
	if msg := d.deny(cmd, m.Caller, role); msg != "" {
		result = "denied"
		w.Error(msg)
		d.record(cmd, m, text, "denied")
		return
	}
	args, flags, err := splitFlags(cmd, rest)
	if err == nil && (len(args) < cmd.MinArgs || (cmd.MaxArgs >= 0 && len(args) > cmd.MaxArgs)) {
		err = errors.New("wrong number of arguments")
	}
	if err != nil {
		result = "usage"
		w.Error("usage: " + cmd.Usage(d.prefix))
		return
	}
	call := &Call{Cmd: cmd, Caller: m.Caller, Role: role, Channel: m.Channel, Args: args, Flags: flags, Prefix: d.prefix, Page: cmd.Page}
	buf := &Buffer{}
	err = cmd.Run(ctx, call, buf)
	if pr, ok := w.(PageReplier); ok && call.Page != "" {
		pr.Page(call.Page)
	}
	var ue *UserError
	switch {
	case err == nil:
		d.record(cmd, m, text, "ok")
		buf.flushTo(w)
	case errors.As(err, &ue):
		result = "error"
		if strings.HasPrefix(ue.Msg, "usage:") {
			result = "usage"
		}
		d.record(cmd, m, text, ue.Msg)
		buf.flushTo(w)
		w.Error(ue.Msg)
	default:
		result = "internal"
		ref := newRef()
		d.log.Error("command failed", "ref", ref, "command", cmd.Name, "account", m.Caller.Account, "nick", m.Caller.Nick, "err", err)
		d.record(cmd, m, text, "internal error ref "+ref)
		if errors.Is(err, store.ErrWriteFailed) {
			result = "store"
			w.Error(storeFailure(err, ref))
			return
		}
		w.Error(fmt.Sprintf("error: internal error (ref %s)", ref))
	}
}

// resolve finds the longest command name matching the first tokens.
func (d *Dispatcher) resolve(toks []string) (*Command, []string) {
	first := strings.ToLower(toks[0])
	if len(toks) > 1 {
		if c, ok := d.reg.Lookup(first + " " + strings.ToLower(toks[1])); ok {
			return c, toks[2:]
		}
	}
	if c, ok := d.reg.Lookup(first); ok {
		return c, toks[1:]
	}
	return nil, nil
}

// unknown explains an unknown command, with the family's subcommands (the nearest one to a misspelt
// subcommand) or a suggestion.
func (d *Dispatcher) unknown(toks []string) string {
	first := strings.ToLower(toks[0])
	if names := subcommands(d.reg, first); len(names) > 0 {
		if len(toks) > 1 {
			typed := strings.ToLower(toks[1])
			if s := Suggest(typed, names); s != "" {
				return fmt.Sprintf("error: no %s%s subcommand %q, did you mean %s%s %s?", d.prefix, first, chat.Truncate(typed, 40), d.prefix, first, s)
			}
		}
		return fmt.Sprintf("usage: %s%s <%s> (%shelp %s)", d.prefix, first, strings.Join(names, "|"), d.prefix, first)
	}
	msg := fmt.Sprintf("error: unknown command %q (try %shelp)", chat.Truncate(first, 40), d.prefix)
	if s := Suggest(first, d.reg.Families()); s != "" {
		msg = fmt.Sprintf("error: unknown command %q, did you mean %s%s?", chat.Truncate(first, 40), d.prefix, s)
	}
	return msg
}

// deny returns the refusal for a caller lacking the command's role, or "".
func (d *Dispatcher) deny(cmd *Command, c Caller, role Role) string {
	if (cmd.Write || cmd.Role > RoleAnyone) && c.Anonymous() {
		return "error: log in to NickServ first (this bot trusts accounts, not nicks)"
	}
	if role < cmd.Role {
		return fmt.Sprintf("error: %s%s needs the %s role (you are %s)", d.prefix, cmd.Name, cmd.Role, article(role))
	}
	return ""
}

func article(r Role) string {
	if r == RoleAdmin || r == RoleAnyone {
		return "an " + r.String()
	}
	return "a " + r.String()
}

// record audits a write command (a failure to commit is logged and counted by the store).
func (d *Dispatcher) record(cmd *Command, m Message, text, result string) {
	if !cmd.Write || d.audit == nil {
		return
	}
	d.audit.AuditLater(store.AuditEntry{Account: m.Caller.Account, Nick: m.Caller.Nick, Command: cmd.Name,
		Args: chat.Truncate(text, 500), Result: chat.Truncate(result, 200)})
}

// allow applies the rate limit: each caller's own budget and, for callers who are not logged in, the budget
// they all share; a command must fit both. The first refused command of a flood gets one line, and no
// other command of that flood does (not even after the caller is allowed again for a moment), so a flood
// never turns into a flood of refusals. A crowd of anonymous callers refused by their shared budget gets
// one line between them.
func (d *Dispatcher) allow(c Caller, w Replier) bool {
	if d.limitEvery == rate.Inf {
		return true
	}
	key := c.Key()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.limiters[key]
	if !ok {
		if len(d.limiters) > 10000 {
			d.gcLimiters(now)
		}
		u = &userLimit{lim: rate.NewLimiter(d.limitEvery, d.limitBurst)}
		d.limiters[key] = u
	}
	u.lastSeen = now
	var shared *userLimit
	if c.Anonymous() {
		shared = d.anonymous
	}
	own := u.lim.TokensAt(now) >= 1
	if own && (shared == nil || shared.lim.TokensAt(now) >= 1) {
		u.lim.AllowN(now, 1)
		if shared != nil {
			shared.lim.AllowN(now, 1)
		}
		return true
	}
	refused, msg := u, "error: slow down, too many commands; try again in a few seconds"
	if own {
		refused, msg = shared, "error: slow down, too many commands from people not logged in; log in to NickServ, or try again in a few seconds"
	}
	if refused.warned && now.Sub(refused.lastRefused) >= refillTime(refused.lim) {
		refused.warned = false // the last flood is over: this is a new one
	}
	refused.lastRefused = now
	if !refused.warned {
		refused.warned = true
		w.Error(msg)
	}
	return false
}

// refillTime is how long an empty budget takes to fill up.
func refillTime(lim *rate.Limiter) time.Duration {
	return time.Duration(float64(lim.Burst()) / float64(lim.Limit()) * float64(time.Second))
}

// gcLimiters forgets callers idle for ten minutes (their buckets are full again anyway).
func (d *Dispatcher) gcLimiters(now time.Time) {
	for k, u := range d.limiters {
		if now.Sub(u.lastSeen) > 10*time.Minute {
			delete(d.limiters, k)
		}
	}
}

// newRef is a short random reference tying a chat error to its log line.
func newRef() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Buffer is a Replier that collects output; the dispatcher hands one to each handler.
type Buffer struct {
	Lines  []string
	Errors []string
}

// Reply appends lines.
func (b *Buffer) Reply(lines ...string) { b.Lines = append(b.Lines, lines...) }

// Error appends an error line.
func (b *Buffer) Error(msg string) { b.Errors = append(b.Errors, msg) }

func (b *Buffer) flushTo(w Replier) {
	if len(b.Lines) > 0 {
		w.Reply(b.Lines...)
	}
	for _, e := range b.Errors {
		w.Error(e)
	}
}
