package bot

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// requestsAgenda is a stand-in for the requests family's AgendaSource.
type requestsAgenda struct{}

func (requestsAgenda) AgendaName() string { return "requests" }

func (requestsAgenda) Agenda(kind string, _, _ time.Time) ([]string, error) {
	if kind != "retro" {
		return nil, nil
	}
	return []string{"opened 7, done 5, median first response 12m", "oldest open R-3 (4d)"}, nil
}

// testClock is a clock the test can move; it runs at real speed from where it was set.
type testClock struct {
	mu         sync.Mutex
	base, real time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{base: t, real: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.real))
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.real = t, time.Now()
}

func reminderOptions(t *testing.T, addr string, now func() time.Time) Options {
	o := testOptions(t, addr)
	o.Now = now
	o.Reminders.Seeds = []store.Reminder{{Name: "retro", Schedule: "0 9 * * *", Channel: "#operations",
		Text: "Weekly retrospective in 15 minutes", Agenda: "retro"}}
	o.Agenda = []commands.AgendaSource{requestsAgenda{}}
	return o
}

func TestE2ERemindersRunWithLiveAgenda(t *testing.T) {
	n := irctest.Start(t)
	rb := startBot(t, reminderOptions(t, n.Addr, time.Now))
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true) // ops
	bob := joinedClient(t, n, "bob", true)     // developer

	alice.Say("#operations", "!remind run retro")
	head := bob.Expect(wait, irctest.FromContaining("opsbot", "Reminder retro"))
	if want := "Reminder retro: Weekly retrospective in 15 minutes (full agenda: !remind show retro)"; head.Text() != want || head.Msg.Params[0] != "#operations" {
		t.Fatalf("reminder = %q in %s, want %q in #operations", head.Text(), head.Msg.Params[0], want)
	}
	agenda := bob.Expect(wait, irctest.From("opsbot"))
	if want := "Agenda: requests: opened 7, done 5, median first response 12m; oldest open R-3 (4d) | incidents: no incidents this week | deploys: nothing to report"; agenda.Text() != want {
		t.Fatalf("agenda line = %q, want %q", agenda.Text(), want)
	}
	bob.Expect(wait, irctest.FromContaining("opsbot", "retro posted to #operations"))

	// A developer may not post it; bad input is one clear line.
	bob.Say("#operations", "!remind run retro")
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "bob: error: !remind run needs the ops role (you are a developer)" {
		t.Fatalf("developer run = %q", l.Text())
	}
	alice.Say("#operations", `!remind add standup "0 25 * * *" Standup`)
	if l := alice.Expect(wait, irctest.FromContaining("opsbot", "alice: ")); !strings.HasPrefix(l.Text(), `alice: error: schedule "0 25 * * *": `) {
		t.Fatalf("bad cron = %q", l.Text())
	}
	// !remind show in the channel: the full agenda arrives privately.
	bob.Say("#operations", "!remind show retro")
	l := bob.Expect(wait, func(l irctest.Line) bool {
		return irctest.From("opsbot")(l) && l.Msg.Params[0] == "bob" && strings.HasPrefix(l.Text(), "requests: oldest")
	})
	if l.Text() != "requests: oldest open R-3 (4d)" {
		t.Errorf("private agenda line = %q", l.Text())
	}
	bob.Expect(wait, irctest.FromContaining("opsbot", "retro: sent to you in private"))

	// The same agenda over HTTP.
	resp, err := http.Get("http://" + rb.HTTPAddr() + "/api/v1/reminders/retro/agenda")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got commands.ReminderAgenda
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET agenda: %d %s, %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	// Every family's section is live over HTTP as in chat: the injected requests source, then the incidents
	// and deploys families (which once read "no data" over HTTP).
	if got.Agenda == nil || len(got.Agenda.Sections) != 3 || got.Agenda.Sections[0].Lines[1] != "oldest open R-3 (4d)" ||
		got.Agenda.Sections[1].Lines[0] != "no incidents this week" || got.Agenda.Sections[2].Lines[0] != "nothing to report" {
		t.Errorf("GET agenda = %+v", got)
	}
	resp2, err := http.Get("http://" + rb.HTTPAddr() + "/api/v1/reminders/nosuch/agenda")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("GET unknown agenda = %d, want 404", resp2.StatusCode)
	}
}

