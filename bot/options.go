// Package bot runs opsbot: the IRC transport over girc, the outbound queue with flood control and a durable
// outbox, the worker pool that runs commands, the HTTP server and the metrics.
package bot

import (
	"log/slog"
	"net"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
)

// Options configure a Bot. cmd/opsbot builds them from the TOML config.
type Options struct {
	Server        string // host:port
	TLS           bool
	TLSInsecure   bool
	Nick          string
	User          string
	Realname      string
	Channels      []string
	SASLUser      string
	SASLPassword  string
	FloodBurst    int
	FloodInterval time.Duration
	DialTimeout   time.Duration
	// PingDelay is how often the bot PINGs the server to detect a dead link; 0 uses 60s.
	PingDelay time.Duration

	Prefix         string
	Location       *time.Location
	MaxLines       int
	RequireAccount bool
	Admins         []string
	Ops            []string
	// CommandInterval and CommandBurst rate-limit each caller's commands; 0 interval disables the limit.
	CommandInterval time.Duration
	CommandBurst    int
	// Workers is how many commands run at once; default 64. Commands wait mostly on disk commits, which
	// concurrent commands share (group commit), so more workers mean fewer fsyncs per command under load.
	Workers int

	// Retention is how long the store keeps audit entries and webhook delivery ids (zero: for good).
	Retention commands.RetentionConfig

	HTTPListen string
	APIToken   string
	// BaseURL is web.base_url (or its alias bot.public_url): where the web pages are. A channel reply cut at
	// MaxLines ends "... and N more (<the page's URL>)" and replies about one record end with its page's
	// URL; empty: "ask in private" and no links.
	BaseURL string

	// FamilyConfig are the command families' config sections (see families.go, where each family is built).
	FamilyConfig
	// Notifiers are [[paging.notifiers]] (IRC is always on); NotifyBackoff is their first retry delay (0: 1s).
	Notifiers     []notify.Config
	NotifyBackoff time.Duration

	// Test seams: Pager, when set, pages for incidents instead of the paging family; Agenda and Digest sources
	// are read before the families' own (a source of the same name replaces the family's).
	Pager  commands.Pager
	Agenda []commands.AgendaSource
	Digest []commands.DigestSource

	// BackoffMin and BackoffMax bound the reconnect delay; zero values use 1s and 2m.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// RejoinDelay is the first delay before rejoining after a kick (doubling per kick, capped at 5m); 0 uses 5s.
	RejoinDelay time.Duration
	// LateAfter marks outbox messages older than this as late when delivered; 0 uses 2m.
	LateAfter time.Duration

	Version string
	Log     *slog.Logger
	Now     func() time.Time

	// dial replaces the network dial in tests (a net.Pipe to a fake server).
	dial func(network, addr string) (net.Conn, error)
}

func (o *Options) defaults() {
	if o.User == "" {
		o.User = "opsbot"
	}
	if o.Realname == "" {
		o.Realname = "opsbot, the ops team's bot"
	}
	if o.Prefix == "" {
		o.Prefix = commands.DefaultPrefix
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxLines <= 0 {
		o.MaxLines = commands.DefaultMaxLines
	}
	if o.FloodBurst <= 0 {
		o.FloodBurst = 4
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.PingDelay <= 0 {
		o.PingDelay = 60 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 2 * time.Minute
	}
	if o.RejoinDelay <= 0 {
		o.RejoinDelay = 5 * time.Second
	}
	if o.LateAfter <= 0 {
		o.LateAfter = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
