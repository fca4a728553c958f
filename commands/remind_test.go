package commands

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

var (
	remindOps = Caller{Account: "carol", Nick: "carol"}
	remindDev = Caller{Account: "bob", Nick: "bob"}
)

// meetings are the three meetings of config.example.toml.
var meetings = []store.Reminder{
	{Name: "retro", Schedule: "CRON_TZ=Europe/Stockholm 0 15 * * FRI", Channel: "#operations", Text: "Weekly retrospective in 15 minutes", Agenda: "retro"},
	{Name: "planning", Schedule: "CRON_TZ=Europe/Stockholm 45 9 * * MON", Channel: "#operations", Text: "Weekly planning in 15 minutes", Agenda: "planning"},
	{Name: "scalability", Schedule: "CRON_TZ=Europe/Stockholm 45 13 * * WED", Channel: "#operations", Text: "Scalability meeting in 15 minutes", Agenda: "scalability"},
}

// wed is Wednesday 25 Nov 2026, 10:00 UTC (11:00 in Stockholm).
var wed = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestRemindCommands(t *testing.T) {
	e := newRemindEnv(t, wed, mustLoc(t, "Europe/Stockholm"), meetings)
	tests := []struct {
		name    string
		caller  Caller
		channel string
		text    string
		want    []string // exact lines (replies then errors)
	}{
		{"list", anon, "#operations", "remind list", []string{
			`planning: next Mon 2026-11-30 09:45 CET; "CRON_TZ=Europe/Stockholm 45 9 * * MON" to #operations, agenda planning (config)`,
			`retro: next Fri 2026-11-27 15:00 CET; "CRON_TZ=Europe/Stockholm 0 15 * * FRI" to #operations, agenda retro (config)`,
			`scalability: next Wed 2026-11-25 13:45 CET; "CRON_TZ=Europe/Stockholm 45 13 * * WED" to #operations, agenda scalability (config)`}},
		{"next: soonest first, with zones", anon, "#operations", "remind next", []string{
			"scalability: Wed 2026-11-25 13:45 CET (Europe/Stockholm), in 2h45m, to #operations",
			"retro: Fri 2026-11-27 15:00 CET (Europe/Stockholm), in 2d4h, to #operations",
			"planning: Mon 2026-11-30 09:45 CET (Europe/Stockholm), in 4d22h, to #operations"}},
		{"next of one", anon, "", "remind next RETRO", []string{
			"retro (Europe/Stockholm) to #operations: Fri 2026-11-27 15:00 CET (in 2d4h), Fri 2026-12-04 15:00 CET, Fri 2026-12-11 15:00 CET"}},
		{"unknown name with suggestion", anon, "#operations", "remind show retor", []string{"error: no reminder retor (did you mean retro?)"}},
		{"unknown name", anon, "#operations", "remind next nosuch", []string{"error: no reminder nosuch"}},
		{"show without name", anon, "#operations", "remind show", []string{"usage: !remind show <name>"}},
		{"bare family", anon, "#operations", "remind", []string{"usage: !remind <list|next|show|add|remove|skip|run> (!help remind)"}},

		{"add refused for developers", remindDev, "#operations", `remind add standup "0 9 * * MON-FRI" Standup`,
			[]string{"error: !remind add needs the ops role (you are a developer)"}},
		{"add refused for anonymous", anon, "#operations", `remind add standup "0 9 * * MON-FRI" Standup`,
			[]string{"error: log in to NickServ first (this bot trusts accounts, not nicks)"}},
		{"add", remindOps, "#operations", `remind add standup "CRON_TZ=America/New_York 0 9 * * MON-FRI" Standup in the war room --agenda planning`,
			[]string{`standup added: "CRON_TZ=America/New_York 0 9 * * MON-FRI" (America/New_York) to #operations, agenda planning; next Wed 2026-11-25 09:00 EST = Wed 15:00 CET`}},
		{"add in another configured channel, bot's zone", remindOps, "", `remind add oncall-handoff "0 10 * * MON" Handoff --channel #MEETINGS`,
			[]string{`oncall-handoff added: "0 10 * * MON" (Europe/Stockholm) to #meetings; next Mon 2026-11-30 10:00 CET`}},
		{"add: name taken", remindOps, "#operations", `remind add retro "0 9 * * MON" x`, []string{"error: reminder retro exists (!remind remove retro first)"}},
		{"add: bad cron", remindOps, "#operations", `remind add x "0 25 * * *" x`, []string{
			`error: schedule "0 25 * * *": end of range (25) above maximum (23): 25 (like "0 15 * * FRI" or "CRON_TZ=Europe/Stockholm 45 9 * * MON")`}},
		{"add: malformed CRON_TZ does not panic", remindOps, "#operations", `remind add x "CRON_TZ=Europe/Stockholm" x`, []string{
			`error: schedule "CRON_TZ=Europe/Stockholm": CRON_TZ= needs a time zone and a schedule (like "0 15 * * FRI" or "CRON_TZ=Europe/Stockholm 45 9 * * MON")`}},
		{"add: unknown zone", remindOps, "#operations", `remind add x "CRON_TZ=Mars/Base 0 9 * * *" x`, []string{
			`error: schedule "CRON_TZ=Mars/Base 0 9 * * *": unknown time zone "Mars/Base" (like "0 15 * * FRI" or "CRON_TZ=Europe/Stockholm 45 9 * * MON")`}},
		{"add: empty zone", remindOps, "#operations", `remind add x "CRON_TZ= 0 9 * * *" x`, []string{
			`error: schedule "CRON_TZ= 0 9 * * *": CRON_TZ= needs a time zone and a schedule (like "0 15 * * FRI" or "CRON_TZ=Europe/Stockholm 45 9 * * MON")`}},
		{"add: never fires", remindOps, "#operations", `remind add x "0 9 30 2 *" x`, []string{`error: schedule "0 9 30 2 *" never fires`}},
		{"add: too often", remindOps, "#operations", `remind add x "*/5 9 * * MON" x`, []string{`error: schedule "*/5 9 * * MON" fires every 5m; chat reminders fire at most once an hour`}},
		{"add: bad name", remindOps, "#operations", `remind add "two words" "0 9 * * MON" x`, []string{`error: reminder name "two words": lowercase letters, digits, . _ -, at most 32`}},
		{"add: bad agenda", remindOps, "#operations", `remind add x "0 9 * * MON" x --agenda lunch`, []string{`error: agenda "lunch": want retro, planning or scalability`}},
		{"add: channel the bot is not in", remindOps, "#operations", `remind add x "0 9 * * MON" x --channel #random`,
			[]string{`error: channel "#random": reminders post only to the bot's channels (#operations, #meetings)`}},
		{"add: too few arguments", remindOps, "#operations", `remind add x "0 9 * * MON"`,
			[]string{`usage: !remind add <name> "<cron>" <text> [--agenda retro|planning|scalability] [--channel C]`}},
		{"add: empty text", remindOps, "#operations", `remind add x "0 9 * * MON" ""`, []string{"error: the reminder text is empty"}},
		{"add: text too long", remindOps, "#operations", `remind add x "0 9 * * MON" ` + strings.Repeat("a", 251), []string{"error: text is 251 bytes, at most 250"}},

		{"remove: config-owned refused", remindOps, "#operations", "remind remove retro",
			[]string{"error: reminder retro comes from the config file; remove it there and restart"}},
		{"remove: developers refused", remindDev, "#operations", "remind remove standup", []string{"error: !remind remove needs the ops role (you are a developer)"}},
		{"remove", remindOps, "#operations", "remind remove standup", []string{"standup removed"}},
		{"remove: gone", remindOps, "#operations", "remind remove standup", []string{"error: no reminder standup"}},
		{"skip: developers refused", remindDev, "#operations", "remind skip retro", []string{"error: !remind skip needs the ops role (you are a developer)"}},
		{"skip: unknown", remindOps, "#operations", "remind skip nosuch", []string{"error: no reminder nosuch"}},
		{"run: developers refused", remindDev, "#operations", "remind run retro", []string{"error: !remind run needs the ops role (you are a developer)"}},
		{"run", remindOps, "#operations", "remind run planning", []string{"planning posted to #operations"}},
	}
	for _, tt := range tests {
		r := e.do(tt.caller, tt.channel, tt.text)
		got := append(append([]string{}, r.lines...), r.errors...)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: %q\n got: %q\nwant: %q", tt.name, tt.text, got, tt.want)
		}
	}
	// Chat-added reminders persist across a restart; config ones are re-seeded.
	e.restart()
	if r := e.do(anon, "", "remind list"); !strings.Contains(r.all(), `oncall-handoff: next Mon 2026-11-30 10:00 CET; "0 10 * * MON" to #meetings (chat)`) {
		t.Errorf("after restart: %q", r.all())
	}
	// Every write was audited, refusals included.
	log, err := e.st.AuditLog(100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range log {
		if strings.HasPrefix(a.Command, "remind ") {
			n++
		}
	}
	if n < 20 {
		t.Errorf("audit log has %d remind entries, want every write and refusal", n)
	}
}

