package store

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// DailyDowntime gives each day what WeightedDowntime gives that day alone, across a DST change.
func TestDailyDowntimeMatchesWindowByWindow(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	var bounds []time.Time
	for d := 0; d <= 40; d++ { // 2026-03-10 to 2026-04-19: 29 March has 23 hours
		bounds = append(bounds, time.Date(2026, 3, 10+d, 0, 0, 0, 0, loc))
	}
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		var impacts []ImpactSpan
		for range r.IntN(12) {
			start := bounds[0].Add(time.Duration(r.Int64N(int64(45*24*time.Hour))) - 3*24*time.Hour)
			im := ImpactSpan{Start: start, End: start.Add(time.Duration(r.Int64N(int64(50 * time.Hour)))), Severity: 1 + r.IntN(4)}
			if r.IntN(8) == 0 {
				im.End = time.Time{} // still open
			}
			impacts = append(impacts, im)
		}
		got := DailyDowntime(impacts, bounds, DefaultWeights)
		if len(got) != len(bounds)-1 {
			t.Fatalf("round %d: %d days, want %d", round, len(got), len(bounds)-1)
		}
		var sum time.Duration
		for i := range got {
			want := sweepDowntime(impacts, bounds[i], bounds[i+1], DefaultWeights)
			if d := got[i] - want; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("round %d, day %d (%s): %v, want %v; impacts %+v", round, i, bounds[i].Format(time.DateOnly), got[i], want, impacts)
			}
			sum += got[i]
		}
		if all := sweepDowntime(impacts, bounds[0], bounds[len(bounds)-1], DefaultWeights); sum-all > time.Millisecond || all-sum > time.Millisecond {
			t.Fatalf("round %d: days add up to %v, the whole span is %v", round, sum, all)
		}
	}
}

func TestAvailabilityDaysFromTheLog(t *testing.T) {
	s, clk := openIncidentStore(t)
	day := func(i int) time.Time { return time.Date(2026, 3, 1+i, 0, 0, 0, 0, time.UTC) }
	// clk.now is 2026-03-10 12:00 UTC: a SEV1 of two hours on 3 March, a SEV2 open since 10 March 06:00.
	inc := mustDeclare(t, s, Incident{Severity: 1, Service: "playlist", Summary: "down", Start: day(2).Add(10 * time.Hour)})
	if _, err := s.ResolveIncident(inc.ID, "alice", "", day(2).Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	open := mustDeclare(t, s, Incident{Severity: 2, Service: "playlist", Summary: "slow", Start: day(9).Add(6 * time.Hour)})
	var bounds []time.Time
	for i := 0; i <= 10; i++ {
		bounds = append(bounds, day(i))
	}
	bounds[10] = clk.now // today so far
	d, err := s.AvailabilityDays("playlist", bounds, DefaultWeights)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{0, 0, 2 * time.Hour, 0, 0, 0, 0, 0, 0, 3 * time.Hour} {
		if d.Downtime[i] != want {
			t.Errorf("day %d: downtime %v, want %v", i, d.Downtime[i], want)
		}
	}
	if p := d.Percent(2); p < 91.66 || p > 91.67 {
		t.Errorf("day 2: %.3f%%, want 91.67%% (2h of 24h)", p)
	}
	if len(d.Impacts) != 2 || d.Impacts[0].Incident != inc.ID || d.Impacts[1].Incident != open.ID {
		t.Errorf("impacts = %+v, want INC-%d then INC-%d", d.Impacts, inc.ID, open.ID)
	}
}

// Planned work inside a maintenance window is left out day by day, as availability leaves it out.
func TestDailyDowntimeLeavesPlannedWorkOut(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	bounds := []time.Time{day, day.Add(24 * time.Hour), day.Add(48 * time.Hour)}
	impacts := []ImpactSpan{
		{Start: day.Add(2 * time.Hour), End: day.Add(4 * time.Hour), Severity: 1, Planned: true},
		{Start: day.Add(26 * time.Hour), End: day.Add(27 * time.Hour), Severity: 1},
	}
	got := DailyDowntime(impacts, bounds, DefaultWeights)
	if got[0] != 0 || got[1] != time.Hour {
		t.Errorf("DailyDowntime = %v, want [0 1h]: the planned work is not downtime", got)
	}
}

// sweepDowntime is the plain one-window sweep DailyDowntime must agree with (planned impacts left out, as
// DailyDowntime leaves them out): the time of each stretch between start and end points at the highest weight
// open then.
func sweepDowntime(impacts []ImpactSpan, from, to time.Time, w SeverityWeights) time.Duration {
	type event struct {
		at    time.Time
		sev   int
		delta int
	}
	events := make([]event, 0, 2*len(impacts))
	for _, im := range impacts {
		if im.Severity < 1 || im.Severity >= len(w) || im.Planned {
			continue
		}
		start, end := im.Start, im.End
		if end.IsZero() || end.After(to) {
			end = to
		}
		if start.Before(from) {
			start = from
		}
		if !end.After(start) {
			continue
		}
		events = append(events, event{start, im.Severity, +1}, event{end, im.Severity, -1})
	}
	slices.SortFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	var active [5]int // open impacts per severity
	var total float64 // weighted nanoseconds
	for i, e := range events {
		if i > 0 {
			top := 0.0
			for sev, n := range active {
				if n > 0 {
					top = max(top, w[sev])
				}
			}
			total += top * float64(e.at.Sub(events[i-1].at))
		}
		active[e.sev] += e.delta
	}
	return time.Duration(total)
}
