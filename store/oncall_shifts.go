package store

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketOnCallShifts remembers, per schedule and person, the next shift they were last told of (or that was
// recorded silently) and the shift they were last reminded of: schedule "\x00" account (lowercase) ->
// shiftWatch.
var bucketOnCallShifts = []byte("oncall_shifts")

var _ = registerBuckets(bucketOnCallShifts)

type shiftWatch struct {
	Account  string    `json:"account"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Reminded time.Time `json:"reminded,omitzero"` // the start of the shift last reminded of
}

func watchPrefix(schedule string) []byte { return append([]byte(schedule), 0) }

func watchKey(schedule, account string) []byte {
	return append(watchPrefix(schedule), strings.ToLower(account)...)
}

// NextShift is someone's next stretch on call in a schedule.
type NextShift struct {
	Start time.Time // when they take over, overrides applied
	End   time.Time // when their rotation shift (or run of consecutive shifts) ends
	From  string    // who is on call just before Start
}

// ShiftNotice is what one person is to be told about their next shift in a schedule.
type ShiftNotice struct {
	Schedule string
	Kind     string // NoticeReminder, NoticeMoved or NoticeCancelled
	Account  string
	Next     NextShift // their next shift now (zero when cancelled)
	Was      NextShift // their next shift as last told or recorded (moved, cancelled)
	// Soon is set on a moved notice whose new start is within the reminder window: it is the reminder too.
	Soon bool
}

func (r Rotation) accountAt(k int64) string {
	n := int64(len(r.Accounts))
	return r.Accounts[((k%n)+n)%n]
}

// takeOverTx is the first moment in [start, end) at which account is on call in r's schedule, with the
// overrides of the schedule applied to a rotation shift of theirs; ok is false when overrides cover it all.
func takeOverTx(tx *bolt.Tx, r Rotation, account string, start, end time.Time) (time.Time, bool, error) {
	t := start
	for range 100 {
		o, err := activeOverrideTx(tx, r.Schedule(), t)
		if err != nil || o == nil || strings.EqualFold(o.Account, account) {
			return t, err == nil, err
		}
		if t = o.End; !t.Before(end) {
			return time.Time{}, false, nil
		}
	}
	return time.Time{}, false, nil
}

// nextShiftTx returns account's next stretch on call in r after now: the first of their rotation shifts that
// follows someone else's and in which they take over after now (an override may delay it). A shift already
// begun by the rotation counts only if current says so (given its rotation start and end): one whose person
// was on call and is kept off for a while by an override is not their next shift. ok is false when they
// have none (not in the rotation, or always on call in it).
func nextShiftTx(tx *bolt.Tx, r Rotation, account string, now time.Time, current func(start, end time.Time) bool) (NextShift, bool, error) {
	n := int64(len(r.Accounts))
	if n == 0 {
		return NextShift{}, false, nil
	}
	same := func(k int64) bool { return strings.EqualFold(r.accountAt(k), account) }
	k := r.index(now)
	for i := range 2*n + 1 {
		kk := k + i
		if !same(kk) || same(kk-1) {
			continue
		}
		end := r.Handoff(kk + 1)
		for j := int64(1); j < n && same(kk+j); j++ {
			end = r.Handoff(kk + j + 1)
		}
		if !r.Handoff(kk).After(now) && !current(r.Handoff(kk), end) {
			continue
		}
		start, ok, err := takeOverTx(tx, r, account, r.Handoff(kk), end)
		if err != nil {
			return NextShift{}, false, err
		}
		if !ok || !start.After(now) {
			continue
		}
		before, err := onCallTx(tx, r, start.Add(-time.Nanosecond))
		if err != nil {
			return NextShift{}, false, err
		}
		return NextShift{Start: start, End: end, From: before.Account}, true, nil
	}
	return NextShift{}, false, nil
}

// NextShiftOf returns account's next stretch on call in r's schedule after now, overrides applied; ok is
// false when they have none.
func (s *Store) NextShiftOf(r Rotation, account string, now time.Time) (NextShift, bool, error) {
	var next NextShift
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		next, ok, err = nextShiftTx(tx, r, account, now, func(_, _ time.Time) bool { return true })
		return err
	})
	if err != nil {
		return next, false, fmt.Errorf("store: next shift of %s (%s): %w", account, r.Schedule(), err)
	}
	return next, ok, nil
}

// shiftPlan is one change to the shift watch: w nil deletes the key; notice, if set, is to be sent.
type shiftPlan struct {
	key    []byte
	w      *shiftWatch
	notice *ShiftNotice
}

// planShiftsTx compares every person's next shift in r with what was last recorded for them and says what to
// record and tell. A person seen for the first time is recorded silently. A recorded shift that has not
// started and now starts at another time (an override, or a rotation changed in the config) is a moved
// notice; one that is gone (the person left the rotation, or overrides cover it) a cancelled notice. A shift
// that starts within remindBefore gets one reminder, unless its person is on call just before it anyway; a
// moved notice within that window is the reminder.
func planShiftsTx(tx *bolt.Tx, r Rotation, now time.Time, remindBefore time.Duration) ([]shiftPlan, error) {
	sched := r.Schedule()
	b := tx.Bucket(bucketOnCallShifts)
	remindDue := func(account string, next NextShift) bool {
		return remindBefore > 0 && !now.Before(next.Start.Add(-remindBefore)) && now.Before(next.Start) &&
			!strings.EqualFold(next.From, account)
	}
	var plans []shiftPlan
	seen := map[string]bool{}
	for _, a := range r.Accounts {
		key := watchKey(sched, a)
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		var w shiftWatch
		found, err := getJSON(b, key, &w)
		if err != nil {
			return nil, err
		}
		// A shift begun by the rotation is still the next one only if it was (an override delays its start),
		// or nothing was recorded yet.
		current := func(start, end time.Time) bool { return !found || (!w.Start.Before(start) && w.Start.Before(end)) }
		next, ok, err := nextShiftTx(tx, r, a, now, current)
		if err != nil {
			return nil, err
		}
		was := NextShift{Start: w.Start, End: w.End}
		switch {
		case !ok && found:
			p := shiftPlan{key: key}
			if w.Start.After(now) {
				p.notice = &ShiftNotice{Schedule: sched, Kind: NoticeCancelled, Account: a, Was: was}
			}
			plans = append(plans, p)
		case !ok:
		case !found || !w.Start.After(now) || w.Start.Equal(next.Start):
			nw := shiftWatch{Account: a, Start: next.Start, End: next.End, Reminded: w.Reminded}
			var notice *ShiftNotice
			if remindDue(a, next) && !w.Reminded.Equal(next.Start) {
				notice = &ShiftNotice{Schedule: sched, Kind: NoticeReminder, Account: a, Next: next, Was: was}
				nw.Reminded = next.Start
			}
			if notice != nil || !found || !w.Start.Equal(nw.Start) || !w.End.Equal(nw.End) {
				plans = append(plans, shiftPlan{key: key, w: &nw, notice: notice})
			}
		default: // recorded, not started yet, and it starts at another time now
			nw := shiftWatch{Account: a, Start: next.Start, End: next.End, Reminded: w.Reminded}
			soon := remindDue(a, next)
			if soon {
				nw.Reminded = next.Start
			}
			plans = append(plans, shiftPlan{key: key, w: &nw,
				notice: &ShiftNotice{Schedule: sched, Kind: NoticeMoved, Account: a, Next: next, Was: was, Soon: soon}})
		}
	}
	// People recorded for the schedule who are no longer in its rotation.
	prefix := watchPrefix(sched)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if seen[string(k)] {
			continue
		}
		var w shiftWatch
		if err := jsonUnmarshal(v, &w); err != nil {
			return nil, err
		}
		p := shiftPlan{key: append([]byte(nil), k...)}
		if w.Start.After(now) {
			p.notice = &ShiftNotice{Schedule: sched, Kind: NoticeCancelled, Account: w.Account, Was: NextShift{Start: w.Start, End: w.End}}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// ClaimShiftNotices decides what each person in r's schedule must be told about their next shift (see
// planShiftsTx: reminders before a shift, moved and cancelled shifts), and records both the decision and the
// notices, rendered by render (called inside the transaction: it must only format), as pending
// OnCallNotices in one transaction, so that each is told once, also across restarts. It returns what it
// decided to tell.
func (s *Store) ClaimShiftNotices(r Rotation, now time.Time, remindBefore time.Duration, render func(ShiftNotice) string) ([]ShiftNotice, error) {
	var plans []shiftPlan
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		plans, err = planShiftsTx(tx, r, now, remindBefore)
		return err
	})
	if err != nil || len(plans) == 0 {
		return nil, wrapShifts(r, err)
	}
	var told []ShiftNotice
	err = s.db.Update(func(tx *bolt.Tx) error {
		told = nil // a write function may run twice (boltDB.Update)
		plans, err := planShiftsTx(tx, r, now, remindBefore)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketOnCallShifts)
		var notices []OnCallNotice
		for _, p := range plans {
			if p.w == nil {
				err = b.Delete(p.key)
			} else {
				err = putJSON(b, p.key, p.w)
			}
			if err != nil {
				return err
			}
			if p.notice != nil {
				told = append(told, *p.notice)
				notices = append(notices, OnCallNotice{Kind: p.notice.Kind, To: p.notice.Account, Text: render(*p.notice)})
			}
		}
		return addNoticesTx(tx, r.Schedule(), now, notices)
	})
	if err != nil {
		return nil, wrapShifts(r, err)
	}
	return told, nil
}

func wrapShifts(r Rotation, err error) error {
	if err != nil {
		return fmt.Errorf("store: shift notices (%s): %w", r.Schedule(), err)
	}
	return nil
}
