package commands

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// plainNotices is how many pages' notices are sent one by one when several pages change at once (an alert
// storm, escalations of many pages at one time); more are summarised in one line to the channel and one to
// each paged person, so the channel is never flooded.
const plainNotices = 3

// PageFor opens the page of a source that is not a person (an alert group: source "alertmanager"), routed
// like !page <service>: to the service's owner when the catalogue names a known account, else to the person
// on call in the service's schedule. key makes it idempotent: a page with the key already opened is returned as it is. The new page's
// notices are left due, for SendNotices, which summarises the notices of many pages opened together.
func (p *Paging) PageFor(source, key, service, text string) (store.Page, error) {
	req, err := p.PageRequest(source, service)
	if err != nil {
		return store.Page{}, err
	}
	req.Key, req.Text = key, text
	pg, _, err := p.st.OpenPage(req)
	if errors.Is(err, store.ErrPageExists) {
		return p.st.PageByKey(key)
	}
	if err != nil {
		return pg, err
	}
	p.wake()
	return pg, nil
}

// PageRequest is the request that pages for a source about service as !page <service> would: routed to the
// service's owner when the catalogue names a known account, else to the person on call in the service's
// schedule (else in the default one), with the family's timers and notifiers. The caller stores it (with its
// own record, in one transaction), then calls Paged.
func (p *Paging) PageRequest(source, service string) (store.PageRequest, error) {
	target, sched, _, err := p.route(service)
	return store.PageRequest{By: source, Source: source, Service: service, Target: target, Rotation: sched.Rotation,
		Now: p.rt.Now(), AckTimeout: p.cfg.AckTimeout, Notifiers: p.cfg.Notifiers}, err
}

// Paged tells the family that pages were opened or resolved outside it: their notifier tasks wait.
func (p *Paging) Paged() { p.wake() }

// ResolveFor resolves a source's page when the source is resolved (every alert of the group). A page someone
// resolved already is left as it is (resolved is false); the caller tells the channel.
func (p *Paging) ResolveFor(source string, id uint64) (pg store.Page, resolved bool, err error) {
	pg, err = p.st.ResolvePage(id, source, p.rt.Now(), p.cfg.Notifiers, func(store.Page) error { return nil })
	if errors.Is(err, store.ErrPageResolved) {
		return pg, false, nil
	}
	if err != nil {
		return pg, false, err
	}
	p.wake()
	return pg, true, nil
}

// SendNoticesOf sends the due notices of the pages with these ids (see SendNotices).
func (p *Paging) SendNoticesOf(ids []uint64) error {
	var pages []store.Page
	for _, id := range ids {
		pg, err := p.st.GetPage(id)
		if err != nil {
			return fmt.Errorf("paging: page %s: %w", pageID(id), err)
		}
		pages = append(pages, pg)
	}
	p.SendNotices(pages)
	return nil
}

// SendNotices queues the due notices of pages that changed at the same time: one by one when there are few,
// else summarised (sendSummary). A notice that cannot be queued stays due, for the escalation job.
func (p *Paging) SendNotices(pages []store.Page) {
	due := slices.DeleteFunc(slices.Clone(pages), func(pg store.Page) bool { return len(pg.Notices) == 0 })
	if len(due) <= plainNotices {
		for _, pg := range due {
			p.sendNotices(pg)
		}
		return
	}
	if err := p.sendSummary(due); err != nil {
		p.rt.Log.Error("paging: summary of notices not sent yet; the escalation job retries", "pages", len(due), "err", err)
		return
	}
	for _, pg := range due {
		if err := p.st.PageNoticesSent(pg.ID, pg.Notices...); err != nil {
			p.rt.Log.Error("paging: summarised notices stay due", "page", pageID(pg.ID), "err", err)
		}
	}
}

