package bot

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/store"
)

// mountOnCall adds the on-call and paging API: GET /api/v1/oncall and GET /api/v1/pages.
func (b *Bot) mountOnCall(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/oncall", b.requireToken(http.HandlerFunc(b.apiOnCall)))
	mux.Handle("GET /api/v1/pages", b.requireToken(http.HandlerFunc(b.apiPages)))
}

// shiftDoc is one shift of the rotation.
type shiftDoc struct {
	Account string    `json:"account"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// onCallDoc is GET /api/v1/oncall.
type onCallDoc struct {
	Now      time.Time       `json:"now"`
	OnCall   string          `json:"on_call"` // "" when nobody is
	Until    *time.Time      `json:"until,omitempty"`
	Next     string          `json:"next,omitempty"`
	Override *store.Override `json:"override"`
	Rotation []string        `json:"rotation"`
	Handoff  string          `json:"handoff"`
	Timezone string          `json:"timezone"`
	Shift    string          `json:"shift_length"`
	Shifts   []shiftDoc      `json:"shifts"` // the current shift and the next three, without overrides
}

func (b *Bot) apiOnCall(w http.ResponseWriter, _ *http.Request) {
	now := b.o.Now()
	r := b.o.Paging.Rotation
	st, err := b.store.OnCallNow(r, now)
	if err != nil {
		b.oncallAPIError(w, err)
		return
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	shift := r.Shift
	if shift <= 0 {
		shift = 7 * 24 * time.Hour
	}
	doc := onCallDoc{Now: now.UTC(), OnCall: st.Account, Next: st.Next, Override: st.Override, Rotation: r.Accounts,
		Handoff:  r.Weekday.String()[:3] + " " + time.Time{}.Add(r.At).Format("15:04"),
		Timezone: loc.String(), Shift: shift.String(), Shifts: []shiftDoc{}}
	if doc.Rotation == nil {
		doc.Rotation = []string{}
	}
	if !st.Until.IsZero() {
		u := st.Until.UTC()
		doc.Until = &u
	}
	for s, i := r.ShiftAt(now), 0; s.Account != "" && i < 4; s, i = r.ShiftAt(s.End), i+1 {
		doc.Shifts = append(doc.Shifts, shiftDoc{Account: s.Account, Start: s.Start.UTC(), End: s.End.UTC()})
	}
	oncallJSON(w, doc)
}

// apiPages lists pages: ?state=open (default, every page not resolved, oldest first) or ?state=all (the newest
// ?limit, default 100, newest first).
func (b *Bot) apiPages(w http.ResponseWriter, r *http.Request) {
	var pages []store.Page
	var err error
	switch r.URL.Query().Get("state") {
	case "", "open":
		pages, err = b.store.OpenPages()
	case "all":
		limit := 100
		if l := r.URL.Query().Get("limit"); l != "" {
			if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
				http.Error(w, "limit: a number from 1 to 1000", http.StatusBadRequest)
				return
			}
		}
		pages, err = b.store.RecentPages(limit)
	default:
		http.Error(w, "state: open or all", http.StatusBadRequest)
		return
	}
	if err != nil {
		b.oncallAPIError(w, err)
		return
	}
	docs := make([]notify.PageDoc, len(pages))
	for i, p := range pages {
		docs[i] = notify.Doc(p)
	}
	oncallJSON(w, map[string]any{"pages": docs})
}

func (b *Bot) oncallAPIError(w http.ResponseWriter, err error) {
	b.metrics.storeFailed(err)
	b.o.Log.Error("http: api", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func oncallJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
