//go:build !windows

package keychain

import (
	"fmt"
	"io/fs"
	"os"
)

// checkPrivate refuses a key file that users other than its owner may read
// or write.
func checkPrivate(path string, mode fs.FileMode) error {
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, want 0600 (run: chmod 600 %s)", ErrInsecureKeyFile, path, perm, path)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// privateFile makes a temporary file 0600 before the key is written to it.
func privateFile(f *os.File) error { return f.Chmod(0o600) }

// mkdirPrivate creates dir and its parents, 0700.
func mkdirPrivate(dir string) error { return os.MkdirAll(dir, 0o700) }
