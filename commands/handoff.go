package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// HandoffConfig is the handoffs family's part of [oncall].
type HandoffConfig struct {
	// RemindBefore is how long before their shift starts each person is told privately (oncall.remind_before;
	// 0: no reminders). Moved-shift notices are always on.
	RemindBefore time.Duration
}

// HandoffStore is what the handoffs family needs from the store.
type HandoffStore interface {
	OnCallNow(r store.Rotation, t time.Time) (store.OnCallState, error)
	Handoff(r store.Rotation, now time.Time, render func(store.HandoffChange) ([]store.OnCallNotice, error)) (store.HandoffChange, bool, error)
	ClaimShiftNotices(r store.Rotation, now time.Time, remindBefore time.Duration, render func(store.ShiftNotice) string) ([]store.ShiftNotice, error)
	PendingOnCallNotices() ([]store.OnCallNotice, error)
	OnCallNoticeSent(id uint64) error
}

// Handoffs is the on-call handoffs family: for every schedule, the channel line and the incoming person's
// private digest at each handoff, !handoff, reminders before a shift and notices of moved shifts.
type Handoffs struct {
	rt      Runtime
	st      HandoffStore
	cfg     HandoffConfig
	scheds  Schedules
	sources []DigestSource
}

// digestOrder ranks the digest's sources by importance: what pages people now first, what can wait last.
// Sources of other names follow, in the order given.
var digestOrder = []string{"pages", "incidents", "alerts", "requests", "deploys", "maintenance"}

// NewHandoffs builds the handoffs family over the schedules (the paging family's) and the digest's sources
// (of two with the same name the first is used), which the digest orders by digestOrder.
func NewHandoffs(rt Runtime, st HandoffStore, cfg HandoffConfig, scheds Schedules, sources ...DigestSource) *Handoffs {
	h := &Handoffs{rt: rt.withDefaults(), st: st, cfg: cfg, scheds: scheds}
	seen := map[string]bool{}
	for _, s := range sources {
		if s != nil && !seen[s.DigestName()] {
			seen[s.DigestName()] = true
			h.sources = append(h.sources, s)
		}
	}
	rank := func(s DigestSource) int {
		if i := slices.Index(digestOrder, s.DigestName()); i >= 0 {
			return i
		}
		return len(digestOrder)
	}
	slices.SortStableFunc(h.sources, func(a, b DigestSource) int { return rank(a) - rank(b) })
	return h
}

// Family offers !handoff and the job that announces handoffs and sends shift notices.
func (h *Handoffs) Family() Family {
	return Family{
		Name: "handoffs",
		Commands: []*Command{{
			Name: "handoff", Args: "[schedule]", Role: RoleAnyone, MaxArgs: 1, Run: h.show,
			Help: "Shows the handoff digest: open pages and incidents, waiting and blocked requests, rollbacks and locks, and more.",
		}},
		Jobs: []Job{{Name: "oncall handoff", Every: 15 * time.Second, Run: h.run}},
	}
}

// run is the job: for each schedule, a change of who is on call is announced once (the channel line and the
// incoming person's digest), and each person is told of their next shift (a reminder, a move) once. Every
// line is stored before it is sent (see store.Handoff and store.ClaimShiftNotices) and removed once queued,
// so a failed outbox write is tried again at the next run and a restart neither repeats nor loses one.
func (h *Handoffs) run(_ context.Context, now time.Time) error {
	var errs []error
	for _, name := range h.scheds.ScheduleNames() {
		r, ok := h.scheds.Rotation(name)
		if !ok {
			continue
		}
		render := func(ch store.HandoffChange) ([]store.OnCallNotice, error) { return h.handoffNotices(ch, now), nil }
		if _, _, err := h.st.Handoff(r, now, render); err != nil {
			errs = append(errs, err)
		}
		tell := func(n store.ShiftNotice) string { return h.shiftText(n, now) }
		if _, err := h.st.ClaimShiftNotices(r, now, h.cfg.RemindBefore, tell); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, h.sendPending())...)
}

// sendPending queues the pending on-call lines for IRC, oldest first, each removed from the store once
// queued; it stops at the first failure (that line and the rest wait for the next run).
func (h *Handoffs) sendPending() error {
	pending, err := h.st.PendingOnCallNotices()
	if err != nil {
		return err
	}
	for _, n := range pending {
		if n.To == "" {
			err = h.rt.Announce.Announce("", n.Text, false)
		} else {
			err = h.rt.Announce.Tell(n.To, n.Text, false)
		}
		if err == nil {
			err = h.st.OnCallNoticeSent(n.ID)
		}
		if err != nil {
			return fmt.Errorf("oncall: %s notice for %s: %w", n.Kind, orString(n.To, "the channel"), err)
		}
	}
	return nil
}

