package bot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/store"
)

// A durable line written to the socket of a link that then dies, before the server processed it, is not
// lost: it leaves the outbox only when the server has answered a PING sent after it, so after the
// reconnect it is sent again.
func TestE2EDurableLineLostWithTheLinkIsSentAgain(t *testing.T) {
	n := irctest.Start(t)
	g := newGate(t, n.Addr)
	rb := startBot(t, testOptions(t, g.Addr()))
	rb.waitJoined(t, "#operations")

	// The server stops reading (SIGSTOP): what the bot writes now waits in the sockets' buffers.
	raw, err := os.ReadFile(filepath.Join(n.Dir, "inspircd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT) // if the test ends before the kill below
	sent := testCounter(t, rb.metrics.LinesSent)
	if err := rb.Announce("", "INC-8: written to a dying link", true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for testCounter(t, rb.metrics.LinesSent) == sent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if testCounter(t, rb.metrics.LinesSent) == sent {
		t.Fatal("the bot did not write the line")
	}
	// The link dies with the line unread: the server is killed (a stopped process dies too).
	g.setOpen(false) // keep the bot out until our client is in the channel
	n.Stop()
	deadline = time.Now().Add(wait)
	for rb.t.IRCStatus().Connected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rb.t.IRCStatus().Connected {
		t.Fatal("bot still connected 10s after the server died")
	}
	if got := outboxLen(rb.Store); got != 1 {
		t.Errorf("outbox holds %d lines after the link died, want the line written but never processed", got)
	}

	n.Restart(t)
	c := joinedClient(t, n, "erin", false)
	g.setOpen(true)
	rb.waitJoined(t, "#operations")
	got := c.Collect(3*time.Second, irctest.FromContaining("opsbot", "written to a dying link"))
	if len(got) != 1 {
		t.Fatalf("the line written to the dead link arrived %d times after the reconnect, want once", len(got))
	}
	rb.waitOutboxEmpty()
	if got := outboxLen(rb.Store); got != 0 {
		t.Errorf("outbox holds %d lines after the line was delivered and confirmed", got)
	}
}

// waitOutbox waits, at most wait, until the outbox's lines satisfy ok (a line written leaves it only once the
// server's PONG has confirmed it), and returns them as last seen.
func (rb *runningBot) waitOutbox(ok func([]store.OutMsg) bool) ([]store.OutMsg, bool) {
	deadline := time.Now().Add(wait)
	for {
		ms, err := rb.Store.OutboxPending()
		if err == nil && ok(ms) {
			return ms, true
		}
		if time.Now().After(deadline) {
			return ms, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
