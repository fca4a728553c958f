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

// TestBenchTable prints the table of `make bench` (README, "Benchmarks"): the floor (two plain clients
// echoing through the server), the bot answering a read (!oncall) and a write (!request open, committed
// before the reply), sequentially and with 50 concurrent clients, and bare store commits, all in one run on
// one network, with ratios to the floor. The rows are measured in interleaved rounds (floor, read, write,
// floor, ...), so that every row samples the same moments of the machine: measured one after the other, the
// floor alone moved between 66 and 149 µs from run to run. It runs only with OPSBOT_BENCH=1. It fails if a
// command is lost or answered twice.
func TestBenchTable(t *testing.T) {
	if os.Getenv("OPSBOT_BENCH") == "" {
		t.Skip("set OPSBOT_BENCH=1 (make bench) to run the benchmark table")
	}
	n := irctest.Start(t)
	const rounds, seqPerRound, conc, perClientPerRound = 20, 50, 50, 2

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
	floorClients := dialMany(t, n, "fc", conc, false)

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
	readClients := dialMany(t, n, "rc", conc, false)
	writer := dialMany(t, n, "wseq", 1, true)
	writers := dialMany(t, n, "wc", conc, true) // logged in: writes need an account

	ping := func(int) string { return "ping" }
	oncall := func(int) string { return "oncall" }
	opened := 0
	open := func(int) string { opened++; return fmt.Sprintf("request open benchmark request %d", opened) }
	// The store alone, on the same disk: the write of !request open without IRC, the part of a write's
	// round trip that the bot cannot shorten (two fsyncs per bbolt commit).
	bare, err := store.Open(filepath.Join(t.TempDir(), "alone.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	var floorSeq, floorConc, readSeq, readConc, writeSeq, writeConc, aloneSeq, aloneConc series
	var commits, writes int64
	for range rounds {
		floorSeq.add(roundTrips(t, []*irctest.Client{a}, seqPerRound, "flooreco", ping, "flooreco"))
		readSeq.add(roundTrips(t, []*irctest.Client{a}, seqPerRound, "opsbot", oncall, "opsbot"))
		writeSeq.add(roundTrips(t, writer, seqPerRound, "opsbot", open, "opsbot"))
		floorConc.add(roundTrips(t, floorClients, perClientPerRound, "flooreco", ping, "flooreco"))
		readConc.add(roundTrips(t, readClients, perClientPerRound, "opsbot", oncall, "opsbot"))
		c0, w0 := rb.Store.WriteStats()
		writeConc.add(roundTrips(t, writers, perClientPerRound, "opsbot", open, "opsbot"))
		c1, w1 := rb.Store.WriteStats()
		commits, writes = commits+c1-c0, writes+w1-w0
		aloneSeq.add(storeWrites(t, bare, 1, seqPerRound))
		aloneConc.add(storeWrites(t, bare, conc, perClientPerRound))
	}
	if got, err := rb.Store.OpenRequests(""); err != nil || len(got) != rounds*(seqPerRound+conc*perClientPerRound) {
		t.Fatalf("%d requests stored (%v), want %d", len(got), err, rounds*(seqPerRound+conc*perClientPerRound))
	}

	fs, fc := floorSeq.stats(), floorConc.stats()
	rows := []benchRow{
		{"floor: plain client echo, sequential", fs, fs},
		{fmt.Sprintf("floor: plain client echo, %d clients", conc), fc, fc},
		{"opsbot read (!oncall), sequential", readSeq.stats(), fs},
		{fmt.Sprintf("opsbot read (!oncall), %d clients", conc), readConc.stats(), fc},
		{"opsbot write (!request open), sequential", writeSeq.stats(), fs},
		{fmt.Sprintf("opsbot write (!request open), %d clients", conc), writeConc.stats(), fc},
	}

	// Bare bbolt commits on the same disk, for the write target (floor + 3 commits).
	commitTimes := make([]time.Duration, 0, 200)
	for range 200 {
		start := time.Now()
		if _, err := st.Audit(store.AuditEntry{Command: "bench"}); err != nil {
			t.Fatal(err)
		}
		commitTimes = append(commitTimes, time.Since(start))
	}
	c := summarize(commitTimes, 0)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-44s %10s %10s %12s %9s %9s\n", "case", "p50", "p99", "ops/s", "p50/floor", "p99/floor")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f %8.2fx %8.2fx\n", r.name, r.s.p50.Round(time.Microsecond), r.s.p99.Round(time.Microsecond),
			r.s.throughput, float64(r.s.p50)/float64(r.floor.p50), float64(r.s.p99)/float64(r.floor.p99))
	}
	fmt.Fprintf(&sb, "%-44s %10s %10s\n", "store: one bare bbolt commit (fsync)", c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond))
	for _, r := range []benchRow{
		{"store alone: the write, sequential", aloneSeq.stats(), c},
		{fmt.Sprintf("store alone: the write, %d writers", conc), aloneConc.stats(), c},
	} {
		fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f   (p50 = %.1f bare commits)\n", r.name, r.s.p50.Round(time.Microsecond), r.s.p99.Round(time.Microsecond),
			r.s.throughput, float64(r.s.p50)/float64(r.floor.p50))
	}
	fmt.Fprintf(&sb, "write target: p50 <= floor p50 + 3 commits = %s (sequential), %s (%d clients)\n",
		(fs.p50 + 3*c.p50).Round(time.Microsecond), (fc.p50 + 3*c.p50).Round(time.Microsecond), conc)
	fmt.Fprintf(&sb, "group commit, %d writers: %d store writes in %d commits (%.1f per commit)\n", conc, writes, commits, float64(writes)/float64(max(commits, 1)))
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

// series gathers one row's round trips over the rounds: the latencies and the time they took.
type series struct {
	d    []time.Duration
	wall time.Duration
}

func (s *series) add(d []time.Duration, wall time.Duration) {
	s.d = append(s.d, d...)
	s.wall += wall
}

func (s *series) stats() stats { return summarize(s.d, s.wall) }

// roundTrips has every client send n messages to target, one at a time, each waiting for the reply from
// replyFrom, and returns the latencies and the time from the start to the last reply. A missing or
// duplicated reply fails.
func roundTrips(t *testing.T, clients []*irctest.Client, n int, target string, msg func(int) string, replyFrom string) ([]time.Duration, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	var last time.Time // the last reply of all: the wall time excludes the check for extra replies below
	for _, c := range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, n)
			for i := range n {
				mu.Lock()
				text := msg(i)
				mu.Unlock()
				t0 := time.Now()
				c.Say(target, text)
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
	return all, last.Sub(start)
}

// storeWrites has n goroutines each make count writes of !request open straight to the store, one at a
// time, and returns the latencies and the time they took (the bot's write without IRC).
func storeWrites(t *testing.T, st *store.Store, n, count int) ([]time.Duration, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for g := range n {
		wg.Go(func() {
			local := make([]time.Duration, 0, count)
			for i := range count {
				t0 := time.Now()
				if _, err := st.OpenRequest(fmt.Sprintf("w%d", g), fmt.Sprintf("benchmark request %d", i), "", false); err != nil {
					t.Error(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return all, time.Since(start)
}

// dialMany connects count clients at once (optionally registered accounts).
func dialMany(t *testing.T, n *irctest.Network, prefix string, count int, register bool) []*irctest.Client {
	nicks := make([]string, count)
	for i := range nicks {
		nicks[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return irctest.DialAll(t, n.Addr, nicks, irctest.Options{}, register)
}
