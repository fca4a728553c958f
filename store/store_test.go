package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// mustOpen opens a store in a fresh temp dir and closes it at cleanup.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesBucketsAndSchema(t *testing.T) {
	s := mustOpen(t)
	v, err := s.SchemaVersion()
	if err != nil || v != SchemaVersionCurrent {
		t.Fatalf("SchemaVersion() = %d, %v; want %d", v, err, SchemaVersionCurrent)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				t.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy() = %v", err)
	}
}

func TestSecondOpenIsRefusedClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "is another opsbot running?") {
		t.Errorf("error %q does not say what to check", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second Open waited %v despite a 200ms timeout", time.Since(start))
	}
}

func TestCorruptFileIsRefusedNamingTheBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Audit(AuditEntry{Account: "alice", Command: "x"}); err != nil {
		t.Fatal(err)
	}
	backup, err := s.Backup(3)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Overwrite the pages after the two meta pages with garbage.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	for i := 2 * page; i < len(raw); i++ {
		raw[i] = 0xA5
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(corrupt) = %v, want ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), backup) {
		t.Errorf("error %q does not name the backup %s", err, backup)
	}

	// Garbage from the first byte (not even a bbolt file) is refused too.
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte{0x42}, 4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(garbage, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(garbage) = %v, want ErrCorrupt", err)
	}

	// The named backup opens and holds the data.
	b, err := Open(backup, Options{})
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer b.Close()
	if log, _ := b.AuditLog(1); len(log) != 1 || log[0].Account != "alice" {
		t.Fatalf("backup audit log = %+v", log)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, itob(uint64(SchemaVersionCurrent+5)))
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer than this opsbot") {
		t.Fatalf("Open(newer schema) = %v", err)
	}
}

func TestMigrationsRunOnceInOrder(t *testing.T) {
	saved := migrations
	defer func() { migrations = saved }()
	path := filepath.Join(t.TempDir(), "opsbot.db")
	// The migration counts its committed runs in the file (a run rolled back does not count).
	ranKey := []byte("test_migration_runs")
	migrations = append(append([]migration(nil), saved...), func(tx *bolt.Tx) error {
		n := uint64(0)
		if v := tx.Bucket(bucketMeta).Get(ranKey); v != nil {
			n = btoi(v)
		}
		return tx.Bucket(bucketMeta).Put(ranKey, itob(n+1))
	})
	ran := uint64(0)
	for range 2 {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.SchemaVersion()
		_ = s.db.View(func(tx *bolt.Tx) error { ran = btoi(tx.Bucket(bucketMeta).Get(ranKey)); return nil })
		s.Close()
		if v != len(migrations) {
			t.Fatalf("schema version %d, want %d", v, len(migrations))
		}
	}
	if ran != 1 {
		t.Fatalf("new migration committed %d times over two opens, want once", ran)
	}
}

func TestOutboxOrderAndIdempotentDone(t *testing.T) {
	s := mustOpen(t)
	for _, text := range []string{"first", "second", "third"} {
		if _, err := s.OutboxAdd(OutMsg{Target: "#ops", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.OutboxPending()
	if err != nil || len(got) != 3 || got[0].Text != "first" || got[2].Text != "third" {
		t.Fatalf("OutboxPending() = %+v, %v", got, err)
	}
	if err := s.OutboxDone(got[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxDone(got[1].ID); err != nil {
		t.Fatalf("second OutboxDone = %v, want nil (idempotent)", err)
	}
	if n, err := s.OutboxCount(); err != nil || n != 2 {
		t.Fatalf("OutboxCount() = %d, %v, want 2", n, err)
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OutboxAdd(OutMsg{Target: "#ops", Text: "P-1 paging alice"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.OutboxPending(); len(got) != 1 || got[0].Text != "P-1 paging alice" {
		t.Fatalf("after reopen OutboxPending() = %+v", got)
	}
}

func TestAuditNewestFirst(t *testing.T) {
	s := mustOpen(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	for i, cmd := range []string{"a", "b", "c"} {
		e, err := s.Audit(AuditEntry{Account: "alice", Command: cmd})
		if err != nil || e.ID != uint64(i+1) || !e.At.Equal(now) {
			t.Fatalf("Audit = %+v, %v", e, err)
		}
	}
	got, err := s.AuditLog(2)
	if err != nil || len(got) != 2 || got[0].Command != "c" || got[1].Command != "b" {
		t.Fatalf("AuditLog(2) = %+v, %v", got, err)
	}
}

func TestBackupIsConsistentAndPruned(t *testing.T) {
	s := mustOpen(t)
	tick := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
	if _, err := s.Audit(AuditEntry{Command: "before"}); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for range 5 {
		p, err := s.Backup(3)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	left, _ := filepath.Glob(s.Path() + ".backup-*")
	if len(left) != 3 {
		t.Fatalf("%d backups kept, want 3: %v", len(left), left)
	}
	if NewestBackup(s.Path()) != paths[4] {
		t.Fatalf("NewestBackup = %s, want %s", NewestBackup(s.Path()), paths[4])
	}
	if tmp, _ := filepath.Glob(s.Path() + ".backup-*.tmp"); len(tmp) != 0 {
		t.Fatalf("temp files left: %v", tmp)
	}
	b, err := Open(paths[4], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if log, _ := b.AuditLog(10); len(log) != 1 || log[0].Command != "before" {
		t.Fatalf("backup holds %+v", log)
	}
}

func BenchmarkCommit(b *testing.B) {
	s := mustOpen(b)
	b.ResetTimer()
	for range b.N {
		if _, err := s.Audit(AuditEntry{Account: "alice", Command: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAuditLaterGroupsAndDrainsOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		s.AuditLater(AuditEntry{Account: "alice", Command: fmt.Sprintf("c%d", i)})
	}
	if err := s.Close(); err != nil { // Close commits what is still queued
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log, err := s.AuditLog(1000)
	if err != nil || len(log) != 200 {
		t.Fatalf("after close and reopen: %d entries (%v), want 200", len(log), err)
	}
	seen := map[string]bool{}
	for i, e := range log {
		if seen[e.Command] || e.ID != uint64(200-i) {
			t.Fatalf("entry %d = %+v: duplicated or out of order", i, e)
		}
		seen[e.Command] = true
	}
	// Read-your-writes: a queued entry is in the log as soon as it is asked for.
	s.AuditLater(AuditEntry{Command: "fresh"})
	if log, _ := s.AuditLog(1); len(log) != 1 || log[0].Command != "fresh" {
		t.Fatalf("AuditLog right after AuditLater = %+v", log)
	}
}

// Close may be called twice (a deferred Close after an explicit one), also once the audit writer ran.
func TestCloseTwice(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.AuditLater(AuditEntry{Account: "alice", Command: "x"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// AuditLog shows an entry queued just before, also while the background writer is committing the queue.
func TestAuditLogSeesWhatWasQueued(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 300 {
		cmd := fmt.Sprintf("cmd-%d", i)
		s.AuditLater(AuditEntry{Account: "alice", Command: cmd})
		if i%3 == 0 {
			time.Sleep(time.Duration(i%13) * time.Millisecond) // sometimes the writer takes the queue first
		}
		log, err := s.AuditLog(1)
		if err != nil || len(log) != 1 || log[0].Command != cmd {
			t.Fatalf("AuditLog(1) right after queueing %s = %+v, %v", cmd, log, err)
		}
	}
}
