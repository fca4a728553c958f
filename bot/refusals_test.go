package bot

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// next waits for a line from the bot starting with prefix, without playing the server's part (a JOIN is
// not echoed: the test decides whether it succeeds), and returns it.
func (fs *fakeServer) next(prefix string, timeout time.Duration) (string, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-fs.got:
			if !ok {
				return "", false
			}
			if strings.HasPrefix(l, prefix) {
				return l, true
			}
		case <-deadline:
			return "", false
		}
	}
}

// fakeServerBotWithStore is fakeServerBotAndStore, once the bot is in #operations.
func fakeServerBotWithStore(t *testing.T) (*fakeServer, *Bot, *store.Store) {
	fs, b, st := fakeServerBotAndStore(t, nil)
	fs.expect("JOIN #operations", 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the JOIN echo is handled
	return fs, b, st
}

// A JOIN the server refuses (a ban after a kick) is tried again, with a growing delay, until it succeeds:
// until then every line for the channel waits, pages included.
func TestRefusedJoinIsTriedAgain(t *testing.T) {
	fs := joinedFakeServer(t)
	fs.send(":carol!c@h KICK #operations opsbot :out")
	for i, code := range []string{"474", "473", "471"} {
		if _, ok := fs.next("JOIN #operations", 5*time.Second); !ok {
			t.Fatalf("try %d: no JOIN after the kick or the refusal before it", i+1)
		}
		fs.send(":irc.test " + code + " opsbot #operations :Cannot join channel")
	}
	start := time.Now()
	if _, ok := fs.next("JOIN #operations", 5*time.Second); !ok {
		t.Fatal("no JOIN after three refusals")
	}
	// RejoinDelay is 200ms in tests: the fourth try waits 1.6s (doubling), not 200ms.
	if took := time.Since(start); took < time.Second {
		t.Errorf("the fourth JOIN came %v after the third refusal, want the delay to grow (1.6s)", took)
	}
	fs.send(":opsbot!bot@host JOIN #operations")
	fs.send("@account=carol :carol!u@h PRIVMSG #operations :!help")
	if _, ok := fs.next("PRIVMSG #operations :", 5*time.Second); !ok {
		t.Fatal("no answer in #operations once joined again")
	}
}

// A refusal of a JOIN the bot did not need (a channel it is in) starts no rejoin, and a kick from a channel
// the bot is not configured for (an oper made it join) is not rejoined.
func TestNoRejoinOutsideTheConfiguredChannels(t *testing.T) {
	fs := joinedFakeServer(t)
	fs.send(":opsbot!bot@host JOIN #elsewhere")
	fs.send(":oper!o@h KICK #elsewhere opsbot :go away")
	fs.send(":irc.test 474 opsbot #elsewhere :Cannot join channel (+b)")
	fs.send(":irc.test 474 opsbot #operations :Cannot join channel (+b)") // late, while the bot is in it
	if l, ok := fs.next("JOIN ", 2*time.Second); ok {
		t.Fatalf("the bot sent %q", l)
	}
}

// A page the server refuses to deliver to the channel (the bot is banned or quieted there, or the channel
// is moderated) stays in the outbox and is sent again after a while; it leaves the outbox only once a
// PONG confirms a try that was not refused.
func TestRefusedPageIsKeptAndSentAgain(t *testing.T) {
	for _, refusal := range []string{
		"404 opsbot #operations :Cannot send to channel (you're banned)",
		"477 opsbot #operations :You need to be identified to speak in this channel", // some servers' +M
	} {
		t.Run(refusal[:3], func(t *testing.T) { refusedPageIsKeptAndSentAgain(t, refusal) })
	}
}

func refusedPageIsKeptAndSentAgain(t *testing.T, refusal string) {
	fs, b, st := fakeServerBotWithStore(t)
	if err := b.Announce("#operations", "P-7 paging alice: db down", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := fs.next("PRIVMSG #operations :P-7", 3*time.Second); !ok {
		t.Fatal("page not written")
	}
	fs.send(":irc.test " + refusal)
	ping, ok := fs.next("PING :"+syncPrefix, 3*time.Second)
	if !ok {
		t.Fatal("no sync PING after the page")
	}
	fs.send(":irc.test PONG irc.test :" + strings.TrimPrefix(ping, "PING :"))
	again, ok := fs.next("PRIVMSG #operations :", 5*time.Second)
	if !ok || !strings.Contains(again, "P-7 paging alice: db down") {
		t.Fatalf("the refused page was not sent again (%q)", again)
	}
	if n := outboxLen(st); n != 1 {
		t.Fatalf("outbox holds %d lines while the page waits for its confirmation, want 1", n)
	}
	ping, ok = fs.next("PING :"+syncPrefix, 3*time.Second)
	if !ok {
		t.Fatal("no sync PING after the page's second try")
	}
	fs.send(":irc.test PONG irc.test :" + strings.TrimPrefix(ping, "PING :"))
	deadline := time.Now().Add(3 * time.Second)
	for outboxLen(st) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page confirmed on its second try is still in the outbox")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A line for an account goes to its nick whatever the nick's characters (Ergo allows UTF-8 nicks, InspIRCd
// gives a UID starting with a digit on a collision); when the server refuses it (the nick just left), the
// page stays in the outbox.
func TestTellToAnyNickAndItsRefusal(t *testing.T) {
	fs, b, st := fakeServerBotWithStore(t)
	fs.send(":jörg!u@h JOIN #operations joerg :Jörg")               // extended-join: logged in as joerg
	fs.send(":0ABAAAAAB!u@h JOIN #operations dave :Dave")           // a UID nick after a collision
	fs.send("@account=carol :carol!u@h PRIVMSG #operations :!help") // a round trip: the joins are handled
	fs.next("PRIVMSG #operations :", 5*time.Second)
	for _, who := range []struct{ account, nick string }{{"dave", "0ABAAAAAB"}, {"joerg", "jörg"}} {
		if err := b.Tell(who.account, "P-1 paging "+who.account+": db down", true); err != nil {
			t.Fatal(err)
		}
		if _, ok := fs.next("PRIVMSG "+who.nick+" :P-1", 3*time.Second); !ok {
			t.Fatalf("no page to %s's nick %s", who.account, who.nick)
		}
	}
	fs.send(":irc.test 401 opsbot jörg :No such nick")
	ping, ok := fs.next("PING :"+syncPrefix, 3*time.Second)
	if !ok {
		t.Fatal("no sync PING after the pages")
	}
	fs.send(":irc.test PONG irc.test :" + strings.TrimPrefix(ping, "PING :"))
	time.Sleep(300 * time.Millisecond)
	msgs, err := st.OutboxPending()
	if err != nil || len(msgs) != 1 || msgs[0].Target != accountTarget("joerg") {
		t.Fatalf("outbox after the PONG = %+v, %v; want joerg's page only (dave's was delivered)", msgs, err)
	}
	if v := testCounter(t, b.metrics.LinesDropped.WithLabelValues("invalid")); v != 0 {
		t.Errorf("%v lines dropped as invalid", v)
	}
}

// Shutdown while the bot waits for the server in the TLS handshake returns at once, not at the dial
// timeout.
func TestShutdownDuringTLSHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // accepts, says nothing
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	o := testOptions(t, ln.Addr().String())
	o.HTTPListen, o.Log, o.TLS, o.DialTimeout = "", quietLog(), true, 20*time.Second
	b, err := New(o, openTestStore(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the bot did not connect")
	}
	time.Sleep(100 * time.Millisecond) // in the handshake
	start := time.Now()
	cancel()
	select {
	case <-done:
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Run returned %v after shutdown began, in the TLS handshake", took)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15s of shutdown (dial timeout 20s)")
	}
}
