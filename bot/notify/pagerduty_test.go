package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const testRoutingKey = "R0UT1NGKEY0123456789abcdefABCDEF" // 32 characters, like a real integration key

// fakePagerDuty speaks the Events API v2 (POST /v2/enqueue): it validates events as PagerDuty documents them,
// answers 202 {"status":"success",...} or 400 {"status":"invalid event",...}, and keeps the alerts by dedup key.
type fakePagerDuty struct {
	mu       sync.Mutex
	alerts   map[string]*fakeAlert
	events   []PDEvent
	throttle int // answer 429 to this many requests first
}

type fakeAlert struct {
	Status string // triggered, acknowledged, resolved
	Log    []string
}

func (f *fakePagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	invalid := func(why string) {
		reply(http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{why}})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		reply(http.StatusNotFound, map[string]string{"status": "not found"})
		return
	}
	if f.throttle > 0 {
		f.throttle--
		reply(http.StatusTooManyRequests, map[string]string{"status": "throttle event", "message": "Requests for this service are arriving too quickly."})
		return
	}
	var ev PDEvent
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
		invalid("body is not a JSON event object")
		return
	}
	switch {
	case len(ev.RoutingKey) != 32:
		invalid("'routing_key' is invalid")
		return
	case ev.EventAction != "trigger" && ev.EventAction != "acknowledge" && ev.EventAction != "resolve":
		invalid("'event_action' is invalid")
		return
	case ev.EventAction != "trigger" && ev.DedupKey == "":
		invalid("'dedup_key' is missing or blank")
		return
	case len(ev.DedupKey) > 255:
		invalid("'dedup_key' is too long")
		return
	case ev.EventAction == "trigger" && (ev.Payload == nil || ev.Payload.Summary == "" || ev.Payload.Source == "" || len(ev.Payload.Summary) > 1024):
		invalid("'payload' is missing summary or source")
		return
	case ev.EventAction == "trigger" && ev.Payload.Severity != "critical" && ev.Payload.Severity != "error" && ev.Payload.Severity != "warning" && ev.Payload.Severity != "info":
		invalid("'payload.severity' is invalid")
		return
	}
	if ev.Payload != nil && ev.Payload.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339, ev.Payload.Timestamp); err != nil {
			invalid("'payload.timestamp' is invalid")
			return
		}
	}
	f.events = append(f.events, ev)
	a := f.alerts[ev.DedupKey]
	switch ev.EventAction {
	case "trigger":
		if a == nil || a.Status == "resolved" {
			a = &fakeAlert{Status: "triggered"}
			f.alerts[ev.DedupKey] = a
		}
		a.Log = append(a.Log, ev.Payload.Summary)
	default:
		if a != nil && a.Status != "resolved" {
			a.Status = map[string]string{"acknowledge": "acknowledged", "resolve": "resolved"}[ev.EventAction]
		}
	}
	reply(http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func TestPagerDutyLifecycle(t *testing.T) {
	pd := &fakePagerDuty{alerts: map[string]*fakeAlert{}, throttle: 1}
	srv := httptest.NewServer(pd)
	defer srv.Close()
	if _, err := New(1, Config{Type: "pagerduty", URL: srv.URL + "/v2/enqueue"}, nil); err == nil {
		t.Fatal("pagerduty without routing_key accepted")
	}
	n, err := New(1, Config{Type: "pagerduty", URL: srv.URL + "/v2/enqueue", RoutingKey: testRoutingKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testPage()
	ev := Event{Kind: "trigger", Page: p, At: p.Opened, Delivery: 1}
	if err := n.Send(context.Background(), ev); err == nil || IsPermanent(err) {
		t.Fatalf("throttled trigger: %v, want a retryable error", err)
	}
	steps := []struct {
		kind   string
		change func(*Event)
		status string
		log    int
	}{
		{"trigger", nil, "triggered", 1},
		{"update", func(e *Event) { e.Note = "now 502s too" }, "triggered", 2},
		{"escalate", func(e *Event) { e.Page.Target, e.Page.Step = "carol", 1 }, "triggered", 2}, // not sent
		{"acknowledge", func(e *Event) { e.Page.AckedBy = "carol" }, "acknowledged", 2},
		{"resolve", func(e *Event) { e.Page.ResolvedBy = "alice" }, "resolved", 2},
	}
	for _, s := range steps {
		e := ev
		e.Kind = s.kind
		if s.change != nil {
			s.change(&e)
		}
		if err := n.Send(context.Background(), e); err != nil {
			t.Fatalf("%s: %v", s.kind, err)
		}
		pd.mu.Lock()
		a := pd.alerts["opsbot-P-3"]
		if a == nil || a.Status != s.status || len(a.Log) != s.log {
			t.Fatalf("after %s: alert %+v, want %s with %d log entries", s.kind, a, s.status, s.log)
		}
		pd.mu.Unlock()
	}
	if got := pd.events[0].Payload; got.Severity != "critical" || got.Source != "opsbot" || got.Component != "playlist" ||
		got.Summary != "P-3 page from bob to alice: [playlist] 500s on /play — ça brûle" || got.Timestamp != "2026-03-25T12:00:00Z" {
		t.Errorf("trigger payload = %+v", got)
	}
	if len(pd.events) != 4 {
		t.Errorf("PagerDuty got %d events, want 4 (escalation is PagerDuty's job)", len(pd.events))
	}
	// A rejected event is permanent.
	bad, _ := New(2, Config{Type: "pagerduty", URL: srv.URL + "/v2/enqueue", RoutingKey: "short"}, nil)
	if err := bad.Send(context.Background(), ev); !IsPermanent(err) {
		t.Errorf("invalid routing key: %v, want a permanent error", err)
	}
}
