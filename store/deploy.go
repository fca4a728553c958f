package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Deploy buckets. Keys that combine a service with something else separate the parts with a NUL byte
// (service and environment names never contain one).
var (
	bucketDeploys          = []byte("deploys")            // id -> Deploy
	bucketDeployByService  = []byte("deploys_by_service") // service NUL started(8) id(8) -> nil
	bucketDeployActive     = []byte("deploys_active")     // service NUL env -> id of the rollout in progress
	bucketDeployCurrent    = []byte("deploys_current")    // service NUL env -> DeployCurrent
	bucketDeployLocks      = []byte("deploy_locks")       // service or "all" -> DeployLock
	bucketDeployDeliveries = []byte("deploy_deliveries")  // webhook delivery id -> deliveryRecord
	// bucketDeployNewest holds the newest deploy of each service and environment: service NUL env ->
	// started(8) id(8), so a rollback or a webhook event with nothing in progress finds it without walking
	// the service's history (schema 3).
	bucketDeployNewest = []byte("deploys_newest")
	// bucketDeployRollbacks holds the deploys rolled back, by when: ended(8) id(8) -> nil, so the retro agenda
	// and the handoff digest find a week's or a shift's rollbacks without decoding the deploys before it
	// (schema 6). A deploy is rolled back at most once.
	bucketDeployRollbacks = []byte("deploys_rolled_back")
)

var (
	_ = registerBuckets(bucketDeploys, bucketDeployByService, bucketDeployActive, bucketDeployCurrent, bucketDeployLocks,
		bucketDeployDeliveries, bucketDeployNewest, bucketDeployRollbacks)
	// By id. (Not by service: 200 services' streams interleave in its pages, and full pages would split at
	// every insertion into one; delivery ids are the CI's, in no order.)
	_ = registerAppendBuckets(bucketDeploys, bucketDeployRollbacks)
	_ = registerOpenCounter("deploys", countActiveDeploys)
)

// LockAll is the lock key that stops deploys of every service.
const LockAll = "all"

// DeployState is where a rollout is in its life: started -> progress -> succeeded | failed | rolled_back.
type DeployState string

// The deploy states.
const (
	DeployStarted    DeployState = "started"
	DeployProgress   DeployState = "progress"
	DeploySucceeded  DeployState = "succeeded"
	DeployFailed     DeployState = "failed"
	DeployRolledBack DeployState = "rolled_back"
)

// DeployStates lists the states in lifecycle order (the webhook's valid statuses).
var DeployStates = []DeployState{DeployStarted, DeployProgress, DeploySucceeded, DeployFailed, DeployRolledBack}

// Active reports whether a rollout in this state is still in progress.
func (s DeployState) Active() bool { return s == DeployStarted || s == DeployProgress }

// Deploy is one rollout of a version of a service to an environment.
type Deploy struct {
	ID      uint64      `json:"id"`
	Service string      `json:"service"`
	Version string      `json:"version"`
	Env     string      `json:"environment"`
	State   DeployState `json:"state"`
	// Percent (1-100, 0 = not given) and Sites describe how far a partial rollout has gone.
	Percent int      `json:"percent,omitempty"`
	Sites   []string `json:"sites,omitempty"`
	By      string   `json:"actor"`
	URL     string   `json:"url,omitempty"`
	Note    string   `json:"message,omitempty"` // from the webhook's message field
	// Previous is the version that was current in the environment when the rollout started.
	Previous string `json:"previous,omitempty"`
	// Override says which lock or freeze the rollout was forced past, "" if none.
	Override     string    `json:"override,omitempty"`
	Reason       string    `json:"reason,omitempty"` // why it failed or was rolled back
	RolledBackTo string    `json:"rolled_back_to,omitempty"`
	Source       string    `json:"source"` // chat or webhook
	Started      time.Time `json:"started"`
	Updated      time.Time `json:"updated"`
	Ended        time.Time `json:"ended,omitzero"`
	EndedBy      string    `json:"ended_by,omitempty"`
}

// DeployCurrent is the version running in one environment.
type DeployCurrent struct {
	Env      string    `json:"environment"`
	Version  string    `json:"version"`
	Previous string    `json:"previous,omitempty"`
	DeployID uint64    `json:"deploy_id"`
	By       string    `json:"actor"`
	At       time.Time `json:"at"`
}

