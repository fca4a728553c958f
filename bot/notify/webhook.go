package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Webhook POSTs each event as JSON, signed like the deploy webhook: X-Opsbot-Timestamp (unix seconds) and
// X-Opsbot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> when a secret is set. X-Opsbot-Delivery
// is unique per delivery task, so a receiver can drop a redelivery.
type Webhook struct {
	name   string
	url    string
	secret []byte
	client *http.Client
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	Event    string        `json:"event"` // trigger, update, escalate, exhausted, acknowledge, resolve
	Delivery uint64        `json:"delivery"`
	At       time.Time     `json:"at"`
	Summary  string        `json:"summary"`
	Note     string        `json:"note,omitempty"`
	Page     store.PageDoc `json:"page"`
}

// Name implements Notifier.
func (w *Webhook) Name() string { return w.name }

// Send implements Notifier.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	body, err := json.Marshal(WebhookBody{Event: e.Kind, Delivery: e.Delivery, At: e.At.UTC(), Summary: summary(e), Note: e.Note, Page: e.Page.Doc()})
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", w.name, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", w.name, err))
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "opsbot")
	req.Header.Set("X-Opsbot-Event", "page."+e.Kind)
	req.Header.Set("X-Opsbot-Delivery", strconv.FormatUint(e.Delivery, 10))
	req.Header.Set("X-Opsbot-Timestamp", ts)
	if len(w.secret) > 0 {
		req.Header.Set("X-Opsbot-Signature", Signature(w.secret, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil { // the error quotes the URL, which may carry a token: it is logged and stored
		return fmt.Errorf("%s: %w", w.name, chat.RedactError(err))
	}
	return checkHTTP(w.name, resp)
}
