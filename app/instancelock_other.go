//go:build !unix && !windows

package app

import "os"

// lockFile has no OS lock to take here; the desktop app is not built for
// such systems.
func lockFile(*os.File) error { return nil }
