package contracttest

import (
	"fmt"
	"testing"
	"time"
)

var conflictKeys = []string{"id", "table_name", "row_id", "status", "base", "mine", "theirs", "device_id", "created_at", "resolved_at", "resolved_by", "reason"}

// conflictRecord pulls sync_conflicts/id and checks its shape.
func conflictRecord(t *testing.T, d *device, id string) (rec map[string]any, change map[string]any) {
	t.Helper()
	rec, change = d.rowOf(t, "sync_conflicts", id)
	if rec == nil {
		t.Fatalf("conflict record %s is not in the feed", id)
	}
	hasKeys(t, "conflict record", rec, conflictKeys...)
	if h, ok := change["hlc"].(string); !ok || h == "" {
		t.Errorf("the sync_conflicts change carries hlc %#v, want a string", change["hlc"])
	}
	num(t, change["version"])
	if rec["id"] != id {
		t.Errorf("record id %v, want %s", rec["id"], id)
	}
	for _, k := range []string{"mine", "theirs"} {
		if _, ok := rec[k].(map[string]any); !ok {
			t.Errorf("%s is not an object: %#v", k, rec[k])
		}
	}
	if _, ok := rec["base"].(map[string]any); !ok && rec["base"] != nil {
		t.Errorf("base is neither an object nor null: %#v", rec["base"])
	}
	num(t, rec["created_at"])
	return rec, change
}

func field(m any, k string) any {
	o, _ := m.(map[string]any)
	return o[k]
}

// lww: the greater HLC wins; an incoming winner is applied with the
// conflict_id of an auto_resolved record (winner "mine"); a loser is
// superseded with conflict_id, the server's row and version (winner
// "theirs"). Versions are the ones pull reports.
func TestLWW(t *testing.T) {
	t.Parallel()
	s := shared(t)
	devs := s.enroll(t, site(t), "operator", 3)
	a, b, c := devs[0], devs[1], devs[2]
	id := newID()
	v1 := num(t, a.mustPush(t, a.upsert("production_records", id, 0, prodRow(id)))[0]["version"])
	v2 := num(t, a.mustPush(t, a.upsert("production_records", id, v1, with(prodRow(id), "quantity", 20)))[0]["version"])

	// b edited on v1 with a later clock: it wins.
	res := b.mustPush(t, b.upsert("production_records", id, v1, with(prodRow(id), "quantity", 50, "operator_id", "op-b")))[0]
	wantStatus(t, "later hlc", res, "applied")
	v3 := num(t, res["version"])
	cid := str(res["conflict_id"])
	if !uuidRE.MatchString(cid) || v3 <= v2 {
		t.Fatalf("applied over another device's write: %v", res)
	}
	row, ch := a.rowOf(t, "production_records", id)
	if num(t, ch["version"]) != v3 || !same(row["quantity"], 50) {
		t.Errorf("pull after lww win: version %v row %v, want %d and quantity 50", ch["version"], row, v3)
	}
	rec, _ := conflictRecord(t, a, cid)
	sameFields(t, "lww record (mine won)", rec, map[string]any{
		"status": "auto_resolved", "winner": "mine", "table_name": "production_records", "row_id": id,
		"device_id": b.id, "resolved_at": nil, "resolved_by": nil, "reason": nil,
	})
	if !same(field(rec["mine"], "quantity"), 50) || !same(field(rec["theirs"], "quantity"), 20) || !same(field(rec["base"], "quantity"), 12) {
		t.Errorf("lww record states: base %v mine %v theirs %v", rec["base"], rec["mine"], rec["theirs"])
	}
	for _, k := range []string{"mine", "theirs"} {
		hasKeys(t, "record "+k, rec[k].(map[string]any), "id", "line_id", "product_id", "quantity", "operator_id", "created_at", "updated_at", "deleted_at")
	}

	// c edited on v1 with an older clock: it loses.
	old := c.upsert("production_records", id, v1, with(prodRow(id), "quantity", 99))
	old["hlc"] = hlcOf(time.Now().UnixMilli()-60_000, 0, c.id)
	res = c.mustPush(t, old)[0]
	wantStatus(t, "older hlc", res, "superseded")
	cid2 := str(res["conflict_id"])
	if !uuidRE.MatchString(cid2) || cid2 == cid {
		t.Errorf("superseded conflict_id %q", cid2)
	}
	if num(t, res["version"]) != v3 {
		t.Errorf("superseded version %v, want the server's %d", res["version"], v3)
	}
	srow, _ := res["row"].(map[string]any)
	if srow == nil || !same(srow["quantity"], 50) || srow["id"] != id {
		t.Errorf("superseded row %v, want the server's (quantity 50)", res["row"])
	}
	row, ch = c.rowOf(t, "production_records", id)
	if num(t, ch["version"]) != v3 || !same(row["quantity"], 50) {
		t.Errorf("pull after lww loss: version %v row %v", ch["version"], row)
	}
	sameFields(t, "superseded row vs pulled row", srow, row)
	rec, _ = conflictRecord(t, c, cid2)
	sameFields(t, "lww record (theirs won)", rec, map[string]any{
		"status": "auto_resolved", "winner": "theirs", "row_id": id, "device_id": c.id,
	})
	if !same(field(rec["mine"], "quantity"), 99) || !same(field(rec["theirs"], "quantity"), 50) {
		t.Errorf("lww loser record: mine %v theirs %v", rec["mine"], rec["theirs"])
	}
}

