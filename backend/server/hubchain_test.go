package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A hub sends every site write of a row as its own change, each on the base
// of the row's first unanswered one; in one batch, the second was made on
// the first. Seed 347 of the hub campaign: a site device set a site
// setting's time zone to Chicago (headquarters had too), then back to
// Tokyo; both went up in one batch on the row's Tokyo version. Central
// judged the second against that base, where the zone was Tokyo: no
// change of the site's, headquarters' Chicago stayed and the site's last
// word was lost with no conflict record. Central now merges a hub's change
// against the hub's previous change of the row in the same batch.
func TestHubChain_SecondChangeOfABatchIsMergedOnTheFirst(t *testing.T) {
	tests := []struct {
		name          string
		first, second map[string]any
		hq            map[string]any
		status        string
		want          map[string]any
	}{
		{"the site takes its first change back", map[string]any{"notes": "chicago"}, map[string]any{"notes": "n", "speed_rpm": 1500},
			map[string]any{"notes": "chicago"}, "merged", map[string]any{"notes": "n", "speed_rpm": 1500}},
		{"the site edits its first change again", map[string]any{"notes": "a"}, map[string]any{"notes": "b"},
			map[string]any{"speed_rpm": 1300}, "merged", map[string]any{"notes": "b", "speed_rpm": 1300}},
		{"headquarters changed what the second changes", map[string]any{"notes": "a"}, map[string]any{"notes": "a", "speed_rpm": 1500},
			map[string]any{"speed_rpm": 1300}, "conflict", map[string]any{"notes": "a", "speed_rpm": 1300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, hub, mgr, siteDev, id, base := hubAndHeadquarters(t, tc.hq)
			second := config(id, tc.first)
			for k, v := range tc.second {
				second[k] = v
			}
			res := h.push(hub,
				hubChange("line_configs", id, base, nodeHLC(siteDev, 0, 1), 1, config(id, tc.first)),
				hubChange("line_configs", id, base, nodeHLC(siteDev, 0, 2), 2, second)).results()
			last := res[1]
			row, _ := last["row"].(map[string]any)
			if last["status"] != tc.status {
				t.Fatalf("the second change: %v; want %s", last, tc.status)
			}
			if row == nil {
				cur := h.pullAll(mgr, 0)
				row, _ = cur[len(cur)-1]["row"].(map[string]any)
			}
			for k, v := range tc.want {
				if fmt.Sprint(row[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (row %v)", k, row[k], v, row)
				}
			}
		})
	}
}

// hubAndHeadquarters opens the chain tests: a hub and a manager enrolled
// at central for site s1, a device of the hub's (siteDev, named only in
// HLCs), a line configuration the manager wrote (base, its first version)
// and then changed with hq on it.
func hubAndHeadquarters(t *testing.T, hq map[string]any) (h *harness, hub, mgr *device, siteDev, id string, base int64) {
	t.Helper()
	h = newHarness(t)
	hub, mgr = h.enroll("s1", "hub"), h.enroll("s1", "manager")
	siteDev, id = uuid.NewString(), uuid.NewString()
	base = num(h.push(mgr, change("line_configs", id, "upsert", 0, mgr.hlc(-time.Second), config(id, nil))).results()[0]["version"])
	h.push(mgr, change("line_configs", id, "upsert", base, mgr.hlc(0), config(id, hq)))
	return h, hub, mgr, siteDev, id, base
}

// chainRow returns central's current state of a row and how many conflict
// records central holds for it.
func chainRow(t *testing.T, h *harness, mgr *device, table, id string) (map[string]any, int) {
	t.Helper()
	hist, err := h.st.History(context.Background(), "s1", table, id)
	if err != nil || len(hist) == 0 {
		t.Fatalf("history of %s/%s: %d versions (%v)", table, id, len(hist), err)
	}
	var row map[string]any
	if err := json.Unmarshal(hist[len(hist)-1].Data, &row); err != nil {
		t.Fatal(err)
	}
	recs := 0
	for _, c := range h.pullAll(mgr, 0) {
		if c["table"] != "sync_conflicts" {
			continue
		}
		if r, _ := c["row"].(map[string]any); r != nil && r["row_id"] == id {
			recs++
		}
	}
	return row, recs
}

// A hub's first change of a row leaves out a nullable column (the wire
// contract lets an upsert do so: the column keeps central's value), the
// second, in the same batch, carries it with the value the site has always
// had. Headquarters cleared that column meanwhile. Judged against the
// change's base (notes "n"), the second change does not touch notes and
// headquarters' clearing stands. Judged against the first change as pushed
// (the first version of madeOn), the absent column read as null there, the
// site's unchanged "n" as the site's edit, and it silently overwrote
// headquarters' null with no conflict record (review); a column the first
// change left out is now its base's.
func TestHubChain_ColumnTheFirstChangeLeftOutIsNotTheSitesEdit(t *testing.T) {
	h, hub, mgr, siteDev, id, base := hubAndHeadquarters(t, map[string]any{"notes": nil})
	first := config(id, map[string]any{"speed_rpm": 1500})
	delete(first, "notes")
	second := config(id, map[string]any{"speed_rpm": 1500, "temperature_c": 30.5})
	res := h.push(hub,
		hubChange("line_configs", id, base, nodeHLC(siteDev, 0, 1), 1, first),
		hubChange("line_configs", id, base, nodeHLC(siteDev, 0, 2), 2, second)).results()
	row, recs := chainRow(t, h, mgr, "line_configs", id)
	if row["notes"] != nil && recs == 0 {
		t.Fatalf("headquarters' cleared notes overwritten by the site's unchanged %q with no conflict record (results %v)", row["notes"], res)
	}
	if fmt.Sprint(row["speed_rpm"]) != "1500" {
		t.Errorf("speed_rpm = %v, want the site's 1500", row["speed_rpm"])
	}
}

// A restored hub sends again a write central took before (at or below the
// hub's mark: answered without being judged, hubBatch.before) with the
// site's next write of the row, in one batch. The site had set notes to
// "chicago", as headquarters had, then back to "n": the seed 347 case,
// after a restore. The first change, answered by the mark, was not kept as
// the second's base, so the second was judged against the batch's base and
// the site's last word was lost under headquarters' value with no conflict
// record (review; before madeOn too). It is kept now.
func TestHubChain_TakenBackAfterAChangeAtTheMark(t *testing.T) {
	h, hub, mgr, siteDev, id, base := hubAndHeadquarters(t, map[string]any{"notes": "chicago"})
	h1 := nodeHLC(siteDev, 0, 1)
	first := config(id, map[string]any{"notes": "chicago"})
	h.push(hub, hubChange("line_configs", id, base, h1, 1, first))
	// The hub restored from a backup taken before that answer sends the
	// write again, with the site's later one.
	res := h.push(hub,
		hubChange("line_configs", id, base, h1, 1, first),
		hubChange("line_configs", id, base, nodeHLC(siteDev, 0, 2), 2, config(id, map[string]any{"notes": "n"}))).results()
	row, recs := chainRow(t, h, mgr, "line_configs", id)
	if row["notes"] != "n" && recs == 0 {
		t.Fatalf("the site's notes taken back to \"n\" lost under %q with no conflict record (results %v)", row["notes"], res)
	}
}
