// Package store is opsbot's ledger over bbolt: typed records and the rules that keep them consistent.
//
// Every exported method that changes data runs in one bbolt read-write transaction and returns only after that
// transaction has been committed to disk, so a caller may answer "ok" as soon as it returns. Writes that arrive
// while a commit is running share the next transaction and its fsync (group commit, boltDB.Update).
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names are part of the on-disk format and never change. Each file that keeps records declares and
// registers its own (registerBuckets); these are the store's own.
var (
	bucketMeta   = []byte("meta")
	bucketAudit  = []byte("audit")
	bucketOutbox = []byte("outbox")
)

var (
	_ = registerBuckets(bucketMeta, bucketAudit, bucketOutbox)
	_ = registerAppendBuckets(bucketAudit, bucketOutbox) // by id
)

var keySchema = []byte("schema_version")

// ErrLocked is returned by Open when another process holds the database file.
var ErrLocked = errors.New("store: database is locked by another process")

// ErrCorrupt is returned by Open when the integrity check fails.
var ErrCorrupt = errors.New("store: database is corrupt")

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// Options tune Open. The zero value is usable.
type Options struct {
	// LockTimeout bounds the wait for the file lock; default 5s.
	LockTimeout time.Duration
	// ReadOnly opens the file for reading only (check-config, backups of a stopped bot).
	ReadOnly bool
	// FullCheckBelow is the file size under which Open runs the full integrity check itself (0:
	// DefaultFullCheckBelow; negative: only after an unclean shutdown). A larger file is checked in the
	// background (see integrity.go).
	FullCheckBelow int64
	// CheckDelay is how long after Open the background check starts (0: DefaultCheckDelay; negative: at once).
	CheckDelay time.Duration
	// Log receives the integrity check's results and the store's other reports (default slog.Default()).
	Log *slog.Logger
}

// Store is the opsbot database.
type Store struct {
	db           *boltDB
	path         string
	readOnly     bool
	log          *slog.Logger
	audits       auditWriter
	auditErrors  atomic.Int64
	integrity    integrity
	deliveryScan deliveryScan
	overrides    overrideCache // who is on call without a transaction (see OnCallNow)
	closed       atomic.Bool
	// Now is the clock used for timestamps; tests replace it.
	Now func() time.Time
}

// Open opens (creating if needed) the database at path, checks its integrity and migrates it to the current
// schema. A second process opening the same file gets ErrLocked after the lock timeout instead of waiting
// forever. The full integrity check runs in Open for a small file and after an unclean shutdown, else in the
// background (IntegrityStatus); a damaged file found in Open is ErrCorrupt.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	// bbolt would make a new database in an existing empty file: a file emptied by a crash or a failed copy
	// would then start an empty ledger, and later backups would prune away the good ones.
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, corruptError(path, errors.New("the file is empty (0 bytes); to start a new database instead, delete it"))
	}
	isNew := errors.Is(err, fs.ErrNotExist)
	db, err := openBolt(path, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		if errors.Is(err, errPanicked) {
			return nil, corruptError(path, err)
		}
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s (is another opsbot running?)", ErrLocked, path)
		}
		// bbolt v1.5.0 reports a file shorter than two of its pages (whose first meta page it could read)
		// with a plain fmt.Errorf("file size too small %d"): no sentinel to match, so its text is.
		if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) || errors.Is(err, bolterrors.ErrVersionMismatch) ||
			strings.HasPrefix(err.Error(), "file size too small") {
			return nil, corruptError(path, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: &boltDB{DB: db, rehearse: rehearseWrites}, path: path, readOnly: opts.ReadOnly, log: opts.Log, Now: time.Now}
	s.db.riders = s.auditRider
	s.integrity.stop = make(chan struct{})
	s.integrity.status.State = IntegrityPending
	if err := s.checkSize(); err != nil {
		_ = db.Close()
		return nil, corruptError(path, err)
	}
	checked, err := s.checkAtOpen(opts, isNew)
	if err != nil {
		_ = db.Close()
		return nil, corruptError(path, err)
	}
	if !opts.ReadOnly {
		if err := s.migrate(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if !checked {
		delay := opts.CheckDelay
		if delay == 0 {
			delay = DefaultCheckDelay
		}
		s.startBackgroundCheck(delay)
	}
	return s, nil
}

var errPanicked = errors.New("bbolt panicked while opening the file")

// openBolt is bolt.Open, except that a panic (bbolt v1.5.0 panics on a corrupt freelist instead of returning
// an error) becomes errPanicked. The file handle bbolt had opened (and locked) is then unreachable until the
// process exits, which it does: a corrupt store refuses to start.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	// A file cut short makes bbolt read missing pages through its mmap: a fault, fatal unless made a panic.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(interface{ Addr() uintptr }); ok {
				r = fmt.Sprintf("it read past the end of the file (truncated?), fault at %#x", f.Addr())
			}
			db, err = nil, fmt.Errorf("%w: %v", errPanicked, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// corruptError names the newest backup next to path, so the operator knows what to restore.
func corruptError(path string, cause error) error {
	hint := "restore a copy taken with GET /api/v1/backup"
	if b := NewestBackup(path); b != "" {
		hint = fmt.Sprintf("restore the newest backup: cp %s %s", b, path)
	}
	return fmt.Errorf("%w: %s: %v; refusing to start; %s", ErrCorrupt, path, cause, hint)
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close stops the background integrity check, commits queued audit entries, records that the store was
// closed cleanly (so the next Open need not check every page first) and closes the database. The check
// stops between two of its pieces; should one take longer than closeCheckWait, the file stays open (it
// must stay mapped while bbolt's checker reads it) until the process exits, and Close says so.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	stopped := s.stopCheck()
	s.closeAudits()
	if !s.readOnly && s.integrity.get().State != IntegrityCorrupt {
		if err := s.markClean(); err != nil {
			s.log.Warn("store: could not record the clean shutdown; the next start checks every page", "err", err)
		}
	}
	if !stopped {
		return fmt.Errorf("store: close %s: the integrity check is still reading the file; it is released when the process exits", s.path)
	}
	return s.db.Close()
}

// Size is the database file's size in bytes.
func (s *Store) Size() int64 {
	var n int64
	_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Healthy reports whether the store answers a read transaction.
func (s *Store) Healthy() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// SchemaVersion is the schema version recorded in the file.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return nil
		}
		if raw := b.Get(keySchema); raw != nil {
			v = int(binary.BigEndian.Uint64(raw))
		}
		return nil
	})
	return v, err
}

// itob encodes an id as an 8-byte big-endian key, so keys sort by id.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// btoi decodes an 8-byte big-endian key.
func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// putJSON stores v as JSON under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// getJSON decodes the value under key into v; the bytes are copied by the decoder before the tx ends.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// NewestBackup returns the newest backup file written by Backup next to the database at path, or "".
func NewestBackup(path string) string {
	matches, _ := filepath.Glob(path + ".backup-*")
	sort.Strings(matches)
	for i := len(matches) - 1; i >= 0; i-- {
		if !strings.HasSuffix(matches[i], ".tmp") {
			return matches[i]
		}
	}
	return ""
}

// fileExists reports whether a regular file exists at p.
func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// OpenCounts counts open work per family ("requests", "pages", "incidents", "deploys") for !status, from
// the counters the families register (registerOpenCounter).
func (s *Store) OpenCounts() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, c := range openCounters {
			n, err := c.count(tx)
			if err != nil {
				return err
			}
			out[c.name] = n
		}
		return nil
	})
	return out, err
}
