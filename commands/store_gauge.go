package commands

import "github.com/prometheus/client_golang/prometheus"

// StoreGauge is a gauge read from the store at scrape time (read returns its value). When the store cannot
// be read, the gauge is left out of the scrape (an invalid metric, which promhttp's ContinueOnError skips),
// as the request and escalation collectors do, rather than exported with a made-up value: a backlog of 0
// would say that nothing is waiting.
func StoreGauge(name, help string, read func() (int, error)) prometheus.Collector {
	return storeGauge{desc: prometheus.NewDesc(name, help, nil, nil), read: read}
}

type storeGauge struct {
	desc *prometheus.Desc
	read func() (int, error)
}

// Describe implements prometheus.Collector.
func (g storeGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g storeGauge) Collect(ch chan<- prometheus.Metric) {
	n, err := g.read()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
}
