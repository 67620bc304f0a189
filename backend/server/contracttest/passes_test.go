package contracttest

import (
	"fmt"
	"testing"
	"time"
)

// Every pull answer names the server's timeline (a UUID, the same until a
// restore); push and resolve naming another timeline, or based on a version
// above the site's sequence, are 409 timeline_changed and apply nothing;
// 410 resync_required carries the sequence and the timeline (docs/design.md
// section 3, "Timelines"; section 4).
func TestTimeline(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	m := s.dev(t, sname, "manager")
	o := s.dev(t, sname, "operator")
	first := m.pull(t, "cursor=0")
	tl := str(first.Obj()["timeline"])
	if first.Status != 200 || !uuidRE.MatchString(tl) {
		t.Fatalf("pull answer's timeline %q: %v", tl, first)
	}
	if again := str(o.pull(t, "cursor=0").Obj()["timeline"]); again != tl {
		t.Fatalf("two pulls name timelines %q and %q", tl, again)
	}
	id := newID()
	v := num(t, m.mustPush(t, m.upsert("line_configs", id, 0, lineRow(id)))[0]["version"])
	_, seq := m.feed(t)
	other := "0b7e2f44-1d1a-4c1e-9a55-3c6a8f0e2b71"

	timelineChanged := func(what string, r reply) {
		t.Helper()
		e := wantError(t, r, 409, "timeline_changed")
		if e != nil && (str(e["timeline"]) != tl || num(t, e["sequence"]) < seq) {
			t.Errorf("%s: 409 names timeline %v and sequence %v, want %s and at least %d", what, e["timeline"], e["sequence"], tl, seq)
		}
	}
	nid := newID()
	c := o.upsert("production_records", nid, 0, prodRow(nid))
	timelineChanged("push naming another timeline", o.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{c}}, hdr("Outpost-Timeline", other)))
	above := o.upsert("production_records", nid, seq+1000, prodRow(nid))
	timelineChanged("push based above the sequence", o.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{above}}, hdr("Outpost-Timeline", tl)))
	timelineChanged("push based above the sequence, no header", o.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{above}}))
	wantError(t, o.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{c}}, hdr("Outpost-Timeline", "not-a-uuid")), 400, "malformed")
	if row, _ := o.rowOf(t, "production_records", nid); row != nil {
		t.Fatalf("a refused push wrote: %v", row)
	}
	r := o.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{c}}, hdr("Outpost-Timeline", tl))
	wantStatus(t, "push on the timeline", results(t, r, 1)[0], "applied")

	// Resolve: an open conflict, then decisions on another timeline or
	// above the sequence.
	m.mustPush(t, m.upsert("line_configs", id, v, with(lineRow(id), "recipe", "R-m")))
	res := o.mustPush(t, o.upsert("line_configs", id, v, with(lineRow(id), "recipe", "R-o")))[0]
	wantStatus(t, "clash", res, "conflict")
	cid, cur := str(res["conflict_id"]), num(t, res["version"])
	_, seq = m.feed(t)
	body := func(base int64) map[string]any {
		return map[string]any{"row": with(lineRow(id), "recipe", "R-final"), "hlc": m.hlc(), "base_version": base}
	}
	path := "/v1/conflicts/" + cid + "/resolve"
	timelineChanged("resolve naming another timeline", m.call(t, "POST", path, body(cur), hdr("Outpost-Timeline", other)))
	timelineChanged("resolve based above the sequence", m.call(t, "POST", path, body(seq+1000), hdr("Outpost-Timeline", tl)))
	if r := m.call(t, "POST", path, body(cur), hdr("Outpost-Timeline", tl)); r.Status != 200 {
		t.Fatalf("resolve on the timeline: %v", r)
	}

	_, seq = m.feed(t)
	e := wantError(t, m.pull(t, fmt.Sprintf("cursor=%d", seq+10)), 410, "resync_required")
	if e != nil && (str(e["timeline"]) != tl || num(t, e["sequence"]) != seq) {
		t.Errorf("410 names timeline %v and sequence %v, want %s and %d", e["timeline"], e["sequence"], tl, seq)
	}
}

// `outpost-server restored --db URL`, run on the database of a running
// server, gives it a new timeline: the next pull names it and a push naming
// the old one is refused.
func TestRestoredCLI(t *testing.T) {
	t.Parallel()
	db := newDB()
	s := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	d := s.dev(t, site(t), "operator")
	old := str(d.pull(t, "cursor=0").Obj()["timeline"])
	out := s.cli(t, "restored", "--db", db)
	nt := str(d.pull(t, "cursor=0").Obj()["timeline"])
	if !uuidRE.MatchString(nt) || nt == old {
		t.Fatalf("timeline %q after restored (was %q; CLI said %q)", nt, old, out)
	}
	wantError(t, d.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{}}, hdr("Outpost-Timeline", old)), 409, "timeline_changed")
}

