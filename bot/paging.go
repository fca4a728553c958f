package bot

import (
	"net/http"
	"slices"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
)

// setupPaging builds the external notifiers and their deliverer (run by Run), registers their metrics, and
// tells the paging family the notifiers' names and how to wake the deliverer.
func (b *Bot) setupPaging() error {
	client := &http.Client{Timeout: 15 * time.Second}
	var ns []notify.Notifier
	for i, c := range b.o.Notifiers {
		n, err := notify.New(i, c, client)
		if err != nil {
			return err
		}
		ns = append(ns, n)
	}
	b.notify = notify.NewDeliverer(b.store, ns, b.o.Log, b.o.Now)
	if b.o.NotifyBackoff > 0 {
		b.notify.BackoffMin = b.o.NotifyBackoff
	}
	b.metrics.Registry.MustRegister(b.notify.Collectors()...)
	b.o.Paging.Notifiers = b.notify.Names()
	b.o.Paging.Wake = b.notify.Wake
	b.warnOrphanedNotifyQueues()
	return nil
}

// warnOrphanedNotifyQueues logs the page events still queued for a notifier that is no longer configured:
// notifiers are named by type and position, so after [[paging.notifiers]] lost or reordered an entry those
// events are never delivered (or go to whichever notifier now has the name).
func (b *Bot) warnOrphanedNotifyQueues() {
	queues, err := b.store.NotifyQueues()
	if err != nil {
		b.o.Log.Error("notify: reading the delivery queues", "err", err)
		return
	}
	for name, n := range queues {
		if !slices.Contains(b.o.Paging.Notifiers, name) {
			b.o.Log.Warn("notify: page events are queued for a notifier that is not configured now; they will not be delivered",
				"notifier", name, "events", n, "configured", b.o.Paging.Notifiers)
		}
	}
}
