package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// The digest's size: at most digestMaxLines lines of at most digestLineBytes bytes of text each (an IRC line
// has room for about 400 bytes of text after the prefix and target).
const (
	digestMaxLines  = 6
	digestLineBytes = 350
)

// namedPart is one source's part of a digest, with the source's name.
type namedPart struct {
	name string
	DigestPart
}

// collect asks every source for its part, in order, leaving out the empty ones. A source that fails is
// logged and left out: a handoff is announced with what is known rather than not at all.
func (h *Handoffs) collect(schedule string, since, now time.Time) []namedPart {
	var parts []namedPart
	for _, s := range h.sources {
		p, err := s.Digest(schedule, since, now)
		if err != nil {
			h.rt.Log.Error("handoff: a digest source failed; the digest leaves it out", "source", s.DigestName(), "schedule", schedule, "err", err)
			continue
		}
		if p.Summary == "" && len(p.Items) == 0 {
			continue
		}
		parts = append(parts, namedPart{s.DigestName(), p})
	}
	return parts
}

// digestSummary is the channel's short form of a digest: "2 pages open, INC-7 open, 1 lock" ("" when no
// source has a summary).
func digestSummary(parts []namedPart) string {
	var sums []string
	for _, p := range parts {
		if p.Summary != "" {
			sums = append(sums, p.Summary)
		}
	}
	return chat.Truncate(strings.Join(sums, ", "), 200)
}

// digestLines renders a digest: one line per source ("pages: P-3 open 4m, paging alice: db is down; P-2 ...;
// +2 more"), the first line after prefix, at most digestMaxLines lines (the sources that do not fit are named
// on the last one) of at most digestLineBytes each. An empty digest is one line: nothing to hand over.
func digestLines(prefix string, parts []namedPart) []string {
	if len(parts) == 0 {
		return []string{prefix + "nothing to hand over"}
	}
	var lines []string
	for i, p := range parts {
		head := p.name + ": "
		if i == 0 {
			head = prefix + head
		}
		if len(lines) == digestMaxLines-1 && len(parts) > digestMaxLines {
			var rest []string
			for _, q := range parts[i:] {
				rest = append(rest, q.name)
			}
			lines = append(lines, chat.Truncate(fmt.Sprintf("+%d more: %s", len(rest), strings.Join(rest, ", ")), digestLineBytes))
			break
		}
		items := p.Items
		if len(items) == 0 {
			items = []string{p.Summary}
		}
		lines = append(lines, capItems(head, items))
	}
	return lines
}

// capItems is head followed by as many items as fit digestLineBytes, separated by "; ", and "+N more" for
// the rest; an item too long for the line on its own is cut.
func capItems(head string, items []string) string {
	line := head
	for i, it := range items {
		sep := "; "
		if i == 0 {
			sep = ""
		}
		more := ""
		if i < len(items)-1 {
			more = fmt.Sprintf("; +%d more", len(items)-i-1)
		}
		if len(line)+len(sep)+len(it)+len(more) > digestLineBytes {
			if i == 0 {
				return chat.Truncate(line+it, digestLineBytes-len(more)) + more
			}
			return line + fmt.Sprintf("; +%d more", len(items)-i)
		}
		line += sep + it
	}
	return line
}

// whenFull renders a moment with its date, for lines that may be read days later: "Mon 30 Mar 10:00 CEST".
func whenFull(t time.Time, loc *time.Location) string { return t.In(loc).Format("Mon 2 Jan 15:04 MST") }

// shiftText renders a shift notice for the person it is about.
func (h *Handoffs) shiftText(n store.ShiftNotice, now time.Time) string {
	label, loc := scheduleLabel(n.Schedule), h.rt.Location
	span := func(s store.NextShift) string { return whenFull(s.Start, loc) + " - " + whenFull(s.End, loc) }
	switch n.Kind {
	case store.NoticeReminder:
		line := fmt.Sprintf("on call%s: reminder, you are on call from %s (in %s) until %s", label, whenFull(n.Next.Start, loc),
			chat.FormatDuration(n.Next.Start.Sub(now).Round(time.Minute)), whenFull(n.Next.End, loc))
		if n.Next.From != "" {
			line += ", taking over from " + chat.NoHighlight(n.Next.From)
		}
		return line + fmt.Sprintf(" (%shandoff%s shows what is open)", h.rt.Prefix, scheduleArgText(n.Schedule))
	case store.NoticeMoved:
		line := fmt.Sprintf("on call%s: your next shift moved to %s (was %s)", label, span(n.Next), span(n.Was))
		if n.Soon {
			line += fmt.Sprintf("; it starts in %s", chat.FormatDuration(n.Next.Start.Sub(now).Round(time.Minute)))
		}
		return line
	case store.NoticeCancelled:
		return fmt.Sprintf("on call%s: your next shift (%s) is off: the rotation changed or an override covers it", label, span(n.Was))
	}
	return fmt.Sprintf("on call%s: %s", label, n.Kind)
}
