package bot

import (
	"net/http"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
)

// setupPaging builds the external notifiers and their deliverer (run by Run), registers their metrics, and
// tells the paging commands the notifiers' names and how to wake the deliverer.
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
	return nil
}

// pagingConfig is the paging family's config; service owners among ops and admins may be paged directly.
func pagingConfig(o *Options) commands.PagingConfig {
	c := o.Paging
	if len(c.Ops) == 0 {
		c.Ops = append(append([]string(nil), o.Ops...), o.Admins...)
	}
	return c
}
