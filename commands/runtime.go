package commands

import (
	"log/slog"
	"strings"
	"time"
)

// Defaults of the settings every family shares ([bot] in the config file reads them from here).
const (
	DefaultPrefix   = "!"
	DefaultMaxLines = 4
)

// Runtime is what every command family shares: the clock, the time zone, the command prefix, the announcer,
// a channel reply's line budget, the logger, the channels and the role table (with the network's
// casefolding). The composition root builds one and hands it to each family's constructor.
type Runtime struct {
	Now      func() time.Time
	Location *time.Location
	Prefix   string
	// Announce posts durably to channels and people; every family that speaks outside a reply uses it.
	Announce Announcer
	// MaxLines is bot.max_lines: the most lines a reply may have in a channel.
	MaxLines int
	Log      *slog.Logger
	// Channel is where announcements go by default (the first configured channel); Channels are all of them.
	Channel  string
	Channels []string
	Roles    *Roles
	// Failed hears of every internal error an HTTP handler answers with 500 (the bot counts store failures).
	Failed func(error)
	// BaseURL is web.base_url, where the web pages are ("https://opsbot.example.net"); "" when not set.
	BaseURL string
}

// PageURL is the URL of a web page (path "/incidents/INC-7"), or "" when web.base_url is not set.
func (rt Runtime) PageURL(path string) string {
	if rt.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(rt.BaseURL, "/") + path
}

// Link is what a reply about one record ends with: a space and its page's URL, or "" without
// web.base_url.
func (rt Runtime) Link(path string) string {
	if u := rt.PageURL(path); u != "" {
		return " " + u
	}
	return ""
}

// WithDefaults fills what a test or the shell left unset (see withDefaults); families outside this package
// (commands/web) call it in their constructors.
func (rt Runtime) WithDefaults() Runtime { return rt.withDefaults() }

// withDefaults fills what a test or the shell left unset: time.Now, UTC, "!", 4 lines, slog.Default(), an
// announcer that stores nothing, RFC 1459 roles without ops.
func (rt Runtime) withDefaults() Runtime {
	if rt.Now == nil {
		rt.Now = time.Now
	}
	if rt.Location == nil {
		rt.Location = time.UTC
	}
	if rt.Prefix == "" {
		rt.Prefix = DefaultPrefix
	}
	if rt.MaxLines <= 0 {
		rt.MaxLines = DefaultMaxLines
	}
	if rt.Log == nil {
		rt.Log = slog.Default()
	}
	if rt.Announce == nil {
		rt.Announce = silentAnnouncer{}
	}
	if rt.Roles == nil {
		rt.Roles = NewRoles(nil, nil, nil)
	}
	if len(rt.Channels) == 0 && rt.Channel != "" {
		rt.Channels = []string{rt.Channel}
	}
	if rt.Failed == nil {
		rt.Failed = func(error) {}
	}
	return rt
}

// ChannelLines is bot.max_lines: the most lines a reply may have in a channel.
func (rt Runtime) ChannelLines() int { return rt.MaxLines }

// inHomeChannel reports whether a call came from the channel where announcements go, so an announcement
// there would repeat its answer.
func (rt Runtime) inHomeChannel(c *Call) bool {
	return c.Channel != "" && rt.Channel != "" && rt.Roles.Same(c.Channel, rt.Channel)
}

// silentAnnouncer stands in when no Announcer is given (tests of one family): everything is dropped.
type silentAnnouncer struct{}

func (silentAnnouncer) Announce(string, string, bool) error { return nil }
func (silentAnnouncer) Notify(string, string, bool) error   { return nil }
func (silentAnnouncer) Tell(string, string, bool) error     { return nil }
