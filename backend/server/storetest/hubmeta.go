package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/outpost-app/outpost/backend/server"
)

// RunHubMeta runs the conformance tests of what a site hub and central keep
// beside the rows (docs/design.md section 9, issue 19): per-site metadata
// written in the rows' own transactions (Tx.Meta, Tx.SetMeta, Store.Meta,
// Store.MetaPrefix), so a kill -9 neither loses nor repeats a write pushed
// upstream, and the site's history in version order (Store.Writes), which a
// hub pushes upstream one write at a time. open must return a new empty
// store; RunHubMeta closes it.
func RunHubMeta(t *testing.T, open func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st server.Store)
	}{
		{"MetaAbsent", testMetaAbsent},
		{"MetaSetAndCommit", testMetaSetAndCommit},
		{"MetaRollbackDiscards", testMetaRollback},
		{"MetaNilDeletes", testMetaNilDeletes},
		{"MetaPerSite", testMetaPerSite},
		{"MetaPrefix", testMetaPrefix},
		{"WritesEveryVersion", testWritesEveryVersion},
		{"WritesPaging", testWritesPaging},
		{"WritesPerSite", testWritesPerSite},
		{"WritesAfterRetention", testWritesAfterRetention},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			tc.fn(t, st)
		})
	}
}

// setMeta stores key = value (nil: deletes it) for site in its own
// transaction.
func setMeta(t *testing.T, st server.Store, site, key string, value []byte) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Begin(ctx, site)
	must(t, err)
	defer tx.Rollback()
	must(t, tx.SetMeta(ctx, key, value))
	must(t, tx.Commit())
}

// wantMeta checks Store.Meta(site, key): want, or ErrNotFound when want is nil.
func wantMeta(t *testing.T, st server.Store, site, key string, want []byte) {
	t.Helper()
	got, err := st.Meta(context.Background(), site, key)
	if want == nil {
		if !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("Store.Meta(%s, %s) = %q, %v; want ErrNotFound", site, key, got, err)
		}
		return
	}
	if err != nil || string(got) != string(want) {
		t.Fatalf("Store.Meta(%s, %s) = %q, %v; want %q", site, key, got, err, want)
	}
}

// wantTxMeta checks Tx.Meta(key) like wantMeta.
func wantTxMeta(t *testing.T, tx server.Tx, key string, want []byte) {
	t.Helper()
	got, err := tx.Meta(context.Background(), key)
	if want == nil {
		if !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("Tx.Meta(%s) = %q, %v; want ErrNotFound", key, got, err)
		}
		return
	}
	if err != nil || string(got) != string(want) {
		t.Fatalf("Tx.Meta(%s) = %q, %v; want %q", key, got, err, want)
	}
}

func testMetaAbsent(t *testing.T, st server.Store) {
	ctx := context.Background()
	wantMeta(t, st, "never-seen", "upstream.cursor", nil)
	if m, err := st.MetaPrefix(ctx, "never-seen", ""); err != nil || len(m) != 0 {
		t.Fatalf("MetaPrefix of an unknown site = %v, %v; want nothing", m, err)
	}
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	wantTxMeta(t, tx, "upstream.cursor", nil)
	must(t, tx.Commit())
	wantMeta(t, st, "s", "upstream.cursor", nil)
}

