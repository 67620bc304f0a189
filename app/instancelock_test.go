package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenLocal_SecondInstanceRefused: two app instances on one data
// directory (a headless kiosk has no D-Bus session, so Wails' single-instance
// lock does not stop the second) must not both open the database: the second
// gets a sentence and changes nothing; once the first closes, it opens.
func TestOpenLocal_SecondInstanceRefused(t *testing.T) {
	dir := t.TempDir()
	opts := OpenOptions{DataDir: dir, KeyFile: filepath.Join(t.TempDir(), "db.key")}
	first, err := OpenLocal(opts)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenLocal(opts)(context.Background())
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Failure.Code != "already_running" || !strings.Contains(oe.Failure.Message, "already open") {
		t.Fatalf("second open: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, DBFileName)); string(after) != string(before) {
		t.Fatal("the refused open changed the database")
	}
	if err := first.db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenLocal(opts)(context.Background())
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	again.db.Close()
}

// lockHelperEnv makes the test binary a second process that tries the lock.
const lockHelperEnv = "OUTPOST_TEST_LOCK_DIR"

func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := lockDataDir(dir)
	if errors.Is(err, ErrAlreadyRunning) {
		os.Stdout.WriteString("locked-out\n")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	os.Stdout.WriteString("got-the-lock\n")
}

// TestDataDirLock_TwoProcesses: the lock holds across processes, and goes
// with the process that held it.
func TestDataDirLock_TwoProcesses(t *testing.T) {
	dir := t.TempDir()
	second := func() string {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		return string(out)
	}
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out := second(); !strings.Contains(out, "locked-out") {
		t.Fatalf("a second process took the lock while the first held it:\n%s", out)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if out := second(); !strings.Contains(out, "got-the-lock") {
		t.Fatalf("the lock was not released:\n%s", out)
	}
}
