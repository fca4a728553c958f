package store

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The integrity check. Open always makes the cheap checks: the file is not empty, bbolt accepts a meta page
// (magic, version, checksum), the file holds every page the database uses, and the schema version is one
// this build knows. bbolt's full consistency check (tx.Check) reads every page, which on a large file takes
// seconds warm and tens of seconds cold, so Open runs it only when it is cheap (a file under
// DefaultFullCheckBelow) or needed (no clean-shutdown marker: the last run crashed, and a crash on a disk
// that lies about fsync is how a bbolt file gets damaged). Otherwise the store checks the file in the
// background after Open, and reports what it finds (IntegrityStatus): corruption found at Open refuses to
// start, corruption found later is reported loudly but leaves the bot running.

// DefaultFullCheckBelow is the file size under which Open checks every page before returning (about
// a second of reading on a slow disk, cold).
const DefaultFullCheckBelow = 32 << 20

// DefaultCheckDelay is how long after Open the background check starts, so that it does not compete with
// the bot's own start for the disk.
const DefaultCheckDelay = 5 * time.Second

// closeCheckWait bounds how long Close waits for the background check to reach its next stopping point.
var closeCheckWait = 10 * time.Second

var keyCleanClose = []byte("clean_close") // in meta: set by Close, removed by the next Open

// IntegrityState is where the integrity check is.
type IntegrityState string

// The integrity states.
const (
	IntegrityPending IntegrityState = "pending" // the background check has not finished yet
	IntegrityOK      IntegrityState = "ok"      // every page checked, nothing wrong
	IntegrityCorrupt IntegrityState = "corrupt" // the check found damage: restore a backup
	IntegrityStopped IntegrityState = "stopped" // Close stopped the background check before its end
)

// IntegrityStatus says what the integrity check found.
type IntegrityStatus struct {
	State IntegrityState
	// AtOpen is true when Open checked every page itself; Reason says why ("unclean shutdown", "small
	// file"). Otherwise the check runs in the background.
	AtOpen bool
	Reason string
	// Started is when the check started (zero while the background check waits); Duration is how long it
	// took once finished.
	Started  time.Time
	Duration time.Duration
	// Done and Total count the buckets checked, for a check in progress.
	Done, Total int
	// Problem is what the check found, with the backup to restore, when State is IntegrityCorrupt.
	Problem string
}

// Err is nil unless the check found damage.
func (st IntegrityStatus) Err() error {
	if st.State != IntegrityCorrupt {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, st.Problem)
}

// integrity is the store's check: its status and the background goroutine's lifetime.
type integrity struct {
	mu     sync.Mutex
	status IntegrityStatus
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the background check has ended (nil: none started)
}

func (c *integrity) get() IntegrityStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *integrity) update(f func(*IntegrityStatus)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

// IntegrityStatus reports the integrity check's state: for !status, /healthz and the metrics.
func (s *Store) IntegrityStatus() IntegrityStatus { return s.integrity.get() }

// checkSize refuses a file that does not hold every page the database uses. A file cut short (a partial
// copy, a full disk) is refused before anything reads its missing pages through the mmap: that would fault,
// in bbolt's checking goroutine where nothing can recover, and kill the process instead of naming the
// backup to restore.
func (s *Store) checkSize() error {
	st, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	var need int64
	_ = s.db.View(func(tx *bolt.Tx) error { need = tx.Size(); return nil })
	if st.Size() < need {
		return fmt.Errorf("file is truncated: %d bytes, the database needs %d", st.Size(), need)
	}
	return nil
}

// schemaCleanMarker is the first schema version whose builds write the clean-shutdown marker.
const schemaCleanMarker = 3

// writtenBeforeMarker reports whether the file was last written by a build that never wrote the
// clean-shutdown marker: its absence then says nothing, and the first start of this build (an upgrade, after
// a clean stop as the upgrade steps say) checks in the background like any other, instead of reading the
// whole file first.
func (s *Store) writtenBeforeMarker() bool {
	v, err := s.SchemaVersion()
	return err == nil && v > 0 && v < schemaCleanMarker
}

// cleanlyClosed reports whether the last run closed the store (Close left its marker in meta).
func (s *Store) cleanlyClosed() bool {
	clean := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta); b != nil {
			clean = b.Get(keyCleanClose) != nil
		}
		return nil
	})
	return clean
}

// checkAtOpen runs the full check now when the file is small or the last run did not close the store, and
// says whether it did (a file Open has just created needs none).
func (s *Store) checkAtOpen(opts Options, isNew bool) (bool, error) {
	limit := opts.FullCheckBelow
	if limit == 0 {
		limit = DefaultFullCheckBelow
	}
	reason := ""
	switch {
	case isNew:
		s.integrity.update(func(st *IntegrityStatus) { st.AtOpen, st.Reason, st.State = true, "new file", IntegrityOK })
		return true, nil
	case !s.cleanlyClosed() && !s.writtenBeforeMarker():
		reason = "unclean shutdown"
	case s.Size() < limit:
		reason = "small file"
	default:
		return false, nil
	}
	start := time.Now()
	err := s.check()
	s.integrity.update(func(st *IntegrityStatus) {
		st.AtOpen, st.Reason, st.Started, st.Duration, st.State = true, reason, start, time.Since(start), IntegrityOK
	})
	if err == nil {
		s.log.Info("store: integrity check passed", "path", s.path, "at_open", reason, "took", time.Since(start).Round(time.Millisecond))
	}
	return true, err
}

// check runs bbolt's consistency check over every page.
func (s *Store) check() (err error) {
	defer func() {
		// A badly damaged file can make bbolt panic while walking pages; that is corruption, not a crash.
		if r := recover(); r != nil {
			err = fmt.Errorf("integrity check panicked: %v", r)
		}
	}()
	return s.db.View(func(tx *bolt.Tx) error {
		return drainCheck(tx.Check())
	})
}

// drainCheck reads bbolt's checker to the end (it walks the mmap until it closes the channel, so the
// transaction must stay open until then) and returns its first few errors as one.
func drainCheck(ch <-chan error) error {
	var errs []string
	for e := range ch {
		if len(errs) < 5 {
			errs = append(errs, e.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// startBackgroundCheck starts the full check in a goroutine the store owns, after delay.
func (s *Store) startBackgroundCheck(delay time.Duration) {
	c := &s.integrity
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-c.stop:
				t.Stop()
				c.update(func(st *IntegrityStatus) { st.State = IntegrityStopped })
				return
			}
		}
		s.backgroundCheck()
	}()
}

// markClean records in meta that the store was closed cleanly (see checkAtOpen).
func (s *Store) markClean() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyCleanClose, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
}

// stopCheck stops the background check and waits for it to reach a stopping point, at most closeCheckWait.
// It reports false if the check is still reading the file: the database must then stay mapped.
func (s *Store) stopCheck() bool {
	c := &s.integrity
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	if c.done == nil {
		return true
	}
	select {
	case <-c.done:
		return true
	case <-time.After(closeCheckWait):
		return false
	}
}
