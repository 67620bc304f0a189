package contracttest

import (
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Site data (additive to v1, docs/protocol.md "Site data"): the tables
// lines, products, people and site_settings, written by manager devices
// only, rows identified by ids derived from their codes; resolutions naming
// a person; the import command.

// keyID is a site data row's id as docs/protocol.md defines it: the UUID
// version 5 of the name "<table>\x00<key>" in namespace
// 6f1d4c2e-8a4b-5c55-9a37-0a7f3b1e2d90.
func keyID(table, key string) string {
	ns := []byte{0x6f, 0x1d, 0x4c, 0x2e, 0x8a, 0x4b, 0x5c, 0x55, 0x9a, 0x37, 0x0a, 0x7f, 0x3b, 0x1e, 0x2d, 0x90}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte(table + "\x00" + key))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func siteLine(code string, kv ...any) map[string]any {
	now := time.Now().UnixMilli()
	return with(map[string]any{"id": keyID("lines", code), "code": code, "name": "Line " + code, "area": "Hall A",
		"active": 1, "updated_by": "B-1", "created_at": now, "updated_at": now}, kv...)
}

// Manager-only writes: an operator device's change to any site data table
// is rejected "forbidden" (the rest of its batch applies); a manager's
// applies; ids must be derived from the code.
func TestSiteDataManagerOnly(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	op, mgr := s.dev(t, sname, "operator"), s.dev(t, sname, "manager")
	now := time.Now().UnixMilli()
	product := map[string]any{"id": keyID("products", "P-1"), "code": "P-1", "name": "Bolt", "unit": "pcs", "active": 1, "created_at": now, "updated_at": now}
	person := map[string]any{"id": keyID("people", "B-7"), "badge_id": "B-7", "display_name": "Ann", "role": "operator", "active": 1, "created_at": now, "updated_at": now}
	settings := map[string]any{"id": keyID("site_settings", "site"), "time_zone": "Europe/Berlin", "shifts": "Early=06:00,Late=14:00", "created_at": now, "updated_at": now}
	rec := newID()
	res := op.mustPush(t,
		op.upsert("lines", keyID("lines", "L1"), 0, siteLine("L1")),
		op.upsert("products", keyID("products", "P-1"), 0, product),
		op.upsert("production_records", rec, 0, prodRow(rec)),
		op.upsert("people", keyID("people", "B-7"), 0, person),
		op.upsert("site_settings", keyID("site_settings", "site"), 0, settings),
	)
	for i, table := range map[int]string{0: "lines", 1: "products", 3: "people", 4: "site_settings"} {
		rejection(t, "operator's "+table, res[i], "forbidden")
		if want := "forbidden: only manager devices may change site data (" + table + ")"; str(res[i]["error"]) != want {
			t.Errorf("operator's %s: error %q, want %q", table, res[i]["error"], want)
		}
	}
	wantStatus(t, "record beside refused site data", res[2], "applied")
	if row, _ := op.rowOf(t, "lines", keyID("lines", "L1")); row != nil {
		t.Fatalf("a refused line reached the feed: %v", row)
	}

	otherID := newID()
	res = mgr.mustPush(t,
		mgr.upsert("lines", keyID("lines", "L1"), 0, siteLine("L1")),
		mgr.upsert("products", keyID("products", "P-1"), 0, product),
		mgr.upsert("people", keyID("people", "B-7"), 0, person),
		mgr.upsert("site_settings", keyID("site_settings", "site"), 0, settings),
		mgr.upsert("lines", otherID, 0, with(siteLine("L2"), "id", otherID)),
	)
	for i := 0; i < 4; i++ {
		wantStatus(t, "manager's site data", res[i], "applied")
	}
	rejection(t, "a line whose id is not derived from its code", res[4], "invalid_value")
	row, _ := op.rowOf(t, "lines", keyID("lines", "L1"))
	sameFields(t, "pulled line", row, map[string]any{"code": "L1", "name": "Line L1", "area": "Hall A", "active": 1, "updated_by": "B-1"})
}

// A resolution may name the person who decided; the record keeps them.
func TestResolvePerson(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	ops := s.enroll(t, sname, "operator", 2)
	mgr := s.dev(t, sname, "manager")
	rowID, cid, v := openConflict(t, ops[0], ops[1])
	path := "/v1/conflicts/" + cid + "/resolve"
	body := map[string]any{"row": with(lineRow(rowID), "recipe", "C"), "hlc": mgr.hlc(), "base_version": v,
		"person_id": "B-42", "person_name": `Zoë "Boss" O'Neil <b>`}
	wantError(t, ops[0].call(t, "POST", path, with(body, "person_id", "")), 403, "")
	wantError(t, mgr.call(t, "POST", path, with(body, "person_id", "")), 422, "")
	wantError(t, mgr.call(t, "POST", path, with(body, "person_name", strings.Repeat("x", 129))), 422, "too_long")
	if r := mgr.call(t, "POST", path, body); r.Status != 200 {
		t.Fatalf("resolve: %v", r)
	}
	rec, _ := conflictRecord(t, ops[0], cid)
	sameFields(t, "resolved record", rec, map[string]any{"status": "resolved", "resolved_by": mgr.id,
		"resolved_by_person": "B-42", "resolved_by_name": `Zoë "Boss" O'Neil <b>`})

	// Naming nobody: the keys are there, null.
	rid2, cid2, v2 := openConflict(t, ops[0], ops[1])
	if r := mgr.call(t, "POST", "/v1/conflicts/"+cid2+"/resolve", map[string]any{"row": lineRow(rid2), "hlc": mgr.hlc(), "base_version": v2}); r.Status != 200 {
		t.Fatalf("resolve without a person: %v", r)
	}
	rec2, _ := conflictRecord(t, ops[0], cid2)
	hasKeys(t, "record resolved by nobody", rec2, "resolved_by_person", "resolved_by_name")
	sameFields(t, "record resolved by nobody", rec2, map[string]any{"status": "resolved", "resolved_by_person": nil, "resolved_by_name": nil})
}

// The import command writes a site's data into a running server's
// database: devices are told at once and pull the rows; a bad file changes
// nothing and exits 1 with every problem by line.
func TestSiteImport(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	d := s.dev(t, sname, "operator")
	st := d.events(t)
	defer st.close()

	dir := t.TempDir()
	file := filepath.Join(dir, "lines.csv")
	os.WriteFile(file, []byte("\ufeffcode,name,area,active\r\nL1,Line one,Hall A,1\r\nL2,\"=HYPERLINK(\"\"x\"\")\",,no\r\n"), 0o600)
	out := s.cli(t, "site", "import", "--site", sname, "--table", "lines", "--file", file)
	if lastLine(out) != "imported 2 rows (0 unchanged)" {
		t.Fatalf("import printed %q", out)
	}
	if _, ok := st.next(t, 5*time.Second); !ok {
		t.Fatal("no change event after the import")
	}
	row, ch := d.rowOf(t, "lines", keyID("lines", "L2"))
	if row == nil {
		t.Fatal("the imported line is not in the feed")
	}
	sameFields(t, "imported line", row, map[string]any{"code": "L2", "name": `=HYPERLINK("x")`, "area": nil, "active": 0, "updated_by": "import", "deleted_at": nil})
	if h := str(ch["hlc"]); !strings.HasSuffix(h, "-outpost-admin") {
		t.Errorf("imported change hlc %q, want the admin node", h)
	}
	if out := s.cli(t, "site", "import", "--site", sname, "--table", "lines", "--file", file); lastLine(out) != "imported 0 rows (2 unchanged)" {
		t.Errorf("re-import printed %q", out)
	}

	_, cursor := d.feed(t)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("code,name\nL3,Three\nL4,\nL3,dup\n"), 0o600)
	_, errOut, code := runCLI(nil, "site", "import", "--db", s.db, "--site", sname, "--table", "lines", "--file", bad)
	if code != 1 || !strings.Contains(errOut, "line 3: name: ") || !strings.Contains(errOut, "line 4: code: ") {
		t.Fatalf("bad file: exit %d\n%s", code, errOut)
	}
	if _, after := d.feed(t); after != cursor {
		t.Fatalf("a refused import moved the feed %d → %d", cursor, after)
	}
}
