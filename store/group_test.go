package store

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every write group in this package's tests runs twice, the first time rolled back (boltDB.rehearse), so a
// write function that is not safe to run again shows as a wrong result in the test that uses it.
func TestMain(m *testing.M) {
	rehearseWrites = true
	os.Exit(m.Run())
}

// 50 writers at once share commits, and every write is stored once.
func TestGroupCommitSharesCommits(t *testing.T) {
	s := mustOpen(t)
	s.db.rehearse = false
	const writers, each = 50, 20
	c0, w0 := s.WriteStats()
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				if _, err := s.OpenRequest(fmt.Sprintf("user%d", i), fmt.Sprintf("request %d/%d", i, j), "", false); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	reqs, err := s.OpenRequests("")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if seen[r.Text] {
			t.Errorf("request %q stored twice", r.Text)
		}
		seen[r.Text] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d requests stored, want %d", len(seen), writers*each)
	}
	c, w := s.WriteStats()
	c, w = c-c0, w-w0
	if w != writers*each || c >= w {
		t.Fatalf("%d writes in %d commits: want %d writes sharing commits", w, c, writers*each)
	}
	t.Logf("%d writes in %d commits (%.1f per commit)", w, c, float64(w)/float64(c))
}

// A failing or panicking write in a group changes nothing and gets its own error (or panic); the others are
// committed as if each had run alone, in order.
func TestGroupCommitFailureIsolated(t *testing.T) {
	s := mustOpen(t)
	s.db.rehearse = false
	bucket := []byte("grouptest")
	if err := s.db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		t.Fatal(err)
	}
	// Hold the lead (and bbolt's writer lock) so that the writes below queue up and form one group.
	release, holding := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.db.Update(func(*bolt.Tx) error { close(holding); <-release; return nil })
	}()
	<-holding

	errBoom := errors.New("boom")
	const n = 9
	runs := make([]int, n)
	results := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					results[i] = fmt.Sprint("panic: ", r)
				}
			}()
			err := s.db.Update(func(tx *bolt.Tx) error {
				runs[i]++ // only the group's leader runs functions, one at a time
				b := tx.Bucket(bucket)
				if err := b.Put(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
					return err
				}
				// A counter every successful write increments: a write run twice must not count twice.
				c := 0
				if v := b.Get([]byte("count")); v != nil {
					c = int(btoi(v))
				}
				if err := b.Put([]byte("count"), itob(uint64(c+1))); err != nil {
					return err
				}
				switch i {
				case 3, 7:
					return errBoom
				case 5:
					panic("write 5 panicked")
				}
				return nil
			})
			results[i] = err
		})
		waitQueued(t, s, i+1)
	}
	close(release)
	wg.Wait()

	for i := range n {
		var want any
		switch i {
		case 3, 7:
			want = errBoom
		case 5:
			want = "panic: write 5 panicked"
		}
		if fmt.Sprint(results[i]) != fmt.Sprint(want) {
			t.Errorf("write %d: result %v, want %v", i, results[i], want)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for i := range n {
			stored := b.Get(fmt.Appendf(nil, "k%d", i)) != nil
			if failed := i == 3 || i == 5 || i == 7; stored == failed {
				t.Errorf("write %d: stored %v, failed %v", i, stored, failed)
			}
		}
		if got := btoi(b.Get([]byte("count"))); got != n-3 {
			t.Errorf("count = %d, want %d (one per successful write)", got, n-3)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writes before a failure ran again after it; the failing ones ran once.
	if runs[0] < 2 || runs[3] != 1 || runs[5] != 1 || runs[7] != 1 {
		t.Errorf("runs = %v: want writes before a failure rerun and failures run once", runs)
	}
}

// waitQueued waits until n writes wait for the next group.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.db.gmu.Lock()
		q := len(s.db.queue)
		s.db.gmu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Queued audit entries ride along in the next write's commit once they are half the gathering delay old: no
// commit of their own, no wait for the writer's flush. Younger ones wait, so that a burst's commits do not each
// carry the audit log's newest entries; the log still shows them at once (AuditLog flushes).
func TestAuditEntriesRideAlong(t *testing.T) {
	saved := auditDelay
	auditDelay = time.Hour                   // the writer's own flush must not come first
	t.Cleanup(func() { auditDelay = saved }) // after the store's Close, which stops the writer
	s := mustOpen(t)
	stored := func() (n int) {
		_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketAudit).Stats().KeyN; return nil })
		return n
	}
	write := func(text string) (commits int64) {
		c0, _ := s.WriteStats()
		if _, err := s.OpenRequest("alice", text, "", false); err != nil {
			t.Fatal(err)
		}
		c1, _ := s.WriteStats()
		return c1 - c0
	}
	for i := range 3 {
		s.AuditLater(AuditEntry{Account: "alice", Command: fmt.Sprintf("cmd %d", i)})
	}
	if c, n := write("too soon"), stored(); n != 0 || c != 1 {
		t.Fatalf("entries just queued: %d stored by the next write (%d commits), want 0 (1)", n, c)
	}
	s.audits.mu.Lock()
	s.audits.since = s.audits.since.Add(-auditDelay / 2) // as if queued half the delay ago
	s.audits.mu.Unlock()
	if c, n := write("a request"), stored(); n != 3 || c != 1 {
		t.Fatalf("after one write: %d audit entries stored in %d commits, want 3 in 1", n, c)
	}
	s.AuditLater(AuditEntry{Account: "alice", Command: "cmd 3"})
	if log, err := s.AuditLog(10); err != nil || len(log) != 4 || log[0].Command != "cmd 3" {
		t.Fatalf("audit log %+v (%v), want the 4 entries, the newest first", log, err)
	}
}

