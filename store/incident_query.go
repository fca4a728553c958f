package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Incident returns incident id; an unknown id is an error wrapping ErrNotFound.
func (s *Store) Incident(id uint64) (Incident, error) {
	var inc Incident
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		inc, err = getIncident(tx, id)
		return err
	})
	if err != nil {
		return inc, fmt.Errorf("store: %w", err)
	}
	return inc, nil
}

// IncidentTimeline returns the last n timeline entries of incident id (n <= 0: all), oldest first.
func (s *Store) IncidentTimeline(id uint64, n int) ([]TimelineEntry, error) {
	var out []TimelineEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := getIncident(tx, id); err != nil {
			return err
		}
		prefix := itob(id)
		c := tx.Bucket(bucketIncidentTimeline).Cursor()
		// Seek past the incident's last key, then walk back.
		k, v := c.Seek(itob(id + 1))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && (n <= 0 || len(out) < n); k, v = c.Prev() {
			var e TimelineEntry
			if err := jsonUnmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: incident timeline: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// openIncidents reads the open incidents from their index, worst severity first, then oldest first.
func openIncidents(tx *bolt.Tx) ([]Incident, error) {
	var out []Incident
	err := tx.Bucket(bucketIncidentOpen).ForEach(func(k, _ []byte) error {
		inc, err := getIncident(tx, btoi(k))
		if err != nil {
			return err
		}
		out = append(out, inc)
		return nil
	})
	slices.SortFunc(out, func(a, b Incident) int {
		if c := cmp.Compare(a.Severity, b.Severity); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, err
}

// OpenIncidentList returns the open incidents, worst severity first, then oldest first.
func (s *Store) OpenIncidentList() ([]Incident, error) {
	var out []Incident
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = openIncidents(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: open incidents: %w", err)
	}
	return out, nil
}

// RecentIncidents returns up to limit incidents, newest first: the open ones and those declared since.
// With a zero since it returns the newest incidents of all time. total is how many there are in all (open
// or declared since; with a zero since, every incident), however many limit returns.
func (s *Store) RecentIncidents(since time.Time, limit int) (out []Incident, total int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		out, total = nil, 0
		b := tx.Bucket(bucketIncidents)
		seen := map[uint64]bool{}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if since.IsZero() && len(out) == limit {
				break
			}
			var inc Incident
			if err := jsonUnmarshal(v, &inc); err != nil {
				return err
			}
			if !since.IsZero() && inc.Declared.Before(since) {
				break
			}
			seen[inc.ID] = true
			total++
			if len(out) < limit {
				out = append(out, inc)
			}
		}
		if since.IsZero() {
			total = int(b.Sequence())
			return nil
		}
		open, err := openIncidents(tx)
		for _, inc := range open {
			if !seen[inc.ID] {
				total++
				if len(out) < limit {
					out = append(out, inc)
				}
			}
		}
		slices.SortFunc(out, func(a, b Incident) int { return cmp.Compare(b.ID, a.ID) })
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: recent incidents: %w", err)
	}
	return out, total, nil
}

// FrozenBy implements commands.Freezes: why deploys of service are frozen by open incidents ("INC-7 SEV1
// open"), or "" when they are not.
func (s *Store) FrozenBy(service string) (string, error) {
	var why []string
	err := s.db.View(func(tx *bolt.Tx) error {
		open, err := openIncidents(tx)
		for _, inc := range open {
			if inc.Freeze && slices.Contains(inc.Services(), service) {
				why = append(why, fmt.Sprintf("%s SEV%d open", inc.Name(), inc.Severity))
			}
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: frozen by: %w", err)
	}
	return strings.Join(why, ", "), nil
}

// OpenIncidents implements commands.Incidents: one line per open incident affecting service ("INC-7 SEV2
// investigating"), worst first; service "" means every open incident.
func (s *Store) OpenIncidents(service string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		open, err := openIncidents(tx)
		for _, inc := range open {
			if service == "" || slices.Contains(inc.Services(), service) {
				out = append(out, fmt.Sprintf("%s SEV%d %s", inc.Name(), inc.Severity, inc.Status))
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: open incidents of %s: %w", service, err)
	}
	return out, nil
}

// countOpenIncidents counts the open incidents for !status.
func countOpenIncidents(tx *bolt.Tx) (int, error) {
	n := 0
	err := tx.Bucket(bucketIncidentOpen).ForEach(func(_, _ []byte) error { n++; return nil })
	return n, err
}

// TopicState is what the bot last did to a channel's topic for incidents, so a restart resumes it.
type TopicState struct {
	// Base is the topic without the incident part: what is restored when no incident is open.
	Base string `json:"base"`
	// Set is the full topic the bot last set, and SetAt when.
	Set   string    `json:"set"`
	SetAt time.Time `json:"set_at"`
	// Active is true while the topic shows incidents.
	Active bool `json:"active"`
}

// IncidentTopic returns the stored topic state of channel (the zero value if none).
func (s *Store) IncidentTopic(channel string) (TopicState, error) {
	var st TopicState
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketIncidentTopic), []byte(channel), &st)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("store: incident topic: %w", err)
	}
	return st, nil
}

// SetIncidentTopic stores the topic state of channel.
func (s *Store) SetIncidentTopic(channel string, st TopicState) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketIncidentTopic), []byte(channel), st) })
	if err != nil {
		return fmt.Errorf("store: set incident topic: %w", err)
	}
	return nil
}
