package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

func (p *Paging) pageCommands() []*Command {
	return []*Command{
		{
			Name: "page", Args: "[service] <message>", Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: -1, Run: p.pageCmd,
			Help: "Pages the person on call (or the service's owner) until someone acks; escalates when nobody does.",
		},
		{
			Name: "ack", Args: "[P-n]", Role: RoleDeveloper, Write: true, MaxArgs: 1, Run: p.ack,
			Help: "Acknowledges a page (yours, or any as ops) and stops its escalation; without id, your newest open page.",
		},
		{
			Name: "page resolve", Args: "<P-n>", Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: 1, Run: p.resolve,
			Help: "Closes a page (who paged, anyone paged, or ops).",
		},
		{
			Name: "page list", Help: "Lists the pages not resolved, oldest first.", Role: RoleAnyone, MaxArgs: 0, Run: p.list,
		},
	}
}

// pageID is "P-3".
func pageID(id uint64) string { return chat.FormatID(chat.KindPage, id) }

// route resolves who to page about a service and in which schedule: the owner when the catalogue names a
// known account (target), else whoever is on call in the service's schedule (target ""), else in the
// default one. known is false when the catalogue does not know the service (or there is no catalogue). A
// schedule the catalogue names that is not configured (any more) pages the default schedule, and is logged.
func (p *Paging) route(service string) (target string, sched Schedule, known bool, err error) {
	sched = p.scheds[0]
	if p.routes == nil || service == "" {
		return "", sched, false, nil
	}
	owner, name, err := p.routes.ServiceRoute(strings.ToLower(service))
	if errors.Is(err, store.ErrNotFound) {
		return "", sched, false, nil
	}
	if err != nil {
		return "", sched, false, fmt.Errorf("page: route of %s: %w", service, err)
	}
	if name != "" {
		if s, ok := p.schedule(name); ok {
			sched = s
		} else {
			p.rt.Log.Warn("paging: a service names a schedule that is not configured; paging the default schedule",
				"service", service, "schedule", name, "schedules", p.ScheduleNames())
		}
	}
	if p.knownAccount(owner) {
		return owner, sched, true, nil
	}
	return "", sched, true, nil
}

func (p *Paging) pageCmd(_ context.Context, c *Call, w Replier) error {
	if len(c.Args) >= 2 {
		t, sched, known, err := p.route(c.Args[0])
		if err != nil {
			return err
		}
		if known {
			return p.pageFrom(c, w, strings.ToLower(c.Args[0]), t, sched, c.Rest(1))
		}
	}
	return p.pageFrom(c, w, "", "", p.scheds[0], c.Rest(0))
}

func (p *Paging) pageFrom(c *Call, w Replier, service, target string, sched Schedule, text string) error {
	if strings.TrimSpace(text) == "" { // `!page ""` or `!page playlist ""`: a page must say something
		return c.Usage()
	}
	if p.windows != nil { // a person's page goes through a maintenance window, marked with it
		ref, reason, ok, err := p.windows.During(service, p.rt.Now())
		if err != nil {
			return err
		}
		if ok {
			text += fmt.Sprintf(" (during %s: %s)", ref, chat.Truncate(reason, 80))
		}
	}
	pg, deduped, sent, err := p.open(c.Caller.Account, service, target, sched, text, true)
	var rl *store.RateLimitError
	switch {
	case errors.As(err, &rl):
		return Errorf("error: you opened %d pages in the last hour (paging.rate_limit = %d); next page possible at %s, or ask in the channel",
			rl.Count, rl.Limit, when(rl.Retry, p.rt.Now(), p.rt.Location))
	case errors.Is(err, store.ErrNobodyOnCall) && scheduleLabel(sched.Name()) != "":
		return Errorf("error: nobody is on call in %s to page (its rotation is empty); ops can %soncall take --schedule %s", sched.Name(), p.rt.Prefix, sched.Name())
	case errors.Is(err, store.ErrNobodyOnCall):
		return Errorf("error: nobody is on call to page (oncall.rotation is empty); ops can %soncall take", p.rt.Prefix)
	case err != nil:
		return err
	case deduped:
		w.Reply(fmt.Sprintf("%s updated (your open page, %s old): %s; paging %s", pageID(pg.ID), chat.FormatDuration(p.rt.Now().Sub(pg.Opened)), text, pg.Target))
	case !p.rt.inHomeChannel(c) || !sent: // in the channel, the announcement is the answer, once it is out
		w.Reply(p.pagingLine(pg, pg.Target))
	}
	return nil
}

