package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

func TestStore_Pending(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	var recs []Record
	for i := 0; i < 5; i++ {
		r, err := s.CreateRecord(ctx, validInput())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L", Recipe: "R"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PendingCount(ctx); err != nil || n != 6 {
		t.Fatalf("PendingCount = %d, %v", n, err)
	}
	// Two accepted; one edited again after its push (keeps pending, takes
	// the new base version).
	edited := recs[2]
	if _, err := s.UpdateRecord(ctx, edited.ID, RecordInput{LineID: "L9", ProductID: "P", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	clean, err := s.MarkSynced(ctx, protocol.TableProductionRecords, []Ack{
		{ID: recs[0].ID, HLC: recs[0].HLC, Version: 11, ServerUpdatedAt: 5},
		{ID: recs[1].ID, HLC: recs[1].HLC, Version: 12, ServerUpdatedAt: 5},
		{ID: edited.ID, HLC: edited.HLC, Version: 13, ServerUpdatedAt: 5},
	})
	if err != nil || clean != 2 {
		t.Fatalf("MarkSynced = %d, %v", clean, err)
	}
	rows, err := s.Pending(ctx, protocol.TableProductionRecords, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].ID != edited.ID || rows[0].BaseVersion != 13 || rows[1].BaseVersion != 0 {
		t.Fatalf("Pending = %+v", rows)
	}
	row := rows[0].Row
	if row["line_id"] != "L9" || row["quantity"] != int64(1) || row["deleted_at"] != nil || rows[0].HLC <= edited.HLC {
		t.Fatalf("pending row = %+v", row)
	}
	for k := range row {
		if protocol.IsBookkeeping(k) {
			t.Fatalf("pending row carries bookkeeping column %s", k)
		}
	}
	// The row is what the server would accept.
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableProductionRecords)
	if _, err := tb.Validate(rows[0].ID, row, protocol.Complete); err != nil {
		t.Fatalf("pending row does not validate: %v", err)
	}
	if limited, _ := s.Pending(ctx, protocol.TableProductionRecords, 2); len(limited) != 2 {
		t.Fatalf("limit ignored: %d", len(limited))
	}
	if cfg, err := s.Pending(ctx, protocol.TableLineConfigs, 0); err != nil || len(cfg) != 1 || cfg[0].Row["notes"] != nil {
		t.Fatalf("Pending line configs = %+v, %v", cfg, err)
	}
	if _, err := s.Pending(ctx, "sqlite_master", 1); !errors.Is(err, ErrUnknownTable) {
		t.Fatalf("unknown table = %v", err)
	}
}

// The pending query must go through the partial index, so that its cost
// follows the number of pending rows and not the table's size.
func TestStore_PendingUsesPartialIndex(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	for _, tc := range []struct{ table, index string }{
		{protocol.TableProductionRecords, "idx_production_not_synced"},
		{protocol.TableLineConfigs, "idx_line_configs_not_synced"},
	} {
		tb, _ := s.syncedTable(tc.table)
		var cols []string
		for _, c := range tb.Columns {
			if !protocol.IsBookkeeping(c.Name) {
				cols = append(cols, c.Name)
			}
		}
		for _, q := range []string{pendingQuery(tc.table, cols), "SELECT count(*) FROM " + tc.table + " WHERE synced_at IS NULL"} {
			var args []any
			if strings.Contains(q, "?") {
				args = []any{10}
			}
			rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			joined := strings.Join(plan, "; ")
			// No sort either: ORDER BY rowid follows the index.
			if !strings.Contains(joined, "USING INDEX "+tc.index) && !strings.Contains(joined, "USING COVERING INDEX "+tc.index) ||
				strings.Contains(joined, "TEMP B-TREE") {
				t.Fatalf("plan for %q = %s, want %s", q, joined, tc.index)
			}
			t.Logf("%s: %s", tc.table, joined)
		}
	}
}

func TestStore_SetDeviceIDRestampsPending(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if id, err := s.DeviceID(ctx); err != nil || id != "" {
		t.Fatalf("DeviceID before enrollment = %q, %v", id, err)
	}
	before, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	synced, _ := s.CreateRecord(ctx, validInput())
	if _, err := s.MarkSynced(ctx, protocol.TableProductionRecords, []Ack{{ID: synced.ID, HLC: synced.HLC, Version: 1}}); err != nil {
		t.Fatal(err)
	}
	const dev = "3b241101-e2bb-4255-8caf-4136c566a962"
	if err := s.SetDeviceID(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeviceID(ctx, "bad id!"); err == nil {
		t.Fatal("SetDeviceID accepted a bad id")
	}
	if id, _ := s.DeviceID(ctx); id != dev {
		t.Fatalf("DeviceID = %q", id)
	}
	got, _ := s.GetRecord(ctx, before.ID)
	ts, err := hlc.Parse(got.HLC)
	old, _ := hlc.Parse(before.HLC)
	if err != nil || ts.Node != dev || ts.Wall != old.Wall || ts.Counter != old.Counter {
		t.Fatalf("re-stamped hlc = %s (was %s), %v", got.HLC, before.HLC, err)
	}
	if got, _ := s.GetRecord(ctx, synced.ID); got.HLC != synced.HLC {
		t.Fatal("a synced row was re-stamped")
	}
	after, _ := s.CreateRecord(ctx, validInput())
	if ts, _ := hlc.Parse(after.HLC); ts.Node != dev {
		t.Fatalf("new edit stamped %s", after.HLC)
	}
}
