package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// sumWrite writes one row state in its own transaction the way the engine
// does (docs/design.md section 8): the bucket from the row, the previous live
// state's hash out of the sums, the new live state's in.
func sumWrite(t *testing.T, st server.Store, site, table, id string, deleted bool, data string) server.StoredRow {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Begin(ctx, site)
	must(t, err)
	defer tx.Rollback()
	old, err := tx.GetRow(ctx, table, id)
	exists := err == nil
	if err != nil && !errors.Is(err, server.ErrNotFound) {
		t.Fatal(err)
	}
	v, err := tx.NextSeq(ctx)
	must(t, err)
	r := server.StoredRow{Table: table, ID: id, Version: v, HLC: fmt.Sprintf("h%03d", v), DeviceID: "dev", Deleted: deleted, Data: []byte(data),
		Bucket: checksum.RowBucket(protocol.NewRegistry(), table, id, []byte(data))}
	if exists {
		r.Bucket = old.Bucket
	}
	must(t, tx.PutRow(ctx, r))
	var d checksum.Sum
	if exists && !old.Deleted {
		d.Sub(checksum.Hash(table, id, old.Version))
	}
	if !deleted {
		d.Add(checksum.Hash(table, id, v))
	}
	tx.AddSum(table, r.Bucket, d)
	must(t, tx.Commit())
	return r
}

