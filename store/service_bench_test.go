package store

import (
	"fmt"
	"math/rand/v2"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// buildBenchGraph stores n services and exactly edges dependencies in one transaction: service i depends on
// up to four random services below it (a layered graph where svc-0000 is everyone's transitive dependency),
// and the remaining edges point upwards, closing cycles, as real catalogues have a few.
func buildBenchGraph(tb testing.TB, s *Store, n, edges int) {
	tb.Helper()
	name := func(i int) string { return fmt.Sprintf("svc-%04d", i) }
	rng := rand.New(rand.NewPCG(1, 2))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			if _, err := s.createService(tx, name(i), ServiceFields{}, "bench"); err != nil {
				return err
			}
		}
		count := 0
		add := func(a, b int) error {
			if _, existed, err := s.dependTx(tx, name(a), name(b), false, "bench"); err != nil || existed {
				return err
			}
			count++
			return nil
		}
		for i := 1; i < n; i++ {
			for range min(4, i) {
				if err := add(i, rng.IntN(i)); err != nil {
					return err
				}
			}
		}
		for count < edges {
			a := rng.IntN(n / 10)
			if err := add(a, a+1+rng.IntN(n-a-1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkImpact5000 measures !impact's store time on a 5,000-service graph with 20,000 edges: "hub" reaches
// nearly every service (the worst case), "mid" and "leaf" are typical.
func BenchmarkImpact5000(b *testing.B) {
	s := openServiceStore(b)
	buildBenchGraph(b, s, 5000, 20000)
	for _, tc := range []struct{ name, svc string }{{"hub", "svc-0000"}, {"mid", "svc-2500"}, {"leaf", "svc-4990"}} {
		im, err := s.Impact(tc.svc)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Impact(tc.svc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(im.Dependents)), "dependents")
		})
	}
}