// Retention purges only what every active device has committed
// (committed=, clamped to the cursor); a pull chain from cursor 0 is served
// page after page whatever the horizon; full=1 is honoured only for a chain
// the server saw begin at 0. Retention runs for real, every 200 ms.
func TestCommittedCursorsAndFullPasses(t *testing.T) {
	t.Parallel()
	db := newDB()
	s := startServer(t, db, []string{"OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_DB=" + db, "OUTPOST_RETENTION=200ms"})
	sname := site(t)
	a := s.dev(t, sname, "operator")
	var cs []map[string]any
	for range 5 {
		id := newID()
		cs = append(cs, a.upsert("production_records", id, 0, prodRow(id)))
	}
	a.mustPush(t, cs...)
	gone := newID()
	v := num(t, a.mustPush(t, a.upsert("production_records", gone, 0, prodRow(gone)))[0]["version"])
	tomb := num(t, a.mustPush(t, a.del("production_records", gone, v, nil))[0]["version"])
	purged := func() bool {
		h := a.call(t, "GET", "/v1/history?table=production_records&id="+gone, nil)
		return h.Status == 200 && len(list(t, h.Obj()["versions"])) == 0
	}
	// a asked past the delete but has committed nothing: nothing purged.
	if r := a.pull(t, fmt.Sprintf("cursor=%d&committed=0", tomb)); r.Status != 200 {
		t.Fatalf("pull: %v", r)
	}
	time.Sleep(time.Second) // five retention periods
	if purged() {
		t.Fatal("a tombstone was purged that the only device had not committed")
	}
	// Committed (clamped to the cursor): purged.
	if r := a.pull(t, fmt.Sprintf("cursor=%d&committed=%d", tomb, tomb+100)); r.Status != 200 {
		t.Fatalf("pull: %v", r)
	}
	eventually(t, 15*time.Second, func() error {
		if !purged() {
			return fmt.Errorf("the tombstone at %d was not purged once committed", tomb)
		}
		return nil
	})

	for _, extra := range []string{"", "&full=1"} {
		b := s.dev(t, sname, "operator")
		cursor, rows := int64(0), 0
		for pages := 1; ; pages++ {
			r := b.pull(t, fmt.Sprintf("cursor=%d&committed=%d&limit=2%s", cursor, cursor, extra))
			if r.Status != 200 {
				t.Fatalf("%q: page %d of a pass from 0 at cursor %d (tombstone %d purged): %v", extra, pages, cursor, tomb, r)
			}
			rows += len(list(t, r.Obj()["changes"]))
			cursor = num(t, r.Obj()["cursor"])
			if r.Obj()["has_more"] != true {
				break
			}
		}
		if rows != 5 {
			t.Fatalf("%q: the pass brought %d rows, want 5", extra, rows)
		}
		// The pass is over: below the horizon is 410 again.
		wantError(t, b.pull(t, fmt.Sprintf("cursor=%d%s", tomb-1, extra)), 410, "resync_required")
	}
	// full=1 for a chain that never began at 0.
	c := s.dev(t, sname, "operator")
	wantError(t, c.pull(t, fmt.Sprintf("cursor=%d&full=1", tomb-1)), 410, "resync_required")
	wantError(t, c.pull(t, "cursor=0&committed=x"), 400, "invalid_committed")
	wantError(t, c.pull(t, "cursor=0&full=2"), 400, "invalid_full")
}

// A row's created_at never changes once the server holds the row: a later
// change's value is ignored (lww here) and pull returns the kept one.
func TestCreatedAtKept(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	a := s.dev(t, sname, "operator")
	b := s.dev(t, sname, "operator")
	id := newID()
	row := prodRow(id)
	kept := row["created_at"].(int64)
	v := num(t, a.mustPush(t, a.upsert("production_records", id, 0, row))[0]["version"])
	a.mustPush(t, a.upsert("production_records", id, v, with(row, "created_at", kept-86400000)))
	b.mustPush(t, b.upsert("production_records", id, 0, with(row, "created_at", kept-2*86400000, "quantity", 3)))
	got, _ := b.rowOf(t, "production_records", id)
	if num(t, got["created_at"]) != kept {
		t.Fatalf("created_at %v after later writes, want %d", got["created_at"], kept)
	}
}
