package commands

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// escalationCollector exports the escalations waiting to happen, read from the store's due-time index at
// scrape time (exact across restarts). Overdue escalations are ones the bot should have run already: a
// value above zero for more than a minute means escalation is stuck.
type escalationCollector struct {
	st               PagingStore
	now              func() time.Time
	pending, overdue *prometheus.Desc
}

func newEscalationCollector(st PagingStore, now func() time.Time) *escalationCollector {
	return &escalationCollector{st: st, now: now,
		pending: prometheus.NewDesc("opsbot_escalations_pending",
			"Open, unacknowledged pages waiting for their next escalation step.", nil, nil),
		overdue: prometheus.NewDesc("opsbot_escalations_overdue",
			"Pending escalations whose time has passed (should be 0 within a minute; more means escalation is stuck).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *escalationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.overdue
}

// Collect implements prometheus.Collector.
func (c *escalationCollector) Collect(ch chan<- prometheus.Metric) {
	pending, overdue, err := c.st.EscalationCounts(c.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(overdue))
}
