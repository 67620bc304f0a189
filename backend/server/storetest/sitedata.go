package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// RunSiteData runs the site data scenarios (issue 10) through the sync
// engine over a store: manager-only writes, resolutions naming a person,
// and the CSV import — all or nothing, in one transaction. open must return
// a new empty store; RunSiteData closes it.
func RunSiteData(t *testing.T, open func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *server.Engine)
	}{
		{"ManagerOnlyPush", testManagerOnlyPush},
		{"ManagerMergeAndConflict", testManagerMerge},
		{"ResolveNamesPerson", testResolvePerson},
		{"DeciderEditBeforeDecision", testDeciderEditBeforeDecision},
		{"ImportEachTable", testImportEachTable},
		{"ImportHostileAllOrNothing", testImportAllOrNothing},
		{"ImportKeepsOmittedColumns", testImportOmitted},
		{"ImportThenDeviceEdit", testImportThenDeviceEdit},
		{"ImportRetriesWhenRowsMove", testImportRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			tc.fn(t, newEngine(st))
		})
	}
}

func newEngine(st server.Store) *server.Engine {
	return &server.Engine{Store: st, Registry: protocol.NewRegistry(), MaxSkew: 5 * time.Minute, Now: time.Now}
}

const site = "Plant 1"

var hlcCounter atomic.Int64

// dev is a device of site (the engine needs no enrollment).
func dev(role string) server.Device {
	return server.Device{ID: uuid.NewString(), SiteID: site, Role: role}
}

func stamp(d server.Device) string {
	return hlc.Timestamp{Wall: time.Now().UnixMilli(), Counter: int(hlcCounter.Add(1) % 100000), Node: d.ID}.String()
}

type chg struct {
	Table       string         `json:"table"`
	ID          string         `json:"id"`
	Op          string         `json:"op"`
	BaseVersion int64          `json:"base_version"`
	HLC         string         `json:"hlc"`
	Row         map[string]any `json:"row,omitempty"`
}

func upsert(d server.Device, table string, base int64, row map[string]any) chg {
	return chg{Table: table, ID: row["id"].(string), Op: protocol.OpUpsert, BaseVersion: base, HLC: stamp(d), Row: row}
}

// push runs one batch and returns its results.
func push(t *testing.T, e *server.Engine, d server.Device, cs ...chg) []protocol.PushResult {
	t.Helper()
	b := server.PushBatch{BatchID: uuid.NewString()}
	for _, c := range cs {
		raw, err := json.Marshal(c)
		must(t, err)
		b.Changes = append(b.Changes, raw)
	}
	body, _, err := e.Push(context.Background(), d, b)
	must(t, err)
	var resp protocol.PushResponse
	must(t, json.Unmarshal(body, &resp))
	if len(resp.Results) != len(cs) {
		t.Fatalf("%d results for %d changes", len(resp.Results), len(cs))
	}
	return resp.Results
}

// Rows of the four site data tables, as a device would push them.
func lineRow(code string, over ...any) map[string]any {
	now := time.Now().UnixMilli()
	return with(map[string]any{"id": protocol.KeyID(protocol.TableLines, code), "code": code, "name": "Line " + code,
		"area": "Hall A", "active": 1, "updated_by": "B-1", "created_at": now, "updated_at": now}, over...)
}

func productRow(code string) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": protocol.KeyID(protocol.TableProducts, code), "code": code, "name": "Product " + code,
		"unit": "kg", "active": 1, "created_at": now, "updated_at": now}
}

func personRow(badge string) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": protocol.KeyID(protocol.TablePeople, badge), "badge_id": badge, "display_name": "Ann",
		"role": "operator", "active": 1, "created_at": now, "updated_at": now}
}

func settingsRow() map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": protocol.SiteSettingsID(), "time_zone": "Europe/Berlin", "shifts": "Early=06:00,Late=14:00",
		"created_at": now, "updated_at": now}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// current returns the site's current rows by "table/id".
func current(t *testing.T, st server.Store) map[string]server.StoredRow {
	t.Helper()
	rows, err := st.Changes(context.Background(), site, 0, 100000)
	must(t, err)
	out := map[string]server.StoredRow{}
	for _, r := range rows {
		out[r.Table+"/"+r.ID] = r
	}
	return out
}

