package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// ownChainFixture is a device whose notes edit of a line configuration was
// merged by the server at v3 (under another device's hlc), pulled at v3:
// sync_own_versions holds v3 with the notes as its own field.
type ownChainFixture struct {
	s   *Store
	c   LineConfig
	ctx context.Context
}

func otherHLC(n int) string {
	return fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), n, "0b0b0b0b-0000-4000-8000-000000000000")
}

func (f *ownChainFixture) row(notes string, temp, speed int64) protocol.Row {
	return protocol.Row{"id": f.c.ID, "line_id": "L3", "recipe": "R", "target_rate_per_hour": nil,
		"temperature_c": json.Number(itoa(temp)), "speed_rpm": json.Number(itoa(speed)), "notes": notes,
		"updated_by": nil, "created_at": f.c.CreatedAt, "updated_at": f.c.UpdatedAt, "deleted_at": nil}
}

func (f *ownChainFixture) pull(t *testing.T, timeline string, cursor int64, chs ...protocol.PullChange) {
	t.Helper()
	if _, err := f.s.ApplyPullPage(f.ctx, protocol.PullResponse{Cursor: cursor, Timeline: timeline, Changes: chs}); err != nil {
		t.Fatal(err)
	}
}

func (f *ownChainFixture) change(version int64, h string, row protocol.Row) protocol.PullChange {
	return protocol.PullChange{Table: protocol.TableLineConfigs, ID: f.c.ID, Version: version, HLC: h, Row: row}
}

func (f *ownChainFixture) edit(t *testing.T, notes string, temp float64) {
	t.Helper()
	cur, err := f.s.GetLineConfig(f.ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateLineConfig(f.ctx, f.c.ID, LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: &temp,
		SpeedRPM: cur.SpeedRPM, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
}

func (f *ownChainFixture) answer(t *testing.T, status string, version int64, row protocol.Row) {
	t.Helper()
	b, _ := pushAll(t, f.s)
	if _, err := f.s.ApplyPushResults(f.ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
		{Table: protocol.TableLineConfigs, ID: f.c.ID, Status: status, Version: v(version), Row: row}}}); err != nil {
		t.Fatal(err)
	}
}

func newOwnChainFixture(t *testing.T) *ownChainFixture {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, Options{})
	if err := s.SetDeviceID(ctx, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	f := &ownChainFixture{s: s, ctx: ctx}
	f.pull(t, "t1", 0)
	c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrF(100), SpeedRPM: ptrI(100), Notes: ptrS("n0")})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.answer(t, protocol.StatusApplied, 1, nil)
	f.pull(t, "t1", 1, f.change(1, c.HLC, f.row("n0", 100, 100)))
	f.edit(t, "mine", 100)
	f.answer(t, protocol.StatusMerged, 3, f.row("mine", 80, 100))
	f.pull(t, "t1", 3, f.change(3, otherHLC(1), f.row("mine", 80, 100)))
	if got := ownEntry(t, s, c.ID); got != `3 ["notes"]` {
		t.Fatalf("own entry after the merge: %s, want v3 with the notes alone", got)
	}
	return f
}

