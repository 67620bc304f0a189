package main

import (
	"os/exec"
	"strings"
	"testing"
)

const (
	mattn     = "github.com/mattn/go-sqlite3"
	sqlcipher = "github.com/mutecomm/go-sqlcipher/v4"
)

// TestDriverWall keeps the two SQLite drivers in separate binaries
// (docs/design.md section 1): mattn/go-sqlite3 and go-sqlcipher both embed
// SQLite's C symbols and both register the driver name "sqlite3", so a
// binary that linked both would not build or would open the wrong one.
// The server (and so a site hub, issue 19, which is the same binary) links
// mattn/go-sqlite3 and never go-sqlcipher; the desktop app and the tools
// that open its files link go-sqlcipher and never mattn/go-sqlite3.
func TestDriverWall(t *testing.T) {
	gobin := goTool(t)
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
			deps := goListDeps(t, gobin, "-test", tc.pkg)
			if dependsOn(deps, tc.refuses) {
				t.Errorf("%s depends on %s: it links %s, and the two drivers cannot share a binary", tc.pkg, tc.refuses, tc.links)
			}
			if !dependsOn(deps, tc.links) {
				t.Errorf("%s is missing from %s's dependencies: is go list looking at the right package?", tc.links, tc.pkg)
			}
		})
	}
}

// TestDriverWall_SharedPackages keeps the packages both sides of the wall
// import free of either driver: a site hub (issue 19) is the server binary
// and reuses the sync client's wire client, token handling and types for its
// upstream link, so backend/syncclient and the row states it shares with
// the desktop store (backend/syncstate) must not link go-sqlcipher — nor
// mattn/go-sqlite3, which the desktop app cannot link either. Only the
// packages themselves: their tests may open a desktop store (no -test).
func TestDriverWall_SharedPackages(t *testing.T) {
	gobin := goTool(t)
	for _, pkg := range []string{
		"github.com/outpost-app/outpost/backend/syncclient",
		"github.com/outpost-app/outpost/backend/syncstate",
	} {
		t.Run(pkg, func(t *testing.T) {
			deps := goListDeps(t, gobin, pkg)
			for _, driver := range []string{sqlcipher, mattn} {
				if dependsOn(deps, driver) {
					t.Errorf("%s depends on %s: the server (a hub's upstream link) and the desktop app both import it, and each refuses one of the two drivers", pkg, driver)
				}
			}
			if !dependsOn(deps, pkg) {
				t.Errorf("%s is missing from its own dependencies: is go list looking at the right package?", pkg)
			}
		})
	}
}

func goTool(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	return gobin
}

// goListDeps returns the import paths go list -deps prints for args.
func goListDeps(t *testing.T, gobin string, args ...string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), gobin, append([]string{"list", "-deps"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// dependsOn reports whether deps holds module mod or one of its packages.
func dependsOn(deps []string, mod string) bool {
	for _, d := range deps {
		if d == mod || strings.HasPrefix(d, mod+"/") {
			return true
		}
	}
	return false
}
