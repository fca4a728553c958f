package store

import (
	"fmt"
	"time"
)

// Name is the page's id as people write it: P-3.
func (p Page) Name() string { return fmt.Sprintf("P-%d", p.ID) }

// PageDoc is a page as JSON, for the HTTP API and the webhook notifier.
type PageDoc struct {
	ID             string       `json:"id"` // "P-3"
	Number         uint64       `json:"number"`
	State          string       `json:"state"`
	By             string       `json:"by"`
	Source         string       `json:"source,omitempty"` // "alertmanager" for an alert group's page
	Service        string       `json:"service,omitempty"`
	Schedule       string       `json:"schedule"`
	Text           string       `json:"text"`
	Updates        []PageUpdate `json:"updates,omitempty"`
	Target         string       `json:"target"`
	Paged          []string     `json:"paged"`
	Opened         time.Time    `json:"opened"`
	EscalationStep int          `json:"escalation_step"`
	NextEscalation *time.Time   `json:"next_escalation,omitempty"`
	Exhausted      bool         `json:"escalations_exhausted,omitempty"`
	AckedBy        string       `json:"acked_by,omitempty"`
	AckedAt        *time.Time   `json:"acked_at,omitempty"`
	ResolvedBy     string       `json:"resolved_by,omitempty"`
	ResolvedAt     *time.Time   `json:"resolved_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Doc is the page as the HTTP API and the webhook notifier show it.
func (p Page) Doc() PageDoc {
	return PageDoc{ID: p.Name(), Number: p.ID, State: p.State, By: p.By, Source: p.Source, Service: p.Service,
		Schedule: p.ScheduleName(), Text: p.Text, Updates: p.Updates, Target: p.Target, Paged: p.Paged, Opened: p.Opened.UTC(), EscalationStep: p.Step,
		NextEscalation: timePtr(p.NextEscalation), Exhausted: p.Exhausted, AckedBy: p.AckedBy, AckedAt: timePtr(p.AckedAt),
		ResolvedBy: p.ResolvedBy, ResolvedAt: timePtr(p.ResolvedAt)}
}
