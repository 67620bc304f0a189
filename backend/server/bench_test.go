package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/pgstore"
	"github.com/outpost-app/outpost/backend/server/pgstore/pgtest"
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
// sync round (docs/design.md section 8: the final page's "checksums" member) for
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

// sumsSwitch wraps a store for BenchmarkChecksums_Push: with skip set, its
// transactions drop AddSum, so the store writes no checksums and the push
// path is the one before docs/design.md section 8. Both variants go through the
// wrapper, so they pay the same indirection. It exists only in this test
// file: no configuration or flag reaches it. The engine still computes
// each row's hash and bucket in both (BenchmarkChecksums_HashPerRow
// measures that part).
type sumsSwitch struct {
	server.Store
	skip bool
}

func (s sumsSwitch) Begin(ctx context.Context, site string) (server.Tx, error) {
	tx, err := s.Store.Begin(ctx, site)
	if err != nil {
		return nil, err
	}
	return sumsSwitchTx{Tx: tx, skip: s.skip}, nil
}

type sumsSwitchTx struct {
	server.Tx
	skip bool
}

func (t sumsSwitchTx) AddSum(table, bucket string, d checksum.Sum) {
	if !t.skip {
		t.Tx.AddSum(table, bucket, d)
	}
}

// WrittenByOthers keeps the store's own check (the engine falls back to a
// cheaper one without it).
func (t sumsSwitchTx) WrittenByOthers(ctx context.Context, table, id string, after int64, deviceID string) (bool, error) {
	return t.Tx.(server.OtherWriters).WrittenByOthers(ctx, table, id, after, deviceID)
}

// BenchmarkChecksums_Push measures push throughput with the checksums kept
// and without them (the same engine over sumsSwitch with skip set), on
// SQLite and on PostgreSQL (OUTPOST_TEST_PG, see .ci/postgres; skipped
// without it), through the engine without HTTP, where the sums' share is
// the largest. Workloads: insert100, batches of 100 new production records
// of one day (one bucket); update100, batches of 100 updates of line
// configs picked at random among 5000 (about 85 of the 256 buckets per
// batch, the worst case).
//
// The two variants run side by side on two fresh databases, batch by batch
// (each b.N is one batch of each, in alternating order), so that the load
// of a shared machine, which changes over seconds, falls on both alike.
// Metrics: each variant's rows/s over the run, and the cost of the sums
// (the target: at most 5%) as the median over the pairs of
// (time with sums ÷ time without − 1), robust to a pair a burst of other
// load hit; backend/server/bench/checksums.sh runs it several times.
func BenchmarkChecksums_Push(b *testing.B) {
	for _, s := range benchStores {
		for _, w := range []string{"insert100", "update100"} {
			b.Run(s.name+"/"+w, func(b *testing.B) {
				var ps [2]*pusher // kept, skipped
				var batches [2][][]json.RawMessage
				for v := range ps {
					st := s.open(b)
					srv := server.New(server.Config{Store: sumsSwitch{Store: st, skip: v == 1}, Logger: discardLogger()})
					b.Cleanup(func() { srv.Close(); st.Close() })
					ps[v] = &pusher{b: b, eng: srv.Engine(), dev: server.Device{ID: "d1", SiteID: "S"}}
					if w == "insert100" {
						batches[v] = ps[v].inserts(b.N, 100)
					} else {
						batches[v] = ps[v].updates(b.N, 100, 5000)
					}
				}
				var total [2]time.Duration
				ratios := make([]float64, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					var d [2]time.Duration
					for k := range 2 {
						v := (i + k) % 2 // alternate which goes first
						t0 := time.Now()
						ps[v].push(batches[v][i])
						d[v] = time.Since(t0)
						total[v] += d[v]
					}
					ratios = append(ratios, d[0].Seconds()/d[1].Seconds())
				}
				b.StopTimer()
				slices.Sort(ratios)
				b.ReportMetric(float64(b.N*100)/total[0].Seconds(), "kept-rows/s")
				b.ReportMetric(float64(b.N*100)/total[1].Seconds(), "skipped-rows/s")
				b.ReportMetric((total[0].Seconds()/total[1].Seconds()-1)*100, "total-cost-%")
				b.ReportMetric((ratios[len(ratios)/2]-1)*100, "cost-%")
			})
		}
	}
}

