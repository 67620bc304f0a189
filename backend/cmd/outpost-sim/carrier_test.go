package main

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestCarrierVersionAcrossRestores: a version number names one write only
// on one timeline. A restore takes the site's sequence back to the
// backup's, so the numbers written between the backup and the restore
// are given again, to other writes, after it (docs/design.md section 3,
// cursors are the site's change sequence). f947688 matched a decision's
// theirs_version and a carrier's version by number alone, across
// restores: a decision that met another write holding the same value at
// a number a carrier had had on another timeline excused the edit as
// carried and knowingly replaced, though nothing that carried the edit
// was ever decided against. Each case below is a real loss (a restore
// took the carrier back and nothing pushed it again, or the server
// replaced the carrier without any decision seeing it) that must count
// lost; the last cases are the same shapes on one timeline, still
// excused (seed 51 of the 3d15714 campaign).
func TestCarrierVersionAcrossRestores(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	const field = "target_rate_per_hour"
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	hlcAt := func(ms int, node string) string { return hlc.Timestamp{Wall: at(ms).UnixMilli(), Node: node}.String() }
	v := func(n int64) map[string]any { return map[string]any{field: n} }
	// written is a version as a history shows it, with the server's time
	// of the write.
	written := func(version int64, h string, ms int, n int64) syncclient.HistoryEntry {
		return syncclient.HistoryEntry{Version: version, HLC: h, DeviceID: "x",
			Row: map[string]any{field: n, "server_updated_at": at(ms).UnixMilli()}}
	}
	e := edit{table: tb.Name, id: "row", fields: v(100), hlc: hlcAt(1000, "dev7"), at: at(1000)}
	// Two restores of the backup taken at 2 s: at 6 s and at 12 s.
	two := [][2]time.Time{{at(2000), at(6000)}, {at(2000), at(12000)}}
	one := [][2]time.Time{{at(2000), at(6000)}}

	t.Run("decidedBeforeRestore", func(t *testing.T) {
		cases := []struct {
			name    string
			ds      []decision
			own     []pushAnswer
			pre     []syncclient.HistoryEntry
			rewinds [][2]time.Time
			want    bool
		}{
			{
				// Before the first restore the manager rejected another
				// device's 100 at v40 (device 9's write); after it, v40 was
				// given again to the decision that carried device 7's 100,
				// which the second restore took back with its record, and
				// nothing pushed it again.
				name: "the decision met the carrier's number before the carrier wrote it",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(3000, "mgr"), chosen: v(80), rejected: v(100),
						version: 41, theirsVersion: 40, rejectedTheirs: true, at: at(3000)},
					{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(7000, "mgr"), chosen: v(100), rejected: v(50),
						version: 40, theirsVersion: 38, rejectedTheirs: true, at: at(7000)},
				},
				pre:     []syncclient.HistoryEntry{written(40, hlcAt(7000, "mgr"), 7000, 100)},
				rewinds: two,
			},
			{
				// The carrier wrote v40 between the backup and the first
				// restore, which took it back (nothing pushed it again);
				// on the new timeline v40 was device 9's 100, which the
				// manager rejected before the second restore.
				name: "the carrier taken back before the decision met its number",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(2500, "mgr"), chosen: v(100), rejected: v(50),
						version: 40, theirsVersion: 38, rejectedTheirs: true, at: at(2500)},
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(7000, "mgr"), chosen: v(80), rejected: v(100),
						version: 41, theirsVersion: 40, rejectedTheirs: true, at: at(7000)},
				},
				pre:     []syncclient.HistoryEntry{written(40, hlcAt(2500, "mgr"), 2500, 100)},
				rewinds: two,
			},
			{
				// Device 7's push was applied at v35 between the backup and
				// the first restore, which took it back, and device 7 never
				// pushed it again. On the new timeline v35 was device 9's
				// 100; a decision chose it (theirs) at v60, and another
				// rejected v60, both taken back by the second restore. The
				// decision that chose device 9's v35 did not carry device
				// 7's edit.
				name: "a decision chose theirs at the number the edit's push had on another timeline",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(7000, "mgr"), chosen: v(100), rejected: v(50),
						version: 60, theirsVersion: 35, at: at(7000)},
					{table: tb.Name, rowID: "row", device: "dev4", hlc: hlcAt(7500, "mgr"), chosen: v(80), rejected: v(100),
						version: 61, theirsVersion: 60, rejectedTheirs: true, at: at(7500)},
				},
				own: []pushAnswer{{Table: tb.Name, ID: "row", HLC: e.hlc, Status: protocol.StatusApplied, Version: 35,
					Row: map[string]any{field: int64(100), "server_updated_at": at(2200).UnixMilli()}, Sent: at(2200)}},
				pre: []syncclient.HistoryEntry{written(35, hlcAt(6800, "dev9"), 6800, 100),
					written(60, hlcAt(7000, "mgr"), 7000, 100)},
				rewinds: two,
			},

			// One timeline: still excused.
			{
				name: "carried, then its version rejected, both before the restore (seed 51)",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(2500, "mgr"), chosen: v(100), rejected: v(50),
						version: 40, theirsVersion: 38, rejectedTheirs: true, at: at(2500)},
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(3000, "mgr"), chosen: v(80), rejected: v(100),
						version: 41, theirsVersion: 40, rejectedTheirs: true, at: at(3000)},
				},
				pre:     []syncclient.HistoryEntry{written(40, hlcAt(2500, "mgr"), 2500, 100)},
				rewinds: one,
				want:    true,
			},
			{
				name: "carried after the first restore, rejected before the second",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(7000, "mgr"), chosen: v(100), rejected: v(50),
						version: 40, theirsVersion: 38, rejectedTheirs: true, at: at(7000)},
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(7500, "mgr"), chosen: v(80), rejected: v(100),
						version: 41, theirsVersion: 40, rejectedTheirs: true, at: at(7500)},
				},
				pre:     []syncclient.HistoryEntry{written(40, hlcAt(7000, "mgr"), 7000, 100)},
				rewinds: two,
				want:    true,
			},
			{
				name: "the history read before the restore without the server's time (dated by the carrier)",
				ds: []decision{
					{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(2500, "mgr"), chosen: v(100), rejected: v(50),
						version: 40, theirsVersion: 38, rejectedTheirs: true, at: at(2500)},
					{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(3000, "mgr"), chosen: v(80), rejected: v(100),
						version: 41, theirsVersion: 40, rejectedTheirs: true, at: at(3000)},
				},
				pre:     []syncclient.HistoryEntry{{Version: 40, HLC: hlcAt(2500, "mgr"), Row: v(100)}},
				rewinds: one,
				want:    true,
			},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cs := carriers(tb, e, "dev7", c.ds, c.own, c.pre, c.rewinds)
				if _, got := decidedBeforeRestore(tb, e, "dev7", c.ds, c.pre, cs, c.rewinds); got != c.want {
					t.Fatalf("decidedBeforeRestore = %v, want %v (carriers %+v)", got, c.want, cs)
				}
			})
		}
	})

	t.Run("carriedThenPurged", func(t *testing.T) {
		// The carrier decided between the backup and the restore (v70),
		// the manager's write pushed again after the restore (v45); then
		// the server replaced v45 without any decision seeing it, and
		// retention purged it. After the restore v70 was device 9's 100,
		// which a decision rejected: not the carrier.
		carry := decision{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(2500, "mgr"), chosen: v(100), rejected: v(50),
			version: 70, theirsVersion: 30, rejectedTheirs: true, at: at(2500)}
		repushed := pushAnswer{Table: tb.Name, ID: "row", HLC: carry.hlc, Status: protocol.StatusApplied, Version: 45, Row: v(100), Sent: at(7000)}
		h := []syncclient.HistoryEntry{{Version: 2, Row: v(50)}, {Version: 80, Row: v(80)}}
		cases := []struct {
			name string
			ds   []decision
			want bool
		}{
			{"a decision after the restore met another write at the number the carrier had before it", []decision{carry,
				{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(9000, "mgr"), chosen: v(80), rejected: v(100),
					version: 80, theirsVersion: 70, rejectedTheirs: true, at: at(9000)}}, false},
			{"a decision after the restore rejected the carrier pushed again", []decision{carry,
				{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(9000, "mgr"), chosen: v(80), rejected: v(100),
					version: 80, theirsVersion: 45, rejectedTheirs: true, at: at(9000)}}, true},
			{"a decision before the restore rejected the carrier (seed 51)", []decision{carry,
				{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(3000, "mgr"), chosen: v(80), rejected: v(100),
					version: 75, theirsVersion: 70, rejectedTheirs: true, at: at(3000)}}, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cs := carriers(tb, e, "dev7", c.ds, nil, nil, one)
				if _, got := carriedThenPurged(tb, e, cs, c.ds, []pushAnswer{repushed}, nil, h, one); got != c.want {
					t.Fatalf("carriedThenPurged = %v, want %v (carriers %+v)", got, c.want, cs)
				}
			})
		}
	})
}

