package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// NotifyTask is one delivery of a page event to one external notifier (webhook, PagerDuty, e-mail). Tasks are
// stored in the same transaction as the page change, and delivered by the bot outside any transaction, in
// order per notifier, with retries.
type NotifyTask struct {
	ID       uint64 `json:"id"`
	Notifier string `json:"notifier"`
	// Event is trigger, update, escalate, exhausted, acknowledge or resolve.
	Event string    `json:"event"`
	Page  Page      `json:"page"` // the page as the event left it
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
	// Attempts failed so far; NextTry is when to try again (zero: now); LastError is the last failure.
	Attempts  int       `json:"attempts,omitempty"`
	NextTry   time.Time `json:"next_try,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

func notifyPrefix(notifier string) []byte { return append([]byte(notifier), 0) }

func enqueueTx(tx *bolt.Tx, notifiers []string, event string, p Page, note string, at time.Time) error {
	b := tx.Bucket(bucketNotify)
	for _, n := range notifiers {
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		t := NotifyTask{ID: id, Notifier: n, Event: event, Page: p, Note: note, At: at}
		if err := putJSON(b, append(notifyPrefix(n), itob(id)...), t); err != nil {
			return err
		}
	}
	return nil
}

// NotifyHead returns the oldest undelivered task of a notifier (ok is false when there is none).
func (s *Store) NotifyHead(notifier string) (t NotifyTask, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		prefix := notifyPrefix(notifier)
		k, v := tx.Bucket(bucketNotify).Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		ok = true
		return jsonUnmarshal(v, &t)
	})
	if err != nil {
		return t, false, fmt.Errorf("store: notify head %s: %w", notifier, err)
	}
	return t, ok, nil
}

// NotifyDone removes a task (delivered, or given up).
func (s *Store) NotifyDone(t NotifyTask) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNotify).Delete(append(notifyPrefix(t.Notifier), itob(t.ID)...))
	})
	if err != nil {
		return fmt.Errorf("store: notify done %d: %w", t.ID, err)
	}
	return nil
}

// NotifyRetry records a failed attempt (Attempts, NextTry, LastError) of a task still queued.
func (s *Store) NotifyRetry(t NotifyTask) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, key := tx.Bucket(bucketNotify), append(notifyPrefix(t.Notifier), itob(t.ID)...)
		if b.Get(key) == nil {
			return nil // done meanwhile
		}
		return putJSON(b, key, t)
	})
	if err != nil {
		return fmt.Errorf("store: notify retry %d: %w", t.ID, err)
	}
	return nil
}

// NotifyPending counts the undelivered tasks of a notifier.
func (s *Store) NotifyPending(notifier string) int {
	n := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		prefix := notifyPrefix(notifier)
		c := tx.Bucket(bucketNotify).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n
}

// NotifyQueues counts the undelivered tasks per notifier name, for every name that has any.
func (s *Store) NotifyQueues() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNotify).ForEach(func(k, _ []byte) error {
			if i := bytes.IndexByte(k, 0); i > 0 {
				out[string(k[:i])]++
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: notify queues: %w", err)
	}
	return out, nil
}
