package contracttest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The checksums of docs/design.md section 8, computed here from their definition
// (not from the repository's code): the row hash, the buckets, the sums.

func rowHash(table, id string, version int64) uint64 {
	d := sha256.Sum256([]byte(table + "\n" + id + "\n" + strconv.FormatInt(version, 10)))
	return binary.BigEndian.Uint64(d[:8])
}

func bucketOf(t testing.TB, table, id string, row map[string]any) string {
	if table == "production_records" {
		ms := num(t, row["created_at"])
		return table + ":" + time.UnixMilli(ms).UTC().Format("2006-01-02")
	}
	d := sha256.Sum256([]byte(id))
	return table + ":" + hex.EncodeToString(d[:1])
}

type sum struct {
	Count int64
	Sum   string
}

type liveRow struct {
	id      string
	version int64
}

// expected is what a device holding every pulled row computes.
type expected struct {
	tables  map[string]sum
	buckets map[string]map[string]sum // table → bucket → sum
	rows    map[string][]liveRow      // bucket → rows in byte order of id
}

func sumsOf(t testing.TB, feed map[string]map[string]any) expected {
	type acc struct {
		n int64
		s uint64
	}
	tables, buckets := map[string]*acc{}, map[string]*acc{}
	bucketTable := map[string]string{}
	e := expected{tables: map[string]sum{}, buckets: map[string]map[string]sum{}, rows: map[string][]liveRow{}}
	for _, c := range feed {
		table, id := str(c["table"]), str(c["id"])
		row, _ := c["row"].(map[string]any)
		if table != "sync_conflicts" && row["deleted_at"] != nil {
			continue
		}
		v := num(t, c["version"])
		h := rowHash(table, id, v)
		b := bucketOf(t, table, id, row)
		for k, m := range map[string]map[string]*acc{table: tables, b: buckets} {
			if m[k] == nil {
				m[k] = &acc{}
			}
			m[k].n++
			m[k].s += h
		}
		bucketTable[b] = table
		e.rows[b] = append(e.rows[b], liveRow{id, v})
	}
	for k, a := range tables {
		e.tables[k] = sum{a.n, fmt.Sprintf("%016x", a.s)}
	}
	for b, a := range buckets {
		tb := bucketTable[b]
		if e.buckets[tb] == nil {
			e.buckets[tb] = map[string]sum{}
		}
		e.buckets[tb][b] = sum{a.n, fmt.Sprintf("%016x", a.s)}
	}
	for _, rs := range e.rows {
		sort.Slice(rs, func(i, j int) bool { return rs[i].id < rs[j].id })
	}
	return e
}

func wireSums(t testing.TB, what string, v any) map[string]sum {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %v is not an object", what, v)
	}
	out := map[string]sum{}
	for k, x := range m {
		o, _ := x.(map[string]any)
		s := str(o["sum"])
		if len(s) != 16 {
			t.Fatalf("%s: sum %q of %s is not 16 hex digits", what, s, k)
		}
		out[k] = sum{num(t, o["count"]), s}
	}
	return out
}

var feedTables = []string{"production_records", "line_configs", "lines", "products", "people", "site_settings", "sync_conflicts"}

