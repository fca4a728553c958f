package main

import (
	"strings"
	"testing"
	"time"
)

func TestPagingOptionsFromConfig(t *testing.T) {
	raw := `
[auth]
admins = ["alice"]
ops = ["carol"]
[oncall]
rotation = ["alice", "carol"]
handoff = "Wed 09:30"
timezone = "Europe/Stockholm"
shift = "1d"
max_override = "12h"
[paging]
ack_timeout = "2m"
escalation = ["next", "dave"]
max_escalations = 4
dedupe_window = "5m"
rate_limit = 3
[[paging.notifiers]]
type = "webhook"
url = "http://127.0.0.1:9/hook"
[[paging.notifiers]]
type = "pagerduty"
url = "https://events.pagerduty.com/v2/enqueue"
[[paging.notifiers]]
type = "smtp"
smtp_addr = "smtp.example.net:587"
from = "opsbot@example.net"
to = ["ops@example.net"]
`
	env := map[string]string{"OPSBOT_PAGING_NOTIFIERS_1_ROUTING_KEY": "rk", "OPSBOT_PAGING_NOTIFIERS_2_PASSWORD": "pw"}
	cfg, err := ParseConfig([]byte(raw), "t.toml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.pagingConfig()
	ns := cfg.notifiers()
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rotation
	if strings.Join(r.Accounts, ",") != "alice,carol" || r.Weekday != time.Wednesday || r.At != 9*time.Hour+30*time.Minute ||
		r.Location.String() != "Europe/Stockholm" || r.Shift != 24*time.Hour {
		t.Errorf("rotation = %+v", r)
	}
	if p.MaxOverride != 12*time.Hour || p.AckTimeout != 2*time.Minute || strings.Join(p.Escalation, ",") != "next,dave" ||
		p.MaxEscalations != 4 || p.DedupeWindow != 5*time.Minute || p.RateLimit != 3 {
		t.Errorf("paging = %+v", p)
	}
	if len(ns) != 3 || ns[1].RoutingKey != "rk" || ns[2].Password != "pw" || ns[2].To[0] != "ops@example.net" {
		t.Errorf("notifiers = %+v", ns)
	}

	// A PagerDuty notifier without a routing key is a config error.
	_, err = ParseConfig([]byte(raw), "t.toml", nil)
	if err == nil || !strings.Contains(err.Error(), "paging.notifiers[1] (pagerduty): routing_key is empty") {
		t.Errorf("missing routing_key: %v", err)
	}
}

// paging.ack_resolve_after defaults to 24h, "0s" turns the auto-resolve off, and a negative one is refused.
func TestPagingAckResolveAfter(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want time.Duration
		err  string
	}{
		{"", 24 * time.Hour, ""},
		{"[paging]\nack_resolve_after = \"3d\"\n", 72 * time.Hour, ""},
		{"[paging]\nack_resolve_after = \"0s\"\n", 0, ""},
		{"[paging]\nack_resolve_after = \"-1h\"\n", 0, "ack_resolve_after"},
	} {
		cfg, err := ParseConfig([]byte(tc.raw), "t.toml", nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error about %s", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		if p, err := cfg.pagingConfig(); err != nil || p.AckResolveAfter != tc.want {
			t.Errorf("%q: ack_resolve_after %v, %v; want %v", tc.raw, p.AckResolveAfter, err, tc.want)
		}
	}
}
