package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

func lineRow(code string, over map[string]any) map[string]any {
	m := map[string]any{
		"id": protocol.KeyID(protocol.TableLines, code), "code": code, "name": "Line " + code, "area": nil,
		"active": 1, "updated_by": "B-1", "created_at": 1700000000000, "updated_at": 1700000000001,
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// TestServer_SiteDataManagerOnly: over HTTP, an operator device's site data
// changes are rejected "forbidden" one by one, the rest of its batch applies;
// a manager's apply.
func TestServer_SiteDataManagerOnly(t *testing.T) {
	h := newHarness(t)
	op := h.enroll("S", "operator")
	mgr := h.enroll("S", "manager")
	line := lineRow("L1", nil)
	lid := line["id"].(string)
	rid := newID()
	res := h.push(op,
		change("lines", lid, "upsert", 0, op.hlc(0), line),
		change("production_records", rid, "upsert", 0, op.hlc(0), record(rid, nil)),
		change("lines", lid, "delete", 0, op.hlc(0), nil),
	).results()
	want := "forbidden: only manager devices may change site data (lines)"
	if res[0]["status"] != "rejected" || res[0]["error"] != want || res[0]["version"] != nil {
		t.Errorf("operator's line: %v", res[0])
	}
	if res[1]["status"] != "applied" {
		t.Errorf("operator's record beside it: %v", res[1])
	}
	if res[2]["status"] != "rejected" || res[2]["error"] != want {
		t.Errorf("operator's delete of a line: %v", res[2])
	}
	for _, c := range h.pullAll(op, 0) {
		if c["table"] == "lines" {
			t.Fatalf("a refused line reached the feed: %v", c)
		}
	}
	if r := h.push(mgr, change("lines", lid, "upsert", 0, mgr.hlc(0), line)).results()[0]; r["status"] != "applied" {
		t.Fatalf("manager's line: %v", r)
	}
}

// TestServer_ResolvePerson: person_id and person_name are optional, 1–128
// characters, checked with the body (after token, role, site, existence),
// and come back in the record as resolved_by_person / resolved_by_name.
func TestServer_ResolvePerson(t *testing.T) {
	h := newHarness(t)
	a, b := h.enroll("S", "manager"), h.enroll("S", "manager")
	op := h.enroll("S", "operator")
	openConflict := func(code string) (string, int64) {
		line := lineRow(code, nil)
		id := line["id"].(string)
		v := num(h.push(a, change("lines", id, "upsert", 0, a.hlc(0), line)).results()[0]["version"])
		v2 := num(h.push(a, change("lines", id, "upsert", v, a.hlc(0), lineRow(code, map[string]any{"name": "A"}))).results()[0]["version"])
		r := h.push(b, change("lines", id, "upsert", v, b.hlc(0), lineRow(code, map[string]any{"name": "B"}))).results()[0]
		if r["status"] != "conflict" {
			t.Fatalf("setup: %v", r)
		}
		return r["conflict_id"].(string), v2
	}
	cid, v := openConflict("L1")
	path := "/v1/conflicts/" + cid + "/resolve"
	body := func(over map[string]any) map[string]any {
		m := map[string]any{"row": lineRow("L1", map[string]any{"name": "Decided"}), "hlc": a.hlc(0), "base_version": v,
			"person_id": "B-42", "person_name": "Zoë O'Neil"}
		for k, x := range over {
			m[k] = x
		}
		return m
	}
	long := strings.Repeat("é", 129)
	for _, tc := range []struct {
		name   string
		dev    *device
		body   any
		status int
		code   string
	}{
		{"operator with a bad person", op, body(map[string]any{"person_id": ""}), 403, "forbidden"},
		{"empty person_id", a, body(map[string]any{"person_id": ""}), 422, "invalid_value"},
		{"empty person_name", a, body(map[string]any{"person_name": ""}), 422, "invalid_value"},
		{"person_id too long", a, body(map[string]any{"person_id": long}), 422, "too_long"},
		{"person_name too long", a, body(map[string]any{"person_name": long}), 422, "too_long"},
		{"person_name not text", a, body(map[string]any{"person_name": 5}), 400, "malformed"},
		{"128 characters", a, body(map[string]any{"person_name": long[2:]}), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", path, tc.dev.Token, tc.body)
			if r.status != tc.status || r.errCode() != tc.code {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
	records := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, c := range h.pullAll(op, 0) {
			if c["table"] == "sync_conflicts" {
				out[c["id"].(string)] = c["row"].(map[string]any)
			}
		}
		return out
	}
	rec := records()[cid]
	if rec["status"] != "resolved" || rec["resolved_by"] != a.ID || rec["resolved_by_person"] != "B-42" || rec["resolved_by_name"] != long[2:] {
		t.Fatalf("resolved record %v", rec)
	}

	// Left out, or null: the keys are there, null.
	for i, extra := range []map[string]any{{}, {"person_id": nil, "person_name": nil}} {
		cid, v := openConflict(fmt.Sprintf("L%d", i+2))
		m := map[string]any{"row": lineRow(fmt.Sprintf("L%d", i+2), nil), "hlc": a.hlc(0), "base_version": v}
		for k, x := range extra {
			m[k] = x
		}
		if r := h.do("POST", "/v1/conflicts/"+cid+"/resolve", a.Token, m); r.status != 200 {
			t.Fatalf("resolve without a person: %d %s", r.status, r.raw)
		}
		rec := records()[cid]
		for _, k := range []string{"resolved_by_person", "resolved_by_name"} {
			if x, ok := rec[k]; !ok || x != nil {
				t.Errorf("%v: %s = %v (present %v), want null", extra, k, x, ok)
			}
		}
	}
}

// TestServer_ImportWakesStreams: an import made by another process on the
// same SQLite file (the CLI) reaches the running server's event streams,
// and devices pull the imported rows.
func TestServer_ImportWakesStreams(t *testing.T) {
	h := newHarness(t, func(c *server.Config) { c.PollInterval = 50 * time.Millisecond })
	d := h.enroll("S", "operator")
	req, _ := http.NewRequest("GET", h.ts.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+d.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := newLineReader(resp.Body)
	if !lines.waitFor(t, ": connected", 2*time.Second) {
		t.Fatal("stream did not open")
	}

	cli, err := sqlitestore.Open(context.Background(), h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	reg := protocol.NewRegistry()
	rows, problems, err := server.ParseSiteCSV(reg, "lines", strings.NewReader("code,name\nL1,One\nL2,Two\n"))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	eng := &server.Engine{Store: cli, Registry: reg, Now: time.Now}
	res, err := eng.ImportSiteRows(context.Background(), "S", "lines", rows, server.ImportOptions{})
	if err != nil || res.Imported != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if !lines.waitFor(t, fmt.Sprintf(`data: {"cursor":%d}`, res.Seq), 3*time.Second) {
		t.Fatal("the import did not wake the stream")
	}
	got := map[string]string{}
	for _, c := range h.pullAll(d, 0) {
		if c["table"] == "lines" {
			r := c["row"].(map[string]any)
			got[r["code"].(string)] = r["name"].(string)
			if !strings.HasSuffix(c["hlc"].(string), "-"+server.AdminDeviceID) || r["updated_by"] != server.ImportUpdatedBy {
				t.Errorf("imported change %v", c)
			}
		}
	}
	if got["L1"] != "One" || got["L2"] != "Two" {
		t.Fatalf("pulled lines %v", got)
	}
}
