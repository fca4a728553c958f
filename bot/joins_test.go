package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A netsplit that rejoins hundreds of people costs no line: with extended-join each JOIN names the account,
// so the bot asks no WHO per person (girc would, unthrottled, ahead of everything the bot has to say).
func TestNetsplitRejoinSendsNoWHOPerPerson(t *testing.T) {
	fs := joinedFakeServer(t)
	for i := range 300 {
		fs.send(fmt.Sprintf(":user%d!u@h JOIN #operations acct%d :user %d", i, i, i))
	}
	fs.send("PING :after-the-rejoin")
	var who []string
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-fs.got:
			if !ok {
				t.Fatal("the bot closed the connection")
			}
			if strings.HasPrefix(l, "WHO ") && !strings.HasPrefix(l, "WHO #") {
				who = append(who, l)
			}
			if strings.HasPrefix(l, "PONG ") && strings.HasSuffix(l, "after-the-rejoin") {
				if len(who) > 0 {
					t.Fatalf("the bot sent %d WHO lines for 300 joins (first %q), want none", len(who), who[0])
				}
				return
			}
		case <-deadline:
			t.Fatalf("no PONG within 5s (%d WHO lines before)", len(who))
		}
	}
}

// girc's own lines (here PONGs) take their token from the bot's bucket like every other line once the bot
// is registered: five PINGs at once are answered one interval apart, not in one burst (the last at least
// four intervals after the PINGs were sent; arriving late can only add to that).
func TestGircLinesGoThroughTheTokenBucket(t *testing.T) {
	fs := fakeServerBot(t, func(o *Options) { o.FloodBurst, o.FloodInterval = 1, 300*time.Millisecond })
	fs.expect("WHO #operations", 5*time.Second) // joined: the JOIN and the WHOX took their tokens
	sent := time.Now()
	for i := range 5 {
		fs.send(fmt.Sprintf("PING :p%d", i))
	}
	for range 5 {
		fs.expect("PONG", 5*time.Second)
	}
	if took := time.Since(sent); took < 4*300*time.Millisecond {
		t.Errorf("five PONGs came within %v of the PINGs, want at least four flood intervals (1.2s)", took)
	}
}

// Registration's lines (CAP LS, NICK, USER, CAP REQ, CAP END) take no token: with the default burst of four
// and a flood interval of an hour, the JOIN still follows the welcome at once. When they were charged, the
// bucket was empty at the welcome and the JOIN waited an interval (two seconds by default: a start took
// twice the server's registration).
func TestJoinAfterWelcomeNotHeldByRegistrationLines(t *testing.T) {
	fs := fakeServerBot(t, func(o *Options) { o.FloodBurst, o.FloodInterval = 4, time.Hour })
	fs.expect("JOIN #operations", 10*time.Second)
}
