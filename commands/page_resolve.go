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
func (p *Paging) autoResolve(_ context.Context, now time.Time) error {
	pages, err := p.st.ResolveAckedPages(now.Add(-p.cfg.AckResolveAfter), now, p.cfg.Notifiers, autoResolveBatch)
	if err != nil {
		return fmt.Errorf("page auto-resolve: %w", err)
	}
	if len(pages) == 0 {
		return nil
	}
	p.wake()
	for _, l := range autoResolvedLines(pages, now, p.cfg.AckResolveAfter) {
		if err := p.rt.Announce.Announce("", l, false); err != nil {
			return fmt.Errorf("page auto-resolve: %w", err)
		}
	}
	return nil
}

// autoResolvedLines are the channel lines for pages the bot resolved.
func autoResolvedLines(pages []store.Page, now time.Time, after time.Duration) []string {
	if len(pages) <= 3 {
		var out []string
		for _, pg := range pages {
			out = append(out, fmt.Sprintf("%s resolved: acked %s ago by %s and not resolved", pageID(pg.ID),
				chat.FormatDuration(now.Sub(pg.AckedAt)), chat.NoHighlight(pg.AckedBy)))
		}
		return out
	}
	var ids []string
	for _, pg := range pages[:min(len(pages), 5)] {
		ids = append(ids, pageID(pg.ID))
	}
	list := strings.Join(ids, ", ")
	if len(pages) > len(ids) {
		list += fmt.Sprintf(" and %d more", len(pages)-len(ids))
	}
	return []string{fmt.Sprintf("%s resolved: acked %s ago or more and not resolved", list, chat.FormatDuration(after))}
}
