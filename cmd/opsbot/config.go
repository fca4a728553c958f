package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/commands/web"
	"github.com/opsbot/opsbot/store"
)

// Duration is a TOML string like "90s", "15m", "2h", "3d" or "1w".
type Duration time.Duration

// UnmarshalText parses the duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := chat.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText renders the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Config is the TOML configuration. Key names are part of the product's contract (docs/contract.md).
type Config struct {
	IRC          IRCConfig          `toml:"irc"`
	Bot          BotConfig          `toml:"bot"`
	Store        StoreConfig        `toml:"store"`
	Auth         AuthConfig         `toml:"auth"`
	HTTP         HTTPConfig         `toml:"http"`
	Oncall       OncallConfig       `toml:"oncall"`
	Paging       PagingConfig       `toml:"paging"`
	Requests     RequestsConfig     `toml:"requests"`
	Incidents    IncidentsConfig    `toml:"incidents"`
	Availability AvailabilityConfig `toml:"availability"`
	Deploys      DeploysConfig      `toml:"deploys"`
	Services     []ServiceConfig    `toml:"services"`
	Reminders    []ReminderConfig   `toml:"reminders"`
	// ReminderSettings holds the contract's reminders.grace: TOML cannot have both [[reminders]] and [reminders].
	ReminderSettings ReminderSettingsConfig `toml:"reminder_settings"`
	Alerts           AlertsConfig           `toml:"alerts"`
	Maintenance      MaintenanceConfig      `toml:"maintenance"`
	Web              WebConfig              `toml:"web"`
}

// IRCConfig is [irc].
type IRCConfig struct {
	Server                string   `toml:"server"`
	TLS                   bool     `toml:"tls"`
	TLSInsecureSkipVerify bool     `toml:"tls_insecure_skip_verify"`
	Nick                  string   `toml:"nick"`
	User                  string   `toml:"user"`
	Realname              string   `toml:"realname"`
	Channels              []string `toml:"channels"`
	SASLUser              string   `toml:"sasl_user"`
	SASLPassword          string   `toml:"sasl_password"`
	FloodBurst            int      `toml:"flood_burst"`
	FloodInterval         Duration `toml:"flood_interval"`
	DialTimeout           Duration `toml:"dial_timeout"`
}

// BotConfig is [bot].
type BotConfig struct {
	Prefix          string   `toml:"prefix"`
	Timezone        string   `toml:"timezone"`
	MaxLines        int      `toml:"max_lines"`
	CommandBurst    int      `toml:"command_burst"`
	CommandInterval Duration `toml:"command_interval"`
	// PublicURL is the old name of web.base_url, kept as its alias.
	PublicURL string `toml:"public_url"`
}

// StoreConfig is [store].
type StoreConfig struct {
	Path string `toml:"path"`
	// AuditRetention and DeliveryRetention: how long audit entries and deploy webhook delivery ids are kept
	// ("0s": for good).
	AuditRetention    Duration `toml:"audit_retention"`
	DeliveryRetention Duration `toml:"delivery_retention"`
}

// AuthConfig is [auth].
type AuthConfig struct {
	RequireAccount bool     `toml:"require_account"`
	Admins         []string `toml:"admins"`
	Ops            []string `toml:"ops"`
}

// HTTPConfig is [http].
type HTTPConfig struct {
	Listen                string `toml:"listen"`
	WebhookSecret         string `toml:"webhook_secret"`
	WebhookSecretPrevious string `toml:"webhook_secret_previous"`
	APIToken              string `toml:"api_token"`
}

// OncallConfig is [oncall]: its rotation is the default schedule, ops; [[oncall.schedules]] adds others.
type OncallConfig struct {
	Rotation     []string         `toml:"rotation"`
	Handoff      string           `toml:"handoff"`
	Timezone     string           `toml:"timezone"`
	Shift        Duration         `toml:"shift"`
	MaxOverride  Duration         `toml:"max_override"`
	RemindBefore Duration         `toml:"remind_before"` // 0: no reminders before a shift
	Schedules    []ScheduleConfig `toml:"schedules"`
}

