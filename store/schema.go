package store

import bolt "go.etcd.io/bbolt"

// allBuckets lists every top-level bucket; Open creates the missing ones. Each file that keeps records adds its
// own with registerBuckets, next to their declaration, so no list elsewhere must be kept in step.
var allBuckets [][]byte

// registerBuckets adds buckets to those Open creates. It is called from package-level declarations
// (var _ = registerBuckets(...)), before any Open.
func registerBuckets(names ...[]byte) struct{} {
	allBuckets = append(allBuckets, names...)
	return struct{}{}
}

// appendBuckets are the buckets written (nearly) in key order, each key after every key before it (the records
// by id, the audit log, the indexes by time); their pages are filled completely instead of bbolt's default of
// half (see fillAppendBuckets). A bucket where many streams interleave (per service, per person) is not one:
// an insertion into a full page in the middle splits it into a full page and an almost empty one.
var appendBuckets [][]byte

// registerAppendBuckets marks buckets registered with registerBuckets as written in key order.
func registerAppendBuckets(names ...[]byte) struct{} {
	appendBuckets = append(appendBuckets, names...)
	return struct{}{}
}

// fillAppendBuckets sets, for one write transaction, the fill of the append buckets to 100%. bbolt splits a
// node that outgrows its page at FillPercent (default 50%), and a bucket written in key order never writes
// to the left half again: at the default its pages stay half empty forever, and the file (and every backup)
// twice the size it needs. Filled completely, the last page of a stream still takes the next key; a record
// updated in an older, full page splits that page once (its neighbours are rarely touched again).
func fillAppendBuckets(tx *bolt.Tx) {
	for _, name := range appendBuckets {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = 1.0
		}
	}
}

// openCounter counts one family's open work in a read transaction.
type openCounter struct {
	name  string
	count func(*bolt.Tx) (int, error)
}

// openCounters are the families' counters of open work, for OpenCounts.
var openCounters []openCounter

// registerOpenCounter adds a family's counter of open work ("requests": the open requests) to OpenCounts. Like
// registerBuckets, it is called from a package-level declaration.
func registerOpenCounter(name string, count func(*bolt.Tx) (int, error)) struct{} {
	openCounters = append(openCounters, openCounter{name, count})
	return struct{}{}
}
