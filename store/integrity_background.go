package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errCheckStopped ends a background check that Close stopped.
var errCheckStopped = errors.New("store: integrity check stopped")

// backgroundCheck checks every page of every bucket while the bot runs, one subtree at a time: a branch page
// whose children are leaves, with those leaves (a megabyte or so), checked by bbolt (tx.Check with
// WithPageId). bbolt's checker reads the freelist, which a commit changes, so each subtree is checked in a
// read-write transaction of its own (rolled back: nothing is written), when no commit can run; its pages are
// read into the page cache first, outside that transaction, so writers wait for a warm check of one subtree
// only (about a millisecond), not for the disk. Between two subtrees Close may stop it. The branch pages above
// the subtrees are read from the file and checked here. What bbolt's whole-file check adds, and this does
// not, is the accounting of every page (none reachable twice, none lost): that runs at Open after an unclean
// shutdown. The mapped pages it read are dropped from the process's memory now and then (dropMapped), so the
// check leaves no resident memory behind.
func (s *Store) backgroundCheck() {
	c := &s.integrity
	start := time.Now()
	var names [][]byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, bytes.Clone(name))
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
			p, err := s.checkBucket(f, name)
			problems = append(problems, p...)
			_ = s.db.View(func(tx *bolt.Tx) error { dropMapped(tx); return nil })
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

// checkBucket checks one top-level bucket, a subtree at a time, from its first key to its last: each step
// checks the subtree that holds from in the database as it is then, and goes on from the first key after
// that subtree, so a bucket that changes meanwhile is still checked from end to end.
func (s *Store) checkBucket(f *os.File, name []byte) ([]string, error) {
	var problems []string
	var from []byte
	for step := 0; ; step++ {
		if s.integrity.stopped() {
			return problems, errCheckStopped
		}
		_ = s.db.View(func(tx *bolt.Tx) error { // warm the page cache, with no writer held up
			if u, ok := findUnit(tx, f, name, from, nil); ok {
				prefetch(f, u)
			}
			return nil
		})
		var next []byte
		done := true
		err := s.exclusive(func(tx *bolt.Tx) error {
			u, ok := findUnit(tx, f, name, from, &problems)
			if !ok {
				return nil
			}
			if u.id != 0 {
				if err := drainCheck(tx.Check(bolt.WithPageId(u.id))); err != nil {
					problems = append(problems, fmt.Sprintf("bucket %s: %v", name, err))
				}
			}
			next, done = u.next, u.next == nil
			return nil
		})
		switch {
		case err != nil:
			return problems, err
		case done || len(problems) >= 5:
			return problems, nil
		case from != nil && bytes.Compare(next, from) <= 0:
			return append(problems, fmt.Sprintf("bucket %s: the keys do not go on after %x", name, from)), nil
		}
		from = next
		if step%8 == 7 { // a few megabytes mapped at most
			_ = s.db.View(func(tx *bolt.Tx) error { dropMapped(tx); return nil })
		}
	}
}