// benchStores are the stores a benchmark runs on: SQLite in a temporary
// file, and PostgreSQL in a schema of its own (OUTPOST_TEST_PG, see
// .ci/postgres; skipped without it).
var benchStores = []struct {
	name string
	open func(b *testing.B) server.Store
}{
	{"sqlite", func(b *testing.B) server.Store {
		st, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), newID()+".db"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
	{"postgres", func(b *testing.B) server.Store {
		st, err := pgstore.Open(context.Background(), pgtest.URL(b), pgstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
}

// BenchmarkPush_HLCLookup measures what recognising a write arriving again
// costs (issue 15: the push looks the change's hlc up in the row's history,
// Tx.HLCsHeld) on the one path that reads it, a change based below
// the row's version; new rows and edits of the current version (the other
// benchmarks) read nothing more. Workload: batches of 100 updates on base 0
// (as after a timeline change) of production records another device wrote,
// each applied over it by lww with an auto_resolved record. The store's
// lookup and a wrapper answering "not found" without reading run side by
// side, batch by batch, as in BenchmarkChecksums_Push; cost-% is the median
// over the pairs of (time with the lookup ÷ time without − 1).
func BenchmarkPush_HLCLookup(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			var ps [2]*pusher // looked up, skipped
			var batches [2][][]json.RawMessage
			for v := range ps {
				st := s.open(b)
				srv := server.New(server.Config{Store: lookupSwitch{Store: st, skip: v == 1}, Logger: discardLogger()})
				b.Cleanup(func() { srv.Close(); st.Close() })
				other := &pusher{b: b, eng: srv.Engine(), dev: server.Device{ID: "d0", SiteID: "S"}}
				var ids []string
				for len(ids) < b.N*100 {
					for id := range other.push(other.inserts(1, 1000)[0]) {
						ids = append(ids, id)
					}
				}
				ps[v] = &pusher{b: b, eng: srv.Engine(), dev: server.Device{ID: "d1", SiteID: "S"}}
				batches[v] = make([][]json.RawMessage, b.N)
				for i := range batches[v] {
					for _, id := range ids[i*100 : (i+1)*100] {
						raw, _ := json.Marshal(change("production_records", id, "upsert", 0, ps[v].hlc(), record(id, map[string]any{"quantity": 7})))
						batches[v][i] = append(batches[v][i], raw)
					}
				}
			}
			var total [2]time.Duration
			ratios := make([]float64, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				var d [2]time.Duration
				for k := range 2 {
					v := (i + k) % 2 // alternate which goes first
					t0 := time.Now()
					ps[v].push(batches[v][i])
					d[v] = time.Since(t0)
					total[v] += d[v]
				}
				ratios = append(ratios, d[0].Seconds()/d[1].Seconds())
			}
			b.StopTimer()
			slices.Sort(ratios)
			b.ReportMetric(float64(b.N*100)/total[0].Seconds(), "lookup-rows/s")
			b.ReportMetric(float64(b.N*100)/total[1].Seconds(), "skipped-rows/s")
			b.ReportMetric((ratios[len(ratios)/2]-1)*100, "cost-%")
		})
	}
}

// lookupSwitch is a store whose transactions, when skip is set, answer
// HLCsHeld "none" without reading (BenchmarkPush_HLCLookup).
type lookupSwitch struct {
	server.Store
	skip bool
}

func (s lookupSwitch) Begin(ctx context.Context, site string) (server.Tx, error) {
	tx, err := s.Store.Begin(ctx, site)
	if err != nil {
		return nil, err
	}
	return lookupSwitchTx{Tx: tx, skip: s.skip}, nil
}

type lookupSwitchTx struct {
	server.Tx
	skip bool
}

func (t lookupSwitchTx) HLCsHeld(ctx context.Context, table string, writes []server.RowHLC) (map[server.RowHLC]bool, error) {
	if t.skip {
		return map[server.RowHLC]bool{}, nil
	}
	return t.Tx.HLCsHeld(ctx, table, writes)
}

// WrittenByOthers keeps the store's own check.
func (t lookupSwitchTx) WrittenByOthers(ctx context.Context, table, id string, after int64, deviceID string) (bool, error) {
	return t.Tx.(server.OtherWriters).WrittenByOthers(ctx, table, id, after, deviceID)
}

// pusher pushes batches through the engine as one device.
type pusher struct {
	b   *testing.B
	eng *server.Engine
	dev server.Device
	n   int // changes made, for distinct hlcs
}

func (p *pusher) hlc() string {
	p.n++
	return fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), p.n%100000, p.dev.ID)
}

