package commands

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsbot/opsbot/store"
)

// gaugeValues gathers a collector's gauges by metric name.
func gaugeValues(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// Escalations pending and overdue come from the due-time index, with the bot's clock.
func TestEscalationMetrics(t *testing.T) {
	st := mustOpen(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rot := store.Rotation{Accounts: []string{"alice"}, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}
	clock := now
	c := newEscalationCollector(st, func() time.Time { return clock })
	if got := gaugeValues(t, c); got["opsbot_escalations_pending"] != 0 || got["opsbot_escalations_overdue"] != 0 {
		t.Fatalf("no pages: %v", got)
	}
	for i, ack := range []time.Duration{5 * time.Minute, 15 * time.Minute} {
		if _, _, err := st.OpenPage(store.PageRequest{By: "bob" + string(rune('a'+i)), Text: "db down", Rotation: rot, Now: now, AckTimeout: ack}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		at               time.Duration
		pending, overdue float64
	}{{0, 2, 0}, {5 * time.Minute, 2, 1}, {20 * time.Minute, 2, 2}} {
		clock = now.Add(tt.at)
		got := gaugeValues(t, c)
		if got["opsbot_escalations_pending"] != tt.pending || got["opsbot_escalations_overdue"] != tt.overdue {
			t.Errorf("at +%v: %v, want pending %v overdue %v", tt.at, got, tt.pending, tt.overdue)
		}
	}
}
