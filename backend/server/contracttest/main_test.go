// Package contracttest is a black-box test of outpost-server against the
// fixed wire contract of docs/design.md section 4. It builds the real binary once,
// runs `serve` as a separate process on loopback over a SQLite database in a
// temporary directory, administers it with the binary's own CLI, and speaks to
// it with plain net/http and encoding/json into generic maps: it imports
// nothing of the repository, as a tester outside it would.
//
//	go test ./backend/server/contracttest/
package contracttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	binPath string // the outpost-server built by TestMain
	workDir string // temporary directory of this run (databases live here)

	sharedOnce sync.Once
	sharedSrv  *srv
	sharedErr  error
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "outpost-contract-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binPath = filepath.Join(dir, "outpost-server")
	if runtime.GOOS == "windows" {
		binPath += ".exe" // Windows runs nothing else
	}
	build := exec.Command("go", "build", "-o", binPath, "./backend/cmd/outpost-server")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build outpost-server:", err)
		return 1
	}
	code := m.Run()
	if sharedSrv != nil {
		// The shared server must also shut down cleanly on SIGTERM.
		if exit, d, err := sharedSrv.terminate(15 * time.Second); err != nil || exit != 0 {
			fmt.Fprintf(os.Stderr, "shared server: SIGTERM → exit %d after %v (%v)\n%s", exit, d, err, sharedSrv.logTail())
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// ---------------------------------------------------------------------------
// Server processes

type srv struct {
	db   string // sqlite:///abs/path
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	logs bytes.Buffer
	exit *os.ProcessState
}

var dbSeq atomic.Int64

// newDB returns a fresh sqlite:/// URL under the run's directory.
func newDB() string {
	return "sqlite://" + filepath.Join(workDir, fmt.Sprintf("server-%d.db", dbSeq.Add(1)))
}

// cleanEnv is the environment without OUTPOST_* variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OUTPOST_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startProc runs `outpost-server serve args…` with env and waits for its
// "listening" log line. db is the database URL the CLI should use.
func startProc(db string, env []string, args ...string) (*srv, error) {
	cmd := exec.Command(binPath, append([]string{"serve"}, args...)...)
	cmd.Env = cleanEnv(env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &srv{db: db, cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if !sent {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
					if a, ok := m["addr"].(string); ok {
						ready <- a
						sent = true
					}
				}
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		s.mu.Lock()
		s.exit = cmd.ProcessState
		s.mu.Unlock()
		close(s.done)
	}()
	select {
	case addr := <-ready:
		s.base = "http://" + addr
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("outpost-server serve exited before listening: %s", s.logTail())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("outpost-server serve did not listen within 30s: %s", s.logTail())
	}
}

// startServer runs a server of its own for one test; it is stopped (and
// must exit 0 on SIGTERM) when the test ends.
func startServer(t *testing.T, db string, env []string, args ...string) *srv {
	t.Helper()
	s, err := startProc(db, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exit, d, err := s.terminate(15 * time.Second); err != nil || exit != 0 {
			t.Errorf("SIGTERM: exit %d after %v (%v)\n%s", exit, d, err, s.logTail())
		}
	})
	return s
}

// shared returns the server most tests share (each test uses sites of its
// own). Started on first use, stopped by TestMain.
func shared(t *testing.T) *srv {
	t.Helper()
	sharedOnce.Do(func() {
		db := newDB()
		sharedSrv, sharedErr = startProc(db, nil, "--listen", "127.0.0.1:0", "--db", db)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedSrv
}

// terminate sends SIGTERM and waits up to limit for the exit.
func (s *srv) terminate(limit time.Duration) (exit int, took time.Duration, err error) {
	start := time.Now()
	select {
	case <-s.done:
	default:
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return -1, 0, err
		}
	}
	select {
	case <-s.done:
	case <-time.After(limit):
		s.cmd.Process.Kill()
		<-s.done
		return -1, time.Since(start), fmt.Errorf("no exit within %v of SIGTERM", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exit.ExitCode(), time.Since(start), nil
}

func (s *srv) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.logs.String()
	if len(b) > 4000 {
		b = "…" + b[len(b)-4000:]
	}
	return b
}

// cli runs an administration command on the server's database (--db is
// appended) and returns its stdout; it fails the test on a non-zero exit.
func (s *srv) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(nil, append(args, "--db", s.db)...)
	if code != 0 {
		t.Fatalf("outpost-server %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func runCLI(env []string, args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv(env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		return "", err.Error(), -1
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// code creates an enrollment code with the CLI (flags: --ttl, --uses …).
func (s *srv) code(t *testing.T, site, role string, flags ...string) string {
	t.Helper()
	out := s.cli(t, append([]string{"enroll", "--site", site, "--role", role}, flags...)...)
	c := lastLine(out)
	if c == "" {
		t.Fatalf("enroll printed no code: %q", out)
	}
	return c
}

// ---------------------------------------------------------------------------
// HTTP

type reply struct {
	Status int
	Header http.Header
	Raw    []byte // the body, gunzipped when it came gzipped
	Wire   []byte // the body as received
	JSON   any    // Raw decoded (numbers as json.Number), nil when not JSON
}

// Obj returns the decoded body as an object (empty when it is not one).
func (r reply) Obj() map[string]any {
	m, _ := r.JSON.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (r reply) String() string {
	b := r.Raw
	if len(b) > 600 {
		b = append(b[:600:600], "…"...)
	}
	return fmt.Sprintf("HTTP %d %s", r.Status, b)
}

type reqOpt func(*http.Request, *reqConf)

type reqConf struct{ from string }

func hdr(k, v string) reqOpt { return func(r *http.Request, _ *reqConf) { r.Header.Set(k, v) } }

func bearer(tok string) reqOpt { return hdr("Authorization", "Bearer "+tok) }

// from sends the request from another loopback source address.
func from(ip string) reqOpt { return func(_ *http.Request, c *reqConf) { c.from = ip } }

// gzipped sends the body gzip-compressed (Content-Encoding: gzip).
func gzipped() reqOpt {
	return func(r *http.Request, _ *reqConf) {
		if r.Body == nil {
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		r.ContentLength = int64(buf.Len())
		r.Header.Set("Content-Encoding", "gzip")
	}
}

var (
	clientsMu sync.Mutex
	clients   = map[string]*http.Client{}
)

// client returns an HTTP client dialing from the loopback address ip ("" =
// any). Compression is left to the tests: nothing is gunzipped behind their
// back.
func client(ip string) *http.Client {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c := clients[ip]; c != nil {
		return c
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if ip != "" && loopbackAliases() {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	c := &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 16,
		},
	}
	clients[ip] = c
	return c
}

var lastFrom atomic.Int64

var (
	aliasOnce sync.Once
	aliasOK   bool
)

// loopbackAliases reports whether this machine can send from 127.0.x.y
// (Linux routes all of 127/8 to lo; other systems may not): without them,
// from() sends from the default address.
func loopbackAliases() bool {
	aliasOnce.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return
		}
		defer l.Close()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.9.9")}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
			aliasOK = true
		}
	})
	return aliasOK
}

// freshAddr returns a loopback address no other test uses: enrollment
// failures are counted per client address.
func freshAddr() string {
	n := lastFrom.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 1+n/250, 2+n%250)
}

// call sends one request. body: nil (none), []byte or string (sent as is),
// anything else (JSON-encoded).
func (s *srv) call(t testing.TB, method, path string, body any, opts ...reqOpt) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var conf reqConf
	for _, o := range opts {
		o(req, &conf)
	}
	resp, err := client(conf.from).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	wire, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Wire: wire, Raw: wire}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			t.Fatalf("%s %s: answer says gzip but is not: %v", method, path, err)
		}
		if r.Raw, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s %s: gunzip answer: %v", method, path, err)
		}
	}
	if len(bytes.TrimSpace(r.Raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			r.JSON = v
		}
	}
	return r
}