// manual: disjoint fields merge; the same field changed differently is a
// conflict that keeps the server state; updated_at takes the later value,
// created_at the original; a delete meeting an edit is a conflict; an open
// conflict does not lock the row.
func TestManual(t *testing.T) {
	t.Parallel()
	s := shared(t)
	devs := s.enroll(t, site(t), "operator", 3)
	a, b, c := devs[0], devs[1], devs[2]
	id := newID()
	orig := lineRow(id)
	created := orig["created_at"]
	v1 := num(t, a.mustPush(t, a.upsert("line_configs", id, 0, orig))[0]["version"])
	later := time.Now().UnixMilli() + 5000
	v2 := num(t, a.mustPush(t, a.upsert("line_configs", id, v1, with(orig, "recipe", "R2", "updated_at", later)))[0]["version"])

	// Disjoint: b changes notes (and claims another created_at).
	res := b.mustPush(t, b.upsert("line_configs", id, v1, with(orig, "notes", "from b", "created_at", 1, "updated_at", later-1000)))[0]
	wantStatus(t, "disjoint fields", res, "merged")
	v3 := num(t, res["version"])
	mrow, _ := res["row"].(map[string]any)
	want := map[string]any{"recipe": "R2", "notes": "from b", "created_at": created, "updated_at": later, "speed_rpm": 1400}
	sameFields(t, "merged row", mrow, want)
	row, ch := a.rowOf(t, "line_configs", id)
	if num(t, ch["version"]) != v3 || v3 <= v2 {
		t.Errorf("merged version %d, pull version %v (v2 %d)", v3, ch["version"], v2)
	}
	sameFields(t, "pulled merged row", row, want)

	// Same field changed to the same value on both sides: no conflict.
	res = c.mustPush(t, c.upsert("line_configs", id, v1, with(orig, "recipe", "R2")))[0]
	if res["status"] != "merged" && res["status"] != "applied" {
		t.Errorf("the same change on both sides: %v", res)
	}
	if res["conflict_id"] != nil {
		t.Errorf("the same change on both sides made a conflict: %v", res)
	}
	if num(t, res["version"]) != v3 {
		// nothing new to write: the row stays at v3
		row, ch := a.rowOf(t, "line_configs", id)
		if !same(ch["version"], res["version"]) {
			t.Errorf("version %v, pull %v", res["version"], ch["version"])
		}
		sameFields(t, "after the same change", row, want)
		v3 = num(t, res["version"])
	}

	// Same field, different values: c changed recipe on v1.
	res = c.mustPush(t, c.upsert("line_configs", id, v1, with(orig, "recipe", "R3")))[0]
	wantStatus(t, "same field", res, "conflict")
	cid := str(res["conflict_id"])
	if !uuidRE.MatchString(cid) || num(t, res["version"]) != v3 {
		t.Errorf("conflict result: %v (want version %d)", res, v3)
	}
	sameFields(t, "conflict result row (the server's)", res["row"].(map[string]any), want)
	row, ch = a.rowOf(t, "line_configs", id)
	if num(t, ch["version"]) != v3 {
		t.Errorf("a conflict changed the row: version %v", ch["version"])
	}
	sameFields(t, "row after conflict", row, want)
	rec, _ := conflictRecord(t, a, cid)
	sameFields(t, "open record", rec, map[string]any{"status": "open", "table_name": "line_configs", "row_id": id,
		"device_id": c.id, "resolved_at": nil, "resolved_by": nil, "reason": nil})
	if _, ok := rec["winner"]; ok {
		t.Errorf("a manual record carries winner %v", rec["winner"])
	}
	if field(rec["mine"], "recipe") != "R3" || field(rec["theirs"], "recipe") != "R2" || field(rec["base"], "recipe") != "R1" {
		t.Errorf("record states: base %v mine %v theirs %v", rec["base"], rec["mine"], rec["theirs"])
	}

	// An open conflict does not lock the row.
	res = a.mustPush(t, a.upsert("line_configs", id, v3, with(row, "speed_rpm", 1500)))[0]
	wantStatus(t, "write after an open conflict", res, "applied")
	v4 := num(t, res["version"])

	// A delete meeting an edit is a conflict, never a silent merge.
	res = c.mustPush(t, c.del("line_configs", id, v3, nil))[0]
	wantStatus(t, "delete meeting an edit", res, "conflict")
	row, ch = a.rowOf(t, "line_configs", id)
	if num(t, ch["version"]) != v4 || row["deleted_at"] != nil {
		t.Errorf("the delete was applied: version %v row %v", ch["version"], row)
	}
}

