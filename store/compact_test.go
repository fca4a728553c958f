package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Compact makes a pruned store small again, keeps every record and id sequence, and keeps the original as
// the newest backup; it refuses a store that is open.
func TestCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := s.OpenRequest("bob", strings.Repeat("x", 300), "", false); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3000 {
		s.AuditLater(AuditEntry{At: time.Date(2020, 1, 1, 0, 0, i, 0, time.UTC), Account: "alice", Command: "x", Args: strings.Repeat("y", 200)})
	}
	if _, err := s.AuditLog(1); err != nil {
		t.Fatal(err)
	}
	for {
		if n, err := s.PruneAudit(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), 1000); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	if _, err := Compact(path, Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("compacting an open store: %v, want ErrLocked", err)
	}
	s.Close()

	res, err := Compact(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.After >= res.Before/2 || res.Before == 0 {
		t.Errorf("compacted %d -> %d bytes, want less than half", res.Before, res.After)
	}
	if NewestBackup(path) != res.Backup {
		t.Errorf("newest backup %q, want the original %q", NewestBackup(path), res.Backup)
	}
	if _, err := os.Stat(path + ".compact.tmp"); err == nil {
		t.Error("the temporary copy was left behind")
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.IntegrityStatus(); st.State != IntegrityOK {
		t.Errorf("integrity after compaction: %+v", st)
	}
	if got, n, err := s.RequestsPage(1, 1000); err != nil || len(got) != 200 || n != 200 {
		t.Fatalf("%d requests (total %d), %v; want 200", len(got), n, err)
	}
	if r, err := s.OpenRequest("bob", "after", "", false); err != nil || r.ID != 201 {
		t.Errorf("next request %d, %v; want R-201 (the sequence kept)", r.ID, err)
	}
}
