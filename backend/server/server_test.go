package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/server"
)

func TestServer_HealthAndProtocol(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name    string
		header  string
		status  int
		errCode string
	}{
		{"version 1", "1", 200, ""},
		{"no header is version 1", "", 200, ""},
		{"newer client", "2", 200, ""},
		{"too old", "0", 426, "protocol_unsupported"},
		{"negative", "-3", 426, "protocol_unsupported"},
		{"not a number", "one", 400, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("GET", "/v1/health", "", nil, "Outpost-Protocol", tc.header)
			if res.status != tc.status || res.errCode() != tc.errCode {
				t.Fatalf("got %d %s", res.status, res.raw)
			}
			if tc.status == 200 && (res.str("status") != "ok" || num(res.body["protocol"]) != 1 || num(res.body["server_time"]) <= 0) {
				t.Fatalf("health body %s", res.raw)
			}
		})
	}
	t.Run("426 on every endpoint", func(t *testing.T) {
		res := h.do("POST", "/v1/push", "whatever", "{}", "Outpost-Protocol", "0")
		if res.status != 426 || !strings.Contains(res.raw2(), "update") {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
	})
	t.Run("database down is 503", func(t *testing.T) {
		h2 := newHarness(t)
		h2.st.Close()
		res := h2.do("GET", "/v1/health", "", nil)
		if res.status != 503 || res.errCode() != "database_unavailable" {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
		res = h2.do("POST", "/v1/push", "token", map[string]any{"batch_id": newID(), "changes": []any{}})
		if res.status != 503 || res.errCode() != "database_unavailable" {
			t.Fatalf("push on a closed database: %d %s", res.status, res.raw)
		}
	})
}

func (r result) raw2() string { return string(r.raw) }

func TestServer_Routes(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/", 404, "not_found"},
		{"GET", "/v1/nothing", 404, "not_found"},
		{"POST", "/v2/push", 404, "not_found"},
		{"GET", "/v1/push", 405, "method_not_allowed"},
		{"DELETE", "/v1/pull", 405, "method_not_allowed"},
		{"POST", "/v1/health", 405, "method_not_allowed"},
		{"GET", "/v1/conflicts/x/resolve", 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := h.do(tc.method, tc.path, "", nil)
			if res.status != tc.status || res.errCode() != tc.code {
				t.Fatalf("got %d %s", res.status, res.raw)
			}
		})
	}
}