// "No other device has written the row since base_version → apply": the
// pusher being the last writer does not hide another device's write made
// between its base and its own last write.
func TestSelfRuleSeesOtherWriters(t *testing.T) {
	t.Parallel()
	s := shared(t)
	devs := s.enroll(t, site(t), "operator", 2)
	a, b := devs[0], devs[1]
	id := newID()
	orig := lineRow(id)
	v1 := num(t, a.mustPush(t, a.upsert("line_configs", id, 0, orig))[0]["version"])
	a.mustPush(t, a.upsert("line_configs", id, v1, with(orig, "recipe", "R2")))
	// b edits notes on v1: merged (b is now the last writer) — and b never
	// receives the answer.
	wantStatus(t, "b's first push", b.mustPush(t, b.upsert("line_configs", id, v1, with(orig, "notes", "from b")))[0], "merged")
	// b edits recipe, still on v1: a's recipe R2 was never seen by b.
	res := b.mustPush(t, b.upsert("line_configs", id, v1, with(orig, "notes", "from b", "recipe", "R3")))[0]
	if res["status"] != "conflict" {
		t.Errorf("an edit on v1 overwrote another device's write it never saw: %v", res)
	}
	row, _ := a.rowOf(t, "line_configs", id)
	if row["recipe"] != "R2" {
		t.Errorf("a's recipe R2 was lost: %v", row)
	}

	// Same under lww: the loser is preserved in a conflict record.
	pid := newID()
	p1 := num(t, a.mustPush(t, a.upsert("production_records", pid, 0, prodRow(pid)))[0]["version"])
	a.mustPush(t, a.upsert("production_records", pid, p1, with(prodRow(pid), "quantity", 20)))
	r1 := b.mustPush(t, b.upsert("production_records", pid, p1, with(prodRow(pid), "operator_id", "op-b")))[0]
	wantStatus(t, "b's lww push", r1, "applied")
	r2 := b.mustPush(t, b.upsert("production_records", pid, p1, with(prodRow(pid), "operator_id", "op-b2")))[0]
	wantStatus(t, "b's second lww push", r2, "applied")
	if r2["conflict_id"] == nil {
		t.Errorf("b's second push on p1 overrode a's write without an auto_resolved record: %v", r2)
	}
}

