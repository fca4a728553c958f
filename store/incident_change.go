package store

import (
	"fmt"
	"slices"
	"time"
)

// NoteIncident adds a free-text update to the timeline (also allowed after resolution, for the postmortem).
func (s *Store) NoteIncident(id uint64, by, text string) (Incident, error) {
	ch, err := s.changeIncident(id, by, func(*Incident, time.Time) (string, error) { return text, nil })
	return ch.After, err
}

// NotePublicIncident adds an update meant for the public status page: a timeline entry marked Public.
func (s *Store) NotePublicIncident(id uint64, by, text string) (Incident, error) {
	ch, err := s.changeIncidentEntry(id, by, true, func(*Incident, time.Time) (string, error) { return text, nil })
	return ch.After, err
}

// SetIncidentStatus moves an open incident to investigating, identified or monitoring.
func (s *Store) SetIncidentStatus(id uint64, by, status string) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		switch {
		case status != IncidentInvestigating && status != IncidentIdentified && status != IncidentMonitoring:
			return "", ruleErr("unknown status %q", status)
		case !inc.Open():
			return "", ruleErr("%s is resolved; reopen it first", inc.Name())
		case inc.Status == status:
			return "", ruleErr("%s is already %s", inc.Name(), status)
		}
		old := inc.Status
		inc.Status = status
		return fmt.Sprintf("status %s -> %s", old, status), nil
	})
}

// SetIncidentSeverity changes the severity; freeze says whether the new severity freezes deploys.
func (s *Store) SetIncidentSeverity(id uint64, by string, sev int, freeze bool) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		if sev < 1 || sev > 4 {
			return "", ruleErr("unknown severity %d", sev)
		}
		if inc.Severity == sev {
			return "", ruleErr("%s is already SEV%d", inc.Name(), sev)
		}
		old := inc.Severity
		inc.Worst = min(inc.ImpactSeverity(), sev)
		inc.Severity, inc.Freeze = sev, freeze
		return fmt.Sprintf("severity SEV%d -> SEV%d", old, sev), nil
	})
}

// SetIncidentCommander hands the incident to another account.
func (s *Store) SetIncidentCommander(id uint64, by, account string) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		if inc.Commander == account {
			return "", ruleErr("%s is already commanded by %s", inc.Name(), account)
		}
		old := inc.Commander
		inc.Commander = account
		return fmt.Sprintf(commanderText, old, account), nil
	})
}

// AddIncidentService records that the incident also affects service.
func (s *Store) AddIncidentService(id uint64, by, service string) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		if slices.Contains(inc.Services(), service) {
			return "", ruleErr("%s already affects %s", inc.Name(), service)
		}
		inc.Affects = append(inc.Affects, service)
		return "affects " + service, nil
	})
}

// ResolveIncident ends the impact at at (zero: now), which must lie between the start and now.
func (s *Store) ResolveIncident(id uint64, by, text string, at time.Time) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, now time.Time) (string, error) {
		if at.IsZero() {
			at = now
		}
		at = at.UTC()
		switch {
		case !inc.Open():
			return "", ruleErr("%s is already resolved", inc.Name())
		case at.After(now):
			return "", ruleErr("the impact cannot end in the future (%s)", at.Format(time.RFC3339))
		case at.Before(inc.Start):
			return "", ruleErr("the impact cannot end before it started (%s)", inc.Start.Format(time.RFC3339))
		}
		inc.Status, inc.End = IncidentResolved, at
		line := "resolved"
		if at.Before(now.Add(-time.Minute)) {
			line += impactEnded + at.Format(time.RFC3339) + ")"
		}
		if text != "" {
			line += ": " + text
		}
		return line, nil
	})
}

// ReopenIncident reopens a resolved incident: its impact continues from the original start.
func (s *Store) ReopenIncident(id uint64, by string) (IncidentChange, error) {
	return s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		if inc.Open() {
			return "", ruleErr("%s is not resolved", inc.Name())
		}
		inc.Status, inc.End = IncidentInvestigating, time.Time{}
		return "reopened", nil
	})
}

// SetIncidentPage records the page sent for the incident.
func (s *Store) SetIncidentPage(id uint64, by, page string) (Incident, error) {
	ch, err := s.changeIncident(id, by, func(inc *Incident, _ time.Time) (string, error) {
		inc.Page = page
		return "paged the on-call: " + page, nil
	})
	return ch.After, err
}
