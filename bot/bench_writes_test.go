package bot

import (
	"fmt"
	"testing"

	"github.com/opsbot/opsbot/bot/irctest"
)

// benchWrites measures a write command, !request open (stored and committed before the reply), from logged-in
// clients in private messages: sequentially from one client, and from conc clients at once. The note says
// how the concurrent writes shared commits.
func benchWrites(t *testing.T, n *irctest.Network, rb *runningBot, seqN, conc, perClient int, floorSeq, floorConc stats) ([]benchRow, string) {
	open := func(i int) string { return fmt.Sprintf("request open benchmark request %d", i) }
	seq := roundTrips(t, dialMany(t, n, "wseq", 1, true), seqN, "opsbot", open, "opsbot")
	writers := dialMany(t, n, "wc", conc, true)
	c0, w0 := rb.Store.WriteStats()
	many := roundTrips(t, writers, perClient, "opsbot", open, "opsbot")
	c1, w1 := rb.Store.WriteStats()
	note := fmt.Sprintf("group commit, %d writers: %d store writes in %d commits (%.1f per commit)", conc, w1-w0, c1-c0, float64(w1-w0)/float64(max(c1-c0, 1)))
	if got, err := rb.Store.OpenRequests(""); err != nil || len(got) != seqN+conc*perClient {
		t.Fatalf("%d requests stored (%v), want %d", len(got), err, seqN+conc*perClient)
	}
	return []benchRow{
		{"opsbot write (!request open), sequential", seq, floorSeq},
		{fmt.Sprintf("opsbot write (!request open), %d clients", conc), many, floorConc},
	}, note
}
