package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

const testPINHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"

func mustPut(t *testing.T, s *Store, table string, fields map[string]any) SiteRow {
	t.Helper()
	r, err := s.PutSiteRow(context.Background(), table, fields)
	if err != nil {
		t.Fatalf("PutSiteRow(%s, %v): %v", table, fields, err)
	}
	return r
}

// TestStore_SyncTablesMatchRegistry: every registry table has a local table
// with each wire column plus the sync bookkeeping, so no synced table or
// column can be declared without its migration.
func TestStore_SyncTablesMatchRegistry(t *testing.T) {
	s := openTest(t, Options{})
	reg := protocol.NewRegistry()
	if len(syncTables) != len(reg.Tables()) {
		t.Fatalf("store syncs %d tables, the registry declares %d", len(syncTables), len(reg.Tables()))
	}
	for _, tb := range reg.Tables() {
		have := map[string]bool{}
		rows, err := s.r.Query("SELECT name FROM pragma_table_info(?)", tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			have[n] = true
		}
		rows.Close()
		for _, c := range append(tb.ColumnNames(), "synced_at", "version", "hlc") {
			if !have[c] {
				t.Errorf("table %s has no column %s", tb.Name, c)
			}
		}
		var idx int
		if err := s.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%WHERE synced_at IS NULL'", tb.Name).Scan(&idx); err != nil || idx != 1 {
			t.Errorf("table %s: %d partial not-synced indexes, %v", tb.Name, idx, err)
		}
	}
}

