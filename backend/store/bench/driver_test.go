package main

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkPointReadCached profiles the driver-level cached point read.
func BenchmarkPointReadCached(b *testing.B) {
	key := make([]byte, 32)
	c := drvConfig{name: "enc", key: key, cacheKiB: 32 << 10, sync: "FULL"}
	p := filepath.Join(b.TempDir(), "b.db")
	db, err := c.open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := newIDs(10000)
	if err := insertRows(db, ids, 0, len(ids), 0, 0, false); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pointReads(db, ids, 30000, false, rng)
	b.ResetTimer()
	if err := pointReads(db, ids, b.N, false, rng); err != nil {
		b.Fatal(err)
	}
}