func TestRemindEmpty(t *testing.T) {
	e := newRemindEnv(t, wed, time.UTC, nil)
	if r := e.do(anon, "#operations", "remind list"); r.all() != `reminders: none (ops add one with !remind add <name> "<cron>" <text>)` {
		t.Errorf("empty list = %q", r.all())
	}
	if r := e.do(anon, "#operations", "remind next"); r.all() != "reminders: nothing scheduled" {
		t.Errorf("empty next = %q", r.all())
	}
}

func TestRemindAgenda(t *testing.T) {
	requests := &fakeSource{name: "requests", lines: map[string][]string{
		"retro":    {"opened 12, done 9, median first response 14m", "oldest open R-3 (6d)"},
		"planning": {"todo 4, doing 3, blocked 1", "blocked: R-7 waiting for vendor", "WIP: alice 2, carol 1"},
	}}
	incidents := &fakeSource{name: "incidents", err: errors.New("bucket missing")}
	availability := &fakeSource{name: "availability", panics: true}
	e := newRemindEnv(t, wed, mustLoc(t, "Europe/Stockholm"), meetings, requests, incidents, availability)

	r := e.do(remindOps, "#operations", "remind run retro")
	if r.all() != "retro posted to #operations" {
		t.Fatalf("run = %q", r.all())
	}
	want := []string{
		"Reminder retro: Weekly retrospective in 15 minutes (full agenda: !remind show retro)",
		"Agenda: requests: opened 12, done 9, median first response 14m; oldest open R-3 (6d) | incidents: unavailable (error logged) | deploys: no data",
	}
	if got := texts(e.ann.posts); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("posted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := requests.windows[0]; !w[0].Equal(wed.Add(-7*24*time.Hour)) || !w[1].Equal(wed) {
		t.Errorf("agenda window = %v, want last week [now-7d, now)", w)
	}
	if !strings.Contains(e.logs.String(), "agenda source failed") || !strings.Contains(e.logs.String(), "bucket missing") {
		t.Errorf("failing source not logged:\n%s", e.logs.String())
	}

	// A panicking source does not stop the scalability reminder; a silent expected family says so.
	e.ann.reset()
	e.do(remindOps, "#operations", "remind run scalability")
	if got := strings.Join(texts(e.ann.posts), "\n"); !strings.Contains(got, "incidents: unavailable (error logged) | availability: unavailable (error logged) | deploys: no data") || strings.Contains(got, "requests") {
		t.Errorf("scalability agenda:\n%s", got)
	}

	// !remind show in a channel: the full agenda privately to the caller, one line in the channel.
	e.ann.reset()
	r = e.do(remindDev, "#operations", "remind show planning")
	if r.all() != "planning: sent to you in private (6 lines)" {
		t.Fatalf("show in channel = %q", r.all())
	}
	wantShow := []string{
		"Reminder planning: Weekly planning in 15 minutes",
		"Agenda planning, Wed 2026-11-18 11:00 to Wed 2026-11-25 11:00 CET:",
		"requests: todo 4, doing 3, blocked 1",
		"requests: blocked: R-7 waiting for vendor",
		"requests: WIP: alice 2, carol 1",
		"Next: Mon 2026-11-30 09:45 CET in #operations",
	}
	for i, p := range e.ann.posts {
		if !p.Notify || p.Target != "bob" || i >= len(wantShow) || p.Text != wantShow[i] {
			t.Fatalf("show sent:\n%s\nwant to bob:\n%s", joinLines(e.ann.posts), strings.Join(wantShow, "\n"))
		}
	}
	// In private, it is the reply itself.
	e.ann.reset()
	r = e.do(anon, "", "remind show planning")
	if strings.Join(r.lines, "\n") != strings.Join(wantShow, "\n") || len(e.ann.posts) != 0 {
		t.Fatalf("show in private = %q", r.lines)
	}
	// A reminder without agenda is one line.
	e.do(remindOps, "", `remind add lunch "0 12 * * FRI" Lunch`)
	e.ann.reset()
	e.do(remindOps, "", "remind run lunch")
	if got := texts(e.ann.posts); len(got) != 1 || got[0] != "Reminder lunch: Lunch" {
		t.Errorf("run lunch = %q", got)
	}
}

