package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	if e.At.IsZero() {
		e.At = s.Now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = id
		return putJSON(b, itob(id), e)
	})
	if err != nil {
		return e, fmt.Errorf("store: audit: %w", err)
	}
	return e, nil
}

// AuditLog returns the newest n entries, newest first, after committing any queued ones (so a write is in
// the log as soon as its command has answered).
func (s *Store) AuditLog(n int) ([]AuditEntry, error) {
	s.flushAudits()
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

// auditWriter commits audit entries in groups from one goroutine: entries queued while a commit is running go
// into the next one, so concurrent commands share an fsync and no command waits for its audit entry.
type auditWriter struct {
	mu      sync.Mutex
	queue   []AuditEntry
	since   time.Time     // when the oldest queued entry was queued
	wake    chan struct{} // the first entry of a batch is queued
	full    chan struct{} // auditBatch entries are queued
	stop    chan struct{}
	done    chan struct{}
	started bool
	closed  bool // Close ran: a second Close must not close stop again
	// gathering is set from the first queued entry until the writer finds the queue empty: entries queued
	// meanwhile need no wake-up (one wake-up per batch, not per command).
	gathering bool
	// flushing is held while a batch is taken and committed, so a flush (AuditLog's) that finds the queue
	// empty because the writer has just taken it waits for that batch to be committed.
	flushing sync.Mutex
}

// AuditLater queues an audit entry and returns at once; a background writer commits queued entries in
// groups (at most auditDelay after the first). Close commits what is queued. A hard crash can lose the
// entries of the last 10 ms (never the records the commands themselves committed); use Audit where an entry
// must be on disk before going on.
func (s *Store) AuditLater(e AuditEntry) {
	if e.At.IsZero() {
		e.At = s.Now().UTC()
	}
	w := &s.audits
	w.mu.Lock()
	if w.closed { // after Close: nobody would write it
		w.mu.Unlock()
		s.auditsWritten([]AuditEntry{e}, errors.New("store closed"))
		return
	}
	if !w.started {
		w.started = true
		w.wake, w.full, w.stop, w.done = make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go s.runAuditWriter()
	}
	if len(w.queue) == 0 {
		w.since = time.Now()
	}
	w.queue = append(w.queue, e)
	wake, full := !w.gathering, len(w.queue) >= auditBatch
	w.gathering = true
	w.mu.Unlock()
	if wake {
		signal(w.wake)
	}
	if full {
		signal(w.full)
	}
}

// auditDelay and auditBatch bound how long and how many entries the writer gathers before a commit: long
// enough that the commands' own commits rarely wait behind an audit commit (bbolt has one writer), short
// enough that a crash loses at most the last moment of the log.
const auditBatch = 256

var auditDelay = 10 * time.Millisecond // a variable for tests

func (s *Store) runAuditWriter() {
	w := &s.audits
	defer close(w.done)
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			s.flushAudits()
			return
		}
		for gathering := true; gathering; {
			gather := time.NewTimer(auditDelay)
			select {
			case <-gather.C:
			case <-w.full:
			case <-w.stop:
				gather.Stop()
				s.flushAudits()
				return
			}
			gather.Stop()
			s.flushAudits()
			w.mu.Lock()
			w.gathering = len(w.queue) > 0
			gathering = w.gathering
			w.mu.Unlock()
		}
	}
}

// signal does a non-blocking send on a channel with a buffer of one.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// flushAudits commits everything queued in one transaction.
func (s *Store) flushAudits() {
	w := &s.audits
	w.flushing.Lock()
	defer w.flushing.Unlock()
	w.mu.Lock()
	batch := w.queue
	w.queue = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	s.auditsWritten(batch, s.db.Update(writeAudits(batch)))
}

// auditRider hands the queued audit entries to the write group about to commit (boltDB.riders), so that while
// commands keep writing, their audit entries ride along in a command's commit instead of costing commits of
// their own. It takes nothing while a flush is committing, nor entries younger than half the gathering delay
// (unless a full batch waits): they are promised within auditDelay, not sooner, and a commit that carries them
// writes the audit log's pages too, so a burst's entries ride in one or two of its commits rather than in each.
func (s *Store) auditRider() *groupWrite {
	w := &s.audits
	if !w.flushing.TryLock() {
		return nil
	}
	w.mu.Lock()
	var batch []AuditEntry
	if len(w.queue) >= auditBatch || time.Since(w.since) >= auditDelay/2 {
		batch = w.queue
		w.queue = nil
	}
	w.mu.Unlock()
	if len(batch) == 0 {
		w.flushing.Unlock()
		return nil
	}
	return &groupWrite{fn: writeAudits(batch), after: func(err error) {
		s.auditsWritten(batch, err)
		w.flushing.Unlock()
	}}
}

// writeAudits is the write function of a batch of audit entries.
func writeAudits(batch []AuditEntry) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		for i := range batch {
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			batch[i].ID = id
			if err := putJSON(b, itob(id), batch[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// auditsWritten counts and logs a batch of audit entries whose commit failed.
func (s *Store) auditsWritten(batch []AuditEntry, err error) {
	if err != nil {
		s.auditErrors.Add(int64(len(batch)))
		slog.Error("store: audit entries lost", "count", len(batch), "err", err)
	}
}

// AuditErrors counts audit entries that could not be written by the background writer.
func (s *Store) AuditErrors() int64 { return s.auditErrors.Load() }

// closeAudits stops the writer after it has committed everything queued.
func (s *Store) closeAudits() {
	w := &s.audits
	w.mu.Lock()
	started := w.started && !w.closed
	w.closed = true
	w.mu.Unlock()
	if started {
		close(w.stop)
		<-w.done
	}
}