// ScheduleConfig is one [[oncall.schedules]]: a named rotation. Handoff, timezone and shift default to
// [oncall]'s; escalation (steps like paging.escalation) to paging.escalation.
type ScheduleConfig struct {
	Name       string   `toml:"name"`
	Rotation   []string `toml:"rotation"`
	Handoff    string   `toml:"handoff"`
	Timezone   string   `toml:"timezone"`
	Shift      Duration `toml:"shift"`
	Escalation []string `toml:"escalation"`
}

// withDefaults fills what the schedule leaves to [oncall].
func (s ScheduleConfig) withDefaults(o OncallConfig) ScheduleConfig {
	if s.Handoff == "" {
		s.Handoff = o.Handoff
	}
	if s.Timezone == "" {
		s.Timezone = o.Timezone
	}
	if s.Shift == 0 {
		s.Shift = o.Shift
	}
	return s
}

// PagingConfig is [paging].
type PagingConfig struct {
	AckTimeout     Duration `toml:"ack_timeout"`
	Escalation     []string `toml:"escalation"`
	MaxEscalations int      `toml:"max_escalations"`
	DedupeWindow   Duration `toml:"dedupe_window"`
	RateLimit      int      `toml:"rate_limit"`
	// AckResolveAfter: the bot resolves a page acked this long ago and not resolved ("0s": never).
	AckResolveAfter Duration         `toml:"ack_resolve_after"`
	Notifiers       []NotifierConfig `toml:"notifiers"`
}

// NotifierConfig is one [[paging.notifiers]].
type NotifierConfig struct {
	Type       string   `toml:"type"`
	URL        string   `toml:"url"`
	Secret     string   `toml:"secret"`
	RoutingKey string   `toml:"routing_key"`
	SMTPAddr   string   `toml:"smtp_addr"`
	From       string   `toml:"from"`
	To         []string `toml:"to"`
	Username   string   `toml:"username"`
	Password   string   `toml:"password"`
}

// RequestsConfig is [requests].
type RequestsConfig struct {
	WIPLimit int      `toml:"wip_limit"`
	NagAfter Duration `toml:"nag_after"`
}

// IncidentsConfig is [incidents].
type IncidentsConfig struct {
	DeclareRole string `toml:"declare_role"`
	Topic       bool   `toml:"topic"`
	PageOnSev   int    `toml:"page_on_sev"`
	FreezeOnSev int    `toml:"freeze_on_sev"`
}

// AvailabilityConfig is [availability].
type AvailabilityConfig struct {
	Weights map[string]float64 `toml:"weights"`
}

// DeploysConfig is [deploys].
type DeploysConfig struct {
	LockOnRollback bool `toml:"lock_on_rollback"`
}

// ServiceConfig is one [[services]].
type ServiceConfig struct {
	Name     string   `toml:"name"`
	Owner    string   `toml:"owner"`
	Schedule string   `toml:"schedule"` // the on-call schedule its pages go to (default: ops)
	Depends  []string `toml:"depends"`
	SLO      float64  `toml:"slo"`
	Notes    string   `toml:"notes"`
	// Public shows the service on the public status page (web.public_status).
	Public bool `toml:"public"`
}

// ReminderConfig is one [[reminders]].
type ReminderConfig struct {
	Name     string `toml:"name"`
	Schedule string `toml:"schedule"`
	Channel  string `toml:"channel"`
	Text     string `toml:"text"`
	Agenda   string `toml:"agenda"`
}

// WebConfig is [web]: the web pages, the public status page and the on-call calendar feed.
type WebConfig struct {
	// BaseURL is where people reach the pages ("https://opsbot.example.net"): chat links, login links and
	// calendar feeds point there, and the session cookie is Secure when it is https.
	BaseURL string `toml:"base_url"`
	// PublicStatus serves /status without login.
	PublicStatus bool `toml:"public_status"`
	// SessionTTL is how long a browser stays logged in after using a login link.
	SessionTTL Duration `toml:"session_ttl"`
	// TrustLoopback lets requests from this machine read the pages without a login; false behind a reverse
	// proxy on the same machine, whose requests all come from loopback.
	TrustLoopback bool `toml:"trust_loopback"`
}

