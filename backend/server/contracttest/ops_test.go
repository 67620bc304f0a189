package contracttest

import (
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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logLines returns the server's log lines so far.
func (s *srv) logLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimRight(s.logs.String(), "\n"), "\n")
}

// logField returns field k of the first log line whose msg is msg.
func (s *srv) logField(msg, k string) string {
	for _, l := range s.logLines() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			return str(m[k])
		}
	}
	return ""
}

// TLS (--tls-cert/--tls-key), --max-body as a flag winning over its
// OUTPOST_ variable, and Prometheus metrics on --metrics ADDR.
func TestTLSMetricsFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	db := newDB()
	s := startServer(t, db, []string{"OUTPOST_MAX_BODY=1KiB", "OUTPOST_METRICS=127.0.0.1:0"},
		"--listen", "127.0.0.1:0", "--db", db, "--tls-cert", certFile, "--tls-key", keyFile, "--max-body", "100KiB")
	addr := strings.TrimPrefix(s.base, "http://")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}

	resp, err := c.Get("https://" + addr + "/v1/health")
	if err != nil {
		t.Fatalf("health over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("health over TLS: %d %s", resp.StatusCode, body)
	}
	// Plain HTTP is not served on the TLS port.
	if resp, err := http.Get("http://" + addr + "/v1/health"); err == nil {
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200 on the TLS listener")
		}
		resp.Body.Close()
	}

	// Enroll and push over TLS: 50 KiB passes --max-body 100KiB (the flag wins over OUTPOST_MAX_BODY=1KiB).
	code := s.code(t, site(t), "operator")
	resp, err = c.Post("https://"+addr+"/v1/enroll", "application/json", strings.NewReader(`{"code":"`+code+`","device_name":"tls","platform":"linux"}`))
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	json.NewDecoder(resp.Body).Decode(&en)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("enroll over TLS: %d %v", resp.StatusCode, en)
	}
	d := &device{s: s, id: str(en["device_id"]), token: str(en["token"])}
	for n, want := range map[int]int{50 << 10: 200, 100<<10 + 1: 413} {
		req, _ := http.NewRequest("POST", "https://"+addr+"/v1/push", strings.NewReader(string(padded(t, d, n))))
		req.Header.Set("Authorization", "Bearer "+d.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("push of %d bytes with --max-body 100KiB: %d, want %d", n, resp.StatusCode, want)
		}
	}

	maddr := s.logField("metrics listening", "addr")
	if maddr == "" {
		t.Fatalf("no metrics listening line with OUTPOST_METRICS set:\n%s", s.logTail())
	}
	resp, err = http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(metrics), "# TYPE ") {
		t.Errorf("metrics: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Content-Type"), metrics)
	}
	// Metrics are not on the API address.
	if resp, err := c.Get("https://" + addr + "/metrics"); err == nil {
		if resp.StatusCode != 404 {
			t.Errorf("/metrics on the API address: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Logs are structured, one line per request, and never contain tokens,
// enrollment codes or row contents.
func TestLogsKeepSecrets(t *testing.T) {
	t.Parallel()
	db := newDB()
	s := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	code := s.code(t, site(t), "manager", "--uses", "2")
	r := s.call(t, "POST", "/v1/enroll", map[string]any{"code": code, "device_name": "Line 3", "platform": "linux"})
	if r.Status != 201 {
		t.Fatalf("enroll: %v", r)
	}
	d := &device{s: s, id: str(r.Obj()["device_id"]), token: str(r.Obj()["token"])}
	secret := "ROW-CONTENT-7f3a9c"
	id := newID()
	requests := 1
	d.mustPush(t, d.upsert("production_records", id, 0, with(prodRow(id), "operator_id", secret)))
	d.mustPush(t, d.upsert("production_records", newID(), 0, with(prodRow(id), "line_id", secret+"-rejected")))
	d.pull(t, "cursor=0")
	s.call(t, "GET", "/v1/pull", nil, bearer("bogus-"+secret))
	s.call(t, "POST", "/v1/enroll", map[string]any{"code": "WRONG-" + secret, "device_name": "x"})
	requests += 5

	var lines []string
	eventually(t, 5*time.Second, func() error {
		lines = s.logLines()
		n := 0
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("a log line is not structured (JSON): %q", l)
			}
			if m["msg"] == "request" {
				n++
			}
		}
		if n < requests {
			return fmt.Errorf("%d request log lines for %d requests", n, requests)
		}
		return nil
	})
	all := strings.Join(lines, "\n")
	norm := strings.ToUpper(strings.ReplaceAll(code, "-", ""))
	// The server stores only hashes of codes and tokens: neither is in the
	// database files.
	files, _ := filepath.Glob(strings.TrimPrefix(db, "sqlite://") + "*")
	if len(files) == 0 {
		t.Errorf("no database files for %s", db)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"token": d.token, "code": code, "normalised code": norm, "lower-case code": strings.ToLower(norm)} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds the %s in clear", filepath.Base(f), name)
			}
		}
	}
	for name, v := range map[string]string{"token": d.token, "code": code, "normalised code": norm, "row content": secret} {
		if strings.Contains(all, v) {
			t.Errorf("the log contains the %s %q", name, v)
		}
	}
}

// No state lives only in a server's memory: after a restart on the same
// database, tokens, rows, the sequence, stored batch responses and the
// enrollment throttle are all still there.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	db := newDB()
	s1, err := startProc(db, nil, "--listen", "127.0.0.1:0", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.cmd.Process.Kill()
	d := s1.dev(t, site(t), "operator")
	id := newID()
	batch := map[string]any{"batch_id": newID(), "changes": []any{d.upsert("production_records", id, 0, prodRow(id))}}
	first := d.call(t, "POST", "/v1/push", batch)
	results(t, first, 1)
	addr := freshAddr()
	for i := 0; i < 10; i++ {
		s1.call(t, "POST", "/v1/enroll", map[string]any{"code": "NOPE-NOPE"}, from(addr))
	}
	_, cursor := d.feed(t)
	if exit, _, err := s1.terminate(15 * time.Second); err != nil || exit != 0 {
		t.Fatalf("SIGTERM: exit %d (%v)", exit, err)
	}

	s2 := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	d.s = s2
	if r := d.call(t, "POST", "/v1/push", batch); r.Status != 200 || !bytes.Equal(r.Raw, first.Raw) {
		t.Errorf("a batch repeated after a restart:\n got %v\nwant %s", r, first.Raw)
	}
	f, c2 := d.feed(t)
	if c2 != cursor || f["production_records/"+id] == nil {
		t.Errorf("after restart: cursor %d (was %d), rows %v", c2, cursor, f)
	}
	wantError(t, s2.call(t, "POST", "/v1/enroll", map[string]any{"code": "NOPE-NOPE"}, from(addr)), 429, "")
	id2 := newID()
	if v := num(t, d.mustPush(t, d.upsert("production_records", id2, 0, prodRow(id2)))[0]["version"]); v != cursor+1 {
		t.Errorf("the sequence after a restart went on at %d, want %d", v, cursor+1)
	}
}