// testMetaSetAndCommit: a value set in a transaction is read back in it,
// is invisible outside it until it commits, and then is there for
// Store.Meta and the next transaction; a second SetMeta replaces it, and an
// empty (non-nil) value is a value.
func testMetaSetAndCommit(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	must(t, tx.SetMeta(ctx, "upstream.cursor", []byte("41")))
	wantTxMeta(t, tx, "upstream.cursor", []byte("41"))
	must(t, tx.SetMeta(ctx, "upstream.cursor", []byte("42")))
	wantTxMeta(t, tx, "upstream.cursor", []byte("42"))
	// A row written in the same transaction commits with it.
	v, err := tx.NextSeq(ctx)
	must(t, err)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: idA, Version: v, HLC: "h001", DeviceID: "dev", Data: []byte(`{"n":1}`)}))
	// Outside the transaction only committed data is read.
	wantMeta(t, st, "s", "upstream.cursor", nil)
	must(t, tx.Commit())
	wantMeta(t, st, "s", "upstream.cursor", []byte("42"))

	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	wantTxMeta(t, tx, "upstream.cursor", []byte("42"))
	must(t, tx.SetMeta(ctx, "upstream.cursor", []byte("43")))
	must(t, tx.SetMeta(ctx, "empty", []byte{}))
	wantMeta(t, st, "s", "upstream.cursor", []byte("42"))
	must(t, tx.Commit())
	wantMeta(t, st, "s", "upstream.cursor", []byte("43"))
	if got, err := st.Meta(ctx, "s", "empty"); err != nil || len(got) != 0 {
		t.Fatalf("an empty value: %q, %v; want it stored (only nil deletes)", got, err)
	}
	// Binary values come back byte for byte.
	bin := []byte{0, 1, 0xff, 0xfe, '\n', 0}
	setMeta(t, st, "s", "bin", bin)
	wantMeta(t, st, "s", "bin", bin)
}

func testMetaRollback(t *testing.T, st server.Store) {
	ctx := context.Background()
	setMeta(t, st, "s", "mark", []byte("7"))
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	must(t, tx.SetMeta(ctx, "mark", []byte("8")))
	must(t, tx.SetMeta(ctx, "new", []byte("x")))
	wantTxMeta(t, tx, "mark", []byte("8"))
	must(t, tx.Rollback())
	wantMeta(t, st, "s", "mark", []byte("7"))
	wantMeta(t, st, "s", "new", nil)

	// A deletion rolled back keeps the value too.
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	must(t, tx.SetMeta(ctx, "mark", nil))
	wantTxMeta(t, tx, "mark", nil)
	must(t, tx.Rollback())
	wantMeta(t, st, "s", "mark", []byte("7"))
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	wantTxMeta(t, tx, "mark", []byte("7"))
	wantTxMeta(t, tx, "new", nil)
}

func testMetaNilDeletes(t *testing.T, st server.Store) {
	ctx := context.Background()
	setMeta(t, st, "s", "echo/a", []byte("1"))
	setMeta(t, st, "s", "echo/b", []byte("2"))
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	must(t, tx.SetMeta(ctx, "echo/a", nil))
	wantTxMeta(t, tx, "echo/a", nil)
	wantTxMeta(t, tx, "echo/b", []byte("2"))
	must(t, tx.SetMeta(ctx, "never-set", nil)) // deleting an absent key is no error
	wantMeta(t, st, "s", "echo/a", []byte("1"))
	must(t, tx.Commit())
	wantMeta(t, st, "s", "echo/a", nil)
	wantMeta(t, st, "s", "never-set", nil)
	m, err := st.MetaPrefix(ctx, "s", "echo/")
	must(t, err)
	if len(m) != 1 || string(m["echo/b"]) != "2" {
		t.Fatalf("MetaPrefix after a deletion = %q; want only echo/b", m)
	}
	// A deleted key can be set again.
	setMeta(t, st, "s", "echo/a", []byte("3"))
	wantMeta(t, st, "s", "echo/a", []byte("3"))
}

func testMetaPerSite(t *testing.T, st server.Store) {
	ctx := context.Background()
	setMeta(t, st, "A", "origin_seq/hub1", []byte("10"))
	wantMeta(t, st, "B", "origin_seq/hub1", nil)
	tx, err := st.Begin(ctx, "B")
	must(t, err)
	defer tx.Rollback()
	wantTxMeta(t, tx, "origin_seq/hub1", nil)
	must(t, tx.SetMeta(ctx, "origin_seq/hub1", []byte("20")))
	must(t, tx.Commit())
	wantMeta(t, st, "A", "origin_seq/hub1", []byte("10"))
	wantMeta(t, st, "B", "origin_seq/hub1", []byte("20"))
	// Deleting B's key leaves A's.
	setMeta(t, st, "B", "origin_seq/hub1", nil)
	wantMeta(t, st, "A", "origin_seq/hub1", []byte("10"))
	wantMeta(t, st, "B", "origin_seq/hub1", nil)
	tx, err = st.Begin(ctx, "A")
	must(t, err)
	defer tx.Rollback()
	wantTxMeta(t, tx, "origin_seq/hub1", []byte("10"))
}

