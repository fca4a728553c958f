package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// lineBytes is the most text the services family puts in one reply line, safely below what one IRC line
// carries, so the bot never splits (and never re-caps) what was already fitted to bot.max_lines.
const lineBytes = 350

// channelListNames is how many names a list inside a line shows in a channel before "(+N more)".
const channelListNames = 10

func ownerPart(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return "owner " + chat.NoHighlight(owner)
}

func ownerValue(owner string) string {
	if owner == "" {
		return "none"
	}
	return chat.NoHighlight(owner)
}

func sloPart(slo float64) string {
	if slo == 0 {
		return "no SLO"
	}
	return "SLO " + sloValue(slo)
}

func sloValue(slo float64) string {
	if slo == 0 {
		return "none"
	}
	return strconv.FormatFloat(slo, 'f', -1, 64) + "%"
}

// listLimit is how many names a list inside a line shows: all in private, a few in a channel.
func listLimit(c *Call) int {
	if c.Private() {
		return 0
	}
	return channelListNames
}

// moreAt is what "... and N more" points to: the web page at path (web.base_url), else "ask in private".
func (s *Services) moreAt(path string) string {
	if u := s.rt.PageURL(path); u != "" {
		return u
	}
	return "ask in private"
}

// linesFor is the line budget of a reply: unlimited (0) in private, bot.max_lines in a channel.
func (s *Services) linesFor(c *Call) int {
	if c.Private() {
		return 0
	}
	return s.rt.ChannelLines()
}

// nameList joins names, showing at most limit (0: all) and counting the rest.
func nameList(names []string, limit int) string {
	if limit <= 0 || len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(names[:limit], ", "), len(names)-limit)
}

// packLines cuts text at spaces into lines of at most lineBytes.
func packLines(text string) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Split(text, " ") {
		if cur.Len() > 0 && cur.Len()+1+len(word) > lineBytes {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// fitLines renders the first k of n items with render(k) and packs them into at most maxLines lines
// (0: no limit), showing as many items as fit and counting the rest: "... and 12 more (ask in private)", or
// with web.base_url the page that lists them all instead of "ask in private" (where).
func fitLines(n, maxLines int, where string, render func(k int) string) []string {
	lines := packLines(render(n))
	if maxLines <= 0 || len(lines) <= maxLines {
		return lines
	}
	with := func(k int) []string {
		return packLines(fmt.Sprintf("%s ... and %d more (%s)", render(k), n-k, where))
	}
	best := with(0)
	for lo, hi := 1, n-1; lo <= hi; {
		mid := (lo + hi) / 2
		if l := with(mid); len(l) <= maxLines {
			best, lo = l, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// capList is head, the names and tail, fitted to maxLines.
func capList(head string, names []string, tail string, maxLines int, where string) []string {
	return fitLines(len(names), maxLines, where, func(k int) string {
		if k == len(names) {
			return head + strings.Join(names, ", ") + tail
		}
		return head + strings.Join(names[:k], ", ")
	})
}

// impactLines renders an impact walk as the contract (docs/contract.md) shows it, nearest first, with the path of deeper dependents:
// "if playlist fails: search, radio; then web, mobile-api (via search)", and a line naming the cycles. In
// a channel it fits maxLines, the rest counted.
func impactLines(im store.Impact, maxLines int, where string) []string {
	if len(im.Dependents) == 0 { // then there is no cycle either: a cycle through it is a dependent
		return []string{"if " + im.Service + " fails: nothing depends on it"}
	}
	budget := maxLines
	if len(im.Cycles) > 0 && budget > 1 {
		budget--
	}
	lines := fitLines(len(im.Dependents), budget, where, func(k int) string { return impactText(im, k) })
	if len(im.Cycles) > 0 {
		cycleBudget := 0
		if maxLines > 0 {
			cycleBudget = 1
		}
		lines = append(lines, fitLines(len(im.Cycles), cycleBudget, where, func(k int) string {
			var cs []string
			for _, c := range im.Cycles[:k] {
				cs = append(cs, strings.Join(c, " -> "))
			}
			if len(im.Cycles) == 1 {
				return "cycle: " + strings.Join(cs, "; ")
			}
			return "cycles: " + strings.Join(cs, "; ")
		})...)
	}
	return lines
}

// impactText renders the first k dependents.
func impactText(im store.Impact, k int) string {
	var b strings.Builder
	b.WriteString("if " + im.Service + " fails:")
	deps := im.Dependents[:k]
	for i, d := range deps {
		switch {
		case i == 0:
			b.WriteString(" ")
		case d.Depth != deps[i-1].Depth:
			b.WriteString("; then ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(d.Name)
		if d.Depth > 1 && (i == len(deps)-1 || !sameVia(d, deps[i+1])) {
			b.WriteString(" (via " + strings.Join(d.Path[1:len(d.Path)-1], ", ") + ")")
		}
	}
	return b.String()
}

// sameVia reports whether two dependents are reached along the same path.
func sameVia(a, b store.Dependent) bool {
	return a.Depth == b.Depth && slices.Equal(a.Path[:len(a.Path)-1], b.Path[:len(b.Path)-1])
}