// ---------------------------------------------------------------------------
// Devices

type device struct {
	s                     *srv
	id, token, site, role string
}

// enroll enrolls n devices of site with role through one --uses n code.
func (s *srv) enroll(t *testing.T, site, role string, n int) []*device {
	t.Helper()
	code := s.code(t, site, role, "--uses", fmt.Sprint(n))
	out := make([]*device, n)
	for i := range out {
		r := s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": fmt.Sprintf("terminal %d", i), "platform": "linux"})
		if r.Status != 201 {
			t.Fatalf("enroll: %v", r)
		}
		m := r.Obj()
		out[i] = &device{s: s, id: str(m["device_id"]), token: str(m["token"]), site: str(m["site_id"]), role: str(m["role"])}
		if out[i].id == "" || out[i].token == "" {
			t.Fatalf("enroll answered %v", r)
		}
	}
	return out
}

func (s *srv) dev(t *testing.T, site, role string) *device { return s.enroll(t, site, role, 1)[0] }

func (d *device) call(t testing.TB, method, path string, body any, opts ...reqOpt) reply {
	t.Helper()
	return d.s.call(t, method, path, body, append([]reqOpt{bearer(d.token)}, opts...)...)
}

var (
	clockMu      sync.Mutex
	clockMS      int64
	clockCounter int
)

