package store

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SeverityWeights weighs impact time by severity: index 1..4 is SEV1..SEV4 (index 0 is unused).
type SeverityWeights [5]float64

// DefaultWeights are the default availability.weights: sev1 1.0, sev2 0.5, sev3 0.1, sev4 0.
var DefaultWeights = SeverityWeights{0, 1.0, 0.5, 0.1, 0}

// Map is the weights by "sev1".."sev4", as the config file writes them.
func (w SeverityWeights) Map() map[string]float64 {
	m := make(map[string]float64, len(w)-1)
	for sev := 1; sev < len(w); sev++ {
		m[fmt.Sprintf("sev%d", sev)] = w[sev]
	}
	return m
}

// ImpactSpan is one incident's impact on a service: [Start, End) at Severity. A zero End is still open.
type ImpactSpan struct {
	Start, End time.Time
	Severity   int
	Planned    bool   // declared as planned work (see Incident.Planned)
	Incident   uint64 // the incident's id
}

// WeightedDowntime is the impact time within [from, to), weighted by severity. Impacts are clipped at the
// window's edges, open ones count up to to, and where impacts overlap the time counts once, at the highest
// weight among them; planned impacts are left out. It is DailyDowntime for one window.
func WeightedDowntime(impacts []ImpactSpan, from, to time.Time, w SeverityWeights) time.Duration {
	if !to.After(from) {
		return 0
	}
	return DailyDowntime(impacts, []time.Time{from, to}, w)[0]
}

// ServiceAvailability is a service's availability over a window.
type ServiceAvailability struct {
	Service   string
	From, To  time.Time
	Downtime  time.Duration // weighted impact time, planned downtime left out
	Incidents int           // incidents overlapping the window
	Percent   float64
	// Planned is the impact of planned incidents inside maintenance windows (unweighted, within the window):
	// reported beside availability, not counted in it.
	Planned time.Duration
}

// newAvailability computes a service's availability from its impacts; planned ones (already checked to lie
// inside maintenance windows) are added up apart.
func newAvailability(service string, impacts []ImpactSpan, from, to time.Time, w SeverityWeights) ServiceAvailability {
	a := ServiceAvailability{Service: service, From: from, To: to, Incidents: len(impacts)}
	counted := make([]ImpactSpan, 0, len(impacts))
	for _, im := range impacts {
		if !im.Planned {
			counted = append(counted, im)
			continue
		}
		start, end := im.Start, im.End
		if start.Before(from) {
			start = from
		}
		if end.IsZero() || end.After(to) {
			end = to
		}
		a.Planned += max(end.Sub(start), 0)
	}
	a.Downtime = WeightedDowntime(counted, from, to, w)
	a.Percent = 100
	if window := to.Sub(from); window > 0 {
		a.Percent = 100 * (1 - float64(a.Downtime)/float64(window))
	}
	return a
}

// Availability computes service's availability over [from, to) from the incident log. It reads only the
// incidents that can overlap the window: the open ones and, through the service+start index, the closed
// ones that started at most the service's longest closed impact before from.
func (s *Store) Availability(service string, from, to time.Time, w SeverityWeights) (ServiceAvailability, error) {
	var a ServiceAvailability
	err := s.db.View(func(tx *bolt.Tx) error {
		open, err := openIncidents(tx)
		if err != nil {
			return err
		}
		impacts, err := serviceImpacts(tx, service, from, to, open)
		if err != nil {
			return err
		}
		a = newAvailability(service, impacts, from, to, w)
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("store: availability of %s: %w", service, err)
	}
	return a, nil
}

// AvailabilityAll computes the availability of every service with an incident in [from, to), worst first.
func (s *Store) AvailabilityAll(from, to time.Time, w SeverityWeights) ([]ServiceAvailability, error) {
	var out []ServiceAvailability
	err := s.db.View(func(tx *bolt.Tx) error {
		open, err := openIncidents(tx)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketIncidentSpan).ForEach(func(k, _ []byte) error {
			impacts, err := serviceImpacts(tx, string(k), from, to, open)
			if err != nil || len(impacts) == 0 {
				return err
			}
			out = append(out, newAvailability(string(k), impacts, from, to, w))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: availability: %w", err)
	}
	slices.SortFunc(out, func(a, b ServiceAvailability) int {
		if c := cmp.Compare(a.Percent, b.Percent); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	return out, nil
}

// serviceImpacts returns the impacts on service that overlap [from, to): closed incidents from the
// service+start index, open ones from open (the open index, read once by the caller).
func serviceImpacts(tx *bolt.Tx, service string, from, to time.Time, open []Incident) ([]ImpactSpan, error) {
	var out []ImpactSpan
	raw := tx.Bucket(bucketIncidentSpan).Get([]byte(service))
	if raw == nil {
		return nil, nil
	}
	longest := time.Duration(min(btoi(raw), math.MaxInt64)) // a span wrapped before nanos saturated: scan it all
	prefix := append([]byte(service), 0)
	fromNS, toNS := nanos(from), nanos(to)
	c := tx.Bucket(bucketIncidentService).Cursor()
	for k, v := c.Seek(serviceKey(service, from.Add(-longest), 0)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+16 || len(v) != 9 {
			return nil, fmt.Errorf("bad index entry %q", k)
		}
		start := btoi(k[len(prefix) : len(prefix)+8])
		if start >= toNS {
			break
		}
		end := btoi(v[:8])
		if end == 0 || end <= fromNS { // open (counted below) or over before the window
			continue
		}
		out = append(out, ImpactSpan{Start: time.Unix(0, int64(start)), End: time.Unix(0, int64(end)), Severity: int(v[8] &^ plannedBit),
			Planned: v[8]&plannedBit != 0, Incident: btoi(k[len(k)-8:])})
	}
	for _, inc := range open {
		if inc.Start.Before(to) && slices.Contains(inc.Services(), service) {
			out = append(out, ImpactSpan{Start: inc.Start, Severity: inc.ImpactSeverity(), Planned: inc.Planned, Incident: inc.ID})
		}
	}
	// Planned work counts as planned only while its whole impact (so far, for an open one) lies inside a
	// maintenance window of the service; else it is downtime like any other.
	for i, im := range out {
		if !im.Planned {
			continue
		}
		end := im.End
		if end.IsZero() {
			end = to
		}
		windows, err := windowsCovering(tx, service, im.Start, end)
		if err != nil {
			return nil, err
		}
		out[i].Planned = slices.ContainsFunc(windows, func(w Window) bool { return !w.Start.After(im.Start) && !end.After(w.End) })
	}
	return out, nil
}
