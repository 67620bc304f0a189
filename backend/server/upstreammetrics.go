package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// upstreamCollector exports a site hub's link (Config.Upstream) as
// metrics, read at each scrape (docs/design.md section 9): whether it is
// up, how many site writes wait for central and how old the oldest is.
type upstreamCollector struct {
	health  func(context.Context) *healthView
	up      *prometheus.Desc
	waiting *prometheus.Desc
	oldest  *prometheus.Desc
	last    *prometheus.Desc
}

type healthView struct {
	up                 bool
	waiting            int
	oldestMS, lastSync int64
}

func newUpstreamCollector(cfg Config) *upstreamCollector {
	return &upstreamCollector{
		health: func(ctx context.Context) *healthView {
			h := cfg.Upstream(ctx)
			if h == nil {
				return nil
			}
			return &healthView{up: h.Up, waiting: h.Waiting, oldestMS: h.OldestMS, lastSync: h.LastSync}
		},
		up:      prometheus.NewDesc("outpost_upstream_up", "1 when the hub's last sync with central succeeded.", nil, nil),
		waiting: prometheus.NewDesc("outpost_upstream_waiting_changes", "Site writes central has not answered yet (counted up to 10000).", nil, nil),
		oldest:  prometheus.NewDesc("outpost_upstream_oldest_waiting_seconds", "Age of the oldest site write waiting for central (0 when none).", nil, nil),
		last:    prometheus.NewDesc("outpost_upstream_last_sync_timestamp_seconds", "End of the hub's last successful sync with central (0 never).", nil, nil),
	}
}

func (c *upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.waiting
	ch <- c.oldest
	ch <- c.last
}

func (c *upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := c.health(ctx)
	if h == nil {
		return
	}
	up := 0.0
	if h.up {
		up = 1
	}
	age := 0.0
	if h.oldestMS > 0 {
		age = max(0, time.Since(time.UnixMilli(h.oldestMS)).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(h.waiting))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(h.lastSync)/1000)
}
