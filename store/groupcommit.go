package store

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
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

// boltDB is the bbolt handle with group commit, and with every write transaction's failure marked and
// reported, so that a failed commit is told apart from a handler's own error wherever it surfaces (commands,
// jobs, outbox, HTTP).
type boltDB struct {
	*bolt.DB
	onFail  atomic.Pointer[func(error)]
	failing atomic.Pointer[writeState] // nil while the last commit succeeded

	commits, writes atomic.Int64 // transactions committed, and write functions they carried

	gmu     sync.Mutex
	queue   []*groupWrite // writes waiting for the next group
	leading bool          // a writer is committing a group; the next one is handed the lead
	// riders, when set, returns a write to carry along in the group about to commit (the queued audit
	// entries), or nil. Its result goes to its after function.
	riders func() *groupWrite
	// hold, when set, tells of writes about to arrive (see Store.HoldCommits).
	hold atomic.Pointer[commitHold]
	// rehearse runs every group once and rolls it back before running it for real (store tests set it):
	// a write function that is not safe to run twice then shows in the tests' results.
	rehearse bool
}

// groupWrite is one Update waiting for its group's commit.
type groupWrite struct {
	fn    func(*bolt.Tx) error
	done  chan error      // the result, once
	lead  chan struct{}   // this writer is to commit the next group
	after func(err error) // instead of done, for a rider nobody waits for
	ended bool            // finish ran (only the group's leader touches it)
	probe bool            // the health probe's write: its outcome alone does not change the failing state
}

// finish delivers the write's result.
func (w *groupWrite) finish(err error) {
	w.ended = true
	if w.after != nil {
		w.after(err)
		return
	}
	w.done <- err
}

// writeState is a run of failed commits: since the first, and the latest error.
type writeState struct {
	since time.Time
	err   error
}

// Update runs fn in a read-write transaction and returns after that transaction's commit, like
// bolt.DB.Update, with two differences:
//
//   - Group commit: writes that arrive while a commit is running share the next transaction and its fsync,
//     with no waiting added: a lone writer commits at once. When one function of a group fails, the group's
//     transaction is rolled back, that function gets its error, and the others run again without it, so
//     each one's effect is as if it had run alone, in order. A function may therefore run more than once: it
//     must only read and write through tx and set its results afresh (never append to or read back what an
//     earlier run left), as with bolt.DB.Batch.
//   - When the functions succeeded but the commit did not, the error is a writeFailure (errors.Is
//     ErrWriteFailed) and the failure hook is called.
//
// A panic in fn is raised again in the caller of Update, after the group has been rolled back and the other
// writers' functions run without it; a panic of bbolt's own while committing is raised in every caller of the
// group. Either way the lead passes on, so later writes still commit.
func (d *boltDB) Update(fn func(*bolt.Tx) error) error { return d.write(fn, false) }

// probe is Update for the health probe (Store.WriteHealth): a group of probes only does not change the
// failing state, nor count as a failed write.
func (d *boltDB) probe(fn func(*bolt.Tx) error) error { return d.write(fn, true) }

func (d *boltDB) write(fn func(*bolt.Tx) error, probe bool) error {
	w := &groupWrite{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1), probe: probe}
	d.gmu.Lock()
	d.queue = append(d.queue, w)
	if !d.leading {
		d.leading = true
		w.lead <- struct{}{}
	}
	d.gmu.Unlock()
	for {
		select {
		case err := <-w.done:
			if p, ok := err.(panicked); ok {
				panic(p.value)
			}
			return err
		case <-w.lead:
			d.commitGroup()
		}
	}
}

// commitHold is what the group commit knows of writes about to arrive (Store.HoldCommits).
type commitHold struct {
	pending func() bool
	nudge   chan struct{}
}

// maxHold bounds how long a leader waits for the writes a commitHold tells of: in a burst on a busy 2-core
// machine, a command handed to a worker starts within 0.8 ms (p90), and a commit takes 0.5 to 2 ms.
var maxHold = 2 * time.Millisecond // a variable for tests

// awaitPending waits, at most maxHold, while the hold tells of writers about to arrive.
func (d *boltDB) awaitPending() {
	h := d.hold.Load()
	if h == nil || !h.pending() {
		return
	}
	t := time.NewTimer(maxHold)
	defer t.Stop()
	for h.pending() {
		select {
		case <-h.nudge:
		case <-t.C:
			return
		}
	}
}

