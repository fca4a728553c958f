package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RequestLatencyBuckets are the upper bounds, in seconds, of the first-response and lead-time histograms:
// 1m, 5m, 15m, 30m, 1h, 2h, 4h, 8h, 1d, 3d, 1w.
var RequestLatencyBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800}

// LatencyHistogram is a cumulative histogram over RequestLatencyBuckets (Buckets[i] counts observations
// <= RequestLatencyBuckets[i]), in the shape Prometheus expects.
type LatencyHistogram struct {
	Count   uint64   `json:"count"`
	Sum     float64  `json:"sum"` // seconds
	Buckets []uint64 `json:"buckets"`
}

func (h *LatencyHistogram) observe(d time.Duration) {
	if len(h.Buckets) != len(RequestLatencyBuckets) {
		h.Buckets = append(h.Buckets, make([]uint64, len(RequestLatencyBuckets))...)[:len(RequestLatencyBuckets)]
	}
	sec := d.Seconds()
	h.Count++
	h.Sum += sec
	for i, ub := range RequestLatencyBuckets {
		if sec <= ub {
			h.Buckets[i]++
		}
	}
}

// requestCounters are running totals kept in the same transactions as the requests they count, so they are
// exact across restarts.
type requestCounters struct {
	Opened        uint64               `json:"opened"`
	OpenedUrgent  uint64               `json:"opened_urgent"`
	Done          uint64               `json:"done"`   // every transition to done, reopened ones included
	Closed        map[RequestState]int `json:"closed"` // requests in done and in cancelled now
	FirstResponse LatencyHistogram     `json:"first_response"`
	LeadTime      LatencyHistogram     `json:"lead_time"`
}

func getRequestCounters(tx *bolt.Tx) (requestCounters, error) {
	var c requestCounters
	if _, err := getJSON(tx.Bucket(bucketRequestCounters), keyRequestCounters, &c); err != nil {
		return c, fmt.Errorf("request counters: %w", err)
	}
	if c.Closed == nil {
		c.Closed = map[RequestState]int{}
	}
	return c, nil
}

// updateRequestCounters applies f to the stored counters.
func updateRequestCounters(tx *bolt.Tx, f func(*requestCounters)) error {
	c, err := getRequestCounters(tx)
	if err != nil {
		return err
	}
	f(&c)
	return putJSON(tx.Bucket(bucketRequestCounters), keyRequestCounters, c)
}

// RequestMetrics are the numbers behind the request metrics on /metrics.
type RequestMetrics struct {
	Open         map[RequestState]int // requests per open state now
	Closed       map[RequestState]int // requests per closed state now (done, cancelled)
	Opened       uint64               // requests ever opened
	OpenedUrgent uint64
	Done         uint64 // transitions to done, ever
	// FirstResponse and LeadTime are histograms of every first response and every done so far.
	FirstResponse, LeadTime LatencyHistogram
}

// RequestMetrics reads the request counters and the open index (never closed records).
func (s *Store) RequestMetrics() (RequestMetrics, error) {
	m := RequestMetrics{Open: map[RequestState]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, st := range OpenRequestStates {
			m.Open[st] = 0
		}
		c := tx.Bucket(bucketRequestsOpen).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			m.Open[RequestState(k[:len(k)-9])]++
		}
		cn, err := getRequestCounters(tx)
		if err != nil {
			return err
		}
		m.Closed = map[RequestState]int{RequestDone: cn.Closed[RequestDone], RequestCancelled: cn.Closed[RequestCancelled]}
		m.Opened, m.OpenedUrgent, m.Done = cn.Opened, cn.OpenedUrgent, cn.Done
		m.FirstResponse, m.LeadTime = cn.FirstResponse, cn.LeadTime
		return nil
	})
	if err != nil {
		return RequestMetrics{}, fmt.Errorf("store: request metrics: %w", err)
	}
	return m, nil
}
