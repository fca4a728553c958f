package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Rotation is one on-call schedule from config: its name, accounts in order, handing over at a weekday and
// time of day in the rotation's time zone, every Shift (DefaultShift, a week, when zero). Overrides and the
// handoff state are kept per schedule (Name; "" is DefaultSchedule).
//
// Handoffs are computed on the wall clock of Location, so a weekly "Mon 10:00" handoff is at 10:00 local time
// every Monday whatever the daylight saving time; a shift across a DST change is an hour shorter or longer.
// The shift that starts at the first handoff on or after 2024-01-01 (in Location) belongs to Accounts[0];
// the following shifts take the accounts in turn. A handoff time that does not exist on a spring-forward day
// (02:30 in Europe) happens when Go's time.Date places it (an hour later, in practice).
type Rotation struct {
	Name     string // the schedule's name; "" is DefaultSchedule
	Accounts []string
	Weekday  time.Weekday
	At       time.Duration // time of day of the handoff, from local midnight
	Location *time.Location
	Shift    time.Duration // 0: one week
}

// Shift is one stretch of the rotation: who, from when, until when, and who follows.
type Shift struct {
	Account string
	Start   time.Time
	End     time.Time
	Next    string
}

// DefaultSchedule is the name of the schedule of [oncall] itself (the one before any [[oncall.schedules]]).
const DefaultSchedule = "ops"

// Schedule is the rotation's schedule name: Name, or DefaultSchedule when it has none.
func (r Rotation) Schedule() string {
	if r.Name == "" {
		return DefaultSchedule
	}
	return r.Name
}

// rotationEpoch is the civil date from which shifts are counted (a Monday).
var rotationEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (r Rotation) loc() *time.Location {
	if r.Location == nil {
		return time.UTC
	}
	return r.Location
}

// DefaultShift is a shift's length when the rotation names none: a week.
const DefaultShift = 7 * 24 * time.Hour

func (r Rotation) shift() time.Duration {
	if r.Shift <= 0 {
		return DefaultShift
	}
	return r.Shift
}

// anchor is the wall-clock time (as a UTC value) of the first handoff on or after the epoch.
func (r Rotation) anchor() time.Time {
	days := (int(r.Weekday) - int(rotationEpoch.Weekday()) + 7) % 7
	return rotationEpoch.AddDate(0, 0, days).Add(r.At)
}

// wall is t's wall clock in the rotation's zone, as a UTC value (so arithmetic on it ignores DST).
func (r Rotation) wall(t time.Time) time.Time {
	l := t.In(r.loc())
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// Handoff is the k-th handoff (k = 0 at the anchor) as an instant.
func (r Rotation) Handoff(k int64) time.Time {
	w := r.anchor().Add(time.Duration(k) * r.shift())
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), r.loc())
}

// index is the number of the shift that contains t.
func (r Rotation) index(t time.Time) int64 {
	d := r.wall(t).Sub(r.anchor())
	k := int64(d / r.shift())
	if d < 0 && d%r.shift() != 0 {
		k-- // floor, not truncation
	}
	// The wall clock repeats an hour in autumn and skips one in spring: settle on the instants.
	for r.Handoff(k).After(t) {
		k--
	}
	for !r.Handoff(k + 1).After(t) {
		k++
	}
	return k
}

// ShiftAt returns the shift that contains t; the zero Shift when the rotation is empty.
func (r Rotation) ShiftAt(t time.Time) Shift {
	n := int64(len(r.Accounts))
	if n == 0 {
		return Shift{}
	}
	k := r.index(t)
	return Shift{
		Account: r.Accounts[((k%n)+n)%n],
		Start:   r.Handoff(k),
		End:     r.Handoff(k + 1),
		Next:    r.Accounts[(((k+1)%n)+n)%n],
	}
}

// NextAfter is who follows account in the rotation ("" if account is not in it or the rotation is empty).
func (r Rotation) NextAfter(account string) string {
	for i, a := range r.Accounts {
		if strings.EqualFold(a, account) {
			return r.Accounts[(i+1)%len(r.Accounts)]
		}
	}
	return ""
}