// TestDecidedBeforeRestore_AnotherDevicesMine: a decision on another
// device's conflict settles the edit only when the side it rejected was
// the server's state (theirs), which held the edit. Before, the check
// asked only that the edit had been held before the restore and that the
// rejected side had its value: a decision that rejected another device's
// own push of the same value (its mine), choosing a server state without
// it, excused device 5's edit though no decision met it (a restore took
// device 5's v83 back and nothing pushed it again: a real loss).
func TestDecidedBeforeRestore_AnotherDevicesMine(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	t0 := time.Date(2026, 12, 7, 8, 6, 0, 0, time.UTC)
	rewinds := [][2]time.Time{{t0.Add(-2 * time.Second), t0.Add(4 * time.Second)}}
	eh := hlc.Timestamp{Wall: t0.Add(time.Second).UnixMilli(), Node: "dev5"}.String()
	e := edit{table: tb.Name, id: "row", fields: map[string]any{"recipe": "R-C"}, hlc: eh, at: t0.Add(time.Second)}
	held := []syncclient.HistoryEntry{{Version: 83, HLC: eh, DeviceID: "dev5", Row: map[string]any{"recipe": "R-C"}}}
	// Device 6 pushed R-C too, on an older base; the manager kept the
	// server's R-B (theirs).
	keptTheirs := decision{table: tb.Name, rowID: "row", device: "dev6", chosen: map[string]any{"recipe": "R-B"},
		rejected: map[string]any{"recipe": "R-C"}, version: 90, theirsVersion: 85, at: t0.Add(2 * time.Second)}
	if _, got := decidedBeforeRestore(tb, e, "dev5", []decision{keptTheirs}, held, nil, rewinds); got {
		t.Error("excused by a decision that rejected another device's mine")
	}
	// The server's state that held the edit, rejected for device 6's side.
	choseMine := keptTheirs
	choseMine.chosen, choseMine.rejected, choseMine.rejectedTheirs, choseMine.theirsVersion =
		map[string]any{"recipe": "R-B"}, map[string]any{"recipe": "R-C"}, true, 83
	if _, got := decidedBeforeRestore(tb, e, "dev5", []decision{choseMine}, held, nil, rewinds); !got {
		t.Error("not excused by a decision that rejected the server's state holding the edit")
	}
}

