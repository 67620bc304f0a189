package contracttest

import (
	"testing"
	"time"
)

// openConflict makes an open manual conflict on a new line config of d's
// site (a and b operators of the site) and returns the row id, the
// conflict id and the row's version.
func openConflict(t *testing.T, a, b *device) (rowID, conflictID string, version int64) {
	t.Helper()
	id := newID()
	orig := lineRow(id)
	v1 := num(t, a.mustPush(t, a.upsert("line_configs", id, 0, orig))[0]["version"])
	v2 := num(t, a.mustPush(t, a.upsert("line_configs", id, v1, with(orig, "recipe", "A")))[0]["version"])
	res := b.mustPush(t, b.upsert("line_configs", id, v1, with(orig, "recipe", "B")))[0]
	wantStatus(t, "conflicting push", res, "conflict")
	return id, str(res["conflict_id"]), v2
}

// Resolve: manager devices of the conflict's site only; checks in the order
// token → role/site → existence → body; stale_base and already_resolved;
// without base_version the check is against "theirs"; lww revert.
func TestResolve(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	ops := s.enroll(t, sname, "operator", 2)
	a, b := ops[0], ops[1]
	mgr := s.dev(t, sname, "manager")
	stranger := s.dev(t, site(t), "manager") // a manager of another site

	rowID, cid, v2 := openConflict(t, a, b)
	path := "/v1/conflicts/" + cid + "/resolve"
	now := time.Now().UnixMilli()
	chosen := with(lineRow(rowID), "recipe", "C", "updated_at", now)
	good := map[string]any{"row": chosen, "hlc": mgr.hlc(), "base_version": v2, "reason": "checked with the shift lead"}
	unknown := "/v1/conflicts/" + newID() + "/resolve"

	t.Run("order of checks", func(t *testing.T) {
		// token first
		wantError(t, s.call(t, "POST", path, good), 401, "")
		wantError(t, s.call(t, "POST", unknown, "{garbage"), 401, "")
		// role: an operator, even of the conflict's site, even for an unknown id or a bad body
		wantError(t, a.call(t, "POST", path, good), 403, "")
		wantError(t, a.call(t, "POST", unknown, good), 403, "")
		wantError(t, a.call(t, "POST", path, "{garbage"), 403, "")
		// site: a manager of another site (403 or 404), before the body
		for _, body := range []any{good, "{garbage"} {
			r := stranger.call(t, "POST", path, body)
			if r.Status != 403 && r.Status != 404 {
				t.Errorf("another site's manager: %v", r)
			} else {
				wantError(t, r, r.Status, "")
			}
		}
		// existence before the body
		wantError(t, mgr.call(t, "POST", unknown, good), 404, "")
		wantError(t, mgr.call(t, "POST", unknown, "{garbage"), 404, "")
		wantError(t, mgr.call(t, "POST", "/v1/conflicts/not-a-uuid/resolve", good), 404, "")
		// then the body
		wantError(t, mgr.call(t, "POST", path, "{garbage"), 400, "")
		for name, body := range map[string]any{
			"recipe too long": with(good, "row", with(chosen, "recipe", string(make([]byte, 129)))),
			"quantity-like":   with(good, "row", with(chosen, "speed_rpm", "fast")),
			"unknown column":  with(good, "row", with(chosen, "colour", "red")),
			"hlc malformed":   with(good, "hlc", "now"),
		} {
			r := mgr.call(t, "POST", path, body)
			if r.Status != 400 && r.Status != 422 {
				t.Errorf("%s: %v", name, r)
			} else {
				wantError(t, r, r.Status, "")
			}
		}
		// Nothing of this resolved the conflict.
		rec, _ := conflictRecord(t, a, cid)
		if rec["status"] != "open" {
			t.Fatalf("record after refused resolutions: %v", rec)
		}
	})

	t.Run("stale_base", func(t *testing.T) {
		// The row moves on after the conflict.
		cur, _ := a.rowOf(t, "line_configs", rowID)
		v3 := num(t, a.mustPush(t, a.upsert("line_configs", rowID, v2, with(cur, "speed_rpm", 1800)))[0]["version"])
		for name, body := range map[string]any{
			"explicit base":                 good,
			"without base_version (theirs)": without(good, "base_version"),
		} {
			r := mgr.call(t, "POST", path, body)
			e := wantError(t, r, 409, "stale_base")
			if e == nil {
				continue
			}
			if num(t, e["version"]) != v3 {
				t.Errorf("%s: stale_base version %v, want %d", name, e["version"], v3)
			}
			row, _ := e["row"].(map[string]any)
			if row == nil || !same(row["speed_rpm"], 1800) || row["id"] != rowID {
				t.Errorf("%s: stale_base row %v", name, e["row"])
			}
		}
		rec, _ := conflictRecord(t, a, cid)
		if rec["status"] != "open" {
			t.Fatalf("a stale resolution closed the conflict: %v", rec)
		}

		// Decided again on the new state: 200 {"version"}.
		body := with(good, "base_version", v3, "hlc", mgr.hlc())
		r := mgr.call(t, "POST", path, body)
		if r.Status != 200 {
			t.Fatalf("resolve: %v", r)
		}
		if len(r.Obj()) != 1 {
			t.Errorf("resolve answer %s, want {\"version\":N}", r.Raw)
		}
		v := num(t, r.Obj()["version"])
		row, ch := b.rowOf(t, "line_configs", rowID)
		if num(t, ch["version"]) != v || row["recipe"] != "C" {
			t.Errorf("after resolve: version %v row %v, want %d recipe C", ch["version"], row, v)
		}
		rec, _ = conflictRecord(t, b, cid)
		sameFields(t, "resolved record", rec, map[string]any{"status": "resolved", "resolved_by": mgr.id, "reason": "checked with the shift lead"})
		num(t, rec["resolved_at"])

		// Again: already_resolved.
		wantError(t, mgr.call(t, "POST", path, with(body, "base_version", v, "hlc", mgr.hlc())), 409, "already_resolved")
	})

	t.Run("without base_version", func(t *testing.T) {
		// Nothing moved since the conflict: the check against "theirs" passes.
		rid, cid2, _ := openConflict(t, a, b)
		body := map[string]any{"row": with(lineRow(rid), "recipe", "D"), "hlc": hlcOf(time.Now().UnixMilli(), 0, a.id)} // format only: another device's id is fine
		r := mgr.call(t, "POST", "/v1/conflicts/"+cid2+"/resolve", body)
		if r.Status != 200 {
			t.Fatalf("resolve without base_version: %v", r)
		}
		row, ch := a.rowOf(t, "line_configs", rid)
		if row["recipe"] != "D" || !same(ch["version"], r.Obj()["version"]) {
			t.Errorf("resolved row %v version %v, answer %s", row, ch["version"], r.Raw)
		}
		rec, _ := conflictRecord(t, a, cid2)
		sameFields(t, "record", rec, map[string]any{"status": "resolved", "resolved_by": mgr.id, "reason": nil})
	})

	t.Run("revert of auto_resolved", func(t *testing.T) {
		id := newID()
		p1 := num(t, a.mustPush(t, a.upsert("production_records", id, 0, prodRow(id)))[0]["version"])
		a.mustPush(t, a.upsert("production_records", id, p1, with(prodRow(id), "quantity", 20)))
		res := b.mustPush(t, b.upsert("production_records", id, p1, with(prodRow(id), "quantity", 30)))[0]
		wantStatus(t, "lww win", res, "applied")
		lost := with(prodRow(id), "quantity", 20)
		for name, body := range map[string]any{
			"with base_version": map[string]any{"row": lost, "hlc": mgr.hlc(), "base_version": res["version"], "reason": "revert"},
		} {
			r := mgr.call(t, "POST", "/v1/conflicts/"+str(res["conflict_id"])+"/resolve", body)
			if r.Status != 200 {
				t.Fatalf("%s: %v", name, r)
			}
		}
		row, _ := a.rowOf(t, "production_records", id)
		if !same(row["quantity"], 20) {
			t.Errorf("revert did not restore the losing state: %v", row)
		}
		rec, _ := conflictRecord(t, a, str(res["conflict_id"]))
		sameFields(t, "reverted record", rec, map[string]any{"status": "resolved", "resolved_by": mgr.id, "reason": "revert", "winner": "mine"})

		// A superseded loser's record can be reverted too.
		old := b.upsert("production_records", id, p1, with(prodRow(id), "quantity", 40))
		old["hlc"] = hlcOf(time.Now().UnixMilli()-60_000, 0, b.id)
		sres := b.mustPush(t, old)[0]
		wantStatus(t, "lww loss", sres, "superseded")
		r := mgr.call(t, "POST", "/v1/conflicts/"+str(sres["conflict_id"])+"/resolve",
			map[string]any{"row": with(prodRow(id), "quantity", 40), "hlc": mgr.hlc(), "base_version": sres["version"]})
		if r.Status != 200 {
			t.Fatalf("revert of a superseded change: %v", r)
		}
		row, _ = a.rowOf(t, "production_records", id)
		if !same(row["quantity"], 40) {
			t.Errorf("revert of superseded: %v", row)
		}

		// Without base_version a revert is checked against the state the
		// record was decided into (for an lww win: the winning write).
		id2 := newID()
		q1 := num(t, a.mustPush(t, a.upsert("production_records", id2, 0, prodRow(id2)))[0]["version"])
		a.mustPush(t, a.upsert("production_records", id2, q1, with(prodRow(id2), "quantity", 20)))
		win := b.mustPush(t, b.upsert("production_records", id2, q1, with(prodRow(id2), "quantity", 30)))[0]
		wantStatus(t, "lww win", win, "applied")
		r = mgr.call(t, "POST", "/v1/conflicts/"+str(win["conflict_id"])+"/resolve", map[string]any{"row": with(prodRow(id2), "quantity", 20), "hlc": mgr.hlc()})
		if r.Status != 200 {
			t.Fatalf("revert without base_version: %v", r)
		}
	})
}
