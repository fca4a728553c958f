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
