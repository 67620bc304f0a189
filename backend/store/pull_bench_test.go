package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// benchPages makes the pull pages of a site of n production records as the
// server sends them (JSON decoded with UseNumber, as the client does), in a
// goroutine one page ahead, like the client's prefetch.
func benchPages(n, limit int) <-chan protocol.PullResponse {
	ch := make(chan protocol.PullResponse, 1)
	go func() {
		defer close(ch)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		seq := int64(0)
		for start := 0; start < n; start += limit {
			var buf bytes.Buffer
			buf.WriteString(`{"changes":[`)
			for i := start; i < min(start+limit, n); i++ {
				seq++
				if i > start {
					buf.WriteByte(',')
				}
				id, _ := uuid.NewV7()
				created := base + int64(i)*10
				fmt.Fprintf(&buf, `{"table":"production_records","id":%q,"version":%d,"hlc":"%015d-00000-dev-1","row":{"id":%q,"line_id":"L%d","product_id":"P-%d","quantity":%d,"operator_id":"op-%d","created_at":%d,"updated_at":%d,"deleted_at":null,"server_updated_at":%d}}`,
					id, seq, created, id, i%20, i%500, i%1000, i%50, created, created, created+5)
			}
			fmt.Fprintf(&buf, `],"cursor":%d,"has_more":%t}`, seq, start+limit < n)
			var page protocol.PullResponse
			dec := json.NewDecoder(&buf)
			dec.UseNumber()
			if err := dec.Decode(&page); err != nil {
				panic(err)
			}
			ch <- page
		}
	}()
	return ch
}

// TestPullApplyBench is the store-level A/B of the initial sync's local
// side: OUTPOST_PULLBENCH_ROWS rows in pages of 5000, applied one page per
// transaction (as before) and in batches of OUTPOST_PULLBENCH_BATCH rows,
// alternating, OUTPOST_PULLBENCH_REPS times. Skipped unless the rows are set.
func TestPullApplyBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OUTPOST_PULLBENCH_ROWS"))
	if n == 0 {
		t.Skip("set OUTPOST_PULLBENCH_ROWS to run")
	}
	reps, _ := strconv.Atoi(os.Getenv("OUTPOST_PULLBENCH_REPS"))
	reps = max(reps, 1)
	batch, _ := strconv.Atoi(os.Getenv("OUTPOST_PULLBENCH_BATCH"))
	if batch == 0 {
		batch = 50_000
	}
	const limit = protocol.MaxPullLimit
	ctx := context.Background()
	variant := os.Getenv("OUTPOST_PULLBENCH_VARIANT")
	cache, _ := strconv.Atoi(os.Getenv("OUTPOST_PULLBENCH_CACHE_KIB"))
	run := func(batchRows int, v string) time.Duration {
		o := Options{Path: filepath.Join(t.TempDir(), "pull.db"), Key: testKey(3)}
		if v != "" {
			o.CacheSizeKiB = cache
		}
		s, err := Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pages := benchPages(n, limit)
		var idx []string
		t0 := time.Now()
		if v == "noidx" || v == "notrig" {
			rows, err := s.w.Query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'production_records' AND name LIKE 'idx_production_live_%'")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var nm, q string
				rows.Scan(&nm, &q)
				names = append(names, nm)
				idx = append(idx, q)
			}
			rows.Close()
			for _, nm := range names {
				if _, err := s.w.Exec("DROP INDEX " + nm); err != nil {
					t.Fatal(err)
				}
			}
		}
		done := false
		for !done {
			rows := 0
			_, _, err := s.ApplyPullPages(ctx, func() (protocol.PullResponse, bool) {
				if rows >= batchRows {
					return protocol.PullResponse{}, false
				}
				p, ok := <-pages
				if !ok || !p.HasMore {
					done = true
				}
				if !ok {
					return p, false
				}
				rows += len(p.Changes)
				return p, true
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t1 := time.Now()
		for _, q := range idx {
			if _, err := s.w.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if len(idx) > 0 {
			t.Logf("recreate %d indexes: %.2fs", len(idx), time.Since(t1).Seconds())
		}
		d := time.Since(t0)
		var cnt int
		if err := s.r.QueryRow("SELECT count(*) FROM production_records").Scan(&cnt); err != nil || cnt != n {
			t.Fatalf("count %d, %v", cnt, err)
		}
		return d
	}
	for r := 0; r < reps; r++ {
		for _, c := range []struct {
			b int
			v string
		}{{limit, ""}, {batch, ""}, {batch, variant}} {
			if c.v == "" && c.b == batch && variant != "" && os.Getenv("OUTPOST_PULLBENCH_SKIPMID") != "" {
				continue
			}
			d := run(c.b, c.v)
			t.Logf("rep %d batch %6d rows %q: %d rows in %.2fs = %.0f rows/s", r, c.b, c.v, n, d.Seconds(), float64(n)/d.Seconds())
		}
	}
}
