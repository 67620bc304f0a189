package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/period"
	"github.com/outpost-app/outpost/backend/protocol"
)

// checkRollup compares Aggregate with AggregateScan for both groupings over
// bounds, and the rollup tables with a rebuild from the records.
func checkRollup(t *testing.T, s *Store, bounds []int64, step string) {
	t.Helper()
	ctx := context.Background()
	for _, by := range []string{ByProduct, ByOperator} {
		for _, line := range []string{"", "L1"} {
			got, err := s.Aggregate(ctx, by, bounds, line)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.AggregateScan(ctx, by, bounds, line)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: Aggregate(%s, line %q) differs from the scan:\n got %v\nwant %v", step, by, line, got, want)
			}
		}
	}
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT hour, line_id, product_id, quantity, records FROM production_hourly WHERE records != 0
		  EXCEPT SELECT created_at - created_at % 3600000, line_id, product_id, sum(quantity), count(*) FROM production_records WHERE deleted_at IS NULL GROUP BY 1, 2, 3)`,
		`SELECT count(*) FROM (SELECT created_at - created_at % 3600000, line_id, product_id, sum(quantity), count(*) FROM production_records WHERE deleted_at IS NULL GROUP BY 1, 2, 3
		  EXCEPT SELECT hour, line_id, product_id, quantity, records FROM production_hourly)`,
		`SELECT count(*) FROM (SELECT hour, line_id, operator_id, quantity, records FROM production_hourly_operator WHERE records != 0
		  EXCEPT SELECT created_at - created_at % 3600000, line_id, operator_id, sum(quantity), count(*) FROM production_records WHERE deleted_at IS NULL GROUP BY 1, 2, 3)`,
		`SELECT count(*) FROM production_hourly WHERE records < 0 OR (records = 0 AND quantity != 0)`,
	} {
		var n int
		if err := s.r.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: rollup differs from the records (%d rows, %v): %s", step, n, err, q)
		}
	}
}

// TestStore_RollupProperty runs random local edits and pulled pages and
// checks after each step that the rollups equal a full scan.
func TestStore_RollupProperty(t *testing.T) {
	ctx := context.Background()
	const base = int64(1_700_000_000_000)
	var clock atomic.Int64
	clock.Store(base)
	s := openTest(t, Options{Now: func() int64 { return clock.Load() }})
	rng := rand.New(rand.NewPCG(1, 2))
	// Buckets of uneven length, some cut mid-hour: exercise rollup + edges.
	var bounds []int64
	for b := base - hourMs; b < base+30*hourMs; b += int64(20+rng.IntN(150)) * 60_000 {
		bounds = append(bounds, b)
	}
	var ids []string
	pick := func() string { return ids[rng.IntN(len(ids))] }
	lines, products, ops := []string{"L1", "L2", "L3"}, []string{"P-1", "P-2"}, []string{"op-1", "op-2"}
	input := func() RecordInput {
		return RecordInput{LineID: lines[rng.IntN(3)], ProductID: products[rng.IntN(2)], Quantity: int64(rng.IntN(50)), OperatorID: ops[rng.IntN(2)]}
	}
	version := int64(0)
	for step := 0; step < 400; step++ {
		clock.Store(base + rng.Int64N(28*hourMs))
		var what string
		switch op := rng.IntN(11); {
		case op < 3 || len(ids) == 0:
			what = "create"
			n := 1 + rng.IntN(3)
			ins := make([]RecordInput, n)
			for i := range ins {
				ins[i] = input()
			}
			recs, err := s.CreateRecords(ctx, ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
		case op == 3:
			what = "update"
			if _, err := s.UpdateRecord(ctx, pick(), input()); err != nil && !isDeleted(err) {
				t.Fatal(err)
			}
		case op == 4:
			what = "delete"
			if _, err := s.DeleteRecord(ctx, pick()); err != nil {
				t.Fatal(err)
			}
		case op == 5:
			what = "restore"
			if _, err := s.RestoreRecord(ctx, pick()); err != nil {
				t.Fatal(err)
			}
		case op == 10:
			// A row removed outright, as Discard removes a rejected row
			// the server never had.
			what = "discard"
			i := rng.IntN(len(ids))
			if _, err := s.w.ExecContext(ctx, "DELETE FROM production_records WHERE id = ?", ids[i]); err != nil {
				t.Fatal(err)
			}
			ids = append(ids[:i], ids[i+1:]...)
		case op == 6:
			what = "sync"
			// The oldest pending rows, pushed and accepted as the client
			// pushes them.
			b, err := s.NewBatch(ctx, 1+rng.IntN(3))
			if err != nil {
				t.Fatal(err)
			}
			if b == nil {
				break
			}
			var req protocol.PushRequest
			if err := json.Unmarshal(b.Body, &req); err != nil {
				t.Fatal(err)
			}
			resp := protocol.PushResponse{BatchID: b.ID, ServerTime: 1}
			for _, c := range req.Changes {
				version++
				resp.Results = append(resp.Results, protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusApplied, Version: v(version)})
			}
			if _, err := s.ApplyPushResults(ctx, b.ID, resp); err != nil {
				t.Fatal(err)
			}
		default:
			what = "pull"
			var chs []protocol.PullChange
			for k := rng.IntN(4); k >= 0; k-- {
				version++
				in := input()
				id := uuid.NewString()
				if len(ids) > 0 && rng.IntN(2) == 0 {
					id = pick() // only changes it when clean
				} else {
					ids = append(ids, id)
				}
				created := base + rng.Int64N(28*hourMs)
				var deleted any
				if rng.IntN(4) == 0 {
					deleted = created + 5
				}
				chs = append(chs, protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: version,
					HLC: fmt.Sprintf("%015d-00000-other", created), Row: protocol.Row{
						"id": id, "line_id": in.LineID, "product_id": in.ProductID, "quantity": json.Number(fmt.Sprint(in.Quantity)),
						"operator_id": in.OperatorID, "created_at": created, "updated_at": created, "deleted_at": deleted, "server_updated_at": int64(9),
					}})
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: version, Changes: chs}); err != nil {
				t.Fatal(err)
			}
		}
		checkRollup(t, s, bounds, fmt.Sprintf("step %d (%s)", step, what))
	}
	// The revision tells what changed, and nothing when nothing did.
	c0, err := s.RollupChangedSince(ctx, 0)
	if err != nil || c0.Rev == 0 {
		t.Fatalf("RollupChangedSince(0) = %+v, %v", c0, err)
	}
	if c, _ := s.RollupChangedSince(ctx, c0.Rev); c.Rev != c0.Rev || c.From != 0 {
		t.Fatalf("no change: %+v", c)
	}
	clock.Store(base + 5*hourMs + 17)
	if _, err := s.CreateRecord(ctx, input()); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.RollupChangedSince(ctx, c0.Rev); c.Rev <= c0.Rev || c.From != base-base%hourMs+5*hourMs || c.To != c.From+hourMs {
		t.Fatalf("after a create at +5h: %+v (base hour %d)", c, base-base%hourMs)
	}
}

func isDeleted(err error) bool { return err != nil && errors.Is(err, ErrDeleted) }

// TestStore_RollupMigration upgrades the schema-2 fixture and checks the
// migration built the rollup from its rows.
func TestStore_RollupMigration(t *testing.T) {
	p := filepath.Join(t.TempDir(), "outpost.db")
	restoreFixture(t, filepath.Join("testdata", "schema_v2.sql"), p, fixtureKey(t))
	s := openTest(t, Options{Path: p, Key: fixtureKey(t)})
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM production_hourly WHERE records > 0").Scan(&n); err != nil || n == 0 {
		t.Fatalf("rollup rows after migration: %d, %v", n, err)
	}
	checkRollup(t, s, []int64{0, 1_700_000_000_000, 1_800_000_000_000}, "after migration")
}

// TestStore_AggregateShiftsDST sums a fixture with known totals into the
// shifts of a fall-back day and a spring-forward day in Europe/Berlin, and
// a day in a half-hour zone, deleted rows left out.
func TestStore_AggregateShiftsDST(t *testing.T) {
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	var clock atomic.Int64
	s := openTest(t, Options{Now: func() int64 { return clock.Load() }})
	put := func(at time.Time, qty int64, del bool) {
		t.Helper()
		clock.Store(at.UnixMilli())
		r, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P", Quantity: qty, OperatorID: "op"})
		if err != nil {
			t.Fatal(err)
		}
		if del {
			if _, err := s.DeleteRecord(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 2026-10-25: clocks go back 03:00 CEST → 02:00 CET; the day has 25 h.
	day := func(h, m int) time.Time { return time.Date(2026, 10, 25, h, m, 0, 0, berlin) }
	put(day(5, 59), 1, false)                                      // night shift of the 24th
	put(day(6, 0), 10, false)                                      // early
	put(day(13, 59), 20, false)                                    // early
	put(day(14, 0), 100, false)                                    // late
	put(day(21, 30), 7, true)                                      // late, deleted
	put(day(22, 0), 1000, false)                                   // night
	put(time.Date(2026, 10, 26, 5, 59, 0, 0, berlin), 5000, false) // night, next morning
	put(day(2, 30), 3, false)                                      // first 02:30 (CEST)
	put(day(2, 30).Add(time.Hour), 4, false)                       // second 02:30 (CET)

	bs, err := period.Buckets(period.Shifts, day(0, 0), time.Date(2026, 10, 26, 0, 0, 0, 0, berlin), berlin, period.DefaultShifts)
	if err != nil {
		t.Fatal(err)
	}
	bounds := []int64{bs[0].From}
	for _, b := range bs {
		if b.From != bounds[len(bounds)-1] {
			t.Fatalf("buckets not contiguous: %+v", bs)
		}
		bounds = append(bounds, b.To)
	}
	got, err := s.Aggregate(ctx, ByProduct, bounds, "")
	if err != nil {
		t.Fatal(err)
	}
	sums := make([]int64, len(bs))
	for _, x := range got {
		sums[x.Bucket] += x.Quantity
	}
	// Buckets: the night shift begun on the 24th (clipped to the 25th's
	// midnight: 00:00–06:00, 7 h that day), early, late, night (clipped).
	if want := []int64{1 + 3 + 4, 30, 100, 1000}; !reflect.DeepEqual(sums, want) {
		t.Fatalf("shift totals = %v, want %v (buckets %+v)", sums, want, bs)
	}
	if h := bs[0].Hours(); h != 7 {
		t.Fatalf("the night part of the fall-back day lasts %v h, want 7", h)
	}
	checkRollup(t, s, bounds, "dst")

	// Whole days: the 25th has 25 hours and everything but the deleted row
	// and the next morning's.
	days, _ := period.Buckets(period.Day, day(0, 0), time.Date(2026, 10, 27, 0, 0, 0, 0, berlin), berlin, nil)
	if len(days) != 2 || days[0].Hours() != 25 || days[1].Hours() != 24 {
		t.Fatalf("days = %+v", days)
	}
	got, _ = s.Aggregate(ctx, ByProduct, []int64{days[0].From, days[0].To, days[1].To}, "")
	if len(got) != 2 || got[0].Quantity != 1+10+20+100+1000+3+4 || got[1].Quantity != 5000 {
		t.Fatalf("day totals = %+v", got)
	}

	// A half-hour zone: local days start at 18:30 UTC; the edges come from
	// the records, the rest from the rollup, and match the scan.
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	kday := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, kolkata) }
	put(kday(0, 10), 1, false)  // 18:40 UTC the day before
	put(kday(23, 50), 2, false) // 18:20 UTC
	put(kday(0, 0).Add(-time.Minute), 4, false)
	put(kday(24, 0), 8, false)
	got, _ = s.Aggregate(ctx, ByProduct, []int64{kday(0, 0).UnixMilli(), kday(24, 0).UnixMilli()}, "")
	if len(got) != 1 || got[0].Quantity != 3 {
		t.Fatalf("half-hour zone day = %+v, want 3", got)
	}
	hours := period.HourBuckets(kday(0, 0), kday(24, 0), kolkata)
	hb := []int64{hours[0].From}
	for _, h := range hours {
		hb = append(hb, h.To)
	}
	checkRollup(t, s, hb, "kolkata hours")
}

func TestStore_LineTargets(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	mk := func(line string, rate *int64) LineConfig {
		c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: line, Recipe: "R", TargetRatePerHour: rate})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mk("L1", p(int64(100)))
	mk("L1", p(int64(120))) // later: wins
	mk("L2", p(int64(50)))
	gone := mk("L2", p(int64(70)))
	if _, err := s.DeleteLineConfig(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	mk("L3", nil)
	got, err := s.LineTargets(ctx)
	if err != nil || !reflect.DeepEqual(got, map[string]int64{"L1": 120, "L2": 50}) {
		t.Fatalf("LineTargets = %v, %v", got, err)
	}
}

// TestStore_LocalOnlyMigrationNoRepull: the rollup (0003), resolution
// queue (0004) and checksum (0007) migrations add nothing a pull brings, so SyncSchemaVersion
// skips them: a device last pulled under sync schema 2 (builds 2 to 4) is
// re-pulled once; one already pulled under 6 is not.
func TestStore_LocalOnlyMigrationNoRepull(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		first, _, _ := strings.Cut(m.SQL, "\n")
		if local := strings.Contains(first, localOnlyTag); local != (m.Version == 3 || m.Version == 4 || m.Version == 7 || m.Version == 9 || m.Version == 11) {
			t.Errorf("%s: local only = %v", m.Name, local)
		}
	}
	// 0006 (full passes) is not local only on purpose: an upgraded device
	// re-pulls once as a full pass, which removes the rows whose tombstones
	// were purged while it was behind (issue 15, defect 2).
	// 0008 (a product's quantity range) adds columns a pull brings.
	// 0009 (own accepted versions) is local only.
	// 0010 (a person's language) adds a column a pull brings.
	// 0011 (own fields carried by a later version) is local only.
	if SyncSchemaVersion() != 10 || SchemaVersion() != 11 {
		t.Fatalf("SyncSchemaVersion = %d, SchemaVersion = %d", SyncSchemaVersion(), SchemaVersion())
	}
	for _, tc := range []struct {
		seen      string
		wantReset bool
	}{{"2", true}, {"5", true}, {"6", true}, {"8", true}, {"10", false}} {
		s := openTest(t, Options{})
		if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 50}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, upsertMeta, metaPullSchema, tc.seen); err != nil {
			t.Fatal(err)
		}
		if reset, err := s.RepullIfUpgraded(ctx); err != nil || reset != tc.wantReset {
			t.Fatalf("pulled under %s: reset = %v, %v", tc.seen, reset, err)
		}
		want := int64(50)
		if tc.wantReset {
			want = 0
		}
		if c, _ := s.Cursor(ctx); c != want {
			t.Fatalf("pulled under %s: cursor = %d", tc.seen, c)
		}
		if reset, _ := s.RepullIfUpgraded(ctx); reset {
			t.Fatalf("pulled under %s: re-pulled twice", tc.seen)
		}
	}
}

// TestStore_LineTargetsSince: a line's target counts from when the line was
// first configured (its earliest live configuration), at its latest rate.
func TestStore_LineTargetsSince(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	mk := func(line string, rate *int64) LineConfig {
		c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: line, Recipe: "R", TargetRatePerHour: rate})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := mk("L1", p(int64(100)))
	mk("L1", p(int64(120)))
	gone := mk("L2", p(int64(70)))
	if _, err := s.DeleteLineConfig(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	l2 := mk("L2", p(int64(50)))
	mk("L3", nil)
	got, err := s.LineTargetsSince(ctx)
	want := map[string]LineTarget{
		"L1": {Rate: 120, Since: first.CreatedAt},
		"L2": {Rate: 50, Since: l2.CreatedAt},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LineTargetsSince = %+v, %v; want %+v", got, err, want)
	}
}
