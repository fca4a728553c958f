package commands

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// pagingMsg is one announcement (To "" = the channel) or private message recorded by pagingAnnouncer.
type pagingMsg struct {
	To     string
	Text   string
	Urgent bool
}

type pagingAnnouncer struct {
	mu   sync.Mutex
	msgs []pagingMsg
	fail int // the next fail calls fail, as a failed outbox commit would
	ok   int // ... after ok more calls succeed
}

// failAfter makes the call after the next n fail.
func (a *pagingAnnouncer) failAfter(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok, a.fail = n, 1
}

func (a *pagingAnnouncer) Announce(channel, text string, urgent bool) error {
	return a.record(pagingMsg{To: channel, Text: text, Urgent: urgent})
}

func (a *pagingAnnouncer) Notify(nick, text string, urgent bool) error {
	return a.record(pagingMsg{To: nick, Text: text, Urgent: urgent})
}

func (a *pagingAnnouncer) record(m pagingMsg) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ok > 0 {
		a.ok--
	} else if a.fail > 0 {
		a.fail--
		return errors.New("outbox: no space left on device")
	}
	a.msgs = append(a.msgs, m)
	return nil
}

// take returns and forgets what was recorded.
func (a *pagingAnnouncer) take() []pagingMsg {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.msgs
	a.msgs = nil
	return m
}

// pagingHarness runs the real dispatcher over a real store with an injected clock.
type pagingHarness struct {
	t       *testing.T
	path    string
	st      *store.Store
	now     time.Time
	ann     *pagingAnnouncer
	cfg     PagingConfig
	catalog pagingCatalog // nil: no catalogue
	handoff HandoffConfig
	digest  []DigestSource
	disp    *Dispatcher
	deps    testDeps
	jobs    []Job
	wakes   int
}

var pagingStockholm = func() *time.Location {
	l, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return l
}()

// newPagingHarness starts on Wednesday 25 March 2026, 13:00 CET: alice's week in the rotation [alice, carol]
// (handoff Mon 10:00 Europe/Stockholm).
func newPagingHarness(t *testing.T, tweak func(*PagingConfig)) *pagingHarness {
	h := &pagingHarness{t: t, path: filepath.Join(t.TempDir(), "opsbot.db"), now: pagingTime("2026-03-25T12:00:00Z"), ann: &pagingAnnouncer{}}
	h.cfg = PagingConfig{
		Rotation:   store.Rotation{Accounts: []string{"alice", "carol"}, Weekday: time.Monday, At: 10 * time.Hour, Location: pagingStockholm},
		AckTimeout: 5 * time.Minute, Escalation: []string{"next"}, MaxEscalations: 2, DedupeWindow: 10 * time.Minute, RateLimit: 10,
		MaxOverride: 24 * time.Hour, Ops: []string{"alice", "carol"},
	}
	if tweak != nil {
		tweak(&h.cfg)
	}
	h.open()
	t.Cleanup(func() { h.st.Close() })
	return h
}

func pagingTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// open (re)opens the store and rebuilds the registry, dispatcher and jobs, like a bot starting.
func (h *pagingHarness) open() {
	st, err := store.Open(h.path, store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	st.Now = func() time.Time { return h.now }
	h.st = st
	cfg := h.cfg
	cfg.Wake = func() { h.wakes++ }
	h.deps = testDeps{Store: st, Announce: h.ann, Prefix: "!", Version: "test", Now: func() time.Time { return h.now },
		Location: pagingStockholm, Channel: "#operations", Paging: cfg, Handoff: h.handoff, Digest: h.digest}
	if h.catalog != nil {
		h.deps.Catalog, h.deps.Routes = h.catalog, h.catalog
	}
	reg, jobs, err := buildAll(h.deps)
	if err != nil {
		h.t.Fatal(err)
	}
	h.jobs = jobs
	h.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil), Audit: st,
		Now: func() time.Time { return h.now }})
	// The paging family's contracts, as the composition root hands them to the other families.
	p := NewPaging(h.deps.runtime(), st, cfg, PagingLinks{Catalog: h.deps.Routes})
	h.deps.OnCall, h.deps.Pager = p, p
}

// restart closes the store and opens it again (a bot restart).
func (h *pagingHarness) restart() {
	h.st.Close()
	h.open()
}

// say runs a command as account in channel ("" = private) and returns the reply lines and error lines.
func (h *pagingHarness) say(account, channel, text string) (lines, errs []string) {
	h.t.Helper()
	var b Buffer
	h.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: account, Nick: account}, Channel: channel, Text: text}, &b)
	return b.Lines, b.Errors
}

// one runs a command that must answer exactly one line (reply or error) and returns it.
func (h *pagingHarness) one(account, channel, text string) string {
	h.t.Helper()
	lines, errs := h.say(account, channel, text)
	all := append(lines, errs...)
	if len(all) != 1 {
		h.t.Fatalf("%s: %q answered %q, want one line", account, text, all)
	}
	return all[0]
}

// tick runs the named job at the harness's clock; it must succeed.
func (h *pagingHarness) tick(name string) {
	h.t.Helper()
	if err := h.tickErr(name); err != nil {
		h.t.Fatalf("job %s: %v", name, err)
	}
}

// tickErr runs the named job at the harness's clock and returns its error.
func (h *pagingHarness) tickErr(name string) error {
	h.t.Helper()
	for _, j := range h.jobs {
		if j.Name == name {
			return j.Run(context.Background(), h.now)
		}
	}
	h.t.Fatalf("no job %q", name)
	return nil
}

// expect checks the recorded announcements and private messages, in order, and forgets them.
func (h *pagingHarness) expect(want ...pagingMsg) {
	h.t.Helper()
	got := h.ann.take()
	if len(got) != len(want) {
		h.t.Fatalf("announced %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			h.t.Errorf("message %d = %+v\n                   want %+v", i, got[i], want[i])
		}
	}
}

// zw is a nick as listed without highlight.
func pgNick(nick string) string { return chat.NoHighlight(nick) }

func pagingAnn(text string, urgent bool) pagingMsg {
	return pagingMsg{To: "", Text: text, Urgent: urgent}
}

func pagingPriv(nick, text string, urgent bool) pagingMsg {
	return pagingMsg{To: nick, Text: text, Urgent: urgent}
}

func pagingContains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (a *pagingAnnouncer) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}
