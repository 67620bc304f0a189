package store

import (
	"context"
	"path/filepath"
	"testing"
)

// Benchmarks of the hot paths; the full comparison (encrypted, unencrypted,
// better-sqlite3, knobs) is bench/run.sh.

func benchStore(b *testing.B, unencrypted bool) *Store {
	b.Helper()
	opts := Options{Path: filepath.Join(b.TempDir(), "bench.db"), Unencrypted: unencrypted}
	if !unencrypted {
		opts.Key = testKey(9)
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkCreateRecords(b *testing.B) {
	for _, plain := range []bool{false, true} {
		name := "encrypted"
		if plain {
			name = "unencrypted"
		}
		b.Run(name, func(b *testing.B) {
			s := benchStore(b, plain)
			ins := make([]RecordInput, 1000)
			for i := range ins {
				ins[i] = validInput()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.CreateRecords(context.Background(), ins); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(ins))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkGetRecord(b *testing.B) {
	s := benchStore(b, false)
	recs, err := s.CreateRecords(context.Background(), make1000())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.GetRecord(context.Background(), recs[i%len(recs)].ID); err != nil {
			b.Fatal(err)
		}
	}
}

func make1000() []RecordInput {
	ins := make([]RecordInput, 1000)
	for i := range ins {
		ins[i] = validInput()
	}
	return ins
}
