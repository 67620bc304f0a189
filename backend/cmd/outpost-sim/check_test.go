package main

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/hlc"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestEditRecorded: an edit survives when some version of the row's
// history holds it, or either side of one of its conflict records: "mine"
// (the push that lost) or "theirs" (the server's version it met, perhaps
// purged since, whose loss to a manager's decision is no loss; seed 1108
// of the 89cbc57 campaign counted such an edit of a line's area as lost).
func TestEditRecorded(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	edit := map[string]any{"area": "hall 2"}
	other := map[string]any{"area": nil}
	cases := []struct {
		name  string
		h     []syncclient.HistoryEntry
		sides []map[string]any
		want  bool
	}{
		{"in the history", []syncclient.HistoryEntry{{Version: 3, Row: edit}}, nil, true},
		{"in a conflict's mine", []syncclient.HistoryEntry{{Version: 3, Row: other}}, []map[string]any{edit}, true},
		{"in a conflict's theirs, its version purged", []syncclient.HistoryEntry{{Version: 9, Row: other}}, []map[string]any{other, edit}, true},
		{"nowhere", []syncclient.HistoryEntry{{Version: 9, Row: other}}, []map[string]any{other}, false},
	}
	for _, c := range cases {
		if got := editRecorded(tb, edit, c.h, c.sides); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEditRecordedAcrossRestore: a restore truncates the rows' histories,
// so an edit the server had applied and then superseded with a later
// version (no conflict: the later writer had seen it, or won it by lww)
// is in no version and no conflict record at the end, while nothing was
// lost: the later writer pushed its own write again after the restore
// (DESIGN.md section 3). Seed 12 of the de8b859 campaign counted such an
// edit as lost. The edit is excused only when the history read just before
// the restore holds it followed by a later version whose contents are on
// the server at the end (a version or a conflict's side); anything else
// still counts as lost.
func TestEditRecordedAcrossRestore(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	edit := map[string]any{"area": "hall 2"}
	mine := map[string]any{"area": "hall 2", "updated_at": int64(10), "updated_by": "B-1"}
	later := map[string]any{"area": nil, "updated_at": int64(20), "updated_by": "B-2"}
	other := map[string]any{"area": "hall 9", "updated_at": int64(30), "updated_by": "B-3"}
	pre := []syncclient.HistoryEntry{{Version: 3, HLC: "a", Row: mine}, {Version: 4, HLC: "b", Row: later}}
	cases := []struct {
		name  string
		pre   []syncclient.HistoryEntry
		final []syncclient.HistoryEntry
		sides []map[string]any
		want  bool
	}{
		{"superseded, the later version pushed again", pre, []syncclient.HistoryEntry{{Version: 2, HLC: "b", Row: later}}, nil, true},
		{"superseded, the later version on a conflict's side", pre, []syncclient.HistoryEntry{{Version: 2, Row: other}}, []map[string]any{other, later}, true},
		{"superseded, the later version gone too", pre, []syncclient.HistoryEntry{{Version: 2, Row: other}}, []map[string]any{other}, false},
		{"the later version's fields on the server, written again later", pre,
			[]syncclient.HistoryEntry{{Version: 2, Row: map[string]any{"area": nil, "updated_at": int64(40), "updated_by": "B-2"}}}, nil, false},
		{"the last version before the restore", pre[:1], []syncclient.HistoryEntry{{Version: 2, Row: other}}, nil, false},
		{"not on the server before the restore", pre[1:], []syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
		{"only an earlier version on the server at the end", []syncclient.HistoryEntry{{Version: 3, Row: later}, {Version: 4, Row: mine}},
			[]syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
		{"no history read before a restore", nil, []syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
	}
	for _, c := range cases {
		if got := supersededBeforeRestore(tb, edit, c.pre, c.final, c.sides); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestForcedMoot: an operator's forced write of site data that was never
// refused is excused only when the server's final row holds every field it
// set (seed 174 on 8deb348: the timeline pass made the pending flip clean,
// equal to what the restore brought back); otherwise it is still counted.
func TestForcedMoot(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableProducts)
	forced := map[string]any{"code": "P-100", "active": int64(1)}
	cases := []struct {
		name   string
		fields map[string]any
		final  map[string]any
		want   bool
	}{
		{"the server holds it", forced, map[string]any{"code": "P-100", "active": int64(1), "name": "x"}, true},
		{"the server holds another value", forced, map[string]any{"code": "P-100", "active": int64(0)}, false},
		{"the server has no such row", forced, nil, false},
		{"no fields recorded", nil, map[string]any{"code": "P-100", "active": int64(1)}, false},
	}
	for _, c := range cases {
		if got := forcedMoot(tb, c.fields, c.final); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDecidedBeforeRestore: an edit a manager decided against between a
// backup and its restore is in no version and no conflict record at the
// end, while nothing was lost: the device's row took the decision (the
// edit lived on only in the conflict record), and the restore took back
// the record with the decision and everything else after the backup, as
// it does for every decision (the decisions_overturned count skips them
// too). Seed 3 of the f430ea6 campaign counted such edits as lost; replays'
// wire logs showed (a) device 5's push answered conflict at 08:06:02.106,
// the manager's resolution for the other side at 08:06:02.320, the
// restore at 08:06:03.837; (b) device 5's rate applied at v83, another
// device's push on an older base a conflict whose "theirs" held it, the
// manager choosing that device's side at v186, then the restore, and
// device 2, which set the same rate before it pulled v186 (its row kept
// device 5's hlc: no write), counted too. The edit is excused only by a
// decision on its row that rejected exactly its fields, made after it (or
// after the write its hlc names) and within a span from a backup to its
// restore, of a conflict its device pushed, or whose rejected side was a
// version the server held with the edit's hlc before the restore.
func TestDecidedBeforeRestore(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	t0 := time.Date(2026, 12, 7, 8, 6, 0, 0, time.UTC)
	rewinds := [][2]time.Time{{t0.Add(-2 * time.Second), t0.Add(4 * time.Second)}}
	hlcAt := func(at time.Time, node string) string {
		return hlc.Timestamp{Wall: at.UnixMilli(), Node: node}.String()
	}
	e := edit{table: protocol.TableLineConfigs, id: "row", fields: map[string]any{"recipe": "R-C"},
		hlc: hlcAt(t0.Add(time.Second), "dev5"), at: t0.Add(time.Second)}
	rejectedIt := decision{table: protocol.TableLineConfigs, rowID: "row", device: "dev5",
		chosen: map[string]any{"recipe": "R-B"}, rejected: map[string]any{"recipe": "R-C", "notes": nil}, version: 174, at: t0.Add(2 * time.Second)}
	with := func(f func(*decision)) decision {
		d := rejectedIt
		f(&d)
		return d
	}
	held := []syncclient.HistoryEntry{{Version: 83, HLC: e.hlc, DeviceID: "dev5", Row: map[string]any{"recipe": "R-C"}}}
	// Device 2 set the same value on a row holding device 5's write: its
	// edit names device 5's hlc, made after the decision.
	noop := e
	noop.at = t0.Add(3 * time.Second)
	cases := []struct {
		name string
		e    edit
		node string
		ds   []decision
		pre  []syncclient.HistoryEntry
		want bool
	}{
		{"its conflict decided against between the backup and the restore", e, "dev5", []decision{rejectedIt}, nil, true},
		{"decided after the restore", e, "dev5", []decision{with(func(d *decision) { d.at = t0.Add(5 * time.Second) })}, nil, false},
		{"decided before the backup (the restore brings the record back)", e, "dev5", []decision{with(func(d *decision) { d.at = t0.Add(-3 * time.Second) })}, nil, false},
		{"decided before the edit was made", e, "dev5", []decision{with(func(d *decision) { d.at = t0.Add(500 * time.Millisecond) })}, nil, false},
		{"another device's conflict, the edit not held before the restore", e, "dev5", []decision{with(func(d *decision) { d.device = "dev6" })}, nil, false},
		{"another device's conflict whose theirs was the edit", e, "dev5", []decision{with(func(d *decision) { d.device = "dev6" })}, held, true},
		{"another device's conflict, another write of the value held", e, "dev5", []decision{with(func(d *decision) { d.device = "dev6" })},
			[]syncclient.HistoryEntry{{Version: 83, HLC: hlcAt(t0, "dev9"), Row: map[string]any{"recipe": "R-C"}}}, false},
		{"a device that set the value its row held, after the decision", noop, "dev2", []decision{with(func(d *decision) { d.device = "dev6" })}, held, true},
		{"the same, the write it names made after the decision", noop, "dev2",
			[]decision{with(func(d *decision) { d.device = "dev6"; d.at = t0.Add(500 * time.Millisecond) })}, held, false},
		{"another row", e, "dev5", []decision{with(func(d *decision) { d.rowID = "other" })}, nil, false},
		{"another value rejected", e, "dev5", []decision{with(func(d *decision) { d.rejected = map[string]any{"recipe": "R-A"} })}, nil, false},
		{"the edit's value chosen", e, "dev5", []decision{with(func(d *decision) { d.chosen = map[string]any{"recipe": "R-C"} })}, nil, false},
		{"no decision", e, "dev5", nil, held, false},
	}
	for _, c := range cases {
		if _, got := decidedBeforeRestore(tb, c.e, c.node, c.ds, c.pre, rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if _, got := decidedBeforeRestore(tb, e, "dev5", []decision{rejectedIt}, held, nil); got {
		t.Error("excused without any restore")
	}
}

// TestRewrittenBeforeRestore: the device that superseded an edit before a
// restore may edit the row again before it pushes its own write again on
// the new timeline: the later version is then on the server at the end
// only as part of that device's newer write (a version or a conflict's
// "mine"). Seed 3 of the f430ea6 campaign (a replay's wire log): device 7's
// note applied at v45 after the backup, device 12 replaced the note at
// v144 (its base held device 7's note), the restore took both back,
// device 12 changed the rate and pushed its row on base 0 (a conflict
// whose "mine" holds device 12's note): device 7's note was counted lost.
// The edit is excused only when a later write of the superseding version's
// device, at or after that version, holds that version's values of every
// field the edit set.
func TestRewrittenBeforeRestore(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	edit := map[string]any{"area": "hall 2"}
	mine := map[string]any{"area": "hall 2", "name": "A", "updated_at": int64(10)}
	later := map[string]any{"area": "hall 7", "name": "A", "updated_at": int64(20)}
	pre := []syncclient.HistoryEntry{{Version: 3, DeviceID: "d7", Row: mine}, {Version: 4, DeviceID: "d12", Row: later}}
	rewritten := map[string]any{"area": "hall 7", "name": "B", "updated_at": int64(30)}
	cases := []struct {
		name  string
		pre   []syncclient.HistoryEntry
		final []syncclient.HistoryEntry
		mines []sideWrite
		want  bool
	}{
		{"rewritten by the same device, on a conflict's mine", pre, nil, []sideWrite{{device: "d12", row: rewritten}}, true},
		{"rewritten by the same device, in a version", pre, []syncclient.HistoryEntry{{Version: 2, DeviceID: "d12", Row: rewritten}}, nil, true},
		{"the same values by another device", pre, []syncclient.HistoryEntry{{Version: 2, DeviceID: "d9", Row: rewritten}}, []sideWrite{{device: "d5", row: rewritten}}, false},
		{"the same device, another value", pre, nil, []sideWrite{{device: "d12", row: map[string]any{"area": "hall 9", "updated_at": int64(30)}}}, false},
		{"the same device, an older write", pre, nil, []sideWrite{{device: "d12", row: map[string]any{"area": "hall 7", "updated_at": int64(15)}}}, false},
		{"no device known", []syncclient.HistoryEntry{{Version: 3, Row: mine}, {Version: 4, Row: later}}, []syncclient.HistoryEntry{{Version: 2, Row: rewritten}}, nil, false},
		{"the edit was the last version before the restore", pre[:1], nil, []sideWrite{{device: "d12", row: rewritten}}, false},
		{"not on the server before the restore", pre[1:], nil, []sideWrite{{device: "d12", row: rewritten}}, false},
	}
	for _, c := range cases {
		if got := rewrittenBeforeRestore(tb, edit, c.pre, c.final, c.mines); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