// Override puts Account on call from Start until End, instead of the rotation of Schedule.
type Override struct {
	ID       uint64    `json:"id"`
	Schedule string    `json:"schedule"`
	Account  string    `json:"account"`
	By       string    `json:"by"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Cleared is when "!oncall clear" ended it early (End is then the clear time).
	Cleared bool `json:"cleared,omitempty"`
}

// OnCallState is who is on call at a moment, with the rotation's view and any override.
type OnCallState struct {
	At       time.Time
	Account  string    // "" when nobody is on call
	Until    time.Time // when Account stops being on call (zero when nobody is)
	Next     string    // who is on call from Until
	Override *Override // the active override, if any
	Shift    Shift     // the rotation's shift at At
}

func endKey(end time.Time, id uint64) []byte {
	return append(itob(uint64(end.UnixNano())), itob(id)...)
}

// overridesTx returns the overrides of every schedule that end after t (the active ones and any later),
// soonest end first.
func overridesTx(tx *bolt.Tx, t time.Time) ([]Override, error) {
	var out []Override
	byID := tx.Bucket(bucketOverrides)
	c := tx.Bucket(bucketOverrideEnds).Cursor()
	for k, _ := c.Seek(itob(uint64(t.UnixNano()) + 1)); k != nil; k, _ = c.Next() {
		var o Override
		if _, err := getJSON(byID, k[8:], &o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// activeOverride returns a copy of the override of schedule in force at t among list (the newest, if
// several), or nil.
func activeOverride(list []Override, schedule string, t time.Time) *Override {
	best := -1
	for i, o := range list {
		if o.Schedule == schedule && !o.Start.After(t) && o.End.After(t) && (best < 0 || o.ID > list[best].ID) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	o := list[best]
	return &o
}

// activeOverrideTx returns the override of schedule in force at t (the newest, if several), or nil.
func activeOverrideTx(tx *bolt.Tx, schedule string, t time.Time) (*Override, error) {
	list, err := overridesTx(tx, t)
	if err != nil {
		return nil, err
	}
	return activeOverride(list, schedule, t), nil
}

// onCallFrom is who is on call at t in r's schedule, given the overrides that end after t (and maybe others).
func onCallFrom(list []Override, r Rotation, t time.Time) OnCallState {
	st := OnCallState{At: t, Shift: r.ShiftAt(t)}
	if o := activeOverride(list, r.Schedule(), t); o != nil {
		st.Override, st.Account, st.Until = o, o.Account, o.End
		st.Next = r.ShiftAt(o.End).Account
		return st
	}
	st.Account, st.Until, st.Next = st.Shift.Account, st.Shift.End, st.Shift.Next
	return st
}

func onCallTx(tx *bolt.Tx, r Rotation, t time.Time) (OnCallState, error) {
	list, err := overridesTx(tx, t)
	if err != nil {
		return OnCallState{}, err
	}
	return onCallFrom(list, r, t), nil
}

// OnCallNow returns who is on call at t in the schedule of rotation r, overrides applied. It reads the
// overrides from the store's cache of them when it holds t (see overrideCache), else in a transaction that
// fills the cache.
func (s *Store) OnCallNow(r Rotation, t time.Time) (OnCallState, error) {
	list, gen, ok := s.overrides.get(t)
	if !ok {
		from := t.Add(-overrideCacheSlack)
		err := s.db.View(func(tx *bolt.Tx) error {
			var err error
			list, err = overridesTx(tx, from)
			return err
		})
		if err != nil {
			return OnCallState{}, fmt.Errorf("store: on call (%s) at %s: %w", r.Schedule(), t.Format(time.RFC3339), err)
		}
		s.overrides.put(gen, from, list)
	}
	return onCallFrom(list, r, t), nil
}

// AddOverride stores an override of r's schedule starting at o.Start; an override of the schedule in force
// then ends there (the newest wins). The new state is recorded as announced, since the command's reply
// announces it.
func (s *Store) AddOverride(r Rotation, o Override) (Override, OnCallState, error) {
	var st OnCallState
	o.Schedule = r.Schedule()
	defer s.overrides.drop() // once committed, before the caller answers anyone
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := endOverridesTx(tx, o.Schedule, o.Start, false); err != nil {
			return err
		}
		b := tx.Bucket(bucketOverrides)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		o.ID = id
		if err := putJSON(b, itob(id), o); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOverrideEnds).Put(endKey(o.End, id), nil); err != nil {
			return err
		}
		st, err = recordAnnouncedTx(tx, r, o.Start)
		return err
	})
	if err != nil {
		return o, st, fmt.Errorf("store: add override (%s) for %s: %w", o.Schedule, o.Account, err)
	}
	return o, st, nil
}

// ClearOverride ends the override of r's schedule in force at now. It returns ErrNotFound when there is none.
func (s *Store) ClearOverride(r Rotation, now time.Time) (Override, OnCallState, error) {
	var cleared Override
	var st OnCallState
	defer s.overrides.drop() // once committed, before the caller answers anyone
	err := s.db.Update(func(tx *bolt.Tx) error {
		o, err := activeOverrideTx(tx, r.Schedule(), now)
		if err != nil {
			return err
		}
		if o == nil {
			return ErrNotFound
		}
		cleared = *o
		if err := endOverridesTx(tx, r.Schedule(), now, true); err != nil {
			return err
		}
		cleared.End, cleared.Cleared = now, true
		st, err = recordAnnouncedTx(tx, r, now)
		return err
	})
	if err != nil {
		return cleared, st, fmt.Errorf("store: clear override (%s): %w", r.Schedule(), err)
	}
	return cleared, st, nil
}

// endOverridesTx ends every override of schedule in force at t at t.
func endOverridesTx(tx *bolt.Tx, schedule string, t time.Time, cleared bool) error {
	for {
		o, err := activeOverrideTx(tx, schedule, t)
		if err != nil || o == nil {
			return err
		}
		if err := tx.Bucket(bucketOverrideEnds).Delete(endKey(o.End, o.ID)); err != nil {
			return err
		}
		o.End, o.Cleared = t, cleared
		if err := putJSON(tx.Bucket(bucketOverrides), itob(o.ID), o); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOverrideEnds).Put(endKey(o.End, o.ID), nil); err != nil {
			return err
		}
	}
}

// Overrides returns the overrides of every schedule in force at or after t (the active ones and any later),
// soonest end first.
func (s *Store) Overrides(t time.Time) ([]Override, error) {
	var out []Override
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = overridesTx(tx, t)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: overrides: %w", err)
	}
	return out, nil
}
