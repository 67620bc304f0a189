package main

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
	"strings"
	"syscall"
	"time"
)

// serverProc is an outpost-server child process on an embedded SQLite
// database. The simulator never links the server's store: it runs the
// binary (the two SQLite drivers cannot share a process).
type serverProc struct {
	bin  string
	db   string // sqlite:///path
	addr string
	cmd  *exec.Cmd
	log  *os.File
	// extra are more serve flags (tests, the nemesis's retention); they
	// come after the defaults, so they override them.
	extra []string
	// logPath is where the server's output goes (default: beside a
	// SQLite database).
	logPath string
}

// findServerBin looks for outpost-server: the flag, beside this binary,
// then on PATH.
func findServerBin(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "outpost-server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("outpost-server"); err == nil {
		return p, nil
	}
	// `go run ./backend/cmd/outpost-sim` from the source tree: build it.
	if p, err := buildServer(); err == nil {
		return p, nil
	}
	return "", errors.New("outpost-server not found beside outpost-sim nor on PATH: build it (go build -o DIR/outpost-server ./backend/cmd/outpost-server) or pass --server-bin")
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts outpost-server on a new database in dir.
func startServer(ctx context.Context, bin, dir string, extra ...string) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &serverProc{bin: bin, db: "sqlite://" + filepath.Join(dir, "server.db"), addr: addr, extra: extra}
	return p, p.start(ctx)
}

// URL is the server's base URL.
func (p *serverProc) URL() string { return "http://" + p.addr }

func (p *serverProc) start(ctx context.Context) error {
	if p.logPath == "" {
		p.logPath = strings.TrimPrefix(p.db, "sqlite://") + ".log"
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// Retention off: the convergence check reads every row's history.
	args := append([]string{"serve", "--listen", p.addr, "--db", p.db, "--retention", "0", "--log-level", "warn"}, p.extra...)
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start outpost-server: %w", err)
	}
	p.cmd, p.log = cmd, logf
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := http.Get(p.URL() + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Kill()
	return fmt.Errorf("outpost-server did not answer on %s within 20 s (log: %s)", p.addr, logf.Name())
}

// cleanEnv drops OUTPOST_* variables that would reconfigure the child.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OUTPOST_") {
			env = append(env, kv)
		}
	}
	return env
}

// Kill stops the server with SIGKILL (no drain: the crash case).
func (p *serverProc) Kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p.cmd = nil
	p.log.Close()
}

// Stop stops the server with SIGTERM and waits.
func (p *serverProc) Stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
	p.log.Close()
}

// Restart starts the server again on the same database and address.
func (p *serverProc) Restart(ctx context.Context) error { return p.start(ctx) }

// enrollCode runs `outpost-server enroll` on db and returns the code (the
// last line of its output).
func enrollCode(ctx context.Context, bin, db, site, role string, uses int) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "enroll", "--db", db, "--site", site, "--role", role, "--uses", fmt.Sprint(uses), "--ttl", "24h")
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("outpost-server enroll: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	var last string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return "", errors.New("outpost-server enroll printed no code")
	}
	return last, nil
}

// buildServer builds outpost-server from the module in the working
// directory (go run from a checkout), into a cache directory.
func buildServer() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(goBin, "list", "-m").Output()
	if err != nil || strings.TrimSpace(string(out)) != "github.com/outpost-app/outpost" {
		return "", errors.New("not in the Outpost source tree")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "outpost-sim")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "outpost-server")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/outpost-app/outpost/backend/cmd/outpost-server")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintln(os.Stderr, "outpost-sim: building outpost-server into", bin)
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return bin, nil
}
