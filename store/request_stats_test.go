package store

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// statsFromRecords is RequestStats computed from the request records, as it was before the index values.
func statsFromRecords(t *testing.T, s *Store, from, to time.Time) RequestStats {
	t.Helper()
	var st RequestStats
	rs, _, err := s.RequestsPage(1, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	in := func(x time.Time) bool { return !x.Before(from) && x.Before(to) }
	for _, r := range rs {
		if in(r.Opened) {
			st.Opened++
			if r.Urgent {
				st.Urgent++
			}
			if d, ok := r.FirstResponseTime(); ok {
				st.FirstResponses = append(st.FirstResponses, d)
			}
		}
		if r.State == RequestDone && in(r.Closed) {
			st.Done++
			d, _ := r.LeadTime()
			st.LeadTimes = append(st.LeadTimes, d)
		}
	}
	return st
}

// randomRequests plays n requests' lives on s, in random order and with random pauses: opens, takes,
// comments by ops and not, blocks, dones, cancels and reopenings.
func randomRequests(t *testing.T, s *Store, c *reqClock, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var ids []uint64
	for range n * 6 {
		c.Advance(time.Duration(rng.IntN(90)) * time.Minute)
		if len(ids) == 0 || rng.IntN(5) == 0 && len(ids) < n {
			r, err := s.OpenRequest("bob", "x", "", rng.IntN(4) == 0)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			continue
		}
		id := ids[rng.IntN(len(ids))]
		actions := []RequestChange{ops(RequestTake, "alice"), ops(RequestFinish, "alice"), ops(RequestComment, "carol"),
			dev(RequestComment, "bob"), dev(RequestCancel, "bob"), ops(RequestReopen, "alice"),
			{Action: RequestBlock, By: "alice", ByOps: true, Text: "vendor"}}
		_, _ = s.UpdateRequest(id, actions[rng.IntN(len(actions))]) // illegal transitions are refused: fine
	}
}

func sameStats(t *testing.T, what string, got, want RequestStats) {
	t.Helper()
	sorted := func(d []time.Duration) []time.Duration { d = slices.Clone(d); slices.Sort(d); return d }
	if got.Opened != want.Opened || got.Urgent != want.Urgent || got.Done != want.Done ||
		!slices.Equal(sorted(got.FirstResponses), sorted(want.FirstResponses)) || !slices.Equal(sorted(got.LeadTimes), sorted(want.LeadTimes)) {
		t.Errorf("%s: stats %d opened (%d urgent), %d done, first responses %v, lead times %v;\nthe records say %d (%d), %d, %v, %v",
			what, got.Opened, got.Urgent, got.Done, got.FirstResponses, got.LeadTimes, want.Opened, want.Urgent, want.Done, want.FirstResponses, want.LeadTimes)
	}
}

// The statistics read from the indexes' values are exactly those of the records, for windows of every size.
func TestRequestStatsFromIndexValuesMatchTheRecords(t *testing.T) {
	c := newReqClock()
	s := openRequestStore(t, c)
	start := c.Now()
	randomRequests(t, s, c, 150)
	for _, w := range []struct{ from, to time.Time }{
		{start, c.Now().Add(time.Second)},
		{start.Add(24 * time.Hour), start.Add(48 * time.Hour)},
		{c.Now().Add(-7 * 24 * time.Hour), c.Now().Add(time.Nanosecond)},
		{c.Now().Add(-time.Hour), c.Now()},
	} {
		got, err := s.RequestStats(w.from, w.to)
		if err != nil {
			t.Fatal(err)
		}
		sameStats(t, w.from.Format(time.RFC3339)+" to "+w.to.Format(time.RFC3339), got, statsFromRecords(t, s, w.from, w.to))
	}
}

// A store written before the index values (schema 3) gets them when opened, with the same statistics.
func TestRequestStatsValuesMigrateFromSchema3(t *testing.T) {
	c := newReqClock()
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	start := c.Now()
	randomRequests(t, s, c, 80)
	want, err := s.RequestStats(start, c.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { // the values gone, as schema 3 wrote the indexes
		for _, name := range [][]byte{bucketRequestsOpened, bucketRequestsClosed} {
			b := tx.Bucket(name)
			var keys [][]byte
			_ = b.ForEach(func(k, _ []byte) error { keys = append(keys, slices.Clone(k)); return nil })
			for _, k := range keys {
				if err := b.Put(k, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = openAtSchema(t, path, 3)
	got, err := s.RequestStats(start, c.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	sameStats(t, "after the migration", got, want)
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequestsOpened).ForEach(func(k, v []byte) error {
			if _, _, _, ok := parseOpenedValue(v); !ok {
				t.Errorf("opened index entry %x has no value after the migration", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
