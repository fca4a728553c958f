package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

var keyWriteProbe = []byte("write_probe")

// probeRoom is how much the health probe writes next to the database to prove there is room on the disk:
// far more than a write of the bot's needs, so a probe that passes was not lucky.
const probeRoom = 1 << 20

// WriteHealth is nil unless the last real write failed (a commit that carried anything but health probes);
// then it probes, and if the probe passes the failing state is cleared, so health comes back by itself when
// space or permission does. Otherwise it says since when writes fail and why (for /healthz). While writes
// succeed it costs nothing.
//
// The probe cannot pass by luck: on a full disk a small commit may still fit in pages bbolt has freed, while
// real writes fail. It writes and syncs probeRoom bytes in a file next to the database (there must be room
// on the disk), then commits a timestamp to the database (the file must take a commit: not read-only, not
// failing); a probe's commit alone never changes the failing state.
func (s *Store) WriteHealth() error {
	f := s.db.failing.Load()
	if f == nil {
		return nil
	}
	if err := s.probe(); err == nil {
		s.db.failing.CompareAndSwap(f, nil) // unless a real write failed meanwhile
	}
	if f = s.db.failing.Load(); f == nil {
		return nil
	}
	return fmt.Errorf("writes failing since %s: %v", f.since.UTC().Format("2006-01-02 15:04:05 UTC"), f.err)
}

// probe checks that the disk has room (probeRoom bytes written and synced next to the database) and that
// the database takes a commit.
func (s *Store) probe() error {
	tmp, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(make([]byte, probeRoom))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return s.db.probe(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyWriteProbe, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
}