// verify pulls the whole feed, computes its sums and checks them against
// the final page's checksums, GET /v1/checksums of every table and GET
// /v1/rows of every bucket (paged by after=). It returns the sums and the
// final cursor. Nothing may write to the site meanwhile.
func verify(t *testing.T, d *device, what string) (expected, int64) {
	t.Helper()
	feed := map[string]map[string]any{}
	cursor := int64(0)
	var final map[string]any
	for i := 0; ; i++ {
		r := d.pull(t, fmt.Sprintf("cursor=%d&limit=7", cursor))
		if r.Status != 200 {
			t.Fatalf("%s: pull: %v", what, r)
		}
		m := r.Obj()
		for _, c := range list(t, m["changes"]) {
			feed[str(c["table"])+"/"+str(c["id"])] = c
		}
		cursor = num(t, m["cursor"])
		if m["has_more"] != true {
			final = m
			break
		}
		if _, ok := m["checksums"]; ok {
			t.Fatalf("%s: a page with has_more true carries checksums: %v", what, r)
		}
		if i > 1000 {
			t.Fatal("pull never ends")
		}
	}
	e := sumsOf(t, feed)
	if got := wireSums(t, what+": final page checksums", final["checksums"]); !reflect.DeepEqual(got, e.tables) {
		t.Fatalf("%s: final page checksums\n got %v\nwant %v (computed from the pulled rows)", what, got, e.tables)
	}
	for _, table := range feedTables {
		r := d.call(t, "GET", "/v1/checksums?table="+table, nil)
		if r.Status != 200 {
			t.Fatalf("%s: checksums of %s: %v", what, table, r)
		}
		if c := num(t, r.Obj()["cursor"]); c != cursor {
			t.Fatalf("%s: checksums of %s at cursor %d, the feed ends at %d", what, table, c, cursor)
		}
		got := wireSums(t, what+": buckets of "+table, r.Obj()["buckets"])
		want := e.buckets[table]
		if want == nil {
			want = map[string]sum{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: buckets of %s\n got %v\nwant %v", what, table, got, want)
		}
		for b := range want {
			var listed []liveRow
			after := ""
			for {
				q := "bucket=" + url.QueryEscape(b) + "&table=" + table
				if after != "" {
					q += "&after=" + url.QueryEscape(after)
				}
				r := d.call(t, "GET", "/v1/rows?"+q, nil)
				if r.Status != 200 {
					t.Fatalf("%s: rows of %s: %v", what, b, r)
				}
				m := r.Obj()
				if c := num(t, m["cursor"]); c != cursor {
					t.Fatalf("%s: rows of %s at cursor %d, the feed ends at %d", what, b, c, cursor)
				}
				for _, x := range list(t, m["rows"]) {
					hasKeys(t, "listed row", x, "id", "version", "hlc", "row")
					id := str(x["id"])
					row, _ := x["row"].(map[string]any)
					if pulled := feed[table+"/"+id]; pulled == nil || !same(row, pulled["row"]) || str(x["hlc"]) != str(pulled["hlc"]) {
						t.Fatalf("%s: listed row %s/%s is not the pulled state: %v vs %v", what, table, id, x, pulled)
					}
					listed = append(listed, liveRow{id, num(t, x["version"])})
					after = id
				}
				if m["has_more"] != true {
					break
				}
			}
			if !reflect.DeepEqual(listed, e.rows[b]) {
				t.Fatalf("%s: rows of %s\n got %v\nwant %v", what, b, listed, e.rows[b])
			}
		}
	}
	return e, cursor
}

// The checksums of docs/design.md section 8, recomputed from pulled rows, are
// exactly the server's after pushes, deletes, merges, conflicts (lww and
// manual), resolutions, imports and purges; a purge changes no sum.
//
// On SQLite, and on PostgreSQL when OUTPOST_TEST_PG names a cluster (a fresh
// schema, made with psql; run through .ci/postgres).
func TestChecksumsMatchPulledRows(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		checksumScenario(t, newDB())
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		checksumScenario(t, pgDB(t))
	})
}

