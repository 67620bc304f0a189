package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// harness is a real server on loopback over a real SQLite file.
type harness struct {
	t   testing.TB
	st  *sqlitestore.Store
	srv *server.Server
	ts  *httptest.Server
	log *bytes.Buffer
	mu  sync.Mutex
	// dbPath is the SQLite file.
	dbPath string
}

type option func(*server.Config)

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.db")
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, log: &bytes.Buffer{}, dbPath: path}
	cfg := server.Config{Store: st, Logger: slog.New(slog.NewJSONHandler(lockedWriter{h}, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	h.srv = server.New(cfg)
	h.ts = httptest.NewServer(h.srv.Handler())
	t.Cleanup(func() {
		h.srv.Close()
		h.ts.Close()
		st.Close()
	})
	return h
}

type lockedWriter struct{ h *harness }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.log.Write(p)
}

func (h *harness) logs() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.log.String()
}

type device struct {
	ID, Token, Site, Role string
	counter               atomic.Int64
}

// hlc returns a fresh HLC of the device at the current time (+offset).
func (d *device) hlc(offset time.Duration) string {
	return fmt.Sprintf("%015d-%05d-%s", time.Now().Add(offset).UnixMilli(), d.counter.Add(1)%100000, d.ID)
}

func (h *harness) code(site, role string, uses int) string {
	h.t.Helper()
	c, err := server.CreateEnrollCode(context.Background(), h.st, site, role, time.Hour, uses, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) enroll(site, role string) *device {
	h.t.Helper()
	res := h.do("POST", "/v1/enroll", "", map[string]any{"code": h.code(site, role, 1), "device_name": "test " + role, "platform": "linux"})
	if res.status != 201 {
		h.t.Fatalf("enroll: %d %s", res.status, res.raw)
	}
	d := &device{ID: res.str("device_id"), Token: res.str("token"), Site: res.str("site_id"), Role: res.str("role")}
	return d
}

type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r result) str(k string) string { s, _ := r.body[k].(string); return s }

func (r result) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r result) results() []map[string]any {
	var out []map[string]any
	for _, x := range r.body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func (r result) changes() []map[string]any {
	var out []map[string]any
	for _, x := range r.body["changes"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// do sends a request; body may be nil, a []byte, a string, or a value to
// encode as JSON.
func (h *harness) do(method, path, token string, body any, headers ...string) result {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Outpost-Protocol", "1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("%s %s: Content-Type %q, body %q", method, path, ct, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.body); err != nil {
		h.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	if resp.StatusCode >= 400 {
		e, ok := r.body["error"].(map[string]any)
		if !ok || e["code"] == "" || e["message"] == "" || len(r.body) != 1 {
			h.t.Fatalf("%s %s: %d without the error body: %s", method, path, resp.StatusCode, raw)
		}
		if strings.Contains(string(raw), "goroutine") || strings.Contains(string(raw), ".go:") {
			h.t.Fatalf("%s %s: internals leaked: %s", method, path, raw)
		}
	}
	return r
}

func num(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case float64:
		return int64(n)
	}
	return -1
}

// record returns a full production_records row.
func record(id string, over map[string]any) map[string]any {
	m := map[string]any{
		"id": id, "line_id": "L1", "product_id": "P-100", "quantity": 5,
		"operator_id": "op-7", "created_at": 1700000000000, "updated_at": 1700000000001,
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// config returns a full line_configs row.
func config(id string, over map[string]any) map[string]any {
	m := map[string]any{
		"id": id, "line_id": "L1", "recipe": "R1", "target_rate_per_hour": 100,
		"temperature_c": 21.5, "speed_rpm": 1200, "notes": "n",
		"created_at": 1700000000000, "updated_at": 1700000000001,
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

func change(table, id, op string, base int64, hlc string, row map[string]any) map[string]any {
	c := map[string]any{"table": table, "id": id, "op": op, "base_version": base, "hlc": hlc}
	if row != nil {
		c["row"] = row
	}
	return c
}

// push sends one batch and expects 200.
func (h *harness) push(d *device, changes ...map[string]any) result {
	h.t.Helper()
	if changes == nil {
		changes = []map[string]any{}
	}
	res := h.do("POST", "/v1/push", d.Token, map[string]any{"batch_id": uuid.NewString(), "changes": changes})
	if res.status != 200 {
		h.t.Fatalf("push: %d %s", res.status, res.raw)
	}
	return res
}

func (h *harness) pull(d *device, cursor int64) result {
	h.t.Helper()
	res := h.do("GET", fmt.Sprintf("/v1/pull?cursor=%d&limit=5000", cursor), d.Token, nil)
	if res.status != 200 {
		h.t.Fatalf("pull: %d %s", res.status, res.raw)
	}
	return res
}

// pullAll returns every change after cursor, following has_more.
func (h *harness) pullAll(d *device, cursor int64) []map[string]any {
	var out []map[string]any
	for {
		res := h.pull(d, cursor)
		out = append(out, res.changes()...)
		cursor = num(res.body["cursor"])
		if res.body["has_more"] != true {
			return out
		}
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func newID() string { return uuid.NewString() }

var _ = httptest.NewRecorder
