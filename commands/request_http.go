package commands

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// apiRequestView is a request as the API shows it: the stored record plus its id as people write it and its
// times in seconds. Listings leave out the history.
type apiRequestView struct {
	Ref string `json:"ref"`
	store.Request
	History              []store.RequestEvent `json:"history,omitempty"`
	FirstResponseSeconds *float64             `json:"first_response_seconds,omitempty"`
	LeadTimeSeconds      *float64             `json:"lead_time_seconds,omitempty"`
}

func requestView(r store.Request, history bool) apiRequestView {
	v := apiRequestView{Ref: rid(r.ID), Request: r}
	if history {
		v.History = r.History
	}
	if d, ok := r.FirstResponseTime(); ok {
		s := d.Seconds()
		v.FirstResponseSeconds = &s
	}
	if d, ok := r.LeadTime(); ok {
		s := d.Seconds()
		v.LeadTimeSeconds = &s
	}
	return v
}

// maxListPage is the highest page number a listing takes, in chat and in the API: (page-1)*per stays far from
// overflowing an int.
const maxListPage = 1_000_000_000

// apiRequests lists requests, from the same listings as !request list: ?state=open (default: todo, doing and
// blocked, oldest first), todo, doing, blocked, done or cancelled (most recently closed first), all (oldest
// first); done, cancelled and all are paged with ?page=N (from 1) and ?per_page=N (default 100, at most 1000).
func (q *Requests) apiRequests(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	state := query.Get("state")
	if state == "" {
		state = "open"
	}
	page, err1 := positiveQueryInt(query.Get("page"), 1)
	per, err2 := positiveQueryInt(query.Get("per_page"), 100)
	if err := errors.Join(err1, err2); err != nil || per > 1000 || page > maxListPage {
		WriteError(w, http.StatusBadRequest, "page and per_page must be positive integers, page at most 1000000000, per_page at most 1000")
		return
	}
	if !closedListing(state) {
		page, per = 1, 0 // open listings come whole
	}
	l, ok, err := q.listing(state, "", page, per)
	switch {
	case !ok || state == "mine":
		WriteError(w, http.StatusBadRequest, "state must be open, todo, doing, blocked, done, cancelled or all")
		return
	case err != nil:
		q.rt.fail(w, "requests", err)
		return
	}
	if per == 0 {
		per = len(l.Requests)
	}
	views := make([]apiRequestView, 0, len(l.Requests))
	for _, x := range l.Requests {
		views = append(views, requestView(x, false))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"state": state, "page": page, "per_page": per, "total": l.Total, "requests": views})
}

// apiRequest is one request with its history: /api/v1/requests/R-12 (or r12, or 12).
func (q *Requests) apiRequest(w http.ResponseWriter, r *http.Request) {
	id, err := chat.ParseID(chat.KindRequest, r.PathValue("id"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "not a request id (like R-12)")
		return
	}
	req, err := q.st.Request(id)
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "no request "+rid(id))
		return
	}
	if err != nil {
		q.rt.fail(w, "request", err)
		return
	}
	WriteJSON(w, http.StatusOK, requestView(req, true))
}

func positiveQueryInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New("not a positive integer")
	}
	return n, nil
}
