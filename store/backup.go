package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent snapshot of the database to w (a hot backup; writers are not blocked).
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Backup writes a consistent copy next to the database as <path>.backup-<UTC time>: to a temp file first,
// fsynced, then renamed, so a crash never leaves a half-written backup under the final name. It keeps the
// newest keep backups (keep <= 0 keeps all) and returns the new file's path.
func (s *Store) Backup(keep int) (string, error) {
	final := fmt.Sprintf("%s.backup-%s", s.path, s.Now().UTC().Format("20060102T150405.000Z"))
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("store: backup: %w", err)
	}
	if _, err := s.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("store: backup: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("store: backup: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("store: backup: close: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("store: backup: rename: %w", err)
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	if keep > 0 {
		s.pruneBackups(keep)
	}
	return final, nil
}

// pruneBackups removes all but the newest keep backups.
func (s *Store) pruneBackups(keep int) {
	matches, _ := filepath.Glob(s.path + ".backup-*")
	var done []string
	for _, m := range matches {
		if filepath.Ext(m) != ".tmp" && fileExists(m) {
			done = append(done, m)
		}
	}
	for len(done) > keep {
		os.Remove(done[0])
		done = done[1:]
	}
}
