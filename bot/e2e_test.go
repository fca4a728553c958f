package bot

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

const wait = 10 * time.Second

func TestE2EJoinsAndAnswersHelpAndStatus(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "dave", false)

	c.Say("#operations", "!help")
	l := c.Expect(wait, irctest.From("opsbot"))
	if l.Msg.Params[0] != "#operations" || !strings.HasPrefix(l.Text(), "commands: help, status") {
		t.Fatalf("!help answered %q in %s, want the family list in #operations", l.Text(), l.Msg.Params[0])
	}
	c.Say("#operations", "!status")
	l = c.Expect(wait, irctest.From("opsbot"))
	for _, want := range []string{"opsbot test", "connected to " + n.Addr + " as opsbot", "identity: services accounts", "db "} {
		if !strings.Contains(l.Text(), want) {
			t.Errorf("!status = %q, want it to contain %q", l.Text(), want)
		}
	}
	// Addressing by nick, and a private message without prefix.
	c.Say("#operations", "opsbot: help status")
	if l = c.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "usage: !status (anyone)") {
		t.Errorf("opsbot: help status = %q", l.Text())
	}
	c.Say("opsbot", "help help")
	if l = c.Expect(wait, irctest.From("opsbot")); l.Msg.Params[0] != "dave" || !strings.HasPrefix(l.Text(), "usage: !help [command]") {
		t.Errorf("private help = %q to %s", l.Text(), l.Msg.Params[0])
	}
	// Wrong input: one clear line addressed to the sender.
	c.Say("#operations", "!stauts")
	if l = c.Expect(wait, irctest.From("opsbot")); l.Text() != `dave: error: unknown command "stauts", did you mean !status?` {
		t.Errorf("!stauts = %q", l.Text())
	}
	// Chatter is not a command.
	c.Say("#operations", "! hello there")
	c.Say("#operations", "hello opsbot")
	if l, ok := c.Wait(time.Second, irctest.From("opsbot")); ok {
		t.Errorf("bot answered chatter: %q", l.Raw)
	}
}

func TestE2EAccountsNotNicks(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")

	alice := joinedClient(t, n, "alice", true) // logged in as account alice (ops, admin)
	alice.Say("#operations", "!audit")
	if l := alice.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "audit:") && !strings.HasPrefix(l.Text(), "#") {
		t.Fatalf("ops account alice: !audit = %q", l.Text())
	}
	// A nick change keeps access: the account tag, not the nick, is what counts.
	alice.Send("NICK alice_away")
	alice.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "NICK" })
	alice.Say("#operations", "!audit 1")
	if l := alice.Expect(wait, irctest.From("opsbot")); strings.Contains(l.Text(), "error") {
		t.Fatalf("alice under another nick: !audit = %q", l.Text())
	}
	alice.Close()

	// A logged-out client using the ops person's nick is refused.
	impostor := joinedClient(t, n, "alice", false)
	impostor.Say("#operations", "!audit")
	l := impostor.Expect(wait, irctest.From("opsbot"))
	if l.Text() != "alice: error: log in to NickServ first (this bot trusts accounts, not nicks)" {
		t.Fatalf("logged-out alice: !audit = %q", l.Text())
	}
	// A logged-in developer is refused with the role named.
	bob := joinedClient(t, n, "bob", true)
	bob.Say("#operations", "!audit")
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "bob: error: !audit needs the ops role (you are a developer)" {
		t.Fatalf("developer bob: !audit = %q", l.Text())
	}
	// Reads stay open to anonymous users.
	impostor.Say("#operations", "!status")
	if _, ok := impostor.Wait(wait, irctest.FromContaining("opsbot", "opsbot test")); !ok {
		t.Fatal("anonymous !status got no answer")
	}
}

