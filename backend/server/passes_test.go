package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/server"
)

// purge runs the real retention of the server (every device seen within an
// hour holds the horizon back).
func (h *harness) purge() server.PurgeStats {
	h.t.Helper()
	st, err := h.srv.Engine().Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	if err != nil {
		h.t.Fatalf("purge: %v", err)
	}
	return st
}

// purgeLater runs retention as if it ran after d: every device not seen
// since is stale and holds nothing back.
func (h *harness) purgeLater(d time.Duration) server.PurgeStats {
	h.t.Helper()
	e := *h.srv.Engine()
	e.Now = func() time.Time { return time.Now().Add(d) }
	st, err := e.Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	if err != nil {
		h.t.Fatalf("purge: %v", err)
	}
	return st
}

// seedWithRecentTombstone writes n live rows, then one row deleted last, has
// d pull past everything and purges: the site's horizon is then the
// tombstone's version, above every live row's.
func seedWithRecentTombstone(t *testing.T, h *harness, d *device, n int) (horizon int64) {
	t.Helper()
	var cs []map[string]any
	for i := 0; i < n; i++ {
		id := newID()
		cs = append(cs, change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil)))
	}
	h.push(d, cs...)
	gone := newID()
	vg := num(h.push(d, change("production_records", gone, "upsert", 0, d.hlc(0), record(gone, nil))).results()[0]["version"])
	vd := num(h.push(d, change("production_records", gone, "delete", vg, d.hlc(0), nil)).results()[0]["version"])
	h.pull(d, vd)
	if st := h.purge(); st.Tombstones != 1 {
		t.Fatalf("seed: purged %d tombstones, want 1", st.Tombstones)
	}
	return vd
}

// Issue 15, defect 1: a pull chain from cursor 0 is a full pass, served page
// after page whatever the purge horizon until it answers has_more:false.
// Before, page 2 asked a cursor below the horizon of a recently purged
// tombstone and got 410, forever.
func TestServer_FullPassPastHorizon(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	horizon := seedWithRecentTombstone(t, h, a, 5)

	for _, tc := range []struct {
		name  string
		extra string // a new client marks its pages full=1; an old one does not
	}{{"old client", ""}, {"full=1", "&full=1"}} {
		t.Run(tc.name, func(t *testing.T) {
			b := h.enroll("S", "operator")
			cursor, pages, rows := int64(0), 0, 0
			for {
				res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=2%s", cursor, tc.extra), b.Token, nil)
				if res.status != 200 {
					t.Fatalf("page %d at cursor %d (horizon %d): %d %s", pages+1, cursor, horizon, res.status, res.raw)
				}
				pages++
				rows += len(res.changes())
				cursor = num(res.body["cursor"])
				if res.body["has_more"] != true {
					break
				}
			}
			if rows != 5 || pages != 3 {
				t.Fatalf("the pass brought %d rows in %d pages, want 5 in 3", rows, pages)
			}
			// The pass is over: a chain that does not begin at 0 is held
			// to the horizon again.
			if res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d%s", horizon-1, tc.extra), b.Token, nil); res.status != 410 || res.errCode() != "resync_required" {
				t.Fatalf("a cursor below the horizon after the pass: %d %s", res.status, res.raw)
			}
		})
	}

	t.Run("full=1 without a pass from 0", func(t *testing.T) {
		c := h.enroll("S", "operator")
		// The server's own record decides: c never began a chain at 0.
		if res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&full=1", horizon-1), c.Token, nil); res.status != 410 || res.errCode() != "resync_required" {
			t.Fatalf("full=1 of a chain that did not begin at 0: %d %s", res.status, res.raw)
		}
		if res := h.do("GET", "/v1/pull?cursor=0&full=maybe", c.Token, nil); res.status != 400 || res.errCode() != "invalid_full" {
			t.Fatalf("full=maybe: %d %s", res.status, res.raw)
		}
	})

	t.Run("a resumed pass restarts when a tombstone above it was purged", func(t *testing.T) {
		// d begins a pass, then is unseen for longer than the stale period:
		// retention no longer waits for it. A tombstone above its position
		// may be a row its pass already brought, so its pass starts again.
		d := h.enroll("S", "operator")
		first := h.do("GET", "/v1/pull?cursor=0&limit=2&full=1", d.Token, nil)
		if first.status != 200 || first.body["has_more"] != true {
			t.Fatalf("first page: %d %s", first.status, first.raw)
		}
		pos := num(first.body["cursor"])
		brought := first.changes()[0]["id"].(string)
		v := num(first.changes()[0]["version"])
		num(h.push(a, change("production_records", brought, "delete", v, a.hlc(0), nil)).results()[0]["version"])
		if st := h.purgeLater(2 * time.Hour); st.Tombstones != 1 {
			t.Fatalf("purged %d tombstones, want 1", st.Tombstones)
		}
		if res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=2&full=1", pos), d.Token, nil); res.status != 410 || res.errCode() != "resync_required" {
			t.Fatalf("resumed pass after a purge above it: %d %s", res.status, res.raw)
		}
	})
}

