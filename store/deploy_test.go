package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// openDeployStore opens a store in t.TempDir() whose clock advances one minute per call.
func openDeployStore(tb testing.TB) *Store {
	tb.Helper()
	s := mustOpen(tb)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { now = now.Add(time.Minute); return now }
	return s
}

// step is one event and what it must do.
type step struct {
	ev      DeployEvent
	wantErr error
	check   func(t *testing.T, r DeployResult)
}

func start(svc, version string) DeployEvent {
	return DeployEvent{Status: DeployStarted, Service: svc, Version: version, By: "alice", Source: "chat"}
}

func ev(status DeployState, svc string) DeployEvent {
	return DeployEvent{Status: status, Service: svc, By: "bob", Source: "chat"}
}

func wantState(want DeployState, version string) func(*testing.T, DeployResult) {
	return func(t *testing.T, r DeployResult) {
		t.Helper()
		if r.Deploy.State != want || r.Deploy.Version != version {
			t.Errorf("deploy = %s %s, want %s %s", r.Deploy.Version, r.Deploy.State, version, want)
		}
	}
}

func TestDeployStateMachine(t *testing.T) {
	with := func(e DeployEvent, f func(*DeployEvent)) DeployEvent { f(&e); return e }
	shipped := []step{{ev: start("playlist", "1.41")}, {ev: ev(DeploySucceeded, "playlist")}}
	cases := []struct {
		name        string
		steps       []step
		wantCurrent string // prod version afterwards
		wantActive  int
	}{
		{"canary 10% -> 50% -> done", append(slices.Clone(shipped),
			step{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Percent = 10 }), check: func(t *testing.T, r DeployResult) {
				if !r.Started || r.Deploy.State != DeployStarted || r.Deploy.Percent != 10 || r.Deploy.Previous != "1.41" || r.Deploy.Env != "prod" {
					t.Errorf("start = %+v", r)
				}
			}},
			step{ev: with(ev(DeployProgress, "playlist"), func(e *DeployEvent) { e.Percent = 50 }), check: func(t *testing.T, r DeployResult) {
				if r.Deploy.State != DeployProgress || r.Deploy.Percent != 50 {
					t.Errorf("progress = %+v", r.Deploy)
				}
			}},
			step{ev: ev(DeploySucceeded, "playlist"), check: func(t *testing.T, r DeployResult) {
				if r.Deploy.State != DeploySucceeded || r.Deploy.EndedBy != "bob" || r.Deploy.Ended.IsZero() {
					t.Errorf("done = %+v", r.Deploy)
				}
			}},
		), "1.42", 0},
		{"second start refused naming the first", []step{
			{ev: start("playlist", "1.42")},
			{ev: start("playlist", "1.43"), wantErr: ErrDeployInProgress, check: func(t *testing.T, r DeployResult) {}},
		}, "", 1},
		{"another environment may roll out at the same time", []step{
			{ev: start("playlist", "1.42")},
			{ev: with(start("playlist", "1.43"), func(e *DeployEvent) { e.Env = "staging" })},
			{ev: ev(DeploySucceeded, "playlist"), wantErr: ErrDeployEnv},
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Env = "staging" }), check: wantState(DeploySucceeded, "1.43")},
		}, "", 1},
		{"progress without a rollout", []step{{ev: ev(DeployProgress, "playlist"), wantErr: ErrNoRollout}}, "", 0},
		{"sites accumulate", []step{
			{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Sites = []string{"eu-1"} })},
			{ev: with(ev(DeployProgress, "playlist"), func(e *DeployEvent) { e.Sites = []string{"eu-1", "us-1"} }), check: func(t *testing.T, r DeployResult) {
				if !slices.Equal(r.Deploy.Sites, []string{"eu-1", "us-1"}) {
					t.Errorf("sites = %v", r.Deploy.Sites)
				}
			}},
		}, "", 1},
		{"failed rollout keeps the current version", append(slices.Clone(shipped),
			step{ev: start("playlist", "1.42")},
			step{ev: with(ev(DeployFailed, "playlist"), func(e *DeployEvent) { e.Reason = "5xx" }), check: func(t *testing.T, r DeployResult) {
				if r.Deploy.State != DeployFailed || r.Deploy.Reason != "5xx" {
					t.Errorf("fail = %+v", r.Deploy)
				}
			}},
		), "1.41", 0},
		{"rollback of a rollout in progress locks the service", append(slices.Clone(shipped),
			step{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Percent = 50 })},
			step{ev: with(ev(DeployRolledBack, "playlist"), func(e *DeployEvent) { e.LockOnRollback, e.Reason = true, "errors" }), check: func(t *testing.T, r DeployResult) {
				if r.Deploy.State != DeployRolledBack || r.Deploy.RolledBackTo != "1.41" || r.Deploy.Reason != "errors" {
					t.Errorf("rollback = %+v", r.Deploy)
				}
				if r.Lock == nil || r.Lock.Reason != "rolled back from 1.42" || r.Lock.By != "bob" {
					t.Errorf("lock = %+v", r.Lock)
				}
			}},
			step{ev: start("playlist", "1.43"), wantErr: ErrDeployLocked},
		), "1.41", 0},
		{"rollback of a finished deploy returns to the previous version", append(slices.Clone(shipped),
			step{ev: start("playlist", "1.42")}, step{ev: ev(DeploySucceeded, "playlist")},
			step{ev: ev(DeployRolledBack, "playlist"), check: func(t *testing.T, r DeployResult) {
				if r.Lock != nil || r.Deploy.RolledBackTo != "1.41" {
					t.Errorf("rollback = %+v, lock %+v", r.Deploy, r.Lock)
				}
			}},
			step{ev: ev(DeployRolledBack, "playlist"), wantErr: ErrNothingToRollBack},
		), "1.41", 0},
		{"rollback to a named version", append(slices.Clone(shipped),
			step{ev: with(ev(DeployRolledBack, "playlist"), func(e *DeployEvent) { e.ToVersion = "1.39" }), wantErr: ErrNotRunBefore}, // a developer: 1.39 never ran
			step{ev: with(ev(DeployRolledBack, "playlist"), func(e *DeployEvent) { e.ToVersion, e.Force = "1.39", true })},            // ops may
		), "1.39", 0},
		{"rollback without a known previous version", []step{
			{ev: ev(DeployRolledBack, "playlist"), wantErr: ErrNothingToRollBack},
			{ev: start("playlist", "1.0")},
			{ev: ev(DeployRolledBack, "playlist"), wantErr: ErrNoPrevious},
		}, "", 1},
		{"rollback keeps an existing lock", append(slices.Clone(shipped),
			step{ev: start("playlist", "1.42")},
			step{ev: with(ev(DeployRolledBack, "playlist"), func(e *DeployEvent) { e.LockOnRollback = true })},
			step{ev: with(start("playlist", "1.43"), func(e *DeployEvent) { e.Force = true })},
			step{ev: with(ev(DeployRolledBack, "playlist"), func(e *DeployEvent) { e.LockOnRollback = true }), check: func(t *testing.T, r DeployResult) {
				if r.Lock != nil || r.KeptLock == nil || r.KeptLock.Reason != "rolled back from 1.42" {
					t.Errorf("lock %+v kept %+v", r.Lock, r.KeptLock)
				}
			}},
		), "1.41", 0},
		{"forced start past a lock and a freeze records the override", []step{
			{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Force, e.Frozen = true, "INC-7 SEV1 open" }), check: func(t *testing.T, r DeployResult) {
				if r.Deploy.Override != "frozen: INC-7 SEV1 open" {
					t.Errorf("override = %q", r.Deploy.Override)
				}
			}},
		}, "", 1},
		{"webhook: redelivery changes nothing", []step{
			{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Delivery = "d1" })},
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Delivery = "d1" }), check: func(t *testing.T, r DeployResult) {
				if !r.Duplicate || r.Deploy.State != DeployStarted {
					t.Errorf("redelivery = %+v", r)
				}
			}},
		}, "", 1},
		{"webhook: succeeded without started starts and finishes", []step{
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Version, e.Env, e.AutoStart = "2.0", "prod", true }), check: func(t *testing.T, r DeployResult) {
				if !r.Started || r.Deploy.State != DeploySucceeded {
					t.Errorf("auto start = %+v", r)
				}
			}},
		}, "2.0", 0},
		{"webhook: a late or repeated event for a rollout that ended changes nothing", []step{
			{ev: with(start("playlist", "1.41"), func(e *DeployEvent) { e.Env, e.AutoStart = "prod", true })},
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Version, e.Env, e.AutoStart = "1.41", "prod", true })},
			{ev: with(ev(DeployProgress, "playlist"), func(e *DeployEvent) { e.Version, e.Env, e.AutoStart, e.Percent = "1.41", "prod", true, 50 }), wantErr: ErrRolloutEnded},
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Version, e.Env, e.AutoStart = "1.41", "prod", true }), wantErr: ErrRolloutEnded},
			{ev: with(start("playlist", "1.42"), func(e *DeployEvent) { e.Env = "prod" })}, // not blocked by a phantom rollout
		}, "1.41", 1},
		{"webhook: started twice for one version is progress", []step{
			{ev: with(start("playlist", "2.0"), func(e *DeployEvent) { e.Env, e.AutoStart = "prod", true })},
			{ev: with(start("playlist", "2.0"), func(e *DeployEvent) { e.Env, e.AutoStart, e.Percent = "prod", true, 30 }), check: func(t *testing.T, r DeployResult) {
				if r.Started || r.Deploy.State != DeployProgress || r.Deploy.Percent != 30 {
					t.Errorf("second started = %+v", r)
				}
			}},
			{ev: with(ev(DeploySucceeded, "playlist"), func(e *DeployEvent) { e.Version, e.Env, e.AutoStart = "2.1", "prod", true }), wantErr: ErrDeployInProgress},
		}, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openDeployStore(t)
			for i, st := range tc.steps {
				r, err := s.ApplyDeploy(st.ev)
				if st.wantErr != nil {
					if !errors.Is(err, st.wantErr) {
						t.Fatalf("step %d %s: err = %v, want %v", i, st.ev.Status, err, st.wantErr)
					}
					var de *DeployError
					if errors.Is(st.wantErr, ErrDeployInProgress) && (!errors.As(err, &de) || de.Deploy == nil) {
						t.Fatalf("step %d: refusal %v does not name the rollout in progress", i, err)
					}
				} else if err != nil {
					t.Fatalf("step %d %s: %v", i, st.ev.Status, err)
				}
				if st.check != nil && err == nil {
					st.check(t, r)
				}
			}
			if v, err := s.CurrentVersion("playlist", "prod"); err != nil || v != tc.wantCurrent {
				t.Errorf("CurrentVersion = %q, %v; want %q", v, err, tc.wantCurrent)
			}
			active, _, err := s.DeployOverview()
			if err != nil || len(active) != tc.wantActive {
				t.Errorf("rollouts in progress = %d (%v), want %d", len(active), err, tc.wantActive)
			}
			counts, _ := s.OpenCounts()
			if counts["deploys"] != tc.wantActive {
				t.Errorf("OpenCounts()[deploys] = %d, want %d", counts["deploys"], tc.wantActive)
			}
		})
	}
}

