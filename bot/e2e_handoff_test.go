package bot

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// digestStandIn is a digest source of a family not on this branch (alert groups, maintenance windows).
type digestStandIn struct {
	name, summary, item string
}

func (d digestStandIn) DigestName() string { return d.name }

func (d digestStandIn) Digest(string, time.Time, time.Time) (commands.DigestPart, error) {
	return commands.DigestPart{Summary: d.summary, Items: []string{d.item}}, nil
}

// handoffOptions: alice and carol take turns weekly (Monday 10:00 UTC), the clock is the test's; pages do not
// escalate and requests do not nag during the test.
func handoffOptions(t *testing.T, addr string, clock *testClock) Options {
	o := pagingOptions(t, addr, "", 72*time.Hour)
	o.Paging.Rotation.Accounts = []string{"alice", "carol"}
	o.Paging.MaxOverride = 48 * time.Hour
	o.Requests.NagAfter = 1000 * time.Hour
	o.Now = clock.Now
	return o
}

// Monday 30 March 2026, 10:00 UTC: alice hands over to carol.
var handoffAt = time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC)

// TestE2EHandoffDigestOnceAcrossRestart: the bot is down at the handoff instant and comes back exactly then;
// carol gets the digest with each kind of content, the channel the one line with its counts, once; a
// restart right after repeats nothing.
func TestE2EHandoffDigestOnceAcrossRestart(t *testing.T) {
	n := irctest.Start(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	clock := newTestClock(handoffAt.Add(-24*time.Hour - time.Minute)) // ages at the handoff: a day and some seconds
	o := handoffOptions(t, n.Addr, clock)
	o.Digest = []commands.DigestSource{
		digestStandIn{"alerts", "1 alert group firing", "P-9 HighLatency playlist firing 20m"},
		digestStandIn{"maintenance", "", "M-2 storage 02:00-04:00 tomorrow, silence S-1"},
	}
	rb := botOn(t, path, o)
	alice := joinedClient(t, n, "alice", true)
	carol := joinedClient(t, n, "carol", true)
	bob := joinedClient(t, n, "bob", true)

	// Alice's shift leaves things behind.
	for _, step := range []struct {
		who  *irctest.Client
		text string
		want string
	}{
		{bob, "!page db is down", "P-1 paging alice"},
		{bob, "!page payments queue", "P-1 updated"}, // deduped into P-1
		{alice, "!page disk full on db2", "P-2 paging alice"},
		{alice, "!ack P-2", "P-2 acked"},
		{alice, "!incident declare sev2 playlist 500s on play", "INC-1 declared"},
		{bob, "!request open rotate the certs", "R-1 opened"},
		{bob, "!request open new bucket for logs", "R-2 opened"},
		{alice, "!request take R-2", "R-2 taken"},
		{alice, "!request block R-2 waiting for the vendor", "R-2 blocked"},
		{alice, "!deploy start playlist 1.42", "D-1 playlist 1.42 started"},
		{alice, "!deploy rollback playlist 1.41 500s", "rolled back"},
	} {
		step.who.Say("#operations", step.text)
		step.who.Expect(wait, irctest.FromContaining("opsbot", step.want))
	}
	stopBot(t, rb)

	clock.Set(handoffAt)
	rb = botOn(t, path, o)
	l := alice.Expect(wait, irctest.FromContaining("opsbot", "takes over"))
	want := "on call: carol takes over from a\u200blice until Mon 6 Apr 10:00 UTC (in 6d23h), next: a\u200blice; " +
		"2 pages open, INC-1 open, 1 alert group firing, 1 request waiting, 1 blocked, 1 rollback, 1 lock: !handoff"
	if l.Msg.Params[0] != "#operations" || l.Text() != want {
		t.Fatalf("channel line = %q in %s\nwant %q", l.Text(), l.Msg.Params[0], want)
	}
	digest := carol.Collect(3*time.Second, privateFromBot("carol", ""))
	var got []string
	for _, l := range digest {
		got = append(got, l.Text())
	}
	wantDigest := []string{
		"handoff from a\u200blice: pages: P-1 open 1d, paging a\u200blice: db is down; P-2 acked by a\u200blice, open 1d: disk full on db2",
		"incidents: INC-1 SEV2 playlist investigating for 1d: 500s on play (commander a\u200blice)",
		"alerts: P-9 HighLatency playlist firing 20m",
		"requests: oldest todo R-1 (1d): rotate the certs; R-2 blocked 1d: waiting for the vendor (new bucket for logs)",
		"deploys: D-1 playlist rolled back 1.42 -> 1.41: 500s; playlist locked (rolled back from 1.42, by a\u200blice)",
		"maintenance: M-2 storage 02:00-04:00 tomorrow, silence S-1",
	}
	if strings.Join(got, "\n") != strings.Join(wantDigest, "\n") {
		t.Fatalf("carol's digest:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDigest, "\n"))
	}

	// A restart right after the handoff: nothing again.
	stopBot(t, rb)
	rb = botOn(t, path, o)
	if again := carol.Collect(3*time.Second, func(l irctest.Line) bool {
		return irctest.FromContaining("opsbot", "takes over")(l) || privateFromBot("carol", "")(l)
	}); len(again) != 0 {
		t.Fatalf("after a restart: %q", again[0].Text())
	}
	// !handoff shows the digest on demand, to anyone.
	bob.Say("#operations", "!handoff")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "handoff:")); !strings.HasPrefix(l.Text(), "handoff: c\u200barol on call until Mon 6 Apr 10:00 UTC, then a\u200blice: pages: P-1 open") {
		t.Errorf("!handoff = %q", l.Text())
	}
	bob.Say("#operations", "!handoff dbb")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "bob: ")); l.Text() != `bob: error: no schedule "dbb" (schedules: ops)` {
		t.Errorf("!handoff dbb = %q", l.Text())
	}
}

