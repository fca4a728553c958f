// Command opsbot is the ops team's IRC bot. See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on minimal images

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

const usage = `usage:
  opsbot [-config opsbot.toml]                         run the bot
  opsbot check-config -config opsbot.toml              validate and print the effective config (secrets masked)
  opsbot shell -config opsbot.toml [--as account]      run commands in a terminal, without IRC
  opsbot compact -config opsbot.toml                   rewrite the stopped bot's database small (keeps the original as a backup)
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
	case "check-config", "shell", "compact", "":
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
	if sub == "compact" {
		return compact(cfg, log, stdout, stderr)
	}

	opts, err := cfg.botOptions(version, log)
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Log: log})
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
	bot.TuneGC(os.Getenv, log)
	if !cfg.Auth.RequireAccount {
		log.Warn("INSECURE: auth.require_account = false, nicks are trusted; anyone can use an ops person's nick")
	}
	b, err := bot.New(opts, st)
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	stopProfiles, err := startProfiles(os.Getenv)
	defer stopProfiles()
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

// compact is opsbot compact: what is past its retention is pruned (as the running bot's job would, to the
// end), then the file is rewritten small (store.Compact).
func compact(cfg Config, log *slog.Logger, stdout, stderr io.Writer) int {
	st, err := store.Open(cfg.Store.Path, store.Options{LockTimeout: time.Second, CheckDelay: time.Hour, Log: log})
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", strings.Replace(err.Error(), "(is another opsbot running?)", "(stop opsbot before compacting)", 1))
		return 1
	}
	pruned, err := st.PruneExpired(time.Now(), time.Duration(cfg.Store.AuditRetention), time.Duration(cfg.Store.DeliveryRetention))
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	res, err := store.Compact(cfg.Store.Path, store.Options{LockTimeout: time.Second})
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "compacted %s: %d records past their retention pruned; %.1f MiB -> %.1f MiB; the original is kept as %s\n",
		cfg.Store.Path, pruned, float64(res.Before)/(1<<20), float64(res.After)/(1<<20), res.Backup)
	return 0
}