// handoffNotices are the lines of one handoff: the channel line (the incoming person highlighted, the
// digest's counts and where to read it), then the incoming person's private digest.
func (h *Handoffs) handoffNotices(ch store.HandoffChange, now time.Time) []store.OnCallNotice {
	cur, label := ch.Cur, scheduleLabel(ch.Schedule)
	if cur.Account == "" {
		line := fmt.Sprintf("on call%s: nobody from now (after %s); ops can %soncall take%s", label, chat.NoHighlight(ch.Prev), h.rt.Prefix, scheduleFlagText(ch.Schedule))
		return []store.OnCallNotice{{Kind: store.NoticeHandoff, Text: line}}
	}
	since := ch.Since
	if since.IsZero() || !since.Before(now) {
		since = cur.Shift.Start.Add(-cur.Shift.End.Sub(cur.Shift.Start))
	}
	parts := h.collect(ch.Schedule, since, now)
	who := cur.Account
	if ch.Prev != "" {
		who += " takes over from " + chat.NoHighlight(ch.Prev)
	}
	line := onCallLine(h.rt.Location, ch.Schedule, cur, now, who, "")
	if sum := digestSummary(parts); sum != "" {
		line += "; " + sum + ": " + h.rt.Prefix + "handoff" + scheduleArgText(ch.Schedule)
	}
	out := []store.OnCallNotice{{Kind: store.NoticeHandoff, Text: line}}
	prefix := "handoff" + label + ": "
	if ch.Prev != "" {
		prefix = fmt.Sprintf("handoff%s from %s: ", label, chat.NoHighlight(ch.Prev))
	}
	for _, l := range digestLines(prefix, parts) {
		out = append(out, store.OnCallNotice{Kind: store.NoticeDigest, To: cur.Account, Text: l})
	}
	return out
}

// show answers !handoff [schedule]: the digest the person on call would hand over now, anyone may read it.
func (h *Handoffs) show(_ context.Context, c *Call, w Replier) error {
	name := ""
	if len(c.Args) == 1 {
		name = c.Args[0]
	}
	lines, err := h.DigestNow(name)
	if err != nil {
		return err
	}
	w.Reply(lines...)
	return nil
}

// DigestNow is the handoff digest of a schedule ("" is the default one) as !handoff shows it, at most six
// lines: who is on call until when and who is next, then what they would hand over now. An unknown schedule
// is a *UserError naming the schedules.
func (h *Handoffs) DigestNow(schedule string) ([]string, error) {
	prefix, parts, err := h.digestNow(schedule)
	if err != nil {
		return nil, err
	}
	return digestLines(prefix, parts), nil
}

// HandoffNow is what the person on call in a schedule would hand over now, for other views than chat (the web
// overview): the digest's lines without the line about who is on call, none when there is nothing to hand
// over.
func (h *Handoffs) HandoffNow(schedule string) ([]string, error) {
	_, parts, err := h.digestNow(schedule)
	if err != nil || len(parts) == 0 {
		return nil, err
	}
	return digestLines("", parts), nil
}

func (h *Handoffs) digestNow(schedule string) (prefix string, parts []namedPart, err error) {
	r, ok := h.scheds.Rotation(strings.ToLower(schedule))
	if !ok {
		return "", nil, UnknownSchedule(schedule, h.scheds.ScheduleNames())
	}
	now := h.rt.Now()
	st, err := h.st.OnCallNow(r, now)
	if err != nil {
		return "", nil, err
	}
	since := st.Shift.Start
	if since.IsZero() {
		since = now.Add(-store.DefaultShift)
	}
	prefix = fmt.Sprintf("handoff%s: nobody on call: ", scheduleLabel(r.Schedule()))
	if st.Account != "" {
		prefix = fmt.Sprintf("handoff%s: %s on call until %s, then %s: ", scheduleLabel(r.Schedule()), chat.NoHighlight(st.Account),
			when(st.Until, now, h.rt.Location), orString(chat.NoHighlight(st.Next), "nobody"))
	}
	return prefix, h.collect(r.Schedule(), since, now), nil
}

// scheduleArgText is " db" after a command for another schedule than the default one.
func scheduleArgText(sched string) string {
	if scheduleLabel(sched) == "" {
		return ""
	}
	return " " + sched
}

// scheduleFlagText is " --schedule db" for another schedule than the default one.
func scheduleFlagText(sched string) string {
	if scheduleLabel(sched) == "" {
		return ""
	}
	return " --schedule " + sched
}
