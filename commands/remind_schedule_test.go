package commands

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// TestReminderDST runs weekly schedules minute by minute across the DST changes of 2026 and checks that
// each occurrence posts exactly once, at its local time: spring-forward gaps post nothing that day (the
// local time does not exist), fall-back repeats post at the first pass only.
func TestReminderDST(t *testing.T) {
	tests := []struct {
		name       string
		bot        string // bot.timezone
		schedule   string
		from, to   time.Time
		dst        time.Time // the DST change in the window
		wantPostAt []string  // UTC
	}{
		{"stockholm office hours across spring forward", "UTC", "CRON_TZ=Europe/Stockholm 0 15 * * FRI",
			utc(2026, 3, 19, 0, 0), utc(2026, 4, 4, 0, 0), stockholmSpring,
			[]string{"2026-03-20 14:00", "2026-03-27 14:00", "2026-04-03 13:00"}},
		{"stockholm spring-forward gap: 02:30 does not exist on 29 March", "UTC", "CRON_TZ=Europe/Stockholm 30 2 * * SUN",
			utc(2026, 3, 21, 0, 0), utc(2026, 4, 6, 0, 0), stockholmSpring,
			[]string{"2026-03-22 01:30", "2026-04-05 00:30"}},
		{"stockholm fall back: 02:30 happens twice on 25 October, posts once", "UTC", "CRON_TZ=Europe/Stockholm 30 2 * * SUN",
			utc(2026, 10, 17, 0, 0), utc(2026, 11, 2, 0, 0), stockholmFall,
			[]string{"2026-10-18 00:30", "2026-10-25 00:30", "2026-11-01 01:30"}},
		{"stockholm fall back, two times in the repeated hour", "Europe/Stockholm", "0,30 2 * * SUN",
			utc(2026, 10, 24, 0, 0), utc(2026, 10, 26, 0, 0), stockholmFall,
			[]string{"2026-10-25 00:00", "2026-10-25 00:30"}},
		{"new york office hours across spring forward (bot.timezone)", "America/New_York", "0 9 * * MON",
			utc(2026, 3, 1, 0, 0), utc(2026, 3, 17, 0, 0), newYorkSpring,
			[]string{"2026-03-02 14:00", "2026-03-09 13:00", "2026-03-16 13:00"}},
		{"new york spring-forward gap", "UTC", "CRON_TZ=America/New_York 30 2 * * SUN",
			utc(2026, 2, 28, 0, 0), utc(2026, 3, 16, 0, 0), newYorkSpring,
			[]string{"2026-03-01 07:30", "2026-03-15 06:30"}},
		{"new york fall back: 01:30 twice on 1 November, posts once (bot.timezone)", "America/New_York", "30 1 * * SUN",
			utc(2026, 10, 24, 0, 0), utc(2026, 11, 9, 12, 0), newYorkFall,
			[]string{"2026-10-25 05:30", "2026-11-01 05:30", "2026-11-08 06:30"}},
		{"new york office hours across fall back", "Europe/Stockholm", "CRON_TZ=America/New_York 0 9 * * MON",
			utc(2026, 10, 25, 0, 0), utc(2026, 11, 3, 0, 0), newYorkFall,
			[]string{"2026-10-26 13:00", "2026-11-02 14:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRemindEnv(t, tt.from, mustLoc(t, tt.bot), []store.Reminder{{Name: "m", Schedule: tt.schedule, Text: "meeting"}})
			// Minute by minute around the DST change and every expected post; coarser in between (a post
			// at any other time would still show, as a late one).
			fine := []time.Time{tt.dst}
			for _, w := range tt.wantPostAt {
				at, _ := time.Parse("2006-01-02 15:04", w)
				fine = append(fine, at)
			}
			for e.now.Before(tt.to) {
				step := 10 * time.Minute
				for _, f := range fine {
					if d := e.now.Sub(f); d > -3*time.Hour && d < 3*time.Hour {
						step = time.Minute
					}
				}
				e.tick()
				e.now = e.now.Add(step)
			}
			if got := e.postTimes(); !slices.Equal(got, tt.wantPostAt) {
				t.Fatalf("posted at %q, want %q\n%s", got, tt.wantPostAt, joinLines(e.ann.posts))
			}
			for _, p := range e.ann.headlines() {
				if strings.Contains(p.Text, "late") {
					t.Errorf("on-time post marked late: %q", p.Text)
				}
			}
		})
	}
}

