package syncclient

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Invariant 4 on the sync client: the enrollment code and the device token
// are in no log line, no error and no sentence shown, whatever the server
// answers (refusals, server errors, a server gone).
func TestClient_SecretsAreNeverLoggedOrShown(t *testing.T) {
	const code, token = "ENROLL-CODE-7Q3X", "device-token-s3cr3t-9f8e7d"
	ctx := context.Background()
	var mu sync.Mutex
	answer := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/enroll" {
			json.NewEncoder(w).Encode(protocol.EnrollResponse{DeviceID: "dev-1", Token: token, SiteID: "s", Role: "operator"})
			return
		}
		mu.Lock()
		st := answer
		mu.Unlock()
		w.WriteHeader(st)
		w.Write([]byte(`{"error":{"code":"nope","message":"refused"}}`))
	}))
	logs := &syncBuffer{}
	st := openStore(t, filepath.Join(t.TempDir(), "outpost.db"))
	defer st.Close()
	if _, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 3, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	c := New(Options{Store: st, Tokens: &MemoryTokens{}, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ProbeBase: time.Millisecond, ProbeMax: 5 * time.Millisecond})
	var shown []string
	show := func(err error) {
		if err != nil {
			shown = append(shown, err.Error(), Sentence(err))
		}
	}
	if _, err := c.Enroll(ctx, srv.URL, code); err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadRequest} {
		mu.Lock()
		answer = status
		mu.Unlock()
		_, err := c.Sync(ctx)
		show(err)
		show(c.Probe(ctx))
		show(c.Unenroll(ctx, false))
	}
	// The server goes away: the loop probes with backoff and logs why.
	srv.Close()
	_, err := c.Sync(ctx)
	show(err)
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	c.Run(rctx)
	cancel()
	show(c.Unenroll(ctx, false))
	shown = append(shown, c.Status(ctx).LastError)
	if logs.String() == "" {
		t.Fatal("nothing was logged: the test does not exercise the logging paths")
	}
	for _, secret := range []string{code, token} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret is logged:\n%s", logs.String())
		}
		for _, s := range shown {
			if strings.Contains(s, secret) {
				t.Fatalf("a secret is shown: %q", s)
			}
		}
	}
}
