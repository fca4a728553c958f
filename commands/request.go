package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
	"github.com/prometheus/client_golang/prometheus"
)

// RequestStore is what the request family needs from the store (*store.Store implements it).
type RequestStore interface {
	OpenRequest(requester, text, service string, urgent bool) (store.Request, error)
	Request(id uint64) (store.Request, error)
	UpdateRequest(id uint64, ch store.RequestChange) (store.Request, error)
	OpenRequests(state store.RequestState) ([]store.Request, error)
	ClosedRequests(st store.RequestState, page, per int) ([]store.Request, int, error)
	RequestsPage(page, per int) ([]store.Request, int, error)
	RequestsOf(account string) ([]store.Request, error)
	RequestBoard(n int, since time.Time) (store.RequestBoard, error)
	RequestStats(from, to time.Time) (store.RequestStats, error)
	ClaimRequestNags(now time.Time, after time.Duration) ([]store.Request, error)
	UndoRequestNags(now time.Time, before []store.Request) error
	RequestMetrics() (store.RequestMetrics, error)
}

// Defaults for the [requests] config section.
const (
	DefaultRequestWIPLimit = 3
	DefaultRequestNagAfter = 30 * time.Minute
)

// RequestConfig is the [requests] config section.
type RequestConfig struct {
	// WIPLimit is how many requests one ops person may have in doing (0: DefaultRequestWIPLimit).
	WIPLimit int
	// NagAfter is how long a request waits in todo before the on-call is reminded (0: DefaultRequestNagAfter).
	NagAfter time.Duration
}

// maxRequestText caps a request's text, a comment, a block reason or a done note.
const maxRequestText = 400

// Requests is the request family: the ops kanban. It is also a source of the meeting agendas.
type Requests struct {
	rt       Runtime
	st       RequestStore
	wip      int
	nagAfter time.Duration
	onCall   OnCall  // who is on duty (nil: not named)
	catalog  Catalog // checks --service (nil: any well-formed name)
}

// NewRequests builds the request family; onCall names the person on duty and receives the nags, catalog
// checks --service names.
func NewRequests(rt Runtime, st RequestStore, cfg RequestConfig, onCall OnCall, catalog Catalog) *Requests {
	q := &Requests{rt: rt.withDefaults(), st: st, wip: cfg.WIPLimit, nagAfter: cfg.NagAfter, onCall: onCall, catalog: catalog}
	if q.wip <= 0 {
		q.wip = DefaultRequestWIPLimit
	}
	if q.nagAfter <= 0 {
		q.nagAfter = DefaultRequestNagAfter
	}
	return q
}

// WIPLimit is requests.wip_limit, the most requests one ops person may have in doing.
func (q *Requests) WIPLimit() int { return q.wip }

