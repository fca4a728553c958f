package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OutMsg is a message that must reach IRC even if the bot is disconnected when it is produced
// (pages, incident notices, reminders). It stays in the outbox until it has been written to the server.
type OutMsg struct {
	ID       uint64    `json:"id"`
	Target   string    `json:"target"`
	Text     string    `json:"text"`
	Priority int       `json:"priority"`
	Notice   bool      `json:"notice,omitempty"`
	Queued   time.Time `json:"queued"`
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

// OutboxAdd stores m and returns it with its id and queue time set.
func (s *Store) OutboxAdd(m OutMsg) (OutMsg, error) {
	if m.Queued.IsZero() {
		m.Queued = s.Now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		m.ID = id
		return putJSON(b, itob(id), m)
	})
	if err != nil {
		return m, fmt.Errorf("store: outbox add: %w", err)
	}
	return m, nil
}

// OutboxPending returns every undelivered message, oldest first.
func (s *Store) OutboxPending() ([]OutMsg, error) {
	var out []OutMsg
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var m OutMsg
			if err := jsonUnmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox pending: %w", err)
	}
	return out, nil
}

// OutboxDone removes a delivered message. Removing an unknown id is not an error (delivery is idempotent).
func (s *Store) OutboxDone(id uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(itob(id)) })
	if err != nil {
		return fmt.Errorf("store: outbox done %d: %w", id, err)
	}
	return nil
}

// OutboxCount is the number of undelivered messages.
func (s *Store) OutboxCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketOutbox).Stats().KeyN; return nil })
	if err != nil {
		return 0, fmt.Errorf("store: outbox count: %w", err)
	}
	return n, nil
}
