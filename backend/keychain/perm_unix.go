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

func isWindows() bool { return false }
