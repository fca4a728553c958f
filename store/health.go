package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var keyWriteProbe = []byte("write_probe")

// WriteHealth is nil unless the last commit failed and a probe write fails too; then it says since when
// writes fail and why (for /healthz). While writes succeed it costs nothing; after a failure it writes a
// timestamp in the meta bucket, so health comes back by itself when space or permission does.
func (s *Store) WriteHealth() error {
	if s.db.failing.Load() == nil {
		return nil
	}
	_ = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyWriteProbe, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
	f := s.db.failing.Load()
	if f == nil {
		return nil
	}
	return fmt.Errorf("writes failing since %s: %v", f.since.UTC().Format("2006-01-02 15:04:05 UTC"), f.err)
}
