package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// maxImpactCycles bounds how many cycles one impact walk names; a densely cyclic graph has very many.
const maxImpactCycles = 10

// Dependent is a service reached by an impact walk.
type Dependent struct {
	Name  string   `json:"name"`
	Depth int      `json:"depth"` // 1: depends on the failing service directly
	Path  []string `json:"path"`  // from the failing service to this one; each depends on the one before
}

// Impact is what fails when a service fails: every service that depends on it, directly or transitively.
type Impact struct {
	Service    string      `json:"service"`
	Dependents []Dependent `json:"dependents"` // nearest first; within a depth, grouped by the path
	// Cycles are the dependency cycles among the service and its dependents, each in depends-on order
	// ("a -> b -> a": a depends on b, b depends on a), at most maxImpactCycles.
	Cycles [][]string `json:"cycles"`
}

// Impact walks the reverse dependency graph from name breadth first: nearest dependents first, each with
// the shortest path that reaches it (the first in name order when there are several), and names the cycles
// it meets. An unknown service is a *NoServiceError.
func (s *Store) Impact(name string) (Impact, error) {
	var im Impact
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		im, err = impactTx(tx, name)
		return err
	})
	if err != nil {
		return Impact{}, fmt.Errorf("store: impact of %s: %w", name, err)
	}
	return im, nil
}

// ServiceImpact returns the names of everything that depends on name, directly or transitively, nearest
// first (the Catalog contract).
func (s *Store) ServiceImpact(name string) ([]string, error) {
	im, err := s.Impact(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(im.Dependents))
	for i, d := range im.Dependents {
		out[i] = d.Name
	}
	return out, nil
}

// ServiceReport returns a service with its direct edges and its impact walk, from one snapshot.
func (s *Store) ServiceReport(name string) (Service, Impact, error) {
	var svc Service
	var im Impact
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if svc, err = loadService(tx, name); err != nil {
			return err
		}
		im, err = impactTx(tx, name)
		return err
	})
	if err != nil {
		return Service{}, Impact{}, fmt.Errorf("store: service report %s: %w", name, err)
	}
	return svc, im, nil
}

func impactTx(tx *bolt.Tx, root string) (Impact, error) {
	if _, ok, err := getService(tx, root); err != nil {
		return Impact{}, err
	} else if !ok {
		return Impact{}, &NoServiceError{Name: root}
	}
	// Breadth first over the reverse edges, one depth at a time. names[0] is the root; the services depending
	// on names[i] are edges[lo[i]:hi[i]] (indexes into names), kept for the cycle search. Each depth is read in
	// name order through one edgeReader, so a large frontier reads the bucket almost sequentially. Flat
	// slices instead of one slice per service keep a 5,000-service walk to a few allocations.
	names := []string{root}
	parent := []int32{-1}
	index := map[string]int32{root: 0}
	var edges, lo, hi []int32
	type member struct {
		name string
		i    int32
	}
	var frontier []member
	r := edgeReader{c: tx.Bucket(bucketRdeps).Cursor()}
	for first := 0; first < len(names); {
		last := len(names)
		frontier = frontier[:0]
		for i := first; i < last; i++ {
			frontier = append(frontier, member{names[i], int32(i)})
		}
		slices.SortFunc(frontier, func(a, b member) int { return strings.Compare(a.name, b.name) })
		lo, hi = append(lo, make([]int32, last-first)...), append(hi, make([]int32, last-first)...)
		r.restart()
		for _, m := range frontier {
			i := m.i
			lo[i] = int32(len(edges))
			r.each(m.name, func(other []byte) {
				j, seen := index[string(other)]
				if !seen {
					j = int32(len(names))
					name := string(other)
					index[name] = j
					names = append(names, name)
					parent = append(parent, i)
				}
				edges = append(edges, j)
			})
			hi[i] = int32(len(edges))
		}
		first = last
	}
	// Paths share one backing array: a path is its parent's path plus the service itself.
	depth := make([]int32, len(names))
	total := 1
	for j := 1; j < len(names); j++ {
		depth[j] = depth[parent[j]] + 1
		total += int(depth[j]) + 1
	}
	arena := make([]string, 0, total)
	paths := make([][]string, len(names))
	arena = append(arena, root)
	paths[0] = arena[0:1:1]
	im := Impact{Service: root, Dependents: make([]Dependent, len(names)-1)}
	for j := 1; j < len(names); j++ {
		from := len(arena)
		arena = append(append(arena, paths[parent[j]]...), names[j])
		paths[j] = arena[from:len(arena):len(arena)]
		im.Dependents[j-1] = Dependent{Name: names[j], Depth: int(depth[j]), Path: paths[j]}
	}
	im.Cycles = findCycles(names, edges, lo, hi, maxImpactCycles)
	return im, nil
}

// findCycles searches depth first from node 0 of a graph whose edges u -> v mean "v depends on u" (the
// successors of u are edges[lo[u]:hi[u]]), and returns up to limit cycles, one per back edge, in depends-on order starting where the cycle was entered.
func findCycles(names []string, edges, lo, hi []int32, limit int) [][]string {
	const (
		fresh = iota
		onStack
		done
	)
	state := make([]uint8, len(names))
	pos := make([]int, len(names))
	type frame struct{ n, next int32 }
	stack := []frame{{n: 0, next: lo[0]}}
	state[0] = onStack
	cycles := [][]string{}
	for len(stack) > 0 && len(cycles) < limit {
		top := &stack[len(stack)-1]
		if top.next == hi[top.n] {
			state[top.n] = done
			stack = stack[:len(stack)-1]
			continue
		}
		v := edges[top.next]
		top.next++
		switch state[v] {
		case fresh:
			state[v], pos[v] = onStack, len(stack)
			stack = append(stack, frame{n: v, next: lo[v]})
		case onStack: // back edge: the stack from v to here, then v again
			cyc := make([]string, 0, len(stack)-pos[v]+1)
			for _, f := range stack[pos[v]:] {
				cyc = append(cyc, names[f.n])
			}
			cyc = append(cyc, names[v])
			slices.Reverse(cyc) // propagation order -> depends-on order
			cycles = append(cycles, cyc)
		}
	}
	return cycles
}

// edgeReader reads the edge lists of names given in ascending order with one cursor: it steps forward with
// Next while the next name's edges are close and seeks only when they are far, so a dense batch costs a
// sequential read and a sparse one a seek per name.
type edgeReader struct {
	c       *bolt.Cursor
	k       []byte
	prefix  []byte
	started bool
}

// maxSteps is how many keys edgeReader skips with Next before it seeks instead.
const maxSteps = 16

// restart begins a new ascending batch.
func (r *edgeReader) restart() { r.started = false }

// each calls fn with the other end of every edge of name; fn's argument is valid only during the call.
func (r *edgeReader) each(name string, fn func(other []byte)) {
	r.prefix = append(append(r.prefix[:0], name...), edgeSep)
	if !r.started {
		r.k, _ = r.c.Seek(r.prefix)
		r.started = true
	}
	for steps := 0; r.k != nil && bytes.Compare(r.k, r.prefix) < 0; steps++ {
		if steps == maxSteps {
			r.k, _ = r.c.Seek(r.prefix)
			break
		}
		r.k, _ = r.c.Next()
	}
	for ; r.k != nil && bytes.HasPrefix(r.k, r.prefix); r.k, _ = r.c.Next() {
		fn(r.k[len(r.prefix):])
	}
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