// hlc returns a fresh HLC of the device. (ms, counter) grows across every
// device of the run, so a later call always makes a greater HLC: "the later
// edit wins" never depends on two edits sharing a millisecond.
func (d *device) hlc() string {
	clockMu.Lock()
	defer clockMu.Unlock()
	ms := time.Now().UnixMilli()
	if ms <= clockMS {
		ms, clockCounter = clockMS, clockCounter+1
	} else {
		clockCounter = 0
	}
	clockMS = ms
	return hlcOf(ms, clockCounter, d.id)
}

func hlcOf(ms int64, counter int, node string) string {
	return fmt.Sprintf("%015d-%05d-%s", ms, counter, node)
}

// push sends one batch with a fresh batch id.
func (d *device) push(t testing.TB, changes ...map[string]any) reply {
	t.Helper()
	if changes == nil {
		changes = []map[string]any{}
	}
	return d.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": changes})
}

// mustPush pushes and returns the results, checking 200 and their number.
func (d *device) mustPush(t testing.TB, changes ...map[string]any) []map[string]any {
	t.Helper()
	r := d.push(t, changes...)
	return results(t, r, len(changes))
}

func results(t testing.TB, r reply, n int) []map[string]any {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("push: %v", r)
	}
	list, ok := r.Obj()["results"].([]any)
	if !ok || len(list) != n {
		t.Fatalf("push: want %d results, got %v", n, r)
	}
	out := make([]map[string]any, n)
	for i, v := range list {
		out[i], _ = v.(map[string]any)
		if out[i] == nil {
			t.Fatalf("result %d is not an object: %v", i, r)
		}
	}
	return out
}

// upsert is a change of d (fresh HLC).
func (d *device) upsert(table, id string, base int64, row map[string]any) map[string]any {
	return map[string]any{"table": table, "id": id, "op": "upsert", "base_version": base, "hlc": d.hlc(), "row": row}
}

func (d *device) del(table, id string, base int64, row map[string]any) map[string]any {
	c := map[string]any{"table": table, "id": id, "op": "delete", "base_version": base, "hlc": d.hlc()}
	if row != nil {
		c["row"] = row
	}
	return c
}

func (d *device) pull(t testing.TB, query string, opts ...reqOpt) reply {
	t.Helper()
	return d.call(t, "GET", "/v1/pull?"+query, nil, opts...)
}

// feed pulls the whole feed from cursor 0 and returns the latest change of
// each row by "table/id", and the final cursor.
func (d *device) feed(t testing.TB) (map[string]map[string]any, int64) {
	t.Helper()
	out := map[string]map[string]any{}
	cursor := int64(0)
	for i := 0; ; i++ {
		r := d.pull(t, fmt.Sprintf("cursor=%d&limit=5000", cursor))
		if r.Status != 200 {
			t.Fatalf("pull: %v", r)
		}
		m := r.Obj()
		for _, c := range list(t, m["changes"]) {
			out[str(c["table"])+"/"+str(c["id"])] = c
		}
		cursor = num(t, m["cursor"])
		if m["has_more"] != true {
			return out, cursor
		}
		if i > 100 {
			t.Fatal("pull never ends")
		}
	}
}

// rowOf returns the pulled row table/id (nil when absent).
func (d *device) rowOf(t testing.TB, table, id string) (row map[string]any, change map[string]any) {
	t.Helper()
	f, _ := d.feed(t)
	c := f[table+"/"+id]
	if c == nil {
		return nil, nil
	}
	row, _ = c["row"].(map[string]any)
	return row, c
}

// ---------------------------------------------------------------------------
// Rows and values

var idSeq atomic.Int64

// newID returns a random UUID v4.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// site returns a site name no other test uses.
func site(t *testing.T) string {
	return fmt.Sprintf("%s #%d", t.Name(), idSeq.Add(1))
}

func prodRow(id string) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": id, "line_id": "L3", "product_id": "P-100", "quantity": 12,
		"operator_id": "op-7", "created_at": now, "updated_at": now}
}

func lineRow(id string) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": id, "line_id": "L3", "recipe": "R1", "target_rate_per_hour": 120,
		"temperature_c": 21.5, "speed_rpm": 1400, "notes": "first", "created_at": now, "updated_at": now}
}

