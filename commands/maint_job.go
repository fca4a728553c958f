package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// tick is the maintenance job: it creates the coming occurrences of recurring windows, keeps Alertmanager's
// silences in step (retrying with backoff while it cannot be reached), and announces each window when it
// starts, 15 minutes before it ends and when it ends, once each: the announcements made are stored, so a
// restart in the middle of a window repeats none (a crash between the announcement and its record could
// repeat one: at least once, never lost).
func (m *Maint) tick(ctx context.Context, now time.Time) error {
	errs := []error{m.occurrences(now)}
	open, err := m.st.OpenWindows()
	if err != nil {
		return err
	}
	for _, w := range open {
		if ctx.Err() != nil {
			break
		}
		if w.Silence && (w.SilenceState == store.SilenceCreate || w.SilenceState == store.SilenceExpire) && !w.SilenceRetry.After(now) {
			m.trySilence(ctx, w.ID)
		}
		errs = append(errs, m.announce(w, now))
	}
	return errors.Join(errs...)
}

// occurrences creates, for each recurring series, the occurrences that start within maintAhead.
func (m *Maint) occurrences(now time.Time) error {
	all, err := m.st.AllSeries()
	if err != nil {
		return err
	}
	for _, sr := range all {
		sc, err := parseSchedule(sr.Schedule, m.rt.Location)
		if err != nil {
			m.rt.Log.Error("maintenance: a series' schedule no longer parses", "series", sr.ID, "schedule", sr.Schedule, "err", err)
			continue
		}
		for next := sc.windowAfter(sr.Last); !next.IsZero() && next.Before(now.Add(maintAhead)); next = sc.windowAfter(next) {
			if next.Add(sr.Duration).Before(now) {
				continue // missed while the bot was down: over already
			}
			if _, _, err := m.st.AddOccurrence(sr.ID, next, now); err != nil {
				return fmt.Errorf("maintenance: occurrence of series %d: %w", sr.ID, err)
			}
		}
	}
	return nil
}

// windowAfter is a series' first occurrence after the one that started at t: the schedule's next local date
// and time (schedule.next: a repeated fall-back hour is one occurrence), or, when the schedule matches a
// local time that a spring-forward change skips before that, the first instant after the gap (03:00 CEST
// for 02:30 in Stockholm), as classic cron runs such a job: planned work keeps its window that night.
// Reminders keep skipping such times.
func (s schedule) windowAfter(t time.Time) time.Time {
	next := s.after(t)
	spec, ok := s.sched.(*cron.SpecSchedule)
	if !ok || next.IsZero() {
		return next
	}
	wall := *spec
	wall.Location = time.UTC // the spec on the wall clock, where no time is skipped
	for at := t; ; {
		_, end := at.In(s.loc).ZoneBounds()
		if end.IsZero() || !end.Before(next) {
			return next
		}
		_, before := end.Add(-time.Second).In(s.loc).Zone()
		if _, after := end.In(s.loc).Zone(); after > before {
			// Clocks go forward at end: the wall times from end+before to end+after do not exist.
			from, to := end.UTC().Add(time.Duration(before)*time.Second), end.UTC().Add(time.Duration(after)*time.Second)
			if m := wall.Next(from.Add(-time.Second)); !m.IsZero() && m.Before(to) {
				return end
			}
		}
		at = end
	}
}

// announce makes the announcement a window is due for, if any, and records it.
func (m *Maint) announce(w store.Window, now time.Time) error {
	var line string
	var told func(*store.Window)
	switch {
	case !w.Cancelled.IsZero():
		return nil
	case w.Over(now) && !w.Told.Ended:
		line = fmt.Sprintf("%s maintenance on %s ended (%s)", w.Ref(), w.Service, chat.FormatDuration(w.End.Sub(w.Start)))
		if !w.Told.Started {
			line += fmt.Sprintf("; it ran %s while opsbot was away", m.span(w, now))
		}
		told = func(x *store.Window) { x.Told.Started, x.Told.Ending, x.Told.Ended = true, true, true }
	case w.Active(now) && !w.Told.Started:
		line = fmt.Sprintf("%s maintenance started on %s until %s: %s", w.Ref(), w.Service, m.clock(w.End, now), w.Reason)
		if w.Freeze {
			line += "; deploys frozen"
		}
		line += "; alert pages held back"
		told = func(x *store.Window) { x.Told.Added, x.Told.Started = true, true }
	case w.Active(now) && !w.Told.Ending && w.End.Sub(now) <= endingSoon && w.End.Sub(w.Start) > endingSoon:
		line = fmt.Sprintf("%s maintenance on %s ends in %s (%s): %s", w.Ref(), w.Service, chat.FormatDuration(w.End.Sub(now).Round(time.Minute)),
			m.clock(w.End, now), w.Reason)
		told = func(x *store.Window) { x.Told.Ending = true }
	case !w.Told.Added && !w.Over(now):
		line = m.addedLine(w, now)
		told = func(x *store.Window) { x.Told.Added = true }
	default:
		if w.Over(now) { // settled: every announcement made; the store drops it from the open windows
			_, err := m.st.ChangeWindow(w.ID, now, func(*store.Window) error { return nil })
			return err
		}
		return nil
	}
	if err := m.rt.Announce.Announce("", chat.Truncate(line, lineBudget), false); err != nil {
		return fmt.Errorf("maintenance: announce %s: %w", w.Ref(), err)
	}
	_, err := m.st.ChangeWindow(w.ID, now, func(x *store.Window) error { told(x); return nil })
	return err
}

