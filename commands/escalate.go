package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/store"
)

// escalateDue is the job that escalates every page whose ack timeout has passed. The timers are in the store
// (next escalation per page, indexed by due time), so after a restart a step fires at its original time, or
// at once when it is overdue; the store's compare-and-set makes sure a step never fires twice.
func (p *paging) escalateDue(ctx context.Context, now time.Time) error {
	due, err := p.st.DuePages(now, 100)
	if err != nil {
		return err
	}
	var errs []error
	for _, pg := range due {
		if ctx.Err() != nil {
			break
		}
		if err := p.escalate(pg, now); err != nil {
			errs = append(errs, fmt.Errorf("escalate %s: %w", pageID(pg.ID), err))
		}
	}
	return errors.Join(errs...)
}

// escalate takes the next step of one overdue page, or posts the final notice when all steps are taken.
func (p *paging) escalate(pg store.Page, now time.Time) error {
	id := pageID(pg.ID)
	if pg.Step >= p.cfg.MaxEscalations {
		done, ok, err := p.st.ExhaustPage(pg.ID, pg.NextEscalation, now, p.cfg.Notifiers)
		if err != nil || !ok {
			return err
		}
		p.wake()
		paged := make([]string, len(done.Paged))
		for i, a := range done.Paged {
			paged[i] = noHighlight(a)
		}
		line := fmt.Sprintf("%s is still not acknowledged after %d escalation(s) (paged %s): %s. Anyone in ops: %sack %s",
			id, done.Step, strings.Join(paged, ", "), p.pageText(done), p.d.Prefix, id)
		return p.d.Announce.Announce("", line, true)
	}
	to := p.stepTarget(pg, now)
	note := fmt.Sprintf("%s did not ack within %s", noHighlight(pg.Target), FormatDuration(p.cfg.AckTimeout))
	next, ok, err := p.st.EscalatePage(pg.ID, pg.NextEscalation, to, now.Add(p.cfg.AckTimeout), now, note, p.cfg.Notifiers)
	if err != nil || !ok {
		return err
	}
	p.wake()
	verb := "escalated to " + to
	if sameAccount(to, pg.Target) {
		verb = "re-paging " + to
	}
	ackHint := fmt.Sprintf("(ack with %sack %s within %s)", p.d.Prefix, id, FormatDuration(p.cfg.AckTimeout))
	line := fmt.Sprintf("%s %s (step %d/%d, %s): %s %s", id, verb, next.Step, p.cfg.MaxEscalations, note, p.pageText(next), ackHint)
	if err := p.d.Announce.Announce("", line, true); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s page from %s, escalated to you (%s): %s %s", id, noHighlight(next.By), note, p.pageText(next), ackHint)
	return p.d.Announce.Notify(to, msg, true)
}

// stepTarget is who the page's next escalation step pages: the step's account, or for "next" the one after
// the current target in the rotation (the rotation's scheduled person when the target is not in it).
func (p *paging) stepTarget(pg store.Page, now time.Time) string {
	steps := p.cfg.Escalation
	step := steps[min(pg.Step, len(steps)-1)]
	if step != "next" {
		return step
	}
	if n := p.cfg.Rotation.NextAfter(pg.Target); n != "" {
		return n
	}
	if s := p.cfg.Rotation.ShiftAt(now); s.Account != "" {
		return s.Account
	}
	return pg.Target
}
