package bot

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"github.com/opsbot/opsbot/bot/irctest"
)

// TestE2EFaultServerKilledUnderTraffic: four logged-in clients send write commands while the IRC server is
// killed (SIGKILL, both daemons). After the restart the bot reconnects by itself and answers; no command is
// answered twice, not even a reply queued while the link was down; every acknowledged command is stored
// once, and nothing is stored twice.
func TestE2EFaultServerKilledUnderTraffic(t *testing.T) {
	n := irctest.Start(t)
	g := newGate(t, n.Addr)
	rb := startBot(t, testOptions(t, g.Addr()))
	rb.waitJoined(t, "#operations")

	opened := regexp.MustCompile(`^R-(\d+) opened by \S+: (load-\S+) \[todo\]`)
	type answer struct {
		id     string
		marker string
	}
	// watch collects every acknowledgement a watcher sees until stop is closed.
	watch := func(c *irctest.Client, stop <-chan struct{}) <-chan []answer {
		out := make(chan []answer, 1)
		go func() {
			var got []answer
			for {
				select {
				case <-stop:
					out <- got
					return
				default:
				}
				if l, ok := c.Wait(50*time.Millisecond, irctest.From("opsbot")); ok {
					if m := opened.FindStringSubmatch(l.Text()); m != nil {
						got = append(got, answer{id: m[1], marker: m[2]})
					}
				}
			}
		}()
		return out
	}

	// Phase 1: traffic, and the server dies in the middle of it.
	watcher := joinedClient(t, n, "watcher", false)
	stopWatch1 := make(chan struct{})
	seen1 := watch(watcher, stopWatch1)
	var senders []*irctest.Client
	for i := range 4 {
		senders = append(senders, joinedClient(t, n, fmt.Sprintf("load%d", i), true))
	}
	var sentMu sync.Mutex
	sent := map[string]bool{}
	stopSend := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range senders {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopSend:
					return
				case <-time.After(5 * time.Millisecond):
				}
				marker := fmt.Sprintf("load-%s-%d", c.Nick, i)
				sentMu.Lock()
				sent[marker] = true
				sentMu.Unlock()
				c.Say("#operations", "!request open "+marker) // to a dead socket once the server is gone: lost
			}
		})
	}
	// Let traffic flow (the bot answers), then kill the server while the senders keep sending.
	deadline := time.Now().Add(wait)
	for testCounter(t, rb.metrics.LinesSent) < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n.Stop()
	time.Sleep(300 * time.Millisecond)
	close(stopSend)
	wg.Wait()
	close(stopWatch1)
	before := <-seen1
	if len(before) < 20 {
		t.Fatalf("only %d commands answered before the kill; the test needs traffic", len(before))
	}
	deadline = time.Now().Add(wait)
	for rb.t.IRCStatus().Connected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rb.t.IRCStatus().Connected {
		t.Fatal("bot still connected 10s after the server died")
	}

	// Phase 2: the server comes back; a new watcher is in the channel before the bot, so it sees any reply
	// the bot had queued while the link was down.
	g.setOpen(false)
	n.Restart(t)
	watcher2 := joinedClient(t, n, "watcher2", false)
	stopWatch2 := make(chan struct{})
	seen2 := watch(watcher2, stopWatch2)
	g.setOpen(true)
	rb.waitJoined(t, "#operations")

	// New traffic is answered, each command exactly once.
	var after []string
	for i := range 2 {
		c := joinedClient(t, n, fmt.Sprintf("post%d", i), true)
		for j := range 5 {
			marker := fmt.Sprintf("load-%s-%d", c.Nick, j)
			after = append(after, marker)
			c.Say("#operations", "!request open "+marker)
		}
	}
	c := joinedClient(t, n, "reader", false)
	c.Say("#operations", "!status")
	if _, ok := c.Wait(wait, irctest.FromContaining("opsbot", "connected to "+g.Addr())); !ok {
		t.Error("!status after the restart: no answer saying connected")
	}
	deadline = time.Now().Add(wait)
	for time.Now().Before(deadline) && rb.out.Depth() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the last lines reach the watcher
	close(stopWatch2)
	afterSeen := <-seen2

	count := map[string]int{}
	ids := map[string]string{}
	for _, a := range append(append([]answer{}, before...), afterSeen...) {
		count[a.marker]++
		if prev, ok := ids[a.marker]; ok && prev != a.id {
			t.Errorf("%s acknowledged as R-%s and as R-%s", a.marker, prev, a.id)
		}
		ids[a.marker] = a.id
	}
	for marker, k := range count {
		if k != 1 {
			t.Errorf("%s answered %d times", marker, k)
		}
		if !sent[marker] && !strings.HasPrefix(marker, "load-post") {
			t.Errorf("answer for %s, which nobody sent", marker)
		}
	}
	for _, marker := range after {
		if count[marker] != 1 {
			t.Errorf("%s, sent after the restart, answered %d times, want once", marker, count[marker])
		}
	}
	// The store: every acknowledged command once, under the id the bot announced; nothing twice.
	all, _, err := rb.Store.RequestsPage(1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]uint64{}
	for _, r := range all {
		if prev, dup := stored[r.Text]; dup {
			t.Errorf("%s stored twice (R-%d and R-%d)", r.Text, prev, r.ID)
		}
		stored[r.Text] = r.ID
	}
	for marker, id := range ids {
		if fmt.Sprint(stored[marker]) != id {
			t.Errorf("%s acknowledged as R-%s, stored as R-%d", marker, id, stored[marker])
		}
	}
	late, unanswered := 0, 0
	for _, a := range afterSeen {
		if !strings.HasPrefix(a.marker, "load-post") {
			late++
		}
	}
	for marker := range stored {
		if _, ok := ids[marker]; !ok {
			unanswered++ // committed, but its reply went to girc as the link died: at most once, never twice
		}
	}
	t.Logf("before the kill: %d commands sent, %d answered; %d answered after the reconnect (queued while down); "+
		"%d stored, of which %d never answered; after the restart: %d sent, all answered once",
		len(sent), len(before), late, len(all)-len(after), unanswered, len(after))
	if v := testCounter(t, rb.metrics.Reconnects); v < 1 {
		t.Errorf("reconnects metric = %v", v)
	}
}