// TestRemindAgendaLineBudget: however much the sources say, the channel post keeps to max_lines lines of
// at most lineBudget bytes.
func TestRemindAgendaLineBudget(t *testing.T) {
	long := strings.Repeat("déploiement ", 40)
	var srcs []AgendaSource
	for _, n := range []string{"requests", "incidents", "availability", "deploys", "oncall", "extra"} {
		srcs = append(srcs, &fakeSource{name: n, lines: map[string][]string{"retro": {long, long, long}}})
	}
	for _, maxLines := range []int{1, 2, 4, 8} {
		wantLines := min(maxLines, 7) // the headline and six sources that do not share lines
		e := newRemindEnv(t, wed, time.UTC, meetings[:1], srcs...)
		e.deps.MaxLines = maxLines
		e.restart()
		e.do(remindOps, "#operations", "remind run retro")
		got := texts(e.ann.posts)
		if len(got) != wantLines {
			t.Errorf("max_lines %d: posted %d lines:\n%s", maxLines, len(got), strings.Join(got, "\n"))
		}
		for _, l := range got {
			if len(l) > lineBudget {
				t.Errorf("max_lines %d: line of %d bytes: %q", maxLines, len(l), l)
			}
		}
		if cut := strings.HasSuffix(got[len(got)-1], " …"); cut != (maxLines > 1 && maxLines < 7) {
			t.Errorf("max_lines %d: last line %q; want it marked \" …\" exactly when the agenda was cut", maxLines, got[len(got)-1])
		}
	}
}

