package app

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDataDir(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	home := func() (string, error) { return "/home/op", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	cases := []struct {
		name string
		goos string
		env  map[string]string
		home func() (string, error)
		want string
		err  bool
	}{
		{"linux xdg", "linux", map[string]string{"XDG_DATA_HOME": "/data"}, home, "/data/outpost", false},
		{"linux default", "linux", nil, home, "/home/op/.local/share/outpost", false},
		{"linux relative xdg ignored", "linux", map[string]string{"XDG_DATA_HOME": "rel"}, home, "/home/op/.local/share/outpost", false},
		{"linux nothing", "linux", nil, noHome, "", true},
		{"darwin", "darwin", nil, home, "/home/op/Library/Application Support/Outpost", false},
		{"windows", "windows", map[string]string{"LocalAppData": `C:\Users\op\AppData\Local`}, home, filepath.Join(`C:\Users\op\AppData\Local`, "Outpost"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && c.goos != "windows" {
				t.Skip("filepath joins with \\ on Windows: another OS's paths are checked on that OS")
			}
			got, err := dataDir(c.goos, env(c.env), c.home)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
