package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/config"
)

// TestSyncSettings_CarryITsLanguage (issue 21): IT's default language in
// the managed configuration reaches the WebView with the other settings
// (SyncService.Settings, the "language" field), where it becomes the
// terminal's language until someone chooses; a language Outpost does not
// speak is a configuration error, as any bad setting.
func TestSyncSettings_CarryITsLanguage(t *testing.T) {
	cases := []struct {
		name, managed, want string
		bad                 bool
	}{
		{"enforced", `{"language":"pt-BR"}`, "pt-BR", false},
		{"preset", `{"defaults":{"language":"de"}}`, "de", false},
		{"none", `{}`, "", false},
		{"not a language Outpost speaks", `{"language":"tlh"}`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			managed := filepath.Join(dir, "managed.json")
			if err := os.WriteFile(managed, []byte(c.managed), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := LoadConfig(&config.Loader{GOOS: "linux", ManagedPath: managed, UserPath: filepath.Join(dir, "user.json")}, func(string) string { return "" })
			s, err := NewSyncService(SyncOptions{Config: cfg}).Settings()
			if err != nil {
				t.Fatal(err)
			}
			if c.bad {
				if s.ConfigError == "" {
					t.Fatalf("no configuration error for %s", c.managed)
				}
				return
			}
			got, found := "", false
			for _, f := range s.Fields {
				if f.Field == string(config.Language) {
					got, found = f.Value, true
				}
			}
			if s.ConfigError != "" || !found || got != c.want {
				t.Fatalf("settings %+v: language %q (found %v), want %q", s, got, found, c.want)
			}
		})
	}
}