func texts(ps []post) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Text)
	}
	return out
}

func TestParseScheduleNeverPanics(t *testing.T) {
	for _, spec := range []string{"", "CRON_TZ=", "CRON_TZ=UTC", "CRON_TZ=UTC ", "TZ=UTC 0 0 * * *", "@every", "* * *", "0 0 * * MON-", "CRON_TZ=x=y"} {
		if _, err := parseSchedule(spec, time.UTC); err == nil {
			t.Errorf("parseSchedule(%q) accepted", spec)
		}
	}
	for _, spec := range []string{"0 15 * * FRI", "CRON_TZ=Europe/Stockholm 0 15 * * FRI", "@weekly"} {
		if _, err := parseSchedule(spec, time.UTC); err != nil {
			t.Errorf("parseSchedule(%q) = %v", spec, err)
		}
	}
}

func BenchmarkReminderTick(b *testing.B) {
	st, err := store.Open(b.TempDir()+"/opsbot.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f, err := NewReminders(Runtime{Location: time.UTC, Announce: &fakeAnnouncer{now: time.Now}}, st, ReminderConfig{Seeds: meetings})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ResetTimer()
	for range b.N {
		if err := f.Tick(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
}

// The full agenda (!remind show, the API) gives every source line whole, however long; only the channel
// post is cut to its line budget.
func TestRemindShowGivesLongAgendaLinesWhole(t *testing.T) {
	blocked := "blocked: " + strings.Repeat("R-12 waiting for the vendor to renew the certificate; ", 6)
	src := &fakeSource{name: "requests", lines: map[string][]string{"planning": {blocked}}}
	e := newRemindEnv(t, wed, time.UTC, meetings[1:2], src)
	r := e.do(remindDev, "", "remind show planning")
	if !strings.Contains(r.all(), "requests: "+strings.TrimSpace(blocked)) {
		t.Fatalf("!remind show cut the blocked line:\n%s", r.all())
	}
}

// A meeting looks back to the same local time a week earlier, which across a DST change is 167 or 169
// hours: no hour falls between two retros, none is in both.
func TestRemindAgendaWindowIsALocalWeek(t *testing.T) {
	sthlm, _ := time.LoadLocation("Europe/Stockholm")
	src := &fakeSource{name: "requests", lines: map[string][]string{"retro": {"x"}}}
	retro := time.Date(2026, 10, 30, 15, 0, 0, 0, sthlm) // the Friday after the change to CET
	e := newRemindEnv(t, retro, sthlm, meetings[:1], src)
	e.do(remindDev, "", "remind show retro")
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.windows) == 0 {
		t.Fatal("the source was not asked")
	}
	from := src.windows[len(src.windows)-1][0]
	if want := time.Date(2026, 10, 23, 15, 0, 0, 0, sthlm); !from.Equal(want) {
		t.Fatalf("window from %v, want %v (15:00 local a week earlier, 169h back)", from.In(sthlm), want)
	}
}
