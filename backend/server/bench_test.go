package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// BenchmarkEngine_Push100 measures the sync algorithm and the SQLite store
// on batches of 100 new production records, without HTTP.
func BenchmarkEngine_Push100(b *testing.B) { benchEnginePush(b, 100) }

// BenchmarkEngine_Push1000: the same with batches of 1000 (the largest a
// push may carry).
func BenchmarkEngine_Push1000(b *testing.B) { benchEnginePush(b, 1000) }

func benchEnginePush(b *testing.B, size int) {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, Logger: discardLogger()})
	b.Cleanup(func() { srv.Close(); st.Close() })
	dev := server.Device{ID: "d1", SiteID: "S"}
	batches := make([][]json.RawMessage, b.N)
	for i := range batches {
		for j := 0; j < size; j++ {
			id := newID()
			raw, _ := json.Marshal(change("production_records", id, "upsert", 0, fmt.Sprintf("%015d-%05d-d1", time.Now().UnixMilli(), j), record(id, nil)))
			batches[i] = append(batches[i], raw)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := srv.Engine().Push(context.Background(), dev, server.PushBatch{BatchID: newID(), Changes: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHTTP_Push100 measures a push of 100 new rows through HTTP on
// loopback, one client.
func BenchmarkHTTP_Push100(b *testing.B) {
	h := newHarness(b)
	d := h.enroll("S", "operator")
	bodies := make([]string, b.N)
	for i := range bodies {
		var cs []string
		for j := 0; j < 100; j++ {
			id := newID()
			cs = append(cs, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"upsert","base_version":0,"hlc":"%015d-%05d-%s","row":{"id":%q,"line_id":"L","product_id":"P","quantity":1,"operator_id":"o","created_at":1,"updated_at":2}}`, id, time.Now().UnixMilli(), j, d.ID, id))
		}
		bodies[i] = fmt.Sprintf(`{"batch_id":%q,"changes":[%s]}`, newID(), strings.Join(cs, ","))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", h.ts.URL+"/v1/push", bytes.NewReader([]byte(bodies[i])))
		req.Header.Set("Authorization", "Bearer "+d.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkChecksums_BytesPerRound reports the bytes the checksums add to a
// sync round (DESIGN.md section 8: the final page's "checksums" member) for
// a site with the six synced tables, each holding a million live rows (the
// count's digits are the only part that grows), plain and gzipped.
func BenchmarkChecksums_BytesPerRound(b *testing.B) {
	tables := []string{"production_records", "line_configs", "lines", "products", "people", "site_settings"}
	a := server.PullAnswer{Checksums: map[string]checksum.Wire{}}
	for i, t := range tables {
		a.Checksums[t] = checksum.Sum{Count: 1_000_000, Sum: checksum.Hash(t, "x", int64(i))}.Wire()
	}
	var plain, zipped int
	for b.Loop() {
		body, err := json.Marshal(map[string]any{"checksums": a.Checksums})
		if err != nil {
			b.Fatal(err)
		}
		plain = len(body) - len(`{}`) + len(`,`) // the member and its comma inside the page
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		zipped = buf.Len()
	}
	b.ReportMetric(float64(plain), "bytes/round")
	b.ReportMetric(float64(zipped), "gzip-bytes/round")
}
