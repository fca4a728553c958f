package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// waitNick waits until the bot is connected under nick.
func (rb *runningBot) waitNick(t *testing.T, nick string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if st := rb.t.IRCStatus(); st.Connected && st.Nick == nick {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the bot is %q, not %q, %v on", rb.t.IRCStatus().Nick, nick, within)
}

// An impostor that is not logged in holds the bot's nick before the bot starts. The bot, logged in (SASL)
// as the account that owns the nick, gets it back on Atheme 7.2, which knows GHOST but not REGAIN.
func TestE2ERegainsItsNickFromAnImpostor(t *testing.T) {
	n := irctest.Start(t)
	impostor := joinedClient(t, n, "opsbot", true) // registers the account opsbot, which owns the nick...
	impostor.Say("NickServ", "LOGOUT")             // ...and is no longer logged in, holding the nick
	impostor.Expect(wait, irctest.FromContaining("NickServ", "logged out"))

	o := testOptions(t, n.Addr)
	o.SASLUser, o.SASLPassword = "opsbot", "pw-opsbot"
	rb := startBot(t, o)
	if l := impostor.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "ERROR" }); !strings.Contains(l.Raw, "GHOST") {
		t.Errorf("the impostor was disconnected with %q, want NickServ's GHOST", l.Raw)
	}
	rb.waitNick(t, "opsbot", wait)
	rb.waitJoined(t, "#operations")
	dave := joinedClient(t, n, "dave", false)
	dave.Say("#operations", "!status")
	if l := dave.Expect(wait, irctest.From("opsbot")); !strings.Contains(l.Text(), "as opsbot since") || strings.Contains(l.Text(), "NOT on") {
		t.Errorf("!status = %q, want it connected as opsbot", l.Text())
	}
	base := "http://" + rb.HTTPAddr()
	if code, body := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz on its nick = %d %s", code, body)
	}
	if v := scrapeMetric(t, base, "opsbot_irc_nick_mismatch", ""); v != 0 {
		t.Errorf("opsbot_irc_nick_mismatch = %v on its nick, want 0", v)
	}
}

// While someone else holds its nick (here the bot has no account to regain it with), the bot says so in
// !status, /healthz answers 503 and opsbot_irc_nick_mismatch is 1; once the nick is free the bot takes it
// and all three are back to normal.
func TestE2ENotOnItsNickIsReported(t *testing.T) {
	n := irctest.Start(t)
	holder := joinedClient(t, n, "opsbot", false)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	base := "http://" + rb.HTTPAddr()
	dave := joinedClient(t, n, "dave", false)
	dave.Say("#operations", "!status")
	if l := dave.Expect(wait, irctest.FromContaining("opsbot_", "opsbot")); !strings.Contains(l.Text(), "as opsbot_ since") || !strings.Contains(l.Text(), "NOT on its nick opsbot") {
		t.Errorf("!status under another nick = %q, want it to say the bot is not on its nick", l.Text())
	}
	if code, body := httpGet(t, base+"/healthz"); code != 503 || !strings.Contains(body, "opsbot_") || !strings.Contains(body, "not opsbot") {
		t.Errorf("/healthz under another nick = %d %q, want 503 naming both nicks", code, body)
	}
	if v := scrapeMetric(t, base, "opsbot_irc_nick_mismatch", ""); v != 1 {
		t.Errorf("opsbot_irc_nick_mismatch = %v under another nick, want 1", v)
	}

	holder.Close() // the bot sees the holder quit and takes its nick
	rb.waitNick(t, "opsbot", wait)
	if code, body := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz back on its nick = %d %s", code, body)
	}
	if v := scrapeMetric(t, base, "opsbot_irc_nick_mismatch", ""); v != 0 {
		t.Errorf("opsbot_irc_nick_mismatch = %v back on its nick, want 0", v)
	}
	dave.Say("#operations", "!status")
	if l := dave.Expect(wait, irctest.From("opsbot")); strings.Contains(l.Text(), "NOT on") {
		t.Errorf("!status back on its nick = %q", l.Text())
	}
}
