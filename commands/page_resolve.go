package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// autoResolveBatch bounds the pages one run of the auto-resolve job resolves (one transaction): a store
// upgraded with years of forgotten pages catches up over a few runs, a line each.
const autoResolveBatch = 200

// autoResolve resolves the pages acked AckResolveAfter ago or longer and not resolved, and says so in the
// channel: "P-3 resolved: acked 1d ago by alice and not resolved"; more than three at once share one line.
// The lines are the pages' due notices, stored with the resolve: one that cannot be queued now is sent by
// the escalation job (resendNotices).
func (p *Paging) autoResolve(_ context.Context, now time.Time) error {
	pages, err := p.st.ResolveAckedPages(now.Add(-p.cfg.AckResolveAfter), now, p.cfg.Notifiers, autoResolveBatch)
	if err != nil {
		return fmt.Errorf("page auto-resolve: %w", err)
	}
	if len(pages) == 0 {
		return nil
	}
	p.wake()
	p.SendNotices(pages)
	return nil
}

// autoResolvedLine is the channel line of a page the bot resolved (notice n, due when it was resolved).
func autoResolvedLine(pg store.Page, n store.PageNotice) string {
	return fmt.Sprintf("%s resolved: acked %s ago by %s and not resolved", pageID(pg.ID),
		chat.FormatDuration(n.At.Sub(pg.AckedAt)), chat.NoHighlight(pg.AckedBy))
}

// autoResolvedSummary is the one channel line for more pages the bot resolved at once (their ids).
func (p *Paging) autoResolvedSummary(ids []string) string {
	list := strings.Join(ids[:min(len(ids), 5)], ", ")
	if len(ids) > 5 {
		list += fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return fmt.Sprintf("%s resolved: acked %s ago or more and not resolved", list, chat.FormatDuration(p.cfg.AckResolveAfter))
}
