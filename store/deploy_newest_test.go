package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// walkNewest is what newestDeploy did before the index: walk the service's history to the first deploy
// to env.
func walkNewest(tx *bolt.Tx, service, env string) (*Deploy, error) {
	var found *Deploy
	err := walkHistory(tx, service, func(d Deploy) bool {
		if d.Env == env {
			found = &d
			return false
		}
		return true
	})
	return found, err
}

// checkNewest compares the index with a walk of the history for every service and environment.
func checkNewest(t *testing.T, s *Store, services, envs []string) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, svc := range services {
			for _, env := range envs {
				got, err := newestDeploy(tx, svc, env)
				if err != nil {
					return err
				}
				want, err := walkNewest(tx, svc, env)
				if err != nil {
					return err
				}
				if (got == nil) != (want == nil) || got != nil && got.ID != want.ID {
					t.Errorf("newest deploy of %s in %s: %v, the history says %v", svc, env, got, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The newest-deploy index agrees with the history for every service and environment, rare or unknown, after
// starts, webhook events that start a rollout themselves, failures and rollbacks.
func TestDeployNewestIndexAgreesWithHistory(t *testing.T) {
	s := openDeployStore(t)
	rng := rand.New(rand.NewPCG(3, 4))
	services, envs := []string{"playlist", "search", "radio"}, []string{"prod", "staging", "qa", "prd"}
	for i := range 400 {
		svc, env := services[rng.IntN(3)], envs[rng.IntN(2)]
		if rng.IntN(30) == 0 {
			env = "qa"
		}
		_, _ = s.ApplyDeploy(randomDeployEvent(rng, svc, env, i)) // refusals are part of the history too
	}
	checkNewest(t, s, services, envs)
}

// randomDeployEvent is a start, progress, success or rollback of svc in env, version i where it names one.
func randomDeployEvent(rng *rand.Rand, svc, env string, i int) DeployEvent {
	e := DeployEvent{Service: svc, Env: env, Version: fmt.Sprint(i), By: "ci", Source: "webhook", Force: true, AutoStart: true}
	switch rng.IntN(4) {
	case 0:
		e.Status = DeployStarted
	case 1:
		e.Status = DeployProgress
	case 2:
		e.Status, e.Version = DeploySucceeded, ""
	default:
		e.Status, e.Version, e.Source = DeployRolledBack, "", "chat"
	}
	return e
}

// A store written before the index (schema 2) gets it built when opened.
func TestDeployNewestIndexMigratesFromSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { now = now.Add(time.Minute); return now }
	for i := range 50 {
		env := "prod"
		if i == 3 || i == 5 {
			env = "qa"
		}
		mustDeploy(t, s, start("playlist", fmt.Sprint(i)), env)
		mustDeploy(t, s, ev(DeploySucceeded, "playlist"), env)
	}
	s.Close()
	s = openAtSchema(t, path, 2, bucketDeployNewest)
	s.Now = func() time.Time { now = now.Add(time.Minute); return now }
	checkNewest(t, s, []string{"playlist", "search"}, []string{"prod", "qa", "staging"})
	r, err := s.ApplyDeploy(DeployEvent{Status: DeployRolledBack, Service: "playlist", Env: "qa", By: "bob", Source: "chat"})
	if err != nil || r.Deploy.Version != "5" || r.Deploy.RolledBackTo != "3" || r.Deploy.Env != "qa" {
		t.Fatalf("rollback in qa after the migration = %+v, %v; want 5 rolled back to 3", r.Deploy, err)
	}
}

func mustDeploy(t *testing.T, s *Store, e DeployEvent, env string) {
	t.Helper()
	e.Env = env
	if _, err := s.ApplyDeploy(e); err != nil {
		t.Fatal(err)
	}
}

// toSchema turns a closed store file back into an older schema's shape: the version set back, the buckets
// that version did not have removed. (Close's clean marker stays, as an older build would have left none.)
// openAtSchema rewinds the closed store at path to schema version (toSchema) and opens it again, as this
// build would find a store an older one wrote; the store is closed when the test ends.
func openAtSchema(t *testing.T, path string, version int, drop ...[]byte) *Store {
	t.Helper()
	toSchema(t, path, version, drop...)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func toSchema(t *testing.T, path string, version int, drop ...[]byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range drop {
			if err := tx.DeleteBucket(b); err != nil {
				return fmt.Errorf("drop %s: %w", b, err)
			}
		}
		tx.Bucket(bucketMeta).Delete(keyCleanClose)
		return tx.Bucket(bucketMeta).Put(keySchema, itob(uint64(version)))
	})
	if err != nil {
		t.Fatal(err)
	}
}
