package commands

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/store"
)

// shiftDoc is one shift of the rotation.
type shiftDoc struct {
	Account string    `json:"account"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// onCallDoc is GET /api/v1/oncall.
type onCallDoc struct {
	Schedule  string          `json:"schedule"`
	Schedules []string        `json:"schedules"` // every configured schedule, the default first
	Now       time.Time       `json:"now"`
	OnCall    string          `json:"on_call"` // "" when nobody is
	Until     *time.Time      `json:"until,omitempty"`
	Next      string          `json:"next,omitempty"`
	Override  *store.Override `json:"override"`
	Rotation  []string        `json:"rotation"`
	Handoff   string          `json:"handoff"`
	Timezone  string          `json:"timezone"`
	Shift     string          `json:"shift_length"`
	Shifts    []shiftDoc      `json:"shifts"` // the current shift and the next three, without overrides
}

// apiOnCall is GET /api/v1/oncall[?schedule=db]: who is on call in the schedule (the default one without
// the parameter), until when, who is next, and the next shifts. The schedule is named as in chat (in any
// case); an unknown one is a 404 with chat's answer.
func (p *Paging) apiOnCall(w http.ResponseWriter, req *http.Request) {
	now := p.rt.Now()
	sched, err := p.scheduleArg(req.URL.Query().Get("schedule"))
	if err != nil {
		WriteError(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), "error: "))
		return
	}
	r := sched.Rotation
	st, err := p.st.OnCallNow(r, now)
	if err != nil {
		p.rt.fail(w, "oncall", err)
		return
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	shift := r.Shift
	if shift <= 0 {
		shift = store.DefaultShift
	}
	doc := onCallDoc{Schedule: sched.Name(), Schedules: p.ScheduleNames(), Now: now.UTC(), OnCall: st.Account, Next: st.Next, Override: st.Override, Rotation: nonNil(r.Accounts),
		Handoff:  r.Weekday.String()[:3] + " " + time.Time{}.Add(r.At).Format("15:04"),
		Timezone: loc.String(), Shift: shift.String(), Shifts: []shiftDoc{}}
	if !st.Until.IsZero() {
		u := st.Until.UTC()
		doc.Until = &u
	}
	for s, i := r.ShiftAt(now), 0; s.Account != "" && i < 4; s, i = r.ShiftAt(s.End), i+1 {
		doc.Shifts = append(doc.Shifts, shiftDoc{Account: s.Account, Start: s.Start.UTC(), End: s.End.UTC()})
	}
	WriteJSON(w, http.StatusOK, doc)
}

// apiPages lists pages: ?state=open (default, every page not resolved, oldest first) or ?state=all (the newest
// ?limit, default 100, newest first).
func (p *Paging) apiPages(w http.ResponseWriter, r *http.Request) {
	var pages []store.Page
	var err error
	switch r.URL.Query().Get("state") {
	case "", "open":
		pages, err = p.st.OpenPages()
	case "all":
		limit := 100
		if l := r.URL.Query().Get("limit"); l != "" {
			if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
				WriteError(w, http.StatusBadRequest, "limit: a number from 1 to 1000")
				return
			}
		}
		pages, err = p.st.RecentPages(limit)
	default:
		WriteError(w, http.StatusBadRequest, "state: open or all")
		return
	}
	if err != nil {
		p.rt.fail(w, "pages", err)
		return
	}
	docs := make([]store.PageDoc, len(pages))
	for i, pg := range pages {
		docs[i] = pg.Doc()
	}
	WriteJSON(w, http.StatusOK, map[string]any{"pages": docs})
}