func TestStore_PutSiteRow(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})

	// Create: id from the key, created_at = updated_at = now, pending.
	l1 := mustPut(t, s, protocol.TableLines, map[string]any{"code": "L1", "name": "Line one", "area": "Hall A", "active": true, "updated_by": "mgr-1"})
	if l1.ID() != protocol.KeyID(protocol.TableLines, "L1") || !l1.Pending || l1.SyncState != StatePending || l1.Version != 0 || l1.HLC == "" {
		t.Fatalf("created %+v", l1)
	}
	if l1.Fields["active"] != int64(1) || l1.Fields["area"] != "Hall A" || l1.Fields["created_at"] != l1.Fields["updated_at"] || l1.Fields["deleted_at"] != nil {
		t.Fatalf("created fields %v", l1.Fields)
	}
	if !l1.Active() || l1.Text("name") != "Line one" {
		t.Fatalf("accessors of %v", l1.Fields)
	}

	// Merge: fields not given keep their value; created_at is kept.
	l1b := mustPut(t, s, protocol.TableLines, map[string]any{"code": "L1", "name": "Line 1"})
	if l1b.Fields["area"] != "Hall A" || l1b.Fields["name"] != "Line 1" || l1b.Fields["created_at"] != l1.Fields["created_at"] ||
		l1b.Fields["updated_at"] == l1.Fields["updated_at"] || l1b.HLC <= l1.HLC || l1b.Fields["updated_by"] != "mgr-1" {
		t.Fatalf("merged %v (%s)", l1b.Fields, l1b.HLC)
	}
	// An explicit nil clears a nullable column.
	l1c := mustPut(t, s, protocol.TableLines, map[string]any{"code": "L1", "area": nil, "updated_by": "mgr-2"})
	if l1c.Fields["area"] != nil || l1c.Fields["updated_by"] != "mgr-2" {
		t.Fatalf("cleared %v", l1c.Fields)
	}

	// Unchanged people's fields (updated_by is not one): a no-op.
	for _, f := range []map[string]any{
		{"code": "L1"},
		{"code": "L1", "name": "Line 1", "active": 1},
		{"code": "L1", "updated_by": "someone-else"},
		{"code": "L1", "created_at": 5, "updated_at": 6, "server_updated_at": 7, "synced_at": 1, "version": 9, "hlc": "x"},
	} {
		same := mustPut(t, s, protocol.TableLines, f)
		if same.HLC != l1c.HLC || same.Fields["updated_at"] != l1c.Fields["updated_at"] || same.Fields["updated_by"] != "mgr-2" {
			t.Fatalf("no-op put %v changed the row: %v", f, same.Fields)
		}
	}

	// Singleton: one row, whatever is given.
	st := mustPut(t, s, protocol.TableSiteSettings, map[string]any{"time_zone": "Europe/Berlin", "shifts": "Early=06:00,Late=14:00"})
	if st.ID() != protocol.SiteSettingsID() || st.Fields["idle_signout_s"] != nil {
		t.Fatalf("settings %v", st.Fields)
	}
	st2 := mustPut(t, s, protocol.TableSiteSettings, map[string]any{"idle_signout_s": 600})
	if st2.Fields["time_zone"] != "Europe/Berlin" || st2.Fields["idle_signout_s"] != int64(600) {
		t.Fatalf("settings merged %v", st2.Fields)
	}

	p1 := mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "op-1", "display_name": `Zoë "O'Brien" <b>=1+1`, "role": "operator", "active": 1})
	if p1.Fields["display_name"] != `Zoë "O'Brien" <b>=1+1` {
		t.Fatalf("text not verbatim: %v", p1.Fields)
	}

	// Bad input: a *protocol.ValidationError naming the column, nothing changed.
	tests := []struct {
		name, table string
		fields      map[string]any
		code, col   string
	}{
		{"missing key", protocol.TableLines, map[string]any{"name": "x", "active": 1}, protocol.CodeMissingValue, "code"},
		{"empty key", protocol.TableLines, map[string]any{"code": "", "name": "x", "active": 1}, protocol.CodeMissingValue, "code"},
		{"key not text", protocol.TableLines, map[string]any{"code": 7, "name": "x", "active": 1}, protocol.CodeInvalidValue, "code"},
		{"new row missing name", protocol.TableLines, map[string]any{"code": "L2", "active": 1}, protocol.CodeMissingValue, "name"},
		{"active out of range", protocol.TableLines, map[string]any{"code": "L1", "active": 2}, protocol.CodeInvalidValue, "active"},
		{"name too long", protocol.TableLines, map[string]any{"code": "L1", "name": strings.Repeat("é", 129)}, protocol.CodeTooLong, "name"},
		{"unknown column", protocol.TableLines, map[string]any{"code": "L1", "colour": "red"}, protocol.CodeUnknownColumn, "colour"},
		{"id of another key", protocol.TableLines, map[string]any{"code": "L1", "id": protocol.KeyID(protocol.TableLines, "L9")}, protocol.CodeInvalidValue, "id"},
		{"bad role", protocol.TablePeople, map[string]any{"badge_id": "op-1", "role": "admin"}, protocol.CodeInvalidValue, "role"},
		{"clear required", protocol.TablePeople, map[string]any{"badge_id": "op-1", "display_name": nil}, protocol.CodeMissingValue, "display_name"},
		{"clear-text PIN", protocol.TablePeople, map[string]any{"badge_id": "op-1", "pin_hash": "1234"}, protocol.CodeInvalidValue, "pin_hash"},
		{"bad zone", protocol.TableSiteSettings, map[string]any{"time_zone": "Mars/Olympus"}, protocol.CodeInvalidValue, "time_zone"},
		{"bad shifts", protocol.TableSiteSettings, map[string]any{"shifts": "whenever"}, protocol.CodeInvalidValue, "shifts"},
		{"idle too short", protocol.TableSiteSettings, map[string]any{"idle_signout_s": 5}, protocol.CodeInvalidValue, "idle_signout_s"},
		{"bad pin roles", protocol.TableSiteSettings, map[string]any{"pin_roles": "root"}, protocol.CodeInvalidValue, "pin_roles"},
	}
	before := dumpAll(t, s)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PutSiteRow(ctx, tc.table, tc.fields)
			ve, ok := protocol.AsValidation(err)
			if !ok || ve.Code != tc.code || ve.Column != tc.col {
				t.Fatalf("err = %v, want %s on %s", err, tc.code, tc.col)
			}
			if after := dumpAll(t, s); !equalDumps(before, after) {
				t.Fatal("a refused put changed the store")
			}
		})
	}
	for _, table := range []string{"production_records", "line_configs", "sync_conflicts", "nope", "lines; DROP TABLE lines"} {
		if _, err := s.PutSiteRow(ctx, table, map[string]any{"code": "x"}); !errors.Is(err, ErrUnknownTable) {
			t.Errorf("PutSiteRow(%q) = %v, want ErrUnknownTable", table, err)
		}
		if _, err := s.SiteRows(ctx, table); !errors.Is(err, ErrUnknownTable) {
			t.Errorf("SiteRows(%q) = %v, want ErrUnknownTable", table, err)
		}
	}
}