// pgDB returns the URL of a fresh schema of the OUTPOST_TEST_PG cluster,
// dropped after the test; it skips without one (fails when
// OUTPOST_REQUIRE_PG=1).
func pgDB(t *testing.T) string {
	admin := os.Getenv("OUTPOST_TEST_PG")
	if admin == "" {
		if os.Getenv("OUTPOST_REQUIRE_PG") == "1" {
			t.Fatal("OUTPOST_REQUIRE_PG=1 but OUTPOST_TEST_PG is unset")
		}
		t.Skip("OUTPOST_TEST_PG is unset: run through .ci/postgres for the PostgreSQL store")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "outpost_contract_" + hex.EncodeToString(b[:])
	run := func(sql string) {
		if out, err := exec.Command(psql, admin, "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql %s: %v\n%s", sql, err, out)
		}
	}
	run("CREATE SCHEMA " + schema)
	t.Cleanup(func() { run("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func checksumScenario(t *testing.T, db string) {
	s := startServer(t, db, []string{"OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_DB=" + db, "OUTPOST_RETENTION=200ms"})
	sname := site(t)
	ops := s.enroll(t, sname, "operator", 2)
	a, b := ops[0], ops[1]
	mgr := s.dev(t, sname, "manager")

	verify(t, a, "empty site")

	// Pushes: records over three days (one at a UTC midnight), line configs.
	var cs []map[string]any
	prod := map[string]int64{}
	day := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i, created := range []int64{day - 1, day, day + 1, day + 86_400_000, day, day} {
		id := newID()
		cs = append(cs, a.upsert("production_records", id, 0, with(prodRow(id), "created_at", created, "updated_at", created+int64(i))))
	}
	for range 5 {
		id := newID()
		cs = append(cs, a.upsert("line_configs", id, 0, lineRow(id)))
	}
	for _, res := range a.mustPush(t, cs...) {
		wantStatus(t, "push", res, "applied")
	}
	for _, c := range cs[:6] {
		prod[str(c["id"])] = 0
	}
	e, _ := verify(t, a, "after pushes")
	if len(e.buckets["production_records"]) != 3 {
		t.Fatalf("want 3 day buckets, got %v", e.buckets["production_records"])
	}

	// An edit, a delete.
	f, _ := a.feed(t)
	ids := []string{}
	for id := range prod {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	row0, _ := f["production_records/"+ids[0]]["row"].(map[string]any)
	v0 := num(t, f["production_records/"+ids[0]]["version"])
	a.mustPush(t, a.upsert("production_records", ids[0], v0, with(row0, "quantity", 99)))
	v1 := num(t, f["production_records/"+ids[1]]["version"])
	gone := a.mustPush(t, a.del("production_records", ids[1], v1, nil))
	verify(t, b, "after an edit and a delete")

	// lww conflict: b edits the record a edited, on the old base.
	res := b.mustPush(t, b.upsert("production_records", ids[0], v0, with(row0, "quantity", 7)))[0]
	if st := str(res["status"]); st != "applied" && st != "superseded" {
		t.Fatalf("lww push: %v", res)
	}
	verify(t, a, "after an lww conflict")

	// A merge (disjoint fields) and an open manual conflict.
	lid := newID()
	orig := lineRow(lid)
	lv := num(t, a.mustPush(t, a.upsert("line_configs", lid, 0, orig))[0]["version"])
	a.mustPush(t, a.upsert("line_configs", lid, lv, with(orig, "recipe", "A")))
	wantStatus(t, "merge", b.mustPush(t, b.upsert("line_configs", lid, lv, with(orig, "notes", "B")))[0], "merged")
	_, cid, cv := openConflict(t, a, b)
	verify(t, mgr, "after a merge and a conflict")

	// The manager resolves it.
	rowID := ""
	ff, _ := mgr.feed(t)
	rec, _ := ff["sync_conflicts/"+cid]["row"].(map[string]any)
	rowID = str(rec["row_id"])
	if r := mgr.call(t, "POST", "/v1/conflicts/"+cid+"/resolve", map[string]any{"row": with(lineRow(rowID), "recipe", "C"), "hlc": mgr.hlc(), "base_version": cv}); r.Status != 200 {
		t.Fatalf("resolve: %v", r)
	}
	verify(t, a, "after a resolution")

	// An import from the CLI.
	file := filepath.Join(t.TempDir(), "lines.csv")
	os.WriteFile(file, []byte("code,name,area,active\nL1,Line one,Hall A,1\nL2,Line two,,0\n"), 0o600)
	if out := s.cli(t, "site", "import", "--site", sname, "--table", "lines", "--file", file); lastLine(out) != "imported 2 rows (0 unchanged)" {
		t.Fatalf("import printed %q", out)
	}
	before, cursor := verify(t, b, "after an import")

	// A purge: every device commits everything; the tombstone goes, no sum
	// moves.
	tomb := num(t, gone[0]["version"])
	for _, d := range []*device{a, b, mgr} {
		if r := d.pull(t, fmt.Sprintf("cursor=%d&committed=%d", cursor, cursor)); r.Status != 200 {
			t.Fatalf("pull: %v", r)
		}
	}
	eventually(t, 15*time.Second, func() error {
		h := a.call(t, "GET", "/v1/history?table=production_records&id="+ids[1], nil)
		if h.Status != 200 || len(list(t, h.Obj()["versions"])) != 0 {
			return fmt.Errorf("the tombstone at %d was not purged", tomb)
		}
		return nil
	})
	after, _ := verify(t, a, "after a purge")
	if !reflect.DeepEqual(before.tables, after.tables) || !reflect.DeepEqual(before.buckets, after.buckets) {
		t.Fatalf("a purge moved the sums:\nbefore %v\n after %v", before.tables, after.tables)
	}

	// A rebuild beside the running server finds the same sums.
	var live int64
	for _, c := range after.tables {
		live += c.Count
	}
	if out := s.cli(t, "checksums", "rebuild"); lastLine(out) != fmt.Sprintf("checksums rebuilt from %d live rows", live) {
		t.Fatalf("rebuild printed %q", out)
	}
	verify(t, b, "after a rebuild")
}

// verified= on pull is recorded per device and shown by devices list.
func TestVerifiedCursor(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	a := s.dev(t, sname, "operator")
	id := newID()
	a.mustPush(t, a.upsert("line_configs", id, 0, lineRow(id)))
	row := func() []string {
		for _, l := range strings.Split(s.cli(t, "devices", "list", "--site", sname), "\n") {
			if strings.HasPrefix(l, a.id) {
				return strings.Fields(l)
			}
		}
		t.Fatal("devices list does not show the device")
		return nil
	}
	header := strings.Fields(strings.Split(s.cli(t, "devices", "list", "--site", sname), "\n")[0])
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	if f := row(); f[len(f)-len(header)+col["VERIFIED"]] != "never" {
		t.Fatalf("a device that never verified: %v", f)
	}
	_, cursor := verify(t, a, "one row")
	if r := a.pull(t, fmt.Sprintf("cursor=%d&committed=%d&verified=%d", cursor, cursor, cursor)); r.Status != 200 {
		t.Fatalf("pull with verified: %v", r)
	}
	f := row()
	// Columns from the right: a name may hold spaces.
	off := len(f) - len(header)
	if f[off+col["VERIFIED"]] != strconv.FormatInt(cursor, 10) {
		t.Fatalf("devices list after verified=%d: %v", cursor, f)
	}
	if at, err := time.Parse(time.RFC3339, f[off+col["VERIFIED_AT"]]); err != nil || time.Since(at) > time.Minute {
		t.Fatalf("verified at %q: %v", f[off+col["VERIFIED_AT"]], err)
	}
	for _, q := range []string{"verified=-1", "verified=x", "verified=1.5"} {
		wantError(t, a.pull(t, "cursor=0&"+q), 400, "invalid_verified")
	}
}

// GET /v1/checksums and GET /v1/rows: auth like pull, the site's own rows
// only, malformed buckets and tables refused with the error body.
func TestChecksumsRequests(t *testing.T) {
	t.Parallel()
	s := shared(t)
	a := s.dev(t, site(t), "operator")
	other := s.dev(t, site(t), "operator")
	id := newID()
	a.mustPush(t, a.upsert("line_configs", id, 0, lineRow(id)))
	d := sha256.Sum256([]byte(id))
	bucket := "line_configs:" + hex.EncodeToString(d[:1])

	wantError(t, s.call(t, "GET", "/v1/checksums?table=line_configs", nil), 401, "")
	wantError(t, s.call(t, "GET", "/v1/rows?bucket="+bucket, nil), 401, "")
	if r := other.call(t, "GET", "/v1/rows?bucket="+bucket, nil); r.Status != 200 || len(list(t, r.Obj()["rows"])) != 0 {
		t.Fatalf("another site's device lists the row: %v", r)
	}
	if r := other.call(t, "GET", "/v1/checksums?table=line_configs", nil); r.Status != 200 || len(r.Obj()["buckets"].(map[string]any)) != 0 {
		t.Fatalf("another site's device sees the buckets: %v", r)
	}
	if r := a.call(t, "GET", "/v1/rows?bucket="+bucket+"&after="+id, nil); r.Status != 200 || len(list(t, r.Obj()["rows"])) != 0 || r.Obj()["has_more"] != false {
		t.Fatalf("after is exclusive: %v", r)
	}
	for _, q := range []string{"", "table=", "table=nope", "table=line_configs:00"} {
		wantError(t, a.call(t, "GET", "/v1/checksums?"+q, nil), 400, "unknown_table")
	}
	for _, q := range []string{"", "bucket=", "bucket=line_configs", "bucket=line_configs:0", "bucket=line_configs:0G",
		"bucket=line_configs:AB", "bucket=nope:00", "bucket=production_records:00", "bucket=production_records:2026-02-30",
		"bucket=line_configs:2026-12-05", "bucket=" + bucket + "&table=production_records"} {
		wantError(t, a.call(t, "GET", "/v1/rows?"+q, nil), 400, "invalid_bucket")
	}
}