func rowData(t *testing.T, r server.StoredRow) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.UseNumber()
	must(t, dec.Decode(&m))
	return m
}

func seq(t *testing.T, st server.Store) int64 {
	t.Helper()
	s, err := st.SiteState(context.Background(), site)
	must(t, err)
	return s.Seq
}

func testManagerOnlyPush(t *testing.T, e *server.Engine) {
	op, mgr := dev(protocol.RoleOperator), dev(protocol.RoleManager)
	recID := uuid.NewString()
	now := time.Now().UnixMilli()
	record := map[string]any{"id": recID, "line_id": "L1", "product_id": "P1", "quantity": 3, "operator_id": "B-7", "created_at": now, "updated_at": now}
	changes := []chg{
		upsert(op, protocol.TableLines, 0, lineRow("L1")),
		upsert(op, protocol.TableProducts, 0, productRow("P1")),
		upsert(op, protocol.TablePeople, 0, personRow("B-7")),
		upsert(op, protocol.TableSiteSettings, 0, settingsRow()),
	}
	del := chg{Table: protocol.TableLines, ID: protocol.KeyID(protocol.TableLines, "L1"), Op: protocol.OpDelete, HLC: stamp(op)}
	// A mixed batch: the operator's record applies, every site data change
	// is refused, a delete too.
	refused := append(changes[:len(changes):len(changes)], del)
	res := push(t, e, op, append([]chg{upsert(op, protocol.TableProductionRecords, 0, record)}, refused...)...)
	if res[0].Status != protocol.StatusApplied {
		t.Fatalf("the record in a mixed batch: %+v", res[0])
	}
	for i, r := range res[1:] {
		table := refused[i].Table
		want := "forbidden: only manager devices may change site data (" + table + ")"
		if r.Status != protocol.StatusRejected || r.Error != want || r.Version != nil {
			t.Errorf("operator's %s change: %+v, want rejected %q", table, r, want)
		}
	}
	cur := current(t, e.Store)
	if len(cur) != 1 || cur["production_records/"+recID].Version == 0 {
		t.Fatalf("after the operator's batch the site holds %v, want the record only", cur)
	}

	// The manager writes them all.
	for _, c := range changes {
		c.HLC = stamp(mgr)
		if r := push(t, e, mgr, c)[0]; r.Status != protocol.StatusApplied {
			t.Errorf("manager's %s change: %+v", c.Table, r)
		}
	}
	if n := len(current(t, e.Store)); n != 5 {
		t.Fatalf("after the manager's pushes the site holds %d rows, want 5", n)
	}
}

func testManagerMerge(t *testing.T, e *server.Engine) {
	a, b := dev(protocol.RoleManager), dev(protocol.RoleManager)
	base := lineRow("L1", "updated_at", 1000)
	v := *push(t, e, a, upsert(a, protocol.TableLines, 0, base))[0].Version
	// Disjoint edits merge; updated_by follows the later updated_at.
	r1 := push(t, e, a, upsert(a, protocol.TableLines, v, with(base, "name", "Renamed", "updated_by", "B-ann", "updated_at", 3000)))[0]
	r2 := push(t, e, b, upsert(b, protocol.TableLines, v, with(base, "area", "Hall B", "updated_by", "B-bob", "updated_at", 2000)))[0]
	if r1.Status != protocol.StatusApplied || r2.Status != protocol.StatusMerged {
		t.Fatalf("disjoint edits: %+v, %+v", r1, r2)
	}
	if r2.Row["name"] != "Renamed" || r2.Row["area"] != "Hall B" || r2.Row["updated_by"] != "B-ann" || fmt.Sprint(r2.Row["updated_at"]) != "3000" {
		t.Errorf("merged row %v: want both edits, updated_by of the later edit (B-ann)", r2.Row)
	}
	// The same field changed differently: a manual conflict.
	v = *r2.Version
	push(t, e, a, upsert(a, protocol.TableLines, v, with(r2.Row, "name", "A's name", "updated_at", 4000)))
	r3 := push(t, e, b, upsert(b, protocol.TableLines, v, with(r2.Row, "name", "B's name", "updated_at", 5000)))[0]
	if r3.Status != protocol.StatusConflict || r3.ConflictID == "" {
		t.Fatalf("same field: %+v, want conflict", r3)
	}
	// Two managers adding the same code write the same row: a conflict,
	// never two rows.
	p1 := push(t, e, a, upsert(a, protocol.TableProducts, 0, with(productRow("P9"), "name", "Bolt")))[0]
	p2 := push(t, e, b, upsert(b, protocol.TableProducts, 0, with(productRow("P9"), "name", "Nut")))[0]
	if p1.Status != protocol.StatusApplied || p2.Status != protocol.StatusConflict || p1.ID != p2.ID {
		t.Fatalf("same code twice: %+v, %+v", p1, p2)
	}
}

