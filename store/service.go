package store

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
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

var _ = registerBuckets(bucketServices, bucketDeps, bucketRdeps, bucketServicesSeeded)

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
	Owner      string    `json:"owner"`              // an account or a team name; "" = none
	Schedule   string    `json:"schedule,omitempty"` // the on-call schedule its pages go to; "" = the default
	SLO        float64   `json:"slo,omitempty"`      // percent, 0 = none
	Notes      string    `json:"notes,omitempty"`    // free text
	Public     bool      `json:"public"`             // shown on the public status page
	Depends    []string  `json:"depends"`            // what it depends on, sorted
	Dependents []string  `json:"dependents"`         // what depends on it directly, sorted
	CreatedBy  string    `json:"created_by"`         // an account, or "config"
	Created    time.Time `json:"created"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
	Updated    time.Time `json:"updated"`
}

// serviceRecord is what the services bucket stores: the service without its edges.
type serviceRecord struct {
	Name      string    `json:"name"`
	Owner     string    `json:"owner,omitempty"`
	Schedule  string    `json:"schedule,omitempty"`
	SLO       float64   `json:"slo,omitempty"`
	Notes     string    `json:"notes,omitempty"`
	Public    bool      `json:"public,omitempty"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	Updated   time.Time `json:"updated"`
}

// ServiceFields are the editable fields of a service; nil fields are left as they are.
type ServiceFields struct {
	Owner    *string
	Schedule *string
	SLO      *float64
	Notes    *string
	// Public shows the service on the public status page.
	Public *bool
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
	return Service{Name: r.Name, Owner: r.Owner, Schedule: r.Schedule, SLO: r.SLO, Notes: r.Notes, Public: r.Public, Depends: nonNil(deps), Dependents: nonNil(rdeps),
		CreatedBy: r.CreatedBy, Created: r.Created, UpdatedBy: r.UpdatedBy, Updated: r.Updated}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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

// ServiceRoute returns where a page for a service goes: its owner ("" when none) and its on-call schedule (""
// for the default one). An unknown service is a *NoServiceError.
func (s *Store) ServiceRoute(name string) (owner, schedule string, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		r, ok, err := getService(tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return &NoServiceError{Name: name}
		}
		owner, schedule = r.Owner, r.Schedule
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("store: route of %s: %w", name, err)
	}
	return owner, schedule, nil
}

// ServiceSLO returns a service's SLO in percent; ok is false when it has none or is not in the catalogue
// (availability is still computed for it, without a budget).
func (s *Store) ServiceSLO(name string) (float64, bool, error) {
	var slo float64
	err := s.db.View(func(tx *bolt.Tx) error {
		r, ok, err := getService(tx, name)
		if err != nil || !ok {
			return err
		}
		slo = r.SLO
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: slo of %s: %w", name, err)
	}
	return slo, slo > 0, nil
}