// push sends one batch and returns the version each row got.
func (p *pusher) push(batch []json.RawMessage) map[string]int64 {
	body, _, err := p.eng.Push(context.Background(), p.dev, server.PushBatch{BatchID: newID(), Changes: batch})
	if err != nil {
		p.b.Fatal(err)
	}
	var resp protocol.PushResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		p.b.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range resp.Results {
		if r.Status != "applied" || r.Version == nil {
			p.b.Fatalf("push %s/%s: %s %s", r.Table, r.ID, r.Status, r.Error)
		}
		out[r.ID] = *r.Version
	}
	return out
}

// inserts makes n batches of size new production records created today.
func (p *pusher) inserts(n, size int) [][]json.RawMessage {
	now := time.Now().UnixMilli()
	out := make([][]json.RawMessage, n)
	for i := range out {
		for range size {
			id := newID()
			raw, _ := json.Marshal(change("production_records", id, "upsert", 0, p.hlc(), record(id, map[string]any{"created_at": now, "updated_at": now})))
			out[i] = append(out[i], raw)
		}
	}
	return out
}

// updates stores rows line configs (untimed) and makes n batches of size
// updates of configs picked at random, each based on the version the
// previous one will have written (every push is applied).
func (p *pusher) updates(n, size, rows int) [][]json.RawMessage {
	ids := make([]string, rows)
	version := map[string]int64{}
	for i := 0; i < rows; i += 1000 {
		var batch []json.RawMessage
		for j := i; j < min(rows, i+1000); j++ {
			ids[j] = newID()
			raw, _ := json.Marshal(change("line_configs", ids[j], "upsert", 0, p.hlc(), config(ids[j], nil)))
			batch = append(batch, raw)
		}
		for id, v := range p.push(batch) {
			version[id] = v
		}
	}
	// The versions the batches will get: the site's sequence advances by
	// one per row written, in the order of the batch.
	seq := int64(0)
	for _, v := range version {
		seq = max(seq, v)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	out := make([][]json.RawMessage, n)
	for i := range out {
		picked := map[string]bool{}
		for len(out[i]) < size {
			id := ids[rnd.IntN(rows)]
			if picked[id] {
				continue
			}
			picked[id] = true
			raw, _ := json.Marshal(change("line_configs", id, "upsert", version[id], p.hlc(), config(id, map[string]any{"speed_rpm": 1000 + i})))
			out[i] = append(out[i], raw)
			seq++
			version[id] = seq
		}
	}
	return out
}

// BenchmarkChecksums_HashPerRow measures what the engine adds to every row
// written in both variants of BenchmarkChecksums_Push: the hash of the new
// state and of the old one, and the bucket of a hashed table.
func BenchmarkChecksums_HashPerRow(b *testing.B) {
	reg := protocol.NewRegistry()
	id := newID()
	data := []byte(`{"id":"` + id + `"}`)
	var d checksum.Sum
	for b.Loop() {
		d.Sub(checksum.Hash("line_configs", id, 41))
		d.Add(checksum.Hash("line_configs", id, 42))
		_ = checksum.RowBucket(reg, "line_configs", id, data)
	}
}