func TestServer_Enroll(t *testing.T) {
	h := newHarness(t)
	t.Run("success", func(t *testing.T) {
		code := h.code("Site North", "manager", 1)
		res := h.do("POST", "/v1/enroll", "", map[string]any{"code": code, "device_name": "Line 3 terminal", "platform": "windows"})
		if res.status != 201 || res.str("site_id") != "Site North" || res.str("role") != "manager" ||
			len(res.str("token")) < 40 || uuid.Validate(res.str("device_id")) != nil {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
		again := h.do("POST", "/v1/enroll", "", map[string]any{"code": code, "device_name": "x", "platform": "linux"})
		if again.status != 401 || again.errCode() != "invalid_code" {
			t.Fatalf("single-use code reused: %d %s", again.status, again.raw)
		}
		if strings.Contains(h.logs(), res.str("token")) || strings.Contains(h.logs(), code) {
			t.Fatal("a secret reached the log")
		}
	})
	t.Run("fleet code", func(t *testing.T) {
		code := h.code("S", "operator", 3)
		for i := 0; i < 3; i++ {
			if res := h.do("POST", "/v1/enroll", "", map[string]any{"code": strings.ToLower(code), "device_name": "d", "platform": "linux"}); res.status != 201 {
				t.Fatalf("use %d: %d %s", i, res.status, res.raw)
			}
		}
		if res := h.do("POST", "/v1/enroll", "", map[string]any{"code": code}); res.status != 401 {
			t.Fatalf("4th use: %d", res.status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		code, err := server.CreateEnrollCode(context.Background(), h.st, "S", "operator", time.Hour, 1, time.Now().Add(-2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if res := h.do("POST", "/v1/enroll", "", map[string]any{"code": code}); res.status != 401 || res.errCode() != "invalid_code" {
			t.Fatalf("expired code: %d %s", res.status, res.raw)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		if res := h.do("POST", "/v1/enroll", "", "{nope"); res.status != 400 || res.errCode() != "malformed" {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
	})
}

func TestServer_EnrollThrottle(t *testing.T) {
	h := newHarness(t)
	good := h.code("S", "operator", 1)
	for i := 1; i <= 10; i++ {
		res := h.do("POST", "/v1/enroll", "", map[string]any{"code": "WRONG-CODE"})
		if res.status != 401 {
			t.Fatalf("failure %d answered %d %s", i, res.status, res.raw)
		}
	}
	res := h.do("POST", "/v1/enroll", "", map[string]any{"code": "WRONG-CODE"})
	if res.status != 429 || res.errCode() != "rate_limited" || res.header.Get("Retry-After") == "" {
		t.Fatalf("11th failure: %d %s", res.status, res.raw)
	}
	// Over the limit every attempt is 429 until the minute has passed, a
	// right code included (docs/design.md section 4: otherwise the throttle would not
	// stop guessing).
	if res := h.do("POST", "/v1/enroll", "", map[string]any{"code": good}); res.status != 429 || res.errCode() != "rate_limited" {
		t.Fatalf("a valid code from a throttled address: %d %s", res.status, res.raw)
	}
	// A success gives its slot back: below the limit, right codes never
	// count as failures.
	h3 := newHarness(t)
	for range 12 {
		if res := h3.do("POST", "/v1/enroll", "", map[string]any{"code": h3.code("S", "operator", 1)}); res.status != 201 {
			t.Fatalf("enrollments that succeed are throttled: %d %s", res.status, res.raw)
		}
	}
	// The throttle lives in the database.
	n, err := h.st.EnrollFailures(context.Background(), "127.0.0.1", 0)
	if err != nil || n != 10 {
		t.Fatalf("stored failures = %d, %v", n, err)
	}
	// Push and pull are not throttled.
	h2 := newHarness(t)
	d := h2.enroll("S", "operator")
	for i := 0; i < 30; i++ {
		h2.pull(d, 0)
	}
}

func TestServer_Auth(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	tests := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no header", "", 401, "unauthorized"},
		{"not bearer", "Basic abc", 401, "unauthorized"},
		{"empty bearer", "Bearer ", 401, "unauthorized"},
		{"unknown token", "Bearer nope", 401, "unauthorized"},
		{"valid", "Bearer " + d.Token, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, ep := range []struct{ m, p string }{{"GET", "/v1/pull?cursor=0"}, {"POST", "/v1/push"}, {"GET", "/v1/history?table=production_records&id=" + newID()}} {
				var body any
				if ep.m == "POST" {
					body = map[string]any{"batch_id": newID(), "changes": []any{}}
				}
				res := h.do(ep.m, ep.p, "", body, "Authorization", tc.auth)
				if res.status != tc.status || res.errCode() != tc.code {
					t.Fatalf("%s %s: %d %s", ep.m, ep.p, res.status, res.raw)
				}
			}
		})
	}
	t.Run("revoked at once", func(t *testing.T) {
		if err := h.st.RevokeDevice(context.Background(), d.ID, time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
		res := h.do("GET", "/v1/pull?cursor=0", d.Token, nil)
		if res.status != 401 || res.errCode() != "device_revoked" {
			t.Fatalf("revoked device: %d %s", res.status, res.raw)
		}
	})
}

func TestServer_PushRequestLevel(t *testing.T) {
	h := newHarness(t, func(c *server.Config) { c.MaxBody = 64 << 10 })
	d := h.enroll("S", "operator")
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{}
	}
	big := `{"batch_id":"` + newID() + `","changes":[],"pad":"` + strings.Repeat("x", 65<<10) + `"}`
	bomb := gz([]byte(big))
	tests := []struct {
		name    string
		body    any
		headers []string
		status  int
		code    string
	}{
		{"malformed json", "{", nil, 400, "malformed"},
		{"not an object", "[1,2]", nil, 400, "malformed"},
		{"changes missing", map[string]any{"batch_id": newID()}, nil, 400, "malformed"},
		{"changes not a list", map[string]any{"batch_id": newID(), "changes": "x"}, nil, 400, "malformed"},
		{"batch_id not a uuid", map[string]any{"batch_id": "b1", "changes": []any{}}, nil, 422, "invalid_value"},
		{"batch_id missing", map[string]any{"changes": []any{}}, nil, 422, "invalid_value"},
		{"1001 changes", map[string]any{"batch_id": newID(), "changes": many}, nil, 413, "too_many_changes"},
		{"body over the limit", big, nil, 413, "body_too_large"},
		{"gzip over the limit decompressed", bomb, []string{"Content-Encoding", "gzip"}, 413, "body_too_large"},
		{"bad gzip", "not gzip", []string{"Content-Encoding", "gzip"}, 400, "malformed"},
		{"unknown encoding", "{}", []string{"Content-Encoding", "br"}, 415, "unsupported_encoding"},
		{"empty batch", map[string]any{"batch_id": newID(), "changes": []any{}}, nil, 200, ""},
		{"gzip body", gz([]byte(`{"batch_id":"` + newID() + `","changes":[]}`)), []string{"Content-Encoding", "gzip"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("POST", "/v1/push", d.Token, tc.body, tc.headers...)
			if res.status != tc.status || res.errCode() != tc.code {
				t.Fatalf("got %d %s", res.status, clipBytes(res.raw))
			}
			if tc.status == 200 && !bytes.Contains(res.raw, []byte(`"results":[]`)) {
				t.Fatalf("empty results not []: %s", res.raw)
			}
		})
	}
	if seq, _ := h.st.SiteState(context.Background(), "S"); seq.Seq != 0 {
		t.Fatalf("refused requests wrote: seq %d", seq.Seq)
	}
}

func clipBytes(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func TestServer_PushValidation(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	other := "11111111-2222-4333-8444-555555555555"
	hostile := `'; DROP TABLE rows;-- <script>alert(1)</script> =1+1 "quoted" ☃ \u0000`
	tests := []struct {
		name   string
		change map[string]any
		status string
		code   string
	}{
		{"valid", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", nil)), "applied", ""},
		{"hostile text verbatim", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"operator_id": hostile})), "applied", ""},
		{"unknown table", change("nope", newID(), "upsert", 0, d.hlc(0), record("", nil)), "rejected", "unknown_table"},
		{"conflicts not pushable", change("sync_conflicts", newID(), "upsert", 0, d.hlc(0), map[string]any{}), "rejected", "unknown_table"},
		{"unknown column", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"colour": "red"})), "rejected", "unknown_column"},
		{"wrong type", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"quantity": "5"})), "rejected", "invalid_value"},
		{"out of range", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"quantity": 1_000_000_001})), "rejected", "invalid_value"},
		{"fraction", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"created_at": 1.5})), "rejected", "invalid_value"},
		{"missing", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"line_id": nil})), "rejected", "missing_value"},
		{"too long", change("production_records", newID(), "upsert", 0, d.hlc(0), record("", map[string]any{"line_id": strings.Repeat("x", 129)})), "rejected", "too_long"},
		{"id not uuid", change("production_records", "row-1", "upsert", 0, d.hlc(0), record("row-1", nil)), "rejected", "invalid_value"},
		{"bad op", change("production_records", newID(), "merge", 0, d.hlc(0), record("", nil)), "rejected", "invalid_value"},
		{"no row", change("production_records", newID(), "upsert", 0, d.hlc(0), nil), "rejected", "missing_value"},
		{"hlc malformed", change("production_records", newID(), "upsert", 0, "yesterday", record("", nil)), "rejected", "invalid_hlc"},
		{"hlc of another device", change("production_records", newID(), "upsert", 0, fmt.Sprintf("%015d-00000-%s", time.Now().UnixMilli(), other), record("", nil)), "rejected", "invalid_hlc"},
		{"clock ahead", change("production_records", newID(), "upsert", 0, d.hlc(10*time.Minute), record("", nil)), "rejected", "clock_ahead"},
		{"within skew", change("production_records", newID(), "upsert", 0, d.hlc(4*time.Minute), record("", nil)), "applied", ""},
		{"base_version wrong type", map[string]any{"table": "production_records", "id": newID(), "op": "upsert", "base_version": "0", "hlc": d.hlc(0), "row": record("", nil)}, "rejected", "invalid_value"},
		{"change not an object", map[string]any{"table": 5}, "rejected", "invalid_value"},
	}
	var changes []map[string]any
	for _, tc := range tests {
		c := tc.change
		if r, ok := c["row"].(map[string]any); ok && r["id"] == "" {
			r["id"] = c["id"]
		}
		changes = append(changes, c)
	}
	res := h.push(d, changes...)
	results := res.results()
	if len(results) != len(tests) {
		t.Fatalf("%d results for %d changes", len(results), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := results[i]
			if r["status"] != tc.status {
				t.Fatalf("result %v", r)
			}
			if tc.status == "rejected" {
				if !strings.HasPrefix(r["error"].(string), tc.code+": ") || r["version"] != nil {
					t.Fatalf("rejection %v", r)
				}
				return
			}
			if num(r["version"]) <= 0 || r["table"] != "production_records" || r["id"] != tc.change["id"] {
				t.Fatalf("result %v", r)
			}
		})
	}
	// What was applied is there, verbatim; nothing rejected was written.
	got := h.pullAll(d, 0)
	if len(got) != 3 {
		t.Fatalf("pulled %d rows, want 3", len(got))
	}
	if got[1]["row"].(map[string]any)["operator_id"] != hostile {
		t.Fatalf("hostile text changed: %q", got[1]["row"].(map[string]any)["operator_id"])
	}
}

