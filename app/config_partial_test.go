package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/keychain"
)

// TestLoadConfig_BadFieldKeepsKioskKey: a bad value elsewhere in the managed
// file, or a user file the operator broke, never takes the kiosk key file or
// the recovery key away (the kiosk would fall back to a keychain it does not
// have); the bad field is reported and sync stays off. A bad kiosk_key_file
// itself is not replaced by anything: the store refuses to open.
func TestLoadConfig_BadFieldKeepsKioskKey(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	rcpt := id.Recipient().String()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "kiosk.key")
	kiosk := `"kiosk_key_file":` + jsonString(t, keyFile) + `,"recovery_public_key":"` + rcpt + `"`
	env := func(k string) string {
		switch k {
		case keychain.EnvKeyFile:
			return "/home/op/my.key"
		case keychain.EnvRecoveryRecipient:
			return "age1operator"
		}
		return ""
	}
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, managed, user, field string }{
		{"bad server url", `{` + kiosk + `,"server_url":"ftp://x"}`, `{}`, "server_url"},
		{"wrong type", `{` + kiosk + `,"proxy_url":3128}`, `{}`, "proxy_url"},
		{"unknown field", `{` + kiosk + `,"sever_url":"https://x.example"}`, `{}`, "sever_url"},
		{"broken user file", `{` + kiosk + `}`, `{"server_url":`, ""},
		{"user file names another key file", `{` + kiosk + `}`, `{"kiosk_key_file":"/home/op/my.key"}`, "kiosk_key_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &config.Loader{ManagedPath: file(tc.name+"-m.json", tc.managed), UserPath: file(tc.name+"-u.json", tc.user)}
			c := LoadConfig(l, env)
			if c.KeyFile != keyFile || c.Recipient != rcpt {
				t.Fatalf("key file %q, recipient %q: want the managed ones", c.KeyFile, c.Recipient)
			}
			if c.Err == nil || !strings.Contains(c.ErrSentence(), tc.field) || strings.Contains(c.ErrSentence(), "\n") {
				t.Fatalf("sentence %q does not report %q on one line", c.ErrSentence(), tc.field)
			}
			if c.ServerURL != "" {
				t.Fatal("sync settings were filled from a broken configuration")
			}
		})
	}

	t.Run("a bad kiosk_key_file opens nothing", func(t *testing.T) {
		l := &config.Loader{ManagedPath: file("badkey-m.json", `{"kiosk_key_file":"relative/db.key"}`), UserPath: ""}
		c := LoadConfig(l, env)
		if c.KeyFile != "" || c.KeyFileErr == nil {
			t.Fatalf("key file %q, err %v: a bad managed key file must not fall back", c.KeyFile, c.KeyFileErr)
		}
		data := t.TempDir()
		_, err := OpenLocal(OpenOptions{DataDir: data, KeyFile: c.KeyFile, KeyFileErr: c.KeyFileErr})(context.Background())
		var oe *OpenError
		if !errors.As(err, &oe) || oe.Failure.Code != "key_file_setting_invalid" {
			t.Fatalf("open: %v", err)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Fatalf("the refused open wrote %v", entries)
		}
	})
}