// sendSummary tells the channel in one line per kind of notice which pages changed and who is paged now,
// and each paged person in one line which pages are theirs:
//
//	12 pages opened, paging alice: P-3, P-4, P-5, P-6 +8 more (!page list; ack each with !ack P-n)
//	to alice: 12 pages for you: P-3 [FIRING:3] HighLatency on playlist (critical); P-4 ...; +10 more (!page list)
func (p *Paging) sendSummary(pages []store.Page) error {
	pages = slices.Clone(pages)
	slices.SortFunc(pages, func(a, b store.Page) int { return cmp.Compare(a.ID, b.ID) })
	type group struct {
		ids     []string
		targets []string
	}
	kinds := map[string]*group{}
	var order []string
	private := map[string][]store.Page{}
	var people []string
	for _, pg := range pages {
		for _, n := range pg.Notices {
			if n.Private {
				if _, seen := private[n.To]; !seen {
					people = append(people, n.To)
				}
				if l := private[n.To]; len(l) == 0 || l[len(l)-1].ID != pg.ID {
					private[n.To] = append(l, pg)
				}
				continue
			}
			g, ok := kinds[n.Kind]
			if !ok {
				g = &group{}
				kinds[n.Kind] = g
				order = append(order, n.Kind)
			}
			g.ids = append(g.ids, pageID(pg.ID))
			if n.To != "" && !slices.ContainsFunc(g.targets, func(t string) bool { return p.rt.Roles.Same(t, n.To) }) {
				g.targets = append(g.targets, n.To)
			}
		}
	}
	for _, kind := range order {
		g := kinds[kind]
		if kind == store.NoticeAutoResolved { // not urgent, nothing to ack
			if err := p.rt.Announce.Announce("", p.autoResolvedSummary(g.ids), false); err != nil {
				return err
			}
			continue
		}
		what := map[string]string{store.NoticeOpened: "opened", store.NoticeEscalated: "escalated",
			store.NoticeExhausted: "still not acknowledged after every escalation", store.NoticeUpdate: "updated"}[kind]
		line := fmt.Sprintf("%d pages %s", len(g.ids), what)
		if len(g.targets) > 0 {
			line += ", paging " + strings.Join(g.targets, ", ") // who must act, named plainly
		}
		line += ": " + capIDs(g.ids, 6) + fmt.Sprintf(" (%spage list; ack each with %sack P-n)", p.rt.Prefix, p.rt.Prefix)
		if err := p.rt.Announce.Announce("", chat.Truncate(line, lineBudget), true); err != nil {
			return err
		}
	}
	for _, who := range people {
		mine := private[who]
		var items []string
		for _, pg := range mine {
			items = append(items, pageID(pg.ID)+" "+shortText(p.pageText(pg)))
		}
		line := fmt.Sprintf("%d pages for you: %s (%spage list; ack each with %sack P-n)", len(mine), strings.Join(items, "; "), p.rt.Prefix, p.rt.Prefix)
		if len(line) > lineBudget { // cut whole items, never the hint
			tail := fmt.Sprintf("; +%d more (%spage list; ack each with %sack P-n)", len(mine), p.rt.Prefix, p.rt.Prefix)
			head := fmt.Sprintf("%d pages for you: ", len(mine))
			shown := 0
			for shown < len(items) && len(head)+len(strings.Join(items[:shown+1], "; "))+len(tail) <= lineBudget {
				shown++
			}
			tail = fmt.Sprintf("; +%d more (%spage list; ack each with %sack P-n)", len(mine)-shown, p.rt.Prefix, p.rt.Prefix)
			line = head + strings.Join(items[:shown], "; ") + tail
		}
		if err := p.rt.Announce.Tell(who, line, true); err != nil {
			return err
		}
	}
	return nil
}

// shortText is a page's text for a summary: up to its first ": " (an alert's headline), at most 60 bytes.
func shortText(text string) string {
	if head, _, ok := strings.Cut(text, ": "); ok && len(head) >= 10 {
		text = head
	}
	return chat.Truncate(text, 60)
}

// capIDs joins at most n ids, then "+k more".
func capIDs(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(ids[:n], ", "), len(ids)-n)
}