// Family offers !request and !board, the nag job, GET /api/v1/requests and the request metrics.
func (q *Requests) Family() Family {
	id := func(args string) string { return "<R-12> " + args }
	force := []Flag{{Name: "force"}}
	cmds := []*Command{
		{Name: "request open", Args: "<text> [--service S] [--urgent]", Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: -1,
			Help:  "Asks ops for something; the request goes to todo and the person on call is named.",
			Flags: []Flag{{Name: "service", Value: true}, {Name: "urgent"}}, Run: q.open},
		{Name: "request list", Args: "[todo|doing|blocked|done|cancelled|mine|all] [--page N]", Role: RoleAnyone, MaxArgs: 1,
			Help:  "Lists requests oldest first with age and assignee (default: everything not done).",
			Flags: []Flag{{Name: "page", Value: true}}, Run: q.list, Page: "/board"},
		{Name: "request show", Args: "<R-12>", Role: RoleAnyone, MinArgs: 1, MaxArgs: 1,
			Help: "Shows a request and its history.", Run: q.show, Page: "/board"},
		{Name: "request comment", Args: id("<text>"), Role: RoleDeveloper, Write: true, MinArgs: 2, MaxArgs: -1,
			Help: "Adds a comment to a request.", Run: q.comment},
		{Name: "request take", Args: "<R-12> [--force]", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Flags: force,
			Help: "Takes a request (to doing), within your WIP limit unless --force.", Run: q.take},
		{Name: "request assign", Args: "<R-12> <account> [--force]", Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Flags: force,
			Help: "Gives a request to an ops account (to doing), within their WIP limit unless --force.", Run: q.assign},
		{Name: "request block", Args: id("<reason>"), Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: -1,
			Help: "Marks a request in doing as blocked, with the reason.", Run: q.block},
		{Name: "request done", Args: "<R-12> [note]", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: -1,
			Help: "Marks a request done, with an optional note.", Run: q.done},
		{Name: "request reopen", Args: "<R-12>", Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1,
			Help: "Puts a done or cancelled request back in todo.", Run: q.reopen},
		{Name: "request cancel", Args: "<R-12>", Role: RoleDeveloper, Write: true, MinArgs: 1, MaxArgs: 1,
			Help: "Cancels a request (its requester or ops).", Run: q.cancel},
		{Name: "request stats", Args: "[7d]", Role: RoleAnyone, MaxArgs: 1,
			Help: "Opened, done, median first response and lead time, and the share of urgent requests over a window.", Run: q.stats},
		{Name: "board", Role: RoleAnyone,
			Help: "The ops kanban in four lines: counts and oldest items per column, WIP per ops person.", Run: q.board, Page: "/board"},
	}
	every := min(time.Minute, max(time.Second, q.nagAfter/6))
	return Family{
		Name:     "requests",
		Commands: cmds,
		Jobs:     []Job{{Name: "request nag", Every: every, Run: q.nag}},
		Routes: []Route{
			{Pattern: "GET /api/v1/requests", Handler: http.HandlerFunc(q.apiRequests)},
			{Pattern: "GET /api/v1/requests/{id}", Handler: http.HandlerFunc(q.apiRequest)},
		},
		Collectors: []prometheus.Collector{newRequestCollector(q.st)},
	}
}

func (q *Requests) open(_ context.Context, c *Call, w Replier) error {
	text, err := requestText(c.Rest(0), "request text")
	if err != nil {
		return err
	}
	var extras []string
	if c.Bool("urgent") {
		extras = append(extras, "Urgent")
	}
	service := ""
	if name, ok := c.Flag("service"); ok {
		var shown string
		if service, shown, err = q.service(name); err != nil {
			return err
		}
		extras = append(extras, shown)
	}
	r, err := q.st.OpenRequest(c.Caller.Account, text, service, c.Bool("urgent"))
	if err != nil {
		return err
	}
	if duty := q.onDuty(r.Opened); duty != "" {
		extras = append(extras, "On duty: "+duty)
	}
	line := fmt.Sprintf("%s opened by %s: %s [todo]", rid(r.ID), r.Requester, r.Text)
	if len(extras) > 0 {
		line += ". " + strings.Join(extras, ". ")
	}
	w.Reply(line)
	return nil
}

// onDuty names the person on call at t (plainly: they must act), "nobody on call", or "" when the on-call
// family is not wired in.
func (q *Requests) onDuty(t time.Time) string {
	if q.onCall == nil {
		return ""
	}
	who, ok, err := q.onCall.OnCallAt(t)
	switch {
	case err != nil:
		return "unknown (on-call lookup failed)"
	case !ok || who == "":
		return "nobody on call"
	}
	return who
}

