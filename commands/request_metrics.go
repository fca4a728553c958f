package commands

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsbot/opsbot/store"
)

// requestCollector exports the request family's numbers on /metrics. It reads them from the store at scrape
// time (the open index and counters kept in the same transactions as the requests), so they are exact and
// survive restarts, and a scrape never reads closed history.
type requestCollector struct {
	st                                          RequestStore
	requests, opened, done, firstResp, leadTime *prometheus.Desc
}

func newRequestCollector(st RequestStore) *requestCollector {
	return &requestCollector{
		st: st,
		requests: prometheus.NewDesc("opsbot_requests", "Requests per state now (todo, doing, blocked, done, cancelled).",
			[]string{"state"}, nil),
		opened: prometheus.NewDesc("opsbot_requests_opened_total", "Requests opened, by whether they were urgent (interrupts).",
			[]string{"urgent"}, nil),
		done: prometheus.NewDesc("opsbot_requests_done_total", "Transitions to done (a reopened request counts again).", nil, nil),
		firstResp: prometheus.NewDesc("opsbot_request_first_response_seconds",
			"Time from open to the first take, assign, block, done or comment by ops.", nil, nil),
		leadTime: prometheus.NewDesc("opsbot_request_lead_time_seconds", "Time from open to done.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *requestCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.opened, c.done, c.firstResp, c.leadTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *requestCollector) Collect(ch chan<- prometheus.Metric) {
	m, err := c.st.RequestMetrics()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.requests, err)
		return
	}
	for _, states := range []map[store.RequestState]int{m.Open, m.Closed} {
		for st, n := range states {
			ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(n), string(st))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.opened, prometheus.CounterValue, float64(m.Opened-m.OpenedUrgent), "false")
	ch <- prometheus.MustNewConstMetric(c.opened, prometheus.CounterValue, float64(m.OpenedUrgent), "true")
	ch <- prometheus.MustNewConstMetric(c.done, prometheus.CounterValue, float64(m.Done))
	ch <- constHistogram(c.firstResp, m.FirstResponse)
	ch <- constHistogram(c.leadTime, m.LeadTime)
}

func constHistogram(d *prometheus.Desc, h store.LatencyHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(store.RequestLatencyBuckets))
	for i, ub := range store.RequestLatencyBuckets {
		if i < len(h.Buckets) {
			buckets[ub] = h.Buckets[i]
		} else {
			buckets[ub] = 0
		}
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}
