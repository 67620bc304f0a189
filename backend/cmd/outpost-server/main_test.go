package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCLI_EnrollAndDevices(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	code, out, errs := runCLI(t, "enroll", "--db", db, "--site", "North", "--role", "manager", "--uses", "2", "--ttl", "1h")
	if code != 0 || len(lastLine(out)) < 20 {
		t.Fatalf("enroll: %d %q %q", code, out, errs)
	}
	t.Setenv("OUTPOST_DB", db)
	t.Setenv("OUTPOST_ROLE", "operator")
	if code, out, errs := runCLI(t, "enroll", "--site", "South"); code != 0 || !strings.Contains(out, "operator") {
		t.Fatalf("enroll from env: %d %q %q", code, out, errs)
	}
	for _, bad := range [][]string{
		{"enroll", "--site", "S", "--role", "admin"},
		{"enroll", "--role", "manager"},
		{"enroll", "--site", "S", "--role", "manager", "--uses", "0"},
		{"devices", "revoke"},
		{"nope"},
		{"serve", "--tls-cert", "x"},
	} {
		if code, _, errs := runCLI(t, bad...); code != 2 || errs == "" {
			t.Fatalf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
	if code, out, _ := runCLI(t, "devices", "list"); code != 0 || !strings.Contains(out, "LAST_SEEN") || !strings.Contains(out, "CURSOR") || !strings.Contains(out, "COMMITTED") {
		t.Fatalf("devices list: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "devices", "revoke", "--device", "nope"); code != 1 || !strings.Contains(errs, "no device") {
		t.Fatalf("revoke unknown: %d %q", code, errs)
	}
	os.Unsetenv("OUTPOST_DB")
	if code, _, errs := runCLI(t, "devices", "list", "--db", ""); code != 2 || !strings.Contains(errs, "--db") {
		t.Fatalf("no db: %d %q", code, errs)
	}
}

// restored gives the database a new timeline each time it runs, and needs
// --db.
func TestCLI_Restored(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	timelines := map[string]bool{}
	for range 2 {
		code, out, errs := runCLI(t, "restored", "--db", db)
		f := strings.Fields(strings.ReplaceAll(out, ":", " "))
		if code != 0 || len(f) < 5 || f[0] != "timeline" || f[2] != "replaced" {
			t.Fatalf("restored: %d %q %q", code, out, errs)
		}
		if _, err := uuid.Parse(f[4]); err != nil || f[1] == f[4] || timelines[f[4]] {
			t.Fatalf("restored printed %q", out)
		}
		timelines[f[1]], timelines[f[4]] = true, true
	}
	if code, _, errs := runCLI(t, "restored"); code != 2 || !strings.Contains(errs, "--db") {
		t.Fatalf("restored without --db: %d %q", code, errs)
	}
	if code, out, _ := runCLI(t, "help"); code != 0 || !strings.Contains(out, "restored --db URL") {
		t.Fatalf("help does not name restored: %q", out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds outpost-server once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outpost-server-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "outpost-server")
		if runtime.GOOS == "windows" {
			binPath += ".exe" // Windows runs nothing else
		}
		out, err := exec.Command("go", "build", "-ldflags", "-X main.version=test-1.2.3", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd     *exec.Cmd
	addr    string
	metrics string
	done    chan error
	logs    *bytes.Buffer
	mu      *sync.Mutex
}

// start runs `outpost-server serve` and waits for its listening line.
func start(t *testing.T, db string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db}, extra...)
	cmd := exec.Command(binary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			var m map[string]any
			json.Unmarshal([]byte(line), &m)
			if m["msg"] == "metrics listening" {
				p.metrics = m["addr"].(string)
			}
			if m["msg"] == "listening" && !closed {
				p.addr = m["addr"].(string)
				closed = true
				close(ready)
			}
			p.mu.Unlock()
		}
		p.done <- cmd.Wait()
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start: %s", p.logs)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	return p
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func enrollDevice(t *testing.T, db, site, role string, p *proc) (id, token string) {
	t.Helper()
	code, out, errs := runCLI(t, "enroll", "--db", db, "--site", site, "--role", role)
	if code != 0 {
		t.Fatalf("enroll: %s", errs)
	}
	body := fmt.Sprintf(`{"code":%q,"device_name":"test","platform":"linux"}`, lastLine(out))
	resp, err := http.Post(p.url("/v1/enroll"), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var en struct {
		DeviceID string `json:"device_id"`
		Token    string `json:"token"`
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&en) != nil {
		t.Fatalf("enroll over HTTP: %d", resp.StatusCode)
	}
	return en.DeviceID, en.Token
}

func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func pushBody(devID string, n int) (string, []string) {
	var cs []string
	var ids []string
	for i := 0; i < n; i++ {
		id := uuid.NewString()
		ids = append(ids, id)
		h := fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), i, devID)
		cs = append(cs, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"upsert","base_version":0,"hlc":%q,"row":{"id":%q,"line_id":"L","product_id":"P","quantity":%d,"operator_id":"o","created_at":1,"updated_at":2}}`, id, h, id, i))
	}
	return fmt.Sprintf(`{"batch_id":%q,"changes":[%s]}`, uuid.NewString(), strings.Join(cs, ",")), ids
}

// TestServe_KillNine: acknowledged writes survive a hard kill and restart,
// and a repeated batch still answers from its stored response.
func TestServe_KillNine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.db")
	db := "sqlite://" + path
	p := start(t, db)
	devID, token := enrollDevice(t, db, "S", "operator", p)
	acked := map[string]bool{}
	var lastBody string
	var lastAnswer []byte
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Concurrent pushers, so that commits are grouped (the SQLite store
	// shares one fsync between queued transactions).
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 5; b++ {
				body, ids := pushBody(devID, 20)
				req, _ := http.NewRequest("POST", p.url("/v1/push"), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("push: %d %s", resp.StatusCode, raw)
					return
				}
				mu.Lock()
				for _, id := range ids {
					acked[id] = true
				}
				lastBody, lastAnswer = body, raw
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done

	p2 := start(t, path) // a plain path works too
	st, raw := call(t, "GET", p2.url("/v1/pull?cursor=0&limit=5000"), token, "")
	if st != 200 {
		t.Fatalf("pull after restart: %d %s", st, raw)
	}
	var res struct {
		Changes []struct{ ID string } `json:"changes"`
	}
	json.Unmarshal(raw, &res)
	for _, c := range res.Changes {
		delete(acked, c.ID)
	}
	if len(acked) != 0 {
		t.Fatalf("%d acknowledged rows lost after kill -9", len(acked))
	}
	if st, again := call(t, "POST", p2.url("/v1/push"), token, lastBody); st != 200 || !bytes.Equal(again, lastAnswer) {
		t.Fatalf("repeat after restart: %d %s", st, again)
	}
}

// TestServe_Lifecycle: version stamping, revocation through the CLI on a
// running server, metrics, SIGTERM closing event streams and exiting 0.
func TestServe_Lifecycle(t *testing.T) {
	if out, err := exec.Command(binary(t), "version").Output(); err != nil || !strings.Contains(string(out), "test-1.2.3") {
		t.Fatalf("version: %q %v", out, err)
	}
	path := filepath.Join(t.TempDir(), "server.db")
	db := "sqlite://" + path
	p := start(t, db, "--metrics", "127.0.0.1:0", "--drain-timeout", "5s")
	devID, token := enrollDevice(t, db, "S", "operator", p)

	if code, out, _ := runCLI(t, "devices", "list", "--db", db, "--site", "S"); code != 0 || !strings.Contains(out, devID) {
		t.Fatalf("devices list: %q", out)
	}
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "outpost_http_requests_total") {
		t.Fatalf("metrics: %.300s", m)
	}

	req, _ := http.NewRequest("GET", p.url("/v1/events"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ev, err := http.DefaultClient.Do(req)
	if err != nil || ev.StatusCode != 200 {
		t.Fatalf("events: %v", err)
	}
	streamDone := make(chan struct{})
	go func() { io.Copy(io.Discard, ev.Body); close(streamDone) }()

	// A second device, revoked through the CLI while the server runs.
	dev2, token2 := enrollDevice(t, db, "S", "operator", p)
	if code, _, errs := runCLI(t, "devices", "revoke", "--db", db, "--device", dev2); code != 0 {
		t.Fatalf("revoke: %s", errs)
	}
	if st, raw := call(t, "GET", p.url("/v1/pull?cursor=0"), token2, ""); st != 401 || !strings.Contains(string(raw), "device_revoked") {
		t.Fatalf("revoked device: %d %s", st, raw)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	select {
	case <-streamDone:
	case <-time.After(2 * time.Second):
		t.Fatal("event stream still open")
	}
	p.mu.Lock()
	logs := p.logs.String()
	p.mu.Unlock()
	if strings.Contains(logs, token) || strings.Contains(logs, token2) {
		t.Fatal("a token reached the log")
	}
}

func TestServe_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	t.Setenv("OUTPOST_TLS_CERT", certFile)
	t.Setenv("OUTPOST_TLS_KEY", keyFile)
	p := start(t, filepath.Join(dir, "s.db"))
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + p.addr + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health over TLS: %d", resp.StatusCode)
	}
}
