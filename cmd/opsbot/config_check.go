package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lrstanley/girc"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

var (
	serviceName = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)
	accountName = regexp.MustCompile(`^[^\s,*?!@#:]{1,64}$`)
	weekdays    = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
)

// Validate checks every value and returns all problems, one per line.
func (c *Config) Validate() error {
	var p []string
	bad := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	if host, port, err := net.SplitHostPort(c.IRC.Server); err != nil || host == "" || port == "" {
		bad("irc.server %q: want host:port", c.IRC.Server)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		bad("irc.server %q: the port must be a number from 1 to 65535 (6697 for TLS)", c.IRC.Server)
	}
	if !girc.IsValidUser(c.IRC.User) { // girc refuses such a user at every connection attempt
		bad("irc.user %q: letters, digits and -._[]{}\\^| only, starting with a letter or digit", c.IRC.User)
	}
	if !validNick(c.IRC.Nick) {
		bad("irc.nick %q: not a valid nick", c.IRC.Nick)
	}
	if len(c.IRC.Channels) == 0 {
		bad("irc.channels: empty; the bot needs at least one channel (e.g. [\"#operations\"])")
	}
	for _, ch := range c.IRC.Channels {
		if !validChannel(ch) {
			bad("irc.channels: %q is not a channel name (like #operations)", ch)
		}
	}
	if c.IRC.SASLUser != "" && c.IRC.SASLPassword == "" {
		bad("irc.sasl_user is set but irc.sasl_password is empty (set it or OPSBOT_IRC_SASL_PASSWORD)")
	}
	if c.IRC.FloodBurst < 1 {
		bad("irc.flood_burst = %d: at least 1", c.IRC.FloodBurst)
	}
	if c.IRC.FloodInterval < 0 {
		bad("irc.flood_interval: negative")
	}
	if c.Bot.Prefix == "" || strings.ContainsAny(c.Bot.Prefix, " \t") || len(c.Bot.Prefix) > 3 {
		bad("bot.prefix %q: one to three non-space characters", c.Bot.Prefix)
	}
	if strings.TrimSpace(c.Bot.Timezone) == "" {
		bad("bot.timezone: empty (use an IANA name like Europe/Stockholm, or UTC)") // LoadLocation("") is UTC
	} else if _, err := time.LoadLocation(c.Bot.Timezone); err != nil {
		bad("bot.timezone %q: unknown time zone (use an IANA name like Europe/Stockholm)", c.Bot.Timezone)
	}
	if c.Bot.MaxLines < 1 || c.Bot.MaxLines > 20 {
		bad("bot.max_lines = %d: between 1 and 20", c.Bot.MaxLines)
	}
	if c.Bot.CommandBurst < 1 {
		bad("bot.command_burst = %d: at least 1", c.Bot.CommandBurst)
	}
	if c.Store.Path == "" {
		bad("store.path: empty")
	}
	if r := time.Duration(c.Store.AuditRetention); r != 0 && r < 24*time.Hour {
		bad("store.audit_retention: at least 1d (\"0s\" keeps the audit log for good)")
	}
	if r := time.Duration(c.Store.DeliveryRetention); r != 0 && r < time.Hour {
		// A redelivery carries a timestamp within 5 minutes of the bot's clock: an hour is well above it.
		bad("store.delivery_retention: at least 1h, well above the webhook's 5-minute window (\"0s\" keeps delivery ids for good)")
	}
	for _, l := range [][]string{c.Auth.Admins, c.Auth.Ops, c.Oncall.Rotation} {
		for _, a := range l {
			if !accountName.MatchString(a) {
				bad("account name %q: not a valid services account", a)
			}
		}
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen %q: want host:port (or empty to disable HTTP)", c.HTTP.Listen)
		}
	}
	p = append(p, c.validateWeb()...)
	if strings.TrimSpace(c.Oncall.Timezone) == "" {
		bad("oncall.timezone: empty (use an IANA name like Europe/Stockholm, or UTC)")
	} else if _, err := time.LoadLocation(c.Oncall.Timezone); err != nil {
		bad("oncall.timezone %q: unknown time zone", c.Oncall.Timezone)
	}
	if _, _, err := ParseHandoff(c.Oncall.Handoff); err != nil {
		bad("oncall.handoff %q: %v", c.Oncall.Handoff, err)
	}
	if c.Oncall.Shift <= 0 {
		bad("oncall.shift: must be positive")
	}
	if c.Oncall.MaxOverride <= 0 {
		bad("oncall.max_override: must be positive")
	}
	if c.Oncall.RemindBefore < 0 {
		bad("oncall.remind_before: negative (0 turns reminders off)")
	}
	schedules := c.validateSchedules(bad)
	if c.Paging.AckTimeout <= 0 {
		bad("paging.ack_timeout: must be positive")
	}
	for _, e := range c.Paging.Escalation {
		if e != "next" && !accountName.MatchString(e) {
			bad("paging.escalation: %q is neither \"next\" nor an account", e)
		}
	}
	if c.Paging.MaxEscalations < 0 {
		bad("paging.max_escalations: negative")
	}
	if c.Paging.RateLimit < 0 {
		bad("paging.rate_limit = %d: 0 (no limit) or more", c.Paging.RateLimit)
	}
	if c.Paging.DedupeWindow < 0 {
		bad("paging.dedupe_window: negative")
	}
	if c.Paging.AckResolveAfter < 0 {
		bad("paging.ack_resolve_after: negative (\"0s\" never resolves acked pages)")
	}
	for i, n := range c.Paging.Notifiers {
		switch n.Type {
		case "webhook", "pagerduty":
			if !strings.HasPrefix(n.URL, "http://") && !strings.HasPrefix(n.URL, "https://") {
				// Not echoed: a webhook URL often carries its token.
				bad("paging.notifiers[%d] (%s): url must start with http:// or https://", i, n.Type)
			}
			if n.Type == "pagerduty" && n.RoutingKey == "" {
				bad("paging.notifiers[%d] (pagerduty): routing_key is empty (set it or OPSBOT_PAGING_NOTIFIERS_%d_ROUTING_KEY)", i, i)
			}
		case "smtp":
			if _, _, err := net.SplitHostPort(n.SMTPAddr); err != nil || n.From == "" || len(n.To) == 0 {
				bad("paging.notifiers[%d] (smtp): needs smtp_addr (host:port), from and to", i)
			}
		default:
			bad("paging.notifiers[%d]: type %q: want webhook, pagerduty or smtp", i, n.Type)
		}
	}
	if c.Requests.WIPLimit < 1 {
		bad("requests.wip_limit = %d: at least 1", c.Requests.WIPLimit)
	}
	if c.Requests.NagAfter <= 0 {
		bad("requests.nag_after: must be positive")
	}
	for key, sev := range map[string]int{"incidents.page_on_sev": c.Incidents.PageOnSev, "incidents.freeze_on_sev": c.Incidents.FreezeOnSev} {
		if sev < 0 || sev > 4 {
			bad("%s = %d: 1 to 4 (that severity or worse), or 0 for never", key, sev)
		}
	}
	switch c.Incidents.DeclareRole {
	case "developer", "ops", "admin":
	default:
		bad("incidents.declare_role %q: unknown role (want developer, ops or admin)", c.Incidents.DeclareRole)
	}
	for k, w := range c.Availability.Weights {
		if k != "sev1" && k != "sev2" && k != "sev3" && k != "sev4" {
			bad("availability.weights: unknown severity %q (want sev1..sev4)", k)
		}
		if w < 0 || w > 1 {
			bad("availability.weights.%s = %v: between 0 and 1", k, w)
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		if !serviceName.MatchString(s.Name) {
			bad("services[%d]: name %q: lowercase [a-z0-9._-], 1-64 characters", i, s.Name)
		}
		if seen[s.Name] {
			bad("services: %q defined twice", s.Name)
		}
		seen[s.Name] = true
		if !(s.SLO >= 0 && s.SLO < 100) { // TOML has nan
			bad("services[%d] %s: slo %v must be a percentage below 100 (e.g. 99.9)", i, s.Name, s.SLO)
		}
		if s.Owner != "" && !accountName.MatchString(s.Owner) {
			bad("services[%d] %s: owner %q: an account or team name, without spaces or any of ,*?!@#:", i, s.Name, s.Owner)
		}
		if s.Schedule != "" && !slices.Contains(schedules, s.Schedule) {
			bad("services[%d] %s: schedule %q is not configured (schedules: %s)", i, s.Name, s.Schedule, strings.Join(schedules, ", "))
		}
	}
	for _, s := range c.Services {
		for _, d := range s.Depends { // one not listed is created at start with no owner (store.SeedServices)
			if !serviceName.MatchString(d) {
				bad("services %s: depends on %q: not a service name (lowercase letters, digits, . _ -)", s.Name, d)
			}
			if d == s.Name {
				bad("services %s: depends on itself", s.Name)
			}
		}
	}
	names := map[string]bool{}
	for i, r := range c.Reminders {
		if r.Name == "" || names[r.Name] {
			bad("reminders[%d]: name %q empty or used twice", i, r.Name)
		}
		names[r.Name] = true
		if err := commands.ValidateSchedule(r.Schedule); err != nil {
			bad("reminders[%d] %s: schedule %q: %v", i, r.Name, r.Schedule, err)
		}
		if r.Channel != "" && !validChannel(r.Channel) {
			bad("reminders[%d] %s: channel %q is not a channel name", i, r.Name, r.Channel)
		}
		if strings.TrimSpace(r.Text) == "" {
			bad("reminders[%d] %s: text is empty", i, r.Name)
		}
		switch r.Agenda {
		case "", "retro", "planning", "scalability":
		default:
			bad("reminders[%d] %s: agenda %q: want retro, planning or scalability", i, r.Name, r.Agenda)
		}
		if r.Name != "" && !commands.ReminderName.MatchString(r.Name) {
			bad("reminders[%d]: name %q: lowercase [a-z0-9._-], 1-32 characters", i, r.Name)
		}
		if r.Channel != "" && validChannel(r.Channel) && !slices.ContainsFunc(c.IRC.Channels, func(ch string) bool { return strings.EqualFold(ch, r.Channel) }) {
			bad("reminders[%d] %s: channel %q is not in irc.channels (the bot posts only where it is)", i, r.Name, r.Channel)
		}
	}
	if c.ReminderSettings.Grace <= 0 {
		bad("reminder_settings.grace: must be positive")
	}
	c.Alerts.validate(bad)
	if c.Maintenance.MaxDuration <= 0 {
		bad("maintenance.max_duration: must be positive")
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "\n"))
	}
	return nil
}

