package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// apply sets the given fields on r; an SLO outside [0, 100) is ErrBadSLO.
func (f ServiceFields) apply(r *serviceRecord) error {
	if f.SLO != nil {
		if !(*f.SLO >= 0 && *f.SLO < 100) { // NaN too: JSON cannot store it
			return ErrBadSLO
		}
		r.SLO = *f.SLO
	}
	if f.Owner != nil {
		r.Owner = *f.Owner
	}
	if f.Schedule != nil {
		r.Schedule = *f.Schedule
	}
	if f.Notes != nil {
		r.Notes = *f.Notes
	}
	if f.Public != nil {
		r.Public = *f.Public
	}
	return nil
}

// createService stores a new service record; the name must be valid and free.
func (s *Store) createService(tx *bolt.Tx, name string, f ServiceFields, by string) (serviceRecord, error) {
	if !ValidServiceName(name) {
		return serviceRecord{}, fmt.Errorf("%w: %q", ErrBadServiceName, name)
	}
	b := tx.Bucket(bucketServices)
	if b.Get([]byte(name)) != nil {
		return serviceRecord{}, ErrServiceExists
	}
	now := s.Now().UTC()
	r := serviceRecord{Name: name, CreatedBy: by, Created: now, Updated: now}
	if err := f.apply(&r); err != nil {
		return r, err
	}
	return r, putJSON(b, []byte(name), r)
}

// dependTx adds the edge name -> dep, creating dep when create is set. It reports whether dep was created and
// whether the edge existed.
func (s *Store) dependTx(tx *bolt.Tx, name, dep string, create bool, by string) (created, existed bool, err error) {
	if name == dep {
		return false, false, ErrSelfDependency
	}
	if _, ok, err := getService(tx, dep); err != nil {
		return false, false, err
	} else if !ok {
		if !create {
			return false, false, &NoServiceError{Name: dep}
		}
		if _, err := s.createService(tx, dep, ServiceFields{}, by); err != nil {
			return false, false, err
		}
		created = true
	}
	deps := tx.Bucket(bucketDeps)
	if deps.Get(edgeKey(name, dep)) != nil {
		return created, true, nil
	}
	if err := deps.Put(edgeKey(name, dep), nil); err != nil {
		return created, false, err
	}
	return created, false, tx.Bucket(bucketRdeps).Put(edgeKey(dep, name), nil)
}

// undependTx removes the edge name -> dep in both directions.
func undependTx(tx *bolt.Tx, name, dep string) error {
	if err := tx.Bucket(bucketDeps).Delete(edgeKey(name, dep)); err != nil {
		return err
	}
	return tx.Bucket(bucketRdeps).Delete(edgeKey(dep, name))
}

// AddService creates a service with its dependencies. A dependency that does not exist is a *NoServiceError
// unless create is set, which creates it (without owner) and reports it in Created.
func (s *Store) AddService(name string, f ServiceFields, depends []string, create bool, by string) (ServiceChange, error) {
	var ch ServiceChange
	err := s.db.Update(func(tx *bolt.Tx) error {
		ch = ServiceChange{} // a write function may run twice (boltDB.Update)
		if _, err := s.createService(tx, name, f, by); err != nil {
			return err
		}
		for _, d := range depends {
			created, _, err := s.dependTx(tx, name, d, create, by)
			if err != nil {
				return err
			}
			if created {
				ch.Created = append(ch.Created, d)
			}
		}
		// A new service has no dependents yet, so it cannot close a cycle.
		var err error
		ch.Service, err = loadService(tx, name)
		return err
	})
	if err != nil {
		return ServiceChange{}, fmt.Errorf("store: add service %s: %w", name, err)
	}
	return ch, nil
}

// UpdateService changes the given fields and returns the service before and after.
func (s *Store) UpdateService(name string, f ServiceFields, by string) (before, after Service, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		r, ok, err := getService(tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return &NoServiceError{Name: name}
		}
		if before, err = loadService(tx, name); err != nil {
			return err
		}
		if err := f.apply(&r); err != nil {
			return err
		}
		r.UpdatedBy, r.Updated = by, s.Now().UTC()
		if err := putJSON(tx.Bucket(bucketServices), []byte(name), r); err != nil {
			return err
		}
		after, err = loadService(tx, name)
		return err
	})
	if err != nil {
		return Service{}, Service{}, fmt.Errorf("store: update service %s: %w", name, err)
	}
	return before, after, nil
}

// AddDependency records that name depends on dep (creating dep when create is set). Cycles are allowed, as
// real systems have them, and reported in Cycles so the caller can say so.
func (s *Store) AddDependency(name, dep string, create bool, by string) (ServiceChange, error) {
	var ch ServiceChange
	err := s.db.Update(func(tx *bolt.Tx) error {
		ch = ServiceChange{} // a write function may run twice (boltDB.Update)
		if _, ok, err := getService(tx, name); err != nil {
			return err
		} else if !ok {
			return &NoServiceError{Name: name}
		}
		created, existed, err := s.dependTx(tx, name, dep, create, by)
		if err != nil {
			return err
		}
		if created {
			ch.Created = []string{dep}
		}
		ch.Existed = existed
		if path := pathBetween(tx.Bucket(bucketDeps), dep, name); path != nil {
			ch.Cycles = [][]string{append([]string{name}, path...)}
		}
		ch.Service, err = loadService(tx, name)
		return err
	})
	if err != nil {
		return ServiceChange{}, fmt.Errorf("store: %s depends on %s: %w", name, dep, err)
	}
	return ch, nil
}

// RemoveDependency removes "name depends on dep"; a missing edge is ErrNoDependency.
func (s *Store) RemoveDependency(name, dep string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, n := range []string{name, dep} {
			if _, ok, err := getService(tx, n); err != nil {
				return err
			} else if !ok {
				return &NoServiceError{Name: n}
			}
		}
		if tx.Bucket(bucketDeps).Get(edgeKey(name, dep)) == nil {
			return ErrNoDependency
		}
		return undependTx(tx, name, dep)
	})
	if err != nil {
		return fmt.Errorf("store: %s no longer depends on %s: %w", name, dep, err)
	}
	return nil
}

// RemoveService deletes a service and its own dependencies. While others depend on it, it is refused with a
// *ServiceInUseError, unless force is set: then their edges to it are removed too and they are returned as
// detached.
func (s *Store) RemoveService(name string, force bool) (detached []string, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, ok, err := getService(tx, name); err != nil {
			return err
		} else if !ok {
			return &NoServiceError{Name: name}
		}
		dependents := edgesFrom(tx.Bucket(bucketRdeps), name)
		if len(dependents) > 0 && !force {
			return &ServiceInUseError{Name: name, Dependents: dependents}
		}
		for _, d := range dependents {
			if err := undependTx(tx, d, name); err != nil {
				return err
			}
		}
		for _, d := range edgesFrom(tx.Bucket(bucketDeps), name) {
			if err := undependTx(tx, name, d); err != nil {
				return err
			}
		}
		detached = dependents
		return tx.Bucket(bucketServices).Delete([]byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("store: remove service %s: %w", name, err)
	}
	return detached, nil
}
