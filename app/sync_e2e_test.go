package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/syncclient"
)

var (
	serverOnce sync.Once
	serverBin  string
	serverErr  error
	// lastServerDB is the database of the server startServer started last
	// (for more enrollment codes).
	lastServerDB string
)

// envTestServer names a prebuilt outpost-server for these tests: where the
// tests run without a Go toolchain (make package-test runs the Windows test
// binary under Wine with a cross-compiled outpost-server.exe).
const envTestServer = "OUTPOST_TEST_SERVER"

var errNoToolchain = errors.New("no go command to build outpost-server")

// buildServer returns the outpost-server to run: $OUTPOST_TEST_SERVER, else
// one built with the go command (named .exe on Windows, which runs nothing
// else).
func buildServer() (string, error) {
	if p := os.Getenv(envTestServer); p != "" {
		return p, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w (%v): set %s to a built outpost-server", errNoToolchain, err, envTestServer)
	}
	dir, err := os.MkdirTemp("", "outpost-app-test-")
	if err != nil {
		return "", fmt.Errorf("build outpost-server: %w", err)
	}
	bin := filepath.Join(dir, "outpost-server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/outpost-app/outpost/backend/cmd/outpost-server").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build outpost-server: %w\n%s", err, out)
	}
	return bin, nil
}

// startServer runs the real outpost-server as a separate process (this test
// binary links go-sqlcipher, the server mattn/go-sqlite3) and returns its
// URL and a manager enrollment code.
func startServer(t *testing.T) (string, string) {
	t.Helper()
	serverOnce.Do(func() { serverBin, serverErr = buildServer() })
	if errors.Is(serverErr, errNoToolchain) {
		t.Skip(serverErr)
	}
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	db := "sqlite://" + filepath.Join(t.TempDir(), "server.db")
	lastServerDB = db
	cmd := exec.Command(serverBin, "serve", "--listen", addr, "--db", db, "--log-level", "warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/v1/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("outpost-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var out bytes.Buffer
	enroll := exec.Command(serverBin, "enroll", "--db", db, "--site", "s1", "--role", "manager")
	enroll.Stdout = &out
	if err := enroll.Run(); err != nil {
		t.Fatal(err)
	}
	var code string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			code = l
		}
	}
	return url, code
}

// TestSyncService_EnrollsAndSyncs: with a server URL and code configured
// (managed config or make run), the app enrolls at start, and a record saved
// through the bound service reaches the server shortly after, by itself.
func TestSyncService_EnrollsAndSyncs(t *testing.T) {
	url, code := startServer(t)
	dir := t.TempDir()
	svc := NewSyncService(SyncOptions{Tokens: &syncclient.MemoryTokens{}, ServerURL: url, Code: code})
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	t.Cleanup(func() {
		svc.Shutdown()
		core.Shutdown()
		cancel()
	})
	rec, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 3, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := svc.Status()
		if err == nil && st.Enrolled && st.Online && st.Pending == 0 && st.LastSync > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not synced within 10 s: %+v, %v", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, err := NewRecordService(core).Get(rec.ID); err != nil || r.Pending {
		t.Fatalf("record after sync: %+v, %v", r, err)
	}
	if _, err := svc.SyncNow(); err != nil {
		t.Fatal(err)
	}
	// Unenroll: nothing unsettled, so it goes through.
	if st, err := svc.Unenroll(false); err != nil || st.Enrolled {
		t.Fatalf("unenroll: %+v, %v", st, err)
	}
}