// validateSchedules checks [[oncall.schedules]] and returns every schedule's name, ops first.
func (c *Config) validateSchedules(bad func(string, ...any)) []string {
	names := []string{store.DefaultSchedule}
	for i, s := range c.Oncall.Schedules {
		key := fmt.Sprintf("oncall.schedules[%d]", i)
		switch {
		case !commands.ScheduleName.MatchString(s.Name):
			bad("%s: name %q: lowercase [a-z0-9._-], 1-32 characters", key, s.Name)
		case s.Name == store.DefaultSchedule:
			bad("%s: name %q is the [oncall] rotation itself; set it there", key, s.Name)
		case slices.Contains(commands.ReservedScheduleNames, s.Name):
			bad("%s: name %q is an !oncall subcommand", key, s.Name)
		case slices.Contains(names, s.Name):
			bad("oncall.schedules: %q defined twice", s.Name)
		}
		names = append(names, s.Name)
		s = s.withDefaults(c.Oncall)
		key += " " + s.Name
		for _, a := range s.Rotation {
			if !accountName.MatchString(a) {
				bad("%s: rotation: account name %q: not a valid services account", key, a)
			}
		}
		if strings.TrimSpace(s.Timezone) == "" {
			bad("%s: timezone: empty (use an IANA name like America/New_York, or UTC)", key)
		} else if _, err := time.LoadLocation(s.Timezone); err != nil {
			bad("%s: timezone %q: unknown time zone", key, s.Timezone)
		}
		if _, _, err := ParseHandoff(s.Handoff); err != nil {
			bad("%s: handoff %q: %v", key, s.Handoff, err)
		}
		if s.Shift <= 0 {
			bad("%s: shift: must be positive", key)
		}
		for _, e := range s.Escalation {
			if e != "next" && !accountName.MatchString(e) {
				bad("%s: escalation: %q is neither \"next\" nor an account", key, e)
			}
		}
	}
	return names
}

