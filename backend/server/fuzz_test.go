package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// fuzzServer is an in-process server with one enrolled device.
func fuzzServer(f *testing.F) (http.Handler, string, string) {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, Logger: discardLogger()})
	f.Cleanup(func() { srv.Close(); st.Close() })
	code, err := server.CreateEnrollCode(context.Background(), st, "S", "manager", time.Hour, 1, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	body, _ := json.Marshal(map[string]string{"code": code})
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/enroll", bytes.NewReader(body)))
	var en struct{ Token, DeviceID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &struct {
		Token    *string `json:"token"`
		DeviceID *string `json:"device_id"`
	}{&en.Token, &en.DeviceID}); err != nil || en.Token == "" {
		f.Fatalf("enroll: %s", rec.Body.Bytes())
	}
	return srv.Handler(), en.Token, en.DeviceID
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) map[string]any {
	t.Helper()
	if (rec.Code == 301 || rec.Code == 307 || rec.Code == 308) && rec.Header().Get("Location") != "" {
		return nil // the mux cleaning a path such as /v1/conflicts/../x
	}
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		if e, ok := m["error"].(map[string]any); !ok || e["code"] == nil || e["message"] == nil {
			t.Fatalf("error without body: %s", rec.Body.Bytes())
		}
	}
	return m
}

func FuzzPushBody(f *testing.F) {
	h, token, devID := fuzzServer(f)
	hlc := "001700000000000-00000-" + devID
	f.Add([]byte(`{"batch_id":"6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","changes":[]}`))
	f.Add([]byte(`{"batch_id":"7f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","changes":[{"table":"production_records","id":"8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","op":"upsert","base_version":0,"hlc":"` + hlc + `","row":{"line_id":"L","product_id":"P","quantity":1,"operator_id":"o","created_at":1,"updated_at":2}}]}`))
	f.Add([]byte(`{"batch_id":"9f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","changes":[{"table":"line_configs","id":"8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","op":"delete","base_version":"x","hlc":7,"row":[]}]}`))
	f.Add([]byte(`{"batch_id":null,"changes":{}}`))
	f.Add([]byte(`[`))
	pushed := map[string]bool{} // batch ids answered 200 by this process's server
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/push", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		m := checkAnswer(t, rec, 200, 400, 413, 422)
		if rec.Code == 200 {
			var in struct{ Changes []json.RawMessage }
			json.Unmarshal(body, &in)
			var id struct {
				BatchID string `json:"batch_id"`
			}
			json.Unmarshal(body, &id)
			res, ok := m["results"].([]any)
			if !ok {
				t.Fatalf("results not a list: %s", rec.Body.Bytes())
			}
			// One result per change, in order, unless the batch id was
			// answered before (then the stored response, whatever this
			// body holds).
			if !pushed[id.BatchID] && len(res) != len(in.Changes) {
				t.Fatalf("%d results for %d changes: %s", len(res), len(in.Changes), rec.Body.Bytes())
			}
			pushed[id.BatchID] = true
		}
	})
}

func FuzzPullQuery(f *testing.F) {
	h, token, _ := fuzzServer(f)
	for _, s := range []string{"cursor=0", "cursor=1&limit=1", "cursor=-1", "limit=99999999999999999999", "cursor=%00", "cursor=1e3",
		"cursor=3&committed=9&full=1", "cursor=0&committed=-1", "full=yes", "cursor=2&full=1&full=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil {
			return
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/pull", nil)
		req.URL.RawQuery = q
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		m := checkAnswer(t, rec, 200, 400, 410)
		if rec.Code == 200 {
			if _, ok := m["changes"].([]any); !ok {
				t.Fatalf("changes not a list: %s", rec.Body.Bytes())
			}
		}
	})
}

func FuzzResolveBody(f *testing.F) {
	h, token, _ := fuzzServer(f)
	f.Add([]byte(`{"row":{},"hlc":"x"}`), "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a")
	f.Add([]byte(`{`), "x")
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/conflicts/x/resolve", bytes.NewReader(body))
		req.SetPathValue("id", id)
		req.URL.Path = "/v1/conflicts/" + url.PathEscape(id) + "/resolve"
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 400, 403, 404, 405, 409, 422)
	})
}

// FuzzParseSiteCSV: any import file either parses into rows that pass the
// registry's checks (keys unique) or is refused with problems by line,
// never a panic.
func FuzzParseSiteCSV(f *testing.F) {
	reg := protocol.NewRegistry()
	tables := []string{protocol.TableLines, protocol.TableProducts, protocol.TablePeople, protocol.TableSiteSettings}
	f.Add(uint8(0), []byte("code,name,area,active\nL1,Line 1,Hall A,1\nL2,\"Line, 2\",,no\n"))
	f.Add(uint8(1), []byte("\ufeffcode,name,unit\r\nP-1,=cmd|' /C calc'!A0,pcs\r\n"))
	f.Add(uint8(2), []byte("badge_id,display_name,role,active,pin\nB1,Ana,operator,1,\nB2,Bo,manager,yes,24680\nB2,Dup,manager,1,1\n"))
	f.Add(uint8(3), []byte("time_zone,shifts,clock_skew_ms,idle_signout_s,pin_roles\nUTC,\"06:00,14:00\",60000,300,manager\n"))
	f.Add(uint8(2), []byte("badge_id,display_name,role\n\"B1\nB2\",x,operator\n\"unterminated"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		table := tables[int(which)%len(tables)]
		rows, problems, err := server.ParseSiteCSV(reg, table, bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range problems {
			if p.Line < 1 {
				t.Fatalf("problem without a line: %+v", p)
			}
		}
		seen := map[any]bool{}
		tb, _ := reg.Lookup(table)
		for _, r := range rows {
			if r.Line < 2 {
				t.Fatalf("row on line %d: the header is line 1", r.Line)
			}
			if tb.Key != "" {
				k := r.Values[tb.Key]
				if seen[k] {
					t.Fatalf("duplicate key %v accepted", k)
				}
				seen[k] = true
			}
		}
	})
}