// PageOnCall implements Pager: it pages the owner of service (when the catalogue names a known account) or
// the person on call in the service's schedule (the default one for no service), on behalf of by, without
// the per-person dedupe and rate limit (it is not a person paging), and returns the page id.
func (p *Paging) PageOnCall(_ context.Context, by, service, text string) (string, error) {
	target, sched, _, err := p.route(service)
	if err != nil {
		return "", err
	}
	pg, _, _, err := p.open(by, service, target, sched, chat.Sanitize(text), false)
	if err != nil {
		return "", err
	}
	return pageID(pg.ID), nil
}

// pagingLine is "P-3 paging alice: <message> (ack with !ack P-3 within 5m)".
func (p *Paging) pagingLine(pg store.Page, to string) string {
	return fmt.Sprintf("%s paging %s: %s %s", pageID(pg.ID), to, p.pageText(pg), p.ackWithin(pg))
}

// ackWithin is "(ack with !ack P-3 within 5m)".
func (p *Paging) ackWithin(pg store.Page) string {
	return fmt.Sprintf("(ack with %sack %s within %s)", p.rt.Prefix, pageID(pg.ID), chat.FormatDuration(p.cfg.AckTimeout))
}

// byLine is who opened the page, as a line shows it: a person without highlighting them, a source as it is.
func (p *Paging) byLine(pg store.Page) string {
	if pg.Source != "" {
		return pg.By
	}
	return chat.NoHighlight(pg.By)
}

// pageText is the message with its service.
func (p *Paging) pageText(pg store.Page) string {
	if pg.Service != "" && pg.Source == "" { // a source's text names its service itself
		return "[" + pg.Service + "] " + pg.Text
	}
	return pg.Text
}

// open stores the page in sched (with its timer, notifier tasks and IRC notices), then sends the notices: the paged
// person highlighted in the channel and messaged privately, both durable and urgent. The page stands once
// stored: notices that cannot be queued now stay due in the store, and the escalation job sends them (sent
// is false then).
func (p *Paging) open(by, service, target string, sched Schedule, text string, limits bool) (pg store.Page, deduped, sent bool, err error) {
	now := p.rt.Now()
	req := store.PageRequest{By: by, Service: service, Text: text, Target: target, Rotation: sched.Rotation, Now: now,
		AckTimeout: p.cfg.AckTimeout, Notifiers: p.cfg.Notifiers}
	if limits {
		req.DedupeWindow, req.RateLimit = p.cfg.DedupeWindow, p.cfg.RateLimit
	}
	pg, deduped, err = p.st.OpenPage(req)
	if err != nil {
		return pg, false, false, err
	}
	p.wake()
	return pg, deduped, p.sendNotices(pg), nil
}

// noticeRetryAfter is how old a due notice must be before the escalation job sends it: younger ones are
// being sent by the command or job that made them due.
const noticeRetryAfter = 10 * time.Second

