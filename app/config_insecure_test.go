package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

// TestConfig_TransportRefusesPlainHTTP: the sync client's transport itself
// sends nothing over plain http:// to another computer, whatever asked for
// it: a server address stored at an enrollment made before this rule, or a
// redirect from the https:// server (Go keeps the Authorization header on a
// redirect to the same host, even from https:// to http://).
func TestConfig_TransportRefusesPlainHTTP(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none.json")
	c := LoadConfig(&config.Loader{ManagedPath: none, UserPath: none}, func(string) string { return "" })
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	client := &http.Client{Transport: c.Transport}
	req, _ := http.NewRequest("GET", "http://sync.example.invalid/v1/health", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	if _, err := client.Do(req); !errors.Is(err, config.ErrInsecureHTTP) {
		t.Fatalf("plain http to another computer: %v", err)
	}

	// A loopback server answers; its redirect to another computer over
	// plain http is refused.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, "http://sync.example.invalid/v1/health", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	resp, err := client.Get(srv.URL + "/v1/health")
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	resp.Body.Close()
	if _, err := client.Get(srv.URL + "/away"); !errors.Is(err, config.ErrInsecureHTTP) {
		t.Fatalf("redirect to plain http: %v", err)
	}

	managed := filepath.Join(t.TempDir(), "managed.json")
	writeFile(t, managed, `{"allow_insecure_http":true}`)
	allowed := LoadConfig(&config.Loader{ManagedPath: managed, UserPath: none}, func(string) string { return "" })
	if _, err := (&http.Client{Transport: allowed.Transport}).Do(req); err == nil || errors.Is(err, config.ErrInsecureHTTP) {
		t.Fatalf("allowed plain http was refused by the guard: %v", err)
	}
}
