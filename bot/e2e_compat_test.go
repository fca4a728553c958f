package bot

import (
	"strings"
	"testing"

	"github.com/opsbot/opsbot/bot/irctest"
)

// The smoke test on servers without services (ngIRCd and ircd-hybrid from Debian): the bot connects and
// answers reads; nobody has an account, so writes are refused, unless auth.require_account = false.

func TestE2ECompatNgircd(t *testing.T) { compatSmoke(t, irctest.StartNgircd(t)) }

func TestE2ECompatHybrid(t *testing.T) { compatSmoke(t, irctest.StartHybrid(t)) }

func compatSmoke(t *testing.T, n *irctest.Network) {
	t.Run("accounts required", func(t *testing.T) {
		rb := startBot(t, testOptions(t, n.Addr))
		rb.waitJoined(t, "#operations")
		c := irctest.Dial(t, n.Addr, "dave", irctest.Options{})
		c.Join("#operations")

		ask := func(cmd string) string {
			t.Helper()
			c.Say("#operations", cmd)
			return c.Expect(wait, irctest.From("opsbot")).Text()
		}
		if got := ask("!help"); !strings.HasPrefix(got, "commands: help, status") {
			t.Errorf("%s: !help = %q", n.Kind, got)
		}
		got := ask("!status")
		for _, want := range []string{"connected to " + n.Addr + " as opsbot", "identity: services accounts"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: !status = %q, want it to contain %q", n.Kind, got, want)
			}
		}
		if got := ask("!oncall"); !strings.HasPrefix(got, "nobody is on call (oncall.rotation is empty)") {
			t.Errorf("%s: !oncall = %q", n.Kind, got)
		}
		// No services: nobody is logged in, so every write is refused with the reason.
		if got := ask("!request open disk full on db3"); got != "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)" {
			t.Errorf("%s: write without an account = %q", n.Kind, got)
		}
		// Also under an admin's nick: nicks are not trusted.
		alice := irctest.Dial(t, n.Addr, "alice", irctest.Options{})
		alice.Join("#operations")
		alice.Say("#operations", "!oncall take 1h")
		if got := alice.Expect(wait, irctest.From("opsbot")).Text(); got != "alice: error: log in to NickServ first (this bot trusts accounts, not nicks)" {
			t.Errorf("%s: admin nick without an account: !oncall take = %q", n.Kind, got)
		}
		if counts, err := rb.Store.OpenCounts(); err != nil || counts["requests"] != 0 {
			t.Errorf("%s: open counts after refused writes = %v, %v; want no requests", n.Kind, counts, err)
		}
		rb.stop(t)
		c.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "QUIT" && l.Msg.Nick() == "opsbot" })
	})

	t.Run("insecure nick mode", func(t *testing.T) {
		o := testOptions(t, n.Addr)
		o.RequireAccount = false
		rb := startBot(t, o)
		rb.waitJoined(t, "#operations")
		c := irctest.Dial(t, n.Addr, "erin", irctest.Options{})
		c.Join("#operations")

		c.Say("#operations", "!status")
		if got := c.Expect(wait, irctest.From("opsbot")).Text(); !strings.Contains(got, "identity: INSECURE nick mode") {
			t.Errorf("%s: insecure !status = %q, want it to say INSECURE", n.Kind, got)
		}
		c.Say("#operations", "!request open disk full on db3")
		if got := c.Expect(wait, irctest.From("opsbot")).Text(); !strings.HasPrefix(got, "R-1 opened by erin: disk full on db3 [todo]") {
			t.Fatalf("%s: insecure write = %q", n.Kind, got)
		}
		// The nick is the identity: alice is admin and ops by nick alone.
		alice := irctest.Dial(t, n.Addr, "alice", irctest.Options{})
		alice.Join("#operations")
		alice.Say("#operations", "!request take R-1")
		if got := alice.Expect(wait, irctest.From("opsbot")).Text(); !strings.HasPrefix(got, "R-1 taken by alice [doing]") {
			t.Errorf("%s: insecure ops write = %q", n.Kind, got)
		}
	})
}
