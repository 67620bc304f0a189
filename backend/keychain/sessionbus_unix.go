//go:build !darwin && !windows

package keychain

import (
	"errors"
	"fmt"
	"os"
)

// checkSessionBus fails when no D-Bus session bus can be found the way a
// desktop session advertises one. Without this check godbus would start a
// private bus with dbus-launch: a daemon left running, and a keyring that no
// other process (nor the app's next start) ever sees.
func checkSessionBus() error {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(dir + "/" + name); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and " + dir + "/bus does not exist")
}
