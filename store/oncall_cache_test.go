package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// readTxs is how many read transactions the store has begun.
func readTxs(s *Store) int { return s.db.Stats().TxN }

// Who is on call is answered from the cache until an override is written, and every write shows at once in the
// next answer, in the moments the cache holds and in those before it.
func TestOnCallNowFromTheCache(t *testing.T) {
	s, _ := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	now := utc("2026-03-25T12:00:00Z") // alice's week
	if _, _, err := s.AddOverride(r, Override{Account: "dave", By: "carol", Start: now.Add(-3 * time.Hour), End: now.Add(-90 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	who := func(at time.Time) string {
		t.Helper()
		st, err := s.OnCallNow(r, at)
		if err != nil {
			t.Fatal(err)
		}
		return st.Account
	}
	if got := who(now); got != "alice" {
		t.Fatalf("OnCallNow(now) = %q, want alice", got)
	}
	before := readTxs(s)
	for i := range 100 {
		if got := who(now.Add(time.Duration(i) * time.Minute)); got != "alice" {
			t.Fatalf("OnCallNow(now+%dm) = %q, want alice", i, got)
		}
	}
	if n := readTxs(s) - before; n != 0 {
		t.Errorf("100 answers from a loaded cache began %d read transactions, want 0", n)
	}
	// Earlier than the cache holds: read from the file (dave's override ended before the cache's start).
	if got := who(now.Add(-2 * time.Hour)); got != "dave" {
		t.Errorf("OnCallNow(now-2h) = %q, want dave", got)
	}

	o, _, err := s.AddOverride(r, Override{Account: "bob", By: "carol", Start: now, End: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.OnCallNow(r, now.Add(time.Minute))
	if err != nil || st.Account != "bob" || st.Override == nil || st.Override.ID != o.ID {
		t.Fatalf("after AddOverride, OnCallNow = %+v, %v; want bob's override", st, err)
	}
	st.Override.Account = "mallory" // the answer is the caller's own copy
	if got := who(now.Add(time.Minute)); got != "bob" {
		t.Fatalf("after changing an answer's override, OnCallNow = %q, want bob", got)
	}
	if _, _, err := s.ClearOverride(r, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := who(now.Add(time.Hour)); got != "alice" {
		t.Errorf("after ClearOverride, OnCallNow = %q, want alice", got)
	}
	if got := who(now.Add(30 * time.Minute)); got != "bob" {
		t.Errorf("after ClearOverride, OnCallNow(before the clear) = %q, want bob", got)
	}
}

// A load whose transaction may have begun before an override's commit is not kept.
func TestOverrideCacheKeepsNoLoadFromBeforeADrop(t *testing.T) {
	var c overrideCache
	t0 := utc("2026-03-25T12:00:00Z")
	_, gen, ok := c.get(t0)
	if ok {
		t.Fatal("an empty cache answered")
	}
	c.drop() // a write committed while the load's transaction ran
	c.put(gen, t0, []Override{{ID: 1, Account: "old"}})
	if _, _, ok := c.get(t0); ok {
		t.Fatal("the cache kept a load from before a drop")
	}
	_, gen, _ = c.get(t0)
	c.put(gen, t0, []Override{{ID: 2, Account: "new"}})
	if list, _, ok := c.get(t0.Add(time.Hour)); !ok || len(list) != 1 || list[0].ID != 2 {
		t.Fatalf("get after a load = %+v, %v; want the load", list, ok)
	}
	if _, _, ok := c.get(t0.Add(-time.Nanosecond)); ok {
		t.Fatal("the cache answered for a moment before its list starts")
	}
}

// Readers asking all the time never make a writer see its own override missing, nor a cleared one.
func TestOnCallNowWhileOverridesChange(t *testing.T) {
	s, _ := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	now := utc("2026-03-25T12:00:00Z")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.OnCallNow(r, now); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 50 {
		who := fmt.Sprint("ops", i)
		if _, _, err := s.AddOverride(r, Override{Account: who, By: "carol", Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if st, err := s.OnCallNow(r, now); err != nil || st.Account != who {
			t.Fatalf("after override %d: OnCallNow = %q, %v; want %s", i, st.Account, err, who)
		}
		if _, _, err := s.ClearOverride(r, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if st, err := s.OnCallNow(r, now); err != nil || st.Account != "alice" {
			t.Fatalf("after clearing override %d: OnCallNow = %q, %v; want alice", i, st.Account, err)
		}
	}
	close(stop)
	wg.Wait()
}