// dumpAll returns every synced row of every table with its bookkeeping.
func dumpAll(t *testing.T, s *Store) map[string]map[string]SyncedRow {
	t.Helper()
	out := map[string]map[string]SyncedRow{}
	for _, tb := range syncTableNames() {
		d, err := s.DumpTable(context.Background(), tb)
		if err != nil {
			t.Fatal(err)
		}
		out[tb] = d
	}
	return out
}

func equalDumps(a, b map[string]map[string]SyncedRow) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestStore_SiteRowsAndLookups(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	for _, n := range []int{0} {
		if c, err := s.CountActive(ctx, protocol.TablePeople); err != nil || c != n {
			t.Fatalf("CountActive on an empty site = %d, %v", c, err)
		}
	}
	mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "b-2", "display_name": "Bea", "role": "manager", "active": 1, "pin_hash": testPINHash})
	mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "a-1", "display_name": "Al", "role": "operator", "active": 0})
	mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "c-3", "display_name": "Cy", "role": "supervisor", "active": 1})
	mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "d-4", "display_name": "Di", "role": "operator", "active": 1, "deleted_at": int64(1)})

	rows, err := s.SiteRows(ctx, protocol.TablePeople)
	if err != nil {
		t.Fatal(err)
	}
	var badges []string
	for _, r := range rows {
		badges = append(badges, r.Text("badge_id"))
	}
	if strings.Join(badges, ",") != "a-1,b-2,c-3" {
		t.Fatalf("live people by badge = %v", badges)
	}
	for _, tc := range []struct {
		table       string
		active, liv int
	}{{protocol.TablePeople, 2, 3}, {protocol.TableLines, 0, 0}, {protocol.TableSiteSettings, 0, 0}} {
		a, err1 := s.CountActive(ctx, tc.table)
		l, err2 := s.CountLive(ctx, tc.table)
		if err1 != nil || err2 != nil || a != tc.active || l != tc.liv {
			t.Errorf("%s: active %d live %d (%v, %v), want %d, %d", tc.table, a, l, err1, err2, tc.active, tc.liv)
		}
	}
	p, err := s.PersonByBadge(ctx, "b-2")
	if err != nil || p.Text("pin_hash") != testPINHash || p.Text("role") != "manager" {
		t.Fatalf("PersonByBadge = %+v, %v", p, err)
	}
	for _, b := range []string{"", "zz", "d-4"} {
		if _, err := s.PersonByBadge(ctx, b); !errors.Is(err, ErrNotFound) {
			t.Errorf("PersonByBadge(%q) = %v, want ErrNotFound", b, err)
		}
	}
	// Deleted rows are still there by id.
	if r, err := s.SiteRow(ctx, protocol.TablePeople, protocol.KeyID(protocol.TablePeople, "d-4")); err != nil || r.Active() {
		t.Fatalf("deleted person = %+v, %v", r, err)
	}
	if _, err := s.SiteRow(ctx, protocol.TablePeople, "not-a-uuid"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SiteRow(bad id) = %v", err)
	}
	names, err := s.PeopleNames(ctx)
	if err != nil || len(names) != 3 || names["a-1"] != "Al" || names["b-2"] != "Bea" {
		t.Fatalf("PeopleNames = %v, %v", names, err)
	}
}