func with(row map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(row)+len(kv)/2)
	for k, v := range row {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func without(row map[string]any, keys ...string) map[string]any {
	out := with(row)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

var prodColumns = []string{"id", "line_id", "product_id", "quantity", "operator_id", "created_at", "updated_at", "deleted_at", "server_updated_at"}
var lineColumns = []string{"id", "line_id", "recipe", "target_rate_per_hour", "temperature_c", "speed_rpm", "notes", "created_at", "updated_at", "deleted_at", "server_updated_at"}

// lineAdditive are line_configs columns added within v1 (clients ignore
// columns they do not know): updated_by, who made the state (issue 10).
var lineAdditive = []string{"updated_by"}

func str(v any) string { s, _ := v.(string); return s }

func num(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return i
}

func list(t testing.TB, v any) []map[string]any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%v (%T) is not a list", v, v)
	}
	out := make([]map[string]any, len(l))
	for i, e := range l {
		if out[i], ok = e.(map[string]any); !ok {
			t.Fatalf("list element %v is not an object", e)
		}
	}
	return out
}

// same compares JSON values whatever their Go types (json.Number, int, …).
func same(a, b any) bool {
	norm := func(v any) any {
		j, _ := json.Marshal(v)
		var out any
		json.Unmarshal(j, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// sameFields checks that row holds want's values (only want's keys).
func sameFields(t testing.TB, what string, row, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if !same(row[k], v) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, row[k], v)
		}
	}
}

func hasKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q in %v", what, k, keys2(m))
		}
	}
}

func lacksKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; ok {
			t.Errorf("%s: carries %q, it must not", what, k)
		}
	}
}

func keys2(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// wantError checks an error answer: the status, JSON content type and the
// body {"error":{"code":"<snake_case>","message":"<sentence>"}}; code is
// checked when not empty.
func wantError(t testing.TB, r reply, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Errorf("want HTTP %d %s, got %v", status, code, r)
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("HTTP %d: Content-Type %q, want application/json", status, ct)
	}
	m := r.Obj()
	e, ok := m["error"].(map[string]any)
	if !ok || len(m) != 1 {
		t.Errorf("HTTP %d: body is not {\"error\":{…}}: %s", status, r.Raw)
		return nil
	}
	c, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if !snake.MatchString(c) {
		t.Errorf("HTTP %d: error code %q is not snake_case", status, c)
	}
	if code != "" && c != code {
		t.Errorf("HTTP %d: error code %q, want %q (%s)", status, c, code, r.Raw)
	}
	if len(strings.Fields(msg)) < 2 {
		t.Errorf("HTTP %d: error message %q is not a sentence", status, msg)
	}
	return e
}

// rejection checks a rejected result and its "<code>: <sentence>".
func rejection(t testing.TB, what string, res map[string]any, code string) {
	t.Helper()
	if res["status"] != "rejected" {
		t.Errorf("%s: status %v, want rejected %s (%v)", what, res["status"], code, res)
		return
	}
	if _, ok := res["version"]; ok {
		t.Errorf("%s: a rejected result carries version %v", what, res["version"])
	}
	e := str(res["error"])
	c, sentence, ok := strings.Cut(e, ": ")
	if !ok || strings.TrimSpace(sentence) == "" {
		t.Errorf("%s: error %q is not '<code>: <sentence>'", what, e)
	}
	if code != "" && c != code {
		t.Errorf("%s: rejection code %q, want %q (%q)", what, c, code, e)
	}
}

func wantStatus(t testing.TB, what string, res map[string]any, status string) {
	t.Helper()
	if res["status"] != status {
		t.Fatalf("%s: status %v, want %s: %v", what, res["status"], status, res)
	}
}

// eventually retries f until it returns nil or d passes.
func eventually(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Server-sent events

type stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan sse
	ended  chan struct{}
}

type sse struct {
	event, data string
	comment     bool
}

func (d *device) events(t *testing.T) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", d.s.base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Accept", "text/event-stream")
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("events: HTTP %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	st := &stream{resp: resp, cancel: cancel, events: make(chan sse, 64), ended: make(chan struct{})}
	go func() {
		defer close(st.ended)
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.event != "" || cur.data != "" || cur.comment {
					st.events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				cur.comment = true
			case strings.HasPrefix(line, "event:"):
				cur.event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				cur.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	t.Cleanup(st.close)
	return st
}

func (st *stream) close() {
	st.cancel()
	st.resp.Body.Close()
}

// next returns the next "event: change" cursor, or false after d.
func (st *stream) next(t *testing.T, d time.Duration) (int64, bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-st.events:
			if e.comment && e.event == "" {
				continue
			}
			if e.event != "change" {
				t.Fatalf("unexpected event %q %q", e.event, e.data)
			}
			dec := json.NewDecoder(strings.NewReader(e.data))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil || len(m) != 1 {
				t.Fatalf("event data %q is not {\"cursor\":N}", e.data)
			}
			return num(t, m["cursor"]), true
		case <-timeout:
			return 0, false
		case <-st.ended:
			return 0, false
		}
	}
}
