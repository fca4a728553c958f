package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("../../config.example.toml", env(map[string]string{"OPSBOT_IRC_SASL_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if cfg.IRC.Server != "irc.example.net:6697" || !cfg.IRC.TLS || cfg.IRC.FloodBurst != 4 || time.Duration(cfg.IRC.FloodInterval) != 2*time.Second {
		t.Errorf("irc section = %+v", cfg.IRC)
	}
	if cfg.Bot.Timezone != "Europe/Stockholm" || len(cfg.Services) != 2 || len(cfg.Reminders) != 3 || cfg.Paging.Notifiers[0].Type != "webhook" {
		t.Errorf("example not fully read: %+v", cfg)
	}
	if cfg.IRC.SASLPassword != "s3cret" {
		t.Errorf("secret from environment not applied")
	}
	out := cfg.String()
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "********") {
		t.Errorf("String() does not mask the secret:\n%s", out)
	}
	if cfg.IRC.SASLPassword != "s3cret" {
		t.Error("String() changed the config")
	}
}

// The contract's own example configuration loads (with the SASL password from the environment, as its
// comment says), including playlist's dependency on a storage it does not list.
func TestSpecExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("testdata/spec-example.toml", env(map[string]string{"OPSBOT_IRC_SASL_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatalf("docs/contract.md's example config: %v", err)
	}
	if len(cfg.Services) != 1 || cfg.Services[0].Name != "playlist" || !slices.Equal(cfg.Services[0].Depends, []string{"storage"}) {
		t.Errorf("services = %+v", cfg.Services)
	}
	// The second round's sections.
	if cfg.Alerts.ServiceLabel != "service" || cfg.Alerts.Severity["warning"] != "notify" || time.Duration(cfg.Alerts.HeartbeatTimeout) != 10*time.Minute ||
		time.Duration(cfg.Maintenance.MaxDuration) != 12*time.Hour || !cfg.Web.TrustLoopback || time.Duration(cfg.Web.SessionTTL) != 720*time.Hour {
		t.Errorf("second round: alerts %+v, maintenance %+v, web %+v", cfg.Alerts, cfg.Maintenance, cfg.Web)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("docs/contract.md's example config does not validate: %v", err)
	}
}

// The demo's configuration (scripts/demo.toml.in, what `make run` starts) loads and validates, with its second
// on-call schedule and the alerts endpoint on: the README's quick start depends on both.
func TestDemoConfigLoads(t *testing.T) {
	tmpl, err := os.ReadFile("../../scripts/demo.toml.in")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.NewReplacer("@PORT@", "6667", "@DB@", filepath.Join(dir, "opsbot.db")).Replace(string(tmpl))
	path := filepath.Join(dir, "opsbot.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, env(nil))
	if err != nil {
		t.Fatalf("scripts/demo.toml.in: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("scripts/demo.toml.in does not validate: %v", err)
	}
	if len(cfg.Oncall.Schedules) != 1 || cfg.Oncall.Schedules[0].Name != "db" || cfg.Alerts.Token == "" {
		t.Errorf("demo config: schedules %+v, alerts token set %v", cfg.Oncall.Schedules, cfg.Alerts.Token != "")
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	cfg, err := ParseConfig(nil, "empty.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if cfg.IRC.Channels[0] != "#operations" || cfg.Bot.Prefix != "!" || cfg.Bot.MaxLines != 4 || cfg.Requests.WIPLimit != 3 ||
		time.Duration(cfg.Paging.AckTimeout) != 5*time.Minute || cfg.Store.Path != d.Store.Path || !cfg.Auth.RequireAccount {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"[irc]\nservr = \"x\"\n", `config: t.toml:2: unknown key "irc.servr"`},
		{"[irc]\nserver = \"a:1\"\n\n[bot]\nprefx = \"!\"\n", `t.toml:5: unknown key "bot.prefx"`},
		{"[bot]\ntimezone = \"Mars/Base\"\n", `bot.timezone "Mars/Base": unknown time zone`},
		{"[irc]\nflood_interval = \"2 seconds\"\n", `t.toml:2: irc.flood_interval`},
		{"[irc]\nchannels = []\n", "irc.channels: empty"},
		{"[irc]\nchannels = [\"operations\"]\n", `"operations" is not a channel name`},
		{"[irc]\nserver = \"nohost\"\n", `irc.server "nohost": want host:port`},
		{"[irc]\nserver = \"irc.example.net:ircs\"\n", `irc.server "irc.example.net:ircs": the port must be a number from 1 to 65535 (6697 for TLS)`},
		{"[irc]\nserver = \"irc.example.net:0\"\n", `irc.server "irc.example.net:0": the port must be a number`},
		{"[irc]\nserver = \"irc.example.net:70000\"\n", `irc.server "irc.example.net:70000": the port must be a number`},
		{"[irc]\nsasl_user = \"bot\"\n", "irc.sasl_password is empty"},
		{"[incidents]\ndeclare_role = \"opz\"\n", `incidents.declare_role "opz": unknown role`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"0 25 * * *\"\ntext = \"t\"\n", `reminders[0] r: schedule "0 25 * * *"`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"CRON_TZ=Nowhere/X 0 15 * * FRI\"\ntext = \"t\"\n", `unknown time zone "Nowhere/X"`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"CRON_TZ=\"\ntext = \"t\"\n", "CRON_TZ= needs a time zone"},
		{"[[reminders]]\nname = \"r\"\nschedule = \"0 15 * * FRI\"\ntext = \"t\"\nagenda = \"lunch\"\n", `agenda "lunch"`},
		{"[oncall]\nhandoff = \"Someday 10:00\"\n", `oncall.handoff "Someday 10:00"`},
		{"[[paging.notifiers]]\ntype = \"fax\"\n", `type "fax": want webhook, pagerduty or smtp`},
		{"[[services]]\nname = \"Play List\"\n", `name "Play List": lowercase`},
		{"[[services]]\nname = \"a\"\ndepends = [\"Ghost Town\"]\n", `depends on "Ghost Town": not a service name`},
		{"[[services]]\nname = \"a\"\ndepends = [\"a\"]\n", "services a: depends on itself"},
		{"[availability]\nweights = { sev9 = 1.0 }\n", `unknown severity "sev9"`},
		{"[incidents]\npage_on_sev = 7\n", "incidents.page_on_sev = 7: 1 to 4"},
		{"[incidents]\nfreeze_on_sev = -3\n", "incidents.freeze_on_sev = -3: 1 to 4"},
		{"[paging]\nrate_limit = -5\n", "paging.rate_limit = -5: 0 (no limit) or more"},
		{"[bot]\ntimezone = \"\"\n", "bot.timezone: empty"},
		{"[oncall]\ntimezone = \" \"\n", "oncall.timezone: empty"},
		{"[reminders]\ngrace = \"2h\"\n", "it is reminder_settings.grace"},
		{"[auth]\nops = [\"has space\"]\n", `account name "has space"`},
		{"[bot]\nmax_lines = 0\n", "bot.max_lines = 0"},
		{"not toml at all", "t.toml:1"},
		{"[alerts]\ndefault_action = \"shout\"\n", `alerts.default_action "shout": page, notify or ignore`},
		{"[alerts]\nseverity = { critical = \"panic\" }\n", `alerts.severity.critical = "panic"`},
		{"[alerts]\nservice_label = \"my-label\"\n", `alerts.service_label "my-label"`},
		{"[alerts]\nheartbeat_timeout = \"-1m\"\n", "alerts.heartbeat_timeout"},
		{"[alerts]\ntoken = \"short\"\n", "alerts.token: at least 16 characters"},
		{"[alerts]\ntoken_x = \"x\"\n", `unknown key "alerts.token_x"`},
		{"[alerts]\nalertmanager_url = \"am:9093\"\n", "alerts.alertmanager_url: must start with http://"},
		{"[maintenance]\nmax_duration = \"0s\"\n", "maintenance.max_duration: must be positive"},
		{"[irc]\nuser = \"a b\"\n", `irc.user "a b"`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"CRON_TZ= 0 * * * *\"\ntext = \"t\"\n", "CRON_TZ= needs a time zone"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.toml), "t.toml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConfig(%q) = %v, want error containing %q", tt.toml, err, tt.want)
		}
	}
}

func TestValidateScheduleNeverPanics(t *testing.T) {
	for _, spec := range []string{"CRON_TZ=", "CRON_TZ=UTC", "CRON_TZ=UTC ", "CRON_TZ= 0 * * * *", "TZ=UTC 0 0 * * *", "@every", "* * *", "0 0 * * MON-"} {
		if err := commands.ValidateSchedule(spec); err == nil {
			t.Errorf("ValidateSchedule(%q) accepted", spec)
		}
	}
	for _, spec := range []string{"0 15 * * FRI", "CRON_TZ=Europe/Stockholm 0 15 * * FRI", "*/5 * * * *", "@weekly"} {
		if err := commands.ValidateSchedule(spec); err != nil {
			t.Errorf("ValidateSchedule(%q) = %v", spec, err)
		}
	}
}

func TestCheckConfigCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[irc]\nserver = \"127.0.0.1:6667\"\nsasl_user = \"bot\"\nsasl_password = \"hunter2\"\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := run([]string{"check-config", "-config", good}, nil, &out, &errOut); code != 0 {
		t.Fatalf("check-config good = %d, stderr %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "is valid") || strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), `sasl_password = '********'`) {
		t.Errorf("check-config output:\n%s", out.String())
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[irc]\nservr = 1\n"), 0o600)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"check-config", "-config", bad}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown key "irc.servr"`) {
		t.Errorf("check-config bad = %d, %q", code, errOut.String())
	}
	if code := run([]string{"frobnicate"}, nil, &out, &errOut); code != 2 {
		t.Errorf("unknown subcommand exit = %d", code)
	}
}

func TestShellRunsCommandsOnTheStore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.toml")
	db := filepath.Join(dir, "shell.db")
	os.WriteFile(cfgPath, []byte("[store]\npath = \""+db+"\"\n[auth]\nops = [\"alice\"]\n"), 0o600)
	var out, errOut bytes.Buffer
	in := strings.NewReader("help\n!status\naudit\nnosuch\n")
	if code := run([]string{"shell", "-config", cfgPath, "--as", "alice"}, in, &out, &errOut); code != 0 {
		t.Fatalf("shell exit %d: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"commands: help, status", "opsbot dev", "audit: no write commands yet", `error: unknown command "nosuch"`} {
		if !strings.Contains(got, want) {
			t.Errorf("shell output lacks %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("shell did not use the configured store: %v", err)
	}
	// Anonymous in the shell is refused like on IRC.
	out.Reset()
	run([]string{"shell", "-config", cfgPath}, strings.NewReader("audit\n"), &out, &errOut)
	if !strings.Contains(out.String(), "log in to NickServ first") {
		t.Errorf("anonymous shell audit = %q", out.String())
	}
}

// Notifier URLs carry their tokens: check-config and validation errors never show them.
func TestNotifierURLsAreMasked(t *testing.T) {
	secret := "https://ops:hunter2@hooks.example.net/services/T0/B0/SECRETTOKEN"
	cfg, err := ParseConfig([]byte("[[paging.notifiers]]\ntype = \"webhook\"\nurl = \""+secret+"\"\n"), "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.String()
	if strings.Contains(out, "SECRETTOKEN") || strings.Contains(out, "hunter2") || !strings.Contains(out, "https://hooks.example.net/********") {
		t.Errorf("check-config shows the URL's secret parts:\n%s", out)
	}
	if cfg.Paging.Notifiers[0].URL != secret {
		t.Error("masking changed the config")
	}
	_, err = ParseConfig([]byte("[[paging.notifiers]]\ntype = \"webhook\"\nurl = \"hooks.slack.com/services/T0/B0/SECRETTOKEN\"\n"), "t.toml", nil)
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") || !strings.Contains(err.Error(), "must start with http:// or https://") {
		t.Errorf("a URL without scheme: %v", err)
	}
}

// store.audit_retention and store.delivery_retention default to 400d and 30d, "0s" keeps for good, and a
// delivery retention near the webhook's 5-minute window is refused.
func TestStoreRetentionConfig(t *testing.T) {
	cfg, err := ParseConfig(nil, "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.botOptions("test", nil)
	if err != nil || o.Retention.Audit != 400*24*time.Hour || o.Retention.Deliveries != 30*24*time.Hour {
		t.Errorf("default retention %+v, %v; want 400d and 30d", o.Retention, err)
	}
	cfg, err = ParseConfig([]byte("[store]\naudit_retention = \"0s\"\ndelivery_retention = \"2h\"\n"), "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := cfg.botOptions("test", nil); o.Retention.Audit != 0 || o.Retention.Deliveries != 2*time.Hour {
		t.Errorf("retention %+v, want 0 and 2h", o.Retention)
	}
	for _, raw := range []string{"[store]\ndelivery_retention = \"5m\"\n", "[store]\naudit_retention = \"12h\"\n"} {
		if _, err := ParseConfig([]byte(raw), "t.toml", nil); err == nil || !strings.Contains(err.Error(), "retention: at least") {
			t.Errorf("%q: %v, want refused", raw, err)
		}
	}
}

// [alerts]: defaults, a partial severity map keeps the other defaults, the token from the environment is
// masked, and check-config says when the intake is off.
func TestAlertsConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("[alerts]\nseverity = { warning = \"page\" }\n"), "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Alerts
	if a.ServiceLabel != "service" || a.DefaultAction != "page" || a.Heartbeat != "Watchdog" || time.Duration(a.HeartbeatTimeout) != 10*time.Minute ||
		a.Severity["warning"] != "page" || a.Severity["critical"] != "page" || a.Severity["info"] != "ignore" {
		t.Errorf("alerts = %+v", a)
	}
	if s := cfg.String(); !strings.Contains(s, "# note: alerts.token is empty: POST /hooks/alertmanager is off (404)") {
		t.Errorf("check-config without a token says nothing of the intake:\n%s", s)
	}
	cfg, err = ParseConfig(nil, "t.toml", func(k string) string {
		if k == "OPSBOT_ALERTS_TOKEN" {
			return "from-the-environment-0123"
		}
		return ""
	})
	if err != nil || cfg.Alerts.Token != "from-the-environment-0123" {
		t.Fatalf("OPSBOT_ALERTS_TOKEN: %q, %v", cfg.Alerts.Token, err)
	}
	if s := cfg.String(); strings.Contains(s, "from-the-environment") || strings.Contains(s, "alerts.token is empty") {
		t.Errorf("check-config shows the token or a wrong note:\n%s", s)
	}
	o, err := cfg.botOptions("test", nil)
	if err != nil || o.Alerts.Token != "from-the-environment-0123" || o.Alerts.HeartbeatTimeout != 10*time.Minute ||
		o.Maint.MaxDuration != 12*time.Hour || o.Maint.ServiceLabel != "service" {
		t.Errorf("bot options: %+v %+v, %v", o.Alerts, o.Maint, err)
	}
	cfg, _ = ParseConfig([]byte("[alerts]\nalertmanager_url = \"http://user:pw@am.example.test:9093/am\"\n"), "t.toml", nil)
	if o, _ := cfg.botOptions("test", nil); o.Maint.AlertmanagerURL != "http://user:pw@am.example.test:9093/am" {
		t.Errorf("maintenance's Alertmanager = %q", o.Maint.AlertmanagerURL)
	}
	if s := cfg.String(); strings.Contains(s, "pw@") {
		t.Errorf("check-config shows the Alertmanager URL's password:\n%s", s)
	}
}