// openLineConflict makes an open conflict on a line between two managers
// and returns its id and the row's version.
func openLineConflict(t *testing.T, e *server.Engine, a, b server.Device, code string) (string, int64) {
	t.Helper()
	base := lineRow(code)
	v := *push(t, e, a, upsert(a, protocol.TableLines, 0, base))[0].Version
	v2 := *push(t, e, a, upsert(a, protocol.TableLines, v, with(base, "name", "A")))[0].Version
	r := push(t, e, b, upsert(b, protocol.TableLines, v, with(base, "name", "B")))[0]
	if r.Status != protocol.StatusConflict {
		t.Fatalf("setup: %+v", r)
	}
	return r.ConflictID, v2
}

func testResolvePerson(t *testing.T, e *server.Engine) {
	ctx := context.Background()
	a, b := dev(protocol.RoleManager), dev(protocol.RoleManager)
	resolve := func(cid string, code string, person, name *string) {
		t.Helper()
		req := server.ResolveRequest{Row: lineRow(code, "name", "Decided"), HLC: stamp(a), PersonID: person, PersonName: name}
		chosen, err := e.ValidateResolve(ctx, a, cid, req)
		must(t, err)
		_, _, err = e.Resolve(ctx, a, cid, req, chosen)
		must(t, err)
	}
	record := func(cid string) map[string]any {
		return rowData(t, current(t, e.Store)[protocol.TableConflicts+"/"+cid])
	}
	cid, _ := openLineConflict(t, e, a, b, "L1")
	if rec := record(cid); rec["resolved_by_person"] != nil || rec["resolved_by_name"] != nil {
		t.Errorf("open record names a person: %v", rec)
	}
	badge, name := "B-42", `Zoë "the boss" <b>O'Neil</b> =1+1`
	resolve(cid, "L1", &badge, &name)
	rec := record(cid)
	if rec["status"] != protocol.ConflictResolved || rec["resolved_by"] != a.ID || rec["resolved_by_person"] != badge || rec["resolved_by_name"] != name {
		t.Errorf("resolved record %v: want resolved_by the device, the person's badge and name verbatim", rec)
	}

	cid2, _ := openLineConflict(t, e, a, b, "L2")
	resolve(cid2, "L2", nil, nil)
	rec = record(cid2)
	for _, k := range []string{"resolved_by_person", "resolved_by_name"} {
		if v, ok := rec[k]; !ok || v != nil {
			t.Errorf("a resolution naming nobody: %s = %v (present %v), want null", k, v, ok)
		}
	}
}

// importCSV parses and imports one file.
func importCSV(t *testing.T, e *server.Engine, table, csv string, opt ...server.ImportOptions) (server.ImportResult, error) {
	t.Helper()
	rows, problems, err := server.ParseSiteCSV(e.Registry, table, strings.NewReader(csv))
	must(t, err)
	if len(problems) > 0 {
		return server.ImportResult{}, &server.ImportError{Problems: problems}
	}
	var o server.ImportOptions
	if len(opt) > 0 {
		o = opt[0]
	}
	return e.ImportSiteRows(context.Background(), site, table, rows, o)
}

func mustImport(t *testing.T, e *server.Engine, table, csv string, imported, unchanged int) server.ImportResult {
	t.Helper()
	res, err := importCSV(t, e, table, csv)
	if err != nil {
		t.Fatalf("import %s: %v", table, err)
	}
	if res.Imported != imported || res.Unchanged != unchanged {
		t.Fatalf("import %s: %d imported, %d unchanged; want %d, %d", table, res.Imported, res.Unchanged, imported, unchanged)
	}
	return res
}