// testChecksums: sums kept with the writes, rolled back with them, read in
// the page's snapshot and per bucket; bucket listings in byte order of id,
// live rows only, paged; a purge moves no sum; a rebuild finds the same.
func testChecksums(t *testing.T, st server.Store) {
	ctx := context.Background()
	const site = "s"
	lines := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003", "ffffffff-0000-4000-8000-000000000004"}
	var want = map[string]checksum.Sum{} // bucket → sum
	tables := map[string]checksum.Sum{}
	add := func(r server.StoredRow) {
		s := want[r.Bucket]
		s.Add(checksum.Hash(r.Table, r.ID, r.Version))
		want[r.Bucket] = s
		ts := tables[r.Table]
		ts.Add(checksum.Hash(r.Table, r.ID, r.Version))
		tables[r.Table] = ts
	}
	for _, id := range lines {
		sumWrite(t, st, site, "line_configs", id, false, `{}`)
	}
	rec := sumWrite(t, st, site, "production_records", idA, false, `{"created_at":1764979200000}`)
	if rec.Bucket != "production_records:2025-12-06" {
		t.Fatalf("bucket %q", rec.Bucket)
	}
	// Edited, then deleted, then a new live row: only the live states count.
	sumWrite(t, st, site, "line_configs", lines[0], false, `{"x":1}`)
	sumWrite(t, st, site, "line_configs", lines[1], true, `{}`)
	sumWrite(t, st, "other", "line_configs", lines[2], false, `{}`) // another site
	for _, id := range []string{lines[0], lines[2], lines[3]} {
		r, err := getRow(st, site, "line_configs", id)
		must(t, err)
		add(r)
	}
	add(rec)

	// A rolled-back transaction moves no sum.
	tx, err := st.Begin(ctx, site)
	must(t, err)
	v, _ := tx.NextSeq(ctx)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: "line_configs", ID: idB, Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`), Bucket: "line_configs:00"}))
	tx.AddSum("line_configs", "line_configs:00", checksum.Sum{Count: 1, Sum: 5})
	must(t, tx.Rollback())

	check := func(what string) {
		t.Helper()
		p, err := st.ReadPage(ctx, site, 0, 100)
		must(t, err)
		if len(p.Sums) != len(tables) || p.Sums["line_configs"] != tables["line_configs"] || p.Sums["production_records"] != tables["production_records"] {
			t.Fatalf("%s: page sums %+v, want %+v", what, p.Sums, tables)
		}
		got := map[string]checksum.Sum{}
		for _, table := range []string{"line_configs", "production_records", "sync_conflicts"} {
			seq, b, err := st.Checksums(ctx, site, table)
			must(t, err)
			if seq != p.State.Seq {
				t.Fatalf("%s: checksums at %d, sequence %d", what, seq, p.State.Seq)
			}
			for k, s := range b {
				got[k] = s
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: buckets %+v, want %+v", what, got, want)
		}
	}
	check("after writes")
	if p, err := st.ReadPage(ctx, site, 0, 2); err != nil || p.Sums != nil {
		t.Fatalf("a full page carries sums: %+v, %v", p.Sums, err)
	}

	// Listing a bucket: live rows only, ascending id, after exclusive.
	b0 := checksum.RowBucket(protocol.NewRegistry(), "line_configs", lines[0], nil)
	seq, rows, err := st.BucketRows(ctx, site, b0, "", 10)
	must(t, err)
	for i, r := range rows {
		if r.Bucket != b0 || r.Deleted || (i > 0 && rows[i-1].ID >= r.ID) {
			t.Fatalf("bucket %s listed %+v", b0, rows)
		}
	}
	if seq == 0 {
		t.Fatal("BucketRows: no sequence")
	}
	var all []string
	for _, b := range sortedKeys(want) {
		after := ""
		for {
			_, rows, err := st.BucketRows(ctx, site, b, after, 1)
			must(t, err)
			if len(rows) == 0 {
				break
			}
			all = append(all, rows[0].ID)
			after = rows[0].ID
		}
	}
	if len(all) != 4 {
		t.Fatalf("paged listing of every bucket: %v", all)
	}

	// A purge removes the tombstone and old versions, and no sum.
	tx, err = st.Begin(ctx, site)
	must(t, err)
	if n, err := tx.PurgeTombstones(ctx, math.MaxInt32); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	_, err = tx.PurgeVersions(ctx, math.MaxInt32)
	must(t, err)
	must(t, tx.Commit())
	check("after a purge")

	// The sum wraps mod 2^64.
	tx, err = st.Begin(ctx, "wrap")
	must(t, err)
	tx.AddSum("t", "t:00", checksum.Sum{Count: 1, Sum: math.MaxUint64})
	must(t, tx.Commit())
	tx, err = st.Begin(ctx, "wrap")
	must(t, err)
	tx.AddSum("t", "t:00", checksum.Sum{Count: 1, Sum: 3})
	must(t, tx.Commit())
	if _, b, err := st.Checksums(ctx, "wrap", "t"); err != nil || b["t:00"] != (checksum.Sum{Count: 2, Sum: 2}) {
		t.Fatalf("wrapped sum: %+v, %v", b, err)
	}

	// A rebuild from the rows finds what the writes kept (the wrap site
	// has no rows: its sums go).
	n, err := st.RebuildChecksums(ctx)
	must(t, err)
	if n != 5 { // four here, one on the other site
		t.Fatalf("rebuild counted %d live rows", n)
	}
	check("after a rebuild")
	if _, b, err := st.Checksums(ctx, "wrap", "t"); err != nil || len(b) != 0 {
		t.Fatalf("rebuild kept sums of no rows: %+v, %v", b, err)
	}
}

// testVerified: verified= is recorded with the pull's time, and kept by
// pulls that do not say it.
func testVerified(t *testing.T, st server.Store) {
	ctx := context.Background()
	must(t, st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "c", SiteID: "s", Role: "operator", Uses: 1, ExpiresAt: 1 << 40, CreatedAt: 1}))
	d, err := st.Enroll(ctx, "c", server.Device{ID: "d1", Name: "n", Platform: "p", TokenHash: "t"}, 10)
	must(t, err)
	if d.Verified != -1 && d.Verified != 0 {
		t.Fatalf("new device verified at %d", d.Verified)
	}
	got := func() server.Device {
		t.Helper()
		d, err := st.DeviceByTokenHash(ctx, "t")
		must(t, err)
		return d
	}
	if d := got(); d.Verified != -1 || d.VerifiedAt != 0 {
		t.Fatalf("never verified: %d at %d", d.Verified, d.VerifiedAt)
	}
	v := int64(7)
	must(t, st.RecordPull(ctx, "d1", server.PullRecord{LastSeen: 20, Cursor: 7, Committed: 7, Verified: &v}))
	if d := got(); d.Verified != 7 || d.VerifiedAt != 20 {
		t.Fatalf("verified: %d at %d", d.Verified, d.VerifiedAt)
	}
	must(t, st.RecordPull(ctx, "d1", server.PullRecord{LastSeen: 30, Cursor: 9, Committed: 9}))
	if d := got(); d.Verified != 7 || d.VerifiedAt != 20 || d.Cursor != 9 {
		t.Fatalf("a pull without verified= changed it: %+v", d)
	}
}

func getRow(st server.Store, site, table, id string) (server.StoredRow, error) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, site)
	if err != nil {
		return server.StoredRow{}, err
	}
	defer tx.Rollback()
	return tx.GetRow(ctx, table, id)
}

func sortedKeys(m map[string]checksum.Sum) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