// TestStore_SiteDataSync: the site data tables push, settle, pull, count and
// quarantine like the v1 tables.
func TestStore_SiteDataSync(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	line := mustPut(t, s, protocol.TableLines, map[string]any{"code": "L1", "name": "One", "active": 1, "updated_by": "mgr-1"})
	person := mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "op-1", "display_name": "Olga", "role": "operator", "active": 1})
	settings := mustPut(t, s, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "Day=06:00,Night=18:00"})
	if n, err := s.PendingCount(ctx); err != nil || n != 3 {
		t.Fatalf("PendingCount = %d, %v", n, err)
	}
	if err := s.SetDeviceID(ctx, "3b241101-e2bb-4255-8caf-4136c566a962"); err != nil {
		t.Fatal(err)
	}

	b, req := pushAll(t, s)
	if len(req.Changes) != 3 {
		t.Fatalf("batch = %+v", req)
	}
	byTable := map[string]protocol.Change{}
	for _, c := range req.Changes {
		byTable[c.Table] = c
		if !strings.HasSuffix(c.HLC, "-3b241101-e2bb-4255-8caf-4136c566a962") || c.BaseVersion != 0 || c.Op != protocol.OpUpsert {
			t.Fatalf("change %+v", c)
		}
	}
	lc := byTable[protocol.TableLines]
	row, err := protocol.DecodeRow(lc.Row)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := siteTable(protocol.TableLines)
	if _, err := tb.Validate(lc.ID, row, protocol.Complete); err != nil || lc.ID != line.ID() || row["updated_by"] != "mgr-1" {
		t.Fatalf("pushed line %s %v: %v", lc.ID, row, err)
	}
	if st, _ := s.RowState(ctx, protocol.TableLines, line.ID()); st != StateInFlight {
		t.Fatalf("line state %s", st)
	}
	resp := protocol.PushResponse{BatchID: b.ID, ServerTime: 999, Results: make([]protocol.PushResult, len(req.Changes))}
	for i, c := range req.Changes {
		resp.Results[i] = protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusApplied, Version: v(int64(10 + i))}
		if c.Table == protocol.TablePeople {
			resp.Results[i] = protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusRejected, Error: "forbidden: only manager devices write people"}
		}
	}
	out, err := s.ApplyPushResults(ctx, b.ID, resp)
	if err != nil || out.Applied != 2 || out.Rejected != 1 {
		t.Fatalf("ApplyPushResults = %+v, %v", out, err)
	}
	rows, _ := s.SiteRows(ctx, protocol.TableLines)
	if len(rows) != 1 || rows[0].Pending || rows[0].SyncState != StateClean || rows[0].Version < 10 {
		t.Fatalf("settled line %+v", rows)
	}
	if r, _ := s.SiteRow(ctx, protocol.TableSiteSettings, settings.ID()); r.Pending {
		t.Fatalf("settled settings %+v", r)
	}
	if r, _ := s.SiteRow(ctx, protocol.TablePeople, person.ID()); r.SyncState != StateRejected {
		t.Fatalf("rejected person %+v", r)
	}
	q, err := s.Quarantine(ctx)
	if err != nil || len(q) != 1 || q[0].Table != protocol.TablePeople || q[0].ID != person.ID() || !strings.HasPrefix(q[0].Reason, "forbidden:") {
		t.Fatalf("Quarantine = %+v, %v", q, err)
	}
	if c, err := s.SyncCounts(ctx); err != nil || c.Rejected != 1 || c.Pending != 0 {
		t.Fatalf("SyncCounts = %+v, %v", c, err)
	}
	if err := s.Discard(ctx, protocol.TablePeople, person.ID(), nil); err != nil {
		t.Fatal(err)
	}

	// Pull: new rows of the site tables are written clean, columns this
	// build does not know are ignored, and so are unknown tables.
	l2 := protocol.KeyID(protocol.TableLines, "L2")
	p2 := protocol.KeyID(protocol.TablePeople, "mgr-9")
	page := protocol.PullResponse{Cursor: 40, Changes: []protocol.PullChange{
		{Table: protocol.TableLines, ID: l2, Version: 21, HLC: "001700000000500-00000-other", Row: protocol.Row{
			"id": l2, "code": "L2", "name": "Two", "area": nil, "active": json.Number("0"), "updated_by": "mgr-9",
			"created_at": json.Number("1700000000100"), "updated_at": json.Number("1700000000200"), "deleted_at": nil,
			"server_updated_at": json.Number("1700000000300"), "colour": "blue"}},
		{Table: protocol.TablePeople, ID: p2, Version: 22, HLC: "001700000000501-00000-other", Row: protocol.Row{
			"id": p2, "badge_id": "mgr-9", "display_name": "Mia", "role": "manager", "active": json.Number("1"), "pin_hash": testPINHash,
			"created_at": json.Number("1700000000100"), "updated_at": json.Number("1700000000200"), "deleted_at": nil, "shoe_size": json.Number("42")}},
		{Table: protocol.TableSiteSettings, ID: settings.ID(), Version: 23, HLC: "001700000000502-00000-other", Row: protocol.Row{
			"id": settings.ID(), "time_zone": "Europe/Paris", "shifts": "Day=07:00", "clock_skew_ms": json.Number("60000"),
			"idle_signout_s": nil, "pin_roles": "manager", "updated_by": "mgr-9",
			"created_at": json.Number("1700000000100"), "updated_at": json.Number("1700000000200"), "deleted_at": nil}},
		{Table: "widgets", ID: uuid.NewString(), Version: 24, HLC: "001700000000503-00000-other", Row: protocol.Row{"x": "y"}},
	}}
	po, err := s.ApplyPullPage(ctx, page)
	if err != nil || po.Written != 3 || po.Ignored != 1 {
		t.Fatalf("ApplyPullPage = %+v, %v", po, err)
	}
	r2, err := s.SiteRow(ctx, protocol.TableLines, l2)
	if err != nil || r2.Pending || r2.Version != 21 || r2.Active() || r2.Text("updated_by") != "mgr-9" || r2.Fields["server_updated_at"] != int64(1700000000300) {
		t.Fatalf("pulled line %+v, %v", r2, err)
	}
	if _, ok := r2.Fields["colour"]; ok {
		t.Fatal("an unknown column was kept")
	}
	if p, err := s.PersonByBadge(ctx, "mgr-9"); err != nil || p.Text("display_name") != "Mia" || p.Pending {
		t.Fatalf("pulled person %+v, %v", p, err)
	}
	if st, err := s.SiteRow(ctx, protocol.TableSiteSettings, settings.ID()); err != nil || st.Text("time_zone") != "Europe/Paris" ||
		st.Fields["clock_skew_ms"] != int64(60000) || st.Fields["idle_signout_s"] != nil {
		t.Fatalf("pulled settings %+v, %v", st, err)
	}
	if n, _ := s.PendingCount(ctx); n != 0 {
		t.Fatalf("pending after pull = %d", n)
	}
	// A local edit of a pulled row is pushed on its version.
	mustPut(t, s, protocol.TableLines, map[string]any{"code": "L2", "active": true})
	_, req = pushAll(t, s)
	if len(req.Changes) != 1 || req.Changes[0].ID != l2 || req.Changes[0].BaseVersion != 21 {
		t.Fatalf("edit of a pulled line: %+v", req)
	}
	info, err := s.Info(ctx)
	if err != nil || len(info.Tables) != len(syncTables) || info.Pending != 1 {
		t.Fatalf("Info = %+v, %v", info, err)
	}
}

