package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Reads of the web pages that no chat command needs.

// IncidentQuery selects incidents for a listing, newest first.
type IncidentQuery struct {
	Service  string    // affecting this service ("": any)
	Severity int       // of this severity (1-4; 0: any)
	Open     bool      // only the open ones
	Since    time.Time // declared (or, with Service, started) at or after (zero: all time)
	Before   uint64    // only ids below this one: the next page after a page ending there (0: from the newest)
	Limit    int       // at most this many (0: 50)
}

// FindIncidents returns the incidents q selects, newest first, and whether there are more after them. It
// reads the open index for open ones, the service index for one service's, and otherwise walks the log back
// from the newest only as far as q.Since (ids follow declaration times).
func (s *Store) FindIncidents(q IncidentQuery) (out []Incident, more bool, err error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	keep := func(inc Incident) bool {
		return (q.Before == 0 || inc.ID < q.Before) && (q.Severity == 0 || inc.Severity == q.Severity) &&
			(!q.Open || inc.Open()) && (q.Service == "" || slices.Contains(inc.Services(), q.Service)) &&
			(q.Since.IsZero() || !inc.Declared.Before(q.Since) || inc.Open())
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		out, more = nil, false
		add := func(inc Incident) bool {
			if !keep(inc) {
				return true
			}
			if len(out) == q.Limit {
				more = true
				return false
			}
			out = append(out, inc)
			return true
		}
		switch {
		case q.Open:
			open, err := openIncidents(tx)
			slices.SortFunc(open, func(a, b Incident) int { return cmp.Compare(b.ID, a.ID) })
			for _, inc := range open {
				if !add(inc) {
					break
				}
			}
			return err
		case q.Service != "":
			ids, err := serviceIncidentIDs(tx, q.Service, q.Since)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if q.Before != 0 && id >= q.Before {
					continue
				}
				inc, err := getIncident(tx, id)
				if err != nil {
					return err
				}
				if !add(inc) {
					break
				}
			}
			return nil
		}
		c := tx.Bucket(bucketIncidents).Cursor()
		k, v := c.Last()
		if q.Before != 0 {
			k, v = c.Seek(itob(q.Before))
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			var inc Incident
			if err := jsonUnmarshal(v, &inc); err != nil {
				return err
			}
			if !q.Since.IsZero() && inc.Declared.Before(q.Since) {
				break
			}
			if !add(inc) {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: find incidents: %w", err)
	}
	return out, more, nil
}

// serviceIncidentIDs lists the ids of service's incidents that started at or after since (open ones
// whenever they started), newest id first, from the service index alone.
func serviceIncidentIDs(tx *bolt.Tx, service string, since time.Time) ([]uint64, error) {
	prefix := append([]byte(service), 0)
	var ids []uint64
	c := tx.Bucket(bucketIncidentService).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+16 || len(v) != 9 {
			return nil, fmt.Errorf("bad index entry %q", k)
		}
		start := btoi(k[len(prefix) : len(prefix)+8])
		if start < nanos(since) && btoi(v[:8]) != 0 {
			continue
		}
		ids = append(ids, btoi(k[len(prefix)+8:]))
	}
	slices.SortFunc(ids, func(a, b uint64) int { return cmp.Compare(b, a) })
	return ids, nil
}

// CurrentDeploys returns what runs where: every service's current version per environment, prod first.
func (s *Store) CurrentDeploys() (map[string][]DeployCurrent, error) {
	out := map[string][]DeployCurrent{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeployCurrent).ForEach(func(k, v []byte) error {
			service, _, _ := bytes.Cut(k, []byte{0})
			var cur DeployCurrent
			if err := jsonUnmarshal(v, &cur); err != nil {
				return err
			}
			out[string(service)] = append(out[string(service)], cur)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: current deploys: %w", err)
	}
	for _, cs := range out {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Env == DefaultEnv && cs[j].Env != DefaultEnv })
	}
	return out, nil
}
