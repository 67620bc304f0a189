package app

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestEnroll_RefusesPlainHTTP: a server address typed on the Setup screen,
// or given by OUTPOST_SERVER_URL, that uses plain http:// to another
// computer is refused with a sentence under the address field, before any
// request carries a code or a token; IT's allow_insecure_http lets it
// through, and loopback is always fine.
func TestEnroll_RefusesPlainHTTP(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.json")
	c := LoadConfig(&config.Loader{ManagedPath: none, UserPath: none}, func(string) string { return "" })
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	tr := &countingTransport{}
	svc := NewSyncService(SyncOptions{Config: c, Tokens: &syncclient.MemoryTokens{}, Transport: tr})
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(context.Background())
	t.Cleanup(func() { svc.Shutdown(); core.Shutdown() })

	_, err := svc.Enroll("http://sync.example.com:8787", "CODE-1234")
	e := asError(t, err)
	if e.Field != "server_url" || !strings.Contains(e.Message, "https://") || !strings.Contains(e.Message, "allow_insecure_http") {
		t.Fatalf("refusal %+v", e)
	}
	if tr.n.Load() != 0 {
		t.Fatalf("%d requests went out over plain http", tr.n.Load())
	}

	t.Run("from the environment", func(t *testing.T) {
		c := LoadConfig(&config.Loader{ManagedPath: none, UserPath: none}, func(k string) string {
			if k == EnvServerURL {
				return "http://10.1.2.3:8787"
			}
			return ""
		})
		if c.Err == nil || !strings.Contains(c.ErrSentence(), "http://") {
			t.Fatalf("config error %v", c.Err)
		}
	})
	t.Run("allowed by IT", func(t *testing.T) {
		managed := filepath.Join(dir, "managed.json")
		writeFile(t, managed, `{"allow_insecure_http":true}`)
		c := LoadConfig(&config.Loader{ManagedPath: managed, UserPath: none}, func(string) string { return "" })
		if c.Err != nil || c.CheckServerURL("http://sync.example.com") != nil {
			t.Fatalf("allowed: %v, %v", c.Err, c.CheckServerURL("http://sync.example.com"))
		}
	})
	t.Run("user file cannot allow it", func(t *testing.T) {
		user := filepath.Join(dir, "user.json")
		writeFile(t, user, `{"allow_insecure_http":true}`)
		c := LoadConfig(&config.Loader{ManagedPath: none, UserPath: user}, func(string) string { return "" })
		if c.CheckServerURL("http://sync.example.com") == nil {
			t.Fatal("a user file allowed plain http")
		}
	})
	if err := (*Config)(nil).CheckServerURL("http://127.0.0.1:8787"); err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
}

// countingTransport counts the requests that would have gone out, and
// sends none.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no network in this test")
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
