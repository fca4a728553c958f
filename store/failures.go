package store

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrWriteFailed marks the error of a write whose commit failed: the disk is full, the file is read-only or
// the disk fails. Nothing of that transaction was stored, and the store keeps working: bbolt rolls the
// transaction back, and the next write succeeds once the cause is gone. Test with errors.Is.
var ErrWriteFailed = errors.New("store: write failed")

// writeFailure wraps a failed commit's error without changing its text.
type writeFailure struct{ err error }

func (e writeFailure) Error() string        { return e.err.Error() }
func (e writeFailure) Unwrap() error        { return e.err }
func (e writeFailure) Is(target error) bool { return target == ErrWriteFailed }

// boltDB is the bbolt handle with every write transaction's failure marked and reported, so that a failed
// commit is told apart from a handler's own error wherever it surfaces (commands, jobs, outbox, HTTP).
type boltDB struct {
	*bolt.DB
	onFail  atomic.Pointer[func(error)]
	failing atomic.Pointer[writeState] // nil while the last commit succeeded
}

// writeState is a run of failed commits: since the first, and the latest error.
type writeState struct {
	since time.Time
	err   error
}

// Update is bolt.DB.Update; when the transaction's function succeeded but the commit did not, the error
// is a writeFailure and the failure hook is called.
func (d *boltDB) Update(fn func(*bolt.Tx) error) error {
	fnFailed := false
	err := d.DB.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			fnFailed = true
			return err
		}
		return nil
	})
	if err == nil {
		d.failing.Store(nil)
	}
	if err == nil || fnFailed {
		return err
	}
	since := time.Now()
	if old := d.failing.Load(); old != nil {
		since = old.since
	}
	d.failing.Store(&writeState{since: since, err: err})
	if f := d.onFail.Load(); f != nil {
		(*f)(err)
	}
	return writeFailure{err}
}

// OnWriteFailure sets the function called for every failed commit (for metrics), replacing an earlier one.
func (s *Store) OnWriteFailure(f func(error)) { s.db.onFail.Store(&f) }

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
