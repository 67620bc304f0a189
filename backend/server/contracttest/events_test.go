package contracttest

import (
	"testing"
	"time"
)

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