func TestServer_PushIdempotent(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	batch := newID()
	id := newID()
	body := map[string]any{"batch_id": batch, "changes": []any{change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil))}}
	first := h.do("POST", "/v1/push", d.Token, body)
	time.Sleep(5 * time.Millisecond)
	second := h.do("POST", "/v1/push", d.Token, body)
	other := h.do("POST", "/v1/push", d.Token, map[string]any{"batch_id": batch, "changes": []any{
		change("production_records", newID(), "upsert", 0, d.hlc(0), record("", nil))}})
	if first.status != 200 || !bytes.Equal(first.raw, second.raw) || !bytes.Equal(first.raw, other.raw) {
		t.Fatalf("repeats differ:\n%s\n%s\n%s", first.raw, second.raw, other.raw)
	}
	many := make([]any, 1001)
	for _, repeat := range []any{map[string]any{"batch_id": batch, "changes": "not a list"}, map[string]any{"batch_id": batch, "changes": many}} {
		if res := h.do("POST", "/v1/push", d.Token, repeat); res.status != 200 || !bytes.Equal(res.raw, first.raw) {
			t.Fatalf("invalid repeat: %d %s", res.status, clipBytes(res.raw))
		}
	}
	if got := h.pullAll(d, 0); len(got) != 1 {
		t.Fatalf("repeat applied: %d rows", len(got))
	}
	// Another device may use the same batch id.
	d2 := h.enroll("S", "operator")
	res := h.push(d2)
	_ = res
	res2 := h.do("POST", "/v1/push", d2.Token, map[string]any{"batch_id": batch, "changes": []any{}})
	if res2.status != 200 || bytes.Equal(res2.raw, first.raw) {
		t.Fatalf("batch ids are per device: %s", res2.raw)
	}
}

func TestServer_PushConcurrentRepeat(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	var changes []any
	for i := 0; i < 200; i++ {
		id := newID()
		changes = append(changes, change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil)))
	}
	body, _ := json.Marshal(map[string]any{"batch_id": newID(), "changes": changes})
	const n = 6
	answers := make(chan []byte, n)
	for i := 0; i < n; i++ {
		go func() {
			req, _ := http.NewRequest("POST", h.ts.URL+"/v1/push", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+d.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- nil
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			answers <- raw
		}()
	}
	var first []byte
	for i := 0; i < n; i++ {
		a := <-answers
		if first == nil {
			first = a
		}
		if a == nil || !bytes.Equal(a, first) {
			t.Fatalf("concurrent repeats answered differently")
		}
	}
	if got := h.pullAll(d, 0); len(got) != 200 {
		t.Fatalf("%d rows after concurrent repeats, want 200", len(got))
	}
}

