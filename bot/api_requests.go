package bot

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// mountRequests serves the request family's read-only JSON API.
func (b *Bot) mountRequests(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/requests", b.requireToken(http.HandlerFunc(b.apiRequests)))
	mux.Handle("GET /api/v1/requests/{id}", b.requireToken(http.HandlerFunc(b.apiRequest)))
}

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
	v := apiRequestView{Ref: chat.FormatID(chat.KindRequest, r.ID), Request: r}
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

// apiRequests lists requests: ?state=open (default: todo, doing and blocked, oldest first), todo, doing,
// blocked, done or cancelled (most recently closed first), all (oldest first); done, cancelled and all are
// paged with ?page=N (from 1) and ?per_page=N (default 100, at most 1000).
func (b *Bot) apiRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	page, err1 := positiveQueryInt(q.Get("page"), 1)
	per, err2 := positiveQueryInt(q.Get("per_page"), 100)
	if err := errors.Join(err1, err2); err != nil || per > 1000 || page > 1_000_000_000 {
		writeJSONError(w, http.StatusBadRequest, "page and per_page must be positive integers, page at most 1000000000, per_page at most 1000")
		return
	}
	var (
		rs    []store.Request
		total int
		err   error
	)
	switch st := store.RequestState(state); {
	case state == "open" || st.Open():
		if state == "open" {
			st = ""
		}
		rs, err = b.store.OpenRequests(st)
		total, page, per = len(rs), 1, len(rs)
	case st == store.RequestDone || st == store.RequestCancelled:
		rs, total, err = b.store.ClosedRequests(st, page, per)
	case state == "all":
		rs, total, err = b.store.RequestsPage(page, per)
	default:
		writeJSONError(w, http.StatusBadRequest, "state must be open, todo, doing, blocked, done, cancelled or all")
		return
	}
	if err != nil {
		b.apiStoreFailed(w, "requests", err)
		return
	}
	views := make([]apiRequestView, 0, len(rs))
	for _, x := range rs {
		views = append(views, requestView(x, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": state, "page": page, "per_page": per, "total": total, "requests": views})
}

// apiRequest is one request with its history: /api/v1/requests/R-12 (or r12, or 12).
func (b *Bot) apiRequest(w http.ResponseWriter, r *http.Request) {
	id, err := chat.ParseID(chat.KindRequest, r.PathValue("id"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "not a request id (like R-12)")
		return
	}
	req, err := b.store.Request(id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no request "+chat.FormatID(chat.KindRequest, id))
		return
	}
	if err != nil {
		b.apiStoreFailed(w, "request", err)
		return
	}
	writeJSON(w, http.StatusOK, requestView(req, true))
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

func (b *Bot) apiStoreFailed(w http.ResponseWriter, what string, err error) {
	b.metrics.storeFailed(err)
	b.o.Log.Error("http: api failed", "what", what, "err", err)
	writeJSONError(w, http.StatusInternalServerError, "internal error (see the log)")
}
