package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A database file cut at any page is refused as corrupt (naming the backup) or, when only the space bbolt
// preallocates was cut, opens with its data; bbolt reading past the end of the file never kills the process.
func TestOpenTruncatedFileIsRefusedNotACrash(t *testing.T) {
	dir := t.TempDir()
	path, raw := requestsFile(t, dir, 200)
	page, refused := os.Getpagesize(), 0
	for size := 2 * page; size < len(raw); size += page {
		// A new name each time: a refused file stays locked by the handle bbolt leaked when it panicked.
		cut := filepath.Join(dir, fmt.Sprintf("cut%d.db", size))
		backup := cut + ".backup-20240101T000000.000Z"
		if err := os.WriteFile(cut, raw[:size], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(path, backup); err != nil {
			t.Fatal(err)
		}
		c, err := Open(cut, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), backup) {
				t.Fatalf("cut to %d bytes: %v, want ErrCorrupt naming the backup", size, err)
			}
			refused++
			continue
		}
		if got, _, err := c.RequestsPage(1, 1000); err != nil || len(got) != 200 {
			t.Errorf("cut to %d bytes opened with %d requests, %v; want 200", size, len(got), err)
		}
		c.Close()
	}
	if refused == 0 {
		t.Error("no cut was refused")
	}
}

// An existing empty file is refused (bbolt would start a new, empty ledger in it), naming the backup.
func TestOpenEmptyFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opsbot.db")
	backup := path + ".backup-20240101T000000.000Z"
	for _, f := range []string{path, backup} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), backup) {
		t.Fatalf("Open(empty file) = %v, want ErrCorrupt saying it is empty and naming the backup", err)
	}
}

