package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// sitePages makes n production records as pull pages of size per page,
// versions 1…n; deleted marks every deleted-th one as a tombstone (0: none).
func sitePages(n, size, deleted int) []protocol.PullResponse {
	var pages []protocol.PullResponse
	base := int64(1_700_000_000_000)
	for start := 0; start < n; start += size {
		p := protocol.PullResponse{Changes: []protocol.PullChange{}}
		for i := start; i < min(start+size, n); i++ {
			id := uuid.NewString()
			created := base + int64(i)*600_000 // ten minutes apart: several hours
			var del any
			if deleted > 0 && i%deleted == 0 {
				del = json.Number(strconv.FormatInt(created+1, 10))
			}
			p.Changes = append(p.Changes, protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: int64(i + 1),
				HLC: fmt.Sprintf("%015d-00000-srv", created), Row: protocol.Row{"id": id, "line_id": "L" + strconv.Itoa(i%3),
					"product_id": "P" + strconv.Itoa(i%7), "quantity": json.Number(strconv.Itoa(i % 100)), "operator_id": "op" + strconv.Itoa(i%5),
					"created_at": json.Number(strconv.FormatInt(created, 10)), "updated_at": json.Number(strconv.FormatInt(created, 10)),
					"deleted_at": del, "server_updated_at": json.Number(strconv.FormatInt(created, 10))}})
		}
		p.Cursor = int64(min(start+size, n))
		p.HasMore = start+size < n
		pages = append(pages, p)
	}
	return pages
}

// feed returns a next func for ApplyPullPages over pages.
func feed(pages []protocol.PullResponse) func() (protocol.PullResponse, bool) {
	i := 0
	return func() (protocol.PullResponse, bool) {
		if i >= len(pages) {
			return protocol.PullResponse{}, false
		}
		i++
		return pages[i-1], true
	}
}

func countRecords(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM production_records").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch of pages commits its data with its last cursor, or nothing: a
// failure (a crash) in a later page of the batch keeps the cursor at the
// last committed batch, and re-applying from there loses nothing.
func TestStore_ApplyPullPagesIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	pages := sitePages(50, 10, 0)
	out, n, err := s.ApplyPullPages(ctx, feed(pages[:2]))
	if err != nil || n != 2 || out.Written != 20 {
		t.Fatalf("first batch = %+v, %d, %v", out, n, err)
	}
	if c, _ := s.Cursor(ctx); c != 20 || countRecords(t, s) != 20 {
		t.Fatalf("after the first batch: cursor %d, %d rows", c, countRecords(t, s))
	}
	// The second batch fails in its third page: nothing of it stays.
	bad := pages[2:5:5]
	bad = append(bad, protocol.PullResponse{Cursor: 99, Changes: []protocol.PullChange{{Table: protocol.TableProductionRecords, ID: uuid.NewString(),
		Version: 99, HLC: "x", Row: protocol.Row{"quantity": "not a number"}}}})
	bad[2], bad[3] = bad[3], bad[2]
	if _, _, err := s.ApplyPullPages(ctx, feed(bad)); err == nil {
		t.Fatal("a batch with an invalid row applied")
	}
	if c, _ := s.Cursor(ctx); c != 20 || countRecords(t, s) != 20 {
		t.Fatalf("after the failed batch: cursor %d, %d rows; want 20, 20", c, countRecords(t, s))
	}
	// The same pages again, from the committed cursor: all of them, once.
	if _, n, err := s.ApplyPullPages(ctx, feed(pages[2:])); err != nil || n != 3 {
		t.Fatalf("resume = %d, %v", n, err)
	}
	if c, _ := s.Cursor(ctx); c != 50 || countRecords(t, s) != 50 {
		t.Fatalf("after the resume: cursor %d, %d rows", c, countRecords(t, s))
	}
	// A batch that ends before its first page changes nothing.
	if out, n, err := s.ApplyPullPages(ctx, feed(nil)); err != nil || n != 0 || out != (PullOutcome{}) {
		t.Fatalf("empty batch = %+v, %d, %v", out, n, err)
	}
	if c, _ := s.Cursor(ctx); c != 50 {
		t.Fatalf("cursor after an empty batch = %d", c)
	}
}

