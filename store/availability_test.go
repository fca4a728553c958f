package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestWeightedDowntime(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	at := func(m int) time.Time { return from.Add(time.Duration(m) * time.Minute) }
	open := time.Time{}
	custom := SeverityWeights{0, 1, 1, 1, 1}
	tests := []struct {
		name    string
		impacts []ImpactSpan
		w       SeverityWeights
		want    time.Duration
	}{
		{"none", nil, DefaultWeights, 0},
		{"one sev1 inside", []ImpactSpan{{Start: at(60), End: at(90), Severity: 1}}, DefaultWeights, 30 * time.Minute},
		{"sev2 counts half", []ImpactSpan{{Start: at(60), End: at(120), Severity: 2}}, DefaultWeights, 30 * time.Minute},
		{"sev3 counts a tenth", []ImpactSpan{{Start: at(0), End: at(100), Severity: 3}}, DefaultWeights, 10 * time.Minute},
		{"sev4 counts nothing", []ImpactSpan{{Start: at(0), End: at(100), Severity: 4}}, DefaultWeights, 0},
		{"custom weights", []ImpactSpan{{Start: at(0), End: at(100), Severity: 4}}, custom, 100 * time.Minute},
		{"same window twice counts once", []ImpactSpan{{Start: at(10), End: at(40), Severity: 1}, {Start: at(10), End: at(40), Severity: 1}}, DefaultWeights, 30 * time.Minute},
		{"overlap at the highest weight", []ImpactSpan{{Start: at(0), End: at(60), Severity: 1}, {Start: at(30), End: at(90), Severity: 2}}, DefaultWeights, 75 * time.Minute},
		{"lower severity around a higher one", []ImpactSpan{{Start: at(0), End: at(120), Severity: 2}, {Start: at(30), End: at(60), Severity: 1}}, DefaultWeights, 75 * time.Minute},
		{"higher severity around a lower one", []ImpactSpan{{Start: at(0), End: at(120), Severity: 1}, {Start: at(30), End: at(60), Severity: 3}}, DefaultWeights, 120 * time.Minute},
		{"three overlapping", []ImpactSpan{{Start: at(0), End: at(100), Severity: 3}, {Start: at(20), End: at(80), Severity: 2}, {Start: at(40), End: at(60), Severity: 1}}, DefaultWeights, 20*time.Minute + 40*time.Minute/2 + 40*time.Minute/10},
		{"back to back", []ImpactSpan{{Start: at(0), End: at(30), Severity: 1}, {Start: at(30), End: at(60), Severity: 1}}, DefaultWeights, 60 * time.Minute},
		{"backdated before the window is clipped", []ImpactSpan{{Start: from.Add(-48 * time.Hour), End: at(30), Severity: 1}}, DefaultWeights, 30 * time.Minute},
		{"entirely before the window", []ImpactSpan{{Start: from.Add(-48 * time.Hour), End: from.Add(-time.Hour), Severity: 1}}, DefaultWeights, 0},
		{"ends exactly at the window start", []ImpactSpan{{Start: from.Add(-time.Hour), End: from, Severity: 1}}, DefaultWeights, 0},
		{"starts exactly at the window end", []ImpactSpan{{Start: to, End: to.Add(time.Hour), Severity: 1}}, DefaultWeights, 0},
		{"runs past the window end", []ImpactSpan{{Start: to.Add(-time.Hour), End: to.Add(time.Hour), Severity: 1}}, DefaultWeights, time.Hour},
		{"still open counts up to the window end", []ImpactSpan{{Start: to.Add(-90 * time.Minute), End: open, Severity: 2}}, DefaultWeights, 45 * time.Minute},
		{"open and backdated across the whole window", []ImpactSpan{{Start: from.Add(-time.Hour), End: open, Severity: 1}}, DefaultWeights, 30 * 24 * time.Hour},
		{"open overlapping closed", []ImpactSpan{{Start: to.Add(-60 * time.Minute), End: open, Severity: 2}, {Start: to.Add(-30 * time.Minute), End: to.Add(-20 * time.Minute), Severity: 1}}, DefaultWeights, 10*time.Minute + 50*time.Minute/2},
		{"empty impact", []ImpactSpan{{Start: at(10), End: at(10), Severity: 1}}, DefaultWeights, 0},
		{"unknown severity ignored", []ImpactSpan{{Start: at(0), End: at(10), Severity: 7}}, DefaultWeights, 0},
	}
	for _, tt := range tests {
		if got := WeightedDowntime(tt.impacts, from, to, tt.w); got != tt.want {
			t.Errorf("%s: WeightedDowntime = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAvailabilityFromTheIncidentLog(t *testing.T) {
	s, clk := openIncidentStore(t)
	now := clk.now
	window := 30 * 24 * time.Hour
	from := now.Add(-window)
	// INC-1: SEV1 on playlist, backdated to 40 days ago (before the window), resolved 29d23h ago: 1h inside.
	clk.now = now.Add(-40 * 24 * time.Hour)
	mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "long", Start: clk.now.Add(-time.Hour)})
	clk.now = now.Add(-time.Hour)
	if _, err := s.ResolveIncident(1, "a", "", from.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// INC-2: SEV2 on search, also affecting playlist, 10:00-11:00 five days ago.
	clk.now = now.Add(-5 * 24 * time.Hour)
	mustDeclare(t, s, Incident{Severity: 2, Service: "search", Summary: "s", Start: clk.now.Add(-time.Hour)})
	if _, err := s.AddIncidentService(2, "a", "playlist"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveIncident(2, "a", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// INC-3: SEV1 on playlist overlapping INC-2's second half; counted once at weight 1.
	mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "s", Start: clk.now.Add(-30 * time.Minute)})
	clk.now = clk.now.Add(30 * time.Minute)
	if _, err := s.ResolveIncident(3, "a", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// INC-4: SEV3 on radio, still open, declared 100 minutes ago.
	clk.now = now.Add(-100 * time.Minute)
	mustDeclare(t, s, Incident{Severity: 3, Service: "radio", Summary: "open"})
	// INC-5: SEV1 on playlist, long before the window: not counted.
	clk.now = now.Add(-60 * 24 * time.Hour)
	mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "old"})
	clk.now = clk.now.Add(time.Hour)
	if _, err := s.ResolveIncident(5, "a", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.now = now

	// playlist: 1h (INC-1) + 30m at 0.5 (INC-2 alone) + 30m at 1 (INC-3 over INC-2) + 30m (INC-3 alone).
	a, err := s.Availability("playlist", from, now, DefaultWeights)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Hour + 15*time.Minute + 30*time.Minute + 30*time.Minute; a.Downtime != want || a.Incidents != 3 {
		t.Errorf("playlist: downtime %v over %d incidents, want %v over 3", a.Downtime, a.Incidents, want)
	}
	if want := 100 * (1 - float64(135*time.Minute)/float64(window)); math.Abs(a.Percent-want) > 1e-9 {
		t.Errorf("playlist: %v%%, want %v%%", a.Percent, want)
	}
	all, err := s.AvailabilityAll(from, now, DefaultWeights)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range all {
		got = append(got, fmt.Sprintf("%s %v", a.Service, a.Downtime))
	}
	want := []string{"playlist 2h15m0s", "search 30m0s", "radio 10m0s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AvailabilityAll = %q, want %q (worst first)", got, want)
	}
	// A window that ends before INC-4 started, and one that covers only its first 10 minutes.
	if a, _ := s.Availability("radio", from, now.Add(-2*time.Hour), DefaultWeights); a.Incidents != 0 || a.Percent != 100 {
		t.Errorf("radio before its incident: %+v", a)
	}
	if a, _ := s.Availability("radio", now.Add(-24*time.Hour), now.Add(-90*time.Minute), DefaultWeights); a.Downtime != time.Minute {
		t.Errorf("radio, first 10m of a SEV3: downtime %v, want 1m", a.Downtime)
	}
	if a, _ := s.Availability("nothing", from, now, DefaultWeights); a.Incidents != 0 || a.Percent != 100 {
		t.Errorf("unknown service: %+v", a)
	}
}

// benchIncidents builds a store with n incidents over two years on 50 services, with perIncident timeline
// entries each, written in large transactions (the fixture, not what is measured).
func benchIncidents(b *testing.B, n, perIncident int) (*Store, time.Time) {
	s, clk := openIncidentStore(b)
	now := clk.now
	r := rand.New(rand.NewPCG(1, 2))
	span := 2 * 365 * 24 * time.Hour
	const batch = 2000
	for first := 0; first < n; first += batch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := first; i < min(first+batch, n); i++ {
				start := now.Add(-span + time.Duration(i)*(span/time.Duration(n)))
				d := time.Duration(1+r.IntN(240)) * time.Minute
				if r.IntN(1000) == 0 {
					d = 72 * time.Hour
				}
				inc := Incident{ID: uint64(i + 1), Severity: 1 + r.IntN(4), Service: fmt.Sprintf("svc-%02d", r.IntN(50)),
					Summary: "benchmark incident", Status: IncidentResolved, Commander: "alice", DeclaredBy: "alice",
					Declared: start, Start: start, End: start.Add(d)}
				if i >= n-20 { // the newest twenty are still open
					inc.Status, inc.End = IncidentInvestigating, time.Time{}
				}
				if r.IntN(10) == 0 {
					inc.Affects = []string{fmt.Sprintf("svc-%02d", r.IntN(50))}
				}
				if _, err := tx.Bucket(bucketIncidents).NextSequence(); err != nil {
					return err
				}
				if err := saveIncident(tx, nil, &inc, TimelineEntry{At: start, Author: "alice", Text: "declared"}); err != nil {
					return err
				}
				tl := tx.Bucket(bucketIncidentTimeline)
				for j := 1; j < perIncident; j++ {
					seq, _ := tl.NextSequence()
					e := TimelineEntry{Incident: inc.ID, Seq: seq, At: start.Add(time.Duration(j) * time.Minute), Author: "alice", Text: "timeline entry text"}
					if err := putJSON(tl, timelineKey(inc.ID, seq), e); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s, now
}

// BenchmarkAvailability measures !availability's store time over 90 days with 100k incidents and 1M timeline
// entries in the store: for one service, and for every service.
func BenchmarkAvailability(b *testing.B) {
	s, now := benchIncidents(b, 100_000, 10)
	from := now.Add(-90 * 24 * time.Hour)
	b.Run("one-service-90d", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Availability("svc-07", from, now, DefaultWeights); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("all-services-90d", func(b *testing.B) {
		for b.Loop() {
			all, err := s.AvailabilityAll(from, now, DefaultWeights)
			if err != nil || len(all) != 50 {
				b.Fatal(len(all), err)
			}
		}
	})
	b.Run("open-list", func(b *testing.B) {
		for b.Loop() {
			if open, err := s.OpenIncidentList(); err != nil || len(open) != 20 {
				b.Fatal(len(open), err)
			}
		}
	})
}

// TestAvailabilityIndexMatchesFullScan checks the index walk against WeightedDowntime over every incident,
// for random backdated, resolved, reopened and open incidents and random windows.
func TestAvailabilityIndexMatchesFullScan(t *testing.T) {
	s, clk := openIncidentStore(t)
	r := rand.New(rand.NewPCG(3, 4))
	services := []string{"a", "b", "c"}
	for i := range 200 {
		clk.advance(time.Duration(r.IntN(180)) * time.Minute)
		inc := mustDeclare(t, s, Incident{Severity: 1 + r.IntN(4), Service: services[r.IntN(3)], Summary: "x",
			Start: clk.now.Add(-time.Duration(r.IntN(3*24*60)) * time.Minute)})
		if other := services[(i+1)%3]; r.IntN(3) == 0 && other != inc.Service {
			if _, err := s.AddIncidentService(inc.ID, "a", other); err != nil {
				t.Fatal(err)
			}
		}
		if r.IntN(10) > 0 {
			at := inc.Start.Add(time.Duration(r.Int64N(int64(clk.now.Sub(inc.Start)) + 1)))
			if _, err := s.ResolveIncident(inc.ID, "a", "", at); err != nil {
				t.Fatal(err)
			}
			if r.IntN(20) == 0 {
				if _, err := s.ReopenIncident(inc.ID, "a"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var all []Incident
	for id := uint64(1); id <= 200; id++ {
		inc, err := s.Incident(id)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, inc)
	}
	for range 50 {
		to := clk.now.Add(-time.Duration(r.IntN(10*24)) * time.Hour)
		from := to.Add(-time.Duration(1+r.IntN(20*24)) * time.Hour)
		for _, svc := range services {
			var impacts []ImpactSpan
			for _, inc := range all {
				for _, x := range inc.Services() {
					if x == svc && inc.Start.Before(to) && (inc.Open() || inc.End.After(from)) {
						impacts = append(impacts, ImpactSpan{Start: inc.Start, End: inc.End, Severity: inc.Severity})
					}
				}
			}
			want := WeightedDowntime(impacts, from, to, DefaultWeights)
			got, err := s.Availability(svc, from, to, DefaultWeights)
			if err != nil || got.Downtime != want || got.Incidents != len(impacts) {
				t.Fatalf("Availability(%s, %v, %v) = %v over %d incidents (%v), full scan %v over %d",
					svc, from, to, got.Downtime, got.Incidents, err, want, len(impacts))
			}
		}
	}
}

// An incident's impact is weighed at the worst severity it had: a SEV1 lowered to SEV4 for its follow-up
// keeps its outage in the numbers, open or resolved.
func TestAvailabilityWeighsTheWorstSeverity(t *testing.T) {
	s, clk := openIncidentStore(t)
	now := clk.now
	mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "down", Start: now.Add(-2 * time.Hour)})
	if _, err := s.SetIncidentSeverity(1, "alice", 4, false); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Availability("playlist", now.Add(-24*time.Hour), now, DefaultWeights); err != nil || a.Downtime != 2*time.Hour {
		t.Fatalf("open, lowered to SEV4: downtime %v, %v; want 2h at SEV1's weight", a.Downtime, err)
	}
	if _, err := s.ResolveIncident(1, "alice", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Availability("playlist", now.Add(-24*time.Hour), now, DefaultWeights); err != nil || a.Downtime != 2*time.Hour {
		t.Fatalf("resolved: downtime %v, %v; want 2h", a.Downtime, err)
	}
}
