package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// A site hub's database makes codes for its own site's terminals only: a
// code of another site (a typo) would enroll terminals whose writes never
// reach headquarters, and hub codes are made at central.
func TestCLI_EnrollOnAHubDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.Begin(context.Background(), "ship-3")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{server.MetaUpDevice: "6f3e", server.MetaUpToken: "t", server.MetaUpURL: "http://central"} {
		if err := tx.SetMeta(context.Background(), k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db := "sqlite://" + path
	if code, out, errs := runCLI(t, "enroll", "--db", db, "--site", "ship-3", "--role", "operator"); code != 0 || len(lastLine(out)) < 20 {
		t.Fatalf("a code of the hub's site: %d %q %q", code, out, errs)
	}
	for _, bad := range [][]string{
		{"enroll", "--db", db, "--site", "Ship-3", "--role", "operator"},
		{"enroll", "--db", db, "--site", "ship-3", "--role", "hub"},
	} {
		if code, _, errs := runCLI(t, bad...); code != 2 || !strings.Contains(errs, "hub") {
			t.Fatalf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
}
