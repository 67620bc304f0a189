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

// Every answer is scoped to the device's site: rows, conflicts, events and
// history. The same row id in two sites is two rows.
func TestSiteScoping(t *testing.T) {
	t.Parallel()
	s := shared(t)
	siteA, siteB := site(t), site(t)
	as := s.enroll(t, siteA, "operator", 2)
	a1, a2 := as[0], as[1]
	mgrB := s.dev(t, siteB, "manager")
	opB := s.dev(t, siteB, "operator")

	evB := opB.events(t)
	_, cid, _ := openConflict(t, a1, a2)
	id := newID()
	a1.mustPush(t, a1.upsert("production_records", id, 0, with(prodRow(id), "operator_id", "site-a")))

	// The same id in site B is a new row of B, no conflict with A's; B's
	// sequence is its own (its first write is 1, whatever A wrote).
	res := opB.mustPush(t, opB.upsert("production_records", id, 0, with(prodRow(id), "operator_id", "site-b")))[0]
	wantStatus(t, "same id in another site", res, "applied")
	if num(t, res["version"]) != 1 {
		t.Errorf("site B's first write has version %v, want 1 (a per-site sequence)", res["version"])
	}
	if res["conflict_id"] != nil {
		t.Errorf("a write of site B conflicted with site A: %v", res)
	}
	f, cursor := opB.feed(t)
	if len(f) != 1 || cursor != num(t, res["version"]) {
		t.Errorf("site B sees %d changes (cursor %d), want its own one: %v", len(f), cursor, f)
	}
	for k, c := range f {
		if field(c["row"], "operator_id") == "site-a" || k == "sync_conflicts/"+cid {
			t.Errorf("site B sees site A's %s", k)
		}
	}
	// Site A's row is untouched.
	row, _ := a2.rowOf(t, "production_records", id)
	if row["operator_id"] != "site-a" {
		t.Errorf("site A's row: %v", row)
	}
	// Conflicts: site B's manager cannot resolve site A's conflict.
	r := mgrB.call(t, "POST", "/v1/conflicts/"+cid+"/resolve", map[string]any{"row": lineRow(newID()), "hlc": mgrB.hlc()})
	if r.Status != 403 && r.Status != 404 {
		t.Errorf("site B's manager resolving site A's conflict: %v", r)
	}
	// History (when served) shows only the device's site.
	for _, q := range []string{"table=production_records&id=" + id, "table=sync_conflicts&id=" + cid} {
		r := opB.call(t, "GET", "/v1/history?"+q, nil)
		if r.Status == 200 {
			for _, v := range list(t, r.Obj()["versions"]) {
				if field(v["row"], "operator_id") == "site-a" || v["device_id"] == a1.id || v["device_id"] == a2.id {
					t.Errorf("site B's history shows site A's version: %v", v)
				}
			}
		} else if r.Status != 404 {
			t.Errorf("history: %v", r)
		}
	}
	// Events: B's stream saw B's write only.
	for {
		c, ok := evB.next(t, 1500*time.Millisecond)
		if !ok {
			break
		}
		if c != num(t, res["version"]) {
			t.Errorf("site B's stream announced cursor %d; B's only write is %v", c, res["version"])
		}
	}
}

// GET /v1/events: "event: change" with data {"cursor":N} after a write of
// the device's site; nothing for another site's writes.
func TestEvents(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	devs := s.enroll(t, sname, "operator", 2)
	listener, writer := devs[0], devs[1]
	outsider := s.dev(t, site(t), "operator")
	st := listener.events(t)
	time.Sleep(100 * time.Millisecond)

	// Another site's writes: no event within well over a poll interval.
	for i := 0; i < 3; i++ {
		id := newID()
		outsider.mustPush(t, outsider.upsert("production_records", id, 0, prodRow(id)))
	}
	if c, ok := st.next(t, 2500*time.Millisecond); ok {
		t.Errorf("an event (cursor %d) for another site's write", c)
	}
	// A write of the site: an event with the site's cursor.
	for i := 0; i < 2; i++ {
		id := newID()
		res := writer.mustPush(t, writer.upsert("production_records", id, 0, prodRow(id)))[0]
		v := num(t, res["version"])
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, ok := st.next(t, time.Until(deadline))
			if !ok {
				t.Fatalf("no event within 5 s of write %d (version %d)", i, v)
			}
			if c == v {
				break
			}
			if c > v {
				t.Fatalf("event cursor %d beyond the site's sequence %d", c, v)
			}
		}
	}
	// A resolution is a write too.
	mgr := s.dev(t, sname, "manager")
	rowID, cid, v2 := openConflict(t, writer, listener)
	for {
		if _, ok := st.next(t, 300*time.Millisecond); !ok {
			break
		}
	}
	r := mgr.call(t, "POST", "/v1/conflicts/"+cid+"/resolve", map[string]any{"row": with(lineRow(rowID), "recipe", "Z"), "hlc": mgr.hlc(), "base_version": v2})
	if r.Status != 200 {
		t.Fatalf("resolve: %v", r)
	}
	_, feedCursor := listener.feed(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, ok := st.next(t, time.Until(deadline))
		if !ok {
			t.Fatalf("no event after a resolution (site cursor %d)", feedCursor)
		}
		if c == feedCursor {
			break
		}
	}
}

// The event stream carries a comment line every 15 s.
func TestEventsKeepAlive(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 15 s for a keep-alive comment")
	}
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	st := d.events(t)
	start := time.Now()
	deadline := time.After(17 * time.Second)
	for {
		select {
		case e := <-st.events:
			if e.comment && e.event == "" && time.Since(start) > 10*time.Second {
				return // a keep-alive, not the greeting
			}
		case <-deadline:
			t.Fatal("no comment line within 17 s, want a keep-alive every 15 s")
		case <-st.ended:
			t.Fatal("the stream ended")
		}
	}
}
