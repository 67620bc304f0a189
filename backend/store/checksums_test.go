package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// recomputeSums computes the device's bucket checksums from scratch: a
// clean row counts its own state, a row that is not clean its remembered
// server state, every conflict record counts (docs/design.md section 8).
func recomputeSums(t testing.TB, s *Store) map[string]checksum.Sum {
	t.Helper()
	ctx := context.Background()
	out := map[string]checksum.Sum{}
	add := func(bucket string, h uint64) {
		c := out[bucket]
		c.Add(h)
		out[bucket] = c
	}
	for _, tb := range syncTables {
		rows, err := s.r.QueryContext(ctx, "SELECT r.id, r.synced_at, r.version, r.deleted_at, r.created_at, e.id IS NOT NULL, k.version, k.live, k.bucket FROM "+
			tb.Name+" r LEFT JOIN sync_rows e ON e.tbl = ? AND e.id = r.id LEFT JOIN sync_known k ON k.tbl = ? AND k.id = r.id", tb.Name, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			var synced, deleted, kv sql.NullInt64
			var kl sql.NullBool
			var kb sql.NullString
			var version, created int64
			var entry bool
			if err := rows.Scan(&id, &synced, &version, &deleted, &created, &entry, &kv, &kl, &kb); err != nil {
				t.Fatal(err)
			}
			switch {
			case synced.Valid && !entry:
				if version > 0 && !deleted.Valid {
					add(checksum.Bucket(tb.Name, id, tb.TimePartitioned, created), checksum.Hash(tb.Name, id, version))
				}
			case kv.Valid && kl.Bool:
				add(kb.String, checksum.Hash(tb.Name, id, kv.Int64))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.r.QueryContext(ctx, "SELECT id, version FROM sync_conflicts")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var version int64
		if err := rows.Scan(&id, &version); err != nil {
			t.Fatal(err)
		}
		add(checksum.Bucket(protocol.TableConflicts, id, false, 0), checksum.Hash(protocol.TableConflicts, id, version))
	}
	return out
}

// checkSums compares the incremental sums with recomputeSums, by bucket
// and by table.
func checkSums(t testing.TB, s *Store, step string) {
	t.Helper()
	ctx := context.Background()
	tables, err := s.TableSums(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]checksum.Sum{}
	for _, name := range append(syncTableNames(), protocol.TableConflicts) {
		bs, err := s.BucketSums(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		var total checksum.Sum
		for b, c := range bs {
			got[b] = c
			total.Merge(c)
		}
		if total != tables[name] {
			t.Fatalf("%s: table %s sums to %+v, its buckets to %+v", step, name, tables[name], total)
		}
	}
	want := recomputeSums(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: incremental sums\n%v\nrecomputed\n%v", step, got, want)
	}
}

// TestStore_ChecksumsProperty runs random local edits, pulls, push
// answers of every kind, direct edits of the file, timeline changes, full
// passes, discards and bucket repairs, and checks after every step that the
// incrementally kept sums equal a from-scratch recomputation.
func TestStore_ChecksumsProperty(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { checksumsRun(t, seed, 150) })
	}
}

func checksumsRun(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	s := openTest(t, Options{})
	if err := s.SetDeviceID(ctx, "dev00001"); err != nil {
		t.Fatal(err)
	}
	days := []int64{1_760_000_000_000, 1_760_090_000_000, 1_760_180_000_000}
	var ids []string
	var version int64 = 1
	pick := func() string { return ids[rng.IntN(len(ids))] }
	serverState := func(id string, deleted bool) protocol.PullChange {
		version++
		ch := pulled(id, version, rng.Int64N(50))
		// The server keeps the created_at a row was created with.
		created := days[int(id[len(id)-1])%len(days)]
		if r, err := s.GetRecord(ctx, id); err == nil {
			created = r.CreatedAt
		}
		ch.Row["created_at"] = json.Number(itoa(created))
		if deleted {
			ch.Row["deleted_at"] = json.Number("1760000000001")
		}
		return ch
	}
	newID := func() string {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ids)+1)
		ids = append(ids, id)
		return id
	}
	for step := 0; step < steps; step++ {
		var what string
		op := rng.IntN(12)
		if len(ids) == 0 {
			op = 0
		}
		switch op {
		case 0:
			what = "pull"
			var chs []protocol.PullChange
			for k := rng.IntN(5); k >= 0; k-- {
				id := newID()
				if len(ids) > 1 && rng.IntN(2) == 0 {
					ids = ids[:len(ids)-1]
					id = pick()
				}
				chs = append(chs, serverState(id, rng.IntN(5) == 0))
			}
			if rng.IntN(3) == 0 {
				version++
				chs = append(chs, protocol.PullChange{Table: protocol.TableConflicts, ID: fmt.Sprintf("c%03d", rng.IntN(20)), Version: version,
					HLC: "001760000000000-00000-" + otherDevice, Row: protocol.Row{"table_name": protocol.TableProductionRecords, "row_id": pick(), "status": "open"}})
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: version, Changes: chs, HasMore: rng.IntN(3) > 0}); err != nil {
				t.Fatal(err)
			}
		case 1:
			what = "create"
			r, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		case 2:
			what = "edit"
			in := validInput()
			in.Quantity = rng.Int64N(100)
			if _, err := s.UpdateRecord(ctx, pick(), in); err != nil && !isDeleted(err) && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
		case 3:
			what = "delete"
			if _, err := s.DeleteRecord(ctx, pick()); err != nil && !isDeleted(err) && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
		case 4, 5:
			what = "push"
			b, err := s.OpenBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b == nil {
				if b, err = s.NewBatch(ctx, 0); err != nil {
					t.Fatal(err)
				}
			}
			if b == nil {
				continue
			}
			var req protocol.PushRequest
			if err := json.Unmarshal(b.Body, &req); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				// Edited while in flight.
				in := validInput()
				in.Quantity = 99
				if _, err := s.UpdateRecord(ctx, req.Changes[0].ID, in); err != nil && !isDeleted(err) && !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
			}
			resp := protocol.PushResponse{BatchID: b.ID, ServerTime: 5}
			for _, c := range req.Changes {
				version++
				res := protocol.PushResult{Table: c.Table, ID: c.ID, Version: v(version)}
				srv := serverState(c.ID, false).Row
				switch rng.IntN(5) {
				case 0:
					res.Status = protocol.StatusApplied
				case 1:
					res.Status, res.Row = protocol.StatusMerged, srv
				case 2:
					res.Status, res.Row = protocol.StatusSuperseded, srv
				case 3:
					res.Status, res.Row, res.ConflictID = protocol.StatusConflict, srv, fmt.Sprintf("c%03d", rng.IntN(20))
				default:
					res.Status, res.Version, res.Error = protocol.StatusRejected, nil, "invalid: no"
				}
				resp.Results = append(resp.Results, res)
			}
			if _, err := s.ApplyPushResults(ctx, b.ID, resp); err != nil {
				t.Fatal(err)
			}
		case 6:
			what = "corrupt"
			id := pick()
			qs := []string{
				"DELETE FROM production_records WHERE id = ?",
				"UPDATE production_records SET deleted_at = NULL WHERE id = ?",
				"UPDATE production_records SET version = version - 1 WHERE id = ? AND version > 1",
				"UPDATE production_records SET deleted_at = 1 WHERE id = ?",
			}
			if _, err := s.w.ExecContext(ctx, qs[rng.IntN(len(qs))], id); err != nil {
				t.Fatal(err)
			}
		case 7:
			what = "discard"
			q, err := s.Quarantine(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(q) == 0 {
				continue
			}
			var srv *ServerState
			if rng.IntN(2) == 0 {
				ch := serverState(q[0].ID, false)
				srv = &ServerState{Version: ch.Version, HLC: ch.HLC, Row: ch.Row}
			}
			if err := s.Discard(ctx, q[0].Table, q[0].ID, srv); err != nil {
				t.Fatal(err)
			}
		case 8:
			what = "timeline"
			if rng.IntN(3) > 0 {
				continue
			}
			if err := s.ChangeTimeline(ctx, fmt.Sprint("tl", step)); err != nil {
				t.Fatal(err)
			}
		case 9:
			what = "full pass"
			if err := s.ResetCursor(ctx); err != nil {
				t.Fatal(err)
			}
			var chs []protocol.PullChange
			for _, id := range ids {
				if rng.IntN(2) == 0 {
					chs = append(chs, serverState(id, false))
				}
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: version, Changes: chs}); err != nil {
				t.Fatal(err)
			}
		default:
			what = "repair"
			// A listing of one day's bucket: a few of the ids, live.
			day := days[rng.IntN(len(days))]
			bucket := checksum.Bucket(protocol.TableProductionRecords, "", true, day)
			var listing []protocol.PullChange
			var want checksum.Sum
			for _, id := range ids {
				ch := serverState(id, false)
				created, _ := toInt64(ch.Row["created_at"])
				if checksum.Bucket(protocol.TableProductionRecords, id, true, created) == bucket && rng.IntN(3) > 0 {
					listing = append(listing, ch)
					want.Add(checksum.Hash(protocol.TableProductionRecords, id, ch.Version))
				}
			}
			res, err := s.ApplyBucketListing(ctx, protocol.TableProductionRecords, bucket, listing)
			if err != nil {
				t.Fatal(err)
			}
			if res.Listed != want {
				t.Fatalf("listed sum %+v, want %+v", res.Listed, want)
			}
			// Locally created rows of that day the server never had are
			// not counted; everything else now matches the listing.
			if res.Device != res.Listed {
				t.Fatalf("step %d: after repair the device's bucket is %+v, the listing %+v (%+v)", step, res.Device, res.Listed, res)
			}
		}
		checkSums(t, s, fmt.Sprintf("seed %d step %d (%s)", seed, step, what))
	}
}