// TestE2EAgendaOverHTTPEqualsChat: the scalability meeting's agenda with live incidents, availability and
// deploys is the same over HTTP as what !remind show sends in private, section by section.
func TestE2EAgendaOverHTTPEqualsChat(t *testing.T) {
	n := irctest.Start(t)
	o := testOptions(t, n.Addr)
	o.Services.Seeds = []store.ServiceSeed{{Name: "playlist", Owner: "bob", SLO: 99.9}, {Name: "search", Depends: []string{"playlist"}}}
	o.Reminders.Seeds = []store.Reminder{{Name: "scalability", Schedule: "0 9 * * WED", Channel: "#operations",
		Text: "Scalability meeting in 15 minutes", Agenda: "scalability"}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice := joinedClient(t, n, "alice", true) // ops
	for _, cmd := range []string{"!incident declare sev1 playlist 500s on play --since 2h", "!incident resolve INC-1 fixed",
		"!deploy start playlist 1.42", "!deploy done playlist", "!deploy start search 2.0", "!deploy done search", "!deploy start search 2.1", "!deploy rollback search"} {
		alice.Say("#operations", cmd)
		alice.Expect(wait, irctest.From("opsbot"))
	}
	alice.Say("opsbot", "remind show scalability")
	chat := map[string][]string{}
	for _, l := range alice.Collect(2*time.Second, irctest.From("opsbot")) {
		if src, line, ok := strings.Cut(l.Text(), ": "); ok && (src == "incidents" || src == "availability" || src == "deploys") {
			chat[src] = append(chat[src], line)
		}
	}
	_, body := httpGet(t, "http://"+rb.HTTPAddr()+"/api/v1/reminders/scalability/agenda")
	var got commands.ReminderAgenda
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Agenda == nil {
		t.Fatalf("GET agenda: %v\n%s", err, body)
	}
	if len(got.Agenda.Sections) != 3 {
		t.Fatalf("GET agenda has %d sections, want incidents, availability, deploys: %+v", len(got.Agenda.Sections), got.Agenda)
	}
	for _, s := range got.Agenda.Sections {
		if s.Status != "ok" || strings.Join(s.Lines, "\n") != strings.Join(chat[s.Source], "\n") {
			t.Errorf("section %s over HTTP (%s):\n%q\nin chat:\n%q", s.Source, s.Status, s.Lines, chat[s.Source])
		}
	}
	if a := strings.Join(chat["availability"], " "); !strings.Contains(a, "below SLO over 30d: playlist") {
		t.Errorf("availability in chat = %q, want playlist below its SLO", a)
	}
	if d := strings.Join(chat["deploys"], " "); !strings.Contains(d, "rollbacks (1)") {
		t.Errorf("deploys in chat = %q, want the rollback", d)
	}
}

// TestE2EReminderOnScheduleAndAfterReconnect: with the bot's clock moved to just before the occurrence, the
// reminder arrives on its own; due while the bot is disconnected, it is kept in the outbox and arrives once
// after reconnecting.
func TestE2EReminderOnScheduleAndAfterReconnect(t *testing.T) {
	n := irctest.Start(t)
	g := newGate(t, n.Addr)
	day1 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	clock := newTestClock(day1)
	rb := startBot(t, reminderOptions(t, g.Addr(), clock.Now))
	rb.waitJoined(t, "#operations")
	c := joinedClient(t, n, "erin", false)

	clock.Set(day1.Add(59*time.Minute + 58*time.Second)) // 08:59:58; due at 09:00
	c.Expect(wait, irctest.FromContaining("opsbot", "Reminder retro: Weekly retrospective"))
	if extra := c.Collect(2500*time.Millisecond, irctest.FromContaining("opsbot", "Reminder retro")); len(extra) != 0 {
		t.Fatalf("posted again: %q", extra[0].Text())
	}

	g.setOpen(false)
	g.closeAll()
	deadline := time.Now().Add(wait)
	for rb.t.IRCStatus().Connected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rb.t.IRCStatus().Connected {
		t.Fatal("bot still connected after the link was cut")
	}
	clock.Set(day1.Add(24*time.Hour + 59*time.Minute + 58*time.Second)) // next day, 08:59:58
	for deadline = time.Now().Add(wait); outboxLen(rb.Store) < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := outboxLen(rb.Store); got != 2 {
		t.Fatalf("outbox holds %d lines while disconnected, want the reminder's 2", got)
	}
	g.setOpen(true)
	rb.waitJoined(t, "#operations")
	got := c.Collect(3*time.Second, irctest.FromContaining("opsbot", "Reminder retro"))
	if len(got) != 1 {
		t.Fatalf("reminder arrived %d times after reconnect, want once", len(got))
	}
	if n := outboxLen(rb.Store); n != 0 {
		t.Errorf("outbox still holds %d lines", n)
	}
}