func TestServer_SelfAndLWW(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	b := h.enroll("S", "operator")
	id := newID()

	r := h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]
	v1 := num(r["version"])
	// A lost acknowledgement: a pushes again on base 0. Not a conflict.
	r = h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, map[string]any{"quantity": 6}))).results()[0]
	if r["status"] != "applied" || r["conflict_id"] != nil {
		t.Fatalf("self conflict: %v", r)
	}
	v2 := num(r["version"])
	if v2 <= v1 {
		t.Fatalf("versions %d then %d", v1, v2)
	}

	// b edits on v2 (current): applied.
	r = h.push(b, change("production_records", id, "upsert", v2, b.hlc(0), record(id, map[string]any{"quantity": 7}))).results()[0]
	if r["status"] != "applied" {
		t.Fatalf("b on current base: %v", r)
	}
	v3 := num(r["version"])

	// a edits on stale v2 with an older HLC than b's: superseded.
	old := fmt.Sprintf("%015d-00000-%s", time.Now().Add(-time.Hour).UnixMilli(), a.ID)
	r = h.push(a, change("production_records", id, "upsert", v2, old, record(id, map[string]any{"quantity": 8}))).results()[0]
	if r["status"] != "superseded" || num(r["version"]) != v3 || r["conflict_id"] == nil ||
		num(r["row"].(map[string]any)["quantity"]) != 7 {
		t.Fatalf("superseded: %v", r)
	}
	lostID := r["conflict_id"].(string)

	// b edits on stale v2... no: b wrote last, so a pushes with a newer HLC on stale v2 → applied over b.
	r = h.push(a, change("production_records", id, "upsert", v2, a.hlc(time.Second), record(id, map[string]any{"quantity": 9}))).results()[0]
	if r["status"] != "applied" || r["conflict_id"] == nil || num(r["version"]) <= v3 {
		t.Fatalf("lww applied over another device: %v", r)
	}
	wonID := r["conflict_id"].(string)
	v4 := num(r["version"])

	recs := map[string]map[string]any{}
	for _, c := range h.pullAll(b, 0) {
		if c["hlc"] == nil || c["hlc"] == "" {
			t.Fatalf("change without hlc: %v", c)
		}
		if c["table"] == "sync_conflicts" {
			recs[c["id"].(string)] = c["row"].(map[string]any)
		}
		if c["table"] == "production_records" && num(c["version"]) != v4 {
			t.Fatalf("pull version %v, push said %d", c["version"], v4)
		}
	}
	lost, won := recs[lostID], recs[wonID]
	if lost["status"] != "auto_resolved" || lost["winner"] != "theirs" || num(lost["mine"].(map[string]any)["quantity"]) != 8 ||
		num(lost["theirs"].(map[string]any)["quantity"]) != 7 || lost["device_id"] != a.ID || lost["table_name"] != "production_records" || lost["row_id"] != id {
		t.Fatalf("superseded record: %v", lost)
	}
	if won["status"] != "auto_resolved" || won["winner"] != "mine" || num(won["theirs"].(map[string]any)["quantity"]) != 7 {
		t.Fatalf("applied-over record: %v", won)
	}
	for _, k := range []string{"base", "resolved_at", "resolved_by", "reason", "created_at"} {
		if _, ok := won[k]; !ok {
			t.Fatalf("record lacks %s: %v", k, won)
		}
	}
}

func TestServer_ManualMerge(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	b := h.enroll("S", "operator")
	push1 := func(d *device, op string, base int64, row map[string]any) map[string]any {
		return h.push(d, change("line_configs", row["id"].(string), op, base, d.hlc(0), row)).results()[0]
	}
	t.Run("disjoint fields merge", func(t *testing.T) {
		id := newID()
		v := num(push1(a, "upsert", 0, config(id, nil))["version"])
		num(push1(b, "upsert", v, config(id, map[string]any{"speed_rpm": 1500, "updated_at": 1700000000005}))["version"])
		r := push1(a, "upsert", v, config(id, map[string]any{"recipe": "R2", "updated_at": 1700000000003}))
		row, _ := r["row"].(map[string]any)
		if r["status"] != "merged" || row == nil || row["recipe"] != "R2" || num(row["speed_rpm"]) != 1500 || num(row["updated_at"]) != 1700000000005 {
			t.Fatalf("merge: %v", r)
		}
	})
	t.Run("same field conflicts", func(t *testing.T) {
		id := newID()
		v := num(push1(a, "upsert", 0, config(id, nil))["version"])
		vb := num(push1(b, "upsert", v, config(id, map[string]any{"recipe": "RB"}))["version"])
		r := push1(a, "upsert", v, config(id, map[string]any{"recipe": "RA"}))
		if r["status"] != "conflict" || r["conflict_id"] == nil || num(r["version"]) != vb || r["row"].(map[string]any)["recipe"] != "RB" {
			t.Fatalf("conflict: %v", r)
		}
		var rec map[string]any
		for _, c := range h.pullAll(a, 0) {
			if c["id"] == r["conflict_id"] {
				rec = c["row"].(map[string]any)
			}
		}
		if rec["status"] != "open" || rec["base"].(map[string]any)["recipe"] != "R1" || rec["mine"].(map[string]any)["recipe"] != "RA" ||
			rec["theirs"].(map[string]any)["recipe"] != "RB" || rec["resolved_at"] != nil || rec["winner"] != nil {
			t.Fatalf("record: %v", rec)
		}
		// An open conflict does not lock the row.
		if r := push1(b, "upsert", vb, config(id, map[string]any{"notes": "later"})); r["status"] != "applied" {
			t.Fatalf("row locked by open conflict: %v", r)
		}
	})
	t.Run("delete meets edit", func(t *testing.T) {
		id := newID()
		v := num(push1(a, "upsert", 0, config(id, nil))["version"])
		push1(b, "upsert", v, config(id, map[string]any{"recipe": "RB"}))
		r := h.push(a, change("line_configs", id, "delete", v, a.hlc(0), nil)).results()[0]
		if r["status"] != "conflict" {
			t.Fatalf("delete vs edit: %v", r)
		}
	})
	t.Run("nullable left out keeps, null clears", func(t *testing.T) {
		id := newID()
		v := num(push1(a, "upsert", 0, config(id, nil))["version"])
		row := config(id, map[string]any{"recipe": "R9"})
		delete(row, "notes")
		r := push1(a, "upsert", v, row)
		v = num(r["version"])
		got := h.pullAll(a, v-1)[0]["row"].(map[string]any)
		if got["notes"] != "n" || got["recipe"] != "R9" {
			t.Fatalf("left-out notes: %v", got)
		}
		r = push1(a, "upsert", v, config(id, map[string]any{"notes": nil}))
		got = h.pullAll(a, num(r["version"])-1)[0]["row"].(map[string]any)
		if v, ok := got["notes"]; !ok || v != nil {
			t.Fatalf("explicit null: %v", got)
		}
	})
}

