package commands

import (
	"fmt"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// DigestName names the paging family's part of the handoff digest.
func (p *Paging) DigestName() string { return "pages" }

// Digest gives the schedule's pages still open, acked or not: the unacknowledged ones first, oldest first.
func (p *Paging) Digest(schedule string, _, now time.Time) (DigestPart, error) {
	open, err := p.st.OpenPages()
	if err != nil {
		return DigestPart{}, err
	}
	var waiting, acked []string
	var first uint64
	for _, pg := range open {
		if pg.ScheduleName() != schedule {
			continue
		}
		if first == 0 {
			first = pg.ID
		}
		text := chat.Truncate(p.pageText(pg), 60)
		age := chat.FormatDuration(now.Sub(pg.Opened).Round(time.Minute))
		if pg.State == store.PageAcked {
			acked = append(acked, fmt.Sprintf("%s acked by %s, open %s: %s", pageID(pg.ID), chat.NoHighlight(pg.AckedBy), age, text))
			continue
		}
		waiting = append(waiting, fmt.Sprintf("%s open %s, paging %s: %s", pageID(pg.ID), age, chat.NoHighlight(pg.Target), text))
	}
	items := append(waiting, acked...)
	switch len(items) {
	case 0:
		return DigestPart{}, nil
	case 1:
		return DigestPart{Summary: pageID(first) + " open", Items: items}, nil
	}
	return DigestPart{Summary: fmt.Sprintf("%d pages open", len(items)), Items: items}, nil
}
