//go:build unix

package app

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes flock(LOCK_EX|LOCK_NB) on f. flock locks belong to the open
// file, so a second open in the same process is refused too, and they are
// not lost when another descriptor of the file is closed (unlike fcntl
// locks, which SQLite itself uses).
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return ErrAlreadyRunning
		default:
			return err
		}
	}
}
