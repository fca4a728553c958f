package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migration moves the schema from version i to i+1 inside one transaction.
type migration func(tx *bolt.Tx) error

// migrations[i] upgrades version i to i+1. Append only; never edit a released migration.
var migrations = []migration{
	// 0 -> 1: the initial buckets.
	func(tx *bolt.Tx) error { return nil },
	// 1 -> 2: several on-call schedules. The one rotation's overrides and handoff state become those of the
	// default schedule, ops.
	migrateOnCallSchedules,
	// 2 -> 3: the newest deploy of each service and environment.
	migrateDeployNewest,
	// 3 -> 4: the opened and closed request indexes carry what the statistics need.
	migrateRequestValues,
	// 4 -> 5: the pages acked and not resolved, by ack time.
	migratePagesAcked,
	// 5 -> 6: the deploys rolled back, by when.
	migrateDeployRollbacks,
}

// SchemaVersionCurrent is the schema version this build writes.
var SchemaVersionCurrent = len(migrations)

// migrate creates missing buckets and runs pending migrations, all in one transaction.
func (s *Store) migrate() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: create bucket %s: %w", name, err)
			}
		}
		fillAppendBuckets(tx) // the buckets just created too
		meta := tx.Bucket(bucketMeta)
		v := 0
		if raw := meta.Get(keySchema); raw != nil {
			v = int(btoi(raw))
		}
		if v > len(migrations) {
			return fmt.Errorf("store: database schema version %d is newer than this opsbot (%d); upgrade opsbot", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("store: migrate schema %d -> %d: %w", v, v+1, err)
			}
		}
		// This run may crash: only its own Close says the file was closed cleanly.
		if err := meta.Delete(keyCleanClose); err != nil {
			return err
		}
		return meta.Put(keySchema, itob(uint64(v)))
	})
}
