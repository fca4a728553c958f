package store

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// checkFile is Open's integrity check: the file must hold every page the database uses, then bbolt's
// consistency check must pass. A file cut short (a partial copy, a full disk) is refused before the
// consistency check reads its missing pages through the mmap: that would fault in bbolt's checking
// goroutine, where nothing can recover, and kill the process instead of naming the backup to restore.
func (s *Store) checkFile() error {
	st, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	var need int64
	_ = s.db.View(func(tx *bolt.Tx) error { need = tx.Size(); return nil })
	if st.Size() < need {
		return fmt.Errorf("file is truncated: %d bytes, the database needs %d", st.Size(), need)
	}
	return s.check()
}
