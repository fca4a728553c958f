package store

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DeployStatus is what is deployed where for one service, and whether it may be deployed now.
type DeployStatus struct {
	Service string          `json:"service"`
	Current []DeployCurrent `json:"current"`     // per environment, prod first
	Active  []Deploy        `json:"in_progress"` // rollouts in progress
	Locks   []DeployLock    `json:"locks"`       // the service's lock, then the lock on all
}

// DeployStatusOf returns the status of one service.
func (s *Store) DeployStatusOf(service string) (DeployStatus, error) {
	st := DeployStatus{Service: service}
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := envKey(service, "")
		c := tx.Bucket(bucketDeployCurrent).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var cur DeployCurrent
			if err := jsonUnmarshal(v, &cur); err != nil {
				return err
			}
			st.Current = append(st.Current, cur)
		}
		sort.SliceStable(st.Current, func(i, j int) bool {
			return st.Current[i].Env == DefaultEnv && st.Current[j].Env != DefaultEnv
		})
		var err error
		if st.Active, err = activeDeploys(tx, service); err != nil {
			return err
		}
		st.Locks, err = locksFor(tx, service)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("store: deploy status %s: %w", service, err)
	}
	return st, nil
}

// DeployOverview returns every rollout in progress (by service and environment) and every lock (by name).
// It reads only the open-work indexes, never the history.
func (s *Store) DeployOverview() ([]Deploy, []DeployLock, error) {
	var active []Deploy
	var locks []DeployLock
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if active, err = activeDeploys(tx, ""); err != nil {
			return err
		}
		return tx.Bucket(bucketDeployLocks).ForEach(func(_, v []byte) error {
			var l DeployLock
			if err := jsonUnmarshal(v, &l); err != nil {
				return err
			}
			locks = append(locks, l)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: deploy overview: %w", err)
	}
	return active, locks, nil
}

// DeployHistory returns the newest n deploys of a service, newest first.
func (s *Store) DeployHistory(service string, n int) ([]Deploy, error) {
	var out []Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		return walkHistory(tx, service, func(d Deploy) bool {
			out = append(out, d)
			return len(out) < n
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: deploy history %s: %w", service, err)
	}
	return out, nil
}

// RecentDeploys returns the newest n deploys of every service, newest first.
func (s *Store) RecentDeploys(n int) ([]Deploy, error) {
	var out []Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeploys).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var d Deploy
			if err := jsonUnmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent deploys: %w", err)
	}
	return out, nil
}

// DeploysSince returns the deploys started at or after since, newest first. It walks back from the newest id
// and stops at the first older deploy (ids are given in start order), so it reads only that window.
func (s *Store) DeploysSince(since time.Time) ([]Deploy, error) {
	var out []Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeploys).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var d Deploy
			if err := jsonUnmarshal(v, &d); err != nil {
				return err
			}
			if d.Started.Before(since) {
				return nil
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: deploys since %s: %w", since, err)
	}
	return out, nil
}

// DeploysRolledBack returns the deploys rolled back at or after from and before to, oldest rollback first,
// whenever they started.
func (s *Store) DeploysRolledBack(from, to time.Time) ([]Deploy, error) {
	var out []Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeployRollbacks).Cursor()
		end := dueKey(to, 0)
		for k, _ := c.Seek(dueKey(from, 0)); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			d, err := getDeploy(tx, btoi(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: deploys rolled back from %s to %s: %w", from, to, err)
	}
	return out, nil
}

// GetDeploy returns one deploy; an unknown id is ErrNotFound.
func (s *Store) GetDeploy(id uint64) (Deploy, error) {
	var d Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		d, err = getDeploy(tx, id)
		return err
	})
	if err != nil {
		return d, fmt.Errorf("store: %w", err)
	}
	return d, nil
}

// CurrentVersion is the version last deployed successfully to env ("" if none); it implements the
// commands.Deploys contract.
func (s *Store) CurrentVersion(service, env string) (string, error) {
	var cur DeployCurrent
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		cur, err = currentOf(tx, service, env)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: current version %s %s: %w", service, env, err)
	}
	return cur.Version, nil
}

// DeploysStartedBetween returns the deploys of service started in [from, to), oldest first.
func (s *Store) DeploysStartedBetween(service string, from, to time.Time) ([]Deploy, error) {
	var out []Deploy
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeployByService).Cursor()
		prefix := []byte(service + "\x00")
		end := serviceIndexKey(service, to, 0)
		for k, _ := c.Seek(serviceIndexKey(service, from, 0)); k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			d, err := getDeploy(tx, btoi(k[len(k)-8:]))
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: deploys of %s between %s and %s: %w", service, from, to, err)
	}
	return out, nil
}

// LockDeploys locks a service (or LockAll) and returns the lock it replaced, if any.
func (s *Store) LockDeploys(service, reason, by string) (DeployLock, *DeployLock, error) {
	l := DeployLock{Service: service, Reason: reason, By: by, At: s.Now().UTC()}
	var prev *DeployLock
	err := s.db.Update(func(tx *bolt.Tx) error {
		prev = nil // a write function may run twice (boltDB.Update)
		b := tx.Bucket(bucketDeployLocks)
		var old DeployLock
		ok, err := getJSON(b, []byte(service), &old)
		if err != nil {
			return err
		}
		if ok {
			prev = &old
		}
		return putJSON(b, []byte(service), l)
	})
	if err != nil {
		return l, nil, fmt.Errorf("store: lock deploys of %s: %w", service, err)
	}
	return l, prev, nil
}

// UnlockDeploys removes the lock of a service (or LockAll) and returns it; ErrNotFound if there is none.
func (s *Store) UnlockDeploys(service string) (DeployLock, error) {
	var l DeployLock
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeployLocks)
		ok, err := getJSON(b, []byte(service), &l)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return b.Delete([]byte(service))
	})
	if err != nil {
		return l, fmt.Errorf("store: unlock deploys of %s: %w", service, err)
	}
	return l, nil
}

// DeployLocksFor returns the locks that stop deploys of service: its own, then the lock on all.
func (s *Store) DeployLocksFor(service string) ([]DeployLock, error) {
	var out []DeployLock
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = locksFor(tx, service)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: deploy locks of %s: %w", service, err)
	}
	return out, nil
}
