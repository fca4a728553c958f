package store

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The service catalogue lives in its own buckets: services by name, and the dependency graph as keys only,
// forward ("a\x00b": a depends on b) and reverse ("b\x00a"), so both directions are cursor prefix seeks.
var (
	bucketServices       = []byte("services")
	bucketDeps           = []byte("deps")
	bucketRdeps          = []byte("rdeps")
	bucketServicesSeeded = []byte("services_seeded") // names config has seeded once: never re-created
)

const edgeSep = 0x00

var serviceNameRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// ValidServiceName reports whether name is a service name: lowercase [a-z0-9._-], 1 to 64 characters.
func ValidServiceName(name string) bool { return serviceNameRE.MatchString(name) }

// Errors of the service catalogue.
var (
	ErrServiceExists  = errors.New("store: service already exists")
	ErrSelfDependency = errors.New("store: a service cannot depend on itself")
	ErrNoDependency   = errors.New("store: no such dependency")
	ErrBadServiceName = errors.New("store: bad service name (lowercase [a-z0-9._-], 1-64 characters)")
	ErrBadSLO         = errors.New("store: slo must be a percentage from 0 (none) to below 100")
)

// NoServiceError says a service does not exist; it wraps ErrNotFound and names the service.
type NoServiceError struct{ Name string }

func (e *NoServiceError) Error() string { return fmt.Sprintf("store: no service %q", e.Name) }

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *NoServiceError) Unwrap() error { return ErrNotFound }

// ServiceInUseError refuses to remove a service that others still depend on.
type ServiceInUseError struct {
	Name       string
	Dependents []string
}

func (e *ServiceInUseError) Error() string {
	return fmt.Sprintf("store: service %q is depended on by %v", e.Name, e.Dependents)
}

// Service is one entry of the catalogue, with its direct edges.
type Service struct {
	Name       string    `json:"name"`
	Owner      string    `json:"owner"`           // an account or a team name; "" = none
	SLO        float64   `json:"slo,omitempty"`   // percent, 0 = none
	Notes      string    `json:"notes,omitempty"` // free text
	Depends    []string  `json:"depends"`         // what it depends on, sorted
	Dependents []string  `json:"dependents"`      // what depends on it directly, sorted
	CreatedBy  string    `json:"created_by"`      // an account, or "config"
	Created    time.Time `json:"created"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
	Updated    time.Time `json:"updated"`
}

// serviceRecord is what the services bucket stores: the service without its edges.
type serviceRecord struct {
	Name      string    `json:"name"`
	Owner     string    `json:"owner,omitempty"`
	SLO       float64   `json:"slo,omitempty"`
	Notes     string    `json:"notes,omitempty"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	Updated   time.Time `json:"updated"`
}

// ServiceFields are the editable fields of a service; nil fields are left as they are.
type ServiceFields struct {
	Owner *string
	SLO   *float64
	Notes *string
}

// ServiceChange reports what a write to the catalogue did beyond the obvious.
type ServiceChange struct {
	Service Service
	Created []string   // dependencies created on the way (--create)
	Existed bool       // the dependency was already there
	Cycles  [][]string // cycles the change closed, each "a -> b -> a" in depends-on order
}

func edgeKey(from, to string) []byte {
	k := make([]byte, 0, len(from)+1+len(to))
	k = append(append(append(k, from...), edgeSep), to...)
	return k
}

