package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func pageReq(by, text string, now time.Time) PageRequest {
	return PageRequest{By: by, Text: text, Now: now, AckTimeout: 5 * time.Minute, DedupeWindow: 10 * time.Minute, RateLimit: 3,
		Rotation:  Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC},
		Notifiers: []string{"webhook-0", "pagerduty-1"}}
}

func TestOpenPageDedupeAndRateLimit(t *testing.T) {
	s, _ := openPagingStore(t)
	now := utc("2026-03-25T12:00:00Z") // alice's week

	p, deduped, err := s.OpenPage(pageReq("bob", "db down", now))
	if err != nil || deduped || p.ID != 1 || p.Target != "alice" || p.State != PageOpen || !p.NextEscalation.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("OpenPage = %+v deduped %v, %v", p, deduped, err)
	}
	// Within the dedupe window: added to P-1.
	p, deduped, err = s.OpenPage(pageReq("Bob", "still down", now.Add(9*time.Minute)))
	if err != nil || !deduped || p.ID != 1 || len(p.Updates) != 1 || p.Updates[0].Text != "still down" {
		t.Fatalf("second page within the window = %+v deduped %v, %v", p, deduped, err)
	}
	// Someone else: a new page. An explicit target is paged instead of the on-call.
	req := pageReq("dave", "disk full", now.Add(9*time.Minute))
	req.Target, req.Service = "erin", "storage"
	if p, deduped, err = s.OpenPage(req); err != nil || deduped || p.ID != 2 || p.Target != "erin" || p.Service != "storage" {
		t.Fatalf("dave's page = %+v deduped %v, %v", p, deduped, err)
	}
	// After the window: new pages, until the rate limit (3 per hour) refuses the fourth.
	for i, at := range []time.Duration{11 * time.Minute, 22 * time.Minute} {
		if p, deduped, err = s.OpenPage(pageReq("bob", fmt.Sprint("again ", i), now.Add(at))); err != nil || deduped {
			t.Fatalf("page %d after the window = %+v deduped %v, %v", i, p, deduped, err)
		}
		if _, err := s.ResolvePage(p.ID, "alice", now.Add(at), nil, func(Page) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = s.OpenPage(pageReq("bob", "fourth", now.Add(30*time.Minute)))
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Count != 3 || rl.Limit != 3 || !rl.Retry.Equal(now.Add(time.Hour)) {
		t.Fatalf("fourth page in an hour: %v (%+v), want a rate limit until %s", err, rl, now.Add(time.Hour))
	}
	// The refused page changed nothing; an hour after the first page, bob may page again.
	if ps, _ := s.OpenPages(); len(ps) != 2 {
		t.Errorf("open pages after refusal = %d, want 2", len(ps))
	}
	if p, _, err = s.OpenPage(pageReq("bob", "fourth", now.Add(time.Hour))); err != nil || p.ID != 5 {
		t.Fatalf("page an hour later = %+v, %v", p, err)
	}
	// Nobody on call: refused.
	req = pageReq("bob", "x", now.Add(2*time.Hour))
	req.Rotation, req.RateLimit = Rotation{}, 0
	if _, _, err := s.OpenPage(req); !errors.Is(err, ErrNobodyOnCall) {
		t.Fatalf("page with nobody on call: %v", err)
	}
	if n, _ := s.OpenCounts(); n["pages"] != 3 {
		t.Errorf("OpenCounts pages = %d, want 3", n["pages"])
	}
}

func TestAckResolveAndEscalateOnce(t *testing.T) {
	s, path := openPagingStore(t)
	now := utc("2026-03-25T12:00:00Z")
	p, _, err := s.OpenPage(pageReq("bob", "db down", now))
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DuePages(now.Add(5*time.Minute-1), 10); len(due) != 0 {
		t.Fatalf("due before the ack timeout: %d pages", len(due))
	}
	due, err := s.DuePages(now.Add(5*time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].ID != p.ID {
		t.Fatalf("DuePages at the timeout = %+v, %v", due, err)
	}
	at := now.Add(5 * time.Minute)
	p, ok, err := s.EscalatePage(p.ID, due[0].NextEscalation, "carol", at.Add(5*time.Minute), at, "alice did not ack", []string{"webhook-0"})
	if err != nil || !ok || p.Step != 1 || p.Target != "carol" || len(p.Paged) != 2 {
		t.Fatalf("EscalatePage = %+v %v, %v", p, ok, err)
	}
	// The same step again (a second job run, or after a restart) does nothing.
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.EscalatePage(p.ID, due[0].NextEscalation, "carol", at.Add(5*time.Minute), at, "", nil); err != nil || ok {
		t.Fatalf("escalating the same step twice: ok %v, %v", ok, err)
	}
	if due, _ := s.DuePages(at.Add(5*time.Minute-1), 10); len(due) != 0 {
		t.Fatalf("after the step, due early: %+v", due)
	}
	// Ack: checked, then stops the timer; a second ack says who did it.
	refuse := errors.New("not yours")
	if _, err := s.AckPage(p.ID, "dave", at, nil, func(Page) error { return refuse }); err != refuse {
		t.Fatalf("refused ack: %v", err)
	}
	p, err = s.AckPage(p.ID, "carol", at.Add(time.Minute), []string{"pagerduty-1"}, func(Page) error { return nil })
	if err != nil || p.State != PageAcked || p.AckedBy != "carol" || !p.NextEscalation.IsZero() {
		t.Fatalf("AckPage = %+v, %v", p, err)
	}
	if p, err := s.AckPage(p.ID, "alice", at, nil, func(Page) error { return nil }); !errors.Is(err, ErrPageAcked) || p.AckedBy != "carol" {
		t.Fatalf("second ack: %v (acked by %q)", err, p.AckedBy)
	}
	if due, _ := s.DuePages(at.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("acked page still due: %+v", due)
	}
	if _, ok, _ := s.ExhaustPage(p.ID, p.NextEscalation, at, nil); ok {
		t.Fatal("ExhaustPage on an acked page did something")
	}
	p, err = s.ResolvePage(p.ID, "alice", at.Add(2*time.Minute), nil, func(Page) error { return nil })
	if err != nil || p.State != PageResolved {
		t.Fatalf("ResolvePage = %+v, %v", p, err)
	}
	if _, err := s.ResolvePage(p.ID, "alice", at, nil, func(Page) error { return nil }); !errors.Is(err, ErrPageResolved) {
		t.Fatalf("second resolve: %v", err)
	}
	if _, err := s.AckPage(99, "alice", at, nil, func(Page) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ack of an unknown page: %v", err)
	}
	if ps, _ := s.OpenPages(); len(ps) != 0 {
		t.Errorf("open pages after resolve: %+v", ps)
	}
	if ps, _ := s.RecentPages(10); len(ps) != 1 || ps[0].State != PageResolved {
		t.Errorf("RecentPages = %+v", ps)
	}
}

func TestNotifyQueueInOrderPerNotifier(t *testing.T) {
	s, _ := openPagingStore(t)
	now := utc("2026-03-25T12:00:00Z")
	p, _, err := s.OpenPage(pageReq("bob", "db down", now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AckPage(p.ID, "alice", now, []string{"webhook-0", "pagerduty-1"}, func(Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"webhook-0", "pagerduty-1"} {
		if got := s.NotifyPending(n); got != 2 {
			t.Fatalf("%s: %d pending, want 2", n, got)
		}
		head, ok, err := s.NotifyHead(n)
		if err != nil || !ok || head.Event != "trigger" || head.Page.ID != p.ID || head.Notifier != n {
			t.Fatalf("%s head = %+v %v, %v", n, head, ok, err)
		}
		head.Attempts, head.LastError, head.NextTry = 1, "503", now.Add(time.Second)
		if err := s.NotifyRetry(head); err != nil {
			t.Fatal(err)
		}
		again, _, _ := s.NotifyHead(n)
		if again.ID != head.ID || again.Attempts != 1 || !again.NextTry.Equal(head.NextTry) {
			t.Fatalf("%s head after retry = %+v", n, again)
		}
		if err := s.NotifyDone(again); err != nil {
			t.Fatal(err)
		}
		next, _, _ := s.NotifyHead(n)
		if next.Event != "acknowledge" || next.Page.AckedBy != "alice" {
			t.Fatalf("%s second task = %+v", n, next)
		}
		_ = s.NotifyDone(next)
		if _, ok, _ := s.NotifyHead(n); ok {
			t.Fatalf("%s: queue not empty", n)
		}
	}
}

func BenchmarkOpenPage(b *testing.B) {
	s, _ := openPagingStore(b)
	now := utc("2026-03-25T12:00:00Z")
	b.ResetTimer()
	for i := range b.N {
		req := pageReq(fmt.Sprint("dev", i), "db down", now)
		if _, _, err := s.OpenPage(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOnCallNow(b *testing.B) {
	s, _ := openPagingStore(b)
	r := pageReq("", "", time.Time{}).Rotation
	now := utc("2026-03-25T12:00:00Z")
	// A year of history (an override a day) and one in force: only the one in force is read.
	for i := range 366 {
		start := now.Add(time.Duration(i-365) * 24 * time.Hour)
		if _, _, err := s.AddOverride(r, Override{Account: "bob", Start: start, End: start.Add(2 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if st, err := s.OnCallNow(r, now.Add(time.Hour)); err != nil || st.Account != "bob" {
			b.Fatal(err)
		}
	}
}

// The index of pages with notices due follows the notices: a new page is in it until its notices are sent,
// an ack takes it out, and an acked page never resolved is not read by the job that asks every second.
func TestPagesWithNoticesFollowsTheNotices(t *testing.T) {
	s, _ := openPagingStore(t)
	now := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	ids := func() []uint64 {
		t.Helper()
		ps, err := s.PagesWithNotices()
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	p1, _, err := s.OpenPage(PageRequest{By: "bob", Text: "db down", Target: "alice", Now: now, AckTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p2, _, err := s.OpenPage(PageRequest{By: "dave", Text: "disk full", Target: "alice", Now: now, AckTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []uint64{p1.ID, p2.ID}) {
		t.Fatalf("after two pages: %v", got)
	}
	if err := s.PageNoticesSent(p1.ID, p1.Notices...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AckPage(p2.ID, "alice", now, nil, func(Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := ids(); len(got) != 0 {
		t.Fatalf("after P-1's notices were sent and P-2 was acked: %v", got)
	}
}

// TestPageNoticesSentInOneCommit: the notices queued for IRC leave the page together, in one commit; one that
// is no longer there (sent already) changes nothing, and the page's other notices stay due.
func TestPageNoticesSentInOneCommit(t *testing.T) {
	s, _ := openPagingStore(t)
	now := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	p, _, err := s.OpenPage(PageRequest{By: "bob", Text: "db down", Target: "alice", Now: now, AckTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notices) != 2 {
		t.Fatalf("a new page has %d notices, want the channel's and alice's", len(p.Notices))
	}
	notices := func() []PageNotice {
		t.Helper()
		got, err := s.GetPage(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Notices
	}
	commits, _ := s.WriteStats()
	if err := s.PageNoticesSent(p.ID, p.Notices[0]); err != nil {
		t.Fatal(err)
	}
	if got := notices(); len(got) != 1 || !got[0].same(p.Notices[1]) {
		t.Fatalf("after the first was sent: %+v", got)
	}
	if err := s.PageNoticesSent(p.ID, p.Notices...); err != nil { // the first again, and the second
		t.Fatal(err)
	}
	if got := notices(); len(got) != 0 {
		t.Fatalf("after both were sent: %+v", got)
	}
	if after, _ := s.WriteStats(); after-commits != 2 {
		t.Fatalf("%d commits for two calls", after-commits)
	}
	if err := s.PageNoticesSent(p.ID); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.WriteStats(); after-commits != 2 {
		t.Fatalf("a call with no notices committed (%d commits)", after-commits)
	}
}
