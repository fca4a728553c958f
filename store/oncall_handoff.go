package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketOnCallNotices holds the on-call lines still to be sent (id -> OnCallNotice): the handoff
// announcement and digest, shift reminders and moved-shift notices. Each is stored in the transaction that
// makes it due and removed once queued for IRC.
var bucketOnCallNotices = []byte("oncall_notices")

var _ = registerBuckets(bucketOnCallNotices)

// Kinds of on-call notice.
const (
	NoticeHandoff   = "handoff"   // the channel line of a handoff
	NoticeDigest    = "digest"    // one line of the incoming person's private digest
	NoticeReminder  = "reminder"  // a shift starts soon
	NoticeMoved     = "moved"     // the person's next shift moved
	NoticeCancelled = "cancelled" // the person has no next shift any more
)

// OnCallNotice is one line about the on-call schedule that is due: to the channel (To "") or privately to the
// account To.
type OnCallNotice struct {
	ID       uint64    `json:"id"`
	Schedule string    `json:"schedule"`
	Kind     string    `json:"kind"`
	To       string    `json:"to,omitempty"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
}

// announced is the last on-call state of a schedule posted to the channel (or recorded silently), so each
// handoff is announced once.
type announced struct {
	ShiftStart time.Time `json:"shift_start"`
	Account    string    `json:"account"`
	Override   uint64    `json:"override"`
}

// keyAnnouncedV1 is where schema 1 kept the one rotation's state; migration 1 -> 2 moves it to
// announcedKey(DefaultSchedule).
var keyAnnouncedV1 = []byte("announced")

func announcedKey(schedule string) []byte { return []byte("announced:" + schedule) }

func stateOf(st OnCallState) announced {
	a := announced{ShiftStart: st.Shift.Start, Account: st.Account}
	if st.Override != nil {
		a.Override = st.Override.ID
	}
	return a
}

func recordAnnouncedTx(tx *bolt.Tx, r Rotation, t time.Time) (OnCallState, error) {
	st, err := onCallTx(tx, r, t)
	if err != nil {
		return st, err
	}
	return st, putJSON(tx.Bucket(bucketOnCall), announcedKey(r.Schedule()), stateOf(st))
}

// same reports whether two recorded states are the same (ShiftStart compared as an instant).
func (a announced) same(b announced) bool {
	return a.ShiftStart.Equal(b.ShiftStart) && a.Account == b.Account && a.Override == b.Override
}

// HandoffChange is a change of who is on call in a schedule, for rendering its notices.
type HandoffChange struct {
	Schedule string
	Prev     string    // who was on call
	Since    time.Time // when the previous state's rotation shift began (what happened since is the digest's)
	Cur      OnCallState
}

// Handoff records a change of who is on call in r's schedule since the last recorded state, once per change.
// When the person on call changed, render (called outside any transaction) gives the lines that announce it,
// and they are stored as pending OnCallNotices in the same transaction as the new state: a crash or a failed
// outbox write after the commit delays them instead of losing them, and the change is never announced twice.
// The caller sends what is pending (PendingOnCallNotices) and removes each line once queued
// (OnCallNoticeSent). A render error records nothing (tried again at the next call). The first call ever
// records silently (changed is false); so does a new shift of the same person, or an override spanning a
// handoff.
func (s *Store) Handoff(r Rotation, now time.Time, render func(HandoffChange) ([]OnCallNotice, error)) (ch HandoffChange, changed bool, err error) {
	sched := r.Schedule()
	var a, next announced
	found, due := false, false
	err = s.db.View(func(tx *bolt.Tx) error {
		if found, err = getJSON(tx.Bucket(bucketOnCall), announcedKey(sched), &a); err != nil {
			return err
		}
		if ch.Cur, err = onCallTx(tx, r, now); err != nil {
			return err
		}
		next = stateOf(ch.Cur)
		due = !found || !next.same(a)
		return nil
	})
	if err != nil || !due {
		return ch, false, wrapHandoff(sched, err)
	}
	ch.Schedule, ch.Prev, ch.Since = sched, a.Account, a.ShiftStart
	changed = found && !strings.EqualFold(a.Account, ch.Cur.Account)
	var lines []OnCallNotice
	if changed && render != nil {
		if lines, err = render(ch); err != nil {
			return ch, false, wrapHandoff(sched, err)
		}
	}
	stale := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		var stored announced
		ok, err := getJSON(tx.Bucket(bucketOnCall), announcedKey(sched), &stored)
		stale = ok != found || (found && !stored.same(a)) // recorded meanwhile by another caller
		if err != nil || stale {
			return err
		}
		if err := putJSON(tx.Bucket(bucketOnCall), announcedKey(sched), next); err != nil {
			return err
		}
		return addNoticesTx(tx, sched, now, lines)
	})
	return ch, changed && !stale, wrapHandoff(sched, err)
}

func wrapHandoff(schedule string, err error) error {
	if err != nil {
		return fmt.Errorf("store: on-call handoff (%s): %w", schedule, err)
	}
	return nil
}

// addNoticesTx stores notices as pending, in order.
func addNoticesTx(tx *bolt.Tx, schedule string, at time.Time, notices []OnCallNotice) error {
	b := tx.Bucket(bucketOnCallNotices)
	for _, n := range notices {
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		n.ID, n.Schedule, n.At = id, schedule, at
		if err := putJSON(b, itob(id), n); err != nil {
			return err
		}
	}
	return nil
}

// PendingOnCallNotices returns the on-call lines still to be sent, oldest first.
func (s *Store) PendingOnCallNotices() ([]OnCallNotice, error) {
	var out []OnCallNotice
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOnCallNotices).ForEach(func(_, v []byte) error {
			var n OnCallNotice
			if err := jsonUnmarshal(v, &n); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending on-call notices: %w", err)
	}
	return out, nil
}

// OnCallNoticeSent removes a pending on-call line once it is queued for IRC (one already removed is not an
// error).
func (s *Store) OnCallNoticeSent(id uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOnCallNotices).Delete(itob(id)) })
	if err != nil {
		return fmt.Errorf("store: on-call notice %d sent: %w", id, err)
	}
	return nil
}

// migrateOnCallSchedules moves schema 1's on-call data to the default schedule: every override gets Schedule
// "ops", and the recorded handoff state moves to its key.
func migrateOnCallSchedules(tx *bolt.Tx) error {
	b := tx.Bucket(bucketOverrides)
	type rewrite struct {
		k []byte
		o Override
	}
	var todo []rewrite
	err := b.ForEach(func(k, v []byte) error {
		var o Override
		if err := jsonUnmarshal(v, &o); err != nil {
			return err
		}
		if o.Schedule == "" {
			o.Schedule = DefaultSchedule
			todo = append(todo, rewrite{append([]byte(nil), k...), o})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range todo {
		if err := putJSON(b, r.k, r.o); err != nil {
			return err
		}
	}
	oc := tx.Bucket(bucketOnCall)
	if raw := oc.Get(keyAnnouncedV1); raw != nil {
		if err := oc.Put(announcedKey(DefaultSchedule), append([]byte(nil), raw...)); err != nil {
			return err
		}
		return oc.Delete(keyAnnouncedV1)
	}
	return nil
}
