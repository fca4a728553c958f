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

// tell is the job that tells the channel what changed in the alert groups since it last did, once a second:
// one line per group change (a group that pages is announced by its page's own notices), never one per
// alert; when more than a few groups changed at once, one summary line instead. The news wait in the store,
// so what a crash interrupted is told after the restart (a line may then come twice, never not at all).
func (a *Alerts) tell(_ context.Context, now time.Time) error {
	untold, err := a.st.UntoldAlertGroups(1000)
	if err != nil || len(untold) == 0 {
		return err
	}
	var pages []uint64
	var lines []string
	var opened, added, resolved int
	var services []string
	var told []store.AlertGroup
	for _, g := range untold {
		n := g.News
		held := g.SuppressedBy != "" && g.Page == 0
		if held && g.Resolved.IsZero() {
			continue // its news wait for the window's end (the release job, or a re-send after it): told once, then
		}
		told = append(told, g)
		if g.Action == store.ActionIgnore || held {
			continue // stored and listed, never announced (or resolved while held back: nothing was told)
		}
		if n.Opened && g.Page != 0 {
			pages = append(pages, g.Page)
		}
		ref := groupRef(g)
		switch {
		case n.Opened && g.Page == 0:
			lines = append(lines, ref+" "+alertText(g)+a.notPaged(g))
		case n.Added > 0 && !n.Opened:
			line := fmt.Sprintf("%s %s: %d more alert%s joined", ref, headline(g), n.Added, plural(n.Added))
			if g.Summary != "" {
				line += " (" + chat.Truncate(g.Summary, 120) + ")"
			}
			lines = append(lines, line)
		}
		if n.Resolved {
			lines = append(lines, fmt.Sprintf("%s %s after %s", ref, headline(g), chat.FormatDuration(g.Resolved.Sub(g.Opened))))
		}
		switch {
		case n.Resolved:
			resolved++
		case n.Opened:
			opened++
		default:
			added++
		}
		if g.Service != "" && !strings.Contains(","+strings.Join(services, ",")+",", ","+g.Service+",") {
			services = append(services, g.Service)
		}
	}
	if len(told) == 0 {
		return nil // only groups held back: nothing to write
	}
	if len(pages) > 0 {
		if err := a.pager.SendNoticesOf(pages); err != nil {
			return err
		}
	}
	if len(lines) > plainNotices {
		lines = []string{summaryLine(opened, added, resolved, services, a.rt.Prefix)}
	}
	for _, l := range lines {
		if err := a.rt.Announce.Announce("", chat.Truncate(l, lineBudget), false); err != nil {
			return fmt.Errorf("alerts: announce: %w", err)
		}
	}
	return a.st.AlertsTold(told)
}

// notPaged says why a firing group that pages has no page: " (not paged: nobody on call)".
func (a *Alerts) notPaged(g store.AlertGroup) string {
	switch {
	case g.Action != store.ActionPage:
		return ""
	case g.SuppressedBy != "":
		return " (suppressed by " + g.SuppressedBy + ")"
	case g.PageNote != "":
		return " (not paged: " + g.PageNote + ")"
	}
	return ""
}

// summaryLine is "12 alert groups changed: 9 firing on 5 services (playlist, search, web +2), 3 resolved: !alerts".
func summaryLine(opened, added, resolved int, services []string, prefix string) string {
	var parts []string
	if opened > 0 {
		parts = append(parts, fmt.Sprintf("%d firing", opened))
	}
	if added > 0 {
		parts = append(parts, fmt.Sprintf("%d with more alerts", added))
	}
	if resolved > 0 {
		parts = append(parts, fmt.Sprintf("%d resolved", resolved))
	}
	line := fmt.Sprintf("%d alert groups changed: %s", opened+added+resolved, strings.Join(parts, ", "))
	if len(services) > 0 {
		line += fmt.Sprintf(" on %d service%s (%s)", len(services), plural(len(services)), joinCapped(services, 4))
	}
	return line + ": " + prefix + "alerts"
}

