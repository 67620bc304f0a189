package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// jsonString is s as a JSON string: a Windows path's backslashes escaped.
func jsonString(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadConfig(t *testing.T) {
	write := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "config.json")
		if body != "" {
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	envOf := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	keyFile := filepath.Join(t.TempDir(), "kiosk.key")
	env := map[string]string{
		EnvServerURL:                  "http://127.0.0.1:9999",
		EnvEnroll:                     "ENV-CODE",
		EnvProxyURL:                   "direct",
		keychain.EnvKeyFile:           "/env/key",
		keychain.EnvRecoveryRecipient: "age1env",
	}

	t.Run("locked managed fields win over the environment", func(t *testing.T) {
		l := &config.Loader{ManagedPath: write(t, `{"server_url":"https://sync.example.com","kiosk_key_file":`+jsonString(t, keyFile)+`,"locked":["enrollment_code","proxy_url"]}`), UserPath: write(t, "")}
		c := LoadConfig(l, envOf(env))
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		if c.ServerURL != "https://sync.example.com" || c.EnrollCode != "" {
			t.Fatalf("server %q code %q: the environment overrode a locked field", c.ServerURL, c.EnrollCode)
		}
		if c.KeyFile != keyFile || c.Recipient != "age1env" {
			t.Fatalf("key file %q recipient %q: want the managed key file, the env recipient as fallback", c.KeyFile, c.Recipient)
		}
		// proxy_url is locked to its default: the environment's HTTPS_PROXY
		// rules, not "direct".
		if c.Transport == nil || c.Transport.Proxy == nil {
			t.Fatal("locked proxy_url was overridden by OUTPOST_PROXY_URL")
		}
	})
	t.Run("the environment fills unlocked fields", func(t *testing.T) {
		l := &config.Loader{ManagedPath: write(t, ""), UserPath: write(t, `{"server_url":"https://user.example.com"}`)}
		c := LoadConfig(l, envOf(env))
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		if c.ServerURL != "http://127.0.0.1:9999" || c.EnrollCode != "ENV-CODE" || c.KeyFile != "/env/key" {
			t.Fatalf("got %+v", c)
		}
		if c.Transport.Proxy != nil {
			t.Fatal("proxy_url=direct from the environment still uses a proxy")
		}
		for _, f := range c.Fields {
			if f.Secret && f.Value != "" && f.Value != "(set)" {
				t.Fatalf("secret %s shown as %q", f.Field, f.Value)
			}
		}
	})
	t.Run("a configured proxy is used", func(t *testing.T) {
		l := &config.Loader{ManagedPath: write(t, `{"proxy_url":"http://proxy.example.com:3128"}`), UserPath: write(t, "")}
		c := LoadConfig(l, envOf(nil))
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		req, _ := http.NewRequest("GET", "https://sync.example.com/v1/health", nil)
		u, err := c.Transport.Proxy(req)
		if err != nil || u == nil || u.Host != "proxy.example.com:3128" {
			t.Fatalf("proxy = %v, %v", u, err)
		}
	})
	t.Run("a broken file is a sentence and stops sync", func(t *testing.T) {
		l := &config.Loader{ManagedPath: write(t, `{"sever_url":"x"}`), UserPath: write(t, "")}
		c := LoadConfig(l, envOf(env))
		if c.Err == nil {
			t.Fatal("no error for an unknown field")
		}
		msg := c.ErrSentence()
		if !strings.Contains(msg, "sever_url") || !strings.HasPrefix(msg, "Sync is off") {
			t.Fatalf("sentence %q", msg)
		}
		if c.KeyFile != "/env/key" {
			t.Fatalf("key file %q: the environment is the fallback", c.KeyFile)
		}
		if c.ServerURL != "" || c.EnrollCode != "" {
			t.Fatal("sync settings were filled from a broken configuration")
		}
	})
	t.Run("an unreadable CA bundle is an error", func(t *testing.T) {
		l := &config.Loader{ManagedPath: write(t, `{"ca_bundle":"/nonexistent/ca.pem"}`), UserPath: write(t, "")}
		if c := LoadConfig(l, envOf(nil)); c.Err == nil {
			t.Fatal("no error")
		}
	})
}

func TestSyncService_ConfigErrorStopsSync(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Err: os.ErrInvalid}
	svc := NewSyncService(SyncOptions{Config: cfg, Tokens: &syncclient.MemoryTokens{}})
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(context.Background())
	t.Cleanup(func() { svc.Shutdown(); core.Shutdown() })
	// The store opens and takes work; sync says why it is off.
	if _, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	st, err := svc.Status()
	if err != nil || !strings.HasPrefix(st.LastError, "Sync is off") || st.Online {
		t.Fatalf("status %+v, %v", st, err)
	}
	if _, err := svc.SyncNow(); asError(t, err).Code != "config_invalid" {
		t.Fatalf("sync now: %v", err)
	}
	if _, err := svc.Enroll("https://sync.example.com", "code"); asError(t, err).Code != "config_invalid" {
		t.Fatalf("enroll: %v", err)
	}
	if set, _ := svc.Settings(); set.ConfigError == "" {
		t.Fatal("settings carry no configuration error")
	}
}
