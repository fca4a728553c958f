// Command opsbot is the ops team's IRC bot. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on minimal images

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

const usage = `usage:
  opsbot [-config opsbot.toml]                         run the bot
  opsbot check-config -config opsbot.toml              validate and print the effective config (secrets masked)
  opsbot shell -config opsbot.toml [--as account]      run commands in a terminal, without IRC
  opsbot version`

// run is main without os.Exit, so it can be tested.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("opsbot "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	cfgPath := fs.String("config", "opsbot.toml", "config file")
	as := fs.String("as", "", "shell: the account to act as (empty: anonymous)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "opsbot: unexpected argument %q\n%s\n", fs.Arg(0), usage)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "opsbot: -log-level %q: %v\n", *logLevel, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	switch sub {
	case "version":
		fmt.Fprintln(stdout, "opsbot", version)
		return 0
	case "check-config", "shell", "":
	default:
		fmt.Fprintf(stderr, "opsbot: unknown subcommand %q\n%s\n", sub, usage)
		return 2
	}
	cfg, err := LoadConfig(*cfgPath, os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if sub == "check-config" {
		fmt.Fprintf(stdout, "# %s is valid. Effective configuration (secrets masked):\n%s", *cfgPath, cfg)
		return 0
	}

	opts, err := botOptions(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	st, err := store.Open(cfg.Store.Path, store.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	defer st.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal now gets the default action: the process exits at once
	}()

	if sub == "shell" {
		if err := bot.Shell(ctx, opts, st, *as, stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "opsbot shell:", err)
			return 1
		}
		return 0
	}
	if !cfg.Auth.RequireAccount {
		log.Warn("INSECURE: auth.require_account = false, nicks are trusted; anyone can use an ops person's nick")
	}
	b, err := bot.New(opts, st)
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	if err := b.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	return 0
}

// botOptions maps the config onto the bot's options.
func botOptions(cfg Config, log *slog.Logger) (bot.Options, error) {
	loc, err := time.LoadLocation(cfg.Bot.Timezone)
	if err != nil {
		return bot.Options{}, errors.New("bot.timezone: " + err.Error())
	}
	paging, notifiers, err := pagingOptions(cfg)
	if err != nil {
		return bot.Options{}, err
	}
	return bot.Options{
		Server: cfg.IRC.Server, TLS: cfg.IRC.TLS, TLSInsecure: cfg.IRC.TLSInsecureSkipVerify,
		Nick: cfg.IRC.Nick, User: cfg.IRC.User, Realname: cfg.IRC.Realname, Channels: cfg.IRC.Channels,
		SASLUser: cfg.IRC.SASLUser, SASLPassword: cfg.IRC.SASLPassword,
		FloodBurst: cfg.IRC.FloodBurst, FloodInterval: time.Duration(cfg.IRC.FloodInterval), DialTimeout: time.Duration(cfg.IRC.DialTimeout),
		Prefix: cfg.Bot.Prefix, Location: loc, MaxLines: cfg.Bot.MaxLines, PublicURL: cfg.Bot.PublicURL,
		CommandBurst: cfg.Bot.CommandBurst, CommandInterval: time.Duration(cfg.Bot.CommandInterval),
		RequireAccount: cfg.Auth.RequireAccount, Admins: cfg.Auth.Admins, Ops: cfg.Auth.Ops,
		HTTPListen: cfg.HTTP.Listen, APIToken: cfg.HTTP.APIToken,
		WebhookSecret: cfg.HTTP.WebhookSecret, WebhookSecretPrevious: cfg.HTTP.WebhookSecretPrevious, NoLockOnRollback: !cfg.Deploys.LockOnRollback,
		Incidents: commands.IncidentOptions{DeclareRole: cfg.Incidents.DeclareRole, PageOnSev: cfg.Incidents.PageOnSev,
			FreezeOnSev: cfg.Incidents.FreezeOnSev, Topic: cfg.Incidents.Topic, Weights: cfg.Availability.Weights},
		Paging: paging, Notifiers: notifiers,
		RequestWIPLimit: cfg.Requests.WIPLimit, RequestNagAfter: time.Duration(cfg.Requests.NagAfter),
		Version: version, Log: log,
		Reminders: reminderSeeds(cfg.Reminders), ReminderGrace: time.Duration(cfg.ReminderSettings.Grace),
		Services: serviceSeeds(cfg.Services),
	}, nil
}

// serviceSeeds maps [[services]] onto the catalogue's seeds.
func serviceSeeds(in []ServiceConfig) []store.ServiceSeed {
	out := make([]store.ServiceSeed, 0, len(in))
	for _, s := range in {
		out = append(out, store.ServiceSeed{Name: s.Name, Owner: s.Owner, Depends: s.Depends, SLO: s.SLO, Notes: s.Notes})
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