// baseURL is web.base_url, or bot.public_url, its older alias.
func (c Config) baseURL() string {
	if c.Web.BaseURL != "" {
		return strings.TrimRight(c.Web.BaseURL, "/")
	}
	return strings.TrimRight(c.Bot.PublicURL, "/")
}

// ReminderSettingsConfig is [reminder_settings], the settings of all reminders.
type ReminderSettingsConfig struct {
	// Grace is how late an occurrence missed while the bot was down may still be posted (the contract's reminders.grace).
	Grace Duration `toml:"grace"`
}

// AlertsConfig is [alerts]: Prometheus Alertmanager's webhook.
type AlertsConfig struct {
	Token            string            `toml:"token"`
	ServiceLabel     string            `toml:"service_label"`
	DefaultAction    string            `toml:"default_action"`
	Severity         map[string]string `toml:"severity"`
	Heartbeat        string            `toml:"heartbeat"`
	HeartbeatTimeout Duration          `toml:"heartbeat_timeout"`
	AlertmanagerURL  string            `toml:"alertmanager_url"`
}

// MaintenanceConfig is [maintenance].
type MaintenanceConfig struct {
	MaxDuration Duration `toml:"max_duration"`
}

// Default is the configuration before the file is read: every default of the contract (docs/contract.md).
func Default() Config {
	return Config{
		IRC: IRCConfig{Server: "127.0.0.1:6667", Nick: "opsbot", User: "opsbot", Realname: "opsbot, the ops team's bot",
			Channels: []string{"#operations"}, FloodBurst: 4, FloodInterval: Duration(2 * time.Second), DialTimeout: Duration(10 * time.Second)},
		Bot: BotConfig{Prefix: commands.DefaultPrefix, Timezone: "UTC", MaxLines: commands.DefaultMaxLines, CommandBurst: 5,
			CommandInterval: Duration(2 * time.Second)},
		Store: StoreConfig{Path: "opsbot.db", AuditRetention: Duration(store.DefaultAuditRetention),
			DeliveryRetention: Duration(store.DefaultDeliveryRetention)},
		Auth: AuthConfig{RequireAccount: true},
		HTTP: HTTPConfig{Listen: "127.0.0.1:8080"},
		Oncall: OncallConfig{Handoff: "Mon 10:00", Timezone: "UTC", Shift: Duration(store.DefaultShift),
			MaxOverride: Duration(commands.DefaultMaxOverride)},
		Paging: PagingConfig{AckTimeout: Duration(commands.DefaultAckTimeout), Escalation: []string{"next"},
			MaxEscalations: commands.DefaultMaxEscalations, DedupeWindow: Duration(commands.DefaultDedupeWindow),
			RateLimit: commands.DefaultPageRateLimit, AckResolveAfter: Duration(commands.DefaultAckResolveAfter)},
		Requests: RequestsConfig{WIPLimit: commands.DefaultRequestWIPLimit, NagAfter: Duration(commands.DefaultRequestNagAfter)},
		Incidents: IncidentsConfig{DeclareRole: "ops", PageOnSev: commands.DefaultIncidentPageOnSev,
			FreezeOnSev: commands.DefaultIncidentFreezeOnSev},
		Availability: AvailabilityConfig{Weights: store.DefaultWeights.Map()},
		Deploys:      DeploysConfig{LockOnRollback: true},

		ReminderSettings: ReminderSettingsConfig{Grace: Duration(commands.DefaultReminderGrace)},
		Alerts: AlertsConfig{ServiceLabel: commands.DefaultAlertServiceLabel, DefaultAction: store.ActionPage,
			Severity: commands.DefaultAlertSeverity(), Heartbeat: commands.DefaultAlertHeartbeat,
			HeartbeatTimeout: Duration(commands.DefaultAlertHeartbeatTimeout)},
		Maintenance: MaintenanceConfig{MaxDuration: Duration(commands.DefaultMaintMaxDuration)},
		Web:         WebConfig{SessionTTL: Duration(web.DefaultSessionTTL), TrustLoopback: true},
	}
}

