package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_Check(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"server_url":"https://it.example","enrollment_code":"SECRET","locked":["proxy_url"]}`), 0o644)
	os.WriteFile(bad, []byte(`{"server_url":"https://it.example","colour":"red"}`), 0o644)

	cases := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"check", "--managed", good}, 0, `server_url           "https://it.example"  (managed, locked)`, ""},
		{[]string{"check", "--managed", bad}, 1, "", `field "colour": unknown field`},
		{[]string{"version"}, 0, "outpost-config dev", ""},
		{[]string{"bogus"}, 2, "", "unknown command"},
		{nil, 2, "", "usage"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s", tc.args, code, out.String(), errOut.String())
		}
		if strings.Contains(out.String(), "SECRET") {
			t.Errorf("run(%q) printed the enrollment code", tc.args)
		}
	}
}
