package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// On a full disk, health says so as long as real writes fail, although a small write would still fit in
// pages bbolt has freed: the probe needs real room on the disk, and a probe's own commit never clears the
// failing state. A real write that succeeds does; so does the probe once the disk has room again.
func TestWriteHealthOnAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the store goes on a small tmpfs that is then filled")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	s, err := Open(filepath.Join(dir, "opsbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(key string, size int) error {
		return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(key), make([]byte, size)) })
	}
	// Pages for bbolt to reuse: a large value written, then deleted.
	if err := put("ballast", 256<<10); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte("ballast")) }); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{64 << 10, 4 << 10, 1} {
		for {
			if _, err := f.Write(make([]byte, chunk)); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the disk: %v", err)
				}
				break
			}
		}
	}
	f.Close()

	if err := put("big", 1<<20); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("a 1 MiB write on a full disk = %v, want ErrWriteFailed", err)
	}
	for i := range 3 { // and it stays so, however often it is asked
		if err := s.WriteHealth(); err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("WriteHealth #%d after a write failed for want of space = %v, want the failure", i+1, err)
		}
	}
	// A small real write fits in the freed pages: the last real write succeeded, and health says so.
	if err := put("small", 100); err != nil {
		t.Fatalf("a small write into freed pages = %v", err)
	}
	if err := s.WriteHealth(); err != nil {
		t.Errorf("WriteHealth after a real write succeeded = %v", err)
	}
	if err := put("big", 1<<20); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("a 1 MiB write on a full disk = %v, want ErrWriteFailed", err)
	}
	// Room again: health comes back by itself, before any real write.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteHealth(); err != nil {
		t.Errorf("WriteHealth once the disk has room = %v", err)
	}
}