// The DST changes of 2026.
var (
	stockholmSpring = utc(2026, 3, 29, 1, 0)  // 02:00 CET -> 03:00 CEST
	stockholmFall   = utc(2026, 10, 25, 1, 0) // 03:00 CEST -> 02:00 CET
	newYorkSpring   = utc(2026, 3, 8, 7, 0)   // 02:00 EST -> 03:00 EDT
	newYorkFall     = utc(2026, 11, 1, 6, 0)  // 02:00 EDT -> 01:00 EST
)

// TestReminderDSTAcrossRestarts restarts every five minutes through the repeated fall-back hour: the
// second 01:30 is still recognised from the stored occurrence.
func TestReminderDSTAcrossRestarts(t *testing.T) {
	e := newRemindEnv(t, utc(2026, 10, 31, 12, 0), mustLoc(t, "America/New_York"),
		[]store.Reminder{{Name: "m", Schedule: "30 1 * * SUN", Text: "meeting"}})
	for end := utc(2026, 11, 1, 4, 0); e.now.Before(utc(2026, 11, 1, 8, 0)); end = end.Add(5 * time.Minute) {
		e.runUntil(end, time.Minute)
		e.restart()
	}
	if got, want := e.postTimes(), []string{"2026-11-01 05:30"}; !slices.Equal(got, want) {
		t.Fatalf("posted at %q, want %q", got, want)
	}
}

func TestReminderRestart(t *testing.T) {
	cfg := []store.Reminder{{Name: "retro", Schedule: "0 15 * * FRI", Text: "Weekly retrospective in 15 minutes"}}
	fri := func(h, m, s int) time.Time { return time.Date(2026, 11, 27, h, m, s, 0, time.UTC) }

	t.Run("before the occurrence", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 50, 0), time.UTC, cfg)
		e.runUntil(fri(14, 59, 0), time.Second)
		e.restart()
		e.runUntil(fri(15, 10, 0), time.Second)
		if got := e.postTimes(); !slices.Equal(got, []string{"2026-11-27 15:00"}) {
			t.Fatalf("posted at %q, want once at 15:00", got)
		}
	})
	t.Run("right after posting, in the same second", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 59, 0), time.UTC, cfg)
		e.runUntil(fri(15, 0, 0), time.Second)
		if n := len(e.ann.headlines()); n != 1 {
			t.Fatalf("%d posts at 15:00:00, want 1", n)
		}
		e.restart()
		e.tick()
		e.restart()
		e.runUntil(fri(15, 30, 0), time.Second)
		if got := e.postTimes(); !slices.Equal(got, []string{"2026-11-27 15:00"}) {
			t.Fatalf("posted at %q, want once at 15:00", got)
		}
	})
	t.Run("down during the occurrence: posted late once", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 50, 0), time.UTC, cfg)
		e.runUntil(fri(14, 58, 0), time.Second)
		e.now = fri(15, 20, 0) // down from 14:58 to 15:20
		e.restart()
		e.runUntil(fri(15, 40, 0), time.Second)
		e.restart()
		e.runUntil(fri(16, 0, 0), time.Second)
		hs := e.ann.headlines()
		if len(hs) != 1 || !hs[0].At.Equal(fri(15, 20, 0)) {
			t.Fatalf("posts:\n%s want one at 15:20", joinLines(hs))
		}
		if want := "Reminder retro (late, due Fri 15:00 UTC): Weekly retrospective in 15 minutes"; hs[0].Text != want {
			t.Errorf("late post = %q, want %q", hs[0].Text, want)
		}
	})
	t.Run("after the occurrence", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 59, 0), time.UTC, cfg)
		e.runUntil(fri(15, 1, 0), time.Second)
		e.now = fri(16, 0, 0)
		e.restart()
		e.runUntil(fri(23, 0, 0), time.Minute)
		e.restart()
		e.runUntil(time.Date(2026, 12, 4, 15, 0, 30, 0, time.UTC), time.Minute)
		if got := e.postTimes(); !slices.Equal(got, []string{"2026-11-27 15:00", "2026-12-04 15:00"}) {
			t.Fatalf("posted at %q, want this week's once and next week's", got)
		}
	})
	t.Run("a new config reminder does not post past occurrences", func(t *testing.T) {
		e := newRemindEnv(t, fri(15, 30, 0), time.UTC, cfg) // first start after this week's retro
		e.runUntil(fri(17, 0, 0), time.Minute)
		if got := e.postTimes(); len(got) != 0 {
			t.Fatalf("posted %q for an occurrence before the reminder existed", got)
		}
	})
}