func TestServer_Delete(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	id, id2 := newID(), newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	before := time.Now().UnixMilli()
	r := h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil),
		change("production_records", id2, "delete", 0, a.hlc(0), record(id2, map[string]any{"deleted_at": 1234}))).results()
	if r[0]["status"] != "applied" || r[1]["status"] != "applied" {
		t.Fatalf("deletes: %v", r)
	}
	rows := map[string]map[string]any{}
	for _, c := range h.pullAll(a, 0) {
		rows[c["id"].(string)] = c["row"].(map[string]any)
	}
	if num(rows[id]["deleted_at"]) < before || num(rows[id2]["deleted_at"]) != 1234 || num(rows[id]["quantity"]) != 5 {
		t.Fatalf("tombstones: %v / %v", rows[id], rows[id2])
	}
}

func TestServer_Pull(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	empty := h.pull(d, 0)
	if !bytes.Contains(empty.raw, []byte(`"changes":[]`)) || num(empty.body["cursor"]) != 0 || empty.body["has_more"] != false {
		t.Fatalf("empty pull: %s", empty.raw)
	}
	var cs []map[string]any
	for i := 0; i < 7; i++ {
		id := newID()
		cs = append(cs, change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil)))
	}
	h.push(d, cs...)
	res := h.do("GET", "/v1/pull?cursor=0&limit=3", d.Token, nil)
	if len(res.changes()) != 3 || res.body["has_more"] != true || num(res.body["cursor"]) != 3 {
		t.Fatalf("page 1: %s", res.raw)
	}
	row := res.changes()[0]["row"].(map[string]any)
	for _, k := range []string{"id", "line_id", "quantity", "created_at", "updated_at", "deleted_at", "server_updated_at"} {
		if _, ok := row[k]; !ok {
			t.Fatalf("pulled row lacks %s: %v", k, row)
		}
	}
	for _, k := range []string{"version", "hlc", "synced_at"} {
		if _, ok := row[k]; ok {
			t.Fatalf("pulled row carries %s", k)
		}
	}
	res = h.do("GET", "/v1/pull?cursor=6&limit=3", d.Token, nil)
	if len(res.changes()) != 1 || res.body["has_more"] != false || num(res.body["cursor"]) != 7 {
		t.Fatalf("last page: %s", res.raw)
	}
	res = h.do("GET", "/v1/pull?cursor=7", d.Token, nil)
	if len(res.changes()) != 0 || num(res.body["cursor"]) != 7 || res.body["has_more"] != false {
		t.Fatalf("up to date: %s", res.raw)
	}
	if res := h.do("GET", "/v1/pull", d.Token, nil); res.status != 200 || len(res.changes()) != 7 {
		t.Fatalf("no cursor: %d", res.status)
	}
	if res := h.do("GET", "/v1/pull?cursor=0&limit=999999", d.Token, nil); res.status != 200 || len(res.changes()) != 7 {
		t.Fatalf("large limit: %d", res.status)
	}
	for _, q := range []struct {
		q    string
		code string
	}{{"cursor=-1", "invalid_cursor"}, {"cursor=abc", "invalid_cursor"}, {"cursor=1.5", "invalid_cursor"}, {"limit=0", "invalid_limit"}, {"limit=x", "invalid_limit"}, {"limit=-5", "invalid_limit"}} {
		if res := h.do("GET", "/v1/pull?"+q.q, d.Token, nil); res.status != 400 || res.errCode() != q.code {
			t.Fatalf("%s: %d %s", q.q, res.status, res.raw)
		}
	}
	if res := h.do("GET", "/v1/pull?cursor=8", d.Token, nil); res.status != 410 || res.errCode() != "resync_required" {
		t.Fatalf("cursor ahead: %d %s", res.status, res.raw)
	}
	t.Run("gzip answer", func(t *testing.T) {
		req, _ := http.NewRequest("GET", h.ts.URL+"/v1/pull?cursor=0", nil)
		req.Header.Set("Authorization", "Bearer "+d.Token)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("not gzipped: %v", resp.Header)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.NewDecoder(zr).Decode(&body); err != nil || len(body["changes"].([]any)) != 7 {
			t.Fatalf("gzipped body: %v", err)
		}
	})
}

func TestServer_SiteScoping(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("North", "manager")
	b := h.enroll("South", "manager")
	id := newID()
	// The same row id in two sites is two rows.
	ra := h.push(a, change("line_configs", id, "upsert", 0, a.hlc(0), config(id, map[string]any{"recipe": "north"}))).results()[0]
	rb := h.push(b, change("line_configs", id, "upsert", 0, b.hlc(0), config(id, map[string]any{"recipe": "south"}))).results()[0]
	if ra["status"] != "applied" || rb["status"] != "applied" || num(rb["version"]) != 1 {
		t.Fatalf("per-site rows: %v %v", ra, rb)
	}
	got := h.pullAll(b, 0)
	if len(got) != 1 || got[0]["row"].(map[string]any)["recipe"] != "south" {
		t.Fatalf("south sees %v", got)
	}
	hist := h.do("GET", "/v1/history?table=line_configs&id="+id, b.Token, nil)
	if vs := hist.body["versions"].([]any); len(vs) != 1 {
		t.Fatalf("history crosses sites: %s", hist.raw)
	}
}