func TestStore_RecordCodeChecks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	rec := func(line, product string) RecordInput {
		return RecordInput{LineID: line, ProductID: product, Quantity: 1, OperatorID: "op-1"}
	}
	// A site without lines or products checks nothing.
	old, err := s.CreateRecord(ctx, rec("L9", "P9"))
	if err != nil {
		t.Fatalf("no master data: %v", err)
	}
	mustPut(t, s, protocol.TableLines, map[string]any{"code": "L1", "name": "One", "active": 1})
	mustPut(t, s, protocol.TableLines, map[string]any{"code": "L2", "name": "Two", "active": 0})
	mustPut(t, s, protocol.TableLines, map[string]any{"code": "L3", "name": "Three", "active": 1, "deleted_at": int64(5)})
	// Lines only: products are not checked yet.
	if _, err := s.CreateRecord(ctx, rec("L1", "anything")); err != nil {
		t.Fatalf("lines only: %v", err)
	}
	mustPut(t, s, protocol.TableProducts, map[string]any{"code": "P1", "name": "Widget", "active": 1})
	mustPut(t, s, protocol.TableProducts, map[string]any{"code": "P2", "name": "Gadget", "active": 0})

	tests := []struct {
		name      string
		in        RecordInput
		code, col string // "" = accepted
		msg       string
	}{
		{"active line and product", rec("L1", "P1"), "", "", ""},
		{"unknown line", rec("L9", "P1"), CodeUnknownCode, "line_id", `Line "L9" is not in this site's list of lines.`},
		{"inactive line", rec("L2", "P1"), CodeInactiveCode, "line_id", `Line "L2" is no longer active.`},
		{"deleted line", rec("L3", "P1"), CodeUnknownCode, "line_id", `Line "L3" is not in this site's list of lines.`},
		{"line code is case sensitive", rec("l1", "P1"), CodeUnknownCode, "line_id", ""},
		{"unknown product", rec("L1", "P9"), CodeUnknownCode, "product_id", `Product "P9" is not in this site's list of products.`},
		{"inactive product", rec("L1", "P2"), CodeInactiveCode, "product_id", `Product "P2" is no longer active.`},
		{"format errors come first", rec("", "P2"), protocol.CodeMissingValue, "line_id", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := dumpAll(t, s)
			r, err := s.CreateRecord(ctx, tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("CreateRecord = %v", err)
				}
				return
			}
			ve, ok := protocol.AsValidation(err)
			if !ok || ve.Code != tc.code || ve.Column != tc.col || (tc.msg != "" && ve.Message != tc.msg) {
				t.Fatalf("CreateRecord = %+v, %v; want %s on %s", r, err, tc.code, tc.col)
			}
			// The screen says it in the person's language from the params.
			if tc.code == CodeUnknownCode || tc.code == CodeInactiveCode {
				value := tc.in.LineID
				if tc.col == "product_id" {
					value = tc.in.ProductID
				}
				if want := map[string]any{"field": tc.col, "value": value}; !reflect.DeepEqual(ve.Params, want) {
					t.Fatalf("params %#v, want %#v", ve.Params, want)
				}
			}
			if !equalDumps(before, dumpAll(t, s)) {
				t.Fatal("a refused record changed the store")
			}
			// A batch with one bad record writes none.
			if _, err := s.CreateRecords(ctx, []RecordInput{rec("L1", "P1"), tc.in}); err == nil || !equalDumps(before, dumpAll(t, s)) {
				t.Fatalf("CreateRecords with a bad record = %v", err)
			}
		})
	}

	// Updates check the codes they change.
	good, err := s.CreateRecord(ctx, rec("L1", "P1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, good.ID, rec("L2", "P1")); !isCode(err, CodeInactiveCode) {
		t.Fatalf("update to an inactive line = %v", err)
	}
	if _, err := s.UpdateRecord(ctx, good.ID, rec("L1", "P7")); !isCode(err, CodeUnknownCode) {
		t.Fatalf("update to an unknown product = %v", err)
	}
	if got, _ := s.GetRecord(ctx, good.ID); got != good {
		t.Fatalf("refused updates changed the record: %+v", got)
	}
	// A record made before the lists existed can still be corrected.
	in := rec("L9", "P9")
	in.Quantity = 3
	if r, err := s.UpdateRecord(ctx, old.ID, in); err != nil || r.Quantity != 3 {
		t.Fatalf("correcting an old record = %+v, %v", r, err)
	}
	// Deactivating or adding codes applies at once.
	mustPut(t, s, protocol.TableLines, map[string]any{"code": "L2", "active": 1})
	if _, err := s.UpdateRecord(ctx, good.ID, rec("L2", "P1")); err != nil {
		t.Fatalf("line activated: %v", err)
	}
}

