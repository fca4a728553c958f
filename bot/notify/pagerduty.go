package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
)

// PagerDuty sends events to the PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue): a page
// triggers an alert, an update adds to it, ack and resolve acknowledge and resolve it, all under one dedup_key
// per page. Escalation is PagerDuty's own business, so escalate and exhausted events are not sent.
type PagerDuty struct {
	name       string
	url        string
	routingKey string
	client     *http.Client
}

// PDEvent is an Events API v2 event.
type PDEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"` // trigger, acknowledge, resolve
	DedupKey    string     `json:"dedup_key"`
	Payload     *PDPayload `json:"payload,omitempty"` // trigger only
	Client      string     `json:"client,omitempty"`
}

// PDPayload is the payload of a trigger event.
type PDPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning, info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// DedupKey is the PagerDuty dedup key of a page.
func DedupKey(pageID uint64) string { return "opsbot-" + chat.FormatID(chat.KindPage, pageID) }

// Name implements Notifier.
func (p *PagerDuty) Name() string { return p.name }

// Send implements Notifier.
func (p *PagerDuty) Send(ctx context.Context, e Event) error {
	ev := PDEvent{RoutingKey: p.routingKey, DedupKey: DedupKey(e.Page.ID), Client: "opsbot"}
	switch e.Kind {
	case "trigger", "update":
		ev.EventAction = "trigger"
		details := map[string]any{"page": e.Page.Name(), "by": e.Page.By, "paged": e.Page.Paged, "text": e.Page.Text}
		if e.Note != "" {
			details["update"] = e.Note
		}
		ev.Payload = &PDPayload{Summary: chat.Truncate(summary(e), 1024), Source: "opsbot", Severity: "critical",
			Timestamp: e.At.UTC().Format(time.RFC3339), Component: e.Page.Service, CustomDetails: details}
	case "acknowledge", "resolve":
		ev.EventAction = e.Kind
	default:
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", p.name, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", p.name, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "opsbot")
	resp, err := p.client.Do(req)
	if err != nil { // the error quotes the URL, which may carry a token: it is logged and stored
		return fmt.Errorf("%s: %w", p.name, chat.RedactError(err))
	}
	return checkHTTP(p.name, resp)
}
