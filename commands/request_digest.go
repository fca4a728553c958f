package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// DigestName names the request family's part of the handoff digest.
func (q *Requests) DigestName() string { return "requests" }

// Digest gives the oldest request waiting in todo and every blocked one (oldest first), whatever the
// schedule: the queue is the whole team's.
func (q *Requests) Digest(_ string, _, now time.Time) (DigestPart, error) {
	todo, err := q.st.OpenRequests(store.RequestTodo)
	if err != nil {
		return DigestPart{}, err
	}
	blocked, err := q.st.OpenRequests(store.RequestBlocked)
	if err != nil {
		return DigestPart{}, err
	}
	var part DigestPart
	var sums []string
	if len(todo) > 0 {
		r := todo[0]
		part.Items = append(part.Items, fmt.Sprintf("oldest todo %s (%s): %s", rid(r.ID), chat.FormatDuration(now.Sub(r.Opened).Round(time.Minute)), chat.Truncate(r.Text, 60)))
		sums = append(sums, fmt.Sprintf("%d request%s waiting", len(todo), plural(len(todo))))
	}
	for _, r := range blocked {
		part.Items = append(part.Items, fmt.Sprintf("%s blocked %s: %s (%s)", rid(r.ID), chat.FormatDuration(now.Sub(r.StateSince).Round(time.Minute)),
			chat.Truncate(r.BlockReason, 60), chat.Truncate(r.Text, 40)))
	}
	if len(blocked) > 0 {
		sums = append(sums, fmt.Sprintf("%d blocked", len(blocked)))
	}
	part.Summary = strings.Join(sums, ", ")
	return part, nil
}
