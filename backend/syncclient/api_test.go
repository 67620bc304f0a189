package syncclient

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestAPI_TLSWithExtraCA: a server whose certificate comes from a site's
// internal CA is trusted only with that CA's bundle configured; requests
// carry the protocol header, the token and a gzipped body.
func TestAPI_TLSWithExtraCA(t *testing.T) {
	var gotHeader, gotAuth string
	var gotBody protocol.PushRequest
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotAuth = r.Header.Get(protocol.HeaderProtocol), r.Header.Get("Authorization")
		if r.Method == http.MethodPost {
			zr, err := gzip.NewReader(r.Body)
			if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
				http.Error(w, "want gzip", 400)
				return
			}
			b, _ := io.ReadAll(zr)
			json.Unmarshal(b, &gotBody)
			json.NewEncoder(w).Encode(protocol.PushResponse{BatchID: gotBody.BatchID, ServerTime: 5, Results: []protocol.PushResult{}})
			return
		}
		json.NewEncoder(w).Encode(protocol.HealthResponse{Status: "ok", Protocol: 1, ServerTime: 7})
	}))
	defer srv.Close()
	ctx := context.Background()

	plain, err := NewAPI(srv.URL, "tok", HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Health(ctx); !errors.Is(err, ErrOffline) {
		t.Fatalf("untrusted certificate: %v", err)
	}

	bundle := filepath.Join(t.TempDir(), "site-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	api, err := NewAPI(srv.URL, "tok", HTTPOptions{ExtraCAFile: bundle})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := api.Health(ctx); err != nil || h.ServerTime != 7 {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	body, _ := json.Marshal(protocol.PushRequest{BatchID: "b1", Changes: []protocol.Change{}})
	if resp, err := api.Push(ctx, body); err != nil || resp.BatchID != "b1" || resp.ServerTime != 5 {
		t.Fatalf("Push = %+v, %v", resp, err)
	}
	if gotHeader != "1" || gotAuth != "Bearer tok" || gotBody.BatchID != "b1" {
		t.Fatalf("request: protocol %q, auth %q, body %+v", gotHeader, gotAuth, gotBody)
	}

	if _, err := NewAPI(srv.URL, "", HTTPOptions{ExtraCAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Fatal("a missing CA bundle was accepted")
	}
	if _, err := NewAPI("ftp://x", "", HTTPOptions{}); err == nil {
		t.Fatal("a non-http address was accepted")
	}
}

func TestAPI_ErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"error":{"code":"resync_required","message":"Pull again from cursor 0."}}`)
	}))
	defer srv.Close()
	api, _ := NewAPI(srv.URL, "t", HTTPOptions{})
	_, err := api.Pull(context.Background(), 99, 10)
	var ae *APIError
	if !errors.Is(err, ErrResyncRequired) || !errors.As(err, &ae) || ae.Code != "resync_required" {
		t.Fatalf("Pull = %v", err)
	}
}
