package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// On a real network: a ban keeps the bot's page in the outbox (InspIRCd answers 404 to a banned member)
// until the ban is lifted, then it is delivered once; a kick with a ban makes the rejoin fail (474) until
// the ban is lifted, then the bot is back in the channel and answers.
func TestE2EBanKeepsThePageAndTheRejoinGoesOn(t *testing.T) {
	n := irctest.Start(t)
	op := joinedClient(t, n, "chanop", false) // the channel's creator: its operator
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	op.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" && l.Msg.Nick() == "opsbot" })
	isMode := func(l irctest.Line) bool { return l.Msg.Command == "MODE" }

	op.Send("MODE #operations +b opsbot!*@*")
	op.Expect(wait, isMode)
	if err := rb.Announce("#operations", "P-9 paging alice: db down", true); err != nil {
		t.Fatal(err)
	}
	if l, ok := op.Wait(1500*time.Millisecond, irctest.From("opsbot")); ok {
		t.Fatalf("the channel got %q from a banned bot", l.Raw)
	}
	if got := outboxLen(rb.Store); got != 1 {
		t.Fatalf("outbox holds %d lines while the server refuses the page, want 1", got)
	}
	op.Send("MODE #operations -b opsbot!*@*")
	op.Expect(wait, irctest.FromContaining("opsbot", "P-9 paging alice: db down"))
	if l, ok := op.Wait(time.Second, irctest.FromContaining("opsbot", "P-9")); ok {
		t.Errorf("the page came twice once the ban was lifted: %q", l.Raw)
	}
	deadline := time.Now().Add(wait)
	for outboxLen(rb.Store) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the delivered page is still in the outbox")
		}
		time.Sleep(20 * time.Millisecond)
	}

	op.Send("MODE #operations +b opsbot!*@*")
	op.Expect(wait, isMode)
	op.Send("KICK #operations opsbot :out")
	op.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "KICK" })
	time.Sleep(time.Second) // the rejoins meanwhile are refused (474)
	if rb.t.canSend("#operations") {
		t.Fatal("the bot says it is in the channel it is banned from")
	}
	op.Send("MODE #operations -b opsbot!*@*")
	op.Expect(2*wait, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" && l.Msg.Nick() == "opsbot" })
	op.Say("#operations", "!help")
	if l := op.Expect(wait, irctest.From("opsbot")); !strings.Contains(l.Text(), "commands:") {
		t.Errorf("after the rejoin the bot answered %q", l.Text())
	}
}