func TestDeployLocks(t *testing.T) {
	s := openDeployStore(t)
	if _, err := s.UnlockDeploys("playlist"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlock of an unlocked service: %v", err)
	}
	if _, prev, err := s.LockDeploys(LockAll, "release", "carol"); err != nil || prev != nil {
		t.Fatalf("lock all: %v %v", prev, err)
	}
	_, err := s.ApplyDeploy(start("search", "1"))
	var de *DeployError
	if !errors.As(err, &de) || !errors.Is(err, ErrDeployLocked) || len(de.Locks) != 1 || de.Locks[0].Service != LockAll {
		t.Fatalf("start under lock all: %v", err)
	}
	s.LockDeploys("search", "migration", "carol")
	_, prev, _ := s.LockDeploys("search", "migration 2", "alice")
	if prev == nil || prev.Reason != "migration" {
		t.Errorf("relock returned previous %+v", prev)
	}
	locks, _ := s.DeployLocksFor("search")
	if len(locks) != 2 || locks[0].Service != "search" || locks[1].Service != LockAll {
		t.Errorf("DeployLocksFor = %+v", locks)
	}
	r, err := s.ApplyDeploy(DeployEvent{Status: DeployStarted, Service: "search", Version: "1", By: "carol", Force: true})
	if err != nil || r.Deploy.Override != "locked: migration 2 (alice); locked: release (carol)" {
		t.Fatalf("forced start: %q %v", r.Deploy.Override, err)
	}
	if l, err := s.UnlockDeploys(LockAll); err != nil || l.Reason != "release" {
		t.Fatalf("unlock all: %+v %v", l, err)
	}
	if _, locks, _ := s.DeployOverview(); len(locks) != 1 || locks[0].Service != "search" {
		t.Errorf("locks after unlock all = %+v", locks)
	}
}

