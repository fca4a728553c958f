package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seedPages opens n pages over the 100 days before now, each by its own person, from 50 writers at once
// (the group commit keeps this to seconds), and resolves all but the newest open of them.
func seedPages(b *testing.B, s *Store, n, open int, now time.Time) {
	b.Helper()
	ids := make([]uint64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				req := pageReq(fmt.Sprint("dev", i), "db down", now.Add(-time.Duration(n-i)*100*24*time.Hour/time.Duration(n)))
				req.Notifiers = nil
				p, _, err := s.OpenPage(req)
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = p.ID
			}
		})
	}
	wg.Wait()
	next.Store(0)
	for range 50 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n-open; i = int(next.Add(1)) - 1 {
				if _, err := s.ResolvePage(ids[i], "alice", now, nil, func(Page) error { return nil }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// BenchmarkPagesAt100k measures the paging family's queries with 100k pages in the store, 10 of them open:
// the escalation job's due list, !pages, the newest pages, the metrics' escalation counts, and opening one
// more page (one commit).
func BenchmarkPagesAt100k(b *testing.B) {
	s, _ := openPagingStore(b)
	now := utc("2026-03-25T12:00:00Z")
	start := time.Now()
	seedPages(b, s, 100_000, 10, now)
	b.Logf("seeded 100,000 pages in %v", time.Since(start).Round(time.Millisecond))
	later := now.Add(time.Hour) // every open page's first escalation is due
	b.Run("due", func(b *testing.B) {
		for b.Loop() {
			if due, err := s.DuePages(later, 100); err != nil || len(due) != 10 {
				b.Fatal(len(due), err)
			}
		}
	})
	b.Run("open-list", func(b *testing.B) {
		for b.Loop() {
			if open, err := s.OpenPages(); err != nil || len(open) != 10 {
				b.Fatal(len(open), err)
			}
		}
	})
	b.Run("recent10", func(b *testing.B) {
		for b.Loop() {
			if recent, err := s.RecentPages(10); err != nil || len(recent) != 10 {
				b.Fatal(len(recent), err)
			}
		}
	})
	b.Run("escalation-counts", func(b *testing.B) {
		for b.Loop() {
			if pending, overdue, err := s.EscalationCounts(later); err != nil || pending != 10 || overdue != 10 {
				b.Fatal(pending, overdue, err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		i := 0
		for b.Loop() {
			req := pageReq(fmt.Sprint("new", i), "cache down", later)
			req.Notifiers = nil
			if _, _, err := s.OpenPage(req); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
