package bot

import (
	"testing"

	"github.com/opsbot/opsbot/bot/irctest"
)

// benchWrites measures a write command; it has none until a family provides one.
func benchWrites(t *testing.T, n *irctest.Network, rb *runningBot, seqN, conc, perClient int, floorSeq, floorConc stats) []benchRow {
	return nil
}
