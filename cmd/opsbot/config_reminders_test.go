package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestReminderConfig(t *testing.T) {
	cfg, err := LoadConfig("../../config.example.toml", env(map[string]string{"OPSBOT_IRC_SASL_PASSWORD": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if g := time.Duration(cfg.ReminderSettings.Grace); g != time.Hour {
		t.Errorf("reminder_settings.grace = %v, want 1h", g)
	}
	o, err := cfg.botOptions("test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Reminders.Grace != time.Hour || len(o.Reminders.Seeds) != 3 {
		t.Fatalf("bot options: grace %v, %d reminders; want 1h and 3", o.Reminders.Grace, len(o.Reminders.Seeds))
	}
	for i, want := range []string{"retro", "planning", "scalability"} {
		if r := o.Reminders.Seeds[i]; r.Name != want || r.Agenda != want || r.Channel != "#operations" || !strings.HasPrefix(r.Schedule, "CRON_TZ=Europe/Stockholm ") {
			t.Errorf("reminder %d = %+v, want the %s meeting", i, r, want)
		}
	}
	d, err := ParseConfig(nil, "empty.toml", nil)
	if err != nil || time.Duration(d.ReminderSettings.Grace) != time.Hour {
		t.Errorf("default grace = %v, %v; want 1h", d.ReminderSettings.Grace, err)
	}
}

func TestReminderConfigErrors(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"[reminder_settings]\ngrace = \"0s\"\n", "reminder_settings.grace: must be positive"},
		{"[reminder_settings]\ngrce = \"1h\"\n", `unknown key "reminder_settings.grce"`},
		{"[reminders]\ngrace = \"1h\"\n", "t.toml"}, // the contract's [reminders] table clashes with [[reminders]]
		{"[[reminders]]\nname = \"Retro!\"\nschedule = \"0 15 * * FRI\"\ntext = \"t\"\n", `name "Retro!": lowercase`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"0 15 * * FRI\"\nchannel = \"#elsewhere\"\ntext = \"t\"\n", `channel "#elsewhere" is not in irc.channels`},
		{"[[reminders]]\nname = \"r\"\nschedule = \"TZ=UTC 0 15 * * FRI\"\ntext = \"t\"\n", "use CRON_TZ="},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.toml), "t.toml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConfig(%q) = %v, want error containing %q", tt.toml, err, tt.want)
		}
	}
	ok := "[irc]\nchannels = [\"#operations\", \"#Meetings\"]\n[[reminders]]\nname = \"r\"\nschedule = \"0 15 * * FRI\"\nchannel = \"#meetings\"\ntext = \"t\"\n"
	if _, err := ParseConfig([]byte(ok), "t.toml", nil); err != nil {
		t.Errorf("reminder in the second channel: %v", err)
	}
}