// TestDecidedBeforeRestore_HeldWhenDecided: an edit that set the value its
// row already held (no write) names another device's hlc and stands for
// that write, dated by the hlc's wall time; a clock behind (clock-back
// faults) stamps a write earlier than the server wrote it. A decision on
// another device's conflict settles the edit as "theirs" only when the
// server held the edit's write when the manager decided: a decision made
// before the write existed (it rejected another, earlier write of the
// value), or after a restore had taken the write back, never met it.
func TestDecidedBeforeRestore_HeldWhenDecided(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	t0 := time.Date(2026, 12, 7, 8, 6, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Device 9's write of R-C, stamped 1 s (its clock behind), written by
	// the server at 3 s.
	wh := hlc.Timestamp{Wall: at(1000).UnixMilli(), Node: "dev9"}.String()
	noop := edit{table: tb.Name, id: "row", fields: map[string]any{"recipe": "R-C"}, hlc: wh, at: at(3500)}
	held := []syncclient.HistoryEntry{{Version: 83, HLC: wh, DeviceID: "dev9",
		Row: map[string]any{"recipe": "R-C", "server_updated_at": at(3000).UnixMilli()}}}
	rejected := func(ms int) decision {
		return decision{table: tb.Name, rowID: "row", device: "dev6", chosen: map[string]any{"recipe": "R-B"},
			rejected: map[string]any{"recipe": "R-C"}, version: 90, theirsVersion: 80, rejectedTheirs: true, at: at(ms)}
	}
	cases := []struct {
		name    string
		dc      decision
		rewinds [][2]time.Time
		want    bool
	}{
		{"decided before the server wrote the value the edit names", rejected(2000), [][2]time.Time{{at(500), at(6000)}}, false},
		{"decided after a restore took the write back", rejected(8000), [][2]time.Time{{at(500), at(6000)}, {at(500), at(9000)}}, false},
		{"decided while the server held the write", rejected(4000), [][2]time.Time{{at(500), at(6000)}}, true},
	}
	for _, c := range cases {
		if _, got := decidedBeforeRestore(tb, noop, "dev2", []decision{c.dc}, held, nil, c.rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCarriedThenPurged_Boundary documents what the carriers still excuse
// that the check cannot tell from a loss (review of seed 51, issue 15).
// A carrier matters only when its conflict record is gone at the end (the
// record's side holds the edit's value, editRecorded finds it), so the
// record and the carrier were made between a backup and its restore, and
// the carrier's write counts only as pushed again after the restore. The
// decision that rejected it before the restore is taken back with it; the
// manager pushes the carrier's hlc again after the restore (its row still
// held the carrier), a write then replaces that version and retention
// purges it. A device that pulled the version pushed again and edited on
// it (no conflict, no record) leaves exactly this history, and so does a
// server that overwrote the version without any decision seeing it: both
// are excused (TestCarriedThenPurged's "carried within the span, pushed
// again after the restore, purged"), as acceptedThenPurged excuses an
// edit's own push whose version retention purged. Telling them apart
// needs each accepted write's base version in the push ledger (a write
// by another writer on a base below the carrier's, answered applied, is
// the overwrite); the ledger does not keep it.
func TestCarriedThenPurged_Boundary(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	const field = "target_rate_per_hour"
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	hlcAt := func(ms int, node string) string { return hlc.Timestamp{Wall: at(ms).UnixMilli(), Node: node}.String() }
	v := func(n int64) map[string]any { return map[string]any{field: n} }
	rewinds := [][2]time.Time{{at(2000), at(6000)}}
	e := edit{table: tb.Name, id: "row", fields: v(100), hlc: hlcAt(1000, "dev7"), at: at(1000)}
	carry := decision{table: tb.Name, rowID: "row", device: "dev7", hlc: hlcAt(2500, "mgr"), chosen: v(100), rejected: v(50),
		version: 70, theirsVersion: 30, rejectedTheirs: true, at: at(2500)}
	replace := decision{table: tb.Name, rowID: "row", device: "dev3", hlc: hlcAt(3000, "mgr"), chosen: v(80), rejected: v(100),
		version: 75, theirsVersion: 70, rejectedTheirs: true, at: at(3000)}
	repushed := []pushAnswer{{Table: tb.Name, ID: "row", HLC: carry.hlc, Status: protocol.StatusApplied, Version: 45, Row: v(100), Sent: at(7000)}}
	// After the restore: v45 (100) replaced at v46 by a write no decision
	// saw, v45 purged.
	h := []syncclient.HistoryEntry{{Version: 2, Row: v(50)}, {Version: 46, DeviceID: "dev9", Row: v(60)}}
	ds := []decision{carry, replace}
	cs := carriers(tb, e, "dev7", ds, nil, nil, rewinds)
	if _, got := carriedThenPurged(tb, e, cs, ds, repushed, nil, h, rewinds); !got {
		t.Error("the carrier pushed again after the restore and replaced is no longer excused: update this boundary")
	}
	// Without the decision that rejected it before the restore, the same
	// history counts lost (a legitimate replacement then is a false alarm).
	if _, got := carriedThenPurged(tb, e, carriers(tb, e, "dev7", ds[:1], nil, nil, rewinds), ds[:1], repushed, nil, h, rewinds); got {
		t.Error("excused without any decision that rejected the carrier")
	}
	// Nor when the carrier was never pushed again after the restore.
	if _, got := carriedThenPurged(tb, e, cs, ds, nil, nil, h, rewinds); got {
		t.Error("excused with the carrier's only write taken back by the restore")
	}
}

// TestDecidedBeforeRestore_OwnConflictTheirsRejected: a decision on the
// edit's own device's conflict settles the edit when it rejected that
// device's push (mine). When it chose mine and rejected theirs, the
// rejected side is the server's state, which settles the edit only if it
// was the edit (held under its hlc when decided): device 5's older push,
// chosen over another device's write of the same value, never met device
// 5's later edit.
func TestDecidedBeforeRestore_OwnConflictTheirsRejected(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	t0 := time.Date(2026, 12, 7, 8, 6, 0, 0, time.UTC)
	rewinds := [][2]time.Time{{t0.Add(-2 * time.Second), t0.Add(4 * time.Second)}}
	eh := hlc.Timestamp{Wall: t0.Add(time.Second).UnixMilli(), Node: "dev5"}.String()
	e := edit{table: tb.Name, id: "row", fields: map[string]any{"recipe": "R-C"}, hlc: eh, at: t0.Add(time.Second)}
	choseOlderMine := decision{table: tb.Name, rowID: "row", device: "dev5", chosen: map[string]any{"recipe": "R-A"},
		rejected: map[string]any{"recipe": "R-C"}, version: 90, theirsVersion: 85, rejectedTheirs: true, at: t0.Add(2 * time.Second)}
	if _, got := decidedBeforeRestore(tb, e, "dev5", []decision{choseOlderMine}, nil, nil, rewinds); got {
		t.Error("excused by a decision that rejected another write of the value (theirs) on the device's older conflict")
	}
	held := []syncclient.HistoryEntry{{Version: 85, HLC: eh, DeviceID: "dev5", Row: map[string]any{"recipe": "R-C"}}}
	if _, got := decidedBeforeRestore(tb, e, "dev5", []decision{choseOlderMine}, held, nil, rewinds); !got {
		t.Error("not excused by a decision that rejected theirs, the edit held under its hlc")
	}
}