// exclusive runs fn in a read-write transaction that is always rolled back: a read during which no commit
// can change the freelist (in a read-only store nothing commits: a read transaction does).
func (s *Store) exclusive(fn func(*bolt.Tx) error) error {
	if s.readOnly {
		return s.db.View(fn)
	}
	tx, err := s.db.DB.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// unit is one subtree to check: the page at its top (0: none, a damaged page was reported instead), its
// pages, and the first key after it (nil: it is the bucket's last).
type unit struct {
	id    uint64
	pages []uint64 // the children of a bottom branch page, to prefetch
	ps    int
	next  []byte
}

// findUnit descends from the bucket's root towards from (nil: the first key) to the branch page whose
// children are leaves (or to the root, when it is a leaf or such a branch), checking the branch pages on
// the way when problems is not nil (in a read-write transaction: their freelist state is read). ok is false
// when the bucket is gone or inline (its parent's page holds it, and every transaction reads that).
func findUnit(tx *bolt.Tx, f *os.File, name, from []byte, problems *[]string) (u unit, ok bool) {
	b := tx.Bucket(name)
	if b == nil || b.RootPage() == 0 {
		return u, false
	}
	report := func(id uint64, err error) {
		if problems != nil {
			*problems = append(*problems, fmt.Sprintf("bucket %s: page %d: %v", name, id, err))
		}
	}
	u.ps = tx.DB().Info().PageSize
	hwm := uint64(tx.Size()) / uint64(u.ps)
	var above [][]byte // the first key after each ancestor's chosen child, deepest last
	id := uint64(b.RootPage())
	for depth := 0; ; depth++ {
		pg, err := readPage(f, id, u.ps, hwm)
		if err == nil && problems != nil && pg.branch {
			err = checkBranch(tx, pg, id, hwm)
		}
		if err != nil || depth > 32 {
			if err == nil {
				err = errors.New("b-tree deeper than 32 levels")
			}
			report(id, err) // skip the damaged subtree, go on after it
			u.id, u.next = 0, nextAbove(above)
			return u, true
		}
		if !pg.branch {
			u.id, u.next = id, nextAbove(above) // a bucket of one leaf
			return u, true
		}
		i := 0
		for i+1 < len(pg.keys) && from != nil && bytes.Compare(pg.keys[i+1], from) <= 0 {
			i++
		}
		child, err := readPage(f, pg.kids[i], u.ps, hwm)
		if err != nil || !child.branch {
			// id's children are leaves (or the child is damaged, which the check of id reports): id is the unit.
			u.id, u.pages, u.next = id, pg.kids, nextAbove(above)
			return u, true
		}
		if i+1 < len(pg.keys) {
			above = append(above, pg.keys[i+1])
		} else {
			above = append(above, nil)
		}
		id = pg.kids[i]
	}
}

// nextAbove is the first key after the subtree the descent chose: the nearest ancestor's next separator.
func nextAbove(above [][]byte) []byte {
	for i := len(above) - 1; i >= 0; i-- {
		if above[i] != nil {
			return above[i]
		}
	}
	return nil
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

// page is what readPage parsed: whether it is a branch page, and a branch page's keys and children.
type page struct {
	branch   bool
	overflow uint64
	keys     [][]byte
	kids     []uint64
}

// readPage reads page id from the file (not the mmap: a damaged page id must not make the process fault)
// and parses its header, and a branch page's elements.
func readPage(f *os.File, id uint64, ps int, hwm uint64) (page, error) {
	var pg page
	if id < 2 || id >= hwm {
		return pg, fmt.Errorf("page id out of range [2, %d)", hwm)
	}
	buf := make([]byte, ps)
	if _, err := f.ReadAt(buf, int64(id)*int64(ps)); err != nil {
		return pg, err
	}
	ne := binary.NativeEndian
	if got := ne.Uint64(buf[0:8]); got != id {
		return pg, fmt.Errorf("page says it is page %d", got)
	}
	flags, count := ne.Uint16(buf[8:10]), int(ne.Uint16(buf[10:12]))
	pg.overflow = uint64(ne.Uint32(buf[12:16]))
	switch {
	case id+pg.overflow >= hwm:
		return pg, fmt.Errorf("overflow of %d pages past the end", pg.overflow)
	case flags&leafFlag != 0:
		return pg, nil
	case flags&branchFlag == 0:
		return pg, fmt.Errorf("not a branch or leaf page (flags %#x)", flags)
	}
	pg.branch = true
	if pg.overflow > 0 {
		buf = make([]byte, (1+pg.overflow)*uint64(ps))
		if _, err := f.ReadAt(buf, int64(id)*int64(ps)); err != nil {
			return pg, err
		}
	}
	if count == 0 || pageHeaderSize+count*branchElemSize > len(buf) {
		return pg, fmt.Errorf("branch page with %d elements", count)
	}
	for i := range count {
		e := pageHeaderSize + i*branchElemSize
		pos, ksize, child := int(ne.Uint32(buf[e:])), int(ne.Uint32(buf[e+4:])), ne.Uint64(buf[e+8:])
		if e+pos+ksize > len(buf) {
			return pg, fmt.Errorf("element %d: key outside the page", i)
		}
		pg.keys = append(pg.keys, buf[e+pos:e+pos+ksize])
		pg.kids = append(pg.kids, child)
	}
	return pg, nil
}

// checkBranch checks what the subtrees' checks do not cover of a branch page above them: its keys in order,
// its children within the file, and that it is not on the freelist.
func checkBranch(tx *bolt.Tx, pg page, id, hwm uint64) error {
	if info, err := tx.Page(int(id)); err == nil && info != nil && info.Type == "free" {
		return errors.New("reachable but on the freelist")
	}
	for i := range pg.keys {
		if i > 0 && bytes.Compare(pg.keys[i], pg.keys[i-1]) <= 0 {
			return fmt.Errorf("element %d: keys out of order", i)
		}
		if pg.kids[i] < 2 || pg.kids[i] >= hwm {
			return fmt.Errorf("element %d: child page %d out of range [2, %d)", i, pg.kids[i], hwm)
		}
	}
	return nil
}

// prefetch reads a unit's pages into the page cache.
func prefetch(f *os.File, u unit) {
	buf := make([]byte, u.ps)
	for _, id := range u.pages {
		if _, err := f.ReadAt(buf, int64(id)*int64(u.ps)); err != nil {
			return
		}
		if overflow := int64(binary.NativeEndian.Uint32(buf[12:16])); overflow > 0 && overflow < 1<<16 {
			more := make([]byte, overflow*int64(u.ps))
			_, _ = f.ReadAt(more, (int64(id)+1)*int64(u.ps))
		}
	}
}

// dropMapped tells the kernel that the process no longer needs the database's mapped pages, so that what a
// check touched does not stay in the process's resident memory; the page cache keeps them, and a later read
// maps them again. It runs inside a transaction, when bbolt cannot remap the file.
func dropMapped(tx *bolt.Tx) {
	size := tx.Size()
	page := int64(os.Getpagesize())
	dontNeed(tx.DB().Info().Data, (size+page-1)/page*page)
}
