//go:build !windows

package config

import "errors"

// programData is the Windows known folder ProgramData; other systems have
// none (managedPath asks for it only for "windows").
func programData() (string, error) {
	return "", errors.New("known folder ProgramData: not on Windows")
}
