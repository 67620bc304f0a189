package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// FileName is the name of both configuration files.
const FileName = "config.json"

// ManagedPath returns the machine-wide file IT writes:
// <ProgramData>\Outpost\config.json on Windows, where <ProgramData> is the
// known folder FOLDERID_ProgramData (normally C:\ProgramData), /Library/
// Application Support/Outpost/config.json on macOS, /etc/outpost/config.json
// elsewhere. No environment variable moves it (%ProgramData% is a variable
// any user can set for their own processes): an operator must not be able to
// point the app at a file of their own and escape the locks.
func ManagedPath() string { return managedPath(runtime.GOOS, programData) }

// defaultProgramData is used when the known folder cannot be read: a fixed
// path, never the environment's.
const defaultProgramData = `C:\ProgramData`

func managedPath(goos string, programData func() (string, error)) string {
	switch goos {
	case "windows":
		dir, err := programData()
		if err != nil || dir == "" {
			dir = defaultProgramData
		}
		return dir + `\Outpost\` + FileName
	case "darwin":
		return "/Library/Application Support/Outpost/" + FileName
	default:
		return "/etc/outpost/" + FileName
	}
}

// UserPath returns the per-user file the app writes: %AppData%\Outpost on
// Windows, ~/Library/Application Support/Outpost on macOS,
// $XDG_CONFIG_HOME/outpost (default ~/.config/outpost) elsewhere.
func UserPath() (string, error) {
	return userPath(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func userPath(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	switch goos {
	case "windows":
		if d := getenv("AppData"); d != "" {
			return d + `\Outpost\` + FileName, nil
		}
		h, err := home()
		if err != nil {
			return "", errors.New("user config path: neither %AppData% nor a home directory is set")
		}
		return h + `\AppData\Roaming\Outpost\` + FileName, nil
	case "darwin":
		h, err := home()
		if err != nil {
			return "", errors.New("user config path: no home directory is set")
		}
		return filepath.Join(h, "Library", "Application Support", "Outpost", FileName), nil
	default:
		if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "outpost", FileName), nil
		}
		h, err := home()
		if err != nil {
			return "", errors.New("user config path: neither $XDG_CONFIG_HOME nor $HOME is set")
		}
		return filepath.Join(h, ".config", "outpost", FileName), nil
	}
}