// TestE2EFaultServicesDown: Atheme is killed (the ircd stays up), so accounts cannot be verified. New
// logins fail (NickServ is gone, SASL does not succeed); a client that is not logged in is refused writes
// with the clear message; reads work; the bot stays connected. A client logged in before the outage keeps
// its account: the ircd still tags its messages, and the bot trusts the tag, not services.
func TestE2EFaultServicesDown(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, testOptions(t, n.Addr))
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true) // logged in before the outage
	carol := irctest.Dial(t, n.Addr, "carol", irctest.Options{})
	carol.Register("pw-carol") // has an account, and will try to log in again during the outage
	carol.Close()
	if !saslLogin(t, n.Addr, "carol1", "carol", "pw-carol") {
		t.Fatal("SASL login fails while services are up")
	}

	killPidFile(t, n.Dir, "atheme.pid")
	// The ircd notices the services link is gone: NickServ no longer exists.
	dave := joinedClient(t, n, "dave", false)
	deadline := time.Now().Add(wait)
	for {
		dave.Say("NickServ", "HELP")
		if _, ok := dave.Wait(500*time.Millisecond, func(l irctest.Line) bool { return l.Msg.Command == "401" }); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("NickServ still answers 10s after Atheme was killed")
		}
	}
	// New logins fail: registering with NickServ cannot happen, and SASL does not succeed.
	dave.Say("NickServ", "REGISTER pw-dave dave@example.test")
	if _, ok := dave.Wait(time.Second, irctest.FromContaining("NickServ", "registered")); ok {
		t.Fatal("NickServ registered an account while Atheme was down")
	}
	if saslLogin(t, n.Addr, "carol2", "carol", "pw-carol") {
		t.Fatal("SASL login succeeded while Atheme was down")
	}

	ask := func(c *irctest.Client, cmd string) string {
		t.Helper()
		c.Say("#operations", cmd)
		return c.Expect(wait, irctest.From("opsbot")).Text()
	}
	// Writes from a client that is not logged in: refused, with the reason.
	if got := ask(dave, "!request open disk full on db3"); got != "dave: error: log in to NickServ first (this bot trusts accounts, not nicks)" {
		t.Errorf("write while services are down = %q", got)
	}
	// Reads work.
	if got := ask(dave, "!oncall"); !strings.HasPrefix(got, "nobody is on call") {
		t.Errorf("!oncall while services are down = %q", got)
	}
	if got := ask(dave, "!status"); !strings.Contains(got, "connected to "+n.Addr) {
		t.Errorf("!status while services are down = %q", got)
	}
	// bob logged in before the outage: the ircd keeps his account and tags his messages.
	bob.Say("#operations", "!request open logged in before the outage")
	l := bob.Expect(wait, func(l irctest.Line) bool {
		return irctest.From("opsbot")(l) && (strings.HasPrefix(l.Text(), "bob:") || strings.Contains(l.Text(), "before the outage"))
	})
	if !strings.HasPrefix(l.Text(), "R-1 opened by bob:") {
		t.Errorf("write by a client logged in before the outage = %q", l.Text())
	}
	// The bot never lost its link.
	if !rb.t.IRCStatus().Connected || testCounter(t, rb.metrics.Reconnects) != 0 {
		t.Errorf("bot connected=%v reconnects=%v while only services were down", rb.t.IRCStatus().Connected, testCounter(t, rb.metrics.Reconnects))
	}
	if code, body := httpGet(t, "http://"+rb.HTTPAddr()+"/healthz"); code != 200 {
		t.Errorf("/healthz while services are down = %d %s", code, body)
	}
}