func isCode(err error, code string) bool {
	ve, ok := protocol.AsValidation(err)
	return ok && ve.Code == code
}

func TestStore_SigninLockout(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/outpost.db"
	s := openTest(t, Options{Path: path})
	const base, maxLock = 5 * time.Minute, time.Hour
	now := int64(1_700_000_000_000)
	fail := func(badge string) Attempts {
		t.Helper()
		a, err := s.RecordSigninFailure(ctx, badge, now, 5, base, maxLock)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a, err := s.SigninAttempts(ctx, "op-1"); err != nil || a != (Attempts{}) {
		t.Fatalf("fresh = %+v, %v", a, err)
	}
	// Each run of 5 failures locks for twice as long, capped at an hour.
	for i, want := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour} {
		for k := 1; k <= 4; k++ {
			if a := fail("op-1"); a.Failures != k || a.Locks != i {
				t.Fatalf("lock %d, failure %d: %+v", i, k, a)
			}
		}
		a := fail("op-1")
		if a.Failures != 0 || a.Locks != i+1 || a.LockedUntil != now+want.Milliseconds() || !a.Locked(now) || a.Locked(a.LockedUntil) || a.LastFailure != now {
			t.Fatalf("lock %d = %+v, want %v", i+1, a, want)
		}
		now = a.LockedUntil + 1
	}
	// Badges are counted apart, and the state survives a restart.
	if a := fail("op-2"); a.Failures != 1 || a.Locks != 0 {
		t.Fatalf("other badge %+v", a)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: path})
	if a, err := s.SigninAttempts(ctx, "op-1"); err != nil || a.Locks != 6 {
		t.Fatalf("after restart = %+v, %v", a, err)
	}
	if err := s.ClearSigninFailures(ctx, "op-1"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.SigninAttempts(ctx, "op-1"); a != (Attempts{}) {
		t.Fatalf("after clear = %+v", a)
	}
	if a, _ := s.SigninAttempts(ctx, "op-2"); a.Failures != 1 {
		t.Fatalf("clear touched another badge: %+v", a)
	}
	put := Attempts{Failures: 2, Locks: 1, LockedUntil: 99, LastFailure: 98}
	if err := s.PutSigninAttempts(ctx, "op-3", put); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.SigninAttempts(ctx, "op-3"); a != put {
		t.Fatalf("put = %+v", a)
	}
	// Bad arguments change nothing.
	for _, tc := range []struct {
		badge   string
		max     int
		b, m    time.Duration
		wantErr bool
	}{
		{"", 5, base, maxLock, true},
		{strings.Repeat("x", 129), 5, base, maxLock, true},
		{"op-4", 0, base, maxLock, true},
		{"op-4", 5, 0, maxLock, true},
		{"op-4", 5, base, time.Minute, true},
		{"op-4", 1, base, maxLock, false},
	} {
		a, err := s.RecordSigninFailure(ctx, tc.badge, now, tc.max, tc.b, tc.m)
		if (err != nil) != tc.wantErr {
			t.Errorf("RecordSigninFailure(%q, %d, %v, %v) = %+v, %v", tc.badge, tc.max, tc.b, tc.m, a, err)
		}
	}
	if a, _ := s.SigninAttempts(ctx, "op-4"); a.Locks != 1 {
		t.Fatalf("op-4 = %+v (only the valid call counts)", a)
	}
}