func TestServer_Resolve(t *testing.T) {
	h := newHarness(t)
	op := h.enroll("S", "operator")
	op2 := h.enroll("S", "operator")
	mgr := h.enroll("S", "manager")
	otherMgr := h.enroll("Elsewhere", "manager")
	openConflict := func() (id, conflictID string, theirs int64) {
		id = newID()
		v := num(h.push(op, change("line_configs", id, "upsert", 0, op.hlc(0), config(id, nil))).results()[0]["version"])
		theirs = num(h.push(op2, change("line_configs", id, "upsert", v, op2.hlc(0), config(id, map[string]any{"recipe": "B"}))).results()[0]["version"])
		r := h.push(op, change("line_configs", id, "upsert", v, op.hlc(0), config(id, map[string]any{"recipe": "A"}))).results()[0]
		if r["status"] != "conflict" {
			t.Fatalf("setup: %v", r)
		}
		return id, r["conflict_id"].(string), theirs
	}
	id, cid, theirs := openConflict()
	path := "/v1/conflicts/" + cid + "/resolve"
	body := func(over map[string]any) map[string]any {
		b := map[string]any{"row": config(id, map[string]any{"recipe": "decided"}), "hlc": mgr.hlc(0), "base_version": theirs, "reason": "checked on the line"}
		for k, v := range over {
			if v == nil {
				delete(b, k)
				continue
			}
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name   string
		dev    *device
		path   string
		body   any
		status int
		code   string
	}{
		{"no token", nil, path, body(nil), 401, "unauthorized"},
		{"operator", op, path, body(nil), 403, "forbidden"},
		{"operator, unknown conflict", op, "/v1/conflicts/" + newID() + "/resolve", body(nil), 403, "forbidden"},
		{"other site's manager", otherMgr, path, body(nil), 403, "forbidden"},
		{"unknown conflict", mgr, "/v1/conflicts/" + newID() + "/resolve", body(nil), 404, "not_found"},
		{"not a uuid", mgr, "/v1/conflicts/zzz/resolve", body(nil), 404, "not_found"},
		{"malformed body", mgr, path, "{", 400, "malformed"},
		{"bad hlc", mgr, path, body(map[string]any{"hlc": "now"}), 422, "invalid_hlc"},
		{"invalid row", mgr, path, body(map[string]any{"row": config(id, map[string]any{"speed_rpm": "fast"})}), 422, "invalid_value"},
		{"missing row", mgr, path, body(map[string]any{"row": nil}), 422, "missing_value"},
		{"stale base", mgr, path, body(map[string]any{"base_version": theirs - 1}), 409, "stale_base"},
		{"ok", mgr, path, body(nil), 200, ""},
		{"again", mgr, path, body(nil), 409, "already_resolved"},
	}
	var version int64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := ""
			if tc.dev != nil {
				tok = tc.dev.Token
			}
			res := h.do("POST", tc.path, tok, tc.body)
			if res.status != tc.status || res.errCode() != tc.code {
				t.Fatalf("got %d %s", res.status, res.raw)
			}
			if tc.code == "stale_base" {
				e := res.body["error"].(map[string]any)
				if num(e["version"]) != theirs || e["row"].(map[string]any)["recipe"] != "B" {
					t.Fatalf("stale_base lacks the current state: %s", res.raw)
				}
			}
			if tc.status == 200 {
				version = num(res.body["version"])
			}
		})
	}
	var row, rec map[string]any
	for _, c := range h.pullAll(op, 0) {
		if c["id"] == id {
			row = c["row"].(map[string]any)
			if num(c["version"]) != version {
				t.Fatalf("resolved row version %v, answer said %d", c["version"], version)
			}
		}
		if c["id"] == cid {
			rec = c["row"].(map[string]any)
		}
	}
	if row["recipe"] != "decided" || rec["status"] != "resolved" || rec["resolved_by"] != mgr.ID || rec["reason"] != "checked on the line" || rec["resolved_at"] == nil {
		t.Fatalf("after resolve: row %v record %v", row, rec)
	}

	t.Run("without base_version uses theirs", func(t *testing.T) {
		id, cid, _ := openConflict()
		res := h.do("POST", "/v1/conflicts/"+cid+"/resolve", mgr.Token, map[string]any{"row": config(id, nil), "hlc": mgr.hlc(0)})
		if res.status != 200 {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
	})
	t.Run("row moved on since theirs", func(t *testing.T) {
		id, cid, theirs := openConflict()
		h.push(op2, change("line_configs", id, "upsert", theirs, op2.hlc(0), config(id, map[string]any{"recipe": "C"})))
		res := h.do("POST", "/v1/conflicts/"+cid+"/resolve", mgr.Token, map[string]any{"row": config(id, nil), "hlc": mgr.hlc(0)})
		if res.status != 409 || res.errCode() != "stale_base" {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
	})
	t.Run("revert an auto_resolved record", func(t *testing.T) {
		id := newID()
		v := num(h.push(op, change("production_records", id, "upsert", 0, op.hlc(0), record(id, nil))).results()[0]["version"])
		h.push(op2, change("production_records", id, "upsert", v, op2.hlc(0), record(id, map[string]any{"quantity": 2})))
		r := h.push(op, change("production_records", id, "upsert", v, op.hlc(time.Second), record(id, map[string]any{"quantity": 3}))).results()[0]
		res := h.do("POST", "/v1/conflicts/"+r["conflict_id"].(string)+"/resolve", mgr.Token, map[string]any{"row": record(id, map[string]any{"quantity": 2}), "hlc": mgr.hlc(2 * time.Second)})
		if res.status != 200 || num(res.body["version"]) <= num(r["version"]) {
			t.Fatalf("revert: %d %s", res.status, res.raw)
		}
	})
}

func TestServer_Events(t *testing.T) {
	h := newHarness(t, func(c *server.Config) { c.KeepAlive = 100 * time.Millisecond })
	d := h.enroll("S", "operator")
	other := h.enroll("T", "operator")
	open := func(tok string) (*http.Response, *bufioReader) {
		req, _ := http.NewRequest("GET", h.ts.URL+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
		}
		return resp, newLineReader(resp.Body)
	}
	resp, lines := open(d.Token)
	defer resp.Body.Close()
	respOther, linesOther := open(other.Token)
	defer respOther.Body.Close()

	if !lines.waitFor(t, ": keep-alive", 2*time.Second) {
		t.Fatal("no keep-alive comment")
	}
	id := newID()
	v := num(h.push(d, change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil))).results()[0]["version"])
	if !lines.waitFor(t, "event: change", 2*time.Second) {
		t.Fatal("no change event")
	}
	if !lines.waitFor(t, fmt.Sprintf(`data: {"cursor":%d}`, v), time.Second) {
		t.Fatal("no cursor data")
	}
	if linesOther.waitFor(t, "event: change", 300*time.Millisecond) {
		t.Fatal("another site's write reached this site's stream")
	}
	// Revoking a device ends its open stream.
	if err := h.st.RevokeDevice(context.Background(), other.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if !linesOther.closed(3 * time.Second) {
		t.Fatal("a revoked device's stream stayed open")
	}
	// Writes by another server sharing the database arrive through the poll.
	other2 := server.New(server.Config{Store: h.st})
	defer other2.Close()
	dev := server.Device{ID: d.ID, SiteID: d.Site}
	id2 := newID()
	raw, _ := json.Marshal(change("production_records", id2, "upsert", 0, d.hlc(0), record(id2, nil)))
	if _, _, err := other2.Engine().Push(context.Background(), dev, server.PushBatch{BatchID: newID(), Changes: []json.RawMessage{raw}}); err != nil {
		t.Fatal(err)
	}
	if !lines.waitFor(t, fmt.Sprintf(`data: {"cursor":%d}`, v+1), 3*time.Second) {
		t.Fatal("a write through another server did not wake the stream")
	}
	// Close ends the stream.
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, resp.Body)
		close(done)
	}()
	h.srv.Close()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("stream not closed on shutdown")
	}
	if res := h.do("GET", "/v1/events", d.Token, nil); res.status != 503 {
		t.Fatalf("events after close: %d", res.status)
	}
}