// keyed returns the current data of table's row with key k.
func keyed(t *testing.T, st server.Store, table, k string) (map[string]any, server.StoredRow) {
	t.Helper()
	id := protocol.KeyID(table, k)
	if table == protocol.TableSiteSettings {
		id = protocol.SiteSettingsID()
	}
	r, ok := current(t, st)[table+"/"+id]
	if !ok {
		t.Fatalf("%s %q was not written", table, k)
	}
	return rowData(t, r), r
}

func testImportEachTable(t *testing.T, e *server.Engine) {
	files := []struct {
		table, csv string
		rows       int
	}{
		{protocol.TableLines, "\ufeffcode,name,area,active\r\nL1,Line one,Hall A,1\r\nL2,Line two,,no\r\n", 2},
		{protocol.TableProducts, "Name,CODE,unit\nBolt M8,P-100,pcs\nGlue,P-200,\n", 2},
		{protocol.TablePeople, "badge_id,display_name,role,active,pin\nB-1,Ann Manager,manager,yes,123456\nB-2,Bob,operator,true,\n", 2},
		{protocol.TableSiteSettings, "time_zone,shifts,clock_skew_ms,idle_signout_s,pin_roles\nEurope/Berlin,\"Early=06:00,Late=14:00,Night=22:00\",60000,300,\"supervisor,manager\"\n", 1},
	}
	for _, f := range files {
		before := seq(t, e.Store)
		res := mustImport(t, e, f.table, f.csv, f.rows, 0)
		if res.Seq != before+int64(f.rows) {
			t.Errorf("%s: seq %d after the import, want %d", f.table, res.Seq, before+int64(f.rows))
		}
	}
	l1, stored := keyed(t, e.Store, protocol.TableLines, "L1")
	if l1["name"] != "Line one" || l1["area"] != "Hall A" || l1["active"] != json.Number("1") || l1["updated_by"] != server.ImportUpdatedBy || l1["deleted_at"] != nil {
		t.Errorf("line L1 %v", l1)
	}
	if h, err := hlc.Parse(stored.HLC); err != nil || h.Node != server.AdminDeviceID || stored.DeviceID != server.AdminDeviceID {
		t.Errorf("imported row: hlc %q device %q, want the admin's", stored.HLC, stored.DeviceID)
	}
	if l2, _ := keyed(t, e.Store, protocol.TableLines, "L2"); l2["area"] != nil || l2["active"] != json.Number("0") {
		t.Errorf("line L2 %v: want area null, inactive", l2)
	}
	if p, _ := keyed(t, e.Store, protocol.TableProducts, "P-200"); p["unit"] != nil || p["active"] != json.Number("1") || p["name"] != "Glue" {
		t.Errorf("product P-200 %v: want unit null, active by default", p)
	}
	ann, annRow := keyed(t, e.Store, protocol.TablePeople, "B-1")
	hash, _ := ann["pin_hash"].(string)
	if err := pin.Verify("123456", hash); err != nil || ann["role"] != "manager" {
		t.Fatalf("person B-1 %v: the PIN does not verify (%v)", ann, err)
	}
	if bytes.Contains(annRow.Data, []byte("123456")) {
		t.Fatal("the PIN in clear reached the stored row")
	}
	if bob, _ := keyed(t, e.Store, protocol.TablePeople, "B-2"); bob["pin_hash"] != nil {
		t.Errorf("person B-2 has pin_hash %v, want null", bob["pin_hash"])
	}
	if s, _ := keyed(t, e.Store, protocol.TableSiteSettings, ""); s["time_zone"] != "Europe/Berlin" || s["pin_roles"] != "supervisor,manager" || s["idle_signout_s"] != json.Number("300") {
		t.Errorf("site settings %v", s)
	}

	// The same files again: all unchanged (the PIN verifies against the
	// stored hash, so it is not re-hashed), nothing written.
	before := seq(t, e.Store)
	for _, f := range files {
		if res := mustImport(t, e, f.table, f.csv, 0, f.rows); res.Seq != 0 {
			t.Errorf("%s re-import reports seq %d", f.table, res.Seq)
		}
	}
	if after := seq(t, e.Store); after != before {
		t.Fatalf("an unchanged re-import moved the site's sequence %d → %d", before, after)
	}
	if again, _ := keyed(t, e.Store, protocol.TablePeople, "B-1"); again["pin_hash"] != hash {
		t.Error("an unchanged PIN was re-hashed")
	}

	// A change: a new PIN, a renamed line. created_at stays.
	mustImport(t, e, protocol.TablePeople, "badge_id,pin\nB-1,9999\n", 1, 0)
	ann2, _ := keyed(t, e.Store, protocol.TablePeople, "B-1")
	if pin.Verify("9999", ann2["pin_hash"].(string)) != nil || ann2["display_name"] != "Ann Manager" {
		t.Errorf("after a new PIN: %v", ann2)
	}
	mustImport(t, e, protocol.TableLines, "code,name\nL1,Line one (new)\nL2,Line two\n", 1, 1)
	l1b, _ := keyed(t, e.Store, protocol.TableLines, "L1")
	if l1b["created_at"] != l1["created_at"] || l1b["name"] != "Line one (new)" || l1b["area"] != "Hall A" {
		t.Errorf("re-imported line %v (was %v): want created_at kept, area kept", l1b, l1)
	}

	// A dry run validates and counts, and writes nothing.
	before = seq(t, e.Store)
	res, err := importCSV(t, e, protocol.TableLines, "code,name\nL1,Dry\nL3,New\n", server.ImportOptions{DryRun: true})
	if err != nil || res.Imported != 2 || res.Seq != 0 || seq(t, e.Store) != before {
		t.Errorf("dry run: %+v %v", res, err)
	}
}