// killPidFile kills (SIGKILL) the process whose pid is in dir/name.
func killPidFile(t *testing.T, dir, name string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s (%d): %v", name, pid, err)
	}
}

// saslLogin tries a SASL PLAIN login as a client does while connecting, and reports whether it succeeded
// (903). It logs what the server answered instead.
func saslLogin(t *testing.T, addr, nick, user, pass string) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	send := func(line string) { fmt.Fprintf(conn, "%s\r\n", line) }
	// next returns the next line whose command is one of cmds ("" on timeout or close).
	next := func(cmds ...string) string {
		for {
			raw, err := r.ReadString('\n')
			if err != nil {
				return ""
			}
			m, err := ircmsg.ParseLine(strings.TrimRight(raw, "\r\n"))
			if err == nil && slices.Contains(cmds, m.Command) {
				return strings.TrimSpace(raw)
			}
		}
	}
	send("CAP LS 302")
	send("NICK " + nick)
	send("USER " + nick + " 0 * :" + nick)
	send("CAP REQ :sasl")
	l := next("CAP")
	for strings.Contains(l, " LS ") {
		l = next("CAP")
	}
	if !strings.Contains(l, " ACK ") {
		t.Logf("SASL login as %s: %q", user, l)
		return false
	}
	send("AUTHENTICATE PLAIN")
	if l := next("AUTHENTICATE", "904", "905", "906", "908"); !strings.HasPrefix(l, "AUTHENTICATE") {
		t.Logf("SASL login as %s: %q", user, l)
		return false
	}
	send("AUTHENTICATE " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
	l = next("903", "904", "905", "906")
	t.Logf("SASL login as %s: %q", user, l)
	return strings.Contains(l, " 903 ")
}
