package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

func validInput() RecordInput {
	return RecordInput{LineID: "L1", ProductID: "P-100", Quantity: 5, OperatorID: "op-7"}
}

func TestStore_RecordValidation(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	with := func(f func(*RecordInput)) RecordInput { in := validInput(); f(&in); return in }
	tests := []struct {
		name string
		in   RecordInput
		code string // "" = valid
		col  string
	}{
		{"valid", validInput(), "", ""},
		{"empty line", with(func(in *RecordInput) { in.LineID = "" }), protocol.CodeMissingValue, "line_id"},
		{"empty product", with(func(in *RecordInput) { in.ProductID = "" }), protocol.CodeMissingValue, "product_id"},
		{"empty operator", with(func(in *RecordInput) { in.OperatorID = "" }), protocol.CodeMissingValue, "operator_id"},
		{"line 128 runes", with(func(in *RecordInput) { in.LineID = strings.Repeat("ü", 128) }), "", ""},
		{"line 129 runes", with(func(in *RecordInput) { in.LineID = strings.Repeat("ü", 129) }), protocol.CodeTooLong, "line_id"},
		{"negative quantity", with(func(in *RecordInput) { in.Quantity = -1 }), protocol.CodeInvalidValue, "quantity"},
		{"zero quantity", with(func(in *RecordInput) { in.Quantity = 0 }), "", ""},
		{"max quantity", with(func(in *RecordInput) { in.Quantity = 1_000_000_000 }), "", ""},
		{"quantity over max", with(func(in *RecordInput) { in.Quantity = 1_000_000_001 }), protocol.CodeInvalidValue, "quantity"},
		{"hostile text verbatim", with(func(in *RecordInput) { in.OperatorID = `'); DROP TABLE production_records;-- <b>=1+1 ☃` }), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.CreateRecord(ctx, tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("CreateRecord: %v", err)
				}
				got, err := s.GetRecord(ctx, r.ID)
				if err != nil || got.OperatorID != tc.in.OperatorID || got.LineID != tc.in.LineID {
					t.Fatalf("stored %+v, %v", got, err)
				}
				return
			}
			ve, ok := protocol.AsValidation(err)
			if !ok || ve.Code != tc.code || ve.Column != tc.col {
				t.Fatalf("CreateRecord err = %v, want %s on %s", err, tc.code, tc.col)
			}
			// And the same rules on update.
			base, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.UpdateRecord(ctx, base.ID, tc.in)
			if ve, ok := protocol.AsValidation(err); !ok || ve.Code != tc.code || ve.Column != tc.col {
				t.Fatalf("UpdateRecord err = %v, want %s on %s", err, tc.code, tc.col)
			}
			if got, _ := s.GetRecord(ctx, base.ID); !reflect.DeepEqual(got, base) {
				t.Fatal("a refused update changed the row")
			}
		})
	}
}

