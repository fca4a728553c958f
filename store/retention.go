package store

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Retention. The audit log and the webhook's delivery ids are the only records kept for a while rather
// than for good: pruned in small batches (one short transaction each), they stop the file from growing with
// them; bbolt reuses the freed pages (the file never shrinks by itself: see Compact).

// DefaultAuditRetention is how long audit entries are kept: long enough for a yearly audit.
const DefaultAuditRetention = 400 * 24 * time.Hour

// DefaultDeliveryRetention is how long webhook delivery ids are kept for idempotency. A redelivery is
// signed with a timestamp within 5 minutes of the bot's clock, so it comes in minutes, not weeks.
const DefaultDeliveryRetention = 30 * 24 * time.Hour

// PruneAudit deletes up to limit audit entries, oldest first, written before before, in one transaction,
// and returns how many it deleted (fewer than limit: none older is left).
func (s *Store) PruneAudit(before time.Time, limit int) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var old [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
			var e struct {
				At time.Time `json:"at"`
			}
			if err := jsonUnmarshal(v, &e); err != nil {
				return fmt.Errorf("audit entry %d: %w", btoi(k), err)
			}
			if !e.At.Before(before) { // the log is in time order (ids are given as entries are written)
				break
			}
			old = append(old, bytes.Clone(k))
		}
		n = len(old)
		return deleteKeys(b, old)
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune audit: %w", err)
	}
	return n, nil
}

// deliveryScan is where the sweep of the delivery ids goes on (they are keyed by the CI's ids, in no time
// order, so pruning them sweeps the bucket a batch at a time).
type deliveryScan struct {
	mu   sync.Mutex
	next []byte // nil: from the start
}

// PruneDeliveries deletes webhook delivery ids recorded before before, looking at up to limit of them in one
// transaction, from where the last call stopped. more is false once the sweep has reached the end of the
// bucket (the next call starts it again from the beginning).
func (s *Store) PruneDeliveries(before time.Time, limit int) (pruned int, more bool, err error) {
	s.deliveryScan.mu.Lock()
	defer s.deliveryScan.mu.Unlock()
	from := s.deliveryScan.next
	var next []byte
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeployDeliveries)
		c := b.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		var old [][]byte
		for seen := 0; k != nil && seen < limit; k, v = c.Next() {
			seen++
			var r deliveryRecord
			if jsonUnmarshal(v, &r) != nil || r.At.IsZero() {
				continue // not a record this build wrote: kept
			}
			if r.At.Before(before) {
				old = append(old, bytes.Clone(k))
			}
		}
		next = nil
		if k != nil {
			next = bytes.Clone(k)
		}
		pruned = len(old)
		return deleteKeys(b, old)
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	s.deliveryScan.next = next
	return pruned, next != nil, nil
}

// deleteKeys deletes keys from b (collected first: deleting under a cursor can skip the next key).
func deleteKeys(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PruneExpired prunes to the end what is past its retention (zero: kept), in batches of a thousand, and
// returns how much it removed: the retention job run to completion, for opsbot compact before its copy.
func (s *Store) PruneExpired(now time.Time, audit, deliveries time.Duration) (int, error) {
	total := 0
	for n := 1000; audit > 0 && n == 1000; {
		var err error
		if n, err = s.PruneAudit(now.Add(-audit), 1000); err != nil {
			return total, err
		}
		total += n
	}
	s.deliveryScan.mu.Lock()
	s.deliveryScan.next = nil // a whole sweep, from the start
	s.deliveryScan.mu.Unlock()
	for more := deliveries > 0; more; {
		n, m, err := s.PruneDeliveries(now.Add(-deliveries), 1000)
		if err != nil {
			return total, err
		}
		total, more = total+n, m
	}
	return total, nil
}