// service checks a --service name against the catalogue and returns it with how the reply shows it
// ("Service playlist, owner c​arol"). As for deploys and incidents, a name unknown to the catalogue is refused
// only when the catalogue lists at least one service, so a team without a catalogue can still use --service.
func (q *Requests) service(name string) (string, string, error) {
	name = strings.ToLower(name)
	if !store.ValidServiceName(name) {
		return "", "", Errorf("error: %q is not a service name (letters, digits, . _ -)", chat.Truncate(name, 40))
	}
	if q.catalog == nil {
		return name, "Service " + name, nil
	}
	owner, err := q.catalog.ServiceOwner(name)
	if errors.Is(err, store.ErrNotFound) {
		names, err := q.catalog.ServiceNames()
		if err != nil {
			return "", "", fmt.Errorf("request: service names: %w", err)
		}
		if len(names) == 0 {
			return name, "Service " + name, nil
		}
		if s := Suggest(name, names); s != "" {
			return "", "", Errorf("error: no service %s in the catalogue (did you mean %s?)", name, s)
		}
		return "", "", Errorf("error: no service %s in the catalogue", name)
	}
	if err != nil {
		return "", "", fmt.Errorf("request: service owner of %s: %w", name, err)
	}
	if owner == "" {
		return name, "Service " + name + ", no owner", nil
	}
	return name, "Service " + name + ", owner " + chat.NoHighlight(owner), nil
}

// requestText checks free text (a request, comment, reason or note): not empty, not too long.
func requestText(s, what string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf("error: %s is empty", what)
	}
	if len(s) > maxRequestText {
		return "", Errorf("error: %s too long (%d bytes, at most %d)", what, len(s), maxRequestText)
	}
	return s, nil
}

// rid renders a request id: R-12.
func rid(id uint64) string { return chat.FormatID(chat.KindRequest, id) }

// change applies one change to the request named by c.Args[0] and turns the store's refusals into one line.
func (q *Requests) change(c *Call, ch store.RequestChange) (store.Request, error) {
	id, err := parseID(chat.KindRequest, c.Args[0])
	if err != nil {
		return store.Request{}, err
	}
	ch.By = c.Caller.Account
	ch.ByOps = c.Role >= RoleOps
	ch.WIPLimit = q.wip
	ch.Force = c.Bool("force")
	r, err := q.st.UpdateRequest(id, ch)
	if err != nil {
		return r, q.refusal(id, ch, err)
	}
	return r, nil
}

// refusal is the one line a user reads when the store refuses a change.
func (q *Requests) refusal(id uint64, ch store.RequestChange, err error) error {
	var te *store.TransitionError
	var we *store.WIPError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Errorf("error: no request %s", rid(id))
	case errors.Is(err, store.ErrNotRequester):
		return Errorf("error: only the requester or ops may cancel %s", rid(id))
	case errors.As(err, &we):
		who := we.Account
		if who != ch.By {
			who = chat.NoHighlight(who)
		}
		items := make([]string, len(we.Items))
		for i, r := range we.Items {
			items[i] = rid(r.ID) + " " + chat.Truncate(r.Text, 40)
		}
		return Errorf("error: %s already has %d in doing (WIP limit %d): %s; finish one or add --force",
			who, len(we.Items), we.Limit, strings.Join(items, ", "))
	case errors.As(err, &te):
		return Errorf("error: %s", transitionRefusal(te, q.rt.Prefix))
	}
	return err
}

// transitionRefusal explains an illegal transition, with what to do instead.
func transitionRefusal(te *store.TransitionError, prefix string) string {
	id := rid(te.ID)
	closed := te.State == store.RequestDone || te.State == store.RequestCancelled
	switch {
	case te.Action == store.RequestTake && te.State == store.RequestDoing:
		return fmt.Sprintf("%s is already yours (doing)", id)
	case te.Action == store.RequestAssign && !closed:
		return fmt.Sprintf("%s is already assigned to %s", id, chat.NoHighlight(te.Assignee))
	case te.Action == store.RequestReopen:
		return fmt.Sprintf("%s is still open (%s); only done or cancelled requests can be reopened", id, te.State)
	case te.Action == store.RequestBlock && te.State == store.RequestTodo:
		return fmt.Sprintf("%s is todo; take it before blocking it (%srequest take %s)", id, prefix, id)
	case te.Action == store.RequestBlock && te.State == store.RequestBlocked:
		return fmt.Sprintf("%s is already blocked", id)
	case closed && (te.Action == store.RequestFinish || te.Action == store.RequestCancel):
		return fmt.Sprintf("%s is already %s", id, te.State)
	case closed:
		return fmt.Sprintf("%s is %s; reopen it first (%srequest reopen %s)", id, te.State, prefix, id)
	}
	return fmt.Sprintf("cannot %s %s while it is %s", te.Action, id, te.State)
}