// secretEnv maps environment variables to the secrets they override.
func (c *Config) secretEnv() map[string]*string {
	m := map[string]*string{
		"OPSBOT_IRC_SASL_PASSWORD":            &c.IRC.SASLPassword,
		"OPSBOT_HTTP_WEBHOOK_SECRET":          &c.HTTP.WebhookSecret,
		"OPSBOT_HTTP_WEBHOOK_SECRET_PREVIOUS": &c.HTTP.WebhookSecretPrevious,
		"OPSBOT_HTTP_API_TOKEN":               &c.HTTP.APIToken,
		"OPSBOT_ALERTS_TOKEN":                 &c.Alerts.Token,
	}
	for i := range c.Paging.Notifiers {
		n := &c.Paging.Notifiers[i]
		m[fmt.Sprintf("OPSBOT_PAGING_NOTIFIERS_%d_SECRET", i)] = &n.Secret
		m[fmt.Sprintf("OPSBOT_PAGING_NOTIFIERS_%d_ROUTING_KEY", i)] = &n.RoutingKey
		m[fmt.Sprintf("OPSBOT_PAGING_NOTIFIERS_%d_PASSWORD", i)] = &n.Password
	}
	return m
}

// LoadConfig reads the file strictly (an unknown key is an error naming it and its line), applies secrets
// from the environment and validates.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(raw, path, getenv)
}

