package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestConfig_ProxyPasswordNeverShown: the proxy password of proxy_url (or of
// OUTPOST_PROXY_URL) is in no log line and not in SyncService.Settings, the
// answer the Sync screen shows; the transport still sends it to the proxy.
func TestConfig_ProxyPasswordNeverShown(t *testing.T) {
	dir := t.TempDir()
	managed := filepath.Join(dir, "managed.json")
	if err := os.WriteFile(managed, []byte(`{"proxy_url":"http://bob:s3cret@proxy.example.com:3128"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*config.Loader{
		"managed file": {ManagedPath: managed, UserPath: filepath.Join(dir, "none.json")},
		"environment":  {ManagedPath: filepath.Join(dir, "none.json"), UserPath: filepath.Join(dir, "none.json")},
	} {
		t.Run(name, func(t *testing.T) {
			c := LoadConfig(l, func(k string) string {
				if k == EnvProxyURL {
					return "http://bob:s3cret@proxy.example.com:3128"
				}
				return ""
			})
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			var logs bytes.Buffer
			c.Log(slog.New(slog.NewTextHandler(&logs, nil)))
			if strings.Contains(logs.String(), "s3cret") {
				t.Fatalf("the log holds the proxy password:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "proxy_url") {
				t.Fatalf("the log does not name the proxy setting:\n%s", logs.String())
			}
			svc := NewSyncService(SyncOptions{Config: c, Tokens: &syncclient.MemoryTokens{}})
			set, err := svc.Settings()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(set)
			if strings.Contains(string(b), "s3cret") {
				t.Fatalf("the Sync screen gets the proxy password: %s", b)
			}
			u, err := c.Transport.Proxy(mustRequest(t))
			if err != nil || u == nil {
				t.Fatalf("proxy %v, %v", u, err)
			}
			if p, _ := u.User.Password(); p != "s3cret" {
				t.Fatalf("the transport lost the proxy password: %q", p)
			}
		})
	}
}

func mustRequest(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", "https://sync.example.com/v1/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