// FuzzChecksums drives the same random operations from fuzzed seeds.
// Each input opens a store and runs 40 operations (~0.15 s), so make test's
// smoke run takes fewer inputs; make soak fuzzes it for minutes.
// fuzz smoke: 300x
func FuzzChecksums(f *testing.F) {
	f.Add(uint64(11))
	f.Fuzz(func(t *testing.T, seed uint64) { checksumsRun(t, seed, 40) })
}

// TestStore_ChecksumsRememberServerState: a pending edit keeps its local
// state while the sums count the server state the device last received for
// the row (a pull while pending, an applied push of an edit made again
// since), and a pending edit is never touched by a repair.
func TestStore_ChecksumsRememberServerState(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	id := "00000000-0000-4000-8000-000000000001"
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 3, Changes: []protocol.PullChange{pulled(id, 3, 5)}}); err != nil {
		t.Fatal(err)
	}
	bucket := checksum.Bucket(protocol.TableProductionRecords, id, true, 1760000000000)
	sumOf := func(versions ...int64) map[string]checksum.Sum {
		var c checksum.Sum
		for _, v := range versions {
			c.Add(checksum.Hash(protocol.TableProductionRecords, id, v))
		}
		if c.Count == 0 {
			return map[string]checksum.Sum{}
		}
		return map[string]checksum.Sum{bucket: c}
	}
	expect := func(step string, versions ...int64) {
		t.Helper()
		got, err := s.BucketSums(ctx, protocol.TableProductionRecords)
		if err != nil || !reflect.DeepEqual(got, sumOf(versions...)) {
			t.Fatalf("%s: sums %v, %v; want versions %v", step, got, err, versions)
		}
		checkSums(t, s, step)
	}
	expect("clean", 3)
	in := validInput()
	in.Quantity = 42
	if _, err := s.UpdateRecord(ctx, id, in); err != nil {
		t.Fatal(err)
	}
	expect("pending", 3)
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 8, Changes: []protocol.PullChange{pulled(id, 8, 6)}}); err != nil {
		t.Fatal(err)
	}
	expect("pending, pulled at 8", 8)
	del := pulled(id, 9, 6)
	del.Row["deleted_at"] = json.Number("1760000000009")
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 9, Changes: []protocol.PullChange{del}}); err != nil {
		t.Fatal(err)
	}
	expect("pending, deleted on the server at 9")
	// A repair listing the row live at 10 updates only the remembered state.
	res, err := s.ApplyBucketListing(ctx, protocol.TableProductionRecords, bucket, []protocol.PullChange{pulled(id, 10, 7)})
	if err != nil || res.Remembered != 1 || res.Device != res.Listed {
		t.Fatalf("repair = %+v, %v", res, err)
	}
	expect("pending, listed at 10", 10)
	r, err := s.GetRecord(ctx, id)
	if err != nil || r.Quantity != 42 || r.SyncedAt != nil || r.Version != 3 {
		t.Fatalf("the pending edit was touched: %+v, %v", r, err)
	}
	// Pushed; edited again before the answer: the server holds the pushed
	// state at 11, the row stays pending.
	b, req := pushAll(t, s)
	in.Quantity = 43
	if _, err := s.UpdateRecord(ctx, id, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
		{Table: req.Changes[0].Table, ID: id, Status: protocol.StatusApplied, Version: v(11)}}}); err != nil {
		t.Fatal(err)
	}
	expect("pushed at 11, edited since", 11)
	// A repair that does not list it: the server has no live row; still pending.
	if _, err := s.ApplyBucketListing(ctx, protocol.TableProductionRecords, bucket, nil); err != nil {
		t.Fatal(err)
	}
	expect("pending, not listed")
	if r, err := s.GetRecord(ctx, id); err != nil || r.Quantity != 43 {
		t.Fatalf("the pending edit was touched: %+v, %v", r, err)
	}
}

