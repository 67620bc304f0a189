package store

import (
	"context"
	"encoding/json"
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
	b, err := s.NewBatch(ctx, 3) // the oldest three: recs[0], recs[1], edited
	if err != nil || b == nil || b.Changes != 3 {
		t.Fatalf("NewBatch = %+v, %v", b, err)
	}
	var req protocol.PushRequest
	if err := json.Unmarshal(b.Body, &req); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, edited.ID, RecordInput{LineID: "L9", ProductID: "P", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	resp := protocol.PushResponse{BatchID: b.ID, ServerTime: 5}
	for i, c := range req.Changes {
		if c.ID != recs[i].ID {
			t.Fatalf("change %d = %s, want %s", i, c.ID, recs[i].ID)
		}
		resp.Results = append(resp.Results, protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusApplied, Version: v(11 + int64(i))})
	}
	out, err := s.ApplyPushResults(ctx, b.ID, resp)
	if err != nil || out.Applied-out.StillPending != 2 {
		t.Fatalf("ApplyPushResults = %+v, %v", out, err)
	}
	_, next := pushAll(t, s)
	var rows, cfg []protocol.Change
	for _, c := range next.Changes {
		switch c.Table {
		case protocol.TableProductionRecords:
			rows = append(rows, c)
		case protocol.TableLineConfigs:
			cfg = append(cfg, c)
		}
	}
	if len(rows) != 3 || rows[0].ID != edited.ID || rows[0].BaseVersion != 13 || rows[1].BaseVersion != 0 {
		t.Fatalf("pending = %+v", rows)
	}
	row, err := protocol.DecodeRow(rows[0].Row)
	if err != nil {
		t.Fatal(err)
	}
	if row["line_id"] != "L9" || row["quantity"] != json.Number("1") || row["deleted_at"] != nil || rows[0].HLC <= edited.HLC {
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
	if len(cfg) != 1 {
		t.Fatalf("pending line configs = %+v", cfg)
	}
	if row, err := protocol.DecodeRow(cfg[0].Row); err != nil || row["notes"] != nil {
		t.Fatalf("pending line config = %+v, %v", row, err)
	}
	// Dropped unanswered, the rows are pending again, taken at most limit
	// at a time.
	ob, err := s.OpenBatch(ctx)
	if err != nil || ob == nil {
		t.Fatalf("OpenBatch = %v, %v", ob, err)
	}
	if err := s.DropBatch(ctx, ob.ID); err != nil {
		t.Fatal(err)
	}
	if limited, err := s.NewBatch(ctx, 2); err != nil || limited == nil || limited.Changes != 2 {
		t.Fatalf("limit ignored: %+v, %v", limited, err)
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
		for _, q := range []string{pendingQuery(tc.table, wireColumns(tb)), "SELECT count(*) FROM " + tc.table + " WHERE synced_at IS NULL"} {
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
	pushApplied(t, s, 0, map[string]int64{synced.ID: 1})
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