// Commands pasted at once are answered in the order they were sent, although a write (committed to disk)
// takes far longer than a read; another caller's command is not held up behind them.
func TestE2EPastedCommandsAnsweredInOrder(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.CommandInterval = 0 // no per-caller rate limit: five lines at once
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	bob := joinedClient(t, n, "bob", false)

	cmds := []string{"request open first", "status", "request open second", "status", "request open third"}
	var lines []string
	for _, c := range cmds {
		lines = append(lines, "PRIVMSG opsbot :"+c)
	}
	alice.Send(strings.Join(lines, "\r\n")) // one write: the bot reads them together
	bob.Say("opsbot", "status")
	if _, ok := bob.Wait(wait, irctest.From("opsbot")); !ok {
		t.Fatal("another caller got no answer while alice's commands ran")
	}
	for i, c := range cmds {
		l, ok := alice.Wait(wait, irctest.From("opsbot"))
		if !ok {
			t.Fatalf("answer %d (%s) missing", i+1, c)
		}
		if write := strings.HasPrefix(c, "request"); write != strings.Contains(l.Text(), " opened by alice") {
			t.Fatalf("answer %d is %q, want the answer to %q: answers out of order", i+1, l.Text(), c)
		}
	}
}

func TestE2EReconnectDeliversQueuedMessageOnce(t *testing.T) {
	n := irctest.Start(t)
	g := newGate(t, n.Addr)
	rb := startBot(t, testOptions(t, g.Addr()))
	rb.waitJoined(t, "#operations")

	n.Stop() // the server dies
	deadline := time.Now().Add(wait)
	for rb.t.IRCStatus().Connected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rb.t.IRCStatus().Connected {
		t.Fatal("bot still thinks it is connected 10s after the server died")
	}
	g.setOpen(false) // keep the bot out until our client is in the channel
	if err := rb.Announce("", "INC-7: queued while the server was down", true); err != nil {
		t.Fatal(err)
	}
	if got := outboxLen(rb.Store); got != 1 {
		t.Fatalf("outbox holds %d messages while disconnected, want 1", got)
	}
	n.Restart(t)
	c := joinedClient(t, n, "erin", false)
	g.setOpen(true)
	rb.waitJoined(t, "#operations")

	got := c.Collect(3*time.Second, irctest.FromContaining("opsbot", "queued while the server was down"))
	if len(got) != 1 {
		t.Fatalf("queued message arrived %d times after reconnect, want once", len(got))
	}
	if !strings.HasPrefix(got[0].Text(), "INC-7:") && !strings.HasPrefix(got[0].Text(), "(late") {
		t.Errorf("delivered as %q", got[0].Text())
	}
	if n := outboxLen(rb.Store); n != 0 {
		t.Errorf("outbox still holds %d messages after delivery", n)
	}
	if v := testCounter(t, rb.metrics.Reconnects); v < 1 {
		t.Errorf("reconnects metric = %v, want >= 1", v)
	}
}

// A durable line left by an earlier run for a channel since removed from irc.channels is delivered to the
// first configured channel, marked with where it was meant for, and leaves the outbox.
func TestE2EOutboxLineForARemovedChannelIsDelivered(t *testing.T) {
	n := irctest.Start(t)
	st := openTestStore(t)
	if _, err := st.OutboxAdd(store.OutMsg{Target: "#ops-old", Text: "INC-9: payments degraded", Priority: PriorityHigh}); err != nil {
		t.Fatal(err)
	}
	c := joinedClient(t, n, "erin", false)
	rb := startBotOn(t, testOptions(t, n.Addr), st)
	rb.waitJoined(t, "#operations")
	got := c.Collect(3*time.Second, irctest.FromContaining("opsbot", "INC-9"))
	if len(got) != 1 || got[0].Msg.Params[0] != "#operations" || !strings.Contains(got[0].Text(), "(for #ops-old) INC-9: payments degraded") {
		t.Fatalf("got %d lines %v, want the INC-9 line once in #operations, marked (for #ops-old)", len(got), got)
	}
	if n := outboxLen(rb.Store); n != 0 {
		t.Errorf("outbox still holds %d messages after delivery", n)
	}
}

