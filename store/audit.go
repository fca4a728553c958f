package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry records one write command: who ran it, when, what, and how it ended.
type AuditEntry struct {
	ID      uint64    `json:"id"`
	At      time.Time `json:"at"`
	Account string    `json:"account"`
	Nick    string    `json:"nick"`
	Command string    `json:"command"`
	Args    string    `json:"args"`
	Result  string    `json:"result"`
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(e AuditEntry) (AuditEntry, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = id
		if e.At.IsZero() {
			e.At = s.Now().UTC()
		}
		return putJSON(b, itob(id), e)
	})
	if err != nil {
		return e, fmt.Errorf("store: audit: %w", err)
	}
	return e, nil
}

// AuditLog returns the newest n entries, newest first.
func (s *Store) AuditLog(n int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var e AuditEntry
			if err := jsonUnmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}