// sendNotices queues the page's due notices for IRC, in order, and then removes the ones queued from the store
// in one commit (a page's notices are usually two: the channel's and the paged person's). It stops at the
// first failure (logged): that one and the rest stay due, for the escalation job. A crash between queueing
// and removing leaves a queued notice due, and the escalation job sends it again: at least once, as every
// durable line.
func (p *Paging) sendNotices(pg store.Page) bool {
	queued := 0
	for _, n := range pg.Notices {
		if err := p.sendNotice(pg, n); err != nil {
			p.rt.Log.Error("paging: notice not sent yet; the escalation job retries", "page", pageID(pg.ID), "notice", n.Kind, "err", err)
			break
		}
		queued++
	}
	if err := p.st.PageNoticesSent(pg.ID, pg.Notices[:queued]...); err != nil {
		p.rt.Log.Error("paging: notices queued but still due; the escalation job sends them again", "page", pageID(pg.ID), "err", err)
		return false
	}
	return queued == len(pg.Notices)
}

// sendNotice renders one notice and queues it (durably) for IRC.
func (p *Paging) sendNotice(pg store.Page, n store.PageNotice) error {
	id := pageID(pg.ID)
	within := p.ackWithin(pg)
	var line string
	switch {
	case n.Kind == store.NoticeOpened && !n.Private:
		line = p.pagingLine(pg, n.To)
	case n.Kind == store.NoticeOpened:
		line = fmt.Sprintf("%s page from %s: %s %s", id, p.byLine(pg), p.pageText(pg), within)
	case n.Kind == store.NoticeUpdate:
		line = fmt.Sprintf("%s update from %s: %s (ack with %sack %s)", id, chat.NoHighlight(n.By), n.Note, p.rt.Prefix, id)
	case n.Kind == store.NoticeEscalated && !n.Private:
		verb := "escalated to " + n.To
		if p.rt.Roles.Same(n.To, n.From) {
			verb = "re-paging " + n.To
		}
		line = fmt.Sprintf("%s %s (step %d/%d, %s): %s %s", id, verb, n.Step, p.cfg.MaxEscalations, n.Note, p.pageText(pg), within)
	case n.Kind == store.NoticeEscalated:
		line = fmt.Sprintf("%s page from %s, escalated to you (%s): %s %s", id, p.byLine(pg), n.Note, p.pageText(pg), within)
	case n.Kind == store.NoticeAutoResolved: // not urgent: nobody must act
		return p.rt.Announce.Announce("", autoResolvedLine(pg, n), false)
	case n.Kind == store.NoticeExhausted:
		paged := make([]string, len(pg.Paged))
		for i, a := range pg.Paged {
			paged[i] = chat.NoHighlight(a)
		}
		line = fmt.Sprintf("%s is still not acknowledged after %d escalation(s) (paged %s): %s. Anyone in ops: %sack %s",
			id, n.Step, strings.Join(paged, ", "), p.pageText(pg), p.rt.Prefix, id)
	default:
		return fmt.Errorf("page notice of unknown kind %q", n.Kind)
	}
	if n.Private {
		return p.rt.Announce.Tell(n.To, line, true)
	}
	return p.rt.Announce.Announce("", line, true)
}

// pageArg parses an optional P-n argument; without one it picks the caller's newest open, unacked page.
func (p *Paging) pageArg(c *Call) (uint64, error) {
	if len(c.Args) == 1 {
		return parseID(chat.KindPage, c.Args[0])
	}
	open, err := p.st.OpenPages()
	if err != nil {
		return 0, err
	}
	var waiting []string // unacked pages of others, newest first: what the caller may have meant
	for i := len(open) - 1; i >= 0; i-- {
		if open[i].State != store.PageOpen {
			continue
		}
		if p.paged(open[i], c.Caller.Account) {
			return open[i].ID, nil
		}
		waiting = append(waiting, pageID(open[i].ID))
	}
	if len(waiting) == 0 {
		return 0, Errorf("error: no page is waiting for an ack")
	}
	list := strings.Join(waiting[:min(len(waiting), 3)], ", ")
	if len(waiting) > 3 {
		list += fmt.Sprintf(" and %d more", len(waiting)-3)
	}
	return 0, Errorf("error: you are not paged on any open page; waiting for an ack: %s (name one: %sack %s)", list, c.Prefix, waiting[0])
}