// TestStore_ChecksumsSeeDirectEdits: rows deleted, resurrected or rolled
// back directly in the file change the sums (so verification notices).
func TestStore_ChecksumsSeeDirectEdits(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	var chs []protocol.PullChange
	for i := 1; i <= 3; i++ {
		chs = append(chs, pulled(fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i), int64(10+i), 1))
	}
	chs[2].Row["deleted_at"] = json.Number("1760000000005")
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 13, Changes: chs}); err != nil {
		t.Fatal(err)
	}
	before, err := s.TableSums(ctx)
	if err != nil || before[protocol.TableProductionRecords].Count != 2 {
		t.Fatalf("sums = %v, %v", before, err)
	}
	for _, q := range []string{
		"DELETE FROM production_records WHERE id = '" + chs[0].ID + "'",
		"UPDATE production_records SET deleted_at = NULL WHERE id = '" + chs[2].ID + "'",
		"UPDATE production_records SET version = 2 WHERE id = '" + chs[1].ID + "'",
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		after, err := s.TableSums(ctx)
		if err != nil || reflect.DeepEqual(after, before) {
			t.Fatalf("after %s: sums %v, %v (unchanged)", q, after, err)
		}
		before = after
		checkSums(t, s, q)
	}
}

// TestStore_VerificationKeptUntilTimelineChange: the last verification
// survives a reopen and is dropped by a timeline change (it proves nothing
// about the restored server).
func TestStore_VerificationKeptUntilTimelineChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	s := openTest(t, Options{Path: path})
	want := Verification{Cursor: 42, At: 1_700_000_000_500, Tables: map[string]int64{protocol.TableProductionRecords: 3}}
	if err := s.SaveVerification(ctx, want); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, Options{Path: path})
	if got, err := s.LastVerification(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LastVerification(ctx); err != nil || got.At != 0 {
		t.Fatalf("after a timeline change: %+v, %v", got, err)
	}
}

