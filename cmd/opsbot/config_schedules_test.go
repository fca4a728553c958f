package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// [[oncall.schedules]] add named rotations beside [oncall]'s (the schedule ops), inheriting its handoff,
// time zone and shift; a service names its schedule; check-config rejects unknown and duplicate schedules.
func TestConfigSchedules(t *testing.T) {
	raw := `
[oncall]
rotation = ["alice", "carol"]
handoff = "Mon 10:00"
timezone = "Europe/Stockholm"
remind_before = "24h"

[[oncall.schedules]]
name = "db"
rotation = ["dave", "erin"]
timezone = "America/New_York"
shift = "1d"
escalation = ["next", "alice"]

[[oncall.schedules]]
name = "net"
rotation = ["frank"]
handoff = "Wed 09:00"

[[services]]
name = "postgres"
owner = "team-db"
schedule = "db"
`
	cfg, err := ParseConfig([]byte(raw), "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := cfg.pagingConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.ScheduleNames(); !slices.Equal(got, []string{"ops", "db", "net"}) {
		t.Errorf("schedules = %v", got)
	}
	db, net := pc.Schedules[0], pc.Schedules[1]
	if db.Rotation.Name != "db" || db.Rotation.Location.String() != "America/New_York" || db.Rotation.Weekday != time.Monday ||
		db.Rotation.At != 10*time.Hour || db.Rotation.Shift != 24*time.Hour || !slices.Equal(db.Escalation, []string{"next", "alice"}) {
		t.Errorf("db = %+v", db)
	}
	if net.Rotation.Location.String() != "Europe/Stockholm" || net.Rotation.Weekday != time.Wednesday || net.Rotation.Shift != store.DefaultShift || net.Escalation != nil {
		t.Errorf("net = %+v (want [oncall]'s zone and shift)", net)
	}
	o, err := cfg.botOptions("test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Handoffs.RemindBefore != 24*time.Hour || o.Services.Seeds[0].Schedule != "db" {
		t.Errorf("remind_before %v, service seed %+v", o.Handoffs.RemindBefore, o.Services.Seeds)
	}
	if !strings.Contains(cfg.String(), `remind_before = '24h0m0s'`) || !strings.Contains(cfg.String(), "[[oncall.schedules]]") {
		t.Errorf("check-config output lacks the schedules:\n%s", cfg.String())
	}

	for _, tt := range []struct{ toml, want string }{
		{"[[oncall.schedules]]\nname = \"db\"\n[[oncall.schedules]]\nname = \"db\"\n", `oncall.schedules: "db" defined twice`},
		{"[[oncall.schedules]]\nname = \"ops\"\n", `oncall.schedules[0]: name "ops" is the [oncall] rotation itself`},
		{"[[oncall.schedules]]\nname = \"take\"\n", `name "take" is an !oncall subcommand`},
		{"[[oncall.schedules]]\nname = \"Data Base\"\n", `oncall.schedules[0]: name "Data Base": lowercase`},
		{"[[oncall.schedules]]\nname = \"db\"\ntimezone = \"Mars/Base\"\n", `oncall.schedules[0] db: timezone "Mars/Base": unknown time zone`},
		{"[[oncall.schedules]]\nname = \"db\"\nhandoff = \"Someday\"\n", `oncall.schedules[0] db: handoff "Someday"`},
		{"[[oncall.schedules]]\nname = \"db\"\nrotation = [\"two words\"]\n", `account name "two words"`},
		{"[[oncall.schedules]]\nname = \"db\"\nescalation = [\"#ops\"]\n", `escalation: "#ops" is neither`},
		{"[[oncall.schedules]]\nname = \"db\"\nsurname = \"x\"\n", `unknown key "oncall.schedules.surname"`},
		{"[oncall]\nremind_before = \"-1h\"\n", "oncall.remind_before"},
		{"[[services]]\nname = \"pg\"\nschedule = \"dbb\"\n", `services[0] pg: schedule "dbb" is not configured (schedules: ops)`},
		{"[[oncall.schedules]]\nname = \"db\"\n[[services]]\nname = \"pg\"\nschedule = \"db\"\n", ""},
		{"[[services]]\nname = \"pg\"\nschedule = \"ops\"\n", ""},
	} {
		_, err := ParseConfig([]byte(tt.toml), "t.toml", nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ParseConfig(%q) = %v, want no error", tt.toml, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tt.toml, err, tt.want)
		}
	}
}