// ParseConfig is LoadConfig on bytes.
func ParseConfig(raw []byte, name string, getenv func(string) string) (Config, error) {
	cfg := Default()
	// Arrays replace defaults rather than merge.
	cfg.IRC.Channels = nil
	cfg.Paging.Escalation = nil
	dec := toml.NewDecoder(bytes.NewReader(raw)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, tomlError(name, err)
	}
	if cfg.IRC.Channels == nil {
		cfg.IRC.Channels = Default().IRC.Channels
	}
	if cfg.Paging.Escalation == nil {
		cfg.Paging.Escalation = Default().Paging.Escalation
	}
	// A severity map names what it changes: the severities it leaves out keep their defaults (so that
	// severity = { warning = "page" } does not make info alerts page as unknown ones).
	sev := map[string]string{}
	for k, v := range cfg.Alerts.Severity {
		sev[strings.ToLower(k)] = v
	}
	for k, v := range commands.DefaultAlertSeverity() {
		if _, set := sev[k]; !set {
			sev[k] = v
		}
	}
	cfg.Alerts.Severity = sev
	if getenv != nil {
		for env, p := range cfg.secretEnv() {
			if v := getenv(env); v != "" {
				*p = v
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}

// tomlError turns go-toml errors into one line per problem with key and line number.
func tomlError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var lines []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			line := fmt.Sprintf("config: %s:%d: unknown key %q", name, row, key)
			if key == "reminders.grace" {
				line += " (it is reminder_settings.grace: TOML cannot have a [reminders] table next to [[reminders]])"
			}
			lines = append(lines, line)
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key != "" {
			return fmt.Errorf("config: %s:%d: %s: %s", name, row, key, de.Error())
		}
		return fmt.Errorf("config: %s:%d: %s", name, row, de.Error())
	}
	return fmt.Errorf("config: %s: %w", name, err)
}

// Masked returns a copy with every secret replaced by "********" (empty secrets stay empty).
func (c Config) Masked() Config {
	m := c
	m.Paging.Notifiers = append([]NotifierConfig(nil), c.Paging.Notifiers...)
	for _, p := range m.secretEnv() {
		if *p != "" {
			*p = "********"
		}
	}
	for i := range m.Paging.Notifiers {
		m.Paging.Notifiers[i].URL = chat.RedactURL(m.Paging.Notifiers[i].URL)
	}
	m.Alerts.AlertmanagerURL = chat.RedactURL(m.Alerts.AlertmanagerURL)
	return m
}

// String renders the effective config as TOML with secrets masked, after notes on what it leaves off.
func (c Config) String() string {
	b, err := toml.Marshal(c.Masked())
	if err != nil {
		return "config: " + err.Error()
	}
	var notes string
	for _, n := range c.notes() {
		notes += "# note: " + n + "\n"
	}
	return notes + string(b)
}

// notes are what a valid config leaves off, for check-config.
func (c Config) notes() []string {
	var n []string
	if c.Alerts.Token == "" {
		n = append(n, "alerts.token is empty: POST /hooks/alertmanager is off (404); set it (or OPSBOT_ALERTS_TOKEN) to take alerts")
	}
	if c.HTTP.Listen != "" && c.HTTP.APIToken == "" && !c.Web.TrustLoopback {
		n = append(n, "http.api_token is empty and web.trust_loopback = false: the API (/api/v1/, the backup) answers nobody; set it (or OPSBOT_HTTP_API_TOKEN) to use it")
	}
	return n
}

// botOptions maps the config onto the bot's options: the connection, identity and HTTP settings, and each
// command family's section.
func (c Config) botOptions(version string, log *slog.Logger) (bot.Options, error) {
	loc, err := time.LoadLocation(c.Bot.Timezone)
	if err != nil {
		return bot.Options{}, errors.New("bot.timezone: " + err.Error())
	}
	paging, err := c.pagingConfig()
	if err != nil {
		return bot.Options{}, err
	}
	o := bot.Options{
		Server: c.IRC.Server, TLS: c.IRC.TLS, TLSInsecure: c.IRC.TLSInsecureSkipVerify,
		Nick: c.IRC.Nick, User: c.IRC.User, Realname: c.IRC.Realname, Channels: c.IRC.Channels,
		SASLUser: c.IRC.SASLUser, SASLPassword: c.IRC.SASLPassword,
		FloodBurst: c.IRC.FloodBurst, FloodInterval: time.Duration(c.IRC.FloodInterval), DialTimeout: time.Duration(c.IRC.DialTimeout),
		Prefix: c.Bot.Prefix, Location: loc, MaxLines: c.Bot.MaxLines, BaseURL: c.baseURL(),
		CommandBurst: c.Bot.CommandBurst, CommandInterval: time.Duration(c.Bot.CommandInterval),
		RequireAccount: c.Auth.RequireAccount, Admins: c.Auth.Admins, Ops: c.Auth.Ops,
		HTTPListen: c.HTTP.Listen, APIToken: c.HTTP.APIToken,
		Retention: commands.RetentionConfig{Audit: time.Duration(c.Store.AuditRetention), Deliveries: time.Duration(c.Store.DeliveryRetention)},
		Notifiers: c.notifiers(), Version: version, Log: log,
	}
	o.FamilyConfig = bot.FamilyConfig{
		Requests: commands.RequestConfig{WIPLimit: c.Requests.WIPLimit, NagAfter: time.Duration(c.Requests.NagAfter)},
		Paging:   paging,
		Handoffs: commands.HandoffConfig{RemindBefore: time.Duration(c.Oncall.RemindBefore)},
		Incidents: commands.IncidentConfig{DeclareRole: c.Incidents.DeclareRole, PageOnSev: c.Incidents.PageOnSev,
			FreezeOnSev: c.Incidents.FreezeOnSev, Topic: c.Incidents.Topic, Weights: c.Availability.Weights},
		Deploys: commands.DeployConfig{NoLockOnRollback: !c.Deploys.LockOnRollback,
			WebhookSecrets: []string{c.HTTP.WebhookSecret, c.HTTP.WebhookSecretPrevious}},
		Services:  commands.ServiceConfig{Seeds: serviceSeeds(c.Services)},
		Reminders: commands.ReminderConfig{Seeds: reminderSeeds(c.Reminders), Grace: time.Duration(c.ReminderSettings.Grace)},
		Alerts: commands.AlertConfig{Token: c.Alerts.Token, ServiceLabel: c.Alerts.ServiceLabel, DefaultAction: c.Alerts.DefaultAction,
			Severity: c.Alerts.Severity, Heartbeat: c.Alerts.Heartbeat, HeartbeatTimeout: time.Duration(c.Alerts.HeartbeatTimeout)},
		Maint: commands.MaintConfig{MaxDuration: time.Duration(c.Maintenance.MaxDuration), AlertmanagerURL: c.Alerts.AlertmanagerURL,
			ServiceLabel: c.Alerts.ServiceLabel},
		Web: web.Config{BaseURL: c.baseURL(), PublicStatus: c.Web.PublicStatus, SessionTTL: time.Duration(c.Web.SessionTTL),
			TrustLoopback: c.Web.TrustLoopback},
	}
	return o, nil
}

// pagingConfig maps [oncall] (with [[oncall.schedules]]) and [paging] onto the paging family's config.
func (c Config) pagingConfig() (commands.PagingConfig, error) {
	ops, err := rotation(store.DefaultSchedule, "oncall", c.Oncall.Rotation, c.Oncall.Handoff, c.Oncall.Timezone, c.Oncall.Shift)
	if err != nil {
		return commands.PagingConfig{}, err
	}
	pc := commands.PagingConfig{
		Rotation:    ops,
		MaxOverride: time.Duration(c.Oncall.MaxOverride), AckTimeout: time.Duration(c.Paging.AckTimeout),
		Escalation: c.Paging.Escalation, MaxEscalations: c.Paging.MaxEscalations,
		DedupeWindow: time.Duration(c.Paging.DedupeWindow), RateLimit: c.Paging.RateLimit,
		AckResolveAfter: time.Duration(c.Paging.AckResolveAfter),
	}
	for i, s := range c.Oncall.Schedules {
		s = s.withDefaults(c.Oncall)
		r, err := rotation(s.Name, fmt.Sprintf("oncall.schedules[%d]", i), s.Rotation, s.Handoff, s.Timezone, s.Shift)
		if err != nil {
			return commands.PagingConfig{}, err
		}
		pc.Schedules = append(pc.Schedules, commands.Schedule{Rotation: r, Escalation: s.Escalation})
	}
	return pc, nil
}

// rotation builds one schedule's rotation; key names it in errors.
func rotation(name, key string, accounts []string, handoff, tz string, shift Duration) (store.Rotation, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return store.Rotation{}, fmt.Errorf("%s.timezone: %w", key, err)
	}
	day, at, err := ParseHandoff(handoff)
	if err != nil {
		return store.Rotation{}, fmt.Errorf("%s.handoff: %w", key, err)
	}
	return store.Rotation{Name: name, Accounts: accounts, Weekday: day, At: at, Location: loc, Shift: time.Duration(shift)}, nil
}

