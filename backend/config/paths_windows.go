package config

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// programData returns the known folder FOLDERID_ProgramData from the shell
// (SHGetKnownFolderPath), which only an administrator can move, unlike the
// %ProgramData% variable.
func programData() (string, error) {
	dir, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		return "", fmt.Errorf("known folder ProgramData: %w", err)
	}
	return dir, nil
}