func testImportAllOrNothing(t *testing.T, e *server.Engine) {
	hostile := []string{
		`'; DROP TABLE rows;--`,
		`=HYPERLINK("http://evil","click")`,
		`<script>alert(1)</script>`,
		"a \"quoted\", comma\nand a line break",
		"\u202egnp.exe ☃ 𝄞 cafe\u0301",
		`+SUM(A1:A9)`,
	}
	var good strings.Builder
	good.WriteString("code,name,area\n")
	for i, h := range hostile {
		fmt.Fprintf(&good, "C%d,%s,%s\n", i, csvQuote(h), csvQuote(h))
	}
	// Bad rows after a multi-line field: line numbers count file lines.
	bad := good.String() + "C-bad,,x\n" + "C0,dup,\n" + "C-long," + strings.Repeat("n", 129) + ",\n"
	before := seq(t, e.Store)
	_, err := importCSV(t, e, protocol.TableLines, bad)
	var ie *server.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("bad file: %v, want an *ImportError", err)
	}
	var got []string
	for _, p := range ie.Problems {
		got = append(got, p.String())
	}
	want := []string{
		// C3's two fields span lines 5–7.
		"line 10: name: name is required and cannot be empty",
		`line 11: code: "C0" is also on line 2; each code appears once`,
		"line 12: name: name is 129 characters long; the limit is 128",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if after := seq(t, e.Store); after != before {
		t.Fatalf("a refused import moved the sequence %d → %d", before, after)
	}
	if n := len(current(t, e.Store)); n != 0 {
		t.Fatalf("a refused import wrote %d rows", n)
	}
	if sites, err := e.Store.Sites(context.Background()); err != nil || len(sites) != 0 {
		t.Fatalf("a refused import into a new site left sites %q (%v)", sites, err)
	}

	// A problem found only against the stored rows (a required column the
	// file leaves out, for a new row) refuses the whole file too.
	if _, err := importCSV(t, e, protocol.TableLines, "code,area\nC9,Hall\n"); !errors.As(err, &ie) ||
		len(ie.Problems) != 1 || ie.Problems[0].String() != "line 2: name: name is required" {
		t.Errorf("new row without a name: %v", err)
	}

	// The good rows alone import verbatim.
	mustImport(t, e, protocol.TableLines, good.String(), len(hostile), 0)
	for i, h := range hostile {
		row, _ := keyed(t, e.Store, protocol.TableLines, fmt.Sprintf("C%d", i))
		if row["name"] != h || row["area"] != h {
			t.Errorf("C%d stored %q / %q, want %q verbatim", i, row["name"], row["area"], h)
		}
	}
	// A PIN problem never repeats the PIN.
	_, err = importCSV(t, e, protocol.TablePeople, "badge_id,display_name,role,pin\nB-1,Ann,operator,12a45\n")
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Column != "pin" || strings.Contains(ie.Problems[0].String(), "12a45") {
		t.Errorf("bad PIN: %v", err)
	}
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func testImportOmitted(t *testing.T, e *server.Engine) {
	mgr := dev(protocol.RoleManager)
	push(t, e, mgr, upsert(mgr, protocol.TableLines, 0, lineRow("L1", "area", "Hall A", "active", 0)))
	// area and active left out: kept (active's default applies to new rows only).
	mustImport(t, e, protocol.TableLines, "code,name\nL1,Renamed\n", 1, 0)
	row, _ := keyed(t, e.Store, protocol.TableLines, "L1")
	if row["area"] != "Hall A" || row["active"] != json.Number("0") || row["name"] != "Renamed" {
		t.Errorf("omitted columns: %v", row)
	}
	// An empty cell of a nullable column clears it.
	mustImport(t, e, protocol.TableLines, "code,area\nL1,\n", 1, 0)
	if row, _ := keyed(t, e.Store, protocol.TableLines, "L1"); row["area"] != nil {
		t.Errorf("empty area: %v", row)
	}
	// A deleted row named by an import is live again.
	cur, stored := keyed(t, e.Store, protocol.TableLines, "L1")
	d := chg{Table: protocol.TableLines, ID: protocol.KeyID(protocol.TableLines, "L1"), Op: protocol.OpDelete, BaseVersion: stored.Version, HLC: stamp(mgr)}
	if r := push(t, e, mgr, d)[0]; r.Status != protocol.StatusApplied {
		t.Fatalf("delete: %+v", r)
	}
	mustImport(t, e, protocol.TableLines, "code\nL1\n", 1, 0)
	if row, r := keyed(t, e.Store, protocol.TableLines, "L1"); row["deleted_at"] != nil || r.Deleted || row["name"] != cur["name"] {
		t.Errorf("re-imported deleted row: %v", row)
	}
}

func testImportThenDeviceEdit(t *testing.T, e *server.Engine) {
	a := dev(protocol.RoleManager)
	base := lineRow("L1")
	v1 := *push(t, e, a, upsert(a, protocol.TableLines, 0, base))[0].Version
	mustImport(t, e, protocol.TableLines, "code,name\nL1,From import\n", 1, 0)
	// The device's edit on the version before the import is judged against
	// the import's write (another writer): disjoint → merged …
	r := push(t, e, a, upsert(a, protocol.TableLines, v1, with(base, "area", "Hall C")))[0]
	if r.Status != protocol.StatusMerged || r.Row["name"] != "From import" || r.Row["area"] != "Hall C" {
		t.Fatalf("edit after an import: %+v", r)
	}
	// … the same field → a conflict for a manager.
	r = push(t, e, a, upsert(a, protocol.TableLines, v1, with(base, "name", "Mine")))[0]
	if r.Status != protocol.StatusConflict {
		t.Fatalf("same field after an import: %+v", r)
	}
}

// racyStore lets a device write between an import's read and its write.
type racyStore struct {
	server.Store
	begins int
	during func()
}

func (s *racyStore) Begin(ctx context.Context, site string) (server.Tx, error) {
	s.begins++
	if s.begins == 2 && s.during != nil {
		s.during()
	}
	return s.Store.Begin(ctx, site)
}

func testImportRace(t *testing.T, e *server.Engine) {
	a := dev(protocol.RoleManager)
	base := lineRow("L1")
	v1 := *push(t, e, a, upsert(a, protocol.TableLines, 0, base))[0].Version
	rs := &racyStore{Store: e.Store}
	rs.during = func() {
		push(t, e, a, upsert(a, protocol.TableLines, v1, with(base, "area", "Moved meanwhile")))
	}
	e2 := newEngine(rs)
	res := mustImport(t, e2, protocol.TableLines, "code,name\nL1,Imported\n", 1, 0)
	if rs.begins != 4 {
		t.Errorf("%d transactions; want a read and a write twice (one retry)", rs.begins)
	}
	row, stored := keyed(t, e.Store, protocol.TableLines, "L1")
	if row["area"] != "Moved meanwhile" || row["name"] != "Imported" || stored.Version != res.Seq {
		t.Errorf("after a racing write: %v (version %d, import seq %d): the import must build on the device's write", row, stored.Version, res.Seq)
	}
}
