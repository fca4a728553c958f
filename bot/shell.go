package bot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// Shell runs commands typed on in as the given account (empty: anonymous), printing replies to out, with the
// same registry, dispatcher and store as the IRC bot (like Hubot's shell adapter). It returns at EOF or when
// ctx ends.
func Shell(ctx context.Context, o Options, st *store.Store, account string, in io.Reader, out io.Writer) error {
	o.defaults()
	o.CommandInterval = 0 // one person at a terminal is not a flood
	st.Now = o.Now
	b := &Bot{o: o, store: st, roles: commands.NewRoles(o.Admins, o.Ops, nil)}
	set, err := families(b.runtime(&shellAnnouncer{out: out}), st, &b.o, commands.CoreConfig{Version: o.Version, Started: o.Now(), Insecure: !o.RequireAccount}, nil)
	if err != nil {
		return err
	}
	roles := b.roles
	disp := newDispatcher(&b.o, set.Registry, st, roles, nil)
	nick := account
	if nick == "" {
		nick = "shell"
	}
	caller := commands.Caller{Account: roles.Fold(account), Nick: nick}
	w := &shellReplier{out: out}
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() { // reads stdin; ends with it
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		errc <- sc.Err()
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return <-errc
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if line == "quit" || line == "exit" {
				return nil
			}
			disp.Dispatch(ctx, commands.Message{Caller: caller, Text: strings.TrimPrefix(line, o.Prefix)}, w)
		}
	}
}

type shellReplier struct{ out io.Writer }

func (s *shellReplier) Reply(lines ...string) {
	for _, l := range lines {
		fmt.Fprintln(s.out, l)
	}
}

func (s *shellReplier) Error(msg string) { fmt.Fprintln(s.out, msg) }

// shellAnnouncer prints announcements instead of posting them.
type shellAnnouncer struct{ out io.Writer }

func (a *shellAnnouncer) Announce(channel, text string, _ bool) error {
	if channel == "" {
		channel = "channel"
	}
	_, err := fmt.Fprintf(a.out, "[%s] %s\n", channel, text)
	return err
}

func (a *shellAnnouncer) Notify(nick, text string, _ bool) error {
	_, err := fmt.Fprintf(a.out, "[to %s] %s\n", nick, text)
	return err
}

func (a *shellAnnouncer) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}