// DeployLock stops new rollouts of a service (or of every service when Service is LockAll).
type DeployLock struct {
	Service string    `json:"service"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// DeployEvent is one step of a rollout, from chat or from a webhook. Both go through ApplyDeploy, so they
// follow the same state machine.
type DeployEvent struct {
	Status  DeployState
	Service string
	// Env is the environment; "" means the service's only rollout in progress (and for a rollback without
	// one, DefaultEnv).
	Env string
	// Version is the version being deployed; "" (chat) means whatever is rolling out. A webhook always names
	// it, and an event for another version than the one rolling out is a conflict.
	Version string
	Percent int
	Sites   []string
	By      string
	URL     string
	Note    string
	Reason  string
	// ToVersion is a rollback's target; "" means the version before the one rolled back.
	ToVersion string
	// Force starts a rollout although the service is locked (ops --force; webhooks report facts, always).
	Force bool
	// Frozen is the freeze the caller decided to force past, recorded as an override.
	Frozen string
	// LockOnRollback locks the service after a rollback ("rolled back from <version>").
	LockOnRollback bool
	// AutoStart lets progress, succeeded and failed start the rollout first when none is in progress
	// (webhooks whose pipeline skipped "started").
	AutoStart bool
	// Delivery is a webhook delivery id: an event whose id was seen before changes nothing.
	Delivery string
	Source   string
}

// DeployResult is what an event did.
type DeployResult struct {
	Deploy Deploy
	// Started is true when the event created the rollout.
	Started bool
	// Lock is the lock a rollback set; KeptLock the one it found in place and left.
	Lock     *DeployLock
	KeptLock *DeployLock
	// Duplicate is true when the delivery id was seen before; Deploy is then the one it changed.
	Duplicate bool
}

// DefaultEnv is the environment of a deploy that names none.
const DefaultEnv = "prod"

// Deploy errors, checked with errors.Is; the *DeployError that wraps them carries the details.
var (
	ErrDeployInProgress  = errors.New("store: a rollout is in progress")
	ErrDeployLocked      = errors.New("store: deploys are locked")
	ErrNoRollout         = errors.New("store: no rollout in progress")
	ErrDeployEnv         = errors.New("store: several rollouts in progress; name the environment")
	ErrNothingToRollBack = errors.New("store: nothing to roll back")
	ErrNoPrevious        = errors.New("store: no previous version known")
	// ErrNotRunBefore refuses a developer's rollback to a version that never ran in the environment (as far
	// as the history shows): that is a new deploy, which a lock or freeze may stop, not a rollback, which
	// nothing stops. Ops (Force) may roll back to any version, say one from before opsbot kept history.
	ErrNotRunBefore = errors.New("store: version never ran there")
	// ErrRolloutEnded refuses a late or repeated CI event for a version whose newest rollout in the
	// environment has ended: it would start a phantom rollout that blocks the next deploy.
	ErrRolloutEnded = errors.New("store: that rollout has ended")
	// ErrDeliveryRefused refuses a webhook delivery id that was refused before (see RefuseDelivery): a replay
	// of the same signed bytes must not be accepted once whatever refused it has gone away.
	ErrDeliveryRefused = errors.New("store: delivery refused before")
)

// DeployError explains a refused deploy event.
type DeployError struct {
	Err    error
	Deploy *Deploy      // the rollout in the way, or the one already rolled back
	Locks  []DeployLock // ErrDeployLocked: the locks in force
	Envs   []string     // ErrDeployEnv: environments with rollouts in progress
	// ErrDeliveryRefused: why and when the delivery was refused the first time.
	Refused   string
	RefusedAt time.Time
}

func (e *DeployError) Error() string {
	if e.Deploy != nil {
		return fmt.Sprintf("%v (D-%d %s %s %s %s)", e.Err, e.Deploy.ID, e.Deploy.Service, e.Deploy.Version, e.Deploy.Env, e.Deploy.State)
	}
	return e.Err.Error()
}

func (e *DeployError) Unwrap() error { return e.Err }

// deliveryRecord is what became of a webhook delivery id: the deploy it changed, or why it was refused.
type deliveryRecord struct {
	DeployID uint64    `json:"deploy_id"`
	At       time.Time `json:"at"`
	Refused  string    `json:"refused,omitempty"`
}

func envKey(service, env string) []byte { return []byte(service + "\x00" + env) }

func serviceIndexKey(service string, started time.Time, id uint64) []byte {
	k := make([]byte, 0, len(service)+17)
	k = append(append(k, service...), 0)
	k = append(k, itob(uint64(started.UnixNano()))...)
	return append(k, itob(id)...)
}

// ApplyDeploy applies one event of the deploy state machine in one transaction.
func (s *Store) ApplyDeploy(ev DeployEvent) (DeployResult, error) {
	var res DeployResult
	now := s.Now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		res, err = applyDeploy(tx, ev, now)
		return err
	})
	if err != nil {
		return DeployResult{}, fmt.Errorf("store: deploy %s %s: %w", ev.Status, ev.Service, err)
	}
	return res, nil
}

func applyDeploy(tx *bolt.Tx, ev DeployEvent, now time.Time) (DeployResult, error) {
	var res DeployResult
	if ev.Delivery != "" {
		var seen deliveryRecord
		ok, err := getJSON(tx.Bucket(bucketDeployDeliveries), []byte(ev.Delivery), &seen)
		if err != nil {
			return res, err
		}
		if ok && seen.Refused != "" {
			return res, &DeployError{Err: ErrDeliveryRefused, Refused: seen.Refused, RefusedAt: seen.At}
		}
		if ok {
			d, err := getDeploy(tx, seen.DeployID)
			if err != nil {
				return res, err
			}
			return DeployResult{Deploy: d, Duplicate: true}, nil
		}
	}
	var err error
	switch ev.Status {
	case DeployStarted:
		res, err = startDeploy(tx, ev, now)
	case DeployProgress, DeploySucceeded, DeployFailed:
		res, err = advanceDeploy(tx, ev, now)
	case DeployRolledBack:
		res, err = rollbackDeploy(tx, ev, now)
	default:
		err = fmt.Errorf("unknown deploy status %q", ev.Status)
	}
	if err != nil {
		return res, err
	}
	if ev.Delivery != "" {
		err = putJSON(tx.Bucket(bucketDeployDeliveries), []byte(ev.Delivery), deliveryRecord{DeployID: res.Deploy.ID, At: now})
	}
	return res, err
}

// RefuseDelivery records that the webhook delivery id was refused, and why, unless the id is known already:
// from then on an event with the id is refused with ErrDeliveryRefused, so replaying the same signed bytes
// later (when the rollout that was in the way has ended) changes nothing.
func (s *Store) RefuseDelivery(id, reason string) error {
	if id == "" {
		return nil
	}
	now := s.Now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeployDeliveries)
		if b.Get([]byte(id)) != nil {
			return nil
		}
		return putJSON(b, []byte(id), deliveryRecord{At: now, Refused: reason})
	})
	if err != nil {
		return fmt.Errorf("store: refuse delivery %q: %w", id, err)
	}
	return nil
}

// startDeploy opens a rollout, unless one is in progress for the service and environment or the service is
// locked without Force. A webhook's second "started" for the version already rolling out is progress.
func startDeploy(tx *bolt.Tx, ev DeployEvent, now time.Time) (DeployResult, error) {
	if ev.Env == "" {
		ev.Env = DefaultEnv
	}
	active, err := activeDeploy(tx, ev.Service, ev.Env)
	if err != nil {
		return DeployResult{}, err
	}
	if active != nil {
		if ev.AutoStart && active.Version == ev.Version {
			ev.Status = DeployProgress
			return advanceDeploy(tx, ev, now)
		}
		return DeployResult{}, &DeployError{Err: ErrDeployInProgress, Deploy: active}
	}
	locks, err := locksFor(tx, ev.Service)
	if err != nil {
		return DeployResult{}, err
	}
	if len(locks) > 0 && !ev.Force {
		return DeployResult{}, &DeployError{Err: ErrDeployLocked, Locks: locks}
	}
	var override []string
	if ev.Frozen != "" {
		override = append(override, "frozen: "+ev.Frozen)
	}
	for _, l := range locks {
		override = append(override, "locked: "+l.Reason+" ("+l.By+")")
	}
	var cur DeployCurrent
	if _, err := getJSON(tx.Bucket(bucketDeployCurrent), envKey(ev.Service, ev.Env), &cur); err != nil {
		return DeployResult{}, err
	}
	b := tx.Bucket(bucketDeploys)
	id, err := b.NextSequence()
	if err != nil {
		return DeployResult{}, err
	}
	d := Deploy{ID: id, Service: ev.Service, Version: ev.Version, Env: ev.Env, State: DeployStarted,
		Percent: ev.Percent, Sites: mergeSites(nil, ev.Sites), By: ev.By, URL: ev.URL, Note: ev.Note,
		Previous: cur.Version, Override: strings.Join(override, "; "), Source: ev.Source, Started: now, Updated: now}
	if err := putDeploy(tx, d); err != nil {
		return DeployResult{}, err
	}
	if err := tx.Bucket(bucketDeployByService).Put(serviceIndexKey(d.Service, d.Started, d.ID), nil); err != nil {
		return DeployResult{}, err
	}
	if err := indexNewest(tx, d); err != nil {
		return DeployResult{}, err
	}
	if err := tx.Bucket(bucketDeployActive).Put(envKey(d.Service, d.Env), itob(d.ID)); err != nil {
		return DeployResult{}, err
	}
	return DeployResult{Deploy: d, Started: true}, nil
}

// advanceDeploy moves the rollout in progress on: more percent or sites, success or failure.
func advanceDeploy(tx *bolt.Tx, ev DeployEvent, now time.Time) (DeployResult, error) {
	d, err := resolveActive(tx, ev.Service, ev.Env, ev.Version)
	var res DeployResult
	if errors.Is(err, ErrNoRollout) && ev.AutoStart {
		last, lerr := newestDeploy(tx, ev.Service, ev.Env)
		if lerr != nil {
			return res, lerr
		}
		if last != nil && last.Version == ev.Version {
			return res, &DeployError{Err: ErrRolloutEnded, Deploy: last}
		}
		start := ev
		start.Status, start.Percent, start.Sites, start.Delivery = DeployStarted, 0, nil, ""
		if res, err = startDeploy(tx, start, now); err != nil {
			return res, err
		}
		d = res.Deploy
	} else if err != nil {
		return res, err
	}
	if ev.Percent > 0 {
		d.Percent = ev.Percent
	}
	d.Sites = mergeSites(d.Sites, ev.Sites)
	if ev.URL != "" {
		d.URL = ev.URL
	}
	if ev.Note != "" {
		d.Note = ev.Note
	}
	d.Updated = now
	switch ev.Status {
	case DeployProgress:
		d.State = DeployProgress
	case DeploySucceeded, DeployFailed:
		d.State, d.Ended, d.EndedBy, d.Reason = ev.Status, now, ev.By, ev.Reason
		if err := tx.Bucket(bucketDeployActive).Delete(envKey(d.Service, d.Env)); err != nil {
			return res, err
		}
		if ev.Status == DeploySucceeded {
			cur, err := currentOf(tx, d.Service, d.Env)
			if err != nil {
				return res, err
			}
			next := DeployCurrent{Env: d.Env, Version: d.Version, Previous: cur.Version, DeployID: d.ID, By: d.By, At: now}
			if cur.Version == d.Version {
				next.Previous = cur.Previous
			}
			if err := putJSON(tx.Bucket(bucketDeployCurrent), envKey(d.Service, d.Env), next); err != nil {
				return res, err
			}
		}
	}
	if err := putDeploy(tx, d); err != nil {
		return res, err
	}
	res.Deploy = d
	return res, nil
}

// rollbackDeploy rolls back the rollout in progress, or else the newest deploy of the environment, to
// ToVersion or the version before it, and locks the service when asked. A lock or freeze never stops it.
func rollbackDeploy(tx *bolt.Tx, ev DeployEvent, now time.Time) (DeployResult, error) {
	var res DeployResult
	d, err := resolveActive(tx, ev.Service, ev.Env, "")
	switch {
	case errors.Is(err, ErrNoRollout):
		if ev.Env == "" {
			ev.Env = DefaultEnv
		}
		last, err := newestDeploy(tx, ev.Service, ev.Env)
		if err != nil {
			return res, err
		}
		if last == nil || last.State == DeployRolledBack {
			return res, &DeployError{Err: ErrNothingToRollBack, Deploy: last}
		}
		d = *last
	case err != nil:
		return res, err
	}
	if ev.Version != "" && d.Version != ev.Version {
		return res, &DeployError{Err: ErrNothingToRollBack, Deploy: &d}
	}
	to := ev.ToVersion
	if to == "" {
		to = d.Previous
	} else if ev.Source == "chat" && !ev.Force && to != d.Previous {
		ran, err := ranBefore(tx, d.Service, d.Env, to)
		if err != nil {
			return res, err
		}
		if !ran {
			return res, &DeployError{Err: ErrNotRunBefore, Deploy: &d}
		}
	}
	if to == "" {
		return res, &DeployError{Err: ErrNoPrevious, Deploy: &d}
	}
	if d.State.Active() {
		if err := tx.Bucket(bucketDeployActive).Delete(envKey(d.Service, d.Env)); err != nil {
			return res, err
		}
	}
	cur, err := currentOf(tx, d.Service, d.Env)
	if err != nil {
		return res, err
	}
	// A rollout that never completed leaves the environment on its current version, unless another is named.
	if d.State == DeploySucceeded || to != cur.Version {
		cur = DeployCurrent{Env: d.Env, Version: to, Previous: cur.Version, DeployID: d.ID, By: ev.By, At: now}
		if err := putJSON(tx.Bucket(bucketDeployCurrent), envKey(d.Service, d.Env), cur); err != nil {
			return res, err
		}
	}
	d.State, d.RolledBackTo, d.Reason, d.EndedBy, d.Ended, d.Updated = DeployRolledBack, to, ev.Reason, ev.By, now, now
	if ev.Note != "" {
		d.Note = ev.Note
	}
	if err := putDeploy(tx, d); err != nil {
		return res, err
	}
	if err := tx.Bucket(bucketDeployRollbacks).Put(dueKey(d.Ended, d.ID), nil); err != nil {
		return res, err
	}
	res.Deploy = d
	if ev.LockOnRollback {
		locks := tx.Bucket(bucketDeployLocks)
		var kept DeployLock
		ok, err := getJSON(locks, []byte(d.Service), &kept)
		if err != nil {
			return res, err
		}
		if ok {
			res.KeptLock = &kept
		} else {
			l := DeployLock{Service: d.Service, Reason: "rolled back from " + d.Version, By: ev.By, At: now}
			if err := putJSON(locks, []byte(d.Service), l); err != nil {
				return res, err
			}
			res.Lock = &l
		}
	}
	return res, nil
}

// resolveActive finds the rollout in progress of service in env, or in its only environment with one when
// env is "". A version other than the one rolling out is a conflict.
func resolveActive(tx *bolt.Tx, service, env, version string) (Deploy, error) {
	var d *Deploy
	if env != "" {
		var err error
		if d, err = activeDeploy(tx, service, env); err != nil {
			return Deploy{}, err
		}
	} else {
		all, err := activeDeploys(tx, service)
		if err != nil {
			return Deploy{}, err
		}
		if len(all) > 1 {
			e := &DeployError{Err: ErrDeployEnv}
			for _, a := range all {
				e.Envs = append(e.Envs, a.Env)
			}
			return Deploy{}, e
		}
		if len(all) == 1 {
			d = &all[0]
		}
	}
	if d == nil {
		return Deploy{}, &DeployError{Err: ErrNoRollout}
	}
	if version != "" && d.Version != version {
		return Deploy{}, &DeployError{Err: ErrDeployInProgress, Deploy: d}
	}
	return *d, nil
}

func activeDeploy(tx *bolt.Tx, service, env string) (*Deploy, error) {
	raw := tx.Bucket(bucketDeployActive).Get(envKey(service, env))
	if raw == nil {
		return nil, nil
	}
	d, err := getDeploy(tx, btoi(raw))
	return &d, err
}

// activeDeploys lists the rollouts in progress of a service ("" = every service), by service and env.
func activeDeploys(tx *bolt.Tx, service string) ([]Deploy, error) {
	var prefix []byte
	if service != "" {
		prefix = envKey(service, "")
	}
	var out []Deploy
	c := tx.Bucket(bucketDeployActive).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		d, err := getDeploy(tx, btoi(v))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// newestDeploy is the newest deploy of service to env, or nil: one read of the newest index, however long
// the service's history and however rare the environment.
func newestDeploy(tx *bolt.Tx, service, env string) (*Deploy, error) {
	raw := tx.Bucket(bucketDeployNewest).Get(envKey(service, env))
	if len(raw) != 16 {
		return nil, nil
	}
	d, err := getDeploy(tx, btoi(raw[8:]))
	return &d, err
}

// indexNewest makes d the newest deploy of its service and environment unless a newer one is there (the
// history's order: start time, then id).
func indexNewest(tx *bolt.Tx, d Deploy) error {
	b := tx.Bucket(bucketDeployNewest)
	v := append(itob(uint64(d.Started.UnixNano())), itob(d.ID)...)
	if old := b.Get(envKey(d.Service, d.Env)); old != nil && bytes.Compare(old, v) >= 0 {
		return nil
	}
	return b.Put(envKey(d.Service, d.Env), v)
}

// migrateDeployNewest (schema 2 -> 3) builds the newest-deploy index from the deploys.
func migrateDeployNewest(tx *bolt.Tx) error {
	return tx.Bucket(bucketDeploys).ForEach(func(_, v []byte) error {
		var d struct {
			ID      uint64    `json:"id"`
			Service string    `json:"service"`
			Env     string    `json:"environment"`
			Started time.Time `json:"started"`
		}
		if err := jsonUnmarshal(v, &d); err != nil {
			return err
		}
		return indexNewest(tx, Deploy{ID: d.ID, Service: d.Service, Env: d.Env, Started: d.Started})
	})
}

// migrateDeployRollbacks (schema 5 -> 6) indexes the deploys rolled back by when.
func migrateDeployRollbacks(tx *bolt.Tx) error {
	rollbacks := tx.Bucket(bucketDeployRollbacks)
	return tx.Bucket(bucketDeploys).ForEach(func(_, v []byte) error {
		var d struct {
			ID    uint64      `json:"id"`
			State DeployState `json:"state"`
			Ended time.Time   `json:"ended"`
		}
		if err := jsonUnmarshal(v, &d); err != nil || d.State != DeployRolledBack {
			return err
		}
		return rollbacks.Put(dueKey(d.Ended, d.ID), nil)
	})
}

// ranBeforeLookback bounds how far back ranBefore looks, so a rollback stays cheap on a long history.
const ranBeforeLookback = 1000

// ranBefore reports whether version was ever the current version of service in env, within the newest
// ranBeforeLookback deploys: a rollout of it succeeded there, or a rollback went to it.
func ranBefore(tx *bolt.Tx, service, env, version string) (bool, error) {
	ran, seen := false, 0
	err := walkHistory(tx, service, func(d Deploy) bool {
		seen++
		if d.Env == env && ((d.Version == version && d.State == DeploySucceeded) || d.Previous == version || d.RolledBackTo == version) {
			ran = true
		}
		return !ran && seen < ranBeforeLookback
	})
	return ran, err
}

// walkHistory calls f with the deploys of service, newest first, until f returns false.
func walkHistory(tx *bolt.Tx, service string, f func(Deploy) bool) error {
	prefix := []byte(service + "\x00")
	c := tx.Bucket(bucketDeployByService).Cursor()
	k, _ := c.Seek([]byte(service + "\x01"))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		d, err := getDeploy(tx, btoi(k[len(k)-8:]))
		if err != nil {
			return err
		}
		if !f(d) {
			return nil
		}
	}
	return nil
}

func currentOf(tx *bolt.Tx, service, env string) (DeployCurrent, error) {
	var cur DeployCurrent
	_, err := getJSON(tx.Bucket(bucketDeployCurrent), envKey(service, env), &cur)
	return cur, err
}

// locksFor returns the locks that stop service: its own, then the lock on all.
func locksFor(tx *bolt.Tx, service string) ([]DeployLock, error) {
	var out []DeployLock
	for _, k := range []string{service, LockAll} {
		var l DeployLock
		ok, err := getJSON(tx.Bucket(bucketDeployLocks), []byte(k), &l)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func getDeploy(tx *bolt.Tx, id uint64) (Deploy, error) {
	var d Deploy
	ok, err := getJSON(tx.Bucket(bucketDeploys), itob(id), &d)
	if err == nil && !ok {
		err = fmt.Errorf("deploy D-%d: %w", id, ErrNotFound)
	}
	return d, err
}

func putDeploy(tx *bolt.Tx, d Deploy) error { return putJSON(tx.Bucket(bucketDeploys), itob(d.ID), d) }

// mergeSites adds the new sites to the ones already reached, keeping their order.
func mergeSites(have, add []string) []string {
	out := slices.Clone(have)
	for _, s := range add {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// countActiveDeploys counts rollouts in progress (open work for !status).
func countActiveDeploys(tx *bolt.Tx) (int, error) {
	return tx.Bucket(bucketDeployActive).Stats().KeyN, nil
}
