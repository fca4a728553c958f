package bot

import (
	"fmt"
	"testing"

	"github.com/opsbot/opsbot/bot/irctest"
)

// benchWrites measures a write command, !request open (stored and committed before the reply), from logged-in
// clients in private messages: sequentially from one client, and from conc clients at once.
func benchWrites(t *testing.T, n *irctest.Network, rb *runningBot, seqN, conc, perClient int, floorSeq, floorConc stats) []benchRow {
	open := func(i int) string { return fmt.Sprintf("request open benchmark request %d", i) }
	seq := roundTrips(t, dialMany(t, n, "wseq", 1, true), seqN, "opsbot", open, "opsbot")
	many := roundTrips(t, dialMany(t, n, "wc", conc, true), perClient, "opsbot", open, "opsbot")
	if got, err := rb.Store.OpenRequests(""); err != nil || len(got) != seqN+conc*perClient {
		t.Fatalf("%d requests stored (%v), want %d", len(got), err, seqN+conc*perClient)
	}
	return []benchRow{
		{"opsbot write (!request open), sequential", seq, floorSeq},
		{fmt.Sprintf("opsbot write (!request open), %d clients", conc), many, floorConc},
	}
}