func TestE2ELongReplyIsSplitUnder512Bytes(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "frank", false)

	// 3 KB of words with multi-byte runes, as one logical reply line, privately.
	var sb strings.Builder
	for sb.Len() < 3000 {
		sb.WriteString("déploiement-😀 ")
	}
	long := strings.TrimSpace(sb.String())
	(&ircReplier{b: rb.Bot, target: "frank", nick: "frank", private: true}).Reply(long)
	var got []string
	for strings.Join(got, " ") != long {
		l, ok := c.Wait(wait, irctest.From("opsbot"))
		if !ok {
			t.Fatalf("reply incomplete after %d lines: got %d of %d bytes", len(got), len(strings.Join(got, " ")), len(long))
		}
		if n := len(stripTags(l.Raw)) + 2; n > MaxLineBytes {
			t.Fatalf("line of %d bytes on the wire: %.80q...", n, l.Raw)
		}
		got = append(got, l.Text())
	}
	if len(got) < 8 {
		t.Errorf("3 KB arrived in %d lines; expected about 400 bytes per line", len(got))
	}
	// In a channel, a long reply is capped at max_lines with a pointer to the rest.
	lines := make([]string, 10)
	for i := range lines {
		lines[i] = "R-" + string(rune('0'+i)) + " item"
	}
	(&ircReplier{b: rb.Bot, target: "#operations", nick: "frank"}).Reply(lines...)
	in := c.Collect(2*time.Second, irctest.From("opsbot"))
	if len(in) != 4 || in[3].Text() != "... and 7 more (ask in private)" {
		var texts []string
		for _, l := range in {
			texts = append(texts, l.Text())
		}
		t.Errorf("10-line reply in channel = %q, want 3 lines and \"... and 7 more (ask in private)\"", texts)
	}
}

func stripTags(raw string) string {
	if strings.HasPrefix(raw, "@") {
		_, rest, _ := strings.Cut(raw, " ")
		return rest
	}
	return raw
}

func TestE2EOutboundRespectsFloodLimit(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.FloodBurst, o.FloodInterval = 4, 25*time.Millisecond
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "gina", false)
	time.Sleep(200 * time.Millisecond) // let the bucket refill after the join

	// 50 concurrent senders, 2 lines each: 100 replies in a burst.
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			for j := range 2 {
				rb.out.Send(Line{Target: "gina", Text: "burst line " + string(rune('A'+i%26)) + string(rune('a'+j))})
			}
		})
	}
	wg.Wait()
	got := make([]irctest.Line, 0, 100)
	for len(got) < 100 {
		l, ok := c.Wait(wait, irctest.FromContaining("opsbot", "burst line"))
		if !ok {
			t.Fatalf("only %d of 100 lines arrived", len(got))
		}
		got = append(got, l)
	}
	// Token bucket: burst 4, then one line per 25ms. Line k may not arrive before (k-4)*25ms after the first,
	// less a small allowance for delivery jitter.
	for k := 4; k < len(got); k++ {
		min := time.Duration(k-4)*o.FloodInterval - 15*time.Millisecond
		if d := got[k].At.Sub(got[0].At); d < min {
			t.Fatalf("line %d arrived %v after the first; the flood limit allows no earlier than %v", k, d, min)
		}
	}
}

func TestE2ENoInjection(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "hank", false)

	// Colour, bold, CTCP and bidi codes in a command: stripped before parsing, never echoed.
	c.Say("#operations", "!\x02stat\x0304us\x03")
	if l := c.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "opsbot test") {
		t.Fatalf("formatted !status = %q", l.Text())
	}
	c.Say("#operations", "!x\x01\x0304\u202ePRIVMSG #operations :pwned\x00")
	l := c.Expect(wait, irctest.From("opsbot"))
	if strings.ContainsAny(l.Text(), "\x01\x02\x03\x00\r\n\u202e") {
		t.Fatalf("reply carries control codes: %q", l.Text())
	}
	if !strings.HasPrefix(l.Text(), "hank: error:") {
		t.Fatalf("reply %q does not start with the sender's nick and error:", l.Text())
	}
	// A reply can never start with user text that another bot would take for a command.
	(&ircReplier{b: rb.Bot, target: "#operations", nick: "hank"}).Reply("!op hank")
	if l := c.Expect(wait, irctest.From("opsbot")); strings.HasPrefix(l.Text(), "!") {
		t.Fatalf("bot sent a line starting with a command prefix: %q", l.Text())
	}
	// CR/LF smuggled in through the API (not possible on the wire) cannot make a second line.
	if err := rb.Announce("", "INC-1: a\r\nPRIVMSG #operations :injected\nQUIT :bye", false); err != nil {
		t.Fatal(err)
	}
	l = c.Expect(wait, irctest.FromContaining("opsbot", "INC-1"))
	if _, ok := c.Wait(time.Second, func(l irctest.Line) bool {
		return l.Msg.Command == "QUIT" || (l.Msg.Command == "PRIVMSG" && l.Text() == "injected")
	}); ok {
		t.Fatal("CR/LF in a message produced an extra IRC line")
	}
	// A listed nick keeps its zero-width space on the wire, so it does not highlight.
	if err := rb.Announce("", "INC-2: commander "+chat.NoHighlight("hank"), false); err != nil {
		t.Fatal(err)
	}
	if l := c.Expect(wait, irctest.FromContaining("opsbot", "INC-2")); !strings.Contains(l.Text(), "h\u200bank") {
		t.Fatalf("announced nick lost its zero-width space: %q", l.Text())
	}
	// A CTCP flood gets no CTCP replies at all (girc would answer each one, unthrottled).
	for range 30 {
		c.Say("opsbot", "\x01VERSION\x01")
		c.Say("opsbot", "\x01FOO bar\x01")
	}
	if l, ok := c.Wait(2*time.Second, irctest.From("opsbot")); ok {
		t.Fatalf("bot answered a CTCP: %q", l.Raw)
	}
	if v := testCounter(t, rb.metrics.LinesDropped.WithLabelValues("ctcp")); v < 30 {
		t.Errorf("ctcp replies dropped = %v, want >= 30", v)
	}
	_ = ircmsg.Message{}
}

