package store

import (
	"path/filepath"
	"testing"
	"time"
)

// ResolveAckedPages resolves exactly the pages acked before the cutoff and not resolved, with a resolve
// event for the notifiers and the channel line due, and !page list (OpenPages) no longer shows them; unacked pages keep escalating.
func TestResolveAckedPages(t *testing.T) {
	s, _ := openPagingStore(t)
	now := utc("2026-03-25T12:00:00Z")
	allow := func(Page) error { return nil }
	var ids []uint64
	for i, by := range []string{"bob", "dan", "erin", "fay"} {
		req := pageReq(by, "db down", now.Add(time.Duration(i)*time.Hour))
		req.Notifiers = nil
		p, _, err := s.OpenPage(req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	// P-1 acked at 12:00, P-2 at 13:00 and resolved by hand, P-3 at 14:00; P-4 never acked.
	for i, id := range ids[:3] {
		if _, err := s.AckPage(id, "alice", now.Add(time.Duration(i)*time.Hour), nil, allow); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ResolvePage(ids[1], "alice", now.Add(90*time.Minute), nil, allow); err != nil {
		t.Fatal(err)
	}
	later := now.Add(24*time.Hour + 30*time.Minute) // P-1's ack is 24h30m old, P-3's 22h30m
	got, err := s.ResolveAckedPages(later.Add(-24*time.Hour), later, []string{"webhook-0"}, 100)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] || got[0].State != PageResolved || got[0].ResolvedBy != AutoResolver || !got[0].ResolvedAt.Equal(later) {
		t.Fatalf("ResolveAckedPages = %+v, %v; want P-1 resolved by %s", got, err, AutoResolver)
	}
	if p, _ := s.GetPage(ids[0]); len(p.Notices) != 1 || p.Notices[0].Kind != NoticeAutoResolved {
		t.Errorf("P-1's notices %+v, want its channel line due", p.Notices)
	}
	task, ok, err := s.NotifyHead("webhook-0")
	if err != nil || !ok || task.Event != "resolve" || task.Page.ID != ids[0] {
		t.Errorf("notifier task %+v %v %v, want P-1's resolve", task, ok, err)
	}
	open, err := s.OpenPages()
	if err != nil || len(open) != 2 || open[0].ID != ids[2] || open[1].ID != ids[3] {
		t.Errorf("open pages %+v, %v; want P-3 (acked, not yet due) and P-4 (not acked)", open, err)
	}
	if again, err := s.ResolveAckedPages(later.Add(-24*time.Hour), later, nil, 100); err != nil || len(again) != 0 {
		t.Errorf("a second run = %+v, %v; want nothing", again, err)
	}
	// A limit leaves the rest for the next run.
	much := later.Add(48 * time.Hour)
	if got, err := s.ResolveAckedPages(much, much, nil, 0); err != nil || len(got) != 0 {
		t.Errorf("limit 0 = %+v, %v", got, err)
	}
	if got, err := s.ResolveAckedPages(much, much, nil, 10); err != nil || len(got) != 1 || got[0].ID != ids[2] {
		t.Errorf("later = %+v, %v; want P-3", got, err)
	}
	if p, _ := s.GetPage(ids[3]); p.State != PageOpen {
		t.Errorf("the unacked page became %s", p.State)
	}
}

// A store written before the acked index (schema 4) gets it built from the open pages when opened.
func TestPagesAckedIndexMigratesFromSchema4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := utc("2026-03-25T12:00:00Z")
	p, _, err := s.OpenPage(pageReq("bob", "db down", now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AckPage(p.ID, "alice", now, nil, func(Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAtSchema(t, path, 4, bucketPagesAcked)
	got, err := s.ResolveAckedPages(now.Add(time.Second), now.Add(time.Hour), nil, 10)
	if err != nil || len(got) != 1 || got[0].ID != p.ID {
		t.Fatalf("after the migration: %+v, %v; want the acked page resolved", got, err)
	}
}
