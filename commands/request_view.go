package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// requestPageSize is how many requests one page of a listing shows.
const requestPageSize = 20

func (q *Requests) list(_ context.Context, c *Call, w Replier) error {
	which := "open"
	if len(c.Args) == 1 {
		which = strings.ToLower(c.Args[0])
	}
	page, paged := 1, c.Private()
	if v, ok := c.Flag("page"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListPage { // (page-1)*per must not overflow
			return c.Usage()
		}
		page, paged = n, true
	}
	if which == "mine" && c.Caller.Anonymous() {
		return Errorf("error: log in to NickServ first (this bot trusts accounts, not nicks)")
	}
	per := 0 // a channel gets an open listing whole (the line budget cuts it), a private one page by page
	if paged || closedListing(which) {
		per = requestPageSize
	}
	l, ok, err := q.listing(which, c.Caller.Account, page, per)
	switch {
	case !ok:
		return c.Usage()
	case err != nil:
		return err
	case l.Total == 0 && !closedListing(which):
		w.Reply(emptyList(which))
		return nil
	case !closedListing(which) && (!paged || l.Total <= requestPageSize && page == 1):
		now := q.rt.Now()
		for _, r := range l.Requests {
			w.Reply(requestLine(r, now))
		}
		return nil
	}
	return q.replyPage(c, w, which, l, page)
}

// requestListing is one page of a listing of requests, as chat and the API give it.
type requestListing struct {
	Requests []store.Request
	Total    int    // requests in the whole listing
	Order    string // "oldest first" or "most recently closed first"
}

// closedListing reports whether a listing is of closed requests, which are many: the store pages them.
func closedListing(which string) bool {
	return which == "done" || which == "cancelled" || which == "all"
}

// listing reads page page (from 1) of per requests of a listing: open, todo, doing, blocked or mine (the
// requests account asked for or works on), oldest first; done or cancelled, most recently closed first; all,
// oldest first. per 0 gives an open listing whole. ok is false for a listing of another name. Chat's
// !request list and GET /api/v1/requests both read here.
func (q *Requests) listing(which, account string, page, per int) (l requestListing, ok bool, err error) {
	switch which {
	case "open", "todo", "doing", "blocked", "mine":
		l.Order = "oldest first"
		if which == "mine" {
			l.Requests, err = q.st.RequestsOf(account)
		} else {
			state := store.RequestState(which)
			if which == "open" {
				state = ""
			}
			l.Requests, err = q.st.OpenRequests(state)
		}
		l.Total = len(l.Requests)
		if per > 0 {
			from := min((page-1)*per, l.Total)
			l.Requests = l.Requests[from:min(from+per, l.Total)]
		}
	case "done", "cancelled":
		l.Order = "most recently closed first"
		l.Requests, l.Total, err = q.st.ClosedRequests(store.RequestState(which), page, per)
	case "all":
		l.Order = "oldest first"
		l.Requests, l.Total, err = q.st.RequestsPage(page, per)
	default:
		return l, false, nil
	}
	return l, true, err
}

func emptyList(which string) string {
	switch which {
	case "open":
		return "requests: nothing open"
	case "mine":
		return "requests: nothing open that you asked for or work on"
	}
	return "requests: nothing in " + which
}

// replyPage replies with a header line (range, total, order, the command for the next page) and the page.
func (q *Requests) replyPage(c *Call, w Replier, which string, l requestListing, page int) error {
	pages := max(1, (l.Total+requestPageSize-1)/requestPageSize)
	if page > pages {
		return Errorf("error: page %d is past the end (%d page%s)", page, pages, plural(pages))
	}
	if l.Total == 0 {
		w.Reply(emptyList(which))
		return nil
	}
	from := (page-1)*requestPageSize + 1
	head := fmt.Sprintf("requests %s: %d-%d of %d, %s", which, from, from+len(l.Requests)-1, l.Total, l.Order)
	if page < pages {
		arg := " " + which
		if which == "open" {
			arg = ""
		}
		head += fmt.Sprintf("; next: %srequest list%s --page %d", c.Prefix, arg, page+1)
	}
	w.Reply(head)
	now := q.rt.Now()
	for _, r := range l.Requests {
		w.Reply(requestLine(r, now))
	}
	return nil
}

// requestTag is the bracketed state: [todo] or [todo, urgent].
func requestTag(r store.Request) string {
	if r.Urgent {
		return "[" + string(r.State) + ", urgent]"
	}
	return "[" + string(r.State) + "]"
}

