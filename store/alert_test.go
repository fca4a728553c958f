package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func firing(fp string) Alert {
	return Alert{Fingerprint: fp, Status: AlertFiring, Labels: map[string]string{"alertname": "HighLatency", "instance": fp}}
}

func resolved(fp string) Alert {
	a := firing(fp)
	a.Status = AlertResolved
	return a
}

// A group's life: it opens a record, a re-send changes nothing to tell, joining alerts are news, the resolve
// closes it, and a firing after that is a new record.
func TestApplyAlertsLifecycle(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	up := func(at time.Duration, action string, alerts ...Alert) AlertChange {
		t.Helper()
		ch, err := s.ApplyAlerts(AlertUpdate{Key: "{}:{alertname=\"HighLatency\"}", Name: "HighLatency", Service: "playlist",
			Severity: "critical", Action: action, Alerts: alerts, Summary: "p99 2s", Now: t0.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	ch := up(0, ActionPage, firing("a"), firing("b"))
	if !ch.New || ch.Group.ID != 1 || ch.Group.Firing != 2 || ch.Group.News != (AlertNews{Opened: true}) || ch.Group.Ref() != "A-1" {
		t.Fatalf("first firing = %+v", ch)
	}
	if err := s.AlertsTold([]AlertGroup{ch.Group}); err != nil {
		t.Fatal(err)
	}
	if ch = up(time.Minute, ActionPage, firing("a"), firing("b")); ch.New || !ch.Group.News.Empty() {
		t.Fatalf("re-send = %+v, want nothing new to tell", ch)
	}
	ch = up(2*time.Minute, ActionNotify, firing("a"), firing("b"), firing("c"))
	if ch.New || ch.Group.News != (AlertNews{Added: 1}) || ch.Group.Firing != 3 || ch.Group.Action != ActionPage {
		t.Fatalf("joined alert = %+v, want 1 added and the stronger action kept", ch)
	}
	untold, err := s.UntoldAlertGroups(10)
	if err != nil || len(untold) != 1 {
		t.Fatalf("untold = %v, %v", untold, err)
	}
	// News that arrive between reading and telling stay owed.
	up(3*time.Minute, ActionPage, firing("a"), firing("b"), firing("c"), firing("d"))
	if err := s.AlertsTold(untold); err != nil {
		t.Fatal(err)
	}
	if untold, _ = s.UntoldAlertGroups(10); len(untold) != 1 || untold[0].News.Added != 2 {
		t.Fatalf("after telling stale news: %+v, want 2 added still owed", untold)
	}
	s.AlertsTold(untold)
	ch = up(4*time.Minute, ActionPage, resolved("a"), resolved("b"), resolved("c"), resolved("d"))
	if !ch.Group.News.Resolved || ch.Group.Resolved.IsZero() || ch.Group.Firing != 0 {
		t.Fatalf("resolve = %+v", ch)
	}
	if f, _ := s.FiringAlertGroups(); len(f) != 0 {
		t.Fatalf("firing after the resolve: %+v", f)
	}
	if ch = up(5*time.Minute, ActionPage, resolved("a")); !ch.Ignored {
		t.Fatalf("a repeated resolve = %+v, want ignored", ch)
	}
	ch = up(6*time.Minute, ActionPage, firing("a"))
	if !ch.New || ch.Group.ID != 2 {
		t.Fatalf("firing again = %+v, want a new record", ch)
	}
	if n, _ := s.FiringAlertCount(); n != 1 {
		t.Fatalf("firing count = %d, want 1", n)
	}
	if ch, _ = s.ApplyAlerts(AlertUpdate{Key: "other", Alerts: []Alert{resolved("x")}, Now: t0}); !ch.Ignored {
		t.Fatalf("a resolve of an unknown group = %+v, want ignored", ch)
	}
}

// A record stored under a group's former key (an older opsbot's) is found by the group's key, once.
func TestApplyAlertsMovesAFormerKey(t *testing.T) {
	s := mustOpen(t)
	now := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	up := func(key, former string, a Alert) AlertChange {
		t.Helper()
		ch, err := s.ApplyAlerts(AlertUpdate{Key: key, FormerKey: former, Action: ActionNotify, Alerts: []Alert{a}, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	before := up("cut", "", firing("a"))
	if ch := up("cut sha256:1", "cut", firing("a")); ch.New || ch.Group.ID != before.Group.ID || ch.Group.Key != "cut sha256:1" {
		t.Fatalf("the group under its former key = %+v, want record %d moved", ch, before.Group.ID)
	}
	if ch := up("cut sha256:2", "cut", firing("b")); !ch.New {
		t.Fatalf("another group alike in its start = %+v, want a record of its own", ch)
	}
}

// An alert group's page is keyed: opening it again (a re-sent webhook after a crash) finds the first.
func TestKeyedPageAndAlertLink(t *testing.T) {
	s, _ := openPagingStore(t)
	now := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	req := PageRequest{By: "alertmanager", Source: "alertmanager", Key: "alert:1", Service: "playlist", Text: "[FIRING:2] HighLatency",
		Target: "alice", Now: now, AckTimeout: 5 * time.Minute}
	p, _, err := s.OpenPage(req)
	if err != nil || p.Source != "alertmanager" {
		t.Fatalf("OpenPage = %+v, %v", p, err)
	}
	if _, _, err := s.OpenPage(req); !errors.Is(err, ErrPageExists) {
		t.Fatalf("second keyed OpenPage: %v, want ErrPageExists", err)
	}
	if got, err := s.PageByKey("alert:1"); err != nil || got.ID != p.ID {
		t.Fatalf("PageByKey = %+v, %v", got, err)
	}
	if _, err := s.PageByKey("alert:2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PageByKey of nothing: %v", err)
	}
	if got, err := s.SetPageText(p.ID, "[FIRING:3] HighLatency"); err != nil || got.Text != "[FIRING:3] HighLatency" || len(got.Notices) != 2 {
		t.Fatalf("SetPageText = %+v, %v (the opening's notices stay as they were)", got, err)
	}
}

// A group's page follows it in the group's own transaction: opened when it fires, its text kept current,
// resolved with it; with nobody on call the group notes why it has none.
func TestAlertGroupPageFollowsTheGroup(t *testing.T) {
	s, _ := openPagingStore(t)
	now := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	rot := Rotation{Accounts: []string{"alice"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	text := func(g AlertGroup) string { return fmt.Sprintf("[FIRING:%d] %s", g.Firing, g.Name) }
	up := func(key string, rot Rotation, at time.Duration, alerts ...Alert) AlertChange {
		t.Helper()
		ch, err := s.ApplyAlerts(AlertUpdate{Key: key, Name: "HighLatency", Action: ActionPage, Alerts: alerts, Now: now.Add(at),
			Page: &AlertPage{Request: PageRequest{By: "alertmanager", Source: "alertmanager", Rotation: rot, AckTimeout: 5 * time.Minute,
				Notifiers: []string{"webhook-0"}}, Text: text}})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	ch := up("g", rot, 0, firing("a"))
	if !ch.Opened || ch.Page.ID != 1 || ch.Group.Page != 1 || ch.Page.Text != "[FIRING:1] HighLatency" || ch.Page.Target != "alice" || len(ch.Page.Notices) != 2 {
		t.Fatalf("firing = %+v", ch)
	}
	if g, err := s.AlertGroupOfPage(1); err != nil || g.ID != ch.Group.ID {
		t.Fatalf("AlertGroupOfPage = %+v, %v", g, err)
	}
	if ch = up("g", rot, time.Minute, firing("a"), firing("b")); ch.Opened || ch.Page.Text != "[FIRING:2] HighLatency" {
		t.Fatalf("re-send = %+v, want the same page with the new count", ch)
	}
	if ch = up("g", rot, 2*time.Minute, resolved("a"), resolved("b")); !ch.Resolved || ch.Page.State != PageResolved || ch.Page.ResolvedBy != "alertmanager" {
		t.Fatalf("resolve = %+v", ch)
	}
	if open, _ := s.OpenPages(); len(open) != 0 {
		t.Fatalf("open pages after the resolve: %+v", open)
	}
	if n, _ := s.NotifyQueues(); n["webhook-0"] != 2 {
		t.Fatalf("notifier tasks = %v, want the trigger and the resolve", n)
	}
	ch = up("h", Rotation{}, 0, firing("x"))
	if ch.Opened || ch.Group.Page != 0 || ch.Group.PageNote != "nobody on call" {
		t.Fatalf("nobody on call = %+v", ch)
	}
	if ch = up("h", rot, time.Minute, firing("x")); ch.Opened {
		t.Fatalf("a group noted unpaged was paged on a re-send: %+v", ch)
	}
}

// The dead man's switch pages once per silence; a heartbeat ends the silence and hands back the page.
func TestHeartbeatState(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	if h, err := s.AlertHeartbeat(); err != nil || !h.LastSeen.IsZero() {
		t.Fatalf("initial heartbeat = %+v, %v", h, err)
	}
	if _, err := s.SeeHeartbeat(t0); err != nil {
		t.Fatal(err)
	}
	if err := s.HeartbeatPaged(t0, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.HeartbeatPaged(t0, 8); !errors.Is(err, ErrHeartbeatPaged) {
		t.Fatalf("second page for one silence: %v", err)
	}
	before, err := s.SeeHeartbeat(t0.Add(time.Hour))
	if err != nil || before.Page != 7 {
		t.Fatalf("SeeHeartbeat returned %+v, %v; want the page to resolve", before, err)
	}
	if h, _ := s.AlertHeartbeat(); h.Page != 0 || !h.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after the heartbeat: %+v", h)
	}
	if err := s.HeartbeatPaged(t0, 9); !errors.Is(err, ErrHeartbeatPaged) {
		t.Fatalf("paging for a silence a heartbeat ended: %v", err)
	}
}