// commitGroup commits everything queued (its own write included), then hands the lead to the first writer
// queued meanwhile, so that no writer keeps committing for others while its own caller waits.
func (d *boltDB) commitGroup() {
	d.awaitPending()
	d.gmu.Lock()
	group := d.queue
	d.queue = nil
	d.gmu.Unlock()
	all := group
	defer func() {
		// Whatever happens here (a panic in a hook, a rider's after), every writer of the group hears back
		// and the lead passes on: a writer left waiting, or a lead never handed on, would stop all writes.
		if r := recover(); r != nil {
			slog.Error("store: a write group panicked outside its write functions", "panic", r, "stack", string(debug.Stack()))
			for _, w := range all {
				if !w.ended {
					w.finish(panicked{r})
				}
			}
		}
		d.gmu.Lock()
		if len(d.queue) > 0 {
			d.queue[0].lead <- struct{}{}
		} else {
			d.leading = false
		}
		d.gmu.Unlock()
	}()
	if d.riders != nil {
		if r := d.riders(); r != nil {
			group = append(group, r)
			all = group
		}
	}

	if d.rehearse {
		_ = d.update(func(tx *bolt.Tx) error {
			for _, w := range group {
				if runWrite(w.fn, tx) != nil {
					break
				}
			}
			return errRehearsal
		})
	}
	for len(group) > 0 {
		failed, fnErr := -1, error(nil)
		err := d.update(func(tx *bolt.Tx) error {
			for i, w := range group {
				if err := runWrite(w.fn, tx); err != nil {
					failed, fnErr = i, err
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			group[failed].finish(fnErr)
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		d.commits.Add(1)
		d.writes.Add(int64(len(group)))
		if _, ok := err.(panicked); !ok { // bbolt itself panicked: every writer of the group gets the panic
			err = d.committed(err, slices.ContainsFunc(group, func(w *groupWrite) bool { return !w.probe }))
		}
		for _, w := range group {
			w.finish(err)
		}
		break
	}
}

// update is bolt.DB.Update with a panic of bbolt's own (outside the write functions, which runWrite guards)
// turned into a panicked error, so that the group's writers hear of it and the lead is handed on.
func (d *boltDB) update(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked{r}
		}
	}()
	return d.DB.Update(func(tx *bolt.Tx) error {
		fillAppendBuckets(tx)
		return fn(tx)
	})
}

// committed records the outcome of a commit whose functions all succeeded and returns the error to give.
// Only a commit that carried a real write (not only health probes) changes the failing state: health
// reflects the last real write, not a probe that fitted where a real write did not.
func (d *boltDB) committed(err error, real bool) error {
	if !real {
		if err != nil {
			return writeFailure{err}
		}
		return nil
	}
	if err == nil {
		d.failing.Store(nil)
		return nil
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

var errRehearsal = errors.New("store: rehearsal, rolled back")

// rehearseWrites makes every Store opened rehearse its write groups (boltDB.rehearse); the store's tests set it.
var rehearseWrites bool

// panicked carries a write function's panic to its own caller.
type panicked struct{ value any }

func (p panicked) Error() string { return fmt.Sprint("store: write function panicked: ", p.value) }

// runWrite runs fn, turning a panic into a panicked error so the group's transaction is rolled back.
func runWrite(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked{r}
		}
	}()
	return fn(tx)
}

// HoldCommits tells the group commit of writes about to arrive: before a commit, its leader waits (at most
// maxHold) while pending reports true, looking again each time the returned nudge is called. The bot reports
// commands handed to an idle worker that has not started them yet: in a burst, the commands read off the wire
// together then share one commit instead of the first one committing alone while the others wait for it.
func (s *Store) HoldCommits(pending func() bool) (nudge func()) {
	h := &commitHold{pending: pending, nudge: make(chan struct{}, 1)}
	s.db.hold.Store(h)
	return func() { signal(h.nudge) }
}

// WriteStats returns how many write transactions were committed (or tried) and how many writes they
// carried: their ratio is the group commit's gain.
func (s *Store) WriteStats() (commits, writes int64) { return s.db.commits.Load(), s.db.writes.Load() }

// OnWriteFailure sets the function called for every failed commit (for metrics), replacing an earlier one.
func (s *Store) OnWriteFailure(f func(error)) { s.db.onFail.Store(&f) }
