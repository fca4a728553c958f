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