// notifiers maps [[paging.notifiers]] onto the pager notifiers' config.
func (c Config) notifiers() []notify.Config {
	var ns []notify.Config
	for _, n := range c.Paging.Notifiers {
		ns = append(ns, notify.Config{Type: n.Type, URL: n.URL, Secret: n.Secret, RoutingKey: n.RoutingKey, SMTPAddr: n.SMTPAddr,
			From: n.From, To: n.To, Username: n.Username, Password: n.Password})
	}
	return ns
}

// serviceSeeds maps [[services]] onto the catalogue's seeds.
func serviceSeeds(in []ServiceConfig) []store.ServiceSeed {
	out := make([]store.ServiceSeed, 0, len(in))
	for _, s := range in {
		out = append(out, store.ServiceSeed{Name: s.Name, Owner: s.Owner, Schedule: s.Schedule, Depends: s.Depends, SLO: s.SLO, Notes: s.Notes,
			Public: s.Public})
	}
	return out
}

// reminderSeeds maps [[reminders]] onto the records the store seeds at start.
func reminderSeeds(rs []ReminderConfig) []store.Reminder {
	out := make([]store.Reminder, 0, len(rs))
	for _, r := range rs {
		out = append(out, store.Reminder{Name: r.Name, Schedule: r.Schedule, Channel: r.Channel, Text: r.Text, Agenda: r.Agenda})
	}
	return out
}