func TestStore_RecordCRUD(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	r, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if !protocol.ValidID(r.ID) || r.CreatedAt == 0 || r.UpdatedAt != r.CreatedAt || r.SyncedAt != nil ||
		r.Version != 0 || r.HLC == "" || r.DeletedAt != nil || !r.Pending() {
		t.Fatalf("created %+v", r)
	}
	got, err := s.GetRecord(ctx, r.ID)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("GetRecord = %+v, %v; want %+v", got, err, r)
	}

	// Pretend the server accepted it, so the edit below must clear synced_at.
	if out := pushApplied(t, s, 99, map[string]int64{r.ID: 7}); out.Applied-out.StillPending != 1 {
		t.Fatalf("push = %+v", out)
	}
	synced, _ := s.GetRecord(ctx, r.ID)
	if synced.Pending() || synced.Version != 7 || *synced.ServerUpdatedAt != 99 {
		t.Fatalf("after ack %+v", synced)
	}

	in := validInput()
	in.Quantity = 9
	u, err := s.UpdateRecord(ctx, r.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if u.Quantity != 9 || u.UpdatedAt <= r.UpdatedAt || u.CreatedAt != r.CreatedAt || u.HLC <= r.HLC || !u.Pending() || u.Version != 7 {
		t.Fatalf("updated %+v", u)
	}
	if got, _ := s.GetRecord(ctx, r.ID); !reflect.DeepEqual(got, u) {
		t.Fatalf("stored %+v, returned %+v", got, u)
	}
	// An edit that changes nothing is not an edit.
	same, err := s.UpdateRecord(ctx, r.ID, in)
	if err != nil || !reflect.DeepEqual(same, u) {
		t.Fatalf("no-op update = %+v, %v", same, err)
	}

	d, err := s.DeleteRecord(ctx, r.ID)
	if err != nil || d.DeletedAt == nil || d.HLC <= u.HLC || !d.Pending() {
		t.Fatalf("deleted %+v, %v", d, err)
	}
	if again, err := s.DeleteRecord(ctx, r.ID); err != nil || !reflect.DeepEqual(again, d) {
		t.Fatalf("second delete = %+v, %v", again, err)
	}
	if _, err := s.UpdateRecord(ctx, r.ID, in); !errors.Is(err, ErrDeleted) {
		t.Fatalf("update deleted = %v", err)
	}
	if got, _ := s.GetRecord(ctx, r.ID); !reflect.DeepEqual(got, d) {
		t.Fatal("GetRecord must return deleted records")
	}
	rs, err := s.RestoreRecord(ctx, r.ID)
	if err != nil || rs.DeletedAt != nil || rs.HLC <= d.HLC || rs.Quantity != 9 {
		t.Fatalf("restored %+v, %v", rs, err)
	}

	missing := "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
	for name, f := range map[string]func() error{
		"get":     func() error { _, err := s.GetRecord(ctx, missing); return err },
		"get bad": func() error { _, err := s.GetRecord(ctx, "nope"); return err },
		"update":  func() error { _, err := s.UpdateRecord(ctx, missing, in); return err },
		"delete":  func() error { _, err := s.DeleteRecord(ctx, missing); return err },
		"restore": func() error { _, err := s.RestoreRecord(ctx, missing); return err },
	} {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s missing = %v, want ErrNotFound", name, err)
		}
	}
}

func TestStore_CreateRecordsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	bad := validInput()
	bad.ProductID = ""
	_, err := s.CreateRecords(ctx, []RecordInput{validInput(), bad})
	if ve, ok := protocol.AsValidation(err); !ok || ve.Column != "product_id" || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("CreateRecords = %v", err)
	}
	if n, _ := s.PendingCount(ctx); n != 0 {
		t.Fatalf("a failed batch left %d rows", n)
	}
	recs, err := s.CreateRecords(ctx, []RecordInput{validInput(), validInput(), validInput()})
	if err != nil || len(recs) != 3 || !(recs[0].HLC < recs[1].HLC && recs[1].HLC < recs[2].HLC) {
		t.Fatalf("CreateRecords = %v, %v", recs, err)
	}
}