func TestServer_HistoryAndRetention(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	id, gone := newID(), newID()
	v1 := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	v2 := num(h.push(a, change("production_records", id, "upsert", v1, a.hlc(0), record(id, map[string]any{"quantity": 9}))).results()[0]["version"])
	vg := num(h.push(a, change("production_records", gone, "upsert", 0, a.hlc(0), record(gone, nil))).results()[0]["version"])
	vd := num(h.push(a, change("production_records", gone, "delete", vg, a.hlc(0), nil)).results()[0]["version"])

	res := h.do("GET", "/v1/history?table=production_records&id="+id, a.Token, nil)
	vs := res.body["versions"].([]any)
	if res.status != 200 || len(vs) != 2 || num(vs[0].(map[string]any)["version"]) != v1 || num(vs[1].(map[string]any)["version"]) != v2 {
		t.Fatalf("history: %s", res.raw)
	}
	if res := h.do("GET", "/v1/history?table=nope&id="+id, a.Token, nil); res.status != 400 {
		t.Fatalf("bad table: %d", res.status)
	}
	if res := h.do("GET", "/v1/history?table=production_records&id="+newID(), a.Token, nil); res.status != 200 || !bytes.Contains(res.raw, []byte(`"versions":[]`)) {
		t.Fatalf("unknown row: %s", res.raw)
	}

	// The device has pulled past everything: purge.
	h.pull(a, vd) // records cursor vd
	st, err := h.srv.Engine().Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	if err != nil || st.Tombstones != 1 || st.Versions < 1 {
		t.Fatalf("purge: %+v, %v", st, err)
	}
	res = h.do("GET", "/v1/history?table=production_records&id="+id, a.Token, nil)
	if vs := res.body["versions"].([]any); len(vs) != 1 {
		t.Fatalf("old version kept: %s", res.raw)
	}
	if res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d", vd-1), a.Token, nil); res.status != 410 || res.errCode() != "resync_required" {
		t.Fatalf("behind horizon: %d %s", res.status, res.raw)
	}
	if res := h.do("GET", "/v1/pull?cursor=0", a.Token, nil); res.status != 200 || len(res.changes()) != 1 {
		t.Fatalf("cursor 0 after purge: %d %s", res.status, res.raw)
	}
	r := h.push(a, change("production_records", gone, "upsert", vd, a.hlc(0), record(gone, nil))).results()[0]
	if r["status"] != "rejected" || !strings.HasPrefix(r["error"].(string), "row_deleted: ") {
		t.Fatalf("resurrected: %v", r)
	}
}

func TestServer_RetentionHorizon(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	b := h.enroll("S", "operator")
	revoked := h.enroll("S", "operator")
	id := newID()
	v := num(h.push(a, change("production_records", id, "upsert", 0, a.hlc(0), record(id, nil))).results()[0]["version"])
	vd := num(h.push(a, change("production_records", id, "delete", v, a.hlc(0), nil)).results()[0]["version"])
	h.pull(a, vd)
	h.pull(b, 1) // b is behind the tombstone
	h.pull(revoked, 1)
	h.st.RevokeDevice(context.Background(), revoked.ID, time.Now().UnixMilli())
	st, _ := h.srv.Engine().Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	if st.Tombstones != 0 {
		t.Fatal("an active device behind the tombstone did not hold it")
	}
	h.pull(b, vd)
	st, _ = h.srv.Engine().Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	if st.Tombstones != 1 {
		t.Fatalf("revoked device held the horizon: %+v", st)
	}
}

