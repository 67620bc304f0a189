package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// BenchmarkEngine_Push100 measures the sync algorithm and the SQLite store
// on batches of 100 new production records, without HTTP.
func BenchmarkEngine_Push100(b *testing.B) {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, Logger: discardLogger()})
	b.Cleanup(func() { srv.Close(); st.Close() })
	dev := server.Device{ID: "d1", SiteID: "S"}
	batches := make([][]json.RawMessage, b.N)
	for i := range batches {
		for j := 0; j < 100; j++ {
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
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "rows/s")
}