// Pull: arrays never null, cursors, has_more, limits, bad cursors, 410, the
// row's columns, and the latest state of each row once.
func TestPull(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")

	r := d.pull(t, "cursor=0")
	if r.Status != 200 {
		t.Fatalf("pull of an empty site: %v", r)
	}
	if ct := r.Header.Get("Content-Type"); ct == "" || ct[:16] != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	m := r.Obj()
	if l, ok := m["changes"].([]any); !ok || len(l) != 0 || num(t, m["cursor"]) != 0 || m["has_more"] != false {
		t.Errorf("empty pull: %s", r.Raw)
	}
	if r := d.pull(t, ""); r.Status != 200 || num(t, r.Obj()["cursor"]) != 0 {
		t.Errorf("pull without a cursor: %v", r)
	}
	wantError(t, d.pull(t, "cursor=5"), 410, "resync_required")
	for _, q := range []string{"cursor=abc", "cursor=-1", "cursor=1.5", "cursor=0x10"} {
		wantError(t, d.pull(t, q), 400, "")
	}

	ids := []string{newID(), newID(), newID()}
	var changes []map[string]any
	for _, id := range ids {
		changes = append(changes, d.upsert("production_records", id, 0, prodRow(id)))
	}
	lid := newID()
	changes = append(changes, d.upsert("line_configs", lid, 0, without(lineRow(lid), "notes")))
	res := d.mustPush(t, changes...)
	// Update the first row: it appears once, at its latest version.
	upd := d.mustPush(t, d.upsert("production_records", ids[0], num(t, res[0]["version"]), with(prodRow(ids[0]), "quantity", 1)))[0]
	last := num(t, upd["version"])

	r = d.pull(t, "cursor=0")
	m = r.Obj()
	got := list(t, m["changes"])
	if len(got) != 4 || num(t, m["cursor"]) != last || m["has_more"] != false {
		t.Fatalf("pull: %s", r.Raw)
	}
	prev := int64(0)
	for _, c := range got {
		v := num(t, c["version"])
		if v <= prev {
			t.Errorf("changes not ordered by version: %s", r.Raw)
		}
		prev = v
		if h, ok := c["hlc"].(string); !ok || h == "" {
			t.Errorf("change without a string hlc: %v", c)
		}
		row, _ := c["row"].(map[string]any)
		cols := prodColumns
		if c["table"] == "line_configs" {
			cols = append(append([]string{}, lineColumns...), lineAdditive...)
		}
		hasKeys(t, fmt.Sprint(c["table"], " row"), row, cols...)
		lacksKeys(t, "pulled row", row, "synced_at", "version", "hlc")
		if len(row) != len(cols) {
			t.Errorf("row has %d columns, want %d: %v", len(row), len(cols), keys2(row))
		}
		num(t, row["server_updated_at"])
		if row["id"] != c["id"] {
			t.Errorf("row id %v, change id %v", row["id"], c["id"])
		}
	}
	if got[3]["id"] != ids[0] || !same(field(got[3]["row"], "quantity"), 1) {
		t.Errorf("the updated row is not last with its latest state: %v", got[3])
	}
	if got[2]["table"] != "line_configs" || field(got[2]["row"], "notes") != nil {
		t.Errorf("line config: %v", got[2])
	}

	// An empty page returns the request's cursor, has_more false.
	r = d.pull(t, fmt.Sprintf("cursor=%d", last))
	m = r.Obj()
	if l, ok := m["changes"].([]any); r.Status != 200 || !ok || len(l) != 0 || num(t, m["cursor"]) != last || m["has_more"] != false {
		t.Errorf("empty page at the end: %v", r)
	}
	wantError(t, d.pull(t, fmt.Sprintf("cursor=%d", last+1)), 410, "resync_required")

	// Paging.
	r = d.pull(t, "cursor=0&limit=2")
	m = r.Obj()
	page := list(t, m["changes"])
	if len(page) != 2 || m["has_more"] != true || num(t, m["cursor"]) != num(t, page[1]["version"]) {
		t.Fatalf("page 1: %s", r.Raw)
	}
	r = d.pull(t, fmt.Sprintf("cursor=%d&limit=2", num(t, m["cursor"])))
	m = r.Obj()
	if page := list(t, m["changes"]); len(page) != 2 || m["has_more"] != false || num(t, m["cursor"]) != last {
		t.Errorf("page 2: %s", r.Raw)
	}
	for _, q := range []string{"limit=abc", "limit=-5"} {
		if r := d.pull(t, "cursor=0&"+q); r.Status != 400 && r.Status != 200 {
			t.Errorf("%s: %v", q, r)
		} else if r.Status == 400 {
			wantError(t, r, 400, "")
		}
	}
}

// limit defaults to 500 and is capped at 5000.
func TestPullLimits(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	const n = 5003
	for done := 0; done < n; {
		k := min(1000, n-done)
		changes := make([]map[string]any, k)
		for i := range changes {
			id := newID()
			changes[i] = d.upsert("production_records", id, 0, prodRow(id))
		}
		for i, r := range d.mustPush(t, changes...) {
			wantStatus(t, fmt.Sprint("row ", done+i), r, "applied")
		}
		done += k
	}
	r := d.pull(t, "cursor=0")
	m := r.Obj()
	if l := list(t, m["changes"]); len(l) != 500 || m["has_more"] != true {
		t.Errorf("default limit: %d changes, has_more %v", len(l), m["has_more"])
	}
	r = d.pull(t, "cursor=0&limit=1000000", hdr("Accept-Encoding", "gzip"))
	m = r.Obj()
	l := list(t, m["changes"])
	if len(l) != 5000 || m["has_more"] != true || num(t, m["cursor"]) != num(t, l[4999]["version"]) {
		t.Errorf("capped limit: %d changes, has_more %v", len(l), m["has_more"])
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a large answer to Accept-Encoding: gzip was not gzipped")
	}
	r = d.pull(t, fmt.Sprintf("cursor=%d&limit=5000", num(t, m["cursor"])))
	m = r.Obj()
	if l := list(t, m["changes"]); len(l) != 3 || m["has_more"] != false {
		t.Errorf("last page: %d changes, has_more %v", len(l), m["has_more"])
	}
}

