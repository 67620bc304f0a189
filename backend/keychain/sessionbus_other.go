//go:build darwin || windows

package keychain

// checkSessionBus has nothing to check: the keychain is not on D-Bus here.
func checkSessionBus() error { return nil }