// A full pass on a site whose newest change was a purged tombstone ends on
// a cursor the next pull is served from. Before, the last page answered the
// last live row's version, below the horizon: every later sync of the device
// was a 410 and another full pass, until somebody wrote again (review of
// issue 15, defect 5). The final page's cursor may pass the horizon because
// nothing between its last row and the horizon is live any more: the state
// at both cursors is the same, and so are the page's checksums.
func TestServer_FullPassEndsAtTheHorizon(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	horizon := seedWithRecentTombstone(t, h, a, 3)
	for _, limit := range []int{2, 500} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			b := h.enroll("S", "operator")
			cursor, rows := int64(0), 0
			for {
				res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=%d&full=1", cursor, limit), b.Token, nil)
				if res.status != 200 {
					t.Fatalf("pass page at cursor %d: %d %s", cursor, res.status, res.raw)
				}
				rows += len(res.changes())
				cursor = num(res.body["cursor"])
				if res.body["has_more"] != true {
					break
				}
			}
			if rows != 3 {
				t.Fatalf("the pass brought %d rows, want 3", rows)
			}
			if cursor < horizon {
				t.Errorf("the pass ended at cursor %d, below the horizon %d", cursor, horizon)
			}
			next := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d", cursor), b.Token, nil)
			if next.status != 200 || len(next.changes()) != 0 || num(next.body["cursor"]) != cursor {
				t.Fatalf("the sync after the pass, at cursor %d: %d %s", cursor, next.status, next.raw)
			}
		})
	}
	t.Run("an empty page keeps the request's cursor", func(t *testing.T) {
		res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d", horizon), a.Token, nil)
		if res.status != 200 || num(res.body["cursor"]) != horizon || len(res.changes()) != 0 {
			t.Fatalf("empty page at the horizon: %d %s", res.status, res.raw)
		}
	})
}

// Issue 15, defect 2 (server part): retention counts what a device says it
// has committed, never the cursor it asks from (the client prefetches pages
// before the one before commits). committed is clamped to the cursor, and a
// request without it counts its cursor.
func TestServer_CommittedCursor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		query     func(cursor int64) string
		wantPurge int
	}{
		{"committed below the cursor holds the tombstone", func(c int64) string { return fmt.Sprintf("cursor=%d&committed=0", c) }, 0},
		{"committed equal to the cursor", func(c int64) string { return fmt.Sprintf("cursor=%d&committed=%d", c, c) }, 1},
		{"committed above the cursor is clamped", func(c int64) string { return fmt.Sprintf("cursor=%d&committed=%d", c-1, c+100) }, 0},
		{"no committed: the cursor counts", func(c int64) string { return fmt.Sprintf("cursor=%d", c) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a := h.enroll("S", "operator")
			id := newID()
			v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
			vd := num(h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil)).results()[0]["version"])
			if res := h.do("GET", "/v1/pull?"+tc.query(vd), a.Token, nil); res.status != 200 {
				t.Fatalf("pull: %d %s", res.status, res.raw)
			}
			if st := h.purge(); st.Tombstones != tc.wantPurge {
				t.Fatalf("purged %d tombstones, want %d", st.Tombstones, tc.wantPurge)
			}
		})
	}
	t.Run("decreases are recorded", func(t *testing.T) {
		h := newHarness(t)
		a := h.enroll("S", "operator")
		id := newID()
		v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
		vd := num(h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil)).results()[0]["version"])
		h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&committed=%d", vd, vd), a.Token, nil)
		h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&committed=1", vd), a.Token, nil)
		if st := h.purge(); st.Tombstones != 0 {
			t.Fatalf("purged %d tombstones after the committed cursor went back to 1", st.Tombstones)
		}
		for _, q := range []string{"committed=-1", "committed=x", "committed=1.5"} {
			if res := h.do("GET", "/v1/pull?cursor=0&"+q, a.Token, nil); res.status != 400 || res.errCode() != "invalid_committed" {
				t.Fatalf("%s: %d %s", q, res.status, res.raw)
			}
		}
	})
}

