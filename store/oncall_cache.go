package store

import (
	"sync"
	"time"
)

// overrideCacheSlack is how far before the moment asked about the cache's list starts, so that moments a little
// earlier (a request's opening time, looked up after its commit) are answered from it too.
const overrideCacheSlack = time.Hour

// overrideCache keeps the overrides that end after some moment, so that who is on call (asked by every !oncall,
// every request opened, the on-call page and API) is answered without a read transaction. In a burst of commands those
// transactions began and ended together right after each group commit, and queued on bbolt's metalock, which
// every transaction takes at both ends.
//
// Only the store's own writes change the overrides (the file is locked to this process), and each of them drops
// the cache once its commit has returned, before its caller can tell anyone. A load that began before a drop is
// not kept: the generation it read no longer matches.
type overrideCache struct {
	mu   sync.Mutex
	gen  uint64     // counts the drops
	ok   bool       // list and from are loaded
	from time.Time  // list holds every override that ends after from
	list []Override // soonest end first; never changed once loaded
}

// get returns the overrides ending after t when the cache holds them (ok), and the generation to load with
// otherwise.
func (c *overrideCache) get(t time.Time) (list []Override, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && !t.Before(c.from) {
		return c.list, c.gen, true
	}
	return nil, c.gen, false
}

// put keeps list, the overrides ending after from as a transaction read them, unless the cache was dropped
// since gen was read (the transaction may have begun before that write's commit).
func (c *overrideCache) put(gen uint64, from time.Time, list []Override) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.ok, c.from, c.list = true, from, list
	}
}

// drop forgets the overrides: a write of them has committed (or failed).
func (c *overrideCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.ok, c.from, c.list = false, time.Time{}, nil
}