// requestLine is one request in a listing, nobody highlighted:
// "R-3 [todo, urgent] 2h15m, unassigned, from b​ob: disk full on db3".
func requestLine(r store.Request, now time.Time) string {
	who := "unassigned"
	if r.Assignee != "" {
		who = chat.NoHighlight(r.Assignee)
	}
	age := chat.FormatDuration(now.Sub(r.Opened))
	if !r.State.Open() {
		age = chat.FormatDuration(now.Sub(r.Closed)) + " ago"
		if r.State == store.RequestCancelled {
			who = ""
		}
	}
	parts := []string{age}
	if who != "" {
		parts = append(parts, who)
	}
	parts = append(parts, "from "+chat.NoHighlight(r.Requester))
	if lead, ok := r.LeadTime(); ok {
		parts = append(parts, "lead "+chat.FormatDuration(lead))
	}
	line := fmt.Sprintf("%s %s %s: %s", rid(r.ID), requestTag(r), strings.Join(parts, ", "), chat.Truncate(r.Text, 150))
	if r.State == store.RequestBlocked && r.BlockReason != "" {
		line += " (blocked: " + chat.Truncate(r.BlockReason, 80) + ")"
	}
	return line
}

func (q *Requests) show(_ context.Context, c *Call, w Replier) error {
	id, err := parseID(chat.KindRequest, c.Args[0])
	if err != nil {
		return err
	}
	r, err := q.st.Request(id)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf("error: no request %s", rid(id))
	}
	if err != nil {
		return err
	}
	now := q.rt.Now()
	details := []string{fmt.Sprintf("from %s %s ago", chat.NoHighlight(r.Requester), chat.FormatDuration(now.Sub(r.Opened)))}
	if r.Assignee != "" {
		details = append(details, "assignee "+chat.NoHighlight(r.Assignee))
	}
	if r.Service != "" {
		details = append(details, "service "+r.Service)
	}
	if r.BlockReason != "" {
		details = append(details, "blocked: "+chat.Truncate(r.BlockReason, 80))
	}
	if d, ok := r.FirstResponseTime(); ok {
		details = append(details, "first response "+chat.FormatDuration(d))
	}
	if d, ok := r.LeadTime(); ok {
		details = append(details, "lead time "+chat.FormatDuration(d))
	}
	events := r.History
	if !c.Private() && len(events) > 3 {
		details = append(details, fmt.Sprintf("last 3 of %d events (all in private)", len(events)))
		events = events[len(events)-3:]
	}
	text := r.Text
	if !c.Private() {
		text = chat.Truncate(text, 200)
	}
	c.Page = "/requests/" + rid(r.ID)
	w.Reply(fmt.Sprintf("%s %s %s. %s%s", rid(r.ID), requestTag(r), text, strings.Join(details, "; "), q.rt.Link(c.Page)))
	for _, ev := range events {
		w.Reply(q.eventLine(ev, now))
	}
	return nil
}

// eventLine is one history entry: "14:05 a​lice took it".
func (q *Requests) eventLine(ev store.RequestEvent, now time.Time) string {
	at := ev.At.In(q.rt.Location)
	when := at.Format("15:04")
	if y, m, d := at.Date(); y != now.In(q.rt.Location).Year() || m != now.In(q.rt.Location).Month() || d != now.In(q.rt.Location).Day() {
		when = at.Format("2006-01-02 15:04")
	}
	what := ""
	switch ev.Action {
	case store.RequestOpen:
		what = "opened it"
	case store.RequestTake:
		what = "took it"
	case store.RequestAssign:
		what = "assigned it to " + chat.NoHighlight(ev.Assignee)
	case store.RequestBlock:
		what = "blocked it: " + ev.Text
	case store.RequestFinish:
		what = "marked it done"
	case store.RequestReopen:
		what = "reopened it"
	case store.RequestCancel:
		what = "cancelled it"
	case store.RequestComment:
		what = "commented: " + ev.Text
	}
	if ev.Action == store.RequestFinish && ev.Text != "" {
		what += ": " + ev.Text
	}
	return fmt.Sprintf("%s %s %s", when, chat.NoHighlight(ev.By), chat.Truncate(what, 300))
}

