package store

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// seedRequests adds closed requests (done, closed over the two years before the clock's time, about 137 a
// day) and open ones (a third each in todo, doing and blocked, spread over five ops people), in large
// transactions so that seeding 100k records takes seconds, not an fsync per record.
func seedRequests(tb testing.TB, s *Store, c *reqClock, closed, open int) {
	tb.Helper()
	end := c.Now()
	span := 2 * 365 * 24 * time.Hour
	const batch = 5000
	for first := 0; first < closed; first += batch {
		err := s.db.Update(func(tx *bolt.Tx) error { // (it may run twice: no state outside tx)
			for done := first; done < min(first+batch, closed); done++ {
				at := end.Add(-span + span/time.Duration(closed)*time.Duration(done)) // (done*span overflows)
				r, err := openRequestTx(tx, "bob", fmt.Sprintf("closed request %d with some text", done), "", done%7 == 0, at)
				if err != nil {
					return err
				}
				if r, err = applyRequestChange(tx, r, ops(RequestTake, "alice"), at.Add(5*time.Minute)); err != nil {
					return err
				}
				if _, err = applyRequestChange(tx, r, ops(RequestFinish, "alice"), at.Add(2*time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range open {
			at := end.Add(-time.Duration(open-i) * time.Minute)
			r, err := openRequestTx(tx, "dan", fmt.Sprintf("open request %d", i), "", i%5 == 0, at)
			if err != nil {
				return err
			}
			who := fmt.Sprintf("ops%d", i%5)
			switch i % 3 {
			case 1:
				_, err = applyRequestChange(tx, r, ops(RequestTake, who), at)
			case 2:
				if r, err = applyRequestChange(tx, r, ops(RequestTake, who), at); err == nil {
					_, err = applyRequestChange(tx, r, RequestChange{Action: RequestBlock, By: who, ByOps: true, Text: "waiting"}, at)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// benchmarkBoard measures what !board reads from the store: counts per column, the three oldest per column,
// WIP per person and the requests done in the last seven days.
func benchmarkBoard(b *testing.B, closed, open int) {
	c := newReqClock()
	s := openRequestStore(b, c)
	seedRequests(b, s, c, closed, open)
	since := c.Now().Add(-7 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		bd, err := s.RequestBoard(3, since)
		if err != nil {
			b.Fatal(err)
		}
		if bd.Counts[RequestTodo]+bd.Counts[RequestDoing]+bd.Counts[RequestBlocked] != open {
			b.Fatalf("board counts %v, want %d open", bd.Counts, open)
		}
	}
}

// BenchmarkBoard100kClosed is !board's store time with 100k closed requests and 300 open ones.
func BenchmarkBoard100kClosed(b *testing.B) { benchmarkBoard(b, 100_000, 300) }

// BenchmarkBoard0Closed is the same board without closed history: the two should be close.
func BenchmarkBoard0Closed(b *testing.B) { benchmarkBoard(b, 0, 300) }

// BenchmarkOpenRequest100kClosed is the cost of one !request open (one committed transaction) on a store
// with 100k closed requests.
func BenchmarkOpenRequest100kClosed(b *testing.B) {
	c := newReqClock()
	s := openRequestStore(b, c)
	seedRequests(b, s, c, 100_000, 300)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.OpenRequest("bob", "benchmark request", "", false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestStatsYear is !request stats 366d's store time with 100k requests over two years: half of
// them in the window.
func BenchmarkRequestStatsYear(b *testing.B) {
	c := newReqClock()
	s := openRequestStore(b, c)
	seedRequests(b, s, c, 100_000, 300)
	to := c.Now().Add(time.Nanosecond)
	from := to.Add(-366 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		st, err := s.RequestStats(from, to)
		if err != nil || st.Opened < 40_000 || len(st.LeadTimes) < 40_000 {
			b.Fatal(st.Opened, err)
		}
	}
}