// A device unseen for longer than the stale period does not hold retention
// back; when it comes back it must not miss the delete it was behind: its
// old cursor gets 410, and its pass from 0 does not bring the row.
func TestServer_StaleDeviceMissesNoDelete(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	late := h.enroll("S", "operator")
	id, keep := newID(), newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	h.push(a, change("production_records", keep, "upsert", 0, a.hlc(0), record(keep, nil)))
	// late has received and committed both rows, and (prefetching) asked
	// past the delete it has not committed.
	h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&committed=%d", v+1, v+1), late.Token, nil)
	vd := num(h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil)).results()[0]["version"])
	h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&committed=%d", vd, v+1), late.Token, nil)
	h.pull(a, vd)
	if st := h.purge(); st.Tombstones != 0 {
		t.Fatal("an active device that had not committed the delete did not hold it")
	}
	if st := h.purgeLater(2 * time.Hour); st.Tombstones != 1 {
		t.Fatalf("purge past the stale device: %+v", st)
	}
	// late comes back from its committed cursor: 410, then a pass from 0
	// that does not bring the deleted row.
	res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&committed=%d", v+1, v+1), late.Token, nil)
	if res.status != 410 || res.errCode() != "resync_required" {
		t.Fatalf("stale device at its committed cursor: %d %s", res.status, res.raw)
	}
	for _, c := range h.pullAll(late, 0) {
		if c["id"] == id {
			t.Fatalf("the pass brought the deleted row: %v", c)
		}
	}
}

// Issue 15, defect 4 (server part): every pull answer names the database's
// timeline; a push or resolve naming another timeline, or based on a
// version above the site's sequence, applies nothing and gets 409
// timeline_changed; the 410 names the sequence and the timeline.
func TestServer_Timeline(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "manager")
	b := h.enroll("S", "operator")
	first := h.pull(a, 0)
	tl := first.str("timeline")
	if _, err := uuid.Parse(tl); err != nil {
		t.Fatalf("pull answer's timeline %q: %s", tl, first.raw)
	}
	id := newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil)), change("line_configs", id, "upsert", 0, a.hlc(0), config(id, nil))).results()[1]["version"])
	other := uuid.NewString()

	pushWith := func(d *device, header string, base int64) result {
		nid := newID()
		return h.do("POST", "/v1/push", d.Token, map[string]any{"batch_id": uuid.NewString(),
			"changes": []any{change("production_records", nid, "upsert", base, d.hlc(0), record(nid, nil))}}, "Outpost-Timeline", header)
	}
	seq := func() int64 {
		s, err := h.st.SiteState(context.Background(), "S")
		if err != nil {
			t.Fatal(err)
		}
		return s.Seq
	}
	before := seq()
	for _, tc := range []struct {
		name   string
		header string
		base   int64
		status int
		code   string
	}{
		{"another timeline", other, 0, 409, "timeline_changed"},
		{"base above the sequence", tl, before + 5, 409, "timeline_changed"},
		{"base above the sequence, no header", "", before + 5, 409, "timeline_changed"},
		{"not a UUID", "yesterday", 0, 400, "malformed"},
	} {
		t.Run("push: "+tc.name, func(t *testing.T) {
			res := pushWith(b, tc.header, tc.base)
			if res.status != tc.status || res.errCode() != tc.code {
				t.Fatalf("got %d %s", res.status, res.raw)
			}
			if tc.status == 409 {
				e := res.body["error"].(map[string]any)
				if e["timeline"] != tl || num(e["sequence"]) != before {
					t.Fatalf("409 names timeline %v, sequence %v; want %s, %d", e["timeline"], e["sequence"], tl, before)
				}
			}
			if seq() != before {
				t.Fatal("a refused push wrote")
			}
		})
	}
	for _, header := range []string{tl, ""} {
		if res := pushWith(b, header, 0); res.status != 200 || res.results()[0]["status"] != "applied" {
			t.Fatalf("push on the timeline %q: %d %s", header, res.status, res.raw)
		}
	}

	// A resolve: an open conflict on line_configs.
	h.push(a, change("line_configs", id, "upsert", v, a.hlc(0), config(id, map[string]any{"recipe": "RA"})))
	r := h.push(b, change("line_configs", id, "upsert", v, b.hlc(0), config(id, map[string]any{"recipe": "RB"})))
	cid, _ := r.results()[0]["conflict_id"].(string)
	if cid == "" {
		t.Fatalf("no conflict: %s", r.raw)
	}
	cur := num(r.results()[0]["version"])
	resolve := func(header string, base int64) result {
		return h.do("POST", "/v1/conflicts/"+cid+"/resolve", a.Token, map[string]any{
			"row": config(id, map[string]any{"recipe": "R9"}), "hlc": a.hlc(0), "base_version": base}, "Outpost-Timeline", header)
	}
	// docs/design.md section 4's order: token, role, then the rest. An operator is
	// refused 403 whatever timeline it names (it got 409 timeline_changed,
	// or 400 for a malformed header, before its role was looked at).
	for _, header := range []string{other, "yesterday"} {
		res := h.do("POST", "/v1/conflicts/"+cid+"/resolve", b.Token, map[string]any{
			"row": config(id, map[string]any{"recipe": "R9"}), "hlc": b.hlc(0), "base_version": cur}, "Outpost-Timeline", header)
		if res.status != 403 || res.errCode() != "forbidden" {
			t.Fatalf("resolve by an operator naming timeline %q: %d %s", header, res.status, res.raw)
		}
	}
	before = seq()
	for _, tc := range []struct {
		name   string
		header string
		base   int64
	}{{"another timeline", other, cur}, {"base above the sequence", tl, before + 1}} {
		if res := resolve(tc.header, tc.base); res.status != 409 || res.errCode() != "timeline_changed" {
			t.Fatalf("resolve, %s: %d %s", tc.name, res.status, res.raw)
		}
		if seq() != before {
			t.Fatalf("resolve, %s: wrote", tc.name)
		}
	}
	if res := resolve(tl, cur); res.status != 200 {
		t.Fatalf("resolve on the timeline: %d %s", res.status, res.raw)
	}

	// 410 names the sequence and the timeline, for a cursor above the
	// sequence and behind the horizon alike.
	res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d", seq()+10), a.Token, nil)
	e, _ := res.body["error"].(map[string]any)
	if res.status != 410 || e["timeline"] != tl || num(e["sequence"]) != seq() {
		t.Fatalf("410 above the sequence: %d %s", res.status, res.raw)
	}
}