func TestStore_LineConfigUpdatedBy(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R-1", UpdatedBy: p("mgr-1")})
	if err != nil || c.UpdatedBy == nil || *c.UpdatedBy != "mgr-1" {
		t.Fatalf("created %+v, %v", c, err)
	}
	if got, _ := s.GetLineConfig(ctx, c.ID); got.UpdatedBy == nil || *got.UpdatedBy != "mgr-1" {
		t.Fatalf("read back %+v", got)
	}
	// Only updated_by differs: not a people's field, nothing to sync.
	same, err := s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L1", Recipe: "R-1", UpdatedBy: p("mgr-2")})
	if err != nil || same.HLC != c.HLC || *same.UpdatedBy != "mgr-1" {
		t.Fatalf("no-op update %+v, %v", same, err)
	}
	up, err := s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L1", Recipe: "R-2", UpdatedBy: p("mgr-2")})
	if err != nil || *up.UpdatedBy != "mgr-2" || up.HLC == c.HLC {
		t.Fatalf("update %+v, %v", up, err)
	}
	_, req := pushAll(t, s)
	row, err := protocol.DecodeRow(req.Changes[0].Row)
	if err != nil || row["updated_by"] != "mgr-2" {
		t.Fatalf("pushed %v, %v", row, err)
	}
	if _, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R", UpdatedBy: p(strings.Repeat("x", 129))}); !isCode(err, protocol.CodeTooLong) {
		t.Fatalf("long updated_by = %v", err)
	}
	// Cleared by nil.
	cl, err := s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L1", Recipe: "R-3"})
	if err != nil || cl.UpdatedBy != nil {
		t.Fatalf("cleared %+v, %v", cl, err)
	}
}