// Pages batched together overwrite only clean rows, exactly as one page at
// a time: a pending edit, an in-flight row and a row awaiting review keep
// their values and version whichever page of the batch brings them.
func TestStore_BatchedPullNeverTouchesUnsettledRows(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	clean, _ := s.CreateRecord(ctx, validInput())
	pending, _ := s.CreateRecord(ctx, validInput())
	conflicted, _ := s.CreateRecord(ctx, validInput())
	b, req := pushAll(t, s)
	cid := uuid.NewString()
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, ServerTime: 5, Results: []protocol.PushResult{
		{Table: req.Changes[0].Table, ID: clean.ID, Status: protocol.StatusApplied, Version: v(1)},
		{Table: req.Changes[1].Table, ID: pending.ID, Status: protocol.StatusApplied, Version: v(2)},
		{Table: req.Changes[2].Table, ID: conflicted.ID, Status: protocol.StatusConflict, Version: v(3), ConflictID: cid, Row: serverRow(conflicted, 3)},
	}}); err != nil {
		t.Fatal(err)
	}
	inflight, _ := s.CreateRecord(ctx, validInput())
	if b2, err := s.NewBatch(ctx, 0); err != nil || b2 == nil || b2.Changes != 1 {
		t.Fatalf("NewBatch = %+v, %v", b2, err)
	}
	in := validInput()
	in.Quantity = 500
	if _, err := s.UpdateRecord(ctx, pending.ID, in); err != nil {
		t.Fatal(err)
	}
	const h = "000000000000001-00000-dev"
	rows := sitePages(30, 10, 0)
	// Each unsettled row arrives in a different page of one batch, twice.
	rows[0].Changes = append(rows[0].Changes, protocol.PullChange{Table: protocol.TableProductionRecords, ID: pending.ID, Version: 31, HLC: h, Row: serverRow(pending, 31)})
	rows[1].Changes = append(rows[1].Changes,
		protocol.PullChange{Table: protocol.TableProductionRecords, ID: conflicted.ID, Version: 32, HLC: h, Row: serverRow(conflicted, 32)},
		protocol.PullChange{Table: protocol.TableProductionRecords, ID: clean.ID, Version: 33, HLC: h, Row: serverRow(clean, 33)},
		protocol.PullChange{Table: protocol.TableProductionRecords, ID: inflight.ID, Version: 34, HLC: h, Row: serverRow(inflight, 34)})
	rows[2].Changes = append(rows[2].Changes,
		protocol.PullChange{Table: protocol.TableProductionRecords, ID: pending.ID, Version: 35, HLC: h, Row: serverRow(pending, 35)},
		protocol.PullChange{Table: protocol.TableProductionRecords, ID: inflight.ID, Version: 36, HLC: h, Row: serverRow(inflight, 36)})
	rows[2].Cursor = 36
	if _, n, err := s.ApplyPullPages(ctx, feed(rows)); err != nil || n != 3 {
		t.Fatalf("ApplyPullPages = %d, %v", n, err)
	}
	if r, _ := s.GetRecord(ctx, clean.ID); r.Quantity != 33 || r.Version != 33 || r.Pending() {
		t.Fatalf("clean row = %+v", r)
	}
	if r, _ := s.GetRecord(ctx, pending.ID); r.Quantity != 500 || r.Version != 2 || !r.Pending() {
		t.Fatalf("pending row was touched: %+v", r)
	}
	mustState(t, s, pending.ID, StatePending)
	if r, _ := s.GetRecord(ctx, conflicted.ID); r.Quantity != conflicted.Quantity || r.Version != conflicted.Version {
		t.Fatalf("awaiting-review row was touched: %+v", r)
	}
	mustState(t, s, conflicted.ID, StateAwaitingReview)
	if r, _ := s.GetRecord(ctx, inflight.ID); r.Quantity != inflight.Quantity || r.Version != 0 || !r.Pending() {
		t.Fatalf("in-flight row was touched: %+v", r)
	}
	mustState(t, s, inflight.ID, StateInFlight)
	if c, _ := s.Cursor(ctx); c != 36 {
		t.Fatalf("cursor = %d", c)
	}
}

// The rollups kept by the triggers equal a recount after an initial sync
// applied in batches of pages (tombstones and re-pulled rows included).
func TestStore_BatchedInitialSyncRollups(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	pages := sitePages(600, 50, 7)
	for i := 0; i < len(pages); i += 4 {
		if _, _, err := s.ApplyPullPages(ctx, feed(pages[i:min(i+4, len(pages))])); err != nil {
			t.Fatal(err)
		}
	}
	bounds := []int64{1_699_990_000_000, 1_700_100_000_000, 1_700_400_000_000, 1_700_600_000_000}
	checkRollup(t, s, bounds, "after the batched initial sync")
	// Later versions of some rows (moved, deleted, restored) in one batch.
	var upd []protocol.PullResponse
	for pi, p := range pages[:3] {
		np := protocol.PullResponse{Cursor: int64(700 + pi), HasMore: pi < 2}
		for j, ch := range p.Changes[:20] {
			row := ch.Row.Clone()
			row["quantity"] = json.Number(strconv.Itoa(1000 + j))
			row["product_id"] = "P-moved"
			if j%3 == 0 {
				row["deleted_at"] = nil
			} else if j%3 == 1 {
				row["deleted_at"] = json.Number("1700000000001")
			}
			np.Changes = append(np.Changes, protocol.PullChange{Table: ch.Table, ID: ch.ID, Version: int64(700 + pi), HLC: ch.HLC, Row: row})
		}
		upd = append(upd, np)
	}
	if _, _, err := s.ApplyPullPages(ctx, feed(upd)); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, bounds, "after a batch of updates")
}
