package store

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// scanRolledBack is what the retro agenda and the handoff digest did before the index: decode every deploy
// and keep those rolled back in [from, to), oldest rollback first (by id when two share an instant).
func scanRolledBack(t *testing.T, s *Store, from, to time.Time) []uint64 {
	t.Helper()
	all, err := s.DeploysSince(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	slices.SortFunc(all, func(a, b Deploy) int {
		if c := a.Ended.Compare(b.Ended); c != 0 {
			return c
		}
		return int(a.ID) - int(b.ID)
	})
	for _, d := range all {
		if d.State == DeployRolledBack && !d.Ended.Before(from) && d.Ended.Before(to) {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func rolledBackIDs(t *testing.T, s *Store, from, to time.Time) []uint64 {
	t.Helper()
	got, err := s.DeploysRolledBack(from, to)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, d := range got {
		if d.State != DeployRolledBack {
			t.Errorf("D-%d listed as rolled back is %s", d.ID, d.State)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// randomDeploys writes n random deploy events a few minutes apart from start, rollbacks among them.
func randomDeploys(t *testing.T, s *Store, n int, start time.Time) time.Time {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	now := start
	s.Now = func() time.Time { return now }
	services, envs := []string{"playlist", "search", "radio"}, []string{"prod", "staging"}
	for i := range n {
		now = now.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
		_, _ = s.ApplyDeploy(randomDeployEvent(rng, services[rng.IntN(3)], envs[rng.IntN(2)], i)) // refusals are part of the history too
	}
	return now
}

// The rollback index lists exactly the deploys a scan of every deploy finds rolled back in a window, for
// windows of every size and at their edges.
func TestDeploysRolledBackAgreesWithAScan(t *testing.T) {
	s := openDeployStore(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := randomDeploys(t, s, 600, start)
	if n := len(scanRolledBack(t, s, start, end.Add(time.Second))); n < 50 {
		t.Fatalf("only %d rollbacks in the history: the test would say little", n)
	}
	all, err := s.DeploysRolledBack(start, end.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	windows := [][2]time.Time{{start, end.Add(time.Second)}, {start.Add(48 * time.Hour), start.Add(72 * time.Hour)},
		{all[3].Ended, all[9].Ended}, {all[3].Ended.Add(time.Nanosecond), all[9].Ended.Add(time.Nanosecond)}, {end, end}}
	for _, w := range windows {
		if got, want := rolledBackIDs(t, s, w[0], w[1]), scanRolledBack(t, s, w[0], w[1]); !slices.Equal(got, want) {
			t.Errorf("rolled back in [%s, %s): %v, the scan says %v", w[0], w[1], got, want)
		}
	}
}

// A store written before the index (schema 5) gets it built when opened, and rollbacks after are added.
func TestDeployRollbacksMigrateFromSchema5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := randomDeploys(t, s, 200, start)
	want := scanRolledBack(t, s, start, end.Add(time.Second))
	s.Close()
	s = openAtSchema(t, path, 5, bucketDeployRollbacks)
	if got := rolledBackIDs(t, s, start, end.Add(time.Second)); len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("after the migration: %v, the scan says %v", got, want)
	}
	later := randomDeploys(t, s, 100, end)
	if got, want := rolledBackIDs(t, s, start, later.Add(time.Second)), scanRolledBack(t, s, start, later.Add(time.Second)); !slices.Equal(got, want) {
		t.Errorf("after more deploys: %v, the scan says %v", got, want)
	}
}