// board is the kanban in at most four lines, whatever the queue's size: one per open column with its count
// and oldest items, and one with WIP per ops person and the requests done in the last seven days.
func (q *Requests) board(_ context.Context, _ *Call, w Replier) error {
	now := q.rt.Now()
	bd, err := q.st.RequestBoard(3, now.Add(-7*24*time.Hour))
	if err != nil {
		return err
	}
	open := 0
	for _, n := range bd.Counts {
		open += n
	}
	if open == 0 {
		w.Reply(fmt.Sprintf("board: nothing open; %d done in 7d", bd.DoneSince))
		return nil
	}
	for _, st := range store.OpenRequestStates {
		line := fmt.Sprintf("%s %d", st, bd.Counts[st])
		var items []string
		for _, r := range bd.Oldest[st] {
			items = append(items, boardItem(r, now))
		}
		if len(items) > 0 {
			line += ": " + strings.Join(items, ", ")
		}
		if more := bd.Counts[st] - len(items); more > 0 {
			line += fmt.Sprintf(", +%d more", more)
		}
		w.Reply(chat.Truncate(line, 350))
	}
	w.Reply(chat.Truncate(fmt.Sprintf("%s; %d done in 7d", q.wipLine(bd), bd.DoneSince), 350))
	return nil
}

// boardItem is "R-3 (2h, urgent) disk full on db3" or "R-4 (1h, a​lice) rotate certs".
func boardItem(r store.Request, now time.Time) string {
	tags := []string{chat.FormatDuration(now.Sub(r.Opened))}
	if r.Urgent {
		tags = append(tags, "urgent")
	}
	if r.Assignee != "" {
		tags = append(tags, chat.NoHighlight(r.Assignee))
	}
	return fmt.Sprintf("%s (%s) %s", rid(r.ID), strings.Join(tags, ", "), chat.Truncate(r.Text, 40))
}

// wipLine is "WIP (limit 3): a​lice 2, c​arol 1 +1 blocked": every configured ops person (in config order),
// then anyone else holding requests.
func (q *Requests) wipLine(bd store.RequestBoard) string {
	var people []string
	seen := map[string]bool{}
	for _, a := range q.rt.Roles.Ops() {
		if f := q.rt.Roles.Fold(a); !seen[f] {
			seen[f] = true
			people = append(people, f)
		}
	}
	var others []string
	for _, m := range []map[string]int{bd.Doing, bd.Blocked} {
		for a := range m {
			if !seen[a] {
				seen[a] = true
				others = append(others, a)
			}
		}
	}
	slices.Sort(others)
	var parts []string
	for _, a := range append(people, others...) {
		p := fmt.Sprintf("%s %d", chat.NoHighlight(a), bd.Doing[a])
		if n := bd.Blocked[a]; n > 0 {
			p += fmt.Sprintf(" +%d blocked", n)
		}
		parts = append(parts, p)
	}
	line := fmt.Sprintf("WIP (limit %d): ", q.wip)
	if len(parts) == 0 {
		line += "nobody"
	}
	return line + strings.Join(parts, ", ")
}

func (q *Requests) stats(_ context.Context, c *Call, w Replier) error {
	window := 7 * 24 * time.Hour
	if len(c.Args) == 1 {
		d, err := chat.ParseDuration(c.Args[0])
		if err != nil || d < time.Hour || d > 366*24*time.Hour {
			return Errorf("usage: %s (a window from 1h to 366d, like 7d or 30d)", c.Cmd.Usage(c.Prefix))
		}
		window = d
	}
	now := q.rt.Now()
	st, err := q.st.RequestStats(now.Add(-window), now.Add(time.Nanosecond))
	if err != nil {
		return err
	}
	w.Reply(statsLine(st, window, now))
	return nil
}

// statsLine is "requests, last 7d: 14 opened, 11 done, median first response 6m, median lead time 3h20m,
// interrupt rate 21% (3 of 14 urgent); oldest open R-3 (2d)".
func statsLine(st store.RequestStats, window time.Duration, now time.Time) string {
	median := func(ds []time.Duration) string {
		if m, ok := store.Median(ds); ok {
			return chat.FormatDuration(m)
		}
		return "n/a"
	}
	rate := "n/a"
	if st.Opened > 0 {
		rate = fmt.Sprintf("%d%% (%d of %d urgent)", int(math.Round(100*float64(st.Urgent)/float64(st.Opened))), st.Urgent, st.Opened)
	}
	line := fmt.Sprintf("requests, last %s: %d opened, %d done, median first response %s, median lead time %s, interrupt rate %s",
		chat.FormatDuration(window), st.Opened, st.Done, median(st.FirstResponses), median(st.LeadTimes), rate)
	if st.OldestOpen.ID != 0 {
		line += fmt.Sprintf("; oldest open %s (%s)", rid(st.OldestOpen.ID), chat.FormatDuration(now.Sub(st.OldestOpen.Opened)))
	}
	return line
}
