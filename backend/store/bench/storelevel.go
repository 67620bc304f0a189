package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/outpost-app/outpost/backend/store"
)

func recordInput(i int) store.RecordInput {
	return store.RecordInput{LineID: "L" + strconv.Itoa(i%20), ProductID: "P-" + strconv.Itoa(i%500),
		Quantity: int64(i % 1000), OperatorID: "op-" + strconv.Itoa(i%50)}
}

// runStore measures the same operations through the store's API: validation,
// UUIDs, HLC stamps and the clock's save, the store's indexes, its pools.
func runStore(rc *recorder, dir, name string, opts store.Options, sz sizes, rng *rand.Rand) error {
	ctx := context.Background()
	opts.Path = dir + "/" + name + "-store.db"
	s, err := store.Open(ctx, opts)
	if err != nil {
		return err
	}
	ins := make([]store.RecordInput, sz.batch)
	for i := range ins {
		ins[i] = recordInput(i)
	}
	if err := rc.time("store", name, "insert_batch", 1, sz.batch, "CreateRecords, one transaction", func() error {
		_, err := s.CreateRecords(ctx, ins)
		return err
	}); err != nil {
		return err
	}
	if err := rc.time("store", name, "insert_single_tx", sz.single, sz.single, "CreateRecord, synchronous=FULL", func() error {
		for i := 0; i < sz.single; i++ {
			if _, err := s.CreateRecord(ctx, recordInput(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// The virtual list over 110k records: one 200-row window with its total.
	for _, lc := range []struct {
		op string
		f  store.RecordFilter
	}{
		{"list_page_top", store.RecordFilter{Sort: store.SortUpdatedAt, Desc: true, Limit: 200}},
		{"list_page_deep", store.RecordFilter{Sort: store.SortUpdatedAt, Desc: true, Limit: 200, Offset: sz.batch / 2}},
		{"list_page_filtered", store.RecordFilter{LineID: "L7", Sort: store.SortQuantity, Limit: 200, Offset: sz.batch / 80}},
	} {
		const reps = 50
		if err := rc.time("store", name, lc.op, reps, reps*200, fmt.Sprintf("200 rows + total of %d, offset %d", sz.batch+sz.single, lc.f.Offset), func() error {
			for i := 0; i < reps; i++ {
				if p, err := s.ListRecords(ctx, lc.f); err != nil || len(p.Records) == 0 {
					return fmt.Errorf("page: %d rows, %v", len(p.Records), err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	s.Close()
	removeDB(opts.Path)

	// The 1M-row table, filled through the API in 100k-row transactions.
	opts.Path = dir + "/" + name + "-store-big.db"
	fill := opts
	fill.CacheSizeKiB = fillCacheKiB
	s, err = store.Open(ctx, fill)
	if err != nil {
		return err
	}
	var big []string
	if err := rc.time("store", name, "fill_1m", 1, sz.big, "setup, CreateRecords in 100k-row transactions, 256 MiB cache", func() error {
		for done := 0; done < sz.big; done += sz.batch {
			n := min(sz.batch, sz.big-done)
			recs, err := s.CreateRecords(ctx, ins[:n])
			if err != nil {
				return err
			}
			for _, r := range recs {
				big = append(big, r.ID)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	s.Close()
	// Mark all but sz.pending rows, spread through the table, as synced.
	key := opts.Key
	db, err := drvConfig{name: "raw", key: key, cacheKiB: 65536, sync: "NORMAL", noSchema: true}.open(opts.Path)
	if err != nil {
		return err
	}
	every := sz.big / sz.pending
	if _, err := db.Exec(`UPDATE production_records SET synced_at = created_at + 1000, server_updated_at = created_at + 1000, version = rowid
		WHERE rowid % ? != ?`, every, every/2); err != nil {
		db.Close()
		return err
	}
	db.Close()

	s, err = store.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { s.Close(); removeDB(opts.Path) }()
	if err := rc.time("store", name, "point_read_cold", sz.reads, sz.reads, fmt.Sprintf("GetRecord, random ids over %d rows, fresh pools", sz.big), func() error {
		for i := 0; i < sz.reads; i++ {
			if _, err := s.GetRecord(ctx, big[rng.IntN(len(big))]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// The client's path: NewBatch reads the pending rows, writes the batch
	// and marks them in flight; DropBatch makes them pending again for the
	// next round.
	newBatch := func() error {
		b, err := s.NewBatch(ctx, sz.pending)
		if err != nil || b == nil || b.Changes != sz.pending {
			return fmt.Errorf("new batch = %+v, %v", b, err)
		}
		return s.DropBatch(ctx, b.ID)
	}
	for i := 0; i < 5; i++ {
		if err := newBatch(); err != nil {
			return err
		}
	}
	const reps = 200
	if err := rc.time("store", name, "new_batch", reps, reps*sz.pending, fmt.Sprintf("NewBatch(%d) of %d rows, then DropBatch", sz.pending, sz.big), func() error {
		for i := 0; i < reps; i++ {
			if err := newBatch(); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := rc.time("store", name, "pending_count", 1000, 1000, "PendingCount", func() error {
		for i := 0; i < 1000; i++ {
			if n, err := s.PendingCount(ctx); err != nil || n != int64(sz.pending) {
				return fmt.Errorf("pending count %d, %v", n, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	hot := big[:sz.hot]
	for i := 0; i < sz.hot*3; i++ {
		if _, err := s.GetRecord(ctx, hot[rng.IntN(len(hot))]); err != nil {
			return err
		}
	}
	return rc.time("store", name, "point_read_cached", sz.reads, sz.reads, fmt.Sprintf("GetRecord over a %d-row hot set", sz.hot), func() error {
		for i := 0; i < sz.reads; i++ {
			if _, err := s.GetRecord(ctx, hot[rng.IntN(len(hot))]); err != nil {
				return err
			}
		}
		return nil
	})
}
