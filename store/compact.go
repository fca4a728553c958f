package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CompactResult is what Compact did.
type CompactResult struct {
	Before, After int64  // file sizes
	Backup        string // the original file, kept under a backup's name
}

// Compact rewrites the database at path into a new file with every page filled (bolt.Compact), checks the
// copy in full, and puts it in place of the original, which stays next to it as the newest backup
// (<path>.backup-<UTC time>, as Backup names them). bbolt never gives pages back to the file system: pruning
// stops the file from growing, and this makes it small again. The bot must be stopped (the file's lock is
// taken for the whole run: a running bot makes it ErrLocked).
func Compact(path string, opts Options) (res CompactResult, err error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	if !fileExists(path) {
		return res, fmt.Errorf("store: compact: %s: no such file", path)
	}
	src, err := openBolt(path, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return res, fmt.Errorf("%w: %s (stop opsbot before compacting)", ErrLocked, path)
		}
		return res, fmt.Errorf("store: compact: open %s: %w", path, err)
	}
	defer src.Close()
	if st, err := os.Stat(path); err == nil {
		res.Before = st.Size()
	}
	tmp := path + ".compact.tmp"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return res, fmt.Errorf("store: compact: %w", err)
	}
	fail := func(err error) (CompactResult, error) {
		dst.Close()
		os.Remove(tmp)
		return res, fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := compactInto(dst, src); err != nil {
		return fail(err)
	}
	if err := dst.View(func(tx *bolt.Tx) error { return drainCheck(tx.Check()) }); err != nil {
		return fail(fmt.Errorf("the compacted copy fails the integrity check, the original is left as it was: %w", err))
	}
	if err := dst.Close(); err != nil { // bbolt has fsynced every commit
		os.Remove(tmp)
		return res, fmt.Errorf("store: compact %s: %w", path, err)
	}
	// The original keeps its name until the copy replaces it in one rename: a bot started meanwhile never
	// finds no file there (and starts an empty ledger).
	res.Backup = fmt.Sprintf("%s.backup-%s", path, time.Now().UTC().Format("20060102T150405.000Z"))
	if err := os.Link(path, res.Backup); err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("store: compact %s: keep the original: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("store: compact %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if st, err := os.Stat(path); err == nil {
		res.After = st.Size()
	}
	return res, nil
}

// compactInto is bolt.Compact (pages filled, 64 MiB per transaction), with a panic on a damaged source turned
// into an error.
func compactInto(dst, src *bolt.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the database panicked (is it damaged?): %v", r)
		}
	}()
	return bolt.Compact(dst, src, 64<<20)
}