// ParseHandoff parses "Mon 10:00".
func ParseHandoff(s string) (time.Weekday, time.Duration, error) {
	day, hm, ok := strings.Cut(strings.TrimSpace(s), " ")
	wd, known := weekdays[strings.ToLower(day)]
	if !ok || !known {
		return 0, 0, errors.New(`want a weekday and a time, like "Mon 10:00"`)
	}
	t, err := time.Parse("15:04", hm)
	if err != nil {
		return 0, 0, errors.New(`want a weekday and a time, like "Mon 10:00"`)
	}
	return wd, time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func validChannel(s string) bool {
	return len(s) > 1 && len(s) <= 50 && (s[0] == '#' || s[0] == '&') && !strings.ContainsAny(s, " ,:\x00\x07\r\n")
}

func validNick(s string) bool {
	if s == "" || len(s) > 30 || strings.ContainsAny(s[:1], "0123456789-") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("[]\\`_^{|}-", r)) {
			return false
		}
	}
	return true
}

// validateWeb checks [web] and its alias bot.public_url.
func (c *Config) validateWeb() []string {
	var p []string
	bad := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if c.Web.BaseURL != "" && c.Bot.PublicURL != "" && strings.TrimRight(c.Web.BaseURL, "/") != strings.TrimRight(c.Bot.PublicURL, "/") {
		bad("bot.public_url %q and web.base_url %q differ: bot.public_url is the old name of web.base_url; keep only web.base_url",
			c.Bot.PublicURL, c.Web.BaseURL)
	}
	for key, v := range map[string]string{"web.base_url": c.Web.BaseURL, "bot.public_url": c.Bot.PublicURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("%s %q: want an http or https URL like https://opsbot.example.net", key, v)
		case u.Path != "" && u.Path != "/":
			bad("%s %q: the pages are served at the root of their host; a path (%s) is not supported", key, v, u.Path)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("%s %q: no query, fragment or user name", key, v)
		}
	}
	if ttl := time.Duration(c.Web.SessionTTL); ttl < time.Minute || ttl > 366*24*time.Hour {
		bad("web.session_ttl %s: between 1m and 366d", ttl)
	}
	if c.Web.PublicStatus && c.HTTP.Listen == "" {
		bad("web.public_status = true, but http.listen is empty (no HTTP server to serve /status)")
	}
	slices.Sort(p)
	return p
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`)

// validate checks [alerts].
func (a AlertsConfig) validate(bad func(string, ...any)) {
	action := func(v string) bool {
		return v == store.ActionPage || v == store.ActionNotify || v == store.ActionIgnore
	}
	if !labelName.MatchString(a.ServiceLabel) {
		bad("alerts.service_label %q: a Prometheus label name (letters, digits, _)", a.ServiceLabel)
	}
	if !action(a.DefaultAction) {
		bad("alerts.default_action %q: page, notify or ignore", a.DefaultAction)
	}
	for sev, act := range a.Severity {
		if !action(act) {
			bad("alerts.severity.%s = %q: page, notify or ignore", sev, act)
		}
	}
	if strings.TrimSpace(a.Heartbeat) == "" {
		bad("alerts.heartbeat: empty (the alertname of Alertmanager's always-firing alert, usually Watchdog)")
	}
	if a.HeartbeatTimeout < 0 {
		bad("alerts.heartbeat_timeout: negative (\"0s\" turns the dead man's switch off)")
	}
	if u := a.AlertmanagerURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		bad("alerts.alertmanager_url: must start with http:// or https:// (Alertmanager's address, for silences)")
	}
	if a.Token != "" && len(a.Token) < 16 {
		bad("alerts.token: at least 16 characters (it is the only thing between the internet and your pager)")
	}
}