func TestReminderGrace(t *testing.T) {
	cfg := []store.Reminder{{Name: "retro", Schedule: "0 15 * * FRI", Text: "Retro"}}
	fri := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, time.UTC) }

	t.Run("within grace: late", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 0), time.UTC, cfg)
		e.tick()
		e.now = fri(15, 59) // down for the occurrence, back 59 minutes later
		e.restart()
		e.runUntil(fri(16, 30), time.Minute)
		hs := e.ann.headlines()
		if len(hs) != 1 || !strings.HasPrefix(hs[0].Text, "Reminder retro (late, due Fri 15:00 UTC): ") {
			t.Fatalf("posts:\n%s want one late post", joinLines(hs))
		}
	})
	t.Run("beyond grace: skipped and logged, next week normal", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 0), time.UTC, cfg)
		e.tick()
		e.now = fri(16, 1)
		e.restart()
		e.runUntil(fri(18, 0), time.Minute)
		if hs := e.ann.headlines(); len(hs) != 0 {
			t.Fatalf("posted beyond grace:\n%s", joinLines(hs))
		}
		log := e.logs.String()
		if !strings.Contains(log, "reminder skipped") || !strings.Contains(log, "beyond reminders grace 1h") || !strings.Contains(log, "occurrence=\"2026-11-27 15:00 UTC\"") {
			t.Errorf("log does not say what was skipped and why:\n%s", log)
		}
		e.runUntil(time.Date(2026, 12, 4, 15, 5, 0, 0, time.UTC), time.Minute)
		if got := e.postTimes(); !slices.Equal(got, []string{"2026-12-04 15:00"}) {
			t.Fatalf("next week posted at %q", got)
		}
	})
	t.Run("configured grace", func(t *testing.T) {
		e := newRemindEnv(t, fri(14, 0), time.UTC, cfg)
		e.deps.ReminderGrace = 10 * time.Minute
		e.restart()
		e.tick()
		e.now = fri(15, 11)
		e.restart()
		e.tick()
		if hs := e.ann.headlines(); len(hs) != 0 {
			t.Fatalf("posted 11m late with a 10m grace:\n%s", joinLines(hs))
		}
	})
	t.Run("several missed: only the latest, late; the others logged", func(t *testing.T) {
		daily := []store.Reminder{{Name: "standup", Schedule: "0 9 * * *", Text: "Standup"}}
		e := newRemindEnv(t, utc(2026, 11, 23, 8, 0), time.UTC, daily)
		e.tick()
		e.now = utc(2026, 11, 26, 9, 30) // down for four standups, back 30m after the latest
		e.restart()
		e.runUntil(utc(2026, 11, 26, 12, 0), time.Minute)
		hs := e.ann.headlines()
		if len(hs) != 1 || !strings.Contains(hs[0].Text, "(late, due Thu 09:00 UTC)") {
			t.Fatalf("posts:\n%s want one late post for Thursday", joinLines(hs))
		}
		if log := e.logs.String(); !strings.Contains(log, "count=3") || !strings.Contains(log, "missed while the bot was down") {
			t.Errorf("log does not report the 3 older missed standups:\n%s", log)
		}
	})
	t.Run("a very long outage of a frequent reminder catches up without posting", func(t *testing.T) {
		often := []store.Reminder{{Name: "tick", Schedule: "* * * * *", Text: "tick"}}
		e := newRemindEnv(t, utc(2026, 1, 1, 0, 0), time.UTC, often)
		e.tick()
		e.now = utc(2026, 2, 1, 0, 0) // 44640 minutes later
		e.restart()
		for range 5 {
			e.tick()
		}
		if hs := e.ann.headlines(); len(hs) != 1 || !strings.Contains(hs[0].Text, "tick") {
			t.Fatalf("after catching up: %d posts, want exactly the current minute's", len(hs))
		}
	})
}

