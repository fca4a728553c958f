package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Two schedules keep their overrides and their handoff state apart.
func TestSchedulesKeepOverridesAndHandoffsApart(t *testing.T) {
	s, _ := openPagingStore(t)
	sthlm := mustLoc(t, "Europe/Stockholm")
	ops := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: sthlm}
	db := Rotation{Name: "db", Accounts: []string{"dave", "erin"}, Weekday: time.Wednesday, At: 9 * time.Hour, Location: sthlm}
	now := utc("2026-03-25T12:00:00Z")
	if ops.Schedule() != DefaultSchedule || db.Schedule() != "db" {
		t.Fatalf("schedules %q %q", ops.Schedule(), db.Schedule())
	}
	if _, _, err := s.AddOverride(db, Override{Account: "bob", By: "dave", Start: now, End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if st, err := s.OnCallNow(db, now); err != nil || st.Account != "bob" || st.Override == nil || st.Override.Schedule != "db" {
		t.Errorf("db with its override = %+v, %v", st, err)
	}
	if st, err := s.OnCallNow(ops, now); err != nil || st.Account != "alice" || st.Override != nil {
		t.Errorf("ops beside db's override = %+v, %v", st, err)
	}
	if _, _, err := s.ClearOverride(ops, now); err == nil {
		t.Error("ops cleared db's override")
	}
	// Each schedule's first handoff call records silently; a change in one is not a change in the other.
	for _, r := range []Rotation{ops, db} {
		if _, changed, err := s.Handoff(r, now, nil); changed || err != nil {
			t.Fatalf("first Handoff(%s) changed %v, %v", r.Schedule(), changed, err)
		}
	}
	render := func(ch HandoffChange) ([]OnCallNotice, error) {
		return []OnCallNotice{{Kind: NoticeHandoff, Text: ch.Schedule + ": " + ch.Prev + " -> " + ch.Cur.Account}}, nil
	}
	at := now.Add(time.Hour) // db's override ends
	if ch, changed, err := s.Handoff(db, at, render); !changed || err != nil || ch.Prev != "bob" || ch.Cur.Account != "dave" {
		t.Fatalf("Handoff(db) = %+v %v %v", ch, changed, err)
	}
	if _, changed, err := s.Handoff(ops, at, render); changed || err != nil {
		t.Fatalf("Handoff(ops) changed %v, %v", changed, err)
	}
	pending, err := s.PendingOnCallNotices()
	if err != nil || len(pending) != 1 || pending[0].Text != "db: bob -> dave" || pending[0].Schedule != "db" || !pending[0].At.Equal(at) {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if err := s.OnCallNoticeSent(pending[0].ID); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.PendingOnCallNotices(); len(pending) != 0 {
		t.Errorf("after sent: %+v", pending)
	}
}

// A render error records nothing: the handoff is tried again, and announced then.
func TestHandoffRenderErrorRecordsNothing(t *testing.T) {
	s, _ := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	if _, _, err := s.Handoff(r, utc("2026-03-25T12:00:00Z"), nil); err != nil {
		t.Fatal(err)
	}
	at := utc("2026-03-30T10:00:00Z")
	_, _, err := s.Handoff(r, at, func(HandoffChange) ([]OnCallNotice, error) { return nil, fmt.Errorf("boom") })
	if err == nil {
		t.Fatal("render error not returned")
	}
	ch, changed, err := s.Handoff(r, at, func(ch HandoffChange) ([]OnCallNotice, error) {
		if !ch.Since.Equal(utc("2026-03-23T10:00:00Z")) {
			t.Errorf("Since = %s, want the start of alice's shift", ch.Since)
		}
		return []OnCallNotice{{Kind: NoticeHandoff, Text: "x"}, {Kind: NoticeDigest, To: ch.Cur.Account, Text: "y"}}, nil
	})
	if !changed || err != nil || ch.Cur.Account != "carol" {
		t.Fatalf("retry = %+v %v %v", ch, changed, err)
	}
	if p, _ := s.PendingOnCallNotices(); len(p) != 2 || p[0].Text != "x" || p[1].To != "carol" {
		t.Errorf("pending = %+v", p)
	}
}

// A database written before schedules existed (schema 1) keeps its override and its handoff state, as the
// schedule ops.
func TestMigrateOnCallToSchedules(t *testing.T) {
	s, path := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	now := utc("2026-03-30T10:30:00Z") // carol's week
	// Write what schema 1 wrote: an override without schedule, the state under "announced".
	err := s.db.Update(func(tx *bolt.Tx) error {
		raw, _ := json.Marshal(map[string]any{"id": 1, "account": "bob", "by": "alice", "start": now, "end": now.Add(2 * time.Hour)})
		if err := tx.Bucket(bucketOverrides).Put(itob(1), raw); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOverrideEnds).Put(endKey(now.Add(2*time.Hour), 1), nil); err != nil {
			return err
		}
		raw, _ = json.Marshal(announced{ShiftStart: utc("2026-03-30T10:00:00Z"), Account: "bob", Override: 1})
		if err := tx.Bucket(bucketOnCall).Put(keyAnnouncedV1, raw); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st, err := s2.OnCallNow(r, now.Add(time.Minute)); err != nil || st.Account != "bob" || st.Override == nil || st.Override.Schedule != "ops" {
		t.Fatalf("after migration, ops = %+v, %v; want bob's override", st, err)
	}
	// The state was announced: no handoff now; the override's end is one.
	if _, changed, err := s2.Handoff(r, now.Add(time.Minute), nil); changed || err != nil {
		t.Errorf("Handoff right after migration: changed %v, %v", changed, err)
	}
	if ch, changed, err := s2.Handoff(r, now.Add(2*time.Hour), nil); !changed || err != nil || ch.Prev != "bob" || ch.Cur.Account != "carol" {
		t.Errorf("Handoff at the override's end = %+v %v %v", ch, changed, err)
	}
	err = s2.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOnCall).Get(keyAnnouncedV1) != nil {
			t.Error("the schema 1 key is still there")
		}
		if v := btoi(tx.Bucket(bucketMeta).Get(keySchema)); v != uint64(SchemaVersionCurrent) {
			t.Errorf("schema %d, want %d", v, SchemaVersionCurrent)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNextShiftOf(t *testing.T) {
	s, _ := openPagingStore(t)
	sthlm := mustLoc(t, "Europe/Stockholm")
	r := Rotation{Accounts: []string{"carol", "bob", "alice"}, Weekday: time.Monday, At: 10 * time.Hour, Location: sthlm}
	now := utc("2026-03-25T12:00:00Z") // alice's week (23-30 March)
	check := func(who string, at time.Time, want string, wantOK bool) {
		t.Helper()
		next, ok, err := s.NextShiftOf(r, who, at)
		got := ""
		if ok {
			got = fmt.Sprintf("%s..%s from %s", next.Start.UTC().Format(time.RFC3339), next.End.UTC().Format(time.RFC3339), next.From)
		}
		if err != nil || ok != wantOK || got != want {
			t.Errorf("NextShiftOf(%s, %s) = %q %v %v, want %q", who, at.Format(time.RFC3339), got, ok, err, want)
		}
	}
	check("carol", now, "2026-03-30T08:00:00Z..2026-04-06T08:00:00Z from alice", true)
	check("bob", now, "2026-04-06T08:00:00Z..2026-04-13T08:00:00Z from carol", true)
	check("alice", now, "2026-04-13T08:00:00Z..2026-04-20T08:00:00Z from bob", true)
	check("dave", now, "", false)
	// An override across carol's handoff delays her start; one of hers does not.
	if _, _, err := s.AddOverride(r, Override{Account: "dave", By: "alice", Start: utc("2026-03-30T06:00:00Z"), End: utc("2026-03-30T10:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	check("carol", now, "2026-03-30T10:00:00Z..2026-04-06T08:00:00Z from dave", true)
	check("carol", utc("2026-03-30T09:00:00Z"), "2026-03-30T10:00:00Z..2026-04-06T08:00:00Z from dave", true) // her shift began, she has not
	check("carol", utc("2026-03-30T10:00:00Z"), "2026-04-20T08:00:00Z..2026-04-27T08:00:00Z from alice", true)
	// Alone in a rotation, nobody ever takes over.
	if _, ok, _ := s.NextShiftOf(Rotation{Name: "solo", Accounts: []string{"alice"}}, "alice", now); ok {
		t.Error("a rotation of one has a next shift")
	}
}

// Shift notices: one reminder before a shift, a moved notice when an override or a changed rotation moves it
// (the reminder again when that is within the window), a cancelled one when the person leaves the rotation;
// each once, also across a reopen.
func TestClaimShiftNotices(t *testing.T) {
	s, path := openPagingStore(t)
	sthlm := mustLoc(t, "Europe/Stockholm")
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: sthlm}
	render := func(n ShiftNotice) string {
		return fmt.Sprintf("%s %s %s was %s", n.Kind, n.Account, n.Next.Start.UTC().Format("02T15:04"), n.Was.Start.UTC().Format("02T15:04"))
	}
	var log []string
	claim := func(at string, r Rotation) {
		t.Helper()
		told, err := s.ClaimShiftNotices(r, utc(at), 24*time.Hour, render)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range told {
			log = append(log, at[8:16]+" "+render(n)+fmt.Sprintf(" soon=%v", n.Soon))
		}
	}
	expect := func(want ...string) {
		t.Helper()
		if strings.Join(log, "\n") != strings.Join(want, "\n") {
			t.Errorf("told:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
		}
		log = nil
	}
	claim("2026-03-25T12:00:00Z", r) // first sight: recorded silently
	claim("2026-03-28T12:00:00Z", r)
	expect()
	claim("2026-03-29T08:00:00Z", r) // 24h before carol's 10:00 CEST (08:00 UTC)
	claim("2026-03-29T08:00:30Z", r)
	expect("29T08:00 reminder carol 30T08:00 was 30T08:00 soon=false")
	// dave takes the first hour of carol's shift: she is told, and that is her reminder too.
	if _, _, err := s.AddOverride(r, Override{Account: "dave", By: "alice", Start: utc("2026-03-29T09:00:00Z"), End: utc("2026-03-30T09:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	claim("2026-03-29T09:00:00Z", r)
	claim("2026-03-29T09:00:15Z", r)
	expect("29T09:00 moved carol 30T09:00 was 30T08:00 soon=true")
	s.Close()
	if s, _ = Open(path, Options{}); s == nil {
		t.Fatal("reopen failed")
	}
	defer s.Close()
	claim("2026-03-29T09:00:30Z", r)
	claim("2026-03-30T10:00:00Z", r) // her shift began: the next one is recorded silently
	expect()
	// The rotation changes in the config: bob joins; alice's next shift moves two weeks later, bob is new
	// (recorded silently), carol's stays.
	r2 := r
	r2.Accounts = []string{"alice", "bob", "carol"}
	claim("2026-03-31T12:00:00Z", r2)
	claim("2026-03-31T12:00:30Z", r2)
	expect("31T12:00 moved alice 20T08:00 was 06T08:00 soon=false")
	// carol leaves the rotation: her next shift is cancelled; alice's and bob's move.
	r3 := r2
	r3.Accounts = []string{"alice", "bob"}
	claim("2026-04-01T12:00:00Z", r3)
	claim("2026-04-01T12:00:30Z", r3)
	expect(
		"01T12:00 moved alice 06T08:00 was 20T08:00 soon=false",
		"01T12:00 moved bob 13T08:00 was 06T08:00 soon=false",
		"01T12:00 cancelled carol 01T00:00 was 13T08:00 soon=false",
	)
	pending, err := s.PendingOnCallNotices()
	if err != nil || len(pending) != 6 || pending[0].To != "carol" || pending[0].Kind != NoticeReminder {
		t.Errorf("pending = %+v, %v", pending, err)
	}
}

// A schedule in New York: reminders and handoffs keep local wall-clock time across both DST changes.
func TestShiftNoticesAcrossDSTInNewYork(t *testing.T) {
	s, _ := openPagingStore(t)
	ny := mustLoc(t, "America/New_York")
	r := Rotation{Name: "db", Accounts: []string{"dave", "erin"}, Weekday: time.Monday, At: 10 * time.Hour, Location: ny}
	render := func(n ShiftNotice) string { return n.Kind }
	claim := func(at string) []ShiftNotice {
		t.Helper()
		told, err := s.ClaimShiftNotices(r, utc(at), 12*time.Hour, render)
		if err != nil {
			t.Fatal(err)
		}
		return told
	}
	for _, tc := range []struct{ first, before, at, who string }{
		// US spring forward, Sunday 8 March 2026: Monday 9 March 10:00 EDT is 14:00 UTC (15:00 UTC a week earlier).
		{"2026-03-04T12:00:00Z", "2026-03-09T01:59:59Z", "2026-03-09T02:00:00Z", "dave"},
		// Fall back, Sunday 1 November 2026: Monday 2 November 10:00 EST is 15:00 UTC.
		{"2026-10-28T12:00:00Z", "2026-11-02T02:59:59Z", "2026-11-02T03:00:00Z", "dave"},
	} {
		claim(tc.first)
		if told := claim(tc.before); len(told) != 0 {
			t.Errorf("%s: told %+v an hour early", tc.before, told)
		}
		told := claim(tc.at)
		if len(told) != 1 || told[0].Kind != NoticeReminder {
			t.Fatalf("%s: told %+v, want one reminder", tc.at, told)
		}
		start := told[0].Next.Start.In(ny)
		if start.Hour() != 10 || start.Weekday() != time.Monday || !start.Equal(utc(tc.at).Add(12*time.Hour)) {
			t.Errorf("%s: reminded of %s", tc.at, start)
		}
		if told[0].Account != tc.who {
			t.Errorf("%s: reminded %s, want %s", tc.at, told[0].Account, tc.who)
		}
	}
}
