package bot

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/store"
)

// TestBenchTable prints the table of `make bench` (TESTING.md, "Benchmarks"): the floor (two plain clients
// echoing through the server), the bot answering a read and a write command, sequentially and with 50
// concurrent clients, and bare store commits, all in one run on one network, with ratios to the floor.
// It runs only with OPSBOT_BENCH=1. It fails if a command is lost or answered twice.
func TestBenchTable(t *testing.T) {
	if os.Getenv("OPSBOT_BENCH") == "" {
		t.Skip("set OPSBOT_BENCH=1 (make bench) to run the benchmark table")
	}
	n := irctest.Start(t)
	seqN, conc, perClient := 300, 50, 10

	// Floor: a round trip between two plain clients through the same server.
	a := irctest.Dial(t, n.Addr, "floora", irctest.Options{})
	echo := irctest.Dial(t, n.Addr, "flooreco", irctest.Options{})
	stopEcho := make(chan struct{})
	go func() { // echo every PRIVMSG back to its sender
		for {
			select {
			case <-stopEcho:
				return
			default:
			}
			if l, ok := echo.Wait(100*time.Millisecond, func(l irctest.Line) bool { return l.Msg.Command == "PRIVMSG" }); ok {
				echo.Say(l.Msg.Nick(), l.Text())
			}
		}
	}()
	defer close(stopEcho)
	floorSeq := roundTrips(t, []*irctest.Client{a}, seqN, "flooreco", func(i int) string { return fmt.Sprintf("ping %d", i) }, "flooreco")
	floorClients := dialMany(t, n, "fc", conc, false)
	floorConc := roundTrips(t, floorClients, perClient, "flooreco", func(i int) string { return fmt.Sprintf("ping %d", i) }, "flooreco")

	// The bot, with outbound and per-user limits out of the way (benchmark config only).
	o := testOptions(t, n.Addr)
	o.FloodBurst, o.FloodInterval, o.CommandInterval = 1000, 0, 0
	o.Paging.Rotation = store.Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	o.Log = quietLog()
	st, err := store.Open(filepath.Join(t.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rb := startBotOn(t, o, st)
	rb.waitJoined(t, "#operations")

	readCmd := func(int) string { return "oncall" }
	readSeq := roundTrips(t, []*irctest.Client{a}, seqN, "opsbot", readCmd, "opsbot")
	readClients := dialMany(t, n, "rc", conc, false)
	readConc := roundTrips(t, readClients, perClient, "opsbot", readCmd, "opsbot")

	rows := []benchRow{
		{"floor: plain client echo, sequential", floorSeq, floorSeq},
		{"floor: plain client echo, 50 clients", floorConc, floorConc},
		{"opsbot read (!oncall), sequential", readSeq, floorSeq},
		{"opsbot read (!oncall), 50 clients", readConc, floorConc},
	}
	writeRows, groupNote := benchWrites(t, n, rb, seqN, conc, perClient, floorSeq, floorConc)
	rows = append(rows, writeRows...)

	// Bare bbolt commits on the same disk, for the write target (floor + 3 commits).
	commits := make([]time.Duration, 0, 200)
	for range 200 {
		start := time.Now()
		if _, err := st.Audit(store.AuditEntry{Command: "bench"}); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, time.Since(start))
	}
	c := summarize(commits, 0)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-44s %10s %10s %12s %9s %9s\n", "case", "p50", "p99", "ops/s", "p50/floor", "p99/floor")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f %8.2fx %8.2fx\n", r.name, r.s.p50.Round(time.Microsecond), r.s.p99.Round(time.Microsecond),
			r.s.throughput, float64(r.s.p50)/float64(r.floor.p50), float64(r.s.p99)/float64(r.floor.p99))
	}
	fmt.Fprintf(&sb, "%-44s %10s %10s\n", "store: one bare bbolt commit (fsync)", c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond))
	fmt.Fprintf(&sb, "write target: p50 <= floor p50 + 3 commits = %s\n", (floorSeq.p50 + 3*c.p50).Round(time.Microsecond))
	fmt.Fprintf(&sb, "%s\n", groupNote)
	fmt.Print(sb.String())
}

// benchRow is one line of the table.
type benchRow struct {
	name     string
	s, floor stats
}

type stats struct {
	p50, p99   time.Duration
	throughput float64
}

func summarize(d []time.Duration, wall time.Duration) stats {
	slices.Sort(d)
	s := stats{p50: d[len(d)/2], p99: d[min(len(d)-1, len(d)*99/100)]}
	if wall > 0 {
		s.throughput = float64(len(d)) / wall.Seconds()
	}
	return s
}

// roundTrips has every client send n messages to target, one at a time, each waiting for the reply from
// replyFrom, and returns the latency distribution and throughput. A missing or duplicated reply fails.
func roundTrips(t *testing.T, clients []*irctest.Client, n int, target string, msg func(int) string, replyFrom string) stats {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	var last time.Time // the last reply of all: throughput excludes the check for extra replies below
	for _, c := range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, n)
			for i := range n {
				t0 := time.Now()
				c.Say(target, msg(i))
				if _, ok := c.Wait(10*time.Second, irctest.From(replyFrom)); !ok {
					t.Errorf("%s: reply %d of %d from %s lost", c.Nick, i, n, replyFrom)
					return
				}
				local = append(local, time.Since(t0))
			}
			end := time.Now()
			if extra, ok := c.Wait(50*time.Millisecond, irctest.From(replyFrom)); ok {
				t.Errorf("%s: unexpected extra reply %q", c.Nick, extra.Text())
			}
			mu.Lock()
			all = append(all, local...)
			if end.After(last) {
				last = end
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return summarize(all, last.Sub(start))
}

// dialMany connects n clients (optionally registered accounts).
func dialMany(t *testing.T, n *irctest.Network, prefix string, count int, register bool) []*irctest.Client {
	var out []*irctest.Client
	for i := range count {
		c := irctest.Dial(t, n.Addr, fmt.Sprintf("%s%d", prefix, i), irctest.Options{})
		if register {
			c.Register("pw")
		}
		out = append(out, c)
	}
	return out
}
