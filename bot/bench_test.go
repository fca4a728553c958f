package bot

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/store"
)

// openBenchStore opens a store for a benchmark, closed at cleanup.
func openBenchStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
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
	return roundTripsTo(t, clients, n, func(int) string { return target }, msg, replyFrom)
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