// A panic of bbolt's own during a group's commit reaches every writer of the group, and the store goes on
// taking writes: the lead is not lost with the panicking goroutine.
func TestGroupCommitPanicInCommitReleasesTheLead(t *testing.T) {
	s := mustOpen(t)
	s.db.rehearse = false
	release, holding := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.db.Update(func(*bolt.Tx) error { close(holding); <-release; return nil })
	}()
	<-holding
	results := make([]any, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			defer func() { results[i] = recover() }()
			_ = s.db.Update(func(tx *bolt.Tx) error {
				if i == 1 {
					tx.OnCommit(func() { panic("commit hook panicked") }) // runs inside bbolt's Commit
				}
				return nil
			})
		})
		waitQueued(t, s, i+1)
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if fmt.Sprint(r) != "commit hook panicked" {
			t.Errorf("writer %d: recovered %v, want the commit's panic", i, r)
		}
	}
	writesStillCommit(t, s)
}

// A panic outside the write functions and bbolt (here: a rider's result hook) still leaves every writer
// answered and the lead handed on.
func TestGroupCommitPanicInHookReleasesTheLead(t *testing.T) {
	s := mustOpen(t)
	s.db.rehearse = false
	once := true
	s.db.riders = func() *groupWrite {
		if !once {
			return nil
		}
		once = false
		return &groupWrite{fn: func(*bolt.Tx) error { return nil }, after: func(error) { panic("hook panicked") }}
	}
	if _, err := s.OpenRequest("alice", "carries the rider", "", false); err != nil {
		t.Fatalf("the write whose group carried the panicking hook: %v", err)
	}
	writesStillCommit(t, s)
}

// An audit entry queued after Close is counted as lost, not dropped silently.
func TestAuditLaterAfterCloseIsCounted(t *testing.T) {
	s := mustOpen(t)
	s.Close()
	s.AuditLater(AuditEntry{Account: "alice", Command: "late"})
	if n := s.AuditErrors(); n != 1 {
		t.Fatalf("AuditErrors = %d after an entry queued past Close, want 1", n)
	}
}

// writesStillCommit fails unless a write commits within 5 s: after a panic, the lead must not be lost.
func writesStillCommit(t *testing.T, s *Store) {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := s.OpenRequest("alice", "after the panic", "", false); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write after the panic: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a write after the panic never returned: the lead was lost")
	}
}

// A leader told of writes about to arrive (HoldCommits) waits for them, so that they share its commit instead
// of waiting for it; once told there are none left, it commits at once.
func TestGroupCommitHoldsForWritesAboutToArrive(t *testing.T) {
	saved := maxHold
	maxHold = time.Minute // only the nudge ends the wait
	t.Cleanup(func() { maxHold = saved })
	s := mustOpen(t)
	s.db.rehearse = false
	var pending atomic.Bool
	pending.Store(true)
	nudge := s.HoldCommits(pending.Load)
	c0, w0 := s.WriteStats()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			if _, err := s.OpenRequest("alice", fmt.Sprintf("request %d", i), "", false); err != nil {
				t.Error(err)
			}
		})
		waitQueued(t, s, i+1) // the first one leads and waits; the second one queues behind it
	}
	nudge() // a stale nudge: still pending, the leader goes on waiting
	time.Sleep(20 * time.Millisecond)
	if c, _ := s.WriteStats(); c != c0 {
		t.Fatalf("%d commits while writes were about to arrive, want none", c-c0)
	}
	pending.Store(false)
	nudge()
	wg.Wait()
	c, w := s.WriteStats()
	if c-c0 != 1 || w-w0 != 2 {
		t.Fatalf("%d writes in %d commits, want 2 in 1", w-w0, c-c0)
	}
}

// The hold is bounded: a leader told of writes that never arrive commits after maxHold.
func TestGroupCommitHoldIsBounded(t *testing.T) {
	saved := maxHold
	maxHold = 50 * time.Millisecond
	t.Cleanup(func() { maxHold = saved })
	s := mustOpen(t)
	s.HoldCommits(func() bool { return true })
	start := time.Now()
	if _, err := s.OpenRequest("alice", "request", "", false); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < maxHold {
		t.Fatalf("the write returned after %s, before the hold's bound %s", took, maxHold)
	}
	writesStillCommit(t, s)
}
