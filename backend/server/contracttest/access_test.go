package contracttest

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// GET /v1/health → 200 {"status":"ok","protocol":1,"server_time":<ms>}.
func TestHealth(t *testing.T) {
	t.Parallel()
	s := shared(t)
	before := time.Now().UnixMilli()
	r := s.call(t, "GET", "/v1/health", nil)
	after := time.Now().UnixMilli()
	if r.Status != 200 {
		t.Fatalf("health: %v", r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	m := r.Obj()
	if m["status"] != "ok" || !same(m["protocol"], 1) {
		t.Errorf("health: %s", r.Raw)
	}
	if st := num(t, m["server_time"]); st < before-1000 || st > after+1000 {
		t.Errorf("server_time %d is not now (%d…%d)", st, before, after)
	}
	// No token is needed, and the header is honoured.
	if r := s.call(t, "GET", "/v1/health", nil, hdr("Outpost-Protocol", "1")); r.Status != 200 {
		t.Errorf("health with Outpost-Protocol: 1: %v", r)
	}
}

// Outpost-Protocol: absent = version 1; 0 or negative → 426 with a sentence
// telling the operator to update, on every endpoint.
func TestProtocolHeader(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "manager")
	type ep struct {
		method, path string
		body         any
	}
	eps := []ep{
		{"GET", "/v1/health", nil},
		{"POST", "/v1/enroll", map[string]any{"code": "AAAA-BBBB", "device_name": "x", "platform": "linux"}},
		{"POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{}}},
		{"GET", "/v1/pull?cursor=0", nil},
		{"POST", "/v1/conflicts/" + newID() + "/resolve", map[string]any{}},
		{"GET", "/v1/events", nil},
	}
	for _, e := range eps {
		for _, v := range []string{"0", "-1", "-42", "0.5"} {
			r := d.call(t, e.method, e.path, e.body, hdr("Outpost-Protocol", v), from(freshAddr()))
			er := wantError(t, r, 426, "")
			if er != nil && !strings.Contains(strings.ToLower(str(er["message"])), "update") {
				t.Errorf("%s %s, protocol %s: the 426 message %q does not tell the operator to update", e.method, e.path, v, er["message"])
			}
		}
	}
	// Absent header = version 1, and "1" is version 1.
	for _, opts := range [][]reqOpt{nil, {hdr("Outpost-Protocol", "1")}} {
		if r := d.call(t, "GET", "/v1/pull?cursor=0", nil, opts...); r.Status != 200 {
			t.Errorf("pull (%d header opts): %v", len(opts), r)
		}
		if r := d.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{}}, opts...); r.Status != 200 {
			t.Errorf("push (%d header opts): %v", len(opts), r)
		}
	}
}

// The error body shape on 400/401/403/404/405/413/422/426 (429 and 403 are
// also checked in their own tests).
func TestErrorShape(t *testing.T) {
	t.Parallel()
	s := shared(t)
	op := s.dev(t, site(t), "operator")
	cases := []struct {
		name         string
		method, path string
		body         any
		auth         bool
		status       int
	}{
		{"unknown route", "GET", "/v1/nope", nil, true, 404},
		{"root", "GET", "/", nil, false, 404},
		{"unknown version", "GET", "/v2/health", nil, false, 404},
		{"wrong method push", "GET", "/v1/push", nil, true, 405},
		{"wrong method pull", "POST", "/v1/pull", "{}", true, 405},
		{"wrong method health", "DELETE", "/v1/health", nil, false, 405},
		{"wrong method enroll", "GET", "/v1/enroll", nil, false, 405},
		{"wrong method resolve", "GET", "/v1/conflicts/" + newID() + "/resolve", nil, true, 405},
		{"malformed push", "POST", "/v1/push", "{not json", true, 400},
		{"malformed enroll", "POST", "/v1/enroll", "[1,2", false, 400},
		{"bad cursor", "GET", "/v1/pull?cursor=abc", nil, true, 400},
		{"no token", "GET", "/v1/pull", nil, false, 401},
		{"resolve by operator", "POST", "/v1/conflicts/" + newID() + "/resolve", "{}", true, 403},
		{"batch_id not a uuid", "POST", "/v1/push", map[string]any{"batch_id": "batch-1", "changes": []any{}}, true, 422},
		{"too many changes", "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": make([]map[string]any, 1001)}, true, 413},
	}
	for _, c := range cases {
		opts := []reqOpt{from(freshAddr())}
		if c.auth {
			opts = append(opts, bearer(op.token))
		}
		r := s.call(t, c.method, c.path, c.body, opts...)
		t.Run(c.name, func(t *testing.T) { wantError(t, r, c.status, "") })
	}
}