// Review of the class5 merge chain: a second edit of a row whose version
// already holds this device's own change (a merged or carried note, or a
// whole-row entry a v10 database holds) must not narrow the note to the
// second edit's fields. Here the second edit (the temperature) is merged
// again under another device's hlc; the server is then restored from a
// backup taken before either edit, and nobody else pushes the notes again
// (the device whose merge carried them never got its answer). Before the
// fix the note held only the temperature: the pass pushed the restored
// notes with the device's temperature over them, and the device's notes,
// accepted twice, were lost (invariant 1). Schema 10 remembered the whole
// row there and pushed it again.
func TestStore_OwnFieldsSurviveALaterEditOfTheRow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, f *ownChainFixture) int64 // returns the version the second edit is based on
	}{
		{"merged_version", func(t *testing.T, f *ownChainFixture) int64 { return 3 }},
		{"carried_version", func(t *testing.T, f *ownChainFixture) int64 {
			f.pull(t, "t1", 4, f.change(4, otherHLC(2), f.row("mine", 80, 0)))
			if got := ownEntry(t, f.s, f.c.ID); got != `4 ["notes"]` {
				t.Fatalf("own entry after the later version: %s", got)
			}
			return 4
		}},
		{"whole_row_entry_from_schema_10", func(t *testing.T, f *ownChainFixture) int64 {
			// A v10 database: 0009 remembered the merged version without
			// fields (the whole row).
			if _, err := f.s.w.ExecContext(f.ctx, "UPDATE sync_own_versions SET fields = NULL"); err != nil {
				t.Fatal(err)
			}
			return 3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOwnChainFixture(t)
			base := tc.prepare(t, f)
			// The temperature, merged with another device's concurrent
			// speed under that device's (newer) hlc.
			f.edit(t, "mine", 70)
			merged := base + 2
			f.answer(t, protocol.StatusMerged, merged, f.row("mine", 70, 50))
			f.pull(t, "t1", merged, f.change(merged, otherHLC(3), f.row("mine", 70, 50)))

			if err := f.s.ChangeTimeline(f.ctx, "t2"); err != nil {
				t.Fatal(err)
			}
			f.pull(t, "t2", 2, f.change(2, otherHLC(0), f.row("n0", 100, 100)))
			got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
			if st != StatePending || deref(got.Notes) != "mine" || got.TemperatureC == nil || *got.TemperatureC != 70 {
				t.Fatalf("after the pass: %s, notes %q, temperature %v; want pending with the notes \"mine\" and 70 (both this device's accepted changes)",
					st, deref(got.Notes), *got.TemperatureC)
			}
		})
	}
}