// TestStore_RepairConflictBucket: a bucket of conflict records is repaired
// like any other: a listed record the device lacks is stored, one the
// listing lacks is removed.
func TestStore_RepairConflictBucket(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	rec := func(id string, version int64) protocol.PullChange {
		return protocol.PullChange{Table: protocol.TableConflicts, ID: id, Version: version, HLC: "001760000000000-00000-" + otherDevice,
			Row: protocol.Row{"table_name": protocol.TableProductionRecords, "row_id": "r", "status": "open"}}
	}
	// Two ids in one bucket: the first byte of SHA-256(id) decides.
	var same []string
	for i := 0; len(same) < 3; i++ {
		id := fmt.Sprintf("c%d", i)
		if len(same) == 0 || checksum.Bucket(protocol.TableConflicts, id, false, 0) == checksum.Bucket(protocol.TableConflicts, same[0], false, 0) {
			same = append(same, id)
		}
	}
	bucket := checksum.Bucket(protocol.TableConflicts, same[0], false, 0)
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 2, Changes: []protocol.PullChange{rec(same[0], 1), rec(same[1], 2)}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.ApplyBucketListing(ctx, protocol.TableConflicts, bucket, []protocol.PullChange{rec(same[0], 1), rec(same[2], 3)})
	if err != nil || res.Removed != 1 || res.Device != res.Listed || res.Device.Count != 2 {
		t.Fatalf("repair = %+v, %v", res, err)
	}
	cs, err := s.Conflicts(ctx, false)
	if err != nil || len(cs) != 2 || cs[0].ID != same[2] || cs[1].ID != same[0] {
		t.Fatalf("conflicts after repair = %+v, %v", cs, err)
	}
	checkSums(t, s, "after repair")
}
