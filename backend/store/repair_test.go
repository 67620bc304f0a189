package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// TestApplyBucketListing_WritesOnlyRowsThatDiffer: a repair rewrites only
// the clean rows whose version, liveness or bucket differ from the listing
// (and the missing ones), removes clean rows the listing lacks and leaves a
// pending edit alone (issue 16: it rewrote every clean row of the bucket,
// so a scattered repair cost about a full re-pull).
func TestApplyBucketListing_WritesOnlyRowsThatDiffer(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	id := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	const n = 20
	var listing []protocol.PullChange
	for i := 1; i <= n; i++ {
		listing = append(listing, pulled(id(i), int64(100+i), 1))
	}
	extra := pulled(id(n+1), 200, 1) // clean here, no longer live on the server
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 300, Changes: append(append([]protocol.PullChange{}, listing...), extra)}); err != nil {
		t.Fatal(err)
	}
	// Row 20 is edited (pending): the repair only remembers its state.
	in := validInput()
	in.Quantity = 77
	if _, err := s.UpdateRecord(ctx, id(n), in); err != nil {
		t.Fatal(err)
	}
	// Drift, directly in the file: rolled back, deleted, gone, moved day.
	for _, q := range []struct{ sql, id string }{
		{"UPDATE production_records SET version = version - 1 WHERE id = ?", id(1)},
		{"UPDATE production_records SET deleted_at = 1 WHERE id = ?", id(2)},
		{"DELETE FROM production_records WHERE id = ?", id(3)},
		{"UPDATE production_records SET created_at = created_at - 86400000 WHERE id = ?", id(4)},
	} {
		if _, err := s.w.ExecContext(ctx, q.sql, q.id); err != nil {
			t.Fatal(err)
		}
	}
	syncedAt := func() map[string]int64 {
		t.Helper()
		rs, err := s.w.QueryContext(ctx, "SELECT id, coalesce(synced_at, 0) FROM production_records")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		out := map[string]int64{}
		for rs.Next() {
			var k string
			var at int64
			if err := rs.Scan(&k, &at); err != nil {
				t.Fatal(err)
			}
			out[k] = at
		}
		return out
	}
	before := syncedAt()
	bucket := checksum.Bucket(protocol.TableProductionRecords, id(1), true, 1760000000000)
	res, err := s.ApplyBucketListing(ctx, protocol.TableProductionRecords, bucket, listing)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 4 || res.Remembered != 1 || res.Removed != 1 || res.Device != res.Listed {
		t.Fatalf("repair = %+v; want 4 written (the drifted rows), 1 remembered, 1 removed, device = listed", res)
	}
	after := syncedAt()
	for i := 5; i <= n; i++ {
		if after[id(i)] != before[id(i)] {
			t.Errorf("row %d, already at the listed state, was rewritten (synced_at %d → %d)", i, before[id(i)], after[id(i)])
		}
	}
	if _, ok := after[extra.ID]; ok {
		t.Errorf("the clean row the listing lacks was kept")
	}
	r, err := s.GetRecord(ctx, id(n))
	if err != nil || r.Quantity != 77 || r.SyncedAt != nil {
		t.Fatalf("the pending edit was touched: %+v, %v", r, err)
	}
	for i := 1; i <= 4; i++ {
		r, err := s.GetRecord(ctx, id(i))
		if err != nil || r.Version != int64(100+i) || r.DeletedAt != nil || r.CreatedAt != 1760000000000 {
			t.Errorf("drifted row %d not repaired: %+v, %v", i, r, err)
		}
	}
	checkSums(t, s, "after repair")
	// Applied again: nothing differs, nothing is written.
	res, err = s.ApplyBucketListing(ctx, protocol.TableProductionRecords, bucket, listing)
	if err != nil || res.Written != 0 || res.Removed != 0 || res.Device != res.Listed {
		t.Fatalf("second repair = %+v, %v; want nothing written", res, err)
	}
}
