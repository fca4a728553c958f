package commands

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// AgendaName names the request family's part of the weekly meeting agendas: the retro gets the week's
// numbers and the oldest open request, planning the open columns, the blocked requests and WIP per ops
// person. The reminders family prefixes each source's lines with its name ("requests: opened 14, done 11,
// ..."), so the lines do not repeat it.
func (q *Requests) AgendaName() string { return "requests" }

// Agenda returns the lines for kind ("retro" or "planning"; nothing for other kinds) about [from, to).
func (q *Requests) Agenda(kind string, from, to time.Time) ([]string, error) {
	switch kind {
	case "retro":
		st, err := q.st.RequestStats(from, to)
		if err != nil {
			return nil, err
		}
		median := func(ds []time.Duration) string {
			if m, ok := store.Median(ds); ok {
				return chat.FormatDuration(m)
			}
			return "n/a"
		}
		line := fmt.Sprintf("opened %d, done %d, median first response %s, median lead time %s",
			st.Opened, st.Done, median(st.FirstResponses), median(st.LeadTimes))
		if st.Opened > 0 {
			line += fmt.Sprintf(", %d%% urgent", int(math.Round(100*float64(st.Urgent)/float64(st.Opened))))
		}
		lines := []string{line}
		if st.OldestOpen.ID != 0 {
			lines = append(lines, fmt.Sprintf("oldest open %s (%s)", rid(st.OldestOpen.ID), chat.FormatDuration(to.Sub(st.OldestOpen.Opened))))
		}
		return lines, nil
	case "planning":
		bd, err := q.st.RequestBoard(0, from)
		if err != nil {
			return nil, err
		}
		lines := []string{fmt.Sprintf("open: todo %d, doing %d, blocked %d",
			bd.Counts[store.RequestTodo], bd.Counts[store.RequestDoing], bd.Counts[store.RequestBlocked])}
		if bd.Counts[store.RequestBlocked] > 0 {
			blocked, err := q.st.OpenRequests(store.RequestBlocked)
			if err != nil {
				return nil, err
			}
			items := make([]string, len(blocked))
			for i, r := range blocked {
				items[i] = boardItem(r, to) + ": " + chat.Truncate(r.BlockReason, 60)
			}
			lines = append(lines, chat.Truncate("blocked: "+strings.Join(items, "; "), 350))
		}
		return append(lines, chat.Truncate(q.wipLine(bd), 350)), nil
	}
	return nil, nil
}