// TestE2EShiftReminderAndMovedShiftOnce: with oncall.remind_before = 24h carol is reminded once, a day before
// her shift, also across a restart; an override that moves her shift tells her once, with the old and new
// times, and she is reminded again of the new start.
func TestE2EShiftReminderAndMovedShiftOnce(t *testing.T) {
	n := irctest.Start(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	clock := newTestClock(handoffAt.Add(-72 * time.Hour))
	o := handoffOptions(t, n.Addr, clock)
	o.Handoffs.RemindBefore = 24 * time.Hour
	rb := botOn(t, path, o)
	alice := joinedClient(t, n, "alice", true)
	carol := joinedClient(t, n, "carol", true)
	carolHears := func(d time.Duration) []string {
		var out []string
		for _, l := range carol.Collect(d, privateFromBot("carol", "")) {
			out = append(out, l.Text())
		}
		return out
	}
	if got := carolHears(2 * time.Second); len(got) != 0 { // everyone's next shift is recorded silently
		t.Fatalf("before the window carol heard %q", got)
	}

	clock.Set(handoffAt.Add(-24 * time.Hour))
	reminder := "on call: reminder, you are on call from Mon 30 Mar 10:00 UTC (in 1d) until Mon 6 Apr 10:00 UTC, taking over from a\u200blice (!handoff shows what is open)"
	if l := carol.Expect(wait, privateFromBot("carol", "reminder")); l.Text() != reminder {
		t.Fatalf("reminder = %q\nwant %q", l.Text(), reminder)
	}
	stopBot(t, rb)
	clock.Set(handoffAt.Add(-24*time.Hour + 2*time.Second))
	rb = botOn(t, path, o)
	if got := carolHears(3 * time.Second); len(got) != 0 {
		t.Fatalf("after a restart carol heard %q", got)
	}

	// dave takes over for 25h: carol's shift now starts at 11:00 (and some seconds).
	alice.Say("#operations", "!oncall override dave 25h")
	alice.Expect(wait, irctest.FromContaining("opsbot", "on call: dave"))
	clock.Set(clock.Now().Add(16 * time.Second)) // the next run of the job, without waiting for it
	moved := "on call: your next shift moved to Mon 30 Mar 11:00 UTC - Mon 6 Apr 10:00 UTC (was Mon 30 Mar 10:00 UTC - Mon 6 Apr 10:00 UTC)"
	if l := carol.Expect(wait, privateFromBot("carol", "moved")); l.Text() != moved {
		t.Fatalf("moved = %q\nwant %q", l.Text(), moved)
	}
	if got := carolHears(2 * time.Second); len(got) != 0 {
		t.Fatalf("after the moved notice carol heard %q", got)
	}
	// A day before the new start she is reminded again, once, across a restart.
	stopBot(t, rb)
	clock.Set(handoffAt.Add(-23*time.Hour + time.Minute))
	rb = botOn(t, path, o)
	if l := carol.Expect(wait, privateFromBot("carol", "reminder")); !strings.HasPrefix(l.Text(), "on call: reminder, you are on call from Mon 30 Mar 11:00 UTC (in 23h59m) until Mon 6 Apr 10:00 UTC, taking over from d\u200bave") {
		t.Fatalf("second reminder = %q", l.Text())
	}
	stopBot(t, rb)
	rb = botOn(t, path, o)
	if got := carolHears(3 * time.Second); len(got) != 0 {
		t.Fatalf("after another restart carol heard %q", got)
	}
	_ = rb
}

// TestE2EPageForAScheduleEscalatesWithinIt: postgres belongs to the db schedule; a page about it reaches
// db's on-call (dave), not ops' (alice), and escalates to the next in db's rotation (erin).
func TestE2EPageForAScheduleEscalatesWithinIt(t *testing.T) {
	n := irctest.Start(t)
	clock := newTestClock(time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)) // dave's week in db, alice's in ops
	o := pagingOptions(t, n.Addr, "", 2*time.Second)
	o.Now = clock.Now
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	o.Paging.Rotation.Accounts = []string{"alice", "carol"}
	o.Paging.Escalation, o.Paging.MaxEscalations = []string{"next"}, 1
	o.Paging.Schedules = []commands.Schedule{{Rotation: store.Rotation{Name: "db", Accounts: []string{"dave", "erin"},
		Weekday: time.Monday, At: 10 * time.Hour, Location: ny}}}
	o.Services.Seeds = []store.ServiceSeed{{Name: "postgres", Owner: "team-db", Schedule: "db"}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	dave := joinedClient(t, n, "dave", true)
	erin := joinedClient(t, n, "erin", true)
	bob := joinedClient(t, n, "bob", true)

	bob.Say("#operations", "!oncall db")
	if l := bob.Expect(wait, irctest.From("opsbot")); !strings.HasPrefix(l.Text(), "on call (db): d\u200bave until Mon 14:00 UTC") {
		t.Errorf("!oncall db = %q", l.Text())
	}
	bob.Say("#operations", "!page postgres replication lag 5m")
	if l := dave.Expect(wait, irctest.FromContaining("opsbot", "P-1")); l.Text() != "P-1 paging dave: [postgres] replication lag 5m (ack with !ack P-1 within 2s)" || l.Msg.Params[0] != "#operations" {
		t.Fatalf("page = %q in %s", l.Text(), l.Msg.Params[0])
	}
	dave.Expect(wait, privateFromBot("dave", "P-1 page from b\u200bob: [postgres] replication lag 5m"))
	l := erin.Expect(wait, irctest.FromContaining("opsbot", "escalated"))
	if want := "P-1 escalated to erin (step 1/1, d\u200bave did not ack within 2s): [postgres] replication lag 5m (ack with !ack P-1 within 2s)"; l.Text() != want {
		t.Fatalf("escalation = %q\nwant %q", l.Text(), want)
	}
	erin.Expect(wait, privateFromBot("erin", "escalated to you"))
	erin.Say("#operations", "!ack")
	erin.Expect(wait, irctest.FromContaining("opsbot", "P-1 acked by erin"))
	bob.Say("#operations", "!service postgres")
	if l := bob.Expect(wait, irctest.FromContaining("opsbot", "postgres:")); !strings.Contains(l.Text(), "schedule db") {
		t.Errorf("!service postgres = %q", l.Text())
	}
	bob.Say("#operations", "!oncall dbb")
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != `bob: error: no schedule "dbb", did you mean db? (schedules: ops, db)` {
		t.Errorf("!oncall dbb = %q", l.Text())
	}
}

// TestE2EScheduleHandoffAcrossDST: a schedule in New York hands over at Monday 10:00 local time, which is
// 14:00 UTC after the spring change (8 March 2026) and 15:00 UTC after the autumn one (1 November).
func TestE2EScheduleHandoffAcrossDST(t *testing.T) {
	n := irctest.Start(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(time.Date(2026, 3, 9, 13, 59, 30, 0, time.UTC))
	o := pagingOptions(t, n.Addr, "", time.Hour)
	o.Now, o.Location = clock.Now, ny
	o.Paging.Schedules = []commands.Schedule{{Rotation: store.Rotation{Name: "db", Accounts: []string{"dave", "erin"},
		Weekday: time.Monday, At: 10 * time.Hour, Location: ny}}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	_ = joinedClient(t, n, "dave", true)
	_ = joinedClient(t, n, "erin", true)
	handoffs := func(d time.Duration) []string {
		var out []string
		for _, l := range bob.Collect(d, irctest.FromContaining("opsbot", "takes over")) {
			out = append(out, l.Text())
		}
		return out
	}
	if got := handoffs(2 * time.Second); len(got) != 0 { // 09:59:30 EDT: the first run records silently
		t.Fatalf("before the handoff: %q", got)
	}
	clock.Set(time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC)) // 10:00 EDT (10:00 EST would be 15:00 UTC)
	if got := handoffs(3 * time.Second); len(got) != 1 || !strings.HasPrefix(got[0], "on call (db): dave takes over from e\u200brin until Mon 16 Mar 10:00 EDT") {
		t.Fatalf("spring handoff = %q", got)
	}
	clock.Set(time.Date(2026, 10, 28, 12, 0, 0, 0, time.UTC)) // erin's week: announced late, as a missed handoff
	if got := handoffs(3 * time.Second); len(got) != 1 || !strings.HasPrefix(got[0], "on call (db): erin takes over from d\u200bave") {
		t.Fatalf("late handoff = %q", got)
	}
	clock.Set(time.Date(2026, 11, 2, 14, 59, 30, 0, time.UTC)) // 09:59:30 EST
	if got := handoffs(2 * time.Second); len(got) != 0 {
		t.Fatalf("an hour early (10:00 EDT would be 14:00 UTC): %q", got)
	}
	clock.Set(time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)) // 10:00 EST
	if got := handoffs(3 * time.Second); len(got) != 1 || !strings.HasPrefix(got[0], "on call (db): dave takes over from e\u200brin until Mon 9 Nov 10:00 EST") {
		t.Fatalf("autumn handoff = %q", got)
	}
}