// TestStore_PersonLanguage: a person's language (issue 21, migration 0010)
// is kept, changed and cleared like any nullable site data column; a
// language Outpost does not speak is refused with the options.
func TestStore_PersonLanguage(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	p := mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "op-1", "display_name": "Zofia", "role": "operator", "active": 1, "language": "pl"})
	if p.Fields["language"] != "pl" {
		t.Fatalf("created %v", p.Fields)
	}
	if p = mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "op-1", "display_name": "Zofia K."}); p.Fields["language"] != "pl" {
		t.Fatalf("a put without language changed it: %v", p.Fields)
	}
	if p = mustPut(t, s, protocol.TablePeople, map[string]any{"badge_id": "op-1", "language": nil}); p.Fields["language"] != nil {
		t.Fatalf("cleared %v", p.Fields)
	}
	_, err := s.PutSiteRow(ctx, protocol.TablePeople, map[string]any{"badge_id": "op-1", "language": "ja"})
	ve, ok := protocol.AsValidation(err)
	if !ok || ve.Code != protocol.CodeInvalidValue || ve.Column != "language" || ve.Params["rule"] != "one_of" ||
		ve.Params["options"] != "en, de, fr, es, pt-BR, pl, zh-CN" {
		t.Fatalf("unknown language: %v (%+v)", err, ve)
	}
	rows, err := s.SiteRows(ctx, protocol.TablePeople)
	if err != nil || len(rows) != 1 || rows[0].Fields["language"] != nil {
		t.Fatalf("rows %v, %v", rows, err)
	}
}
