package store

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openServiceStore opens a store in t.TempDir() with a fixed clock.
func openServiceStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	tb.Cleanup(func() { s.Close() })
	return s
}

// buildServices creates the graph described by spec: space-separated "a>b" (a depends on b) and lone names.
func buildServices(tb testing.TB, s *Store, spec string) {
	tb.Helper()
	for _, item := range strings.Fields(spec) {
		from, to, isEdge := strings.Cut(item, ">")
		if _, err := s.Service(from); errors.Is(err, ErrNotFound) {
			if _, err := s.AddService(from, ServiceFields{}, nil, false, "test"); err != nil {
				tb.Fatalf("AddService(%q): %v", from, err)
			}
		}
		if isEdge {
			if _, err := s.AddDependency(from, to, true, "test"); err != nil {
				tb.Fatalf("AddDependency(%q, %q): %v", from, to, err)
			}
		}
	}
	checkEdges(tb, s)
}

// checkEdges asserts the graph's invariants: every forward edge has its reverse twin and the other way
// round, and both ends of every edge exist.
func checkEdges(tb testing.TB, s *Store) {
	tb.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		svc, deps, rdeps := tx.Bucket(bucketServices), tx.Bucket(bucketDeps), tx.Bucket(bucketRdeps)
		for _, pair := range []struct{ b, twin *bolt.Bucket }{{deps, rdeps}, {rdeps, deps}} {
			err := pair.b.ForEach(func(k, _ []byte) error {
				from, to, _ := strings.Cut(string(k), "\x00")
				if pair.twin.Get(edgeKey(to, from)) == nil {
					tb.Errorf("edge %q has no reverse twin", k)
				}
				if svc.Get([]byte(from)) == nil || svc.Get([]byte(to)) == nil {
					tb.Errorf("edge %q dangles", k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestServiceImpact(t *testing.T) {
	type dep struct {
		name string
		path string // "a b c"
	}
	tests := []struct {
		name   string
		graph  string
		of     string
		want   []dep
		cycles []string // "a -> b -> a"
	}{
		{name: "alone", graph: "storage", of: "storage"},
		{name: "chain", graph: "a>b b>c", of: "c", want: []dep{{"b", "c b"}, {"a", "c b a"}}},
		{name: "spec example", graph: "search>playlist radio>playlist web>search mobile-api>search", of: "playlist",
			want: []dep{{"radio", "playlist radio"}, {"search", "playlist search"}, {"mobile-api", "playlist search mobile-api"}, {"web", "playlist search web"}}},
		{name: "diamond: d reached once, by the first path", graph: "b>a c>a d>b d>c", of: "a",
			want: []dep{{"b", "a b"}, {"c", "a c"}, {"d", "a b d"}}},
		{name: "dependencies are not impact", graph: "a>b b>c", of: "b", want: []dep{{"a", "b a"}}},
		{name: "two-cycle through the root", graph: "a>b b>a", of: "a", want: []dep{{"b", "a b"}},
			cycles: []string{"a -> b -> a"}},
		{name: "three-cycle in depends-on order", graph: "a>b b>c c>a", of: "a", want: []dep{{"c", "a c"}, {"b", "a c b"}},
			cycles: []string{"a -> b -> c -> a"}},
		{name: "cycle below the root", graph: "x>root y>x x>y", of: "root", want: []dep{{"x", "root x"}, {"y", "root x y"}},
			cycles: []string{"x -> y -> x"}},
		{name: "cycle between siblings (cross edges only in BFS)", graph: "x>r y>r x>y y>x", of: "r",
			want: []dep{{"x", "r x"}, {"y", "r y"}}, cycles: []string{"x -> y -> x"}},
		{name: "long chain keeps the path", graph: "b>a c>b d>c e>d", of: "a",
			want: []dep{{"b", "a b"}, {"c", "a b c"}, {"d", "a b c d"}, {"e", "a b c d e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openServiceStore(t)
			buildServices(t, s, tt.graph)
			im, err := s.Impact(tt.of)
			if err != nil {
				t.Fatal(err)
			}
			var got []dep
			for i, d := range im.Dependents {
				got = append(got, dep{d.Name, strings.Join(d.Path, " ")})
				if d.Depth != len(d.Path)-1 {
					t.Errorf("dependent %d %s: depth %d with path %v", i, d.Name, d.Depth, d.Path)
				}
				if i > 0 && d.Depth < im.Dependents[i-1].Depth {
					t.Errorf("dependent %d %s (depth %d) after depth %d: not nearest first", i, d.Name, d.Depth, im.Dependents[i-1].Depth)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Impact(%q) = %v, want %v", tt.of, got, tt.want)
			}
			var cycles []string
			for _, c := range im.Cycles {
				cycles = append(cycles, strings.Join(c, " -> "))
			}
			if !reflect.DeepEqual(cycles, tt.cycles) {
				t.Errorf("Impact(%q) cycles = %q, want %q", tt.of, cycles, tt.cycles)
			}
			names, err := s.ServiceImpact(tt.of)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != len(tt.want) {
				t.Errorf("ServiceImpact(%q) = %v, want the %d names of Impact", tt.of, names, len(tt.want))
			}
		})
	}
}

func TestServiceImpactUnknown(t *testing.T) {
	s := openServiceStore(t)
	buildServices(t, s, "playlist")
	for _, name := range []string{"plalist", "", "Bad Name", "a\x00b"} {
		_, err := s.Impact(name)
		var nf *NoServiceError
		if !errors.As(err, &nf) || nf.Name != name || !errors.Is(err, ErrNotFound) {
			t.Errorf("Impact(%q) = %v, want a *NoServiceError naming it, wrapping ErrNotFound", name, err)
		}
	}
	if _, err := s.ServiceOwner("plalist"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ServiceOwner(unknown) = %v, want ErrNotFound", err)
	}
}

func TestServiceAddValidation(t *testing.T) {
	slo := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		svc     string
		fields  ServiceFields
		depends []string
		create  bool
		wantErr error
		created []string
	}{
		{name: "plain", svc: "playlist"},
		{name: "all characters", svc: "a-b_c.d9"},
		{name: "64 characters", svc: strings.Repeat("a", 64)},
		{name: "65 characters", svc: strings.Repeat("a", 65), wantErr: ErrBadServiceName},
		{name: "uppercase", svc: "Playlist", wantErr: ErrBadServiceName},
		{name: "space", svc: "play list", wantErr: ErrBadServiceName},
		{name: "separator byte", svc: "a\x00b", wantErr: ErrBadServiceName},
		{name: "empty", svc: "", wantErr: ErrBadServiceName},
		{name: "exists", svc: "storage", wantErr: ErrServiceExists},
		{name: "slo 100", svc: "x", fields: ServiceFields{SLO: slo(100)}, wantErr: ErrBadSLO},
		{name: "slo negative", svc: "x", fields: ServiceFields{SLO: slo(-1)}, wantErr: ErrBadSLO},
		{name: "slo NaN", svc: "x", fields: ServiceFields{SLO: slo(math.NaN())}, wantErr: ErrBadSLO},
		{name: "self dependency", svc: "x", depends: []string{"x"}, wantErr: ErrSelfDependency},
		{name: "unknown dependency", svc: "x", depends: []string{"storage", "cache"}, wantErr: ErrNotFound},
		{name: "unknown dependency created", svc: "x", depends: []string{"storage", "cache"}, create: true, created: []string{"cache"}},
		{name: "created dependency must be a valid name", svc: "x", depends: []string{"Cache"}, create: true, wantErr: ErrBadServiceName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openServiceStore(t)
			buildServices(t, s, "storage")
			ch, err := s.AddService(tt.svc, tt.fields, tt.depends, tt.create, "alice")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AddService(%q) = %v, want %v", tt.svc, err, tt.wantErr)
				}
				names, _ := s.ServiceNames()
				if !reflect.DeepEqual(names, []string{"storage"}) {
					t.Errorf("after a refused add the catalogue is %v, want it unchanged", names)
				}
				checkEdges(t, s)
				return
			}
			if err != nil {
				t.Fatalf("AddService(%q) = %v", tt.svc, err)
			}
			if !reflect.DeepEqual(ch.Created, tt.created) {
				t.Errorf("created %v, want %v", ch.Created, tt.created)
			}
			if ch.Service.Name != tt.svc || ch.Service.CreatedBy != "alice" || len(ch.Service.Depends) != len(tt.depends) {
				t.Errorf("AddService returned %+v", ch.Service)
			}
			checkEdges(t, s)
		})
	}
}

func TestServiceDependencies(t *testing.T) {
	s := openServiceStore(t)
	buildServices(t, s, "playlist>storage search")

	if _, err := s.AddDependency("playlist", "playlist", false, "alice"); !errors.Is(err, ErrSelfDependency) {
		t.Errorf("self edge: %v, want ErrSelfDependency", err)
	}
	if _, err := s.AddDependency("playlist", "cache", false, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown dependency without create: %v, want ErrNotFound", err)
	}
	if _, err := s.AddDependency("nope", "storage", false, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown service: %v, want ErrNotFound", err)
	}
	ch, err := s.AddDependency("playlist", "storage", false, "alice")
	if err != nil || !ch.Existed {
		t.Errorf("repeated edge: %+v, %v; want Existed", ch, err)
	}
	ch, err = s.AddDependency("search", "playlist", false, "alice")
	if err != nil || ch.Existed || len(ch.Cycles) != 0 {
		t.Fatalf("search -> playlist: %+v, %v", ch, err)
	}
	// storage -> search closes storage -> search -> playlist -> storage: allowed, and named.
	ch, err = s.AddDependency("storage", "search", false, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"storage", "search", "playlist", "storage"}}; !reflect.DeepEqual(ch.Cycles, want) {
		t.Errorf("cycles = %v, want %v", ch.Cycles, want)
	}
	got, _ := s.Service("playlist")
	if !reflect.DeepEqual(got.Depends, []string{"storage"}) || !reflect.DeepEqual(got.Dependents, []string{"search"}) {
		t.Errorf("playlist: depends %v, dependents %v", got.Depends, got.Dependents)
	}
	if err := s.RemoveDependency("storage", "search"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDependency("storage", "search"); !errors.Is(err, ErrNoDependency) {
		t.Errorf("removing a missing edge: %v, want ErrNoDependency", err)
	}
	if err := s.RemoveDependency("storage", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing an edge to an unknown service: %v, want ErrNotFound", err)
	}
	checkEdges(t, s)
}

func TestServiceRemove(t *testing.T) {
	tests := []struct {
		name     string
		graph    string
		remove   string
		force    bool
		detached []string
		inUse    []string
		left     string // the graph afterwards, as "a>b" sorted; lone services as names
	}{
		{name: "leaf", graph: "playlist>storage search>playlist", remove: "search", left: "playlist playlist>storage storage"},
		{name: "in use refused", graph: "playlist>storage search>playlist radio>playlist", remove: "playlist",
			inUse: []string{"radio", "search"}, left: "playlist playlist>storage radio radio>playlist search search>playlist storage"},
		{name: "in use forced", graph: "playlist>storage search>playlist radio>playlist", remove: "playlist", force: true,
			detached: []string{"radio", "search"}, left: "radio search storage"},
		{name: "forced without dependents", graph: "playlist>storage", remove: "playlist", force: true, left: "storage"},
		{name: "in a cycle, forced", graph: "a>b b>a", remove: "a", force: true, detached: []string{"b"}, left: "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openServiceStore(t)
			buildServices(t, s, tt.graph)
			detached, err := s.RemoveService(tt.remove, tt.force)
			var inUse *ServiceInUseError
			switch {
			case tt.inUse != nil:
				if !errors.As(err, &inUse) || !reflect.DeepEqual(inUse.Dependents, tt.inUse) {
					t.Fatalf("RemoveService(%q) = %v, want in use by %v", tt.remove, err, tt.inUse)
				}
			case err != nil:
				t.Fatalf("RemoveService(%q) = %v", tt.remove, err)
			}
			if !reflect.DeepEqual(detached, tt.detached) {
				t.Errorf("detached %v, want %v", detached, tt.detached)
			}
			checkEdges(t, s)
			if got := graphString(t, s); got != tt.left {
				t.Errorf("graph after remove = %q, want %q", got, tt.left)
			}
		})
	}
	s := openServiceStore(t)
	if _, err := s.RemoveService("nope", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing an unknown service: %v", err)
	}
}

// graphString renders the catalogue as sorted "name" and "name>dep" items.
func graphString(tb testing.TB, s *Store) string {
	tb.Helper()
	all, err := s.Services()
	if err != nil {
		tb.Fatal(err)
	}
	var items []string
	for _, svc := range all {
		items = append(items, svc.Name)
		for _, d := range svc.Depends {
			items = append(items, svc.Name+">"+d)
		}
	}
	return strings.Join(items, " ")
}

func TestServiceUpdate(t *testing.T) {
	s := openServiceStore(t)
	buildServices(t, s, "playlist>storage")
	owner, slo, notes := "bob", 99.9, "runbook: wiki/playlist"
	if _, _, err := s.UpdateService("playlist", ServiceFields{Owner: &owner, SLO: &slo, Notes: &notes}, "alice"); err != nil {
		t.Fatal(err)
	}
	owner2 := "dave"
	before, after, err := s.UpdateService("playlist", ServiceFields{Owner: &owner2}, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if before.Owner != "bob" || after.Owner != "dave" || after.SLO != 99.9 || after.Notes != notes || after.UpdatedBy != "carol" {
		t.Errorf("update: before %+v after %+v", before, after)
	}
	if !reflect.DeepEqual(after.Depends, []string{"storage"}) {
		t.Errorf("update lost the edges: %v", after.Depends)
	}
	bad := 100.0
	if _, _, err := s.UpdateService("playlist", ServiceFields{SLO: &bad, Owner: &owner}, "carol"); !errors.Is(err, ErrBadSLO) {
		t.Errorf("slo 100: %v", err)
	}
	if o, _ := s.ServiceOwner("playlist"); o != "dave" {
		t.Errorf("a refused update changed the owner to %q", o)
	}
	if _, _, err := s.UpdateService("nope", ServiceFields{Owner: &owner}, "carol"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
}

// A config dependency on a service the config does not list is created with no owner, as --create does in
// chat (the contract's example config, docs/contract.md, has playlist depend on an unlisted storage); once removed in chat it stays
// removed.
func TestServiceSeedCreatesUnlistedDependencies(t *testing.T) {
	s := openServiceStore(t)
	seeds := []ServiceSeed{{Name: "playlist", Owner: "bob", Depends: []string{"storage"}, SLO: 99.9}}
	rep, err := s.SeedServices(seeds)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Created, []string{"playlist", "storage"}) || len(rep.Notes) != 0 {
		t.Fatalf("first seed: %+v", rep)
	}
	st, err := s.Service("storage")
	if err != nil || st.Owner != "" || st.CreatedBy != "config" || !reflect.DeepEqual(st.Dependents, []string{"playlist"}) {
		t.Fatalf("storage = %+v, %v; want no owner, created by config, playlist depending on it", st, err)
	}
	if rep, err = s.SeedServices(seeds); err != nil || len(rep.Created)+len(rep.Notes) != 0 {
		t.Fatalf("second seed: %+v, %v", rep, err)
	}
	if _, err := s.RemoveService("storage", true); err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, ServiceSeed{Name: "search", Depends: []string{"storage"}})
	if rep, err = s.SeedServices(seeds); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Created, []string{"search"}) || !strings.Contains(strings.Join(rep.Notes, "\n"), "service search: dependency storage skipped: no such service (removed in chat)") {
		t.Errorf("after storage was removed in chat: %+v", rep)
	}
	if _, err := s.Service("storage"); !errors.Is(err, ErrNotFound) {
		t.Errorf("storage came back after being removed in chat: %v", err)
	}
	checkEdges(t, s)
}

// TestServiceSeedPrecedence proves the rule the README states: config only creates services the store has
// never had from config and does not hold; chat edits and removals survive a restart with the same config.
func TestServiceSeedPrecedence(t *testing.T) {
	s := openServiceStore(t)
	seeds := []ServiceSeed{
		{Name: "storage", Owner: "carol", SLO: 99.95},
		{Name: "playlist", Owner: "bob", Depends: []string{"storage"}, SLO: 99.9, Notes: "playlist API"},
	}
	rep, err := s.SeedServices(seeds)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Created, []string{"storage", "playlist"}) || len(rep.Notes) != 0 {
		t.Fatalf("first seed: %+v", rep)
	}
	p, _ := s.Service("playlist")
	if p.Owner != "bob" || p.SLO != 99.9 || p.Notes != "playlist API" || p.CreatedBy != "config" || !reflect.DeepEqual(p.Depends, []string{"storage"}) {
		t.Fatalf("seeded playlist = %+v", p)
	}
	// Restart with the same config: nothing to do.
	if rep, err = s.SeedServices(seeds); err != nil || len(rep.Created)+len(rep.Notes) != 0 {
		t.Fatalf("second seed: %+v, %v", rep, err)
	}
	// Chat edits: playlist gets another owner, storage is removed, radio exists before config names it.
	dave := "dave"
	if _, _, err := s.UpdateService("playlist", ServiceFields{Owner: &dave}, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveService("storage", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddService("radio", ServiceFields{Owner: &dave}, nil, false, "alice"); err != nil {
		t.Fatal(err)
	}
	// Restart with the same config plus new entries: chat wins everywhere.
	seeds = append(seeds, ServiceSeed{Name: "radio", Owner: "erin"}, ServiceSeed{Name: "search", Owner: "erin", Depends: []string{"storage", "playlist"}})
	rep, err = s.SeedServices(seeds)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Created, []string{"search"}) {
		t.Errorf("third seed created %v, want only the new search", rep.Created)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{
		`service playlist: config differs from the catalogue (owner "bob" in config, "dave" in catalogue; depends [storage] in config, [] in catalogue); the catalogue wins`,
		"service storage: removed in chat, not re-created from config",
		`service radio: config differs from the catalogue (owner "erin" in config, "dave" in catalogue); the catalogue wins`,
		"service search: dependency storage skipped: no such service (removed in chat)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("seed notes lack %q:\n%s", want, notes)
		}
	}
	if o, _ := s.ServiceOwner("playlist"); o != "dave" {
		t.Errorf("playlist owner after restart = %q, want the chat edit dave", o)
	}
	if o, _ := s.ServiceOwner("radio"); o != "dave" {
		t.Errorf("radio owner after restart = %q, want the chat value dave", o)
	}
	if _, err := s.Service("storage"); !errors.Is(err, ErrNotFound) {
		t.Errorf("storage came back after being removed in chat: %v", err)
	}
	if got, _ := s.Service("search"); !reflect.DeepEqual(got.Depends, []string{"playlist"}) {
		t.Errorf("search depends on %v, want [playlist]", got.Depends)
	}
	checkEdges(t, s)
	// A bad name in the seeds is an error and changes nothing.
	if _, err := s.SeedServices([]ServiceSeed{{Name: "new"}, {Name: "Bad"}}); !errors.Is(err, ErrBadServiceName) {
		t.Errorf("bad seed name: %v", err)
	}
	if _, err := s.Service("new"); !errors.Is(err, ErrNotFound) {
		t.Error("a failed seed left a service behind")
	}
}

// TestServiceImpactMatchesNaiveWalk checks the batched walk against a plain breadth-first search over
// Services() on graphs big enough for the edge reader to mix stepping and seeking.
func TestServiceImpactMatchesNaiveWalk(t *testing.T) {
	s := openServiceStore(t)
	buildBenchGraph(t, s, 400, 1600)
	all, err := s.Services()
	if err != nil {
		t.Fatal(err)
	}
	dependents := map[string][]string{}
	for _, svc := range all {
		dependents[svc.Name] = svc.Dependents
	}
	for _, root := range []string{"svc-0000", "svc-0001", "svc-0017", "svc-0200", "svc-0399"} {
		want := map[string]int{root: 0}
		queue := []string{root}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, d := range dependents[cur] {
				if _, seen := want[d]; !seen {
					want[d] = want[cur] + 1
					queue = append(queue, d)
				}
			}
		}
		delete(want, root)
		im, err := s.Impact(root)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, d := range im.Dependents {
			got[d.Name] = d.Depth
			for i := 1; i < len(d.Path); i++ {
				if !slices.Contains(dependents[d.Path[i-1]], d.Path[i]) {
					t.Errorf("Impact(%s): path %v: %s does not depend on %s", root, d.Path, d.Path[i], d.Path[i-1])
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Impact(%s) reached %d services, the naive walk %d (or depths differ)", root, len(got), len(want))
		}
		for _, c := range im.Cycles {
			for i := 0; i+1 < len(c); i++ {
				if !slices.Contains(dependents[c[i+1]], c[i]) {
					t.Errorf("Impact(%s): cycle %v: %s does not depend on %s", root, c, c[i], c[i+1])
				}
			}
		}
		if root == "svc-0000" && len(im.Cycles) == 0 {
			t.Errorf("Impact(%s) found no cycles in a graph with upward edges", root)
		}
	}
}

func TestServiceSLO(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.SeedServices([]ServiceSeed{{Name: "playlist", SLO: 99.9}, {Name: "storage"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		slo  float64
		ok   bool
	}{{"playlist", 99.9, true}, {"storage", 0, false}, {"ghost", 0, false}} {
		slo, ok, err := s.ServiceSLO(tt.name)
		if err != nil || slo != tt.slo || ok != tt.ok {
			t.Errorf("ServiceSLO(%s) = %v, %v, %v; want %v, %v", tt.name, slo, ok, err, tt.slo, tt.ok)
		}
	}
}