// Review of the class5 merge chain: the restored server holds the row
// deleted, and its tombstone still holds this device's own notes (another
// device deleted the row after seeing them, before the backup). The
// restore lost nothing of this device's change: the row is clean and
// deleted, as it was before the mark existed. Before the fix the pass
// pushed the live row as held on base 0, a delete meeting an edit: an open
// conflict asking a manager to bring back a row deleted by someone who saw
// the edit (deleted rows stay deleted; only what the restore lost is
// pushed again).
func TestStore_OwnFieldsHeldByARestoredTombstone(t *testing.T) {
	f := newOwnChainFixture(t)
	f.pull(t, "t1", 4, f.change(4, otherHLC(2), f.row("mine", 80, 0)))
	if err := f.s.ChangeTimeline(f.ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	tomb := f.row("mine", 80, 0)
	tomb["deleted_at"] = json.Number(itoa(time.Now().UnixMilli()))
	f.pull(t, "t2", 5, f.change(5, otherHLC(4), tomb))
	got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
	if st != StateClean || got.DeletedAt == nil {
		t.Fatalf("after the pass: %s, deleted_at %v; want clean and deleted (the tombstone holds this device's notes)", st, got.DeletedAt)
	}
}

// Review of the class5 merge chain: an edit of a row at a version that
// holds this device's own change is rejected and the operator discards it
// (the row takes the server state, still that version). The edit's note
// had replaced the version's (one entry per row), and nothing gave it
// back: the row was clean at its own merged version with no mark, so a
// restore lost the device's notes (schema 10 kept the merged version's
// entry through the edit, and pushed the row again).
func TestStore_OwnFieldsSurviveADiscardedEdit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		laterSrv  bool // the server state discarded to is a later version of another device
		wantEntry string
	}{
		{"same_version", false, `3 ["notes"]`},
		{"later_version", true, `5 ["notes"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOwnChainFixture(t)
			f.edit(t, "mine", 70)
			f.answer(t, protocol.StatusRejected, 0, nil)
			srv := &ServerState{Version: 3, HLC: otherHLC(1), Row: f.row("mine", 80, 100)}
			if tc.laterSrv {
				srv = &ServerState{Version: 5, HLC: otherHLC(2), Row: f.row("mine", 80, 0)}
			}
			if err := f.s.Discard(f.ctx, protocol.TableLineConfigs, f.c.ID, srv); err != nil {
				t.Fatal(err)
			}
			if got := ownEntry(t, f.s, f.c.ID); got != tc.wantEntry {
				t.Errorf("own entry after the discard: %s, want %s", got, tc.wantEntry)
			}
			if err := f.s.ChangeTimeline(f.ctx, "t2"); err != nil {
				t.Fatal(err)
			}
			f.pull(t, "t2", 2, f.change(2, otherHLC(0), f.row("n0", 100, 100)))
			got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
			if st != StatePending || deref(got.Notes) != "mine" {
				t.Fatalf("after the pass: %s, notes %q; want pending with this device's accepted notes", st, deref(got.Notes))
			}
		})
	}
}

// Review of the class5 merge chain: a checksum repair (docs/design.md section
// 8) that brings a later version of another device to a clean row at this
// device's own version is a pulled version like any other: the note moves
// to it when it still holds the device's values. Before the fix the
// repair wrote the row without looking at the note, which stayed at the
// old version and matched nothing: a restore lost the device's notes.
func TestStore_OwnFieldsCarriedByARepair(t *testing.T) {
	f := newOwnChainFixture(t)
	bucket := checksum.Bucket(protocol.TableLineConfigs, f.c.ID, false, 0)
	if _, err := f.s.ApplyBucketListing(f.ctx, protocol.TableLineConfigs, bucket,
		[]protocol.PullChange{f.change(4, otherHLC(2), f.row("mine", 80, 0))}); err != nil {
		t.Fatal(err)
	}
	if got := ownEntry(t, f.s, f.c.ID); got != `4 ["notes"]` {
		t.Errorf("own entry after the repair: %s, want v4 with the notes", got)
	}
	if err := f.s.ChangeTimeline(f.ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	f.pull(t, "t2", 2, f.change(2, otherHLC(0), f.row("n0", 100, 100)))
	got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
	if st != StatePending || deref(got.Notes) != "mine" {
		t.Fatalf("after the pass: %s, notes %q; want pending with this device's accepted notes", st, deref(got.Notes))
	}
}

// Review of the class5 merge chain: a full pass (a 410 resync) that brings
// an older version of a clean row than the device holds shows a write the
// server lost, a restore its timeline did not show (docs/design.md section 3).
// A row at this device's own hlc is pushed again on base 0 there; a row at
// a version remembered as its own (merged, or carried by a later version)
// took the server's older state, and the device's notes were lost.
func TestStore_OwnFieldsOfAVersionAFullPassShowsLost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		restored  string // the notes of the older version the pass brings
		wantState string
	}{
		{"lost", "n0", StatePending},
		{"held", "mine", StateClean},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOwnChainFixture(t)
			f.pull(t, "t1", 4, f.change(4, otherHLC(2), f.row("mine", 80, 0)))
			if err := f.s.ResetCursor(f.ctx); err != nil {
				t.Fatal(err)
			}
			f.pull(t, "t1", 2, f.change(2, otherHLC(0), f.row(tc.restored, 100, 100)))
			got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
			if st != tc.wantState || deref(got.Notes) != "mine" {
				t.Fatalf("after the pass: %s, notes %q; want %s with this device's accepted notes", st, deref(got.Notes), tc.wantState)
			}
			if st == StatePending && (got.Version != 0 || *got.SpeedRPM != 100) {
				t.Fatalf("pending row %+v: want version 0 with the server's speed (another device's to push again)", got)
			}
		})
	}
}

// Review of the class5 merge chain: when the restored server holds the
// device's own fields under another device's hlc (a backup taken after
// the merge, before the version that carried it), the row is clean again
// at that version, which is still the device's own accepted change: a
// second restore, from an older backup, must push it again. Before the
// fix the pass forgot the note and the second restore lost the notes.
func TestStore_OwnFieldsHeldByTheRestoredServerStayMarked(t *testing.T) {
	f := newOwnChainFixture(t)
	f.pull(t, "t1", 4, f.change(4, otherHLC(2), f.row("mine", 80, 0)))
	if err := f.s.ChangeTimeline(f.ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	f.pull(t, "t2", 3, f.change(3, otherHLC(1), f.row("mine", 80, 100)))
	if st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID); st != StateClean {
		t.Fatalf("after the first pass: %s, want clean (the restored server holds the notes)", st)
	}
	if got := ownEntry(t, f.s, f.c.ID); got != `3 ["notes"]` {
		t.Errorf("own entry after the first pass: %s, want v3 with the notes", got)
	}
	if err := f.s.ChangeTimeline(f.ctx, "t3"); err != nil {
		t.Fatal(err)
	}
	f.pull(t, "t3", 2, f.change(2, otherHLC(0), f.row("n0", 100, 100)))
	got, err := f.s.GetLineConfig(f.ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.s.RowState(f.ctx, protocol.TableLineConfigs, f.c.ID)
	if st != StatePending || deref(got.Notes) != "mine" {
		t.Fatalf("after the second pass: %s, notes %q; want pending with this device's accepted notes", st, deref(got.Notes))
	}
}
