package bot

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/opsbot/opsbot/bot/irctest"
)

// hostileLines is how many lines the hostile clients send in all.
const hostileLines = 10000

// TestHostileInput sends 10,000 random and crafted lines at a bot with a realistic flood limit, from five
// clients (an admin, an ops person, a developer who changes nick, two anonymous clients who change nick),
// in the channel and in private: overlong lines, invalid UTF-8, control, bidi and formatting codes, CTCP
// requests and replies, commands of every family with random arguments, nick changes between commands.
// A watcher records every line the bot sends to the channel; the senders record its private replies.
// The bot must survive (Run still running, /healthz 200, !status answered), and no line of it may be over
// 512 bytes, carry CR, LF, NUL, CTCP, formatting or bidi codes or invalid UTF-8, start with a command
// character (unless defused with a zero-width space), be anything but PRIVMSG to the channel or to the
// person who asked, report an internal error, or come faster than the token bucket allows.
func TestHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile input: 10,000 lines on a real network")
	}
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.FloodBurst, o.FloodInterval = 4, 50*time.Millisecond
	o.CommandBurst, o.CommandInterval = 3, 500*time.Millisecond
	logs := &logBuffer{t: t}
	o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")

	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("OPSBOT_HOSTILE_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (set OPSBOT_HOSTILE_SEED to repeat)", seed)
	rec := &botLines{}
	watcher := irctest.Dial(t, n.Addr, "watcher", irctest.Options{Unparsed: true})
	watcher.Join("#operations")
	type sender struct {
		c       *irctest.Client
		mayNick bool
	}
	var senders []sender
	for _, s := range []struct {
		nick           string
		login, mayNick bool
	}{{"alice", true, false}, {"carol", true, false}, {"bob", true, true}, {"anon1", false, true}, {"anon2", false, true}} {
		c := irctest.Dial(t, n.Addr, s.nick, irctest.Options{Unparsed: true})
		if s.login {
			c.Register("pw-" + s.nick)
		}
		c.Join("#operations")
		senders = append(senders, sender{c, s.mayNick})
	}
	stop := make(chan struct{})
	var pumps sync.WaitGroup
	pump := func(c *irctest.Client, channelToo bool) {
		pumps.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if l, ok := c.Wait(50*time.Millisecond, func(irctest.Line) bool { return true }); ok {
					rec.add(l, channelToo)
				}
			}
		})
	}
	pump(watcher, true)
	for _, s := range senders {
		pump(s.c, false)
	}
	defer func() { close(stop); pumps.Wait() }()

	time.Sleep(time.Second) // let the bucket refill after the join
	started := time.Now()
	// First the crafted lines, each once, from the three logged-in clients in turn, in the channel and in
	// private, slowly enough for the per-person limit to let them all through.
	for i, text := range hostileCrafted {
		c := senders[i%3].c
		if i%2 == 0 {
			c.Say("#operations", "!"+text)
		} else {
			c.Say("opsbot", text)
		}
		time.Sleep(o.CommandInterval/3 + 20*time.Millisecond)
	}
	// Then the flood: every client at once, about a line per millisecond each.
	cmds := rb.disp.Registry().Commands()
	var wg sync.WaitGroup
	rest := hostileLines - len(hostileCrafted)
	for i, s := range senders {
		g := &hostileGen{r: rand.New(rand.NewPCG(seed, uint64(i))), cmds: cmds}
		n := rest / len(senders)
		if i < rest%len(senders) {
			n++
		}
		wg.Go(func() {
			for range n {
				raw, _ := g.line(s.mayNick)
				s.c.Send(raw)
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	sent := time.Since(started)

	// Let the bot work through its queue (the token bucket makes it take a while), then ask it something.
	deadline := time.Now().Add(60 * time.Second)
	for (rb.out.Depth() > 0 || rec.quietFor() < time.Second) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if d := rb.out.Depth(); d > 0 {
		t.Errorf("outbound queue still holds %d lines 60s after the flood", d)
	}
	drained := time.Since(started)
	select {
	case err := <-rb.done:
		t.Fatalf("bot.Run returned during the flood: %v", err)
	default:
	}
	if code, body := httpGet(t, "http://"+rb.HTTPAddr()+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after the flood = %d %s", code, body)
	}
	before := rec.count()
	watcher.Say("#operations", "!status")
	answered := false
	for end := time.Now().Add(wait); time.Now().Before(end) && !answered; time.Sleep(50 * time.Millisecond) {
		answered = rec.contains(before, "opsbot test")
	}
	if !answered {
		t.Error("!status got no answer after the flood")
	}
	// The bot is still called opsbot and is in no channel but its own (asked by a client nobody else reads).
	asker := irctest.Dial(t, n.Addr, "asker", irctest.Options{})
	asker.Send("WHOIS opsbot")
	var chans []string
	for {
		l := asker.Expect(wait, func(l irctest.Line) bool { return slices.Contains([]string{"319", "318", "401"}, l.Msg.Command) })
		if l.Msg.Command == "319" {
			chans = append(chans, strings.Fields(l.Text())...)
			continue
		}
		if l.Msg.Command == "401" {
			t.Error("WHOIS opsbot: no such nick")
		}
		break
	}
	if len(chans) != 1 || strings.TrimLeft(chans[0], "@+%~&") != "#operations" {
		t.Errorf("WHOIS opsbot: in channels %q, want only #operations", chans)
	}

	lines := rec.all()
	checkBotLines(t, lines, rb.o.Prefix)
	excess := checkRate(t, lines, o.FloodBurst, o.FloodInterval, 250*time.Millisecond)
	for _, bad := range logs.matching("panicked", "command failed") {
		t.Errorf("bot log: %s", bad)
	}
	t.Logf("%d lines sent in %v, the bot's queue drained after %v; the bot sent %d lines to the watcher and senders (max excess over the bucket %d); "+
		"%v lines sent by the bot in all, dropped inbound %v, dropped lines %v (queue full)", hostileLines, sent.Round(time.Millisecond),
		drained.Round(time.Millisecond), len(lines), excess, testCounter(t, rb.metrics.LinesSent), testCounter(t, rb.metrics.InboundDropped), testCounter(t, rb.metrics.LinesDropped.WithLabelValues("queue_full")))
}

// botLines collects the lines the bot sent, as the test's clients received them: channel lines once (from the
// watcher), private lines from whoever got them.
type botLines struct {
	mu    sync.Mutex
	lines []irctest.Line
	last  time.Time
}

var botSource = regexp.MustCompile(`^:opsbot[!_ ]`)

func (b *botLines) add(l irctest.Line, channelToo bool) {
	raw := stripTags(l.Raw)
	if !botSource.MatchString(raw) {
		return
	}
	if !channelToo && len(l.Msg.Params) > 0 && strings.HasPrefix(l.Msg.Params[0], "#") {
		return
	}
	b.mu.Lock()
	b.lines = append(b.lines, l)
	b.last = l.At
	b.mu.Unlock()
}

func (b *botLines) quietFor() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Since(b.last)
}

func (b *botLines) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

func (b *botLines) contains(from int, s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines[from:] {
		if strings.Contains(l.Raw, s) {
			return true
		}
	}
	return false
}

// all is every line, in arrival order.
func (b *botLines) all() []irctest.Line {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.lines)
	slices.SortStableFunc(out, func(a, b irctest.Line) int { return a.At.Compare(b.At) })
	return out
}

// moreLine is the bot's own "... and N more" line, the one line allowed to start with dots.
var moreLine = regexp.MustCompile(`^\.\.\. and \d+ more \(ask in private\)$`)

// checkBotLines checks each line the bot sent.
func checkBotLines(t *testing.T, lines []irctest.Line, prefix string) {
	t.Helper()
	bad := 0
	fail := func(l irctest.Line, why string) {
		if bad++; bad <= 20 {
			t.Errorf("bot line %s: %.300q", why, l.Raw)
		}
	}
	for _, l := range lines {
		raw := stripTags(l.Raw)
		switch {
		case len(raw)+2 > MaxLineBytes:
			fail(l, fmt.Sprintf("of %d bytes", len(raw)+2))
		case strings.ContainsAny(raw, "\x00\x01\r\n"):
			fail(l, "with CR, LF, NUL or CTCP")
		case !utf8.ValidString(raw):
			fail(l, "with invalid UTF-8")
		case l.Msg.Command == "":
			fail(l, "that does not parse")
		case l.Msg.Command != "PRIVMSG":
			fail(l, "that is not a PRIVMSG")
		case strings.HasPrefix(l.Msg.Params[0], "#") && l.Msg.Params[0] != "#operations":
			fail(l, "to another channel")
		}
		if l.Msg.Command != "PRIVMSG" {
			continue
		}
		text := l.Text()
		for _, r := range text {
			if strings.ContainsRune("\x02\x03\x0f\x11\x16\x1d\x1e\x1f", r) || unicode.Is(unicode.Bidi_Control, r) || unicode.IsControl(r) {
				fail(l, fmt.Sprintf("with the code %U", r))
				break
			}
		}
		if text != "" && (strings.ContainsRune("!.@~/$%&*+-=?\\`", rune(text[0])) || strings.HasPrefix(text, prefix)) && !moreLine.MatchString(text) {
			fail(l, "starting with a command character")
		}
		if strings.Contains(text, "internal error") {
			fail(l, "reporting an internal error")
		}
	}
	if bad > 20 {
		t.Errorf("... %d bad lines in all", bad)
	}
}

// checkRate checks the arrival times against a token bucket of burst lines and one line per interval,
// allowing jitter for delivery and scheduling delays (lines delayed on the way arrive together), and reports
// the worst window. It returns the largest excess over the bucket without the jitter allowance.
func checkRate(t *testing.T, lines []irctest.Line, burst int, interval, jitter time.Duration) int {
	t.Helper()
	excess, over := 0, 0
	var overI, overJ int
	for i := range lines {
		for j := i; j < len(lines); j++ {
			span := lines[j].At.Sub(lines[i].At)
			n := j - i + 1
			excess = max(excess, n-burst-int(span/interval))
			if d := n - burst - int((span+jitter)/interval); d > over {
				over, overI, overJ = d, i, j
			}
		}
	}
	if over > 0 {
		t.Errorf("flood: %d lines within %v (from %v after the first line); a bucket of %d and one per %v allows %d, with %v of jitter",
			overJ-overI+1, lines[overJ].At.Sub(lines[overI].At), lines[overI].At.Sub(lines[0].At), burst, interval,
			overJ-overI+1-over, jitter)
	}
	return excess
}

// logBuffer is the bot's log: kept for checks and shown in the test's log.
type logBuffer struct {
	t   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// matching returns the log lines containing any of subs.
func (w *logBuffer) matching(subs ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range strings.Split(w.buf.String(), "\n") {
		for _, s := range subs {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