// A file shorter than bbolt's two meta pages (a copy cut short, a disk that filled) is refused as corrupt,
// naming the backup, whether or not its first meta page survived.
func TestOpenFileShorterThanTwoPagesIsRefused(t *testing.T) {
	dir := t.TempDir()
	_, raw := requestsFile(t, dir, 10)
	page := os.Getpagesize()
	for _, size := range []int{1, 100, page - 1, page, page + 100, 2*page - 1} {
		cut := filepath.Join(dir, fmt.Sprintf("short%d.db", size))
		backup := cut + ".backup-20240101T000000.000Z"
		for _, f := range []string{cut, backup} {
			if err := os.WriteFile(f, raw[:size], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Open(cut, Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), backup) {
			t.Errorf("Open(file of %d bytes) = %v, want ErrCorrupt naming the backup", size, err)
		}
	}
}

// A file with many damaged pages is refused, every time: the integrity check reads bbolt's checker to the
// end, so it never unmaps the file under the checker (a fatal fault, not a refusal).
func TestOpenBadlyDamagedFileIsRefusedNotACrash(t *testing.T) {
	dir := t.TempDir()
	_, raw := requestsFile(t, dir, 2000)
	page := os.Getpagesize()
	damaged := 0
	for off := 4 * page; off+page <= len(raw); off += page {
		if raw[off+8] == 0x02 { // a leaf page (flags at byte 8): make its first element point far out of order
			raw[off+16], raw[off+17] = 0xff, 0x7f
			damaged++
		}
	}
	if damaged < 20 {
		t.Fatalf("only %d leaf pages to damage", damaged)
	}
	for i := range 20 {
		cut := filepath.Join(dir, fmt.Sprintf("damaged%d.db", i))
		if err := os.WriteFile(cut, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if c, err := Open(cut, Options{}); err == nil {
			c.Close()
			t.Fatalf("a file with %d damaged pages opened", damaged)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("open %d: %v, want ErrCorrupt", i, err)
		}
	}
}

// requestsFile makes opsbot.db in dir holding n requests and returns its path and bytes.
func requestsFile(t *testing.T, dir string, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := s.OpenRequest("bob", strings.Repeat("x", 300), "", false); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// waitIntegrity waits until the store's integrity check has finished and returns its status.
func waitIntegrity(t *testing.T, s *Store) IntegrityStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.IntegrityStatus()
		if st.State != IntegrityPending {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("integrity check still pending after 20s: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// background are options that leave the full check to the background, at once.
var background = Options{FullCheckBelow: -1, CheckDelay: -1}

// A store closed cleanly is checked in the background at the next open (when not small); one that was not
// closed (its marker missing: the run crashed) is checked in full before Open returns.
func TestIntegrityCheckAtOpenOnlyAfterAnUncleanShutdown(t *testing.T) {
	dir := t.TempDir()
	path, _ := requestsFile(t, dir, 300)

	s, err := Open(path, background)
	if err != nil {
		t.Fatal(err)
	}
	if st := waitIntegrity(t, s); st.State != IntegrityOK || st.AtOpen || st.Done != st.Total || st.Total == 0 {
		t.Errorf("after a clean shutdown: %+v, want ok from the background check of every bucket", st)
	}
	if got, _, err := s.RequestsPage(1, 1000); err != nil || len(got) != 300 {
		t.Fatalf("%d requests, %v", len(got), err)
	}
	s.Close()

	removeCleanMarker(t, path) // as if the run had crashed
	s, err = Open(path, background)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.IntegrityStatus(); st.State != IntegrityOK || !st.AtOpen || st.Reason != "unclean shutdown" {
		t.Errorf("after an unclean shutdown: %+v, want ok, checked at open", st)
	}
	s.Close()

	s, err = Open(path, Options{}) // small: checked at open whatever the marker says
	if err != nil {
		t.Fatal(err)
	}
	if st := s.IntegrityStatus(); st.State != IntegrityOK || !st.AtOpen || st.Reason != "small file" {
		t.Errorf("small file: %+v, want ok, checked at open", st)
	}
	s.Close()
}

// removeCleanMarker deletes Close's marker from a closed store file.
func removeCleanMarker(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCleanClose) == nil {
			return errors.New("no clean-shutdown marker after Close")
		}
		return tx.Bucket(bucketMeta).Delete(keyCleanClose)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// damageKeyOrder swaps two keys' bytes in the first leaf page found with two 8-byte keys in order (a bad
// sector's worth of damage that bbolt's checker names), and returns the file's bytes.
func damageKeyOrder(t *testing.T, raw []byte) []byte {
	t.Helper()
	page := os.Getpagesize()
	ne := binary.NativeEndian
	for off := 4 * page; off+page <= len(raw); off += page {
		if ne.Uint16(raw[off+8:]) != leafFlag || ne.Uint16(raw[off+10:]) < 3 {
			continue
		}
		e0, e1 := off+16, off+32
		k0 := e0 + int(ne.Uint32(raw[e0+4:]))
		k1 := e1 + int(ne.Uint32(raw[e1+4:]))
		if ne.Uint32(raw[e0+8:]) != 8 || ne.Uint32(raw[e1+8:]) != 8 {
			continue
		}
		a, b := slices.Clone(raw[k0:k0+8]), slices.Clone(raw[k1:k1+8])
		copy(raw[k0:], b)
		copy(raw[k1:], a)
		return raw
	}
	t.Fatal("no leaf page to damage")
	return nil
}

// Damage that the background check finds is reported (with the backup to restore) without stopping the
// store; the next start checks every page first (the damaged store is not marked clean) and refuses.
func TestIntegrityBackgroundCheckReportsDamage(t *testing.T) {
	dir := t.TempDir()
	path, raw := requestsFile(t, dir, 2000)
	backup := path + ".backup-20240101T000000.000Z"
	if err := os.WriteFile(backup, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, damageKeyOrder(t, raw), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, background)
	if err != nil {
		t.Fatalf("Open found the damage itself (%v); it should leave it to the background check", err)
	}
	st := waitIntegrity(t, s)
	if st.State != IntegrityCorrupt || !errors.Is(st.Err(), ErrCorrupt) || !strings.Contains(st.Problem, "cp "+backup+" "+path) {
		t.Fatalf("status %+v, want corrupt naming the backup", st)
	}
	if _, err := s.OpenRequest("bob", "still answering", "", false); err != nil {
		t.Errorf("a write after the damage was found: %v", err)
	}
	s.Close()
	if _, err := Open(path, background); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), backup) {
		t.Fatalf("reopening the damaged store: %v, want ErrCorrupt naming the backup", err)
	}
}

// Close stops a background check in progress between two of its pieces, promptly, and the store opens
// again (the file is whole: Close closed it).
func TestIntegrityCloseStopsTheBackgroundCheck(t *testing.T) {
	dir := t.TempDir()
	path, _ := requestsFile(t, dir, 3000)
	for range 5 {
		s, err := Open(path, background)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Close took %v during the check", took)
		}
		if st := s.IntegrityStatus(); st.State == IntegrityCorrupt {
			t.Fatalf("status %+v", st)
		}
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// The background check runs while writers commit, and finds nothing wrong: bbolt's checker reads the
// freelist, which commits change, so each piece is checked when no commit runs (with -race, a read of the
// freelist during a commit is a reported race; without, a false "reachable freed" or a crash).
func TestIntegrityBackgroundCheckWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path, _ := requestsFile(t, dir, 3000)
	s, err := Open(path, background)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.OpenRequest(fmt.Sprint("w", w), strings.Repeat("z", 200), "", false)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.UpdateRequest(r.ID-uint64(i%50), RequestChange{Action: RequestComment, By: "alice", ByOps: true, Text: "x"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	st := waitIntegrity(t, s)
	close(stop)
	wg.Wait()
	if st.State != IntegrityOK {
		t.Fatalf("background check during writes: %+v", st)
	}
}

// A store last written by a build that never wrote the clean-shutdown marker (schema 2) is not taken for a
// crashed one: the first start of this build checks it in the background, and migrates it.
func TestIntegrityFirstStartAfterUpgradeChecksInTheBackground(t *testing.T) {
	dir := t.TempDir()
	path, _ := requestsFile(t, dir, 300)
	toSchema(t, path, 2, bucketDeployNewest)
	s, err := Open(path, background)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := waitIntegrity(t, s); st.State != IntegrityOK || st.AtOpen {
		t.Errorf("first start after an upgrade: %+v, want ok from the background check", st)
	}
	if v, err := s.SchemaVersion(); err != nil || v != SchemaVersionCurrent {
		t.Errorf("schema %d, %v; want %d", v, err, SchemaVersionCurrent)
	}
}