// `outpost-server restored` (Store.Restored) gives the database a new
// timeline and forgets every device's position on the old one.
func TestServer_RestoredChangesTimeline(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	old := h.pull(a, 0).str("timeline")
	id := newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	h.pull(a, v)
	nt, err := server.Restored(context.Background(), h.st)
	if err != nil {
		t.Fatal(err)
	}
	if nt == old {
		t.Fatal("the timeline did not change")
	}
	if got := h.pull(a, v).str("timeline"); got != nt {
		t.Fatalf("pull after restored names %q, want %q", got, nt)
	}
	res := h.do("POST", "/v1/push", a.Token, map[string]any{"batch_id": uuid.NewString(), "changes": []any{}}, "Outpost-Timeline", old)
	if res.status != 409 || res.errCode() != "timeline_changed" {
		t.Fatalf("push naming the old timeline: %d %s", res.status, res.raw)
	}
}

// Issue 15: a row's created_at never changes once the server holds the row,
// under every policy; results and pull return the kept value.
func TestServer_CreatedAtKept(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "manager")
	b := h.enroll("S", "operator")
	const kept, other = int64(1700000000000), int64(1600000000000)
	for _, tc := range []struct {
		name  string
		table string
		row   func(id string, over map[string]any) map[string]any
		// second writes the row again and returns the push result.
		second func(id string, v int64) map[string]any
	}{
		{"own write (lww)", "production_records", record, func(id string, v int64) map[string]any {
			return h.push(a, change("production_records", id, "upsert", v, a.hlc(0), record(id, map[string]any{"created_at": other}))).results()[0]
		}},
		{"lww winner", "production_records", record, func(id string, v int64) map[string]any {
			return h.push(b, change("production_records", id, "upsert", 0, b.hlc(time.Minute), record(id, map[string]any{"created_at": other, "quantity": 7}))).results()[0]
		}},
		{"delete", "production_records", record, func(id string, v int64) map[string]any {
			return h.push(a, change("production_records", id, "delete", v, a.hlc(0), record(id, map[string]any{"created_at": other}))).results()[0]
		}},
		{"manual applied", "line_configs", config, func(id string, v int64) map[string]any {
			return h.push(b, change("line_configs", id, "upsert", v, b.hlc(0), config(id, map[string]any{"created_at": other}))).results()[0]
		}},
		{"manual merged", "line_configs", config, func(id string, v int64) map[string]any {
			h.push(a, change("line_configs", id, "upsert", v, a.hlc(0), config(id, map[string]any{"recipe": "R2"})))
			return h.push(b, change("line_configs", id, "upsert", v, b.hlc(0), config(id, map[string]any{"created_at": other, "notes": "b"}))).results()[0]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			v := num(h.push(a, change(tc.table, id, "upsert", 0, a.hlc(0), tc.row(id, map[string]any{"created_at": kept}))).results()[0]["version"])
			res := tc.second(id, v)
			if res["status"] == "rejected" {
				t.Fatalf("second write rejected: %v", res)
			}
			if row, ok := res["row"].(map[string]any); ok && num(row["created_at"]) != kept {
				t.Fatalf("result row created_at %v, want %d", row["created_at"], kept)
			}
			for _, c := range h.pullAll(a, 0) {
				if c["id"] == id {
					if got := num(c["row"].(map[string]any)["created_at"]); got != kept {
						t.Fatalf("pulled created_at %d, want %d", got, kept)
					}
				}
			}
		})
	}
}

