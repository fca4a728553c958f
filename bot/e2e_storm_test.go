package bot

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// stockOptions are paging options (alice on call) with the bot's default flood control, for the network
// with InspIRCd's stock limits: what the server holds against the bot is then for real.
func stockOptions(t testing.TB, addr string) Options {
	o := pagingOptions(t, addr, "", 30*time.Minute)
	o.FloodBurst, o.FloodInterval = 4, 2*time.Second
	return o
}

// storm makes clients that are not logged in loop JOIN and PART on channel, each within its own flood
// limit (InspIRCd counts 2 for a JOIN and 5 for a PART against a threshold of 10, forgetting 1 a second,
// so one round every 7.5 s never holds a client's commands), starting at random moments over one round.
// It returns a function that ends the storm and reports how many joins were made.
func storm(t *testing.T, n *irctest.Network, clients int, channel string) (stop func() int) {
	t.Helper()
	var nicks []string
	for i := range clients {
		nicks = append(nicks, fmt.Sprintf("storm%02d", i))
	}
	cs := irctest.DialAll(t, n.Addr, nicks, irctest.Options{}, false)
	const round = 7500 * time.Millisecond
	done := make(chan struct{})
	var joins atomic.Int64
	var wg sync.WaitGroup
	own := func(c *irctest.Client, cmd string) func(irctest.Line) bool {
		return func(l irctest.Line) bool {
			return l.Msg.Command == cmd && strings.EqualFold(l.Msg.Nick(), c.Nick)
		}
	}
	for _, c := range cs {
		wg.Go(func() {
			next := time.Now().Add(rand.N(round))
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(round)
				c.Send("JOIN " + channel)
				if _, ok := c.Wait(wait, own(c, "JOIN")); !ok {
					t.Errorf("%s: no JOIN echo within %v", c.Nick, wait)
					return
				}
				joins.Add(1)
				c.Send("PART " + channel)
				if _, ok := c.Wait(wait, own(c, "PART")); !ok {
					t.Errorf("%s: no PART echo within %v", c.Nick, wait)
					return
				}
			}
		})
	}
	var once sync.Once
	stop = func() int {
		once.Do(func() { close(done); wg.Wait() })
		return int(joins.Load())
	}
	t.Cleanup(func() { stop() })
	return stop
}

// watchLink fails the test if the bot is ever seen disconnected while it runs; the returned function ends
// the watch.
func watchLink(t *testing.T, rb *runningBot) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-rb.t.ready():
			case <-time.After(100 * time.Millisecond):
			}
			if !rb.t.IRCStatus().Connected {
				t.Errorf("the bot lost its link to the server during the storm")
				return
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// A join/part storm of thirty clients that are not logged in, on the stock limits: the bot stays connected
// for the whole minute, and a page sent during the storm reaches the on-call privately while it lasts.
func TestE2EStockJoinStormKeepsTheLinkAndDeliversPages(t *testing.T) {
	n := irctest.StartStock(t)
	rb := startBot(t, stockOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true) // on call
	bob := joinedClient(t, n, "bob", true)
	rb.waitSeesAccount(t, "alice", "alice")

	const stormFor = 60 * time.Second
	start := time.Now()
	stopStorm := storm(t, n, 30, "#operations")
	stopWatch := watchLink(t, rb)
	defer stopWatch()

	time.Sleep(stormFor / 2) // the storm is under way: a server holding the bot's lines holds many by now
	paged := time.Now()
	bob.Say("#operations", "!page the db is down")
	l, ok := alice.Wait(time.Until(start.Add(stormFor)), privateFromBot("alice", "P-1 page from"))
	if !ok {
		t.Fatalf("the page sent %v into the storm did not reach the on-call before the storm ended", paged.Sub(start).Round(time.Second))
	}
	t.Logf("the page reached the on-call %v after it was sent, %v into the storm", l.At.Sub(paged).Round(time.Millisecond), paged.Sub(start).Round(time.Second))
	time.Sleep(time.Until(start.Add(stormFor)))
	joins := stopStorm()
	stopWatch()
	t.Logf("storm: %d joins and parts by 30 clients in %v", joins, time.Since(start).Round(time.Second))

	if v := testCounter(t, rb.metrics.Reconnects); v != 0 {
		t.Errorf("the bot reconnected %v times during the storm", v)
	}
	// The link is live and not held: a command right after the storm is answered at once.
	bob.Say("#operations", "!oncall")
	if _, ok := bob.Wait(wait, irctest.FromContaining("opsbot", "on call")); !ok {
		t.Errorf("!oncall after the storm: no answer within %v", wait)
	}
	rb.waitOutboxEmpty()
	if got := outboxLen(rb.Store); got != 0 {
		t.Errorf("outbox holds %d lines after the storm", got)
	}
}

// waitSeesAccount waits until the bot sees nick logged in as account.
func (rb *runningBot) waitSeesAccount(t *testing.T, account, nick string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		rb.t.mu.Lock()
		cs := rb.t.cur
		rb.t.mu.Unlock()
		if cs != nil && strings.EqualFold(strings.Join(rb.t.nicksOf(cs, account), ","), nick) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the bot does not see %s logged in as %s", nick, account)
}

// Without a WHO per join the bot still knows who is logged in as whom: from its one WHOX on joining (alice,
// in the channel before the bot), from extended-join (bob, logged in when he joins) and from account-notify
// (carol, who logs in after joining); a private line for each account reaches that person.
func TestE2EAccountsKnownWithoutAWHOPerJoin(t *testing.T) {
	n := irctest.Start(t)
	alice := joinedClient(t, n, "alice", true)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	carol := joinedClient(t, n, "carol", false)
	carol.Register("pw-carol")
	for _, c := range []*irctest.Client{alice, bob, carol} {
		rb.waitSeesAccount(t, c.Nick, c.Nick)
		if err := rb.Tell(c.Nick, "INC-3: for "+c.Nick, true); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Wait(wait, privateFromBot(c.Nick, "INC-3: for "+c.Nick)); !ok {
			t.Errorf("%s got no private line for the account %s", c.Nick, c.Nick)
		}
	}
	// Who is logged in as what is read from many goroutines at once (the outbound queue, command workers):
	// under -race this fails if those reads of girc's user state are not serialised.
	rb.t.mu.Lock()
	cs := rb.t.cur
	rb.t.mu.Unlock()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if got := rb.t.nicksOf(cs, "bob"); len(got) != 1 || got[0] != "bob" {
					t.Errorf("nicksOf(bob) = %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
