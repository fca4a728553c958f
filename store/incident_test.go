package store

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// incidentClock is a settable clock for incident tests.
type incidentClock struct{ now time.Time }

func (c *incidentClock) Now() time.Time          { return c.now }
func (c *incidentClock) advance(d time.Duration) { c.now = c.now.Add(d) }

// openIncidentStore opens a store in tb.TempDir() on a settable clock.
func openIncidentStore(tb testing.TB) (*Store, *incidentClock) {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "opsbot.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	clk := &incidentClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	s.Now = clk.Now
	return s, clk
}

func mustDeclare(tb testing.TB, s *Store, in Incident) Incident {
	tb.Helper()
	if in.DeclaredBy == "" {
		in.DeclaredBy = "alice"
	}
	inc, err := s.DeclareIncident(in)
	if err != nil {
		tb.Fatal(err)
	}
	return inc
}

func TestIncidentLifecycle(t *testing.T) {
	s, clk := openIncidentStore(t)
	start := clk.now.Add(-15 * time.Minute)
	inc := mustDeclare(t, s, Incident{Severity: 2, Service: "playlist", Summary: "500s on play", Start: start, Freeze: true})
	if inc.ID != 1 || inc.Status != IncidentInvestigating || inc.Commander != "alice" || !inc.Start.Equal(start) || inc.Entries != 1 {
		t.Fatalf("DeclareIncident = %+v", inc)
	}
	clk.advance(time.Minute)
	if _, err := s.SetIncidentStatus(1, "carol", IncidentIdentified); err != nil {
		t.Fatal(err)
	}
	ch, err := s.SetIncidentSeverity(1, "carol", 1, true)
	if err != nil || ch.Before.Severity != 2 || ch.After.Severity != 1 {
		t.Fatalf("SetIncidentSeverity = %+v, %v", ch, err)
	}
	if _, err := s.SetIncidentCommander(1, "alice", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddIncidentService(1, "carol", "search"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NoteIncident(1, "carol", "rolled back 1.42"); err != nil {
		t.Fatal(err)
	}
	if why, _ := s.FrozenBy("search"); why != "INC-1 SEV1 open" {
		t.Errorf("FrozenBy(search) = %q, want INC-1 SEV1 open", why)
	}
	if lines, _ := s.OpenIncidents("playlist"); !reflect.DeepEqual(lines, []string{"INC-1 SEV1 identified"}) {
		t.Errorf("OpenIncidents(playlist) = %q", lines)
	}
	if counts, _ := s.OpenCounts(); counts["incidents"] != 1 {
		t.Errorf("OpenCounts = %v, want 1 incident", counts)
	}
	clk.advance(time.Hour)
	ch, err = s.ResolveIncident(1, "carol", "fixed", clk.now.Add(-30*time.Minute))
	if err != nil || ch.After.Open() || ch.After.Duration(clk.now) != 16*time.Minute+30*time.Minute {
		t.Fatalf("ResolveIncident = %+v, %v; want resolved after 46m", ch.After, err)
	}
	if why, _ := s.FrozenBy("search"); why != "" {
		t.Errorf("FrozenBy(search) after resolve = %q, want none", why)
	}
	if counts, _ := s.OpenCounts(); counts["incidents"] != 0 {
		t.Errorf("OpenCounts after resolve = %v", counts)
	}
	tl, err := s.IncidentTimeline(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range tl {
		texts = append(texts, e.Author+": "+e.Text)
	}
	want := []string{
		"alice: declared SEV2 on playlist: 500s on play (impact since 2026-03-10T11:45:00Z)",
		"carol: status investigating -> identified",
		"carol: severity SEV2 -> SEV1",
		"alice: commander alice -> carol",
		"carol: affects search",
		"carol: rolled back 1.42",
		"carol: resolved (impact ended 2026-03-10T12:31:00Z): fixed",
	}
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("timeline =\n%q\nwant\n%q", texts, want)
	}
	if last, _ := s.IncidentTimeline(1, 2); len(last) != 2 || last[1].Text != tl[6].Text {
		t.Errorf("IncidentTimeline(1, 2) = %+v, want the last two entries", last)
	}
	ch, err = s.ReopenIncident(1, "alice")
	if err != nil || !ch.After.Open() || !ch.After.End.IsZero() {
		t.Fatalf("ReopenIncident = %+v, %v", ch.After, err)
	}
	if why, _ := s.FrozenBy("playlist"); why != "INC-1 SEV1 open" {
		t.Errorf("FrozenBy after reopen = %q", why)
	}
}

func TestIncidentRules(t *testing.T) {
	s, clk := openIncidentStore(t)
	mustDeclare(t, s, Incident{Severity: 3, Service: "search", Summary: "slow"})
	clk.advance(time.Hour)
	var re *IncidentRuleError
	for name, f := range map[string]func() error{
		"same status":       func() error { _, err := s.SetIncidentStatus(1, "a", IncidentInvestigating); return err },
		"bad status":        func() error { _, err := s.SetIncidentStatus(1, "a", IncidentResolved); return err },
		"same severity":     func() error { _, err := s.SetIncidentSeverity(1, "a", 3, false); return err },
		"same service":      func() error { _, err := s.AddIncidentService(1, "a", "search"); return err },
		"end before start":  func() error { _, err := s.ResolveIncident(1, "a", "", clk.now.Add(-2*time.Hour)); return err },
		"end in the future": func() error { _, err := s.ResolveIncident(1, "a", "", clk.now.Add(time.Minute)); return err },
		"reopen open":       func() error { _, err := s.ReopenIncident(1, "a"); return err },
		"future start": func() error {
			_, err := s.DeclareIncident(Incident{Severity: 1, Service: "x", DeclaredBy: "a", Start: clk.now.Add(time.Hour)})
			return err
		},
		"start before 1970 (a typo of the year, 1026 for 2026)": func() error {
			_, err := s.DeclareIncident(Incident{Severity: 1, Service: "x", DeclaredBy: "a", Start: time.Date(1026, 11, 25, 14, 5, 0, 0, time.UTC)})
			return err
		},
	} {
		if err := f(); !errors.As(err, &re) {
			t.Errorf("%s: err = %v, want an IncidentRuleError", name, err)
		}
	}
	if _, err := s.ResolveIncident(1, "a", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveIncident(1, "a", "", time.Time{}); !errors.As(err, &re) {
		t.Errorf("resolving twice: err = %v", err)
	}
	if _, err := s.SetIncidentStatus(1, "a", IncidentMonitoring); !errors.As(err, &re) {
		t.Errorf("status of a resolved incident: err = %v", err)
	}
	if _, err := s.Incident(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("Incident(99): err = %v, want ErrNotFound", err)
	}
	if _, err := s.NoteIncident(99, "a", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NoteIncident(99): err = %v, want ErrNotFound", err)
	}
	tl, _ := s.IncidentTimeline(1, 0)
	if len(tl) != 2 {
		t.Errorf("refused changes left timeline entries: %+v", tl)
	}
}

func TestIncidentListsUseIndexes(t *testing.T) {
	s, clk := openIncidentStore(t)
	for i := range 5 {
		mustDeclare(t, s, Incident{Severity: 4 - i%4, Service: "svc", Summary: "n"})
		clk.advance(24 * time.Hour)
	}
	for _, id := range []uint64{1, 3} {
		if _, err := s.ResolveIncident(id, "a", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	open, err := s.OpenIncidentList()
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, inc := range open {
		ids = append(ids, inc.ID)
	}
	if !reflect.DeepEqual(ids, []uint64{4, 2, 5}) { // SEV1, SEV3, SEV4
		t.Errorf("open incidents = %v, want [4 2 5] (worst first)", ids)
	}
	recent, total, err := s.RecentIncidents(clk.now.Add(-48*time.Hour), 10)
	ids = nil
	for _, inc := range recent {
		ids = append(ids, inc.ID)
	}
	if err != nil || total != 3 || !reflect.DeepEqual(ids, []uint64{5, 4, 2}) {
		t.Errorf("RecentIncidents = %v (total %d, %v), want [5 4 2] of 3 (two declared since, one older but open)", ids, total, err)
	}
	// total counts them all, however many the limit returns; without since it is every incident.
	if recent, total, err := s.RecentIncidents(clk.now.Add(-48*time.Hour), 1); err != nil || total != 3 || len(recent) != 1 || recent[0].ID != 5 {
		t.Errorf("RecentIncidents(limit 1) = %d incidents, total %d, %v; want [5] of 3", len(recent), total, err)
	}
	if recent, total, err := s.RecentIncidents(time.Time{}, 2); err != nil || total != 5 || len(recent) != 2 {
		t.Errorf("RecentIncidents(all, limit 2) = %d incidents, total %d, %v; want 2 of 5", len(recent), total, err)
	}
}

func TestIncidentTopicState(t *testing.T) {
	s, clk := openIncidentStore(t)
	if st, err := s.IncidentTopic("#operations"); err != nil || st != (TopicState{}) {
		t.Fatalf("IncidentTopic before any = %+v, %v", st, err)
	}
	want := TopicState{Base: "Welcome", Set: "INC-1 SEV1 playlist investigating | Welcome", SetAt: clk.now, Active: true}
	if err := s.SetIncidentTopic("#operations", want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.IncidentTopic("#operations"); !reflect.DeepEqual(got, want) {
		t.Errorf("IncidentTopic = %+v, want %+v", got, want)
	}
}

func TestPublicIncidentUpdateIsMarked(t *testing.T) {
	s, clk := openIncidentStore(t)
	mustDeclare(t, s, Incident{Severity: 2, Service: "playlist", Summary: "bob's push broke play"})
	clk.advance(time.Minute)
	if _, err := s.NoteIncident(1, "alice", "rolled back bob's change"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NotePublicIncident(1, "alice", "Playback fails for some users; a fix is rolling out."); err != nil {
		t.Fatal(err)
	}
	tl, err := s.IncidentTimeline(1, 0)
	if err != nil || len(tl) != 3 {
		t.Fatalf("timeline = %+v, %v", tl, err)
	}
	for i, want := range []bool{false, false, true} {
		if tl[i].Public != want {
			t.Errorf("entry %d %q: Public = %v, want %v", i, tl[i].Text, tl[i].Public, want)
		}
	}
}

// Render rewrites only what the store wrote itself: the accounts of a change of commander and the time of a
// declaration's start or a resolution's end. Free text, even alike, is shown as written.
func TestTimelineEntryRender(t *testing.T) {
	name := func(a string) string { return "<" + a + ">" }
	at := func(t time.Time) string { return t.Format("15:04") }
	for _, tt := range []struct{ text, want string }{
		{"commander alice -> carol", "commander <alice> -> <carol>"},
		{"declared SEV2 on playlist: 500s (on play) (impact since 2026-03-10T11:45:00Z)", "declared SEV2 on playlist: 500s (on play) (impact since 11:45)"},
		{"declared SEV2 on playlist: 500s on play", "declared SEV2 on playlist: 500s on play"},
		{"resolved (impact ended 2026-03-10T12:31:00Z): fixed (again)", "resolved (impact ended 12:31): fixed (again)"},
		{"resolved (impact ended 2026-03-10T12:31:00Z)", "resolved (impact ended 12:31)"},
		{"resolved: fixed (impact ended 2026-03-10T12:31:00Z)", "resolved: fixed (impact ended 2026-03-10T12:31:00Z)"},
		{"resolved (impact ended yesterday): fixed", "resolved (impact ended yesterday): fixed"},
		{"commander of the night -> bob", "commander of the night -> bob"},
		{"rolled back 1.42", "rolled back 1.42"},
	} {
		if got := (TimelineEntry{Text: tt.text}).Render(name, at); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := (TimelineEntry{Text: "commander alice -> carol"}).Render(nil, at); got != "commander alice -> carol" {
		t.Errorf("Render with no name function = %q", got)
	}
}

// nanos saturates outside UnixNano's range, where UnixNano wraps: 1026 gave a time in 2196.
func TestNanosSaturates(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want uint64
	}{
		{time.Date(1026, 11, 25, 14, 5, 0, 0, time.UTC), 0},
		{time.Unix(-1, 0), 0},
		{time.Unix(0, 0), 0},
		{time.Unix(0, 1), 1},
		{time.Unix(1_800_000_000, 5), 1_800_000_000_000_000_005},
		{time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
	} {
		if got := nanos(tc.t); got != tc.want {
			t.Errorf("nanos(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

// A longest-impact span stored wrapped (by a start before 1678, before nanos saturated) does not hide the
// service's closed incidents from availability: the window's scan then starts at the beginning.
func TestAvailabilityWithAWrappedSpan(t *testing.T) {
	s, clk := openIncidentStore(t)
	now := clk.now
	clk.now = now.Add(-48 * time.Hour)
	mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "real", Start: clk.now.Add(-time.Hour)})
	if _, err := s.ResolveIncident(1, "a", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.now = now
	from := now.Add(-7 * 24 * time.Hour)
	before, err := s.Availability("playlist", from, now, DefaultWeights)
	if err != nil || before.Downtime != time.Hour || before.Incidents != 1 {
		t.Fatalf("Availability = %+v, %v; want 1h of downtime from 1 incident", before, err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIncidentSpan).Put([]byte("playlist"), itob(13_000_000_000_000_000_000)) // what a 1026 start gave
	}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Availability("playlist", from, now, DefaultWeights)
	if err != nil || after.Downtime != before.Downtime || after.Incidents != before.Incidents {
		t.Errorf("with a wrapped span: Availability = %+v, %v; want %+v", after, err, before)
	}
}