func TestServer_Metrics(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/v1/health", "", nil)
	rec := newRecorder()
	h.srv.MetricsHandler().ServeHTTP(rec, mustReq("GET", "/metrics"))
	if !strings.Contains(rec.body.String(), `outpost_http_requests_total{code="200",route="GET /v1/health"}`) {
		t.Fatalf("metrics: %s", clipBytes(rec.body.Bytes()))
	}
	logs := h.logs()
	if !strings.Contains(logs, `"route":"GET /v1/health"`) || !strings.Contains(logs, `"status":200`) {
		t.Fatalf("request log: %s", logs)
	}
}

// notifyingStore is a real store that also pushes notifications, like the
// PostgreSQL store's LISTEN/NOTIFY.
type notifyingStore struct {
	server.Store
	ch chan [2]any
}

func (n notifyingStore) Listen(ctx context.Context, fn func(string, int64)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-n.ch:
			fn(m[0].(string), m[1].(int64))
		}
	}
}

func TestServer_EventsFromListener(t *testing.T) {
	base := newHarness(t)
	ns := notifyingStore{Store: base.st, ch: make(chan [2]any, 1)}
	srv := server.New(server.Config{Store: ns, PollInterval: time.Hour, Logger: discardLogger()})
	defer srv.Close()
	ts := httptestServer(t, srv)
	d := base.enroll("S", "operator")
	req, _ := http.NewRequest("GET", ts+"/v1/events", nil)
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
	ns.ch <- [2]any{"S", int64(42)}
	if !lines.waitFor(t, `data: {"cursor":42}`, 2*time.Second) {
		t.Fatal("a notification from the store did not reach the stream")
	}
}

// panickyStore fails the way a bug would.
type panickyStore struct{ server.Store }

func (panickyStore) DeviceByTokenHash(context.Context, string) (server.Device, error) {
	panic("boom at /secret/path.go:42")
}

func TestServer_PanicIsA500WithoutInternals(t *testing.T) {
	base := newHarness(t)
	srv := server.New(server.Config{Store: panickyStore{base.st}, Logger: discardLogger()})
	defer srv.Close()
	url := httptestServer(t, srv)
	req, _ := http.NewRequest("GET", url+"/v1/pull", nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || !strings.Contains(string(raw), `"code":"internal"`) || strings.Contains(string(raw), "boom") {
		t.Fatalf("got %d %s", resp.StatusCode, raw)
	}
}

func TestServer_SecretsStoredHashed(t *testing.T) {
	h := newHarness(t)
	code := h.code("S", "operator", 1)
	res := h.do("POST", "/v1/enroll", "", map[string]any{"code": code})
	if res.status != 201 {
		t.Fatalf("enroll: %d", res.status)
	}
	token := res.str("token")
	h.st.Close() // flush everything to the file
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(h.dbPath), "*"))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, secret := range []string{token, code, strings.ReplaceAll(code, "-", "")} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("%s holds a secret in clear", filepath.Base(f))
			}
		}
	}
}

func TestServer_PullLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 5001 rows")
	}
	h := newHarness(t)
	d := h.enroll("S", "operator")
	total := 0
	for total < 5001 {
		var cs []map[string]any
		for i := 0; i < 1000 && total < 5001; i++ {
			id := newID()
			// Bookkeeping columns a client may send are ignored.
			cs = append(cs, change("production_records", id, "upsert", 0, d.hlc(0), record(id, map[string]any{"version": 99, "hlc": "x", "synced_at": 1, "server_updated_at": 2})))
			total++
		}
		for _, r := range h.push(d, cs...).results() {
			if r["status"] != "applied" {
				t.Fatalf("push: %v", r)
			}
		}
	}
	res := h.do("GET", "/v1/pull?cursor=0", d.Token, nil)
	if len(res.changes()) != 500 || res.body["has_more"] != true || num(res.body["cursor"]) != 500 {
		t.Fatalf("default limit: %d changes, cursor %v", len(res.changes()), res.body["cursor"])
	}
	if row := res.changes()[0]["row"].(map[string]any); num(row["server_updated_at"]) == 2 || row["version"] != nil {
		t.Fatalf("bookkeeping taken from the client: %v", row)
	}
	res = h.do("GET", "/v1/pull?cursor=0&limit=100000", d.Token, nil)
	if len(res.changes()) != 5000 || res.body["has_more"] != true {
		t.Fatalf("cap: %d changes", len(res.changes()))
	}
}

// TestServer_RowsAfterNotText: GET /v1/rows with an after that no row id
// can be (NUL, invalid UTF-8) is 400 invalid_after with the error body.
// PostgreSQL's text cannot hold such bytes: sent to the store, the query
// failed and the device got 500 internal.
func TestServer_RowsAfterNotText(t *testing.T) {
	h := newHarness(t)
	d := h.enroll("S", "operator")
	for _, after := range []string{"%00", "%ff", "a%c3", "x%00y"} {
		res := h.do("GET", "/v1/rows?bucket=line_configs:0a&after="+after, d.Token, nil)
		if res.status != 400 || res.errCode() != server.CodeInvalidAfter {
			t.Errorf("after=%s: %d %s", after, res.status, res.raw)
		}
	}
	if res := h.do("GET", "/v1/rows?bucket=line_configs:0a&after=z", d.Token, nil); res.status != 200 {
		t.Errorf("after=z: %d %s", res.status, res.raw)
	}
}