// watchHeartbeat is the dead man's switch: when the heartbeat alert (Watchdog, which always fires) has not
// come for alerts.heartbeat_timeout, the pipeline from Prometheus to opsbot is broken somewhere, and the
// on-call is paged once, "the alert pipeline is silent since 14:05". The state is stored: a restart neither
// pages twice nor forgets the page. After a start the bot waits one timeout before it judges (Alertmanager
// may have tried to reach it while it was down).
func (a *Alerts) watchHeartbeat(_ context.Context, now time.Time) error {
	h, err := a.st.AlertHeartbeat()
	if err != nil || h.Page != 0 {
		return err
	}
	since := h.LastSeen
	if since.Before(a.started) {
		since = a.started
	}
	if now.Sub(since) < a.cfg.HeartbeatTimeout {
		return nil
	}
	text := fmt.Sprintf("the alert pipeline is silent since %s: no %s alert from Alertmanager for %s",
		a.clock(h.LastSeen, now), a.cfg.Heartbeat, chat.FormatDuration(now.Sub(h.LastSeen)))
	if h.LastSeen.IsZero() {
		text = fmt.Sprintf("the alert pipeline is silent: no %s alert from Alertmanager since opsbot started %s ago", a.cfg.Heartbeat,
			chat.FormatDuration(now.Sub(a.started)))
	}
	pg, err := a.pager.PageFor(alertSource, fmt.Sprintf("heartbeat:%d", h.LastSeen.UnixNano()), "", text)
	if err != nil {
		return fmt.Errorf("alerts: page the silent pipeline: %w", err)
	}
	if err := a.st.HeartbeatPaged(h.LastSeen, pg.ID); errors.Is(err, store.ErrHeartbeatPaged) {
		_, _, err = a.pager.ResolveFor(alertSource, pg.ID) // a heartbeat came meanwhile
		return err
	} else if err != nil {
		return err
	}
	return a.pager.SendNoticesOf([]uint64{pg.ID})
}

// seeHeartbeat records the heartbeat alert's arrival at now, and resolves the page about the silent pipeline
// if there is one, telling the channel once.
func (a *Alerts) seeHeartbeat(now time.Time) error {
	h, err := a.st.AlertHeartbeat()
	if err != nil {
		return err
	}
	if h.Page != 0 { // resolved first: if that fails, Alertmanager's retry finds the page still recorded
		pg, resolved, err := a.pager.ResolveFor(alertSource, h.Page)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", pageID(h.Page), err)
		}
		if resolved {
			line := fmt.Sprintf("%s resolved: the alert pipeline's heartbeat (%s) is back after %s", pageID(pg.ID), a.cfg.Heartbeat,
				chat.FormatDuration(now.Sub(h.LastSeen)))
			if err := a.rt.Announce.Announce("", line, false); err != nil {
				a.rt.Log.Error("alerts: announce the heartbeat's return", "err", err)
			}
		}
	}
	_, err = a.st.SeeHeartbeat(now)
	return err
}

// clock is a time for chat in the bot's zone: 14:05 today, else 12-01 14:05.
func (a *Alerts) clock(t, now time.Time) string {
	t, now = t.In(a.rt.Location), now.In(a.rt.Location)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}

// release is the job that pages the groups a maintenance window held back, once the window is over and they
// still fire (Alertmanager would not send an unchanged group again before its repeat_interval).
func (a *Alerts) release(_ context.Context, now time.Time) error {
	groups, err := a.st.FiringAlertGroups()
	if err != nil {
		return err
	}
	var pages []uint64
	var errs []error
	for _, g := range groups {
		if g.SuppressedBy == "" || g.Page != 0 {
			continue
		}
		if _, _, still, err := a.windows.During(g.Service, now); err != nil || still {
			errs = append(errs, err)
			continue
		}
		service := g.Service
		if !store.ValidServiceName(service) {
			service = ""
		}
		req, err := a.pager.PageRequest(alertSource, service)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ch, err := a.st.ReleaseAlertGroup(g.ID, store.AlertPage{Request: req, Text: alertText}, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ch.Opened {
			pages = append(pages, ch.Page.ID)
		}
	}
	if len(pages) > 0 {
		a.pager.Paged()
		errs = append(errs, a.pager.SendNoticesOf(pages))
	}
	return errors.Join(errs...)
}