func TestDeployHistoryAndContract(t *testing.T) {
	s := openDeployStore(t)
	var starts []time.Time
	for _, v := range []string{"1", "2", "3"} {
		r, err := s.ApplyDeploy(start("playlist", v))
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, r.Deploy.Started)
		s.ApplyDeploy(ev(DeploySucceeded, "playlist"))
		s.ApplyDeploy(start("play", v)) // a service whose name is a prefix of the other
		s.ApplyDeploy(ev(DeploySucceeded, "play"))
	}
	h, err := s.DeployHistory("playlist", 2)
	if err != nil || len(h) != 2 || h[0].Version != "3" || h[1].Version != "2" {
		t.Fatalf("DeployHistory(playlist, 2) = %+v, %v", h, err)
	}
	if h, _ := s.DeployHistory("play", 10); len(h) != 3 || h[0].Service != "play" {
		t.Fatalf("DeployHistory(play) = %+v", h)
	}
	ds, err := s.DeploysStartedBetween("playlist", starts[1], starts[2])
	if err != nil || len(ds) != 1 || ds[0].ID != 3 || ds[0].Version != "2" || ds[0].State != DeploySucceeded {
		t.Fatalf("DeploysStartedBetween = %+v, %v", ds, err)
	}
	if all, _ := s.DeploysStartedBetween("playlist", starts[0], starts[2].Add(time.Second)); len(all) != 3 || all[0].ID != 1 {
		t.Errorf("DeploysStartedBetween (all) = %+v", all)
	}
	st, _ := s.DeployStatusOf("playlist")
	if len(st.Current) != 1 || st.Current[0].Version != "3" || st.Current[0].Previous != "2" {
		t.Errorf("status = %+v", st)
	}
	if recent, _ := s.RecentDeploys(2); len(recent) != 2 || recent[0].ID != 6 {
		t.Errorf("RecentDeploys = %+v", recent)
	}
	if _, err := s.GetDeploy(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDeploy(99) = %v", err)
	}
}

func TestDeployStateSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyDeploy(start("playlist", "1.42"))
	s.ApplyDeploy(DeployEvent{Status: DeployProgress, Service: "playlist", Percent: 50, Delivery: "x"})
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.ApplyDeploy(DeployEvent{Status: DeploySucceeded, Service: "playlist", Delivery: "x"})
	if err != nil || !r.Duplicate || r.Deploy.Percent != 50 {
		t.Fatalf("after reopen: %+v %v", r, err)
	}
}

func TestDeployRollbackKeepsWhatRanAsPrevious(t *testing.T) {
	s := openDeployStore(t)
	s.ApplyDeploy(start("playlist", "1.41"))
	s.ApplyDeploy(ev(DeploySucceeded, "playlist"))
	s.ApplyDeploy(start("playlist", "1.42"))
	if _, err := s.ApplyDeploy(DeployEvent{Status: DeployRolledBack, Service: "playlist", ToVersion: "1.40", By: "bob"}); err != nil {
		t.Fatal(err)
	}
	st, _ := s.DeployStatusOf("playlist")
	if len(st.Current) != 1 || st.Current[0].Version != "1.40" || st.Current[0].Previous != "1.41" || len(st.Active) != 0 {
		t.Fatalf("after rolling a rollout back to 1.40: %+v", st)
	}
}

func TestDeploysSince(t *testing.T) {
	s := openDeployStore(t)
	var second time.Time
	for i, v := range []string{"1", "2", "3"} {
		r, _ := s.ApplyDeploy(start("playlist", v))
		s.ApplyDeploy(ev(DeploySucceeded, "playlist"))
		if i == 1 {
			second = r.Deploy.Started
		}
	}
	got, err := s.DeploysSince(second)
	if err != nil || len(got) != 2 || got[0].Version != "3" || got[1].Version != "2" {
		t.Fatalf("DeploysSince = %+v, %v", got, err)
	}
}