// pageError turns the store's page errors into what the caller reads.
func (p *Paging) pageError(err error, id uint64, pg store.Page) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Errorf("error: no page %s", pageID(id))
	case errors.Is(err, store.ErrPageResolved):
		return Errorf("error: %s is resolved (by %s)", pageID(id), chat.NoHighlight(pg.ResolvedBy))
	case errors.Is(err, store.ErrPageAcked):
		return Errorf("error: %s is already acked by %s, %s ago", pageID(id), chat.NoHighlight(pg.AckedBy), chat.FormatDuration(p.rt.Now().Sub(pg.AckedAt)))
	}
	return err
}

func (p *Paging) ack(_ context.Context, c *Call, w Replier) error {
	id, err := p.pageArg(c)
	if err != nil {
		return err
	}
	now := p.rt.Now()
	pg, err := p.st.AckPage(id, c.Caller.Account, now, p.cfg.Notifiers, func(pg store.Page) error {
		if c.Role >= RoleOps || p.paged(pg, c.Caller.Account) {
			return nil
		}
		return Errorf("error: only the paged person (%s) or ops may ack %s", chat.NoHighlight(pg.Target), pageID(pg.ID))
	})
	if err != nil {
		return p.pageError(err, id, pg)
	}
	p.wake()
	return p.answer(c, w, fmt.Sprintf("%s acked by %s after %s; escalation stopped", pageID(id), c.Caller.Account, chat.FormatDuration(now.Sub(pg.Opened))))
}

func (p *Paging) resolve(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindPage, c.Args[0])
	if err != nil {
		return err
	}
	now := p.rt.Now()
	pg, err := p.st.ResolvePage(id, c.Caller.Account, now, p.cfg.Notifiers, func(pg store.Page) error {
		if c.Role >= RoleOps || p.paged(pg, c.Caller.Account) || p.rt.Roles.Same(pg.By, c.Caller.Account) {
			return nil
		}
		return Errorf("error: only who paged (%s), who was paged, or ops may resolve %s", p.byLine(pg), pageID(pg.ID))
	})
	if err != nil {
		return p.pageError(err, id, pg)
	}
	p.wake()
	return p.answer(c, w, fmt.Sprintf("%s resolved by %s after %s", pageID(id), c.Caller.Account, chat.FormatDuration(now.Sub(pg.Opened))))
}

// answer replies, and tells the channel too when the command came from elsewhere (a private ack).
func (p *Paging) answer(c *Call, w Replier, line string) error {
	w.Reply(line)
	if p.rt.inHomeChannel(c) {
		return nil
	}
	return p.rt.Announce.Announce("", line, false)
}

func (p *Paging) list(_ context.Context, _ *Call, w Replier) error {
	open, err := p.st.OpenPages()
	if err != nil {
		return err
	}
	if len(open) == 0 {
		w.Reply("no open pages")
		return nil
	}
	now := p.rt.Now()
	for _, pg := range open {
		state := fmt.Sprintf("open %s, paging %s", chat.FormatDuration(now.Sub(pg.Opened)), chat.NoHighlight(pg.Target))
		switch {
		case pg.State == store.PageAcked:
			state = fmt.Sprintf("acked by %s, open %s", chat.NoHighlight(pg.AckedBy), chat.FormatDuration(now.Sub(pg.Opened)))
		case pg.Exhausted:
			state += ", escalations exhausted"
		case pg.Step > 0:
			state += fmt.Sprintf(" (escalation %d/%d)", pg.Step, p.cfg.MaxEscalations)
		}
		more := ""
		if n := len(pg.Updates); n > 0 {
			more = fmt.Sprintf(" (+%d update(s))", n)
		}
		w.Reply(fmt.Sprintf("%s %s, by %s: %s%s", pageID(pg.ID), state, p.byLine(pg), p.pageText(pg), more))
	}
	return nil
}
