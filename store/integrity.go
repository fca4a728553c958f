package store

import (
	"bytes"
	"encoding/binary"
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
	case !s.cleanlyClosed():
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

// errCheckStopped ends a background check that Close stopped.
var errCheckStopped = errors.New("store: integrity check stopped")

// backgroundCheck checks every page as tx.Check does, a piece at a time: each top-level bucket in a read
// transaction of its own (so that no transaction stays open for the whole file, holding back writers that
// must grow the mmap and pages that could be reused), and within a bucket one subtree at a time
// (tx.Check(bolt.WithPageId)), so that Close can stop it between two subtrees instead of waiting for the
// whole file. The branch pages above the subtrees are read and checked here. What bbolt's whole-file check
// adds, and this does not, is the accounting of every page (none reachable twice, none lost): that is run at
// Open after an unclean shutdown. Pages read are dropped from the process's memory after each bucket, so
// the check leaves no resident memory behind (the page cache keeps them).
func (s *Store) backgroundCheck() {
	c := &s.integrity
	start := time.Now()
	var names [][]byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, append([]byte(nil), name...))
			return nil
		})
	})
	c.update(func(st *IntegrityStatus) { st.Started, st.Total = start, len(names) })
	s.log.Info("store: integrity check started in the background", "path", s.path, "buckets", len(names))
	var problems []string
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("integrity check panicked: %v", r)
			}
		}()
		f, err := os.Open(s.path)
		if err != nil {
			return err
		}
		defer f.Close()
		for i, name := range names {
			err := s.db.View(func(tx *bolt.Tx) error {
				p, err := s.checkBucket(tx, f, name)
				problems = append(problems, p...)
				dropMapped(tx)
				return err
			})
			if err != nil {
				return err
			}
			c.update(func(st *IntegrityStatus) { st.Done = i + 1 })
		}
		return nil
	}()
	took := time.Since(start)
	switch {
	case errors.Is(err, errCheckStopped):
		c.update(func(st *IntegrityStatus) { st.State = IntegrityStopped })
		s.log.Info("store: integrity check stopped by shutdown", "path", s.path, "after", took.Round(time.Millisecond))
		return
	case err != nil:
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		msg := corruptError(s.path, errors.New(strings.Join(problems[:min(len(problems), 5)], "; "))).Error()
		msg = strings.Replace(msg, "; refusing to start", "", 1)
		c.update(func(st *IntegrityStatus) {
			st.State, st.Duration, st.Problem = IntegrityCorrupt, took, strings.TrimPrefix(msg, ErrCorrupt.Error()+": ")
		})
		s.log.Error("store: DATABASE CORRUPT: the background integrity check found damage; the bot keeps running on it, "+
			"but restore a backup soon", "problem", msg, "took", took.Round(time.Millisecond))
		return
	}
	c.update(func(st *IntegrityStatus) { st.State, st.Duration = IntegrityOK, took })
	s.log.Info("store: integrity check passed", "path", s.path, "in_background", true, "took", took.Round(time.Millisecond))
}

// stopped reports whether Close asked the background check to stop.
func (c *integrity) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// On-disk page layout (bbolt's internal/common/page.go, the file format since bbolt's start): a 16-byte
// header (id uint64, flags uint16, count uint16, overflow uint32), then for a branch page count elements of
// 16 bytes (pos uint32, ksize uint32, pgid uint64), pos counting from the element. Native byte order.
const (
	pageHeaderSize = 16
	branchElemSize = 16
	branchFlag     = 0x01
	leafFlag       = 0x02
)

