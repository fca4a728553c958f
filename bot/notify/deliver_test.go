package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pageAndAck stores a page and its ack, queueing a trigger and an acknowledge task for each notifier.
func pageAndAck(t *testing.T, st *store.Store, notifiers ...string) {
	t.Helper()
	now := time.Now()
	p, _, err := st.OpenPage(store.PageRequest{By: "bob", Text: "db down", Target: "alice", Now: now, AckTimeout: time.Minute, Notifiers: notifiers})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AckPage(p.ID, "alice", now, notifiers, func(store.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// runDeliverer runs d until the returned stop is called (or the test ends).
func runDeliverer(t *testing.T, d *Deliverer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("deliverer did not stop within 5s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func fast(d *Deliverer) *Deliverer {
	d.BackoffMin, d.BackoffMax, d.Timeout, d.Poll = 20*time.Millisecond, 100*time.Millisecond, 2*time.Second, time.Second
	return d
}

func TestDelivererRetriesAFailingWebhookUntilItRecovers(t *testing.T) {
	var calls atomic.Int32
	events := make(chan WebhookBody, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		var b WebhookBody
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &b)
		events <- b
	}))
	defer srv.Close()
	st := openStore(t)
	wh, _ := New(0, Config{Type: "webhook", URL: srv.URL, Secret: "x"}, nil)
	d := fast(NewDeliverer(st, []Notifier{wh}, testLog(t), nil))
	pageAndAck(t, st, d.Names()...)
	runDeliverer(t, d)

	var got []string
	for range 2 {
		select {
		case b := <-events:
			got = append(got, b.Event)
		case <-time.After(5 * time.Second):
			t.Fatalf("delivered %v after 5s; webhook calls %d", got, calls.Load())
		}
	}
	if got[0] != "trigger" || got[1] != "acknowledge" {
		t.Errorf("delivered %v, want trigger then acknowledge", got)
	}
	waitFor(t, func() bool { return st.NotifyPending("webhook-0") == 0 })
	if f, ok := d.Failures("webhook-0"), d.Delivered("webhook-0"); f != 2 || ok != 2 {
		t.Errorf("failures %v, delivered %v; want 2 and 2", f, ok)
	}
}

// fakeNotifier records events; it fails while fail says so and blocks while block is open.
type fakeNotifier struct {
	name  string
	fail  func(attempt int) error
	block chan struct{}
	mu    sync.Mutex
	n     int
	got   []string
}

func (f *fakeNotifier) Name() string { return f.name }

func (f *fakeNotifier) Send(ctx context.Context, e Event) error {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.got = append(f.got, e.Kind)
	f.mu.Unlock()
	return nil
}

func (f *fakeNotifier) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDelivererHungNotifierBlocksOnlyItself(t *testing.T) {
	st := openStore(t)
	hung := &fakeNotifier{name: "webhook-0", block: make(chan struct{})}
	ok := &fakeNotifier{name: "smtp-1"}
	d := fast(NewDeliverer(st, []Notifier{hung, ok}, testLog(t), nil))
	d.Timeout = time.Hour // the hung receiver holds its attempt open
	stop := runDeliverer(t, d)
	pageAndAck(t, st, d.Names()...)
	d.Wake()
	waitFor(t, func() bool { return len(ok.events()) == 2 })
	if len(hung.events()) != 0 || st.NotifyPending("webhook-0") != 2 {
		t.Fatalf("hung notifier: events %v, pending %d", hung.events(), st.NotifyPending("webhook-0"))
	}
	// Shutdown cuts the attempt short without counting it; after a restart the events go out, in order.
	stop()
	if d.Failures("webhook-0") != 0 {
		t.Errorf("an attempt cut by shutdown counted as a failure")
	}
	close(hung.block)
	d2 := fast(NewDeliverer(st, []Notifier{hung, ok}, testLog(t), nil))
	runDeliverer(t, d2)
	waitFor(t, func() bool { return len(hung.events()) == 2 })
	if got := hung.events(); got[0] != "trigger" || got[1] != "acknowledge" {
		t.Errorf("after restart: %v", got)
	}
	if len(ok.events()) != 2 {
		t.Errorf("the healthy notifier got %v after the restart, want nothing more", ok.events())
	}
}

func TestDelivererGivesUp(t *testing.T) {
	st := openStore(t)
	rejecting := &fakeNotifier{name: "pagerduty-0", fail: func(n int) error {
		if n == 1 {
			return Permanent(errors.New("HTTP 400: invalid event"))
		}
		return nil
	}}
	down := &fakeNotifier{name: "webhook-1", fail: func(int) error { return errors.New("connection refused") }}
	d := fast(NewDeliverer(st, []Notifier{rejecting, down}, testLog(t), nil))
	d.MaxAttempts = 3
	pageAndAck(t, st, d.Names()...)
	runDeliverer(t, d)
	// The permanent failure drops the trigger at once; the acknowledge still goes out.
	waitFor(t, func() bool { return len(rejecting.events()) == 1 })
	if got := rejecting.events(); got[0] != "acknowledge" || counterValue(d.dropped.WithLabelValues("pagerduty-0")) != 1 {
		t.Errorf("rejecting notifier: %v, dropped %v", got, counterValue(d.dropped.WithLabelValues("pagerduty-0")))
	}
	// The one that is down gives up on each task after 3 attempts.
	waitFor(t, func() bool { return st.NotifyPending("webhook-1") == 0 })
	if f, dr := d.Failures("webhook-1"), counterValue(d.dropped.WithLabelValues("webhook-1")); f != 6 || dr != 2 {
		t.Errorf("down notifier: failures %v, dropped %v; want 6 and 2", f, dr)
	}
}

// failingRetries is the store's queue, except that recording a retry fails (the disk is full).
type failingRetries struct{ *store.Store }

func (failingRetries) NotifyRetry(store.NotifyTask) error {
	return errors.New("no space left on device")
}

// When the store cannot record a retry, the attempts still count: the task is given up after MaxAttempts
// instead of being retried at the first backoff for ever.
func TestDelivererCountsAttemptsTheStoreCouldNotRecord(t *testing.T) {
	st := openStore(t)
	down := &fakeNotifier{name: "webhook-0", fail: func(int) error { return errors.New("connection refused") }}
	d := fast(NewDeliverer(failingRetries{st}, []Notifier{down}, testLog(t), nil))
	d.MaxAttempts = 3
	pageAndAck(t, st, d.Names()...)
	runDeliverer(t, d)
	waitFor(t, func() bool { return st.NotifyPending("webhook-0") == 0 })
	if f, dr := d.Failures("webhook-0"), counterValue(d.dropped.WithLabelValues("webhook-0")); f != 6 || dr != 2 {
		t.Errorf("failures %v, dropped %v; want 6 and 2 (3 attempts for each of the two tasks)", f, dr)
	}
}
