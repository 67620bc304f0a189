package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LockFileName is the file in the data directory that an open app holds an
// OS lock on (flock on Linux and macOS, LockFileEx on Windows).
const LockFileName = "outpost.lock"

// ErrAlreadyRunning: another Outpost process holds the data directory.
var ErrAlreadyRunning = errors.New("another Outpost is using this data directory")

// dirLock is a held lock on a data directory. The OS releases it when the
// process ends, however it ends, so a crash never leaves a stale lock.
type dirLock struct{ f *os.File }

// lockDataDir takes the exclusive lock of dir without waiting, creating
// dir (0700) and its lock file (0600) when missing. Wails' single-instance
// lock needs a D-Bus session on Linux, which a headless kiosk does not have;
// this one needs only the file system, so two instances never open one
// database (each would run its own clock and its own sync).
func lockDataDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// Unlock releases the lock. Safe on nil and more than once.
func (l *dirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the file releases the lock on every OS.
	if err := f.Close(); err != nil {
		return fmt.Errorf("unlock data directory: %w", err)
	}
	return nil
}