// testMetaPrefix: MetaPrefix returns exactly the site's keys beginning
// with the prefix, byte for byte: LIKE's wildcards are plain characters,
// and keys just past the prefix's range (a longer or a greater last
// character) stay out.
func testMetaPrefix(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	for _, k := range []string{"echo/1", "echo/2", "echo/3/x", "echo", "echo0", "echp", "echo.", "a_b", "axb", "a_", "a%c", "abc", "é/1", "é/2", "ê", "up"} {
		must(t, tx.SetMeta(ctx, k, []byte("v:"+k)))
	}
	must(t, tx.Commit())
	setMeta(t, st, "other", "echo/9", []byte("theirs"))

	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"echo/", []string{"echo/1", "echo/2", "echo/3/x"}},
		{"echo", []string{"echo", "echo.", "echo/1", "echo/2", "echo/3/x", "echo0"}},
		{"a_", []string{"a_", "a_b"}},
		{"a%", []string{"a%c"}},
		{"é/", []string{"é/1", "é/2"}},
		{"zz", nil},
		{"", []string{"a%c", "a_", "a_b", "abc", "axb", "echo", "echo.", "echo/1", "echo/2", "echo/3/x", "echo0", "echp", "up", "é/1", "é/2", "ê"}},
	} {
		m, err := st.MetaPrefix(ctx, "s", c.prefix)
		must(t, err)
		got := slices.Sorted(maps.Keys(m))
		if !slices.Equal(got, c.want) {
			t.Fatalf("MetaPrefix(s, %q) keys = %q; want %q", c.prefix, got, c.want)
		}
		for k, v := range m {
			if string(v) != "v:"+k {
				t.Fatalf("MetaPrefix(s, %q)[%q] = %q", c.prefix, k, v)
			}
		}
	}
	m, err := st.MetaPrefix(ctx, "other", "echo/")
	must(t, err)
	if len(m) != 1 || string(m["echo/9"]) != "theirs" {
		t.Fatalf("MetaPrefix(other, echo/) = %q; want only its own key", m)
	}
}

// put writes the rows (table t, device dev, bucket b1) as one transaction
// of site, each a version of its own, and returns their versions.
func put(t *testing.T, st server.Store, site string, ids ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Begin(ctx, site)
	must(t, err)
	defer tx.Rollback()
	var vs []int64
	for _, id := range ids {
		v, err := tx.NextSeq(ctx)
		must(t, err)
		must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: fmt.Sprintf("h%03d", v),
			DeviceID: "dev-" + site, Data: []byte(fmt.Sprintf(`{"v":%d}`, v)), Bucket: "b1"}))
		vs = append(vs, v)
	}
	must(t, tx.Commit())
	return vs
}

// wantWrites checks Writes(site, after, limit): the versions want, in that
// order, each with its table, id, hlc, device, data and bucket as put
// wrote them.
func wantWrites(t *testing.T, st server.Store, site string, after int64, limit int, want map[int64]string, order ...int64) {
	t.Helper()
	got, err := st.Writes(context.Background(), site, after, limit)
	must(t, err)
	var vs []int64
	for _, r := range got {
		vs = append(vs, r.Version)
	}
	if !slices.Equal(vs, order) {
		t.Fatalf("Writes(%s, %d, %d) versions = %v; want %v", site, after, limit, vs, order)
	}
	for _, r := range got {
		if r.Table != "t" || r.ID != want[r.Version] || r.HLC != fmt.Sprintf("h%03d", r.Version) || r.DeviceID != "dev-"+site ||
			string(r.Data) != fmt.Sprintf(`{"v":%d}`, r.Version) || r.Bucket != "b1" {
			t.Fatalf("Writes(%s, %d, %d): version %d = %+v; want row %s as written", site, after, limit, r.Version, r, want[r.Version])
		}
	}
}

