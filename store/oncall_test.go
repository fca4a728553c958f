package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// openPagingStore opens a store in a fresh temporary folder, closed at the end of the test.
func openPagingStore(tb testing.TB) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRotationShiftAt(t *testing.T) {
	sthlm := mustLoc(t, "Europe/Stockholm")
	ny := mustLoc(t, "America/New_York")
	weekly := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: sthlm}
	daily0230 := Rotation{Accounts: []string{"alice", "bob", "carol"}, Weekday: time.Sunday, At: 2*time.Hour + 30*time.Minute, Location: sthlm, Shift: 24 * time.Hour}
	halfDay := Rotation{Accounts: []string{"alice", "bob"}, Weekday: time.Monday, At: 8 * time.Hour, Location: sthlm, Shift: 12 * time.Hour}
	wednesdayNY := Rotation{Accounts: []string{"alice", "bob", "carol"}, Weekday: time.Wednesday, At: 9 * time.Hour, Location: ny}

	tests := []struct {
		name       string
		r          Rotation
		at         string
		who, next  string
		start, end string
	}{
		// 2024-01-01 10:00 CET is the first handoff: alice's shift.
		{"epoch", weekly, "2024-01-01T09:00:00Z", "alice", "carol", "2024-01-01T09:00:00Z", "2024-01-08T09:00:00Z"},
		{"just before epoch", weekly, "2024-01-01T08:59:59Z", "carol", "alice", "2023-12-25T09:00:00Z", "2024-01-01T09:00:00Z"},
		{"second shift", weekly, "2024-01-10T12:00:00Z", "carol", "alice", "2024-01-08T09:00:00Z", "2024-01-15T09:00:00Z"},
		// Spring forward (29 March 2026, 02:00 CET -> 03:00 CEST): the shift from Monday 10:00 CET to Monday
		// 10:00 CEST is 167 hours.
		{"week with spring forward", weekly, "2026-03-29T12:00:00Z", "alice", "carol", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"},
		{"spring handoff is 10:00 CEST (08:00 UTC)", weekly, "2026-03-30T08:00:00Z", "carol", "alice", "2026-03-30T08:00:00Z", "2026-04-06T08:00:00Z"},
		{"a second before it", weekly, "2026-03-30T07:59:59Z", "alice", "carol", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"},
		// Fall back (25 October 2026, 03:00 CEST -> 02:00 CET): 169 hours.
		{"week with fall back", weekly, "2026-10-25T01:30:00Z", "alice", "carol", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"},
		{"autumn handoff is 10:00 CET (09:00 UTC)", weekly, "2026-10-26T08:30:00Z", "alice", "carol", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"},
		{"after the autumn handoff", weekly, "2026-10-26T09:00:00Z", "carol", "alice", "2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z"},
		// A daily 02:30 handoff does not exist on spring-forward day: it happens at 03:30 CEST (01:30 UTC).
		{"daily 02:30 the day before", daily0230, "2026-03-28T12:00:00Z", "bob", "carol", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"},
		{"daily 02:30 in the gap", daily0230, "2026-03-29T01:29:59Z", "bob", "carol", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"},
		{"daily 02:30 after the gap", daily0230, "2026-03-29T01:30:00Z", "carol", "alice", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"},
		// 02:30 happens twice on fall-back day; the handoff is at the second one (02:30 CET, 01:30 UTC).
		{"daily 02:30 first occurrence", daily0230, "2026-10-25T00:30:00Z", "bob", "carol", "2026-10-24T00:30:00Z", "2026-10-25T01:30:00Z"},
		{"daily 02:30 second occurrence", daily0230, "2026-10-25T01:30:00Z", "carol", "alice", "2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"},
		// Twelve-hour shifts hand over at 08:00 and 20:00 local, summer and winter.
		{"12h winter morning", halfDay, "2026-01-05T07:00:00Z", "alice", "bob", "2026-01-05T07:00:00Z", "2026-01-05T19:00:00Z"},
		{"12h summer evening", halfDay, "2026-07-06T19:00:00Z", "bob", "alice", "2026-07-06T18:00:00Z", "2026-07-07T06:00:00Z"},
		// Another zone and weekday: New York changes on 8 March 2026; first handoff Wed 3 Jan 2024 09:00 EST.
		{"NY epoch", wednesdayNY, "2024-01-03T14:00:00Z", "alice", "bob", "2024-01-03T14:00:00Z", "2024-01-10T14:00:00Z"},
		{"NY after spring forward", wednesdayNY, "2026-03-11T13:00:00Z", "alice", "bob", "2026-03-11T13:00:00Z", "2026-03-18T13:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.ShiftAt(utc(tc.at))
			want := Shift{Account: tc.who, Next: tc.next, Start: utc(tc.start), End: utc(tc.end)}
			if got.Account != want.Account || got.Next != want.Next || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("ShiftAt(%s) = %s %s..%s next %s, want %s %s..%s next %s", tc.at,
					got.Account, got.Start.UTC().Format(time.RFC3339), got.End.UTC().Format(time.RFC3339), got.Next,
					want.Account, tc.start, tc.end, want.Next)
			}
		})
	}
}

// TestRotationShiftsTileTime checks over two years, hour by hour, that shifts contain their instant, follow each
// other without gaps or overlaps, hand over at the configured local time, and take the accounts in turn.
func TestRotationShiftsTileTime(t *testing.T) {
	sthlm := mustLoc(t, "Europe/Stockholm")
	for _, r := range []Rotation{
		{Accounts: []string{"a", "b", "c"}, Weekday: time.Monday, At: 10 * time.Hour, Location: sthlm},
		{Accounts: []string{"a", "b"}, Weekday: time.Friday, At: 17*time.Hour + 30*time.Minute, Location: sthlm, Shift: 24 * time.Hour},
		{Accounts: []string{"a", "b", "c", "d"}, Weekday: time.Thursday, At: 0, Location: sthlm, Shift: 14 * 24 * time.Hour},
		{Accounts: []string{"a", "b"}, Weekday: time.Monday, At: 9 * time.Hour, Location: time.UTC, Shift: 8 * time.Hour},
	} {
		var prev Shift
		for at := utc("2025-06-01T00:00:00Z"); at.Before(utc("2027-06-01T00:00:00Z")); at = at.Add(time.Hour) {
			s := r.ShiftAt(at)
			if at.Before(s.Start) || !at.Before(s.End) {
				t.Fatalf("%v: ShiftAt(%s) = %s..%s does not contain it", r.Shift, at, s.Start, s.End)
			}
			if d := s.End.Sub(s.Start) - r.shift(); d < -time.Hour || d > time.Hour {
				t.Fatalf("%v: shift %s..%s lasts %v", r.Shift, s.Start, s.End, s.End.Sub(s.Start))
			}
			if loc := s.Start.In(r.loc()); time.Duration(loc.Hour())*time.Hour+time.Duration(loc.Minute())*time.Minute != r.At && r.shift()%(24*time.Hour) == 0 {
				t.Fatalf("%v: handoff at %s local, want %v", r.Shift, loc, r.At)
			}
			if !prev.Start.IsZero() && !prev.Start.Equal(s.Start) {
				if !prev.End.Equal(s.Start) || prev.Next != s.Account {
					t.Fatalf("%v: shift %s (%s..%s) followed by %s (%s..%s)", r.Shift, prev.Account, prev.Start, prev.End, s.Account, s.Start, s.End)
				}
			}
			prev = s
		}
	}
}

func TestRotationEmpty(t *testing.T) {
	if s := (Rotation{}).ShiftAt(time.Now()); s != (Shift{}) {
		t.Errorf("empty rotation: ShiftAt = %+v, want the zero Shift", s)
	}
	if n := (Rotation{}).NextAfter("alice"); n != "" {
		t.Errorf("empty rotation: NextAfter = %q", n)
	}
	if n := (Rotation{Accounts: []string{"alice", "carol"}}).NextAfter("Carol"); n != "alice" {
		t.Errorf("NextAfter(Carol) = %q, want alice", n)
	}
}

func TestOverrides(t *testing.T) {
	s, path := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: mustLoc(t, "Europe/Stockholm")}
	now := utc("2026-03-25T12:00:00Z") // alice's week

	st, err := s.OnCallNow(r, now)
	if err != nil || st.Account != "alice" || st.Override != nil || st.Next != "carol" || !st.Until.Equal(utc("2026-03-30T08:00:00Z")) {
		t.Fatalf("OnCallNow = %+v, %v; want alice until 2026-03-30T08:00Z, next carol", st, err)
	}
	o, st, err := s.AddOverride(r, Override{Account: "bob", By: "carol", Start: now, End: now.Add(2 * time.Hour)})
	if err != nil || o.ID == 0 || st.Account != "bob" || st.Next != "alice" || !st.Until.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("AddOverride = %+v %+v, %v", o, st, err)
	}
	// A newer override replaces the one in force.
	_, st, err = s.AddOverride(r, Override{Account: "dave", By: "alice", Start: now.Add(time.Hour), End: now.Add(5 * time.Hour)})
	if err != nil || st.Account != "dave" {
		t.Fatalf("second override: %+v, %v", st, err)
	}
	for _, tc := range []struct {
		at  time.Time
		who string
	}{{now.Add(-time.Second), "alice"}, {now, "bob"}, {now.Add(time.Hour - 1), "bob"}, {now.Add(time.Hour), "dave"}, {now.Add(3 * time.Hour), "dave"}, {now.Add(5 * time.Hour), "alice"}} {
		if st, err := s.OnCallNow(r, tc.at); err != nil || st.Account != tc.who {
			t.Errorf("OnCallNow(%s) = %q, %v; want %q", tc.at, st.Account, err, tc.who)
		}
	}
	// An override that outlasts the shift: next is the rotation at its end.
	_, st, err = s.AddOverride(r, Override{Account: "bob", By: "alice", Start: utc("2026-03-30T07:00:00Z"), End: utc("2026-03-30T09:00:00Z")})
	if err != nil || st.Next != "carol" {
		t.Fatalf("override across the handoff: next = %q, %v; want carol", st.Next, err)
	}
	// Clear ends the override in force; nothing in force is ErrNotFound.
	cleared, st, err := s.ClearOverride(r, now.Add(2*time.Hour))
	if err != nil || cleared.Account != "dave" || !cleared.Cleared || st.Account != "alice" {
		t.Fatalf("ClearOverride = %+v %+v, %v", cleared, st, err)
	}
	if _, _, err := s.ClearOverride(r, now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ClearOverride with none in force: %v, want ErrNotFound", err)
	}
	// History stays: at 13:30 dave was on call; and it survives a reopen.
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st, err := s2.OnCallNow(r, now.Add(90*time.Minute)); err != nil || st.Account != "dave" {
		t.Errorf("after reopen, OnCallNow(13:30) = %q, %v; want dave", st.Account, err)
	}
	if os, err := s2.Overrides(now.Add(2 * time.Hour)); err != nil || len(os) != 1 || os[0].Account != "bob" {
		t.Errorf("Overrides(now+2h) = %+v, %v; want the future one for bob", os, err)
	}
}

func TestHandoffOncePerChange(t *testing.T) {
	s, path := openPagingStore(t)
	r := Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: mustLoc(t, "Europe/Stockholm")}
	step := func(s *Store, at string, wantPrev, wantCur string, wantChanged bool) {
		t.Helper()
		ch, changed, err := s.Handoff(r, utc(at), nil)
		if err != nil || changed != wantChanged || (changed && (ch.Prev != wantPrev || ch.Cur.Account != wantCur)) {
			t.Fatalf("Handoff(%s) = %q -> %q changed %v, %v; want %q -> %q changed %v", at, ch.Prev, ch.Cur.Account, changed, err, wantPrev, wantCur, wantChanged)
		}
	}
	step(s, "2026-03-25T12:00:00Z", "", "alice", false) // first run records silently
	step(s, "2026-03-25T12:00:30Z", "", "", false)
	step(s, "2026-03-30T08:00:00Z", "alice", "carol", true)
	step(s, "2026-03-30T08:00:30Z", "", "", false)
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	step(s2, "2026-03-30T08:01:00Z", "", "", false) // a restart does not announce again
	// An override recorded by its command is not announced again; its end is.
	if _, _, err := s2.AddOverride(r, Override{Account: "bob", By: "carol", Start: utc("2026-03-30T09:00:00Z"), End: utc("2026-03-30T10:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	step(s2, "2026-03-30T09:00:30Z", "", "", false)
	step(s2, "2026-03-30T10:00:00Z", "bob", "carol", true)
	// A bot that was down over a handoff announces it once, late.
	step(s2, "2026-04-06T11:00:00Z", "carol", "alice", true)
	step(s2, "2026-04-06T11:00:01Z", "", "", false)
}