// checkBucket checks one top-level bucket and returns the problems found. It splits the bucket's b-tree
// into subtrees, reading the branch pages above them from the file (not the mmap: a damaged page id must
// not make the process fault) and checking those pages itself; then tx.Check checks each subtree.
func (s *Store) checkBucket(tx *bolt.Tx, f *os.File, name []byte) ([]string, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, nil // removed meanwhile
	}
	root := uint64(b.RootPage())
	if root == 0 {
		return nil, nil // an inline bucket lives in its parent's page, which every transaction reads
	}
	ps := tx.DB().Info().PageSize
	hwm := uint64(tx.Size()) / uint64(ps)
	var problems []string
	units := []uint64{root}
	for depth := 0; depth < 3 && len(units) < 64; depth++ {
		var next []uint64
		expanded := false
		for _, id := range units {
			kids, err := branchChildren(tx, f, id, ps, hwm)
			if err != nil {
				problems = append(problems, fmt.Sprintf("bucket %s: page %d: %v", name, id, err))
				continue
			}
			if kids == nil {
				next = append(next, id)
				continue
			}
			next, expanded = append(next, kids...), true
		}
		units = next
		if !expanded {
			break
		}
	}
	for _, id := range units {
		if s.integrity.stopped() {
			return problems, errCheckStopped
		}
		if err := drainCheck(tx.Check(bolt.WithPageId(id))); err != nil {
			problems = append(problems, fmt.Sprintf("bucket %s: %v", name, err))
		}
	}
	return problems, nil
}

// branchChildren reads page id and returns its children when it is a branch page (nil for a leaf page),
// after checking it: its stored id, its type, its keys in order, its children within the file, and that it
// is not on the freelist.
func branchChildren(tx *bolt.Tx, f *os.File, id uint64, ps int, hwm uint64) ([]uint64, error) {
	if id < 2 || id >= hwm {
		return nil, fmt.Errorf("page id out of range [2, %d)", hwm)
	}
	buf := make([]byte, ps)
	if _, err := f.ReadAt(buf, int64(id)*int64(ps)); err != nil {
		return nil, err
	}
	ne := binary.NativeEndian
	if got := ne.Uint64(buf[0:8]); got != id {
		return nil, fmt.Errorf("page says it is page %d", got)
	}
	flags, count, overflow := ne.Uint16(buf[8:10]), int(ne.Uint16(buf[10:12])), uint64(ne.Uint32(buf[12:16]))
	switch {
	case flags&leafFlag != 0:
		return nil, nil
	case flags&branchFlag == 0:
		return nil, fmt.Errorf("not a branch or leaf page (flags %#x)", flags)
	case id+overflow >= hwm:
		return nil, fmt.Errorf("overflow of %d pages past the end", overflow)
	}
	if info, err := tx.Page(int(id)); err == nil && info != nil && info.Type == "free" {
		return nil, errors.New("reachable but on the freelist")
	}
	if overflow > 0 {
		buf = make([]byte, (1+overflow)*uint64(ps))
		if _, err := f.ReadAt(buf, int64(id)*int64(ps)); err != nil {
			return nil, err
		}
	}
	if count == 0 || pageHeaderSize+count*branchElemSize > len(buf) {
		return nil, fmt.Errorf("branch page with %d elements", count)
	}
	kids := make([]uint64, 0, count)
	var prev []byte
	for i := range count {
		e := pageHeaderSize + i*branchElemSize
		pos, ksize, child := int(ne.Uint32(buf[e:])), int(ne.Uint32(buf[e+4:])), ne.Uint64(buf[e+8:])
		if e+pos < 0 || e+pos+ksize > len(buf) {
			return nil, fmt.Errorf("element %d: key outside the page", i)
		}
		key := buf[e+pos : e+pos+ksize]
		if prev != nil && bytes.Compare(key, prev) <= 0 {
			return nil, fmt.Errorf("element %d: keys out of order", i)
		}
		if child < 2 || child >= hwm {
			return nil, fmt.Errorf("element %d: child page %d out of range [2, %d)", i, child, hwm)
		}
		prev = key
		kids = append(kids, child)
	}
	return kids, nil
}

// dropMapped tells the kernel that the process no longer needs the database's mapped pages, so that what a
// check (or any large read) touched does not stay in the process's resident memory; the page cache keeps
// them, and a later read maps them again. It runs inside a transaction, when bbolt cannot remap the file.
func dropMapped(tx *bolt.Tx) {
	size := tx.Size()
	page := int64(os.Getpagesize())
	dontNeed(tx.DB().Info().Data, (size+page-1)/page*page)
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
