package bot

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// Metrics are the bot's Prometheus metrics, on a registry of their own (no global state, so tests can run
// several bots in one process).
type Metrics struct {
	Registry        *prometheus.Registry
	Commands        *prometheus.CounterVec
	CommandDuration *prometheus.HistogramVec
	QueueDepth      prometheus.GaugeFunc
	OutboxBacklog   prometheus.Collector
	Reconnects      prometheus.Counter
	Connected       prometheus.Gauge
	NickMismatch    prometheus.Gauge
	LinesSent       prometheus.Counter
	LinesDropped    *prometheus.CounterVec
	InboundDropped  prometheus.Counter
	StoreErrors     prometheus.Counter
}

func newMetrics(queueDepth func() float64, outboxLen func() (int, error)) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_commands_total", Help: "Commands run, by command and result (ok, usage, error, denied, internal, ratelimited).",
		}, []string{"command", "result"}),
		CommandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "opsbot_command_duration_seconds", Help: "Time to run a command, including its store commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"command"}),
		QueueDepth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "opsbot_outbound_queue_depth", Help: "Lines waiting in the outbound queue.",
		}, queueDepth),
		OutboxBacklog: commands.StoreGauge("opsbot_outbox_backlog", "Durable messages (pages, notices, reminders) not yet delivered.", outboxLen),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_irc_reconnects_total", Help: "Connection attempts after the first.",
		}),
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsbot_irc_connected", Help: "1 when registered (and authenticated when SASL is configured) and joined, else 0.",
		}),
		NickMismatch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsbot_irc_nick_mismatch", Help: "1 while connected under another nick than the configured one (someone else holds it), else 0.",
		}),
		LinesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_lines_sent_total", Help: "PRIVMSG/NOTICE lines written to the server.",
		}),
		LinesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_lines_dropped_total", Help: "Outbound lines dropped, by reason.",
		}, []string{"reason"}),
		InboundDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_inbound_dropped_total", Help: "Commands dropped because the worker queue was full.",
		}),
		StoreErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_store_errors_total", Help: "Failed store operations: every failed database commit (commands, audit, jobs, outbox, webhooks) and failed reads behind the HTTP API.",
		}),
	}
	m.Registry.MustRegister(m.Commands, m.CommandDuration, m.QueueDepth, m.OutboxBacklog, m.Reconnects, m.Connected, m.NickMismatch,
		m.LinesSent, m.LinesDropped, m.InboundDropped, m.StoreErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// storeFailed counts a failed store operation, unless it is a failed commit: the store reports those itself
// (Store.OnWriteFailure), wherever they happen, so each is counted once.
func (m *Metrics) storeFailed(err error) {
	if !errors.Is(err, store.ErrWriteFailed) {
		m.StoreErrors.Inc()
	}
}

// observe is the dispatcher's metrics hook.
func (m *Metrics) observe(command, result string, d time.Duration) {
	m.Commands.WithLabelValues(command, result).Inc()
	m.CommandDuration.WithLabelValues(command).Observe(d.Seconds())
}
