// Package notify delivers page events to the notifiers configured in [[paging.notifiers]]: a generic signed
// JSON webhook, PagerDuty (Events API v2) and e-mail over SMTP. IRC, always on, is not here: pages reach IRC
// through the bot's durable outbox.
//
// Deliveries never run in a command handler or a store transaction: the paging commands store one task per
// notifier and page event, and a Deliverer works each notifier's queue in its own goroutine, in order, with
// retries and backoff, so a slow or failing notifier delays nobody but itself.
package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Config is one [[paging.notifiers]] entry.
type Config struct {
	Type       string // webhook | pagerduty | smtp
	URL        string // webhook, pagerduty
	Secret     string // webhook: HMAC secret for X-Opsbot-Signature
	RoutingKey string // pagerduty: the integration's routing key
	SMTPAddr   string // smtp: host:port (465: TLS from the start; else STARTTLS when offered)
	From       string
	To         []string
	Username   string // smtp AUTH PLAIN, only over TLS (or to localhost)
	Password   string
	// TLS overrides the TLS settings for SMTP (tests trust their own CA with it); nil: verify as usual.
	TLS *tls.Config
}

// Event is one page event to deliver: trigger, update, escalate, exhausted, acknowledge or resolve.
type Event struct {
	Kind     string
	Page     store.Page
	Note     string // the update's text, or why the page escalated
	At       time.Time
	Delivery uint64 // unique per delivery task: receivers may use it to drop redeliveries
}

// Notifier delivers events to one external system.
type Notifier interface {
	// Name identifies the notifier in logs, metrics and the store's task queue ("webhook-0").
	Name() string
	// Send delivers one event. An error wrapped with Permanent is not retried.
	Send(ctx context.Context, e Event) error
}

// New builds the notifier for config entry i.
func New(i int, c Config, client *http.Client) (Notifier, error) {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	name := fmt.Sprintf("%s-%d", c.Type, i)
	switch c.Type {
	case "webhook":
		return &Webhook{name: name, url: c.URL, secret: []byte(c.Secret), client: client}, nil
	case "pagerduty":
		if c.RoutingKey == "" {
			return nil, fmt.Errorf("notify: paging.notifiers[%d] (pagerduty): routing_key is empty", i)
		}
		return &PagerDuty{name: name, url: c.URL, routingKey: c.RoutingKey, client: client}, nil
	case "smtp":
		s, err := newSMTP(name, c)
		if err != nil {
			return nil, fmt.Errorf("notify: paging.notifiers[%d] (smtp): %w", i, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("notify: paging.notifiers[%d]: unknown type %q", i, c.Type)
}

// permanent marks an error that retrying cannot fix (a 4xx answer, a rejected address).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Signature is the value of X-Opsbot-Signature for body sent at timestamp (unix seconds): "sha256=" and the
// hex HMAC-SHA256 of "<timestamp>.<body>" under secret, as for the deploy webhook.
func Signature(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// checkHTTP turns a response into nil (2xx), a retryable error (408, 429, 5xx) or a permanent one.
func checkHTTP(name string, resp *http.Response) error {
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err := fmt.Errorf("%s: HTTP %d: %s", name, resp.StatusCode, chat.Sanitize(string(snippet)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}

// summary is one line about the event, for e-mail subjects and PagerDuty.
func summary(e Event) string {
	id, p := e.Page.Name(), e.Page
	text := p.Text
	if p.Service != "" {
		text = "[" + p.Service + "] " + text
	}
	switch e.Kind {
	case "update":
		return fmt.Sprintf("%s update from %s: %s", id, p.By, e.Note)
	case "escalate":
		return fmt.Sprintf("%s escalated to %s (%s): %s", id, p.Target, e.Note, text)
	case "exhausted":
		return fmt.Sprintf("%s not acknowledged after %d escalations: %s", id, p.Step, text)
	case "acknowledge":
		return fmt.Sprintf("%s acked by %s: %s", id, p.AckedBy, text)
	case "resolve":
		return fmt.Sprintf("%s resolved by %s: %s", id, p.ResolvedBy, text)
	}
	return fmt.Sprintf("%s page from %s to %s: %s", id, p.By, p.Target, text)
}
