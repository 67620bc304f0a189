package config

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestManagedPath_NotFromEnvironment: on Windows the managed file's folder
// comes from the known-folder API (programData), never from %ProgramData%,
// which any user can set for their own processes and so point the app at
// a file of their own.
func TestManagedPath_NotFromEnvironment(t *testing.T) {
	t.Setenv("ProgramData", `C:\Users\op\evil`)
	for _, tc := range []struct {
		name   string
		folder func() (string, error)
		want   string
	}{
		{"known folder", func() (string, error) { return `D:\PD`, nil }, `D:\PD\Outpost\config.json`},
		{"known folder fails", func() (string, error) { return "", errors.New("no") }, `C:\ProgramData\Outpost\config.json`},
		{"known folder empty", func() (string, error) { return "", nil }, `C:\ProgramData\Outpost\config.json`},
	} {
		if got := managedPath("windows", tc.folder); got != tc.want {
			t.Errorf("%s: managedPath = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := ManagedPath(); strings.Contains(got, "evil") {
		t.Errorf("ManagedPath() = %q follows %%ProgramData%%", got)
	}
}

// TestManagedPath_CrossCompiles vets the package for Windows, so the
// known-folder code (paths_windows.go) is checked on every OS.
func TestManagedPath_CrossCompiles(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("cross-compilation check")
	}
	// go test puts its own GOROOT/bin first on the test's PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "vet", ".")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go vet: %v\n%s", err, out)
	}
}
