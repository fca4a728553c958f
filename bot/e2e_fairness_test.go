package bot

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// Twenty clients that are not logged in send 25 !oncall each within 10 s, on the stock limits; someone
// logged in asks !help two seconds into the flood and is answered within 5 s: the flooders share one
// command budget, their replies take one turn between them in the outbound queue and at most half its
// bucket, and "slow down" is said once for the flood.
func TestE2EStockAnonymousFloodDoesNotStarveOthers(t *testing.T) {
	n := irctest.StartStock(t)
	o := stockOptions(t, n.Addr)
	o.CommandInterval, o.CommandBurst = 2*time.Second, 5 // the configuration's defaults
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true)
	var nicks []string
	for i := range 20 {
		nicks = append(nicks, fmt.Sprintf("flood%02d", i))
	}
	flooders := irctest.DialAll(t, n.Addr, nicks, irctest.Options{}, false)
	var wg sync.WaitGroup
	for _, c := range flooders {
		wg.Go(func() { c.Join("#operations") })
	}
	wg.Wait()

	start := time.Now()
	for _, c := range flooders {
		wg.Go(func() {
			for i := range 25 {
				c.Say("#operations", "!oncall")
				time.Sleep(time.Until(start.Add(time.Duration(i+1) * 400 * time.Millisecond)))
			}
		})
	}
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	asked := time.Now()
	alice.Say("#operations", "!help")
	l, ok := alice.Wait(60*time.Second, irctest.FromContaining("opsbot", "commands:"))
	wg.Wait()
	if !ok {
		t.Fatalf("alice's !help, sent 2s into the flood, was not answered within 60s")
	}
	latency := l.At.Sub(asked)
	t.Logf("alice's !help was answered %v after she asked, 2s into the flood", latency.Round(time.Millisecond))
	if latency > 5*time.Second {
		t.Errorf("alice's !help was answered %v after she asked, want within 5s", latency.Round(time.Millisecond))
	}
	// What the flood got: a few answers, one "slow down" between them all.
	got := flooders[0].Collect(3*time.Second, irctest.From("opsbot"))
	answers, slowdowns := 0, 0
	for _, l := range got {
		switch {
		case strings.Contains(l.Text(), "slow down"):
			slowdowns++
		case strings.Contains(l.Text(), "on call"):
			answers++
		}
	}
	queued := rb.out.queued()
	for _, l := range queued {
		if strings.Contains(l.Text, "slow down") {
			slowdowns++
		}
	}
	t.Logf("the flood got %d answers to !oncall so far (%d lines still queued) and %d slow-down lines, sent or queued", answers, len(queued), slowdowns)
	if slowdowns > 1 {
		t.Errorf("the flood got %d slow-down lines, want one", slowdowns)
	}
}
