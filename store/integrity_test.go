package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
