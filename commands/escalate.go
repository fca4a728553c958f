package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// escalateDue is the job that escalates every page whose ack timeout has passed. The timers are in the store
// (next escalation per page, indexed by due time), so after a restart a step fires at its original time, or
// at once when it is overdue; the store's compare-and-set makes sure a step never fires twice.
func (p *Paging) escalateDue(ctx context.Context, now time.Time) error {
	p.resendNotices(now)
	due, err := p.st.DuePages(now, 100)
	if err != nil {
		return err
	}
	var errs []error
	var moved []store.Page
	for _, pg := range due {
		if ctx.Err() != nil {
			break
		}
		next, err := p.escalate(pg, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("escalate %s: %w", pageID(pg.ID), err))
		} else if next.ID != 0 {
			moved = append(moved, next)
		}
	}
	p.SendNotices(moved) // many pages escalating at once (an alert storm) are summarised
	return errors.Join(errs...)
}

// resendNotices sends the notices that are still due for open pages (not queued because of a crash or a
// failed outbox write right after the commit that made them due), once they are old enough not to be in
// the middle of being sent.
func (p *Paging) resendNotices(now time.Time) {
	due, err := p.st.PagesWithNotices()
	if err != nil {
		p.rt.Log.Error("paging: reading the pages with notices due", "err", err)
		return
	}
	var old []store.Page
	for _, pg := range due {
		if now.Sub(pg.Notices[0].At) >= noticeRetryAfter {
			old = append(old, pg)
		}
	}
	p.SendNotices(old)
}

// escalate takes the next step of one overdue page, or marks it exhausted when all steps are taken, and
// returns the page with the step's notices (stored with it, for the caller to send); a zero page when the
// step was taken already.
func (p *Paging) escalate(pg store.Page, now time.Time) (store.Page, error) {
	if pg.Step >= p.cfg.MaxEscalations {
		done, ok, err := p.st.ExhaustPage(pg.ID, pg.NextEscalation, now, p.cfg.Notifiers)
		if err != nil || !ok {
			return store.Page{}, err
		}
		p.wake()
		return done, nil
	}
	to := p.stepTarget(pg, now)
	note := fmt.Sprintf("%s did not ack within %s", chat.NoHighlight(pg.Target), chat.FormatDuration(p.cfg.AckTimeout))
	next, ok, err := p.st.EscalatePage(pg.ID, pg.NextEscalation, to, now.Add(p.cfg.AckTimeout), now, note, p.cfg.Notifiers)
	if err != nil || !ok {
		return store.Page{}, err
	}
	p.wake()
	return next, nil
}

// stepTarget is who the page's next escalation step pages, within the page's schedule: the step's account,
// or for "next" the one after the current target in the schedule's rotation (the rotation's scheduled person
// when the target is not in it). A schedule may have its own steps; a page of a schedule no longer
// configured escalates in the default one.
func (p *Paging) stepTarget(pg store.Page, now time.Time) string {
	sched, ok := p.schedule(pg.ScheduleName())
	if !ok {
		sched = p.scheds[0]
	}
	steps := p.cfg.Escalation
	if len(sched.Escalation) > 0 {
		steps = sched.Escalation
	}
	step := steps[min(pg.Step, len(steps)-1)]
	if step != "next" {
		return step
	}
	if n := sched.Rotation.NextAfter(pg.Target); n != "" {
		return n
	}
	if s := sched.Rotation.ShiftAt(now); s.Account != "" {
		return s.Account
	}
	return pg.Target
}
