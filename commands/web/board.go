package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// card is one request on the board.
type card struct {
	store.Request
	Age  time.Duration // since opened (for a done request: its lead time)
	In   time.Duration // in its state
	Done bool
}

// person is one column of doing: someone's requests in doing against the WIP limit, and how many they
// have blocked.
type person struct {
	Account string
	Doing   []card
	Blocked int
	Limit   int
}

// Over reports whether the person holds more than the WIP limit.
func (p person) Over() bool { return p.Limit > 0 && len(p.Doing) > p.Limit }

// Low is where the WIP meter turns from fine to full: just below the limit.
func (p person) Low() float64 { return float64(p.Limit) - 0.5 }

// boardView is the kanban: todo, doing by person, blocked, and done this week.
type boardView struct {
	Todo, Blocked, Done []card
	People              []person
	DoingCount          int
	WeekStart           time.Time
	DoneTotal           int // done since WeekStart (Done shows at most maxDoneCards of them)
	Limit               int
}

// maxDoneCards caps the done column; the rest is counted.
const maxDoneCards = 100

// weekStart is local Monday 00:00 of the week of t.
func weekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	days := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-days, 0, 0, 0, 0, loc)
}

func (x *Web) boardData() (*boardView, error) {
	q := x.links.Requests
	if q == nil {
		return nil, nil
	}
	now := x.rt.Now()
	open, err := q.OpenRequests("")
	if err != nil {
		return nil, err
	}
	bv := &boardView{WeekStart: weekStart(now, x.zone()), Limit: x.cfg.WIPLimit}
	people := map[string]*person{}
	personOf := func(account string) *person {
		p, ok := people[account]
		if !ok {
			p = &person{Account: account, Limit: x.cfg.WIPLimit}
			people[account] = p
		}
		return p
	}
	for _, r := range open {
		c := card{Request: r, Age: now.Sub(r.Opened), In: now.Sub(r.StateSince)}
		switch r.State {
		case store.RequestTodo:
			bv.Todo = append(bv.Todo, c)
		case store.RequestDoing:
			p := personOf(r.Assignee)
			p.Doing = append(p.Doing, c)
			bv.DoingCount++
		case store.RequestBlocked:
			bv.Blocked = append(bv.Blocked, c)
			if r.Assignee != "" {
				personOf(r.Assignee).Blocked++
			}
		}
	}
	// Every ops person as configured, even with nothing in doing, then anyone else holding requests.
	ops := map[string]bool{}
	for _, a := range x.rt.Roles.Ops() {
		if a = x.rt.Roles.Fold(a); !ops[a] {
			ops[a] = true
			bv.People = append(bv.People, *personOf(a))
		}
	}
	var others []string
	for a := range people {
		if !ops[a] {
			others = append(others, a)
		}
	}
	slices.Sort(others)
	for _, a := range others {
		bv.People = append(bv.People, *people[a])
	}
	// Done this week: the closed index is newest first, so read until the week's start.
	for pg := 1; ; pg++ {
		done, _, err := q.ClosedRequests(store.RequestDone, pg, 100)
		if err != nil {
			return nil, err
		}
		stop := len(done) < 100
		for _, r := range done {
			if r.Closed.Before(bv.WeekStart) {
				stop = true
				break
			}
			bv.DoneTotal++
			if len(bv.Done) < maxDoneCards {
				bv.Done = append(bv.Done, card{Request: r, Age: r.Closed.Sub(r.Opened), Done: true})
			}
		}
		if stop {
			break
		}
	}
	return bv, nil
}

func (x *Web) board(w http.ResponseWriter, r *http.Request, v viewer) {
	bv, err := x.boardData()
	if err != nil {
		x.fail(w, r, "board", err)
		return
	}
	x.render(w, r, http.StatusOK, "board.html", page{Title: "Board", Nav: "board", Viewer: &v}, bv)
}

// eventText says what one history entry did: "took it (doing)", "blocked: waiting for the vendor".
func eventText(ev store.RequestEvent) string {
	var s string
	switch ev.Action {
	case store.RequestOpen:
		s = "opened it"
	case store.RequestTake:
		s = "took it"
	case store.RequestAssign:
		s = "assigned it to " + ev.Assignee
	case store.RequestBlock:
		s = "blocked it"
	case store.RequestFinish:
		s = "finished it"
	case store.RequestReopen:
		s = "reopened it"
	case store.RequestCancel:
		s = "cancelled it"
	case store.RequestComment:
		s = "commented"
	default:
		s = string(ev.Action)
	}
	if ev.To != "" && ev.To != ev.From && ev.Action != store.RequestComment {
		s += " (" + string(ev.To) + ")"
	}
	if ev.Text != "" && ev.Action != store.RequestOpen {
		s += ": " + ev.Text
	}
	return s
}

// requestView is one request with its whole history.
type requestView struct {
	card
	FirstResponse, LeadTime time.Duration
	HasFirst, HasLead       bool
}

func (x *Web) request(w http.ResponseWriter, r *http.Request, v viewer) {
	if x.links.Requests == nil {
		x.notFound(w, r, &v, "requests are not part of this opsbot")
		return
	}
	id, err := chat.ParseID(chat.KindRequest, r.PathValue("id"))
	if err != nil {
		x.notFound(w, r, &v, "no such request: "+r.PathValue("id"))
		return
	}
	req, err := x.links.Requests.Request(id)
	if errors.Is(err, store.ErrNotFound) {
		x.notFound(w, r, &v, "no request "+chat.FormatID(chat.KindRequest, id))
		return
	}
	if err != nil {
		x.fail(w, r, "request", err)
		return
	}
	now := x.rt.Now()
	rv := requestView{card: card{Request: req, Age: now.Sub(req.Opened), In: now.Sub(req.StateSince)}}
	rv.FirstResponse, rv.HasFirst = req.FirstResponseTime()
	rv.LeadTime, rv.HasLead = req.LeadTime()
	x.render(w, r, http.StatusOK, "request.html", page{Title: chat.FormatID(chat.KindRequest, id), Nav: "board", Viewer: &v}, rv)
}
