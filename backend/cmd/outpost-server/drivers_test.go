package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDriverWall keeps the two SQLite drivers in separate binaries
// (docs/design.md section 1): mattn/go-sqlite3 and go-sqlcipher both embed
// SQLite's C symbols and both register the driver name "sqlite3", so a
// binary that linked both would not build or would open the wrong one.
// The server (and so a site hub, issue 19, which is the same binary) links
// mattn/go-sqlite3 and never go-sqlcipher; the desktop app and the tools
// that open its files link go-sqlcipher and never mattn/go-sqlite3.
func TestDriverWall(t *testing.T) {
	const (
		mattn     = "github.com/mattn/go-sqlite3"
		sqlcipher = "github.com/mutecomm/go-sqlcipher/v4"
	)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	for _, tc := range []struct {
		pkg            string
		links, refuses string
	}{
		{"github.com/outpost-app/outpost/backend/cmd/outpost-server", mattn, sqlcipher},
		{"github.com/outpost-app/outpost", sqlcipher, mattn},
		{"github.com/outpost-app/outpost/backend/cmd/outpost-sim", sqlcipher, mattn},
		{"github.com/outpost-app/outpost/backend/cmd/outpost-recover", sqlcipher, mattn},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			// -test: the package's test binary too, which links what the
			// binary links and more.
			out, err := exec.CommandContext(t.Context(), gobin, "list", "-deps", "-test", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			has := func(mod string) bool {
				for _, d := range deps {
					if d == mod || strings.HasPrefix(d, mod+"/") {
						return true
					}
				}
				return false
			}
			if has(tc.refuses) {
				t.Errorf("%s depends on %s: it links %s, and the two drivers cannot share a binary", tc.pkg, tc.refuses, tc.links)
			}
			if !has(tc.links) {
				t.Errorf("%s is missing from %s's dependencies: is go list looking at the right package?", tc.links, tc.pkg)
			}
		})
	}
}