func TestE2ESASLFailsClosedAndSucceeds(t *testing.T) {
	n := irctest.Start(t)
	// Register the bot's account first.
	reg := irctest.Dial(t, n.Addr, "opsbot", irctest.Options{})
	reg.Register("right-password")
	reg.Close()
	watcher := joinedClient(t, n, "ivan", false)

	o := testOptions(t, n.Addr)
	o.SASLUser, o.SASLPassword = "opsbot", "wrong-password"
	bad := startBot(t, o)
	if _, ok := watcher.Wait(3*time.Second, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" }); ok {
		t.Fatal("bot joined although SASL failed")
	}
	if bad.t.IRCStatus().Connected {
		t.Fatal("bot reports connected although SASL failed")
	}
	bad.stop(t)

	o.SASLPassword = "right-password"
	good := startBot(t, o)
	good.waitJoined(t, "#operations")
	watcher.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" && l.Msg.Nick() == "opsbot" })
}

func TestE2ENickRegainAndRejoinAfterKick(t *testing.T) {
	n := irctest.Start(t)
	squatter := joinedClient(t, n, "opsbot", false) // holds the nick, and is channel operator
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	if nick := rb.t.IRCStatus().Nick; nick != "opsbot_" {
		t.Fatalf("bot nick = %q, want opsbot_ while the nick is taken", nick)
	}
	// It answers to its current nick too.
	other := joinedClient(t, n, "judy", false)
	other.Say("#operations", "opsbot_: status")
	other.Expect(wait, irctest.FromContaining("opsbot_", "opsbot test"))

	squatter.Send("KICK #operations opsbot_ :out")
	other.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "KICK" })
	other.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" && l.Msg.Nick() == "opsbot_" })

	squatter.Send("QUIT :bye")
	l := other.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "NICK" && l.Msg.Nick() == "opsbot_" })
	if l.Msg.Params[0] != "opsbot" {
		t.Fatalf("bot renamed to %q, want opsbot", l.Msg.Params[0])
	}
}

func TestE2EShutdownQuitsAndReturnsPromptly(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "kim", false)
	start := time.Now()
	rb.stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	l := c.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "QUIT" && l.Msg.Nick() == "opsbot" })
	if !strings.Contains(l.Text(), "opsbot shutting down") {
		t.Errorf("QUIT reason = %q", l.Text())
	}

	// Shutdown while the bot waits to reconnect returns promptly too.
	o := testOptions(t, "127.0.0.1:1") // nothing listens there
	o.BackoffMin, o.BackoffMax = 30*time.Second, time.Minute
	rb2 := startBot(t, o)
	time.Sleep(300 * time.Millisecond)
	start = time.Now()
	rb2.stop(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown during reconnect backoff took %v", d)
	}
}