func TestStore_ListRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Now: fakeClock(1000)})
	// 60 records: line L0..L2, product P0..P4, operator O0..O1, quantity
	// 59..0; created_at 1000, 1001, … (one fake ms per write).
	var all []Record
	for i := 0; i < 60; i++ {
		r, err := s.CreateRecord(ctx, RecordInput{
			LineID: fmt.Sprintf("L%d", i%3), ProductID: fmt.Sprintf("P%d", i%5),
			OperatorID: fmt.Sprintf("O%d", i%2), Quantity: int64(59 - i),
		})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	for _, i := range []int{0, 3, 6} { // three L0 records deleted
		if _, err := s.DeleteRecord(ctx, all[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(p RecordPage) []string {
		var out []string
		for _, r := range p.Records {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		f     RecordFilter
		total int64
		check func(t *testing.T, p RecordPage)
	}{
		{"default live, created asc", RecordFilter{}, 57, func(t *testing.T, p RecordPage) {
			if len(p.Records) != 57 || p.Records[0].ID != all[1].ID {
				t.Fatalf("first = %v", p.Records[0].ID)
			}
		}},
		{"include deleted", RecordFilter{IncludeDeleted: true}, 60, nil},
		{"line", RecordFilter{LineID: "L0"}, 17, func(t *testing.T, p RecordPage) {
			for _, r := range p.Records {
				if r.LineID != "L0" || r.DeletedAt != nil {
					t.Fatalf("got %+v", r)
				}
			}
		}},
		{"line+product", RecordFilter{LineID: "L1", ProductID: "P1"}, 4, nil},
		{"operator", RecordFilter{OperatorID: "O1"}, 29, nil}, // 30 odd rows, #3 deleted
		{"date range", RecordFilter{From: 1010, To: 1020}, 10, func(t *testing.T, p RecordPage) {
			for _, r := range p.Records {
				if r.CreatedAt < 1010 || r.CreatedAt >= 1020 {
					t.Fatalf("created_at %d out of range", r.CreatedAt)
				}
			}
		}},
		{"quantity desc", RecordFilter{Sort: SortQuantity, Desc: true, Limit: 3}, 57, func(t *testing.T, p RecordPage) {
			if p.Records[0].Quantity != 58 || p.Records[1].Quantity != 57 || p.Records[2].Quantity != 55 {
				t.Fatalf("quantities %d %d %d", p.Records[0].Quantity, p.Records[1].Quantity, p.Records[2].Quantity)
			}
		}},
		{"updated desc", RecordFilter{Sort: SortUpdatedAt, Desc: true, IncludeDeleted: true, Limit: 1}, 60, func(t *testing.T, p RecordPage) {
			if p.Records[0].ID != all[6].ID {
				t.Fatalf("latest updated = %s, want the last deleted", p.Records[0].ID)
			}
		}},
		{"line sort ties by insertion", RecordFilter{Sort: SortLineID, Limit: 2}, 57, func(t *testing.T, p RecordPage) {
			if got := ids(p); got[0] != all[9].ID || got[1] != all[12].ID {
				t.Fatalf("got %v", got)
			}
		}},
		{"offset past end", RecordFilter{Offset: 1000}, 57, func(t *testing.T, p RecordPage) {
			if p.Records == nil || len(p.Records) != 0 {
				t.Fatalf("records = %#v", p.Records)
			}
		}},
		{"no match", RecordFilter{LineID: "nope"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.ListRecords(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != tc.total {
				t.Fatalf("total = %d, want %d", p.Total, tc.total)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}

	t.Run("pages cover every row once, for every sort", func(t *testing.T) {
		for key := range sortColumns {
			for _, desc := range []bool{false, true} {
				seen := map[string]bool{}
				for off := 0; ; off += 7 {
					p, err := s.ListRecords(ctx, RecordFilter{Sort: key, Desc: desc, Limit: 7, Offset: off})
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Records) == 0 {
						break
					}
					for _, r := range p.Records {
						if seen[r.ID] {
							t.Fatalf("%s desc=%v: %s twice", key, desc, r.ID)
						}
						seen[r.ID] = true
					}
				}
				if len(seen) != 57 {
					t.Fatalf("%s desc=%v: %d rows", key, desc, len(seen))
				}
			}
		}
	})

	t.Run("unknown sort refused", func(t *testing.T) {
		_, err := s.ListRecords(ctx, RecordFilter{Sort: "quantity; DROP TABLE production_records"})
		if ve, ok := protocol.AsValidation(err); !ok || ve.Column != "sort" {
			t.Fatalf("err = %v", err)
		}
	})
}

// The virtual list's queries walk an index in order: no sort of the whole
// table per page.
func TestStore_ListRecordsPlans(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	for _, tc := range []struct {
		q, index string
	}{
		{"SELECT id FROM production_records WHERE deleted_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 200 OFFSET 10", "idx_production_live_created"},
		{"SELECT id FROM production_records WHERE deleted_at IS NULL ORDER BY updated_at, rowid LIMIT 200 OFFSET 10", "idx_production_live_updated"},
		{"SELECT id FROM production_records WHERE deleted_at IS NULL AND line_id = 'L1' ORDER BY created_at, rowid LIMIT 200", "idx_production_live_line"},
		{"SELECT id FROM production_records WHERE deleted_at IS NULL AND operator_id = 'o' AND created_at >= 5 ORDER BY created_at, rowid LIMIT 200", "idx_production_live_operator"},
		{"SELECT id FROM production_records WHERE deleted_at IS NULL ORDER BY quantity DESC, rowid DESC LIMIT 200", "idx_production_live_quantity"},
	} {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.q)
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
		if !strings.Contains(joined, tc.index) || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("plan of %q = %s, want %s and no sort", tc.q, joined, tc.index)
		}
	}
}