// testWritesEveryVersion: a row written twice, in two transactions or in
// one, has both versions in Writes, in version order, not only its
// current state (which is all Changes returns).
func testWritesEveryVersion(t *testing.T, st server.Store) {
	ctx := context.Background()
	want := map[int64]string{}
	for _, step := range [][]string{{idA}, {idB}, {idA}, {idB, idB}} {
		for i, v := range put(t, st, "s", step...) {
			want[v] = step[i]
		}
	}
	wantWrites(t, st, "s", 0, 100, want, 1, 2, 3, 4, 5)
	if ch, err := st.Changes(ctx, "s", 0, 100); err != nil || len(ch) != 2 {
		t.Fatalf("Changes = %+v, %v; want the two current states", ch, err)
	}
	// Only committed writes are read.
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	v, err := tx.NextSeq(ctx)
	must(t, err)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: idA, Version: v, HLC: "h006", DeviceID: "dev-s", Data: []byte(`{"v":6}`)}))
	wantWrites(t, st, "s", 0, 100, want, 1, 2, 3, 4, 5)
	must(t, tx.Rollback())
	wantWrites(t, st, "s", 0, 100, want, 1, 2, 3, 4, 5)
}

func testWritesPaging(t *testing.T, st server.Store) {
	want := map[int64]string{}
	for _, id := range []string{idA, idA, idB, idA, idB} {
		v := put(t, st, "s", id)[0]
		want[v] = id
	}
	wantWrites(t, st, "s", 0, 2, want, 1, 2)
	wantWrites(t, st, "s", 2, 2, want, 3, 4)
	wantWrites(t, st, "s", 4, 2, want, 5)
	wantWrites(t, st, "s", 5, 2, want)
	wantWrites(t, st, "s", 1, 100, want, 2, 3, 4, 5)
	wantWrites(t, st, "s", 3, 1, want, 4)
	wantWrites(t, st, "s", 99, 10, want)
}

func testWritesPerSite(t *testing.T, st server.Store) {
	wantS := map[int64]string{}
	wantO := map[int64]string{}
	for _, site := range []string{"s", "other", "s", "other", "s"} {
		v := put(t, st, site, idA)[0]
		if site == "s" {
			wantS[v] = idA
		} else {
			wantO[v] = idA
		}
	}
	wantWrites(t, st, "s", 0, 100, wantS, 1, 2, 3)
	wantWrites(t, st, "other", 0, 100, wantO, 1, 2)
	wantWrites(t, st, "nobody", 0, 100, nil)
}

// testWritesAfterRetention: versions purged by retention are absent, the
// superseded ones PurgeVersions removed and a purged tombstone's whole
// history; pinned and current versions stay.
func testWritesAfterRetention(t *testing.T, st server.Store) {
	ctx := context.Background()
	want := map[int64]string{}
	for _, id := range []string{idA, idA, idB, idA, idB} { // versions 1-5
		v := put(t, st, "s", id)[0]
		want[v] = id
	}
	// Another site's history is not touched.
	put(t, st, "other", idA, idA)
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	must(t, tx.Pin(ctx, "c1", "t", idA, 2))
	n, err := tx.PurgeVersions(ctx, 4)
	must(t, err)
	must(t, tx.Commit())
	// idA: 1 purged, 2 pinned, 4 current; idB: 3 purged (5 is current).
	if n != 2 {
		t.Fatalf("PurgeVersions removed %d; want 2", n)
	}
	wantWrites(t, st, "s", 0, 100, want, 2, 4, 5)
	wantWrites(t, st, "s", 0, 1, want, 2)
	wantWrites(t, st, "other", 0, 100, map[int64]string{1: idA, 2: idA}, 1, 2)

	// A tombstone purged by retention takes its history with it.
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	v, err := tx.NextSeq(ctx)
	must(t, err)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: idB, Version: v, HLC: fmt.Sprintf("h%03d", v), DeviceID: "dev-s",
		Deleted: true, Data: []byte(fmt.Sprintf(`{"v":%d}`, v)), Bucket: "b1"}))
	must(t, tx.Commit())
	want[v] = idB
	wantWrites(t, st, "s", 0, 100, want, 2, 4, 5, 6)
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	n, err = tx.PurgeTombstones(ctx, 6)
	must(t, err)
	must(t, tx.Commit())
	if n != 1 {
		t.Fatalf("PurgeTombstones removed %d; want 1", n)
	}
	wantWrites(t, st, "s", 0, 100, want, 2, 4)
}
