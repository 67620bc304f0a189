package server_test

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// Review of d8eabc4 (a non-empty final pull page answers at least the purge
// horizon): random interleavings of writes, deletes, pulls, purges and a
// second device's full passes, page by page with a small limit. After every
// pass, and every ordinary pull after it, the second device must hold
// exactly the site's live rows, the final page's checksum count must be
// theirs, the answered cursor must lie between the horizon and the site's
// sequence, and the next pull from it must be served (never a 410) and
// bring nothing the pass already described.
func TestReview_FinalCursorAtHorizon_RandomInterleavings(t *testing.T) {
	jumped := 0
	// Seeds whose runs end passes above their last row (the case the
	// change is about), among others.
	for _, seed := range []int64{1, 5, 12, 13, 20} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { jumped += reviewHorizonRun(t, seed) })
	}
	if jumped == 0 {
		t.Fatal("no pass ended above its last row: the runs no longer exercise the change")
	}
}

func reviewHorizonRun(t *testing.T, seed int64) int {
	rng := rand.New(rand.NewSource(seed))
	h := newHarness(t)
	a := h.enroll("S", "operator")
	b := h.enroll("S", "operator")
	live := map[string]int64{} // id -> version, live rows of the site
	var seq int64              // the site's sequence, as a's writes report it
	aCursor := int64(0)

	bHeld := map[string]bool{} // b's rows: id -> live
	bCursor, bInPass, bLimit := int64(0), false, 2
	passes, jumped := 0, 0

	liveIDs := func() []string {
		var out []string
		for id := range live {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	bLive := func() []string {
		var out []string
		for id, l := range bHeld {
			if l {
				out = append(out, id)
			}
		}
		sort.Strings(out)
		return out
	}
	apply := func(res result) {
		for _, c := range res.changes() {
			row, _ := c["row"].(map[string]any)
			bHeld[c["id"].(string)] = row["deleted_at"] == nil
		}
	}
	check := func(what string, final result) {
		t.Helper()
		if got, want := fmt.Sprint(bLive()), fmt.Sprint(liveIDs()); got != want {
			t.Fatalf("%s: b holds %s, the site %s", what, got, want)
		}
		sums, _ := final.body["checksums"].(map[string]any)
		pr, _ := sums["production_records"].(map[string]any)
		n := int64(0)
		if pr != nil {
			n = num(pr["count"])
		}
		if n != int64(len(live)) {
			t.Fatalf("%s: final page counts %d live rows, the site holds %d: %s", what, n, len(live), final.raw)
		}
	}

	for step := 0; step < 300; step++ {
		switch op := rng.Intn(100); {
		case op < 30:
			id := newID()
			v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
			live[id], seq = v, v
		case op < 60 && len(live) > 0:
			ids := liveIDs()
			// Mostly the newest rows: a site whose newest changes are
			// tombstones is what the change is about.
			sort.Slice(ids, func(i, j int) bool { return live[ids[i]] > live[ids[j]] })
			id := ids[rng.Intn(min(2, len(ids)))]
			v := num(h.push(a, change("production_records", id, "delete", live[id], a.hlc(0), nil)).results()[0]["version"])
			delete(live, id)
			seq = v
		case op < 75:
			for _, c := range h.pullAll(a, aCursor) {
				_ = c
			}
			aCursor = seq
			h.pull(a, aCursor) // records committed = seq
			h.purge()
		default:
			if !bInPass && rng.Intn(2) == 0 {
				// An ordinary pull of b, then maybe a new pass.
				res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=5000", bCursor), b.Token, nil)
				if res.status != 200 {
					t.Fatalf("step %d: b's ordinary pull at %d: %d %s", step, bCursor, res.status, res.raw)
				}
				apply(res)
				bCursor = num(res.body["cursor"])
				if res.body["has_more"] != true {
					check(fmt.Sprintf("step %d ordinary pull", step), res)
				}
				// b tells the server it committed there (a request's
				// cursor counts), then retention runs.
				h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=1", bCursor), b.Token, nil)
				h.purge()
				continue
			}
			if !bInPass {
				bInPass, bCursor = true, 0
				bLimit = []int{2, 3, 5000}[rng.Intn(3)]
				for id := range bHeld {
					delete(bHeld, id)
				}
			}
			res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=%d&full=1", bCursor, bLimit), b.Token, nil)
			if res.status == 410 {
				// A purge above the pass's position since it began: it
				// starts again (allowed by the design).
				bInPass, bCursor = false, 0
				continue
			}
			if res.status != 200 {
				t.Fatalf("step %d: b's pass page at %d: %d %s", step, bCursor, res.status, res.raw)
			}
			apply(res)
			bCursor = num(res.body["cursor"])
			if res.body["has_more"] == true {
				continue
			}
			bInPass = false
			passes++
			if ch := res.changes(); len(ch) > 0 && num(ch[len(ch)-1]["version"]) < bCursor {
				jumped++
			}
			// The pass's end: remove what it did not bring.
			check(fmt.Sprintf("step %d pass end (cursor %d, seq %d)", step, bCursor, seq), res)
			if bCursor > seq {
				t.Fatalf("step %d: the pass ended at %d, above the site's sequence %d", step, bCursor, seq)
			}
			next := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=5000", bCursor), b.Token, nil)
			if next.status != 200 {
				t.Fatalf("step %d: the pull after the pass, at %d: %d %s", step, bCursor, next.status, next.raw)
			}
			for _, c := range next.changes() {
				if num(c["version"]) <= bCursor {
					t.Fatalf("step %d: a change at %d after the cursor %d", step, num(c["version"]), bCursor)
				}
			}
			apply(next)
			bCursor = num(next.body["cursor"])
			check(fmt.Sprintf("step %d pull after the pass", step), next)
		}
	}
	if passes == 0 {
		t.Fatalf("no pass completed")
	}
	t.Logf("%d passes, %d of them ended above their last row (at the horizon)", passes, jumped)
	return jumped
}
