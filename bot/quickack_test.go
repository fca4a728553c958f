package bot

import (
	"bufio"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestReadsAreAcknowledgedAtOnce: a server with Nagle's algorithm on (as InspIRCd 3 runs) holds a small
// write until the bot has acknowledged the previous one, and Linux delays that ACK by 40 ms or more while the
// bot, in a conversation, has nothing to send back. The bot acknowledges every read at once, so the second of
// two lines sent a moment apart (a remark in the channel, then a command) is not held. Without that, each
// second line arrives 40 to 43 ms after it was sent on this machine, against tens of microseconds with it; the
// test takes the median of ten and allows half the kernel's shortest delayed ACK.
func TestReadsAreAcknowledgedAtOnce(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_QUICKACK is Linux's")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	o := testOptions(t, ln.Addr().String())
	d := &dialer{ctx: t.Context(), o: &o, metrics: newMetrics(func() float64 { return 0 }, func() (int, error) { return 0, nil }), onConn: func(*filterConn) {}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fc := c.(*filterConn)
	read := make(chan time.Time, 100)
	fc.tap = func([]byte) bool { read <- time.Now(); return true }
	go func() { // girc's reader, in short
		buf := make([]byte, 512)
		for {
			if _, err := fc.Read(buf); err != nil {
				return
			}
		}
	}()
	var srv net.Conn
	select {
	case srv = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	defer srv.Close()
	if err := srv.(*net.TCPConn).SetNoDelay(false); err != nil {
		t.Fatal(err)
	}
	fromBot := bufio.NewReader(srv)
	say := func(line string) {
		t.Helper()
		if _, err := srv.Write([]byte(line + "\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	next := func() time.Time {
		t.Helper()
		select {
		case at := <-read:
			return at
		case <-time.After(5 * time.Second):
			t.Fatal("the bot read nothing in 5s")
			return time.Time{}
		}
	}
	answer := func() { // the bot answers: its data carries the ACK, and the kernel sees a conversation
		t.Helper()
		if err := fc.writeNow([]byte("PONG :x\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := fromBot.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	for range 30 { // a conversation: the kernel moves to delayed ACKs
		say("PING :x")
		next()
		answer()
	}
	var held []time.Duration
	for range 10 {
		say(":carol!c@host PRIVMSG #operations :the deploy looks fine") // nothing to answer
		next()
		time.Sleep(time.Millisecond)
		sent := time.Now()
		say(":carol!c@host PRIVMSG #operations :!oncall")
		held = append(held, next().Sub(sent))
		answer()
	}
	slices.Sort(held)
	if median := held[len(held)/2]; median > 20*time.Millisecond {
		t.Fatalf("the second line waited %v (median of %v): the bot did not acknowledge the first at once", median, held)
	}
}
