package app

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DBFileName is the name of the local SQLCipher database inside DataDir.
const DBFileName = "outpost.db"

// DataDir returns the per-user local (non-roaming) directory that holds the
// database: %LocalAppData%\Outpost on Windows, ~/Library/Application
// Support/Outpost on macOS, $XDG_DATA_HOME/outpost (default
// ~/.local/share/outpost) elsewhere. It does not create the directory.
func DataDir() (string, error) {
	return dataDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func dataDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	switch goos {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "Outpost"), nil
		}
		h, err := home()
		if err != nil {
			return "", errors.New("data dir: neither %LocalAppData% nor a home directory is set")
		}
		return filepath.Join(h, "AppData", "Local", "Outpost"), nil
	case "darwin":
		h, err := home()
		if err != nil {
			return "", errors.New("data dir: no home directory is set")
		}
		return filepath.Join(h, "Library", "Application Support", "Outpost"), nil
	default:
		// XDG says a relative $XDG_DATA_HOME is invalid and must be ignored.
		if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "outpost"), nil
		}
		h, err := home()
		if err != nil {
			return "", errors.New("data dir: neither $XDG_DATA_HOME nor $HOME is set")
		}
		return filepath.Join(h, ".local", "share", "outpost"), nil
	}
}