func TestReminderSkip(t *testing.T) {
	e := newRemindEnv(t, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), mustLoc(t, "Europe/Stockholm"),
		[]store.Reminder{{Name: "retro", Schedule: "CRON_TZ=Europe/Stockholm 0 15 * * FRI", Text: "Retro"}})
	r := e.do(Caller{Account: "carol", Nick: "carol"}, "#operations", "remind skip retro")
	if want := "retro: skipping Fri 2026-11-27 15:00 CET; next post Fri 2026-12-04 15:00 CET"; r.all() != want {
		t.Fatalf("skip = %q, want %q", r.all(), want)
	}
	r = e.do(Caller{Account: "carol", Nick: "carol"}, "#operations", "remind skip retro")
	if want := "retro: already skipping Fri 2026-11-27 15:00 CET; next post Fri 2026-12-04 15:00 CET"; r.all() != want {
		t.Fatalf("second skip = %q, want %q (skips exactly one)", r.all(), want)
	}
	if r := e.do(anon, "#operations", "remind next"); !strings.Contains(r.all(), "2026-12-04 15:00 CET") || !strings.Contains(r.all(), "(Fri 2026-11-27 15:00 CET skipped)") {
		t.Errorf("next after skip = %q", r.all())
	}
	e.restart() // the pending skip is in the store
	e.runUntil(time.Date(2026, 12, 11, 14, 30, 0, 0, time.UTC), 5*time.Minute)
	if got := e.postTimes(); !slices.Equal(got, []string{"2026-12-04 14:00", "2026-12-11 14:00"}) {
		t.Fatalf("posted at %q; want 27 Nov skipped, the following two posted", got)
	}
	if !strings.Contains(e.logs.String(), "why=\"!remind skip\"") {
		t.Errorf("the skip is not logged:\n%s", e.logs.String())
	}
	// --undo takes a pending skip back.
	e.do(Caller{Account: "carol", Nick: "carol"}, "", "remind skip retro")
	r = e.do(Caller{Account: "carol", Nick: "carol"}, "", "remind skip retro --undo")
	if want := "retro: skip undone; next post Fri 2026-12-18 15:00 CET"; r.all() != want {
		t.Fatalf("undo = %q, want %q", r.all(), want)
	}
	if r := e.do(Caller{Account: "carol", Nick: "carol"}, "", "remind skip retro --undo"); r.all() != "error: reminder retro has no skip pending" {
		t.Errorf("undo without skip = %q", r.all())
	}
	e.runUntil(time.Date(2026, 12, 18, 14, 30, 0, 0, time.UTC), 5*time.Minute)
	if got := e.postTimes(); len(got) != 3 {
		t.Fatalf("after undo posted at %q, want the 18 Dec one too", got)
	}
}

func TestReminderPostFailureRetries(t *testing.T) {
	e := newRemindEnv(t, utc(2026, 11, 27, 14, 59), time.UTC, []store.Reminder{{Name: "retro", Schedule: "0 15 * * FRI", Text: "Retro"}})
	e.tick()
	e.now = utc(2026, 11, 27, 15, 0)
	e.ann.fail = errDiskFull
	if err := e.jobs[0].Run(t.Context(), e.now); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("job with a failing outbox = %v, want the error", err)
	}
	e.ann.fail = nil
	e.now = e.now.Add(time.Second)
	e.tick()
	e.tick()
	if got := e.postTimes(); !slices.Equal(got, []string{"2026-11-27 15:00"}) {
		t.Fatalf("posted at %q, want once after the outbox recovered", got)
	}
}

// TestReminderChannelGone: a reminder whose channel left irc.channels is skipped and logged, not queued
// forever.
func TestReminderChannelGone(t *testing.T) {
	e := newRemindEnv(t, utc(2026, 11, 27, 14, 0), time.UTC, []store.Reminder{{Name: "retro", Schedule: "0 15 * * FRI", Channel: "#meetings", Text: "Retro"}})
	e.deps.Channels = []string{"#operations"}
	e.restart()
	e.runUntil(utc(2026, 11, 27, 15, 5), time.Minute)
	if hs := e.ann.headlines(); len(hs) != 0 {
		t.Fatalf("posted to a channel the bot is not in:\n%s", joinLines(hs))
	}
	if !strings.Contains(e.logs.String(), "#meetings is not one of the bot's channels") {
		t.Errorf("skip not logged:\n%s", e.logs.String())
	}
	if r := e.do(remindOps, "", "remind run retro"); !strings.HasPrefix(r.all(), "error: reminder retro posts to #meetings, which is not one of the bot's channels") {
		t.Errorf("run = %q", r.all())
	}
}
