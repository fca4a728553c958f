package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func occ(t time.Time) Occurrence {
	return Occurrence{At: t.UTC(), Local: t.UTC().Format("2006-01-02 15:04"), Zone: "UTC"}
}

func TestReminderSeedPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return t0 }
	retro := Reminder{Name: "retro", Schedule: "0 15 * * FRI", Channel: "#operations", Text: "Retro", Agenda: "retro"}
	res, err := s.ReminderSeed([]Reminder{retro}, t0)
	if err != nil || !slices.Equal(res.Added, []string{"retro"}) {
		t.Fatalf("first seed = %+v, %v", res, err)
	}
	// Chat adds two; one of them will be claimed by the config later.
	if _, err := s.ReminderAdd(Reminder{Name: "standup", Schedule: "0 9 * * *", Channel: "#operations", Text: "Standup", By: "carol"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReminderAdd(Reminder{Name: "planning", Schedule: "0 9 * * MON", Channel: "#operations", Text: "chat planning"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReminderAdd(Reminder{Name: "retro", Schedule: "0 9 * * MON", Text: "dup"}); !errors.Is(err, ErrExists) {
		t.Fatalf("adding an existing name = %v, want ErrExists", err)
	}
	// The retro fires once; the state must survive a re-seed with a changed text.
	fired := occ(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	if _, err := s.ReminderAdvance("retro", nil, fired, t0); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Now = func() time.Time { return t0.Add(48 * time.Hour) }
	retro.Text = "Retro, new room"
	planning := Reminder{Name: "planning", Schedule: "45 9 * * MON", Channel: "#operations", Text: "Planning", Agenda: "planning"}
	res, err = s.ReminderSeed([]Reminder{retro, planning}, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Updated, []string{"retro"}) || !slices.Equal(res.TookOver, []string{"planning"}) || len(res.Added)+len(res.Removed) != 0 {
		t.Fatalf("second seed = %+v", res)
	}
	got, err := s.Reminder("retro")
	if err != nil || got.Text != "Retro, new room" || got.Last == nil || !got.Last.At.Equal(fired.At) || !got.Created.Equal(t0) {
		t.Fatalf("retro after re-seed = %+v, %v; want new text, old state", got, err)
	}
	if p, _ := s.Reminder("planning"); p.Source != ReminderConfig || p.Text != "Planning" {
		t.Errorf("planning = %+v, want the config's definition", p)
	}
	if st, _ := s.Reminder("standup"); st.Source != ReminderChat || st.By != "carol" {
		t.Errorf("chat reminder standup = %+v, want it untouched", st)
	}
	// A config reminder gone from the file goes; chat reminders stay.
	res, err = s.ReminderSeed([]Reminder{planning}, t0)
	if err != nil || !slices.Equal(res.Removed, []string{"retro"}) {
		t.Fatalf("third seed = %+v, %v", res, err)
	}
	all, _ := s.Reminders()
	var names []string
	for _, r := range all {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"planning", "standup"}) {
		t.Errorf("reminders = %v", names)
	}
	// An unchanged seed writes nothing.
	if res, _ := s.ReminderSeed([]Reminder{planning}, t0); len(res.Added)+len(res.Updated)+len(res.Removed)+len(res.TookOver) != 0 {
		t.Errorf("idempotent seed changed %+v", res)
	}
}

// A config reminder whose schedule changes starts afresh: no occurrence of the new schedule from before the
// change is due (it would be posted as late), and a skip meant for the old schedule is dropped.
func TestReminderSeedNewScheduleStartsNow(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	retro := Reminder{Name: "retro", Schedule: "0 15 * * FRI", Channel: "#operations", Text: "Retro"}
	if _, err := s.ReminderSeed([]Reminder{retro}, t0.Add(-time.Hour*24*7)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReminderAdvance("retro", nil, occ(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)), t0); err != nil {
		t.Fatal(err)
	}
	changed := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	retro.Schedule = "0 10 * * WED"
	if _, err := s.ReminderSeed([]Reminder{retro}, changed); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reminder("retro")
	if err != nil || got.Last != nil || got.Skip != nil || !got.Created.Equal(changed) {
		t.Fatalf("retro after a schedule change = %+v, %v; want it created now, no last occurrence, no skip", got, err)
	}
}

func TestReminderAdvanceIsCompareAndSet(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.ReminderAdd(Reminder{Name: "r", Schedule: "0 15 * * FRI", Channel: "#operations", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	w1 := occ(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	w2 := occ(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))
	if _, err := s.ReminderSetSkip("r", &w2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReminderAdvance("r", nil, w1, w1.At); err != nil {
		t.Fatal(err)
	}
	// A second run that computed from the same state loses: the occurrence is handled once.
	if _, err := s.ReminderAdvance("r", nil, w1, w1.At); !errors.Is(err, ErrStale) {
		t.Fatalf("second advance from nil = %v, want ErrStale", err)
	}
	r, _ := s.Reminder("r")
	if r.Skip == nil || !r.Skip.At.Equal(w2.At) {
		t.Fatalf("skip of a later occurrence cleared too early: %+v", r)
	}
	before, err := s.ReminderAdvance("r", &w1, w2, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ = s.Reminder("r")
	if r.Skip != nil || !r.Posted.IsZero() || !r.Last.At.Equal(w2.At) {
		t.Fatalf("after skipping w2: %+v; want skip cleared, not posted", r)
	}
	// Undo restores the state before, including the skip.
	if err := s.ReminderUndoAdvance("r", w2, before); err != nil {
		t.Fatal(err)
	}
	r, _ = s.Reminder("r")
	if !r.Last.At.Equal(w1.At) || r.Skip == nil || !r.Posted.Equal(w1.At) {
		t.Fatalf("after undo: %+v", r)
	}
	if err := s.ReminderUndoAdvance("r", w2, before); !errors.Is(err, ErrStale) {
		t.Fatalf("undo twice = %v, want ErrStale", err)
	}
	if _, err := s.ReminderAdvance("ghost", nil, w1, w1.At); !errors.Is(err, ErrNotFound) {
		t.Fatalf("advance unknown = %v", err)
	}
	if _, err := s.ReminderRemove("r"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReminderRemove("r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice = %v", err)
	}
}

func BenchmarkReminderAdvance(b *testing.B) {
	s := mustOpen(b)
	for i := range 20 {
		s.ReminderAdd(Reminder{Name: fmt.Sprintf("r%d", i), Schedule: "0 15 * * FRI", Channel: "#operations", Text: "t"})
	}
	start := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	var last *Occurrence
	b.ResetTimer()
	for i := range b.N {
		o := occ(start.Add(time.Duration(i) * 7 * 24 * time.Hour))
		if _, err := s.ReminderAdvance("r7", last, o, o.At); err != nil {
			b.Fatal(err)
		}
		last = &o
	}
}

func BenchmarkReminders(b *testing.B) {
	s := mustOpen(b)
	for i := range 20 {
		s.ReminderAdd(Reminder{Name: fmt.Sprintf("r%d", i), Schedule: "0 15 * * FRI", Channel: "#operations", Text: "t"})
	}
	b.ResetTimer()
	for range b.N {
		if rs, err := s.Reminders(); err != nil || len(rs) != 20 {
			b.Fatal(len(rs), err)
		}
	}
}
