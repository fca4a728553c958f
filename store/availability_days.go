package store

import (
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DailyDowntime is WeightedDowntime for each of several consecutive windows at once (planned downtime left
// out, as availability leaves it out): bounds are the
// windows' edges (n+1 times for n windows, each later than the one before; days of a time zone have 23, 24
// or 25 hours), and the result has one weighted impact time per window. One sweep over the impacts' start and
// end points and the bounds does it, so a year of days costs about what one window does.
func DailyDowntime(impacts []ImpactSpan, bounds []time.Time, w SeverityWeights) []time.Duration {
	n := len(bounds) - 1
	if n < 1 {
		return nil
	}
	from, to := bounds[0], bounds[n]
	type event struct {
		at    time.Time
		sev   int
		delta int
	}
	events := make([]event, 0, 2*len(impacts))
	for _, im := range impacts {
		if im.Severity < 1 || im.Severity >= len(w) || im.Planned { // planned downtime is not counted
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
	var active [5]int
	top := func() float64 {
		t := 0.0
		for sev, k := range active {
			if k > 0 {
				t = max(t, w[sev])
			}
		}
		return t
	}
	sums := make([]float64, n)
	day, ei := 0, 0
	for cur := from; cur.Before(to); {
		for ei < len(events) && !events[ei].at.After(cur) {
			active[events[ei].sev] += events[ei].delta
			ei++
		}
		for day < n-1 && !bounds[day+1].After(cur) {
			day++
		}
		next := bounds[day+1]
		if ei < len(events) && events[ei].at.Before(next) {
			next = events[ei].at
		}
		sums[day] += top() * float64(next.Sub(cur))
		cur = next
	}
	out := make([]time.Duration, n)
	for i, s := range sums {
		out[i] = time.Duration(s)
	}
	return out
}

// ServiceDays is a service's availability day by day: the weighted impact of each window between bounds,
// and the impacts that overlap them (each with its incident), for a chart.
type ServiceDays struct {
	Service  string
	Bounds   []time.Time
	Downtime []time.Duration // one per window
	Impacts  []ImpactSpan
}

// Percent is the availability of window i.
func (d ServiceDays) Percent(i int) float64 {
	window := d.Bounds[i+1].Sub(d.Bounds[i])
	if window <= 0 {
		return 100
	}
	return 100 * (1 - float64(d.Downtime[i])/float64(window))
}

// AvailabilityDays computes service's weighted impact in each window between consecutive bounds (its days),
// reading the incident log as Availability does for the whole span.
func (s *Store) AvailabilityDays(service string, bounds []time.Time, w SeverityWeights) (ServiceDays, error) {
	all, err := s.AvailabilityDaysOf([]string{service}, bounds, w)
	if err != nil {
		return ServiceDays{Service: service, Bounds: bounds}, err
	}
	return all[0], nil
}

// AvailabilityDaysOf is AvailabilityDays for several services from one read of the log (the open
// incidents are read once for all of them).
func (s *Store) AvailabilityDaysOf(services []string, bounds []time.Time, w SeverityWeights) ([]ServiceDays, error) {
	if len(bounds) < 2 {
		return nil, fmt.Errorf("store: availability days: need at least two bounds")
	}
	out := make([]ServiceDays, len(services))
	err := s.db.View(func(tx *bolt.Tx) error {
		open, err := openIncidents(tx)
		if err != nil {
			return err
		}
		for i, svc := range services {
			out[i] = ServiceDays{Service: svc, Bounds: bounds}
			if out[i].Impacts, err = serviceImpacts(tx, svc, bounds[0], bounds[len(bounds)-1], open); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: availability days: %w", err)
	}
	for i := range out {
		out[i].Downtime = DailyDowntime(out[i].Impacts, bounds, w)
	}
	return out, nil
}