// enroll: 201 with the fields; single use; --uses N; --ttl; a site with any
// characters; the CLI prints the code alone on its last stdout line.
func TestEnroll(t *testing.T) {
	t.Parallel()
	s := shared(t)
	addr := freshAddr() // this test's failures are counted apart
	siteName := `Plant "Nord" 1 — O'Brien; DROP TABLE sites;-- ✓`
	for _, role := range []string{"operator", "manager"} {
		code := s.code(t, siteName, role)
		if strings.ContainsAny(code, " \t") || len(code) < 8 {
			t.Errorf("the code line %q is not a code alone", code)
		}
		body := map[string]any{"code": code, "device_name": "Line 3 terminal", "platform": "windows"}
		r := s.call(t, "POST", "/v1/enroll", body, from(addr))
		if r.Status != 201 {
			t.Fatalf("enroll %s: %v", role, r)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		m := r.Obj()
		if !uuidRE.MatchString(str(m["device_id"])) {
			t.Errorf("device_id %v is not a UUID", m["device_id"])
		}
		if str(m["token"]) == "" || m["site_id"] != siteName || m["role"] != role {
			t.Errorf("enroll answer: %s", r.Raw)
		}
		// The token works at once.
		d := &device{s: s, id: str(m["device_id"]), token: str(m["token"])}
		if r := d.pull(t, "cursor=0"); r.Status != 200 {
			t.Errorf("pull with the new token: %v", r)
		}
		// Single use.
		wantError(t, s.call(t, "POST", "/v1/enroll", body, from(addr)), 401, "")
	}

	t.Run("uses", func(t *testing.T) {
		t.Parallel()
		code := s.code(t, site(t), "operator", "--uses", "3")
		ids := map[string]bool{}
		for i := 0; i < 3; i++ {
			r := s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": fmt.Sprint("t", i), "platform": "linux"}, from(addr))
			if r.Status != 201 {
				t.Fatalf("enrollment %d of 3: %v", i+1, r)
			}
			ids[str(r.Obj()["device_id"])] = true
		}
		if len(ids) != 3 {
			t.Errorf("three enrollments gave %d device ids", len(ids))
		}
		wantError(t, s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": "t4", "platform": "linux"}, from(addr)), 401, "")
	})

	t.Run("ttl", func(t *testing.T) {
		t.Parallel()
		code := s.code(t, site(t), "operator", "--ttl", "1s")
		time.Sleep(1500 * time.Millisecond)
		wantError(t, s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": "late", "platform": "linux"}, from(addr)), 401, "")
		// A longer ttl is still valid after the same wait.
		code = s.code(t, site(t), "operator", "--ttl", "1h")
		if r := s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": "on time", "platform": "linux"}, from(addr)); r.Status != 201 {
			t.Errorf("enroll with --ttl 1h: %v", r)
		}
	})

	t.Run("unknown code", func(t *testing.T) {
		t.Parallel()
		wantError(t, s.call(t, "POST", "/v1/enroll", map[string]any{"code": "AAAA-BBBB-CCCC-DDDD", "device_name": "x", "platform": "linux"}, from(addr)), 401, "")
	})

	t.Run("env db", func(t *testing.T) {
		t.Parallel()
		// OUTPOST_DB in place of --db; the code is valid on the running server.
		out, errOut, code := runCLI([]string{"OUTPOST_DB=" + s.db}, "enroll", "--site", site(t), "--role", "manager")
		if code != 0 {
			t.Fatalf("enroll with OUTPOST_DB: exit %d %s", code, errOut)
		}
		r := s.call(t, "POST", "/v1/enroll", map[string]any{"code": lastLine(out), "device_name": "env", "platform": "linux"}, from(addr))
		if r.Status != 201 || r.Obj()["role"] != "manager" {
			t.Errorf("enroll with a code made through OUTPOST_DB: %v", r)
		}
	})
}

// 429 after more than 10 failed enrollments in a minute from one address,
// for every attempt from it until the minute has passed — a right code
// included (docs/design.md section 4: otherwise the throttle would not stop guessing);
// other addresses and successful enrollments are not limited; a parallel
// burst never passes the limit (a failure slot is taken before the code is
// checked).
func TestEnrollThrottle(t *testing.T) {
	t.Parallel()
	db := newDB() // a server of its own: its failures are counted apart from other tests'
	s := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	addr, other := freshAddr(), freshAddr()
	bad := map[string]any{"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "device_name": "guess", "platform": "linux"}
	for i := 1; i <= 10; i++ {
		r := s.call(t, "POST", "/v1/enroll", bad, from(addr))
		if r.Status != 401 {
			t.Fatalf("failure %d of 10: want 401, got %v", i, r)
		}
	}
	r := s.call(t, "POST", "/v1/enroll", bad, from(addr))
	wantError(t, r, 429, "")
	wantError(t, s.call(t, "POST", "/v1/enroll", bad, from(addr)), 429, "")
	code := s.code(t, site(t), "operator", "--uses", "15")
	good := map[string]any{"code": code, "device_name": "fleet", "platform": "linux"}
	// A right code from the throttled address is refused too.
	wantError(t, s.call(t, "POST", "/v1/enroll", good, from(addr)), 429, "rate_limited")
	if !loopbackAliases() {
		return // the rest needs a second source address
	}
	// Another address is not limited.
	wantError(t, s.call(t, "POST", "/v1/enroll", bad, from(other)), 401, "")
	// Successful enrollments in a row are not limited.
	fleet := freshAddr()
	for i := 0; i < 14; i++ {
		if r := s.call(t, "POST", "/v1/enroll", good, from(fleet)); r.Status != 201 {
			t.Fatalf("fleet enrollment %d: %v", i+1, r)
		}
	}
	// A parallel burst of wrong codes from a fresh address: exactly 10
	// failures are answered, the rest 429.
	burst := freshAddr()
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.call(t, "POST", "/v1/enroll", bad, from(burst))
			mu.Lock()
			counts[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[401] != 10 || counts[429] != 20 {
		t.Errorf("a parallel burst of 30 wrong codes: %v, want 10 × 401 and 20 × 429", counts)
	}
}

// 401 for a missing or unknown token on every authenticated endpoint; a
// device revoked with the CLI gets 401 device_revoked at once.
func TestAuth(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	devs := s.enroll(t, sname, "manager", 2)
	d, other := devs[0], devs[1]
	paths := []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": []any{}}},
		{"GET", "/v1/pull?cursor=0", nil},
		{"POST", "/v1/conflicts/" + newID() + "/resolve", map[string]any{}},
		{"GET", "/v1/events", nil},
	}
	for _, p := range paths {
		for _, opts := range [][]reqOpt{
			nil,
			{bearer("not-a-token")},
			{bearer("")},
			{hdr("Authorization", "Basic "+d.token)},
			{hdr("Authorization", d.token)},
		} {
			wantError(t, s.call(t, p.method, p.path, p.body, opts...), 401, "")
		}
	}

	if r := d.pull(t, "cursor=0"); r.Status != 200 {
		t.Fatalf("pull before revoke: %v", r)
	}
	out := s.cli(t, "devices", "list")
	if !strings.Contains(out, d.id) || !strings.Contains(out, other.id) {
		t.Errorf("devices list does not show the devices:\n%s", out)
	}
	if out := s.cli(t, "devices", "list", "--site", "no such site"); strings.Contains(out, d.id) {
		t.Errorf("devices list --site shows another site's device:\n%s", out)
	}
	if out := s.cli(t, "devices", "list", "--site", sname); !strings.Contains(out, d.id) {
		t.Errorf("devices list --site %q does not show its device:\n%s", sname, out)
	}
	s.cli(t, "devices", "revoke", "--device", d.id)
	for _, p := range paths {
		wantError(t, d.call(t, p.method, p.path, p.body), 401, "device_revoked")
	}
	// The other device of the site is unaffected.
	if r := other.pull(t, "cursor=0"); r.Status != 200 {
		t.Errorf("another device after the revocation: %v", r)
	}
}
