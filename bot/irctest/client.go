package irctest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"
)

// Line is one line received by a Client, with its raw bytes and arrival time.
type Line struct {
	Msg ircmsg.Message
	Raw string
	At  time.Time
}

// Text is the last parameter (the message text for PRIVMSG/NOTICE).
func (l Line) Text() string {
	if len(l.Msg.Params) == 0 {
		return ""
	}
	return l.Msg.Params[len(l.Msg.Params)-1]
}

// Client is a plain IRC client for tests. It answers PING and records every line.
type Client struct {
	t    testing.TB
	Nick string
	conn net.Conn
	w    *bufio.Writer
	wmu  sync.Mutex
	in   chan Line
	done chan struct{}
	// unparsed: deliver lines that do not parse too (Options.Unparsed).
	unparsed bool
}

// Options for Dial.
type Options struct {
	// SASL logs in with SASL PLAIN (account, password) before registration completes.
	SASLUser, SASLPass string
	// Caps to request (account-tag and friends are always requested when SASL is used).
	Caps []string
	// Unparsed also delivers lines that do not parse (NUL, CR inside, ...), with only Raw and At set, for
	// tests that check the raw bytes a peer sent.
	Unparsed bool
}

// Dial connects and registers a client; it fails the test if registration does not finish in 10s.
func Dial(t testing.TB, addr, nick string, o Options) *Client {
	t.Helper()
	c, err := dial(t, addr, nick, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// DialAll connects and registers one client per nick, all at once (a server may hold each registration
// for a second), and with register set creates a services account for each (password "pw"). It fails the
// test if any of them fails.
func DialAll(t testing.TB, addr string, nicks []string, o Options, register bool) []*Client {
	t.Helper()
	out := make([]*Client, len(nicks))
	errs := make([]error, len(nicks))
	var wg sync.WaitGroup
	for i, nick := range nicks {
		wg.Go(func() {
			c, err := dial(t, addr, nick, o)
			if err == nil && register {
				err = c.register("pw")
			}
			out[i], errs[i] = c, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// dial is Dial returning its error instead of failing the test, so that it may run outside the test's
// goroutine.
func dial(t testing.TB, addr, nick string, o Options) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("irctest: dial %s: %w", addr, err)
	}
	c := &Client{t: t, Nick: nick, conn: conn, w: bufio.NewWriter(conn), in: make(chan Line, 10000), done: make(chan struct{}), unparsed: o.Unparsed}
	go c.read()
	t.Cleanup(c.Close)
	expect := func(what string, match func(Line) bool) (Line, error) {
		l, ok := c.Wait(10*time.Second, match)
		if !ok {
			return l, fmt.Errorf("irctest: %s: no %s within 10s", nick, what)
		}
		return l, nil
	}
	caps := o.Caps
	if o.SASLUser != "" {
		caps = append(caps, "sasl", "account-tag", "extended-join", "account-notify")
	}
	if len(caps) > 0 {
		c.Send("CAP LS 302")
	}
	c.Send("NICK " + nick)
	c.Send("USER " + nick + " 0 * :irctest " + nick)
	if len(caps) > 0 {
		c.Send("CAP REQ :" + strings.Join(caps, " "))
		if _, err := expect("CAP ACK or NAK", func(l Line) bool {
			return l.Msg.Command == "CAP" && len(l.Msg.Params) > 1 && (l.Msg.Params[1] == "ACK" || l.Msg.Params[1] == "NAK")
		}); err != nil {
			return nil, err
		}
		if o.SASLUser != "" {
			c.Send("AUTHENTICATE PLAIN")
			if _, err := expect("AUTHENTICATE", func(l Line) bool { return l.Msg.Command == "AUTHENTICATE" }); err != nil {
				return nil, err
			}
			c.Send("AUTHENTICATE " + base64.StdEncoding.EncodeToString([]byte("\x00"+o.SASLUser+"\x00"+o.SASLPass)))
			l, err := expect("SASL result", func(l Line) bool { return l.Msg.Command == "903" || l.Msg.Command == "904" })
			if err != nil {
				return nil, err
			}
			if l.Msg.Command != "903" {
				return nil, fmt.Errorf("irctest: SASL login of %s failed: %s", o.SASLUser, l.Raw)
			}
		}
		c.Send("CAP END")
	}
	if _, err := expect("001", func(l Line) bool { return l.Msg.Command == "001" }); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) read() {
	defer close(c.done)
	r := bufio.NewReaderSize(c.conn, 16384)
	for {
		raw, err := r.ReadString('\n')
		if err != nil {
			return
		}
		raw = strings.TrimRight(raw, "\r\n")
		m, err := ircmsg.ParseLine(raw)
		if err != nil {
			if c.unparsed {
				select {
				case c.in <- Line{Raw: raw, At: time.Now()}:
				default:
				}
			}
			continue
		}
		if m.Command == "PING" {
			c.Send("PONG :" + m.Params[len(m.Params)-1])
			continue
		}
		select {
		case c.in <- Line{Msg: m, Raw: raw, At: time.Now()}:
		default: // a test that never reads must not block the reader
		}
	}
}

// Send writes a raw line (CR LF added).
func (c *Client) Send(line string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.w.WriteString(line + "\r\n")
	c.w.Flush()
}

// Say sends a PRIVMSG.
func (c *Client) Say(target, text string) { c.Send(fmt.Sprintf("PRIVMSG %s :%s", target, text)) }

// Join joins a channel and waits for the server's confirmation.
func (c *Client) Join(channel string) {
	c.Send("JOIN " + channel)
	c.Expect(10*time.Second, func(l Line) bool {
		return l.Msg.Command == "366" && len(l.Msg.Params) > 1 && strings.EqualFold(l.Msg.Params[1], channel)
	})
}

// Register creates a services account named after the nick (and logs the connection in).
func (c *Client) Register(password string) {
	c.t.Helper()
	if err := c.register(password); err != nil {
		c.t.Fatal(err)
	}
}

func (c *Client) register(password string) error {
	c.Say("NickServ", fmt.Sprintf("REGISTER %s %s@example.test", password, c.Nick))
	l, ok := c.Wait(10*time.Second, func(l Line) bool {
		return l.Msg.Command == "NOTICE" && strings.EqualFold(l.Msg.Nick(), "NickServ") &&
			(strings.Contains(l.Text(), "registered") || strings.Contains(l.Text(), "already"))
	})
	if !ok {
		return fmt.Errorf("irctest: register %s: no answer from NickServ within 10s", c.Nick)
	}
	if !strings.Contains(l.Text(), "is now registered") {
		return fmt.Errorf("irctest: register %s: %s", c.Nick, l.Text())
	}
	return nil
}

// Expect waits for the first line that matches; lines before it are consumed. It fails the test on timeout.
func (c *Client) Expect(timeout time.Duration, match func(Line) bool) Line {
	c.t.Helper()
	l, ok := c.Wait(timeout, match)
	if !ok {
		c.t.Fatalf("irctest: %s: no matching line within %v", c.Nick, timeout)
	}
	return l
}

// Wait is Expect without failing: ok is false on timeout.
func (c *Client) Wait(timeout time.Duration, match func(Line) bool) (Line, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case l := <-c.in:
			if match(l) {
				return l, true
			}
		case <-deadline.C:
			return Line{}, false
		}
	}
}

// Collect gathers matching lines for d.
func (c *Client) Collect(d time.Duration, match func(Line) bool) []Line {
	var out []Line
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case l := <-c.in:
			if match(l) {
				out = append(out, l)
			}
		case <-deadline.C:
			return out
		}
	}
}

// From matches PRIVMSG or NOTICE from nick (to anyone).
func From(nick string) func(Line) bool {
	return func(l Line) bool {
		return (l.Msg.Command == "PRIVMSG" || l.Msg.Command == "NOTICE") && strings.EqualFold(l.Msg.Nick(), nick)
	}
}

// FromContaining matches a PRIVMSG/NOTICE from nick whose text contains s.
func FromContaining(nick, s string) func(Line) bool {
	from := From(nick)
	return func(l Line) bool { return from(l) && strings.Contains(l.Text(), s) }
}

// Close quits and closes the connection.
func (c *Client) Close() {
	c.conn.Close()
	<-c.done
}