// silenceTask records what a window's change asks of its silence: expired once the window ended or was
// cancelled, updated when its end moved. The command that made the change tries it at once (trySilence); the
// job waits a minute before it retries.
func (m *Maint) silenceTask(w *store.Window, now time.Time) {
	if !w.Silence {
		return
	}
	switch {
	case !w.Cancelled.IsZero() || !w.End.After(now):
		if w.SilenceID == "" {
			w.SilenceState = store.SilenceDone // never created: nothing to expire
			return
		}
		w.SilenceState = store.SilenceExpire
	default:
		w.SilenceState = store.SilenceCreate // created, or updated with the new end
	}
	w.SilenceTries, w.SilenceError, w.SilenceRetry = 0, "", now.Add(time.Minute)
}

// Silence retries: 10s doubling to 10 minutes.
const (
	silenceRetryMin = 10 * time.Second
	silenceRetryMax = 10 * time.Minute
)

// trySilence does the silence task of window id now and records the outcome; it returns the line the reply
// carries about it.
func (m *Maint) trySilence(ctx context.Context, id uint64) string {
	w, err := m.st.Window(id)
	if err != nil || m.am == nil {
		return "the silence is not kept (no alerts.alertmanager_url)"
	}
	now := m.rt.Now()
	var silenceID string
	var opErr error
	state := w.SilenceState
	switch {
	case state == store.SilenceCreate && w.Over(now):
		state = store.SilenceDone // the window is over: a silence for it would end at once
	case state == store.SilenceCreate:
		silenceID, opErr = m.am.put(ctx, w)
	case state == store.SilenceExpire:
		opErr = m.am.expire(ctx, w.SilenceID)
	}
	w, err = m.st.ChangeWindow(id, now, func(x *store.Window) error {
		if x.SilenceState != w.SilenceState {
			return nil // changed meanwhile: its own task follows
		}
		switch {
		case opErr != nil:
			x.SilenceTries++
			x.SilenceError = chat.Truncate(opErr.Error(), 200)
			x.SilenceRetry = now.Add(min(silenceRetryMax, silenceRetryMin<<min(x.SilenceTries-1, 10)))
		case state == store.SilenceCreate:
			x.SilenceID, x.SilenceState, x.SilenceError, x.SilenceTries = silenceID, store.SilenceActive, "", 0
		case state == store.SilenceExpire || state == store.SilenceDone:
			x.SilenceState, x.SilenceError, x.SilenceTries = store.SilenceDone, "", 0
		}
		return nil
	})
	switch {
	case err != nil:
		m.rt.Log.Error("maintenance: recording the silence", "window", w.Ref(), "err", err)
		return "the silence's state could not be saved (see the log)"
	case opErr != nil:
		m.rt.Log.Warn("maintenance: silence failed, will retry", "window", w.Ref(), "err", opErr, "retry", w.SilenceRetry)
		return fmt.Sprintf("the silence failed (%s) and will be retried (%smaint show %s)", chat.Truncate(opErr.Error(), 120), m.rt.Prefix, w.Ref())
	case w.SilenceState == store.SilenceActive:
		return "alerts silenced in Alertmanager (silence " + w.SilenceID + ")"
	}
	return "the silence is expired in Alertmanager"
}

// silencer talks to Alertmanager's API v2 about silences.
type silencer struct {
	base   *url.URL
	label  string
	client *http.Client
}

func newSilencer(base, label string) *silencer {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil {
		u = &url.URL{}
	}
	return &silencer{base: u, label: label, client: &http.Client{Timeout: 5 * time.Second}}
}

// amMatcher is a matcher of Alertmanager's API v2.
type amMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// put creates the window's silence, or updates it when it has an id (Alertmanager 0.25 may answer with a new
// id: the old one is then expired by Alertmanager), and returns the silence's id.
func (s *silencer) put(ctx context.Context, w store.Window) (string, error) {
	matcher := amMatcher{Name: s.label, Value: w.Service, IsEqual: true}
	if w.Service == store.AllServices {
		matcher = amMatcher{Name: "alertname", Value: ".+", IsRegex: true, IsEqual: true}
	}
	body := map[string]any{"matchers": []amMatcher{matcher}, "startsAt": w.Start.UTC(), "endsAt": w.End.UTC(),
		"createdBy": w.By, "comment": fmt.Sprintf("%s: %s", w.Ref(), w.Reason)}
	if w.SilenceID != "" {
		body["id"] = w.SilenceID
	}
	raw, _ := json.Marshal(body)
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := s.do(ctx, http.MethodPost, "/api/v2/silences", raw, &out); err != nil {
		return "", err
	}
	if out.SilenceID == "" {
		return "", errors.New("alertmanager answered without a silenceID")
	}
	return out.SilenceID, nil
}

// expire expires silence id; one Alertmanager no longer knows is expired already.
func (s *silencer) expire(ctx context.Context, id string) error {
	err := s.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
	if err != nil && strings.Contains(err.Error(), "not found") {
		return nil
	}
	return err
}

// do sends one request and decodes a 2xx answer into out. Errors never show the URL's credentials or query.
func (s *silencer) do(ctx context.Context, method, path string, body []byte, out any) error {
	u := *s.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return errors.New("alertmanager: bad alerts.alertmanager_url")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("alertmanager %s unreachable: %s", chat.RedactURL(s.base.String()), redactErr(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alertmanager answered %d: %s", resp.StatusCode, chat.Truncate(chat.Sanitize(string(raw)), 120))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// redactErr is a transport error without the URL it quotes (which may carry credentials or a token).
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
