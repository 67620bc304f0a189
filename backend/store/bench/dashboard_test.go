package main

// The dashboard's queries on 1M encrypted production records, 20 lines,
// 90 days: through the hourly rollup (store.Aggregate) and by scanning the
// records (store.AggregateScan), the reference. Not a timed test: run
//
//	go test ./backend/store/bench -run '^$' -bench Dashboard -benchtime 5x
//
// BENCH_DASHBOARD_ROWS changes the size (default 1,000,000); the database
// is built once per run (pulled pages of 1000 rows, so the rollup is kept
// by the same triggers as in the app) in BENCH_DIR or a temp dir.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/period"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

var (
	dashOnce  sync.Once
	dashStore *store.Store
	dashEnd   time.Time
	dashErr   error
)

const (
	dashLines = 20
	dashDays  = 90
)

// dashFixture fills the store: each line runs one product per shift (from
// 40 products) and one operator per shift (from 60), records spread evenly
// over the 90 days.
func dashFixture(b *testing.B) (*store.Store, time.Time) {
	dashOnce.Do(func() {
		rows := 1_000_000
		if v, err := strconv.Atoi(os.Getenv("BENCH_DASHBOARD_ROWS")); err == nil && v > 0 {
			rows = v
		}
		dir := os.Getenv("BENCH_DIR")
		if dir == "" {
			dir = os.TempDir()
		}
		dir, dashErr = os.MkdirTemp(dir, "outpost-dash-bench-")
		if dashErr != nil {
			return
		}
		key := make([]byte, 32)
		rand.Read(key)
		ctx := context.Background()
		dashStore, dashErr = store.Open(ctx, store.Options{Path: filepath.Join(dir, "dash.db"), Key: key, Synchronous: "NORMAL"})
		if dashErr != nil {
			return
		}
		dashEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		start := dashEnd.AddDate(0, 0, -dashDays).UnixMilli()
		span := dashEnd.UnixMilli() - start
		t0 := time.Now()
		const page = 1000
		for i := 0; i < rows; i += page {
			var chs []protocol.PullChange
			for j := i; j < min(i+page, rows); j++ {
				at := start + int64(j)*span/int64(rows)
				line := j % dashLines
				shift := (at / (8 * 3_600_000)) // a product and an operator per line and shift
				id := uuid.NewString()
				chs = append(chs, protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: int64(j + 1),
					HLC: fmt.Sprintf("%015d-00000-bench", at), Row: protocol.Row{
						"id": id, "line_id": "L" + strconv.Itoa(line), "product_id": "P-" + strconv.Itoa(int((shift*7+int64(line)*3)%40)),
						"quantity": json.Number(strconv.Itoa(1 + j%50)), "operator_id": "op-" + strconv.Itoa(int((shift+int64(line))%60)),
						"created_at": at, "updated_at": at, "deleted_at": nil, "server_updated_at": at,
					}})
			}
			if _, dashErr = dashStore.ApplyPullPage(ctx, protocol.PullResponse{Cursor: int64(i + page), Changes: chs}); dashErr != nil {
				return
			}
		}
		fmt.Fprintf(os.Stderr, "dashboard fixture: %d rows in %s (%s)\n", rows, time.Since(t0).Round(time.Second), dir)
	})
	if dashErr != nil {
		b.Fatal(dashErr)
	}
	return dashStore, dashEnd
}

func boundsOf(bs []period.Bucket) []int64 {
	out := []int64{bs[0].From}
	for _, x := range bs {
		out = append(out, x.To)
	}
	return out
}

func BenchmarkDashboard(b *testing.B) {
	s, end := dashFixture(b)
	ctx := context.Background()
	loc := time.UTC
	from90 := end.AddDate(0, 0, -dashDays)
	days90, _ := period.Buckets(period.Day, from90, end, loc, nil)
	shifts7, _ := period.Buckets(period.Shifts, end.AddDate(0, 0, -7), end, loc, period.DefaultShifts)
	hours1, _ := period.Buckets(period.Hour, end.AddDate(0, 0, -1), end, loc, nil)
	whole90 := []int64{from90.UnixMilli(), end.UnixMilli()}
	// A custom range that starts and ends mid-hour: the edges are scanned.
	odd := []int64{from90.Add(17 * time.Minute).UnixMilli(), end.Add(-23 * time.Minute).UnixMilli()}
	cases := []struct {
		name   string
		by     string
		bounds []int64
		line   string
		scan   bool
	}{
		{"90d_by_day/rollup", store.ByProduct, boundsOf(days90), "", false},
		{"90d_by_day/scan", store.ByProduct, boundsOf(days90), "", true},
		{"90d_top_operators/rollup", store.ByOperator, whole90, "", false},
		{"90d_top_operators/scan", store.ByOperator, whole90, "", true},
		{"90d_one_line_by_day/rollup", store.ByProduct, boundsOf(days90), "L7", false},
		{"90d_mid_hour_edges/rollup", store.ByProduct, odd, "", false},
		{"7d_by_shift/rollup", store.ByProduct, boundsOf(shifts7), "", false},
		{"24h_by_hour/rollup", store.ByProduct, boundsOf(hours1), "", false},
		{"24h_by_hour/scan", store.ByProduct, boundsOf(hours1), "", true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var n int
			for i := 0; i < b.N; i++ {
				var ts []store.Total
				var err error
				if c.scan {
					ts, err = s.AggregateScan(ctx, c.by, c.bounds, c.line)
				} else {
					ts, err = s.Aggregate(ctx, c.by, c.bounds, c.line)
				}
				if err != nil || len(ts) == 0 {
					b.Fatalf("%d totals, %v", len(ts), err)
				}
				n = len(ts)
			}
			b.ReportMetric(float64(n), "totals")
		})
	}
	b.Run("line_targets", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.LineTargets(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