// Responses are gzipped for a client that accepts gzip; gzip request bodies
// are accepted.
func TestGzip(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	id := newID()
	r := d.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{d.upsert("production_records", id, 0, prodRow(id))}},
		gzipped(), hdr("Accept-Encoding", "gzip"))
	res := results(t, r, 1)
	wantStatus(t, "gzip push", res[0], "applied")
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("push answer to Accept-Encoding: gzip is not gzipped: %v", r.Header)
	}
	for _, path := range []string{"/v1/health", "/v1/pull?cursor=0"} {
		r := d.call(t, "GET", path, nil, hdr("Accept-Encoding", "gzip"))
		if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" || r.JSON == nil {
			t.Errorf("%s with Accept-Encoding: gzip: %v %v", path, r, r.Header)
		}
		// Without Accept-Encoding the answer is plain.
		r = d.call(t, "GET", path, nil)
		if r.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s without Accept-Encoding came %q", path, r.Header.Get("Content-Encoding"))
		}
	}
	// Errors too.
	r = d.call(t, "GET", "/v1/pull?cursor=x", nil, hdr("Accept-Encoding", "gzip"))
	wantError(t, r, 400, "")
	// A bad gzip body is malformed.
	wantError(t, d.call(t, "POST", "/v1/push", "this is not gzip", hdr("Content-Encoding", "gzip")), 400, "")
	// An enrollment may be gzipped too.
	code := s.code(t, site(t), "operator")
	r = s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": "gz", "platform": "linux"}, gzipped())
	if r.Status != 201 {
		t.Errorf("gzip enrollment: %v", r)
	}
}

// lww ties on (ms, counter) are broken by the device id inside the HLC:
// HLC strings compare as strings.
func TestLWWTieBreak(t *testing.T) {
	t.Parallel()
	s := shared(t)
	devs := s.enroll(t, site(t), "operator", 2)
	lo, hi := devs[0], devs[1]
	if lo.id > hi.id {
		lo, hi = hi, lo
	}
	ms := time.Now().UnixMilli() - 1000
	push := func(d *device, id string, base int64, q int) map[string]any {
		c := d.upsert("production_records", id, base, with(prodRow(id), "quantity", q))
		c["hlc"] = hlcOf(ms, 7, d.id)
		return d.mustPush(t, c)[0]
	}
	// The greater device id wins a tie, whichever pushes second.
	id := newID()
	v1 := num(t, lo.mustPush(t, lo.upsert("production_records", id, 0, prodRow(id)))[0]["version"])
	wantStatus(t, "lo", push(lo, id, v1, 1), "applied")
	wantStatus(t, "hi after lo, same ms and counter", push(hi, id, v1, 2), "applied")
	id2 := newID()
	w1 := num(t, lo.mustPush(t, lo.upsert("production_records", id2, 0, prodRow(id2)))[0]["version"])
	wantStatus(t, "hi", push(hi, id2, w1, 2), "applied")
	wantStatus(t, "lo after hi, same ms and counter", push(lo, id2, w1, 1), "superseded")
	for _, rid := range []string{id, id2} {
		row, _ := lo.rowOf(t, "production_records", rid)
		if !same(row["quantity"], 2) {
			t.Errorf("row %s: quantity %v, want the greater device id's 2", rid, row["quantity"])
		}
	}
}

// Two devices create the same row id independently (base_version 0 on both):
// the second is judged by the policy, and its record has base null.
func TestCreateCreate(t *testing.T) {
	t.Parallel()
	s := shared(t)
	devs := s.enroll(t, site(t), "operator", 2)
	a, b := devs[0], devs[1]
	lid, pid := newID(), newID()
	a.mustPush(t, a.upsert("line_configs", lid, 0, with(lineRow(lid), "recipe", "A")), a.upsert("production_records", pid, 0, prodRow(pid)))
	res := b.mustPush(t, b.upsert("line_configs", lid, 0, with(lineRow(lid), "recipe", "B")), b.upsert("production_records", pid, 0, with(prodRow(pid), "quantity", 99)))
	wantStatus(t, "manual create-create", res[0], "conflict")
	wantStatus(t, "lww create-create (later hlc)", res[1], "applied")
	for _, r := range res {
		rec, _ := conflictRecord(t, a, str(r["conflict_id"]))
		if rec["base"] != nil {
			t.Errorf("record of a create-create has base %v, want null", rec["base"])
		}
	}
}
