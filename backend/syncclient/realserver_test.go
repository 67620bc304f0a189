package syncclient

import (
	"bufio"
	"bytes"
	"context"
	"io"
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

	"github.com/outpost-app/outpost/backend/store"
)

// The tests in this file run the real outpost-server as a separate process
// (this test binary links go-sqlcipher, the server mattn/go-sqlite3: they
// cannot share a binary), with real retention, real restarts and a real
// restore from a copy of its database file.

var (
	serverBuild    sync.Once
	serverBinPath  string
	serverBuildErr error
	serverSkip     string
)

func serverBinary(t *testing.T) string {
	t.Helper()
	serverBuild.Do(func() {
		// OUTPOST_SERVER_BIN runs a server built elsewhere (a committed
		// revision, while the working tree's server is being changed).
		if bin := os.Getenv("OUTPOST_SERVER_BIN"); bin != "" {
			serverBinPath = bin
			return
		}
		// A test binary run where there is no go command (the Windows
		// test binaries under Wine in make package-test) cannot build
		// the server: the real-server tests say so and skip.
		if _, err := exec.LookPath("go"); err != nil {
			serverSkip = "no go command here to build outpost-server (set OUTPOST_SERVER_BIN to run the real-server tests)"
			return
		}
		dir, err := os.MkdirTemp("", "outpost-syncclient-test-")
		if err != nil {
			serverBuildErr = err
			return
		}
		serverBinPath = filepath.Join(dir, "outpost-server")
		if runtime.GOOS == "windows" {
			serverBinPath += ".exe" // Windows runs nothing without it
		}
		out, err := exec.Command("go", "build", "-o", serverBinPath, "github.com/outpost-app/outpost/backend/cmd/outpost-server").CombinedOutput()
		if err != nil {
			serverBuildErr = &APIError{Code: "build", Message: string(out)}
		}
	})
	if serverSkip != "" {
		t.Skip(serverSkip)
	}
	if serverBuildErr != nil {
		t.Fatal(serverBuildErr)
	}
	return serverBinPath
}

// realServer is one outpost-server process on a SQLite file; stop and
// start keep the file and the address.
type realServer struct {
	t    *testing.T
	bin  string
	db   string // file path
	addr string
	args []string
	cmd  *exec.Cmd
	logs *syncBuffer
}

func startRealServer(t *testing.T, args ...string) *realServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &realServer{t: t, bin: serverBinary(t), db: filepath.Join(t.TempDir(), "server.db"), addr: addr, args: args, logs: &syncBuffer{}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *realServer) url() string { return "http://" + s.addr }

func (s *realServer) start() {
	s.t.Helper()
	args := append([]string{"serve", "--listen", s.addr, "--db", "sqlite://" + s.db, "--log-level", "warn"}, s.args...)
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for i := 0; ; i++ {
		if resp, err := http.Get(s.url() + "/v1/health"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if i > 300 {
			s.t.Fatalf("outpost-server did not start: %s", s.logs.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// stop ends the server gracefully (SIGTERM: it drains and closes its
// database), so its file can be copied whole.
func (s *realServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// backup copies the (stopped) server's database files to dir.
func (s *realServer) backup(dir string) {
	s.t.Helper()
	for _, suf := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(s.db + suf)
		if os.IsNotExist(err) {
			os.Remove(filepath.Join(dir, "server.db"+suf))
			continue
		}
		if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "server.db"+suf), b, 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
}

// restoreFrom replaces the (stopped) server's database with the copy in
// dir, as an administrator restoring a backup does; with mark, it then runs
// `outpost-server restored` and reports whether the server knew it.
func (s *realServer) restoreFrom(dir string, mark bool) (marked bool) {
	s.t.Helper()
	for _, suf := range []string{"", "-wal", "-shm"} {
		os.Remove(s.db + suf)
		b, err := os.ReadFile(filepath.Join(dir, "server.db"+suf))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(s.db+suf, b, 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
	if !mark {
		return false
	}
	out, err := exec.Command(s.bin, "restored", "--db", "sqlite://"+s.db).CombinedOutput()
	if err != nil {
		s.t.Logf("outpost-server restored: %v: %s (the restore is not marked: the devices must notice by themselves)", err, out)
		return false
	}
	return true
}

// enroll makes a single-use code for role.
func (s *realServer) enroll(role string) string {
	s.t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(s.bin, "enroll", "--db", "sqlite://"+s.db, "--site", "s1", "--role", role)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("enroll: %v: %s", err, out.String())
	}
	var code string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			code = l
		}
	}
	return code
}

// device is one enrolled desktop: its store and its sync client.
type device struct {
	name string
	st   *store.Store
	c    *Client
}

func newDevice(t *testing.T, srv *realServer, name, role string) *device {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), name+".db"))
	t.Cleanup(func() { st.Close() })
	c := New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3})
	if _, err := c.Enroll(context.Background(), srv.url(), srv.enroll(role)); err != nil {
		t.Fatalf("%s: enroll: %v", name, err)
	}
	return &device{name: name, st: st, c: c}
}

func (d *device) sync(t *testing.T) Report {
	t.Helper()
	rep, err := d.c.Sync(context.Background())
	if err != nil {
		t.Fatalf("%s: sync: %v", d.name, err)
	}
	return rep
}
