package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkDeployEvent is the cost of one committed deploy event (half starts, half successes).
func BenchmarkDeployEvent(b *testing.B) {
	s := openDeployStore(b)
	i := 0
	for b.Loop() {
		e := DeployEvent{Status: DeployStarted, Service: "playlist", Version: fmt.Sprint(i), By: "alice"}
		if i%2 == 1 {
			e = DeployEvent{Status: DeploySucceeded, Service: "playlist", By: "alice"}
		}
		if _, err := s.ApplyDeploy(e); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// seedDeploys writes n finished deploys over 100 services in one transaction, with one rollout in progress
// and one lock per ten services, so the benchmarks below measure queries at scale.
func seedDeploys(b *testing.B, s *Store, n int) {
	b.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			svc := fmt.Sprintf("svc-%02d", i%100)
			now = now.Add(time.Minute)
			env := DefaultEnv
			if i == 43 {
				env = "qa" // svc-43's one deploy to qa, at the start of its history
			}
			if _, err := startDeploy(tx, DeployEvent{Service: svc, Env: env, Version: fmt.Sprint(i), By: "ci", Force: true}, now); err != nil {
				return err
			}
			if i >= n-100 && i%10 == 0 {
				continue // stays in progress
			}
			if _, err := advanceDeploy(tx, DeployEvent{Status: DeploySucceeded, Service: svc, Env: env}, now); err != nil {
				return err
			}
		}
		for i := 0; i < 100; i += 10 {
			if err := putJSON(tx.Bucket(bucketDeployLocks), fmt.Appendf(nil, "svc-%02d", i), DeployLock{Service: fmt.Sprintf("svc-%02d", i), Reason: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkDeployQueriesAt100k(b *testing.B) {
	s := openDeployStore(b)
	seedDeploys(b, s, 100_000)
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			if a, l, err := s.DeployOverview(); err != nil || len(a) != 10 || len(l) != 10 {
				b.Fatal(len(a), len(l), err)
			}
		}
	})
	b.Run("status", func(b *testing.B) {
		for b.Loop() {
			if st, err := s.DeployStatusOf("svc-42"); err != nil || len(st.Current) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("history10", func(b *testing.B) {
		for b.Loop() {
			if h, err := s.DeployHistory("svc-42", 10); err != nil || len(h) != 10 {
				b.Fatal(err)
			}
		}
	})
	b.Run("between24h", func(b *testing.B) {
		from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		for b.Loop() {
			if l, err := s.DeploysStartedBetween("svc-42", from, from.Add(24*time.Hour)); err != nil || len(l) < 10 {
				b.Fatal(len(l), err)
			}
		}
	})
	// A rollback in an environment the service rarely deploys to (its one deploy there is 1,000 deploys
	// back) and in a misspelt one (none): both are refused (no version before that one; nothing to roll
	// back), so these time the lookup inside the write transaction, without a commit.
	b.Run("rollback-rare-env", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ApplyDeploy(DeployEvent{Status: DeployRolledBack, Service: "svc-43", Env: "qa", By: "bob", Source: "chat"}); !errors.Is(err, ErrNoPrevious) {
				b.Fatal(err)
			}
		}
	})
	b.Run("rollback-misspelt-env", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ApplyDeploy(DeployEvent{Status: DeployRolledBack, Service: "svc-43", Env: "prd", By: "bob", Source: "chat"}); !errors.Is(err, ErrNothingToRollBack) {
				b.Fatal(err)
			}
		}
	})
}
