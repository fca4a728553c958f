package store

import (
	"errors"
	"sync/atomic"

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
	onFail atomic.Pointer[func(error)]
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
	if err == nil || fnFailed {
		return err
	}
	if f := d.onFail.Load(); f != nil {
		(*f)(err)
	}
	return writeFailure{err}
}

// OnWriteFailure sets the function called for every failed commit (for metrics), replacing an earlier one.
func (s *Store) OnWriteFailure(f func(error)) { s.db.onFail.Store(&f) }
