package notify

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opsbot/opsbot/store"
)

// Queue is the store's queue of delivery tasks, one FIFO per notifier.
type Queue interface {
	NotifyHead(notifier string) (store.NotifyTask, bool, error)
	NotifyDone(t store.NotifyTask) error
	NotifyRetry(t store.NotifyTask) error
	NotifyPending(notifier string) int
}

// Deliverer works the task queues: one goroutine per notifier takes the oldest task, sends it, and on failure
// waits with exponential backoff (and jitter) before trying the same task again, so events reach each system
// in order (a PagerDuty acknowledge never overtakes its trigger) and a failing notifier holds up only itself.
// A task is dropped (logged, counted) after a permanent failure or MaxAttempts failures.
type Deliverer struct {
	q         Queue
	notifiers []Notifier
	wake      []chan struct{}
	log       *slog.Logger
	now       func() time.Time

	// BackoffMin and BackoffMax bound the wait between attempts (defaults 1s and 5m); MaxAttempts caps the
	// attempts per task (default 12, about 20 minutes of trying); Timeout bounds one attempt (default 30s).
	BackoffMin, BackoffMax time.Duration
	MaxAttempts            int
	Timeout                time.Duration
	// Poll is how often an idle worker looks at its queue without being woken (default 30s).
	Poll time.Duration

	delivered, failed, dropped *prometheus.CounterVec
	pending                    *prometheus.GaugeVec
}

// NewDeliverer builds a deliverer; now is the clock (nil: time.Now).
func NewDeliverer(q Queue, notifiers []Notifier, log *slog.Logger, now func() time.Time) *Deliverer {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	d := &Deliverer{q: q, notifiers: notifiers, log: log, now: now,
		BackoffMin: time.Second, BackoffMax: 5 * time.Minute, MaxAttempts: 12, Timeout: 30 * time.Second, Poll: 30 * time.Second,
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_notifier_deliveries_total", Help: "Page events delivered, by notifier.",
		}, []string{"notifier"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_notifier_failures_total", Help: "Failed delivery attempts of page events (each retry counts), by notifier.",
		}, []string{"notifier"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_notifier_dropped_total", Help: "Page events given up on (permanent failure or too many attempts), by notifier.",
		}, []string{"notifier"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsbot_notifier_pending", Help: "Page events waiting for delivery, by notifier.",
		}, []string{"notifier"}),
	}
	for _, n := range notifiers {
		d.wake = append(d.wake, make(chan struct{}, 1))
		// Make the series exist at zero, so a dashboard sees the notifier before its first failure.
		d.delivered.WithLabelValues(n.Name())
		d.failed.WithLabelValues(n.Name())
		d.dropped.WithLabelValues(n.Name())
	}
	return d
}

// Names lists the notifiers' names, in config order.
func (d *Deliverer) Names() []string {
	names := make([]string, len(d.notifiers))
	for i, n := range d.notifiers {
		names[i] = n.Name()
	}
	return names
}

// Collectors are the deliverer's metrics, for the bot's registry.
func (d *Deliverer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{d.delivered, d.failed, d.dropped, d.pending}
}

// Failures is the number of failed attempts of a notifier so far (for tests and status).
func (d *Deliverer) Failures(name string) float64 {
	return counterValue(d.failed.WithLabelValues(name))
}

// Delivered is the number of events a notifier delivered so far.
func (d *Deliverer) Delivered(name string) float64 {
	return counterValue(d.delivered.WithLabelValues(name))
}

// Wake tells every worker that new tasks are queued.
func (d *Deliverer) Wake() {
	for _, w := range d.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx ends. An attempt cut short by shutdown is not counted; it is sent again after the
// next start (receivers can tell by the delivery id).
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range d.notifiers {
		wg.Go(func() { d.work(ctx, i) })
	}
	wg.Wait()
}

func (d *Deliverer) work(ctx context.Context, i int) {
	n := d.notifiers[i]
	name := n.Name()
	// unrecorded is the head task as this worker last left it when the store could not record the retry:
	// its attempts still count, so a store that refuses writes cannot make a task retry at the first
	// backoff for ever.
	var unrecorded store.NotifyTask
	for ctx.Err() == nil {
		d.pending.WithLabelValues(name).Set(float64(d.q.NotifyPending(name)))
		t, ok, err := d.q.NotifyHead(name)
		switch {
		case err != nil:
			d.log.Error("notify: read queue", "notifier", name, "err", err)
			d.sleep(ctx, i, time.Second, false)
			continue
		case !ok:
			d.sleep(ctx, i, d.Poll, true)
			continue
		}
		if unrecorded.ID == t.ID && unrecorded.Attempts > t.Attempts {
			t = unrecorded
		}
		if wait := t.NextTry.Sub(d.now()); !t.NextTry.IsZero() && wait > 0 {
			d.sleep(ctx, i, wait, false)
			continue
		}
		actx, cancel := context.WithTimeout(ctx, d.Timeout)
		start := time.Now()
		err = n.Send(actx, Event{Kind: t.Event, Page: t.Page, Note: t.Note, At: t.At, Delivery: t.ID})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			d.delivered.WithLabelValues(name).Inc()
			d.log.Info("notify: delivered", "notifier", name, "event", t.Event, "page", t.Page.ID, "attempt", t.Attempts+1, "took", time.Since(start).Round(time.Millisecond))
			d.finish(ctx, i, t)
			continue
		}
		d.failed.WithLabelValues(name).Inc()
		t.Attempts++
		t.LastError = err.Error()
		if IsPermanent(err) || t.Attempts >= d.MaxAttempts {
			d.dropped.WithLabelValues(name).Inc()
			d.log.Error("notify: giving up", "notifier", name, "event", t.Event, "page", t.Page.ID, "attempts", t.Attempts, "permanent", IsPermanent(err), "err", err)
			d.finish(ctx, i, t)
			continue
		}
		wait := d.backoff(t.Attempts)
		t.NextTry = d.now().Add(wait)
		d.log.Warn("notify: failed, will retry", "notifier", name, "event", t.Event, "page", t.Page.ID, "attempt", t.Attempts, "retry_in", wait.Round(time.Millisecond), "err", err)
		if err := d.q.NotifyRetry(t); err != nil {
			d.log.Error("notify: record retry", "notifier", name, "err", err)
			unrecorded = t
		}
		d.sleep(ctx, i, wait, false)
	}
}

// finish removes a task; if the store fails, the worker pauses instead of spinning on the same task.
func (d *Deliverer) finish(ctx context.Context, i int, t store.NotifyTask) {
	if err := d.q.NotifyDone(t); err != nil {
		d.log.Error("notify: remove delivered task", "notifier", t.Notifier, "task", t.ID, "err", err)
		d.sleep(ctx, i, time.Second, false)
	}
}

// backoff is BackoffMin doubled per failed attempt, capped at BackoffMax, with up to half of it as jitter.
func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.BackoffMin
	for range attempts - 1 {
		if b >= d.BackoffMax {
			break
		}
		b *= 2
	}
	b = min(b, d.BackoffMax)
	return b/2 + rand.N(b/2+1)
}

// sleep waits for d, the end of ctx, or (when wakeable) a Wake.
func (d *Deliverer) sleep(ctx context.Context, i int, dur time.Duration, wakeable bool) {
	t := time.NewTimer(dur)
	defer t.Stop()
	var wake <-chan struct{}
	if wakeable {
		wake = d.wake[i]
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