func (q *Requests) comment(_ context.Context, c *Call, w Replier) error {
	text, err := requestText(c.Rest(1), "comment")
	if err != nil {
		return err
	}
	r, err := q.change(c, store.RequestChange{Action: store.RequestComment, Text: text})
	if err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s comment added by %s [%s]", rid(r.ID), c.Caller.Account, r.State))
	return nil
}

func (q *Requests) take(_ context.Context, c *Call, w Replier) error {
	r, err := q.change(c, store.RequestChange{Action: store.RequestTake})
	if err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s taken by %s [doing]: %s (from %s)", rid(r.ID), r.Assignee, chat.Truncate(r.Text, 200), chat.NoHighlight(r.Requester)))
	return nil
}

func (q *Requests) assign(_ context.Context, c *Call, w Replier) error {
	to := q.rt.Roles.Fold(strings.TrimSpace(c.Args[1]))
	if to == "" {
		return c.Usage()
	}
	if q.rt.Roles.Of(Caller{Account: to}) < RoleOps {
		return Errorf("error: %s is not an ops account (auth.ops); only ops work requests", chat.NoHighlight(chat.Truncate(to, 40)))
	}
	r, err := q.change(c, store.RequestChange{Action: store.RequestAssign, Assignee: to})
	if err != nil {
		return err
	}
	// The new assignee must act: named plainly.
	w.Reply(fmt.Sprintf("%s assigned to %s by %s [%s]: %s", rid(r.ID), r.Assignee, c.Caller.Account, r.State, chat.Truncate(r.Text, 200)))
	return nil
}

func (q *Requests) block(_ context.Context, c *Call, w Replier) error {
	reason, err := requestText(c.Rest(1), "reason")
	if err != nil {
		return err
	}
	r, err := q.change(c, store.RequestChange{Action: store.RequestBlock, Text: reason})
	if err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s blocked by %s [blocked]: %s", rid(r.ID), c.Caller.Account, reason))
	return nil
}

func (q *Requests) done(_ context.Context, c *Call, w Replier) error {
	note := ""
	if len(c.Args) > 1 {
		var err error
		if note, err = requestText(c.Rest(1), "note"); err != nil {
			return err
		}
	}
	r, err := q.change(c, store.RequestChange{Action: store.RequestFinish, Text: note})
	if err != nil {
		return err
	}
	lead, _ := r.LeadTime()
	if note == "" {
		note = chat.Truncate(r.Text, 200)
	}
	// The requester is named plainly: it is theirs to check.
	w.Reply(fmt.Sprintf("%s done by %s [done] after %s, for %s: %s", rid(r.ID), c.Caller.Account, chat.FormatDuration(lead), r.Requester, note))
	return nil
}

func (q *Requests) reopen(_ context.Context, c *Call, w Replier) error {
	r, err := q.change(c, store.RequestChange{Action: store.RequestReopen})
	if err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s reopened by %s [todo]: %s", rid(r.ID), c.Caller.Account, chat.Truncate(r.Text, 200)))
	return nil
}

func (q *Requests) cancel(_ context.Context, c *Call, w Replier) error {
	r, err := q.change(c, store.RequestChange{Action: store.RequestCancel})
	if err != nil {
		return err
	}
	w.Reply(fmt.Sprintf("%s cancelled by %s [cancelled]: %s", rid(r.ID), c.Caller.Account, chat.Truncate(r.Text, 200)))
	return nil
}
