package irctest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The stock profile is what its name says: a client that sends more than the server holds for it (about
// ten commands' penalty, then an 8 KiB receive queue) is disconnected, where the relaxed profile takes it all.
func TestStockProfileDisconnectsAFlood(t *testing.T) {
	flood := func(n *Network) Line {
		c := Dial(t, n.Addr, "flooder", Options{})
		var lines []string
		for i := range 300 {
			lines = append(lines, fmt.Sprintf("PRIVMSG flooder :%040d", i))
		}
		c.Send(strings.Join(lines, "\r\n") + "\r\nPING :after-the-flood")
		return c.Expect(20*time.Second, func(l Line) bool {
			return l.Msg.Command == "ERROR" || (l.Msg.Command == "PONG" && l.Text() == "after-the-flood")
		})
	}
	if l := flood(Start(t)); l.Msg.Command != "PONG" {
		t.Errorf("relaxed profile: a 12 KiB burst got %q, want every command processed", l.Raw)
	}
	if l := flood(StartStock(t)); l.Msg.Command != "ERROR" || !strings.Contains(l.Raw, "RecvQ exceeded") {
		t.Errorf("stock profile: a 12 KiB burst got %q, want the link closed for RecvQ exceeded", l.Raw)
	}
}
