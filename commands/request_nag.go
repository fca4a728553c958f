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

// nagItems caps how many requests one reminder names.
const nagItems = 5

// nag reminds the person on call of requests waiting in todo: a request in todo for nag_after (urgent: a
// third of it) gets one line, then again at most every nag_after. The store records each reminder before it
// is sent (ClaimRequestNags), so a restart never repeats one; when the line cannot be sent (the outbox write
// failed) the claim is taken back (UndoRequestNags), so the next run tries again. Several requests due at
// once share one line. With nobody on call (or no on-call family) the line goes to the channel, highlighting
// nobody.
func (q *Requests) nag(_ context.Context, now time.Time) error {
	due, err := q.st.ClaimRequestNags(now, q.nagAfter)
	if err != nil || len(due) == 0 {
		return err
	}
	urgent := false
	for _, r := range due {
		urgent = urgent || r.Urgent
	}
	var who string
	var lookupErr error
	if q.onCall != nil {
		var ok bool
		who, ok, lookupErr = q.onCall.OnCallAt(now)
		if !ok || lookupErr != nil {
			who = ""
		}
	}
	text := nagText(due, now, q.rt.Prefix)
	switch {
	case who != "":
		err = q.rt.Announce.Tell(who, text, urgent)
	case lookupErr != nil: // not "nobody on call": nobody knows
		err = q.rt.Announce.Announce("", text+" (the on-call lookup failed: see the log)", urgent)
	default:
		err = q.rt.Announce.Announce("", text+" (nobody on call)", urgent)
	}
	if err != nil {
		// Nothing went out: undo the claim, so the next run tries again.
		err = errors.Join(fmt.Errorf("request nag: %w", err), q.st.UndoRequestNags(now, due))
	}
	return errors.Join(lookupErr, err)
}

// nagText is the reminder: "R-3 waiting in todo for 45m (urgent): disk full on db3. Take it: !request take
// R-3", or for several: "3 requests waiting in todo: R-3 45m urgent: disk full…; R-5 35m: … Take one: ...".
// It names nobody: a private reminder needs no highlight, a channel one must not ping.
func nagText(due []store.Request, now time.Time, prefix string) string {
	if len(due) == 1 {
		r := due[0]
		tag := ""
		if r.Urgent {
			tag = " (urgent)"
		}
		return fmt.Sprintf("%s waiting in todo for %s%s: %s. Take it: %srequest take %s",
			rid(r.ID), chat.FormatDuration(now.Sub(r.StateSince)), tag, chat.Truncate(r.Text, 200), prefix, rid(r.ID))
	}
	var items []string
	for i, r := range due {
		if i == nagItems {
			items = append(items, fmt.Sprintf("and %d more", len(due)-nagItems))
			break
		}
		tag := ""
		if r.Urgent {
			tag = " urgent"
		}
		items = append(items, fmt.Sprintf("%s %s%s: %s", rid(r.ID), chat.FormatDuration(now.Sub(r.StateSince)), tag, chat.Truncate(r.Text, 40)))
	}
	return fmt.Sprintf("%d requests waiting in todo: %s. Take one: %srequest take <id> (%sboard)",
		len(due), strings.Join(items, "; "), prefix, prefix)
}
