package config

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// TestManagedPath_Windows runs on Windows (and under Wine): the managed file
// is in the known folder ProgramData, whatever %ProgramData% says.
func TestManagedPath_Windows(t *testing.T) {
	t.Setenv("ProgramData", `C:\Users\op\evil`)
	t.Setenv("ALLUSERSPROFILE", `C:\Users\op\evil`)
	want, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := ManagedPath()
	if got != want+`\Outpost\config.json` || strings.Contains(got, "evil") {
		t.Fatalf("ManagedPath() = %q, want %q", got, want+`\Outpost\config.json`)
	}
}