// Issue 15: the enrollment throttle takes a failure slot before it checks
// the code, so a burst in parallel cannot pass the limit of 10, and an
// address over the limit gets 429 even with a right code.
func TestServer_EnrollThrottleParallel(t *testing.T) {
	h := newHarness(t)
	good := h.code("S", "operator", 1)
	const burst = 40
	var wg sync.WaitGroup
	statuses := make([]int, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.do("POST", "/v1/enroll", "", map[string]any{"code": "WRONG-CODE"}).status
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[401] != 10 || counts[429] != burst-10 {
		t.Fatalf("a parallel burst of %d wrong codes: %v, want 10 × 401 and the rest 429", burst, counts)
	}
	res := h.do("POST", "/v1/enroll", "", map[string]any{"code": good})
	if res.status != 429 || res.errCode() != "rate_limited" {
		t.Fatalf("a right code from a throttled address: %d %s", res.status, res.raw)
	}
}

// purgeBetween is a store that, right after the first read a pull makes,
// runs hook: another device's writes and the retention job landing between
// two statements of the pull.
type purgeBetween struct {
	server.Store
	once sync.Once
	hook func()
}

func (p *purgeBetween) fire() { p.once.Do(p.hook) }

func (p *purgeBetween) SiteState(ctx context.Context, site string) (server.SiteState, error) {
	defer p.fire()
	return p.Store.SiteState(ctx, site)
}

func (p *purgeBetween) Changes(ctx context.Context, site string, after int64, limit int) ([]server.StoredRow, error) {
	defer p.fire()
	return p.Store.Changes(ctx, site, after, limit)
}

func (p *purgeBetween) ReadPage(ctx context.Context, site string, after int64, limit int) (server.Page, error) {
	defer p.fire()
	return p.Store.ReadPage(ctx, site, after, limit)
}

// Issue 15: a pull page, its cursor and the horizon check are one snapshot.
// Read in two statements (the horizon, then the rows), a delete, a later
// write and the tombstone's purge landing between them gave a page whose
// cursor passed the delete without the tombstone in it and without 410: the
// device never learnt of the delete.
func TestEngine_PullOneSnapshot(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	id := newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	var vd int64
	st := &purgeBetween{Store: h.st}
	st.hook = func() {
		vd = num(h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil)).results()[0]["version"])
		later := newID()
		h.push(a, change("production_records", later, "upsert", 0, a.hlc(0), record(later, nil)))
		if got := h.purgeLater(2 * time.Hour); got.Tombstones != 1 {
			t.Errorf("hook purged %d tombstones", got.Tombstones)
		}
	}
	e := *h.srv.Engine()
	e.Store = st
	page, err := e.Pull(context.Background(), server.PullRequest{Device: server.Device{ID: "x", SiteID: "S", PassHorizon: -1}, Cursor: v, Limit: 10})
	var re *server.ResyncError
	if errors.As(err, &re) {
		return // the purge came first: 410, the device re-pulls
	}
	if err != nil {
		t.Fatal(err)
	}
	if page.Cursor < vd {
		return // the snapshot before the delete: the next pull from there gets 410
	}
	for _, c := range page.Changes {
		if c.ID == id {
			return
		}
	}
	t.Fatalf("a page from cursor %d to %d without the tombstone at %d and without 410", v, page.Cursor, vd)
}