// edgesFrom lists the other ends of from's edges in bucket b, sorted.
func edgesFrom(b *bolt.Bucket, from string) []string {
	var out []string
	prefix := edgeKey(from, "")
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

func getService(tx *bolt.Tx, name string) (serviceRecord, bool, error) {
	var r serviceRecord
	if !ValidServiceName(name) {
		return r, false, nil
	}
	ok, err := getJSON(tx.Bucket(bucketServices), []byte(name), &r)
	return r, ok, err
}

func loadService(tx *bolt.Tx, name string) (Service, error) {
	r, ok, err := getService(tx, name)
	if err != nil {
		return Service{}, err
	}
	if !ok {
		return Service{}, &NoServiceError{Name: name}
	}
	return r.withEdges(edgesFrom(tx.Bucket(bucketDeps), name), edgesFrom(tx.Bucket(bucketRdeps), name)), nil
}

func (r serviceRecord) withEdges(deps, rdeps []string) Service {
	return Service{Name: r.Name, Owner: r.Owner, SLO: r.SLO, Notes: r.Notes, Depends: nonNil(deps), Dependents: nonNil(rdeps),
		CreatedBy: r.CreatedBy, Created: r.Created, UpdatedBy: r.UpdatedBy, Updated: r.Updated}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (f ServiceFields) apply(r *serviceRecord) error {
	if f.SLO != nil {
		if *f.SLO < 0 || *f.SLO >= 100 {
			return ErrBadSLO
		}
		r.SLO = *f.SLO
	}
	if f.Owner != nil {
		r.Owner = *f.Owner
	}
	if f.Notes != nil {
		r.Notes = *f.Notes
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

// Service returns one service with its direct edges; an unknown name is a *NoServiceError.
func (s *Store) Service(name string) (Service, error) {
	var out Service
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = loadService(tx, name)
		return err
	})
	if err != nil {
		return Service{}, fmt.Errorf("store: service %s: %w", name, err)
	}
	return out, nil
}

// Services returns the whole catalogue sorted by name, each with its direct edges.
func (s *Store) Services() ([]Service, error) {
	var out []Service
	err := s.db.View(func(tx *bolt.Tx) error {
		deps, rdeps := allEdges(tx.Bucket(bucketDeps)), allEdges(tx.Bucket(bucketRdeps))
		return tx.Bucket(bucketServices).ForEach(func(k, v []byte) error {
			var r serviceRecord
			if err := jsonUnmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r.withEdges(deps[r.Name], rdeps[r.Name]))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: services: %w", err)
	}
	return out, nil
}

// allEdges reads a whole edge bucket in one sequential pass.
func allEdges(b *bolt.Bucket) map[string][]string {
	m := map[string][]string{}
	_ = b.ForEach(func(k, _ []byte) error {
		from, to, _ := bytes.Cut(k, []byte{edgeSep})
		m[string(from)] = append(m[string(from)], string(to))
		return nil
	})
	return m
}

// ServiceNames lists every service name, sorted.
func (s *Store) ServiceNames() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketServices).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: service names: %w", err)
	}
	return out, nil
}

// ServiceOwner returns a service's owner ("" when it has none); an unknown service is a *NoServiceError.
func (s *Store) ServiceOwner(name string) (string, error) {
	var owner string
	err := s.db.View(func(tx *bolt.Tx) error {
		r, ok, err := getService(tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return &NoServiceError{Name: name}
		}
		owner = r.Owner
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: owner of %s: %w", name, err)
	}
	return owner, nil
}

// AddService creates a service with its dependencies. A dependency that does not exist is a *NoServiceError
// unless create is set, which creates it (without owner) and reports it in Created.
func (s *Store) AddService(name string, f ServiceFields, depends []string, create bool, by string) (ServiceChange, error) {
	var ch ServiceChange
	err := s.db.Update(func(tx *bolt.Tx) error {
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

// pathBetween finds a shortest path from -> ... -> to along depends-on edges (breadth first), or nil.
func pathBetween(deps *bolt.Bucket, from, to string) []string {
	parent := map[string]string{from: ""}
	queue := []string{from}
	c := deps.Cursor()
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		prefix := edgeKey(cur, "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			next := string(k[len(prefix):])
			if _, seen := parent[next]; seen {
				continue
			}
			parent[next] = cur
			if next == to {
				var path []string
				for n := to; n != ""; n = parent[n] {
					path = append(path, n)
				}
				slices.Reverse(path)
				return path
			}
			queue = append(queue, next)
		}
	}
	return nil
}
