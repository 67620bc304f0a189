package server

import (
	"bytes"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	changes  *prometheus.CounterVec
	sse      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "outpost_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_push_changes_total", Help: "Pushed changes by result status.",
		}, []string{"status"}),
		sse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outpost_event_streams", Help: "Open server-sent event streams.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.changes, m.sse)
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if route != "GET /v1/events" {
		m.duration.WithLabelValues(route).Observe(d.Seconds())
	}
}

// countPush counts a push response's results by status. The pattern cannot
// occur inside a row's text: JSON escapes the quotes there.
func (m *metrics) countPush(body []byte) {
	for _, st := range []string{"applied", "merged", "superseded", "conflict", "rejected"} {
		if n := bytes.Count(body, []byte(`"status":"`+st+`"`)); n > 0 {
			m.changes.WithLabelValues(st).Add(float64(n))
		}
	}
}
