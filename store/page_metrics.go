package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// EscalationCounts counts the pages waiting for an escalation step (the due-time index of open,
// unacknowledged pages) and, of those, the ones whose step was due at or before now. It reads only that
// index, never the pages' history.
func (s *Store) EscalationCounts(now time.Time) (pending, overdue int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPagesDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			pending++
			if int64(btoi(k[:8])) <= now.UnixNano() {
				overdue++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: escalation counts: %w", err)
	}
	return pending, overdue, nil
}
