package uplink_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
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

// The hub's /v1/health is answered to anyone on the LAN, and its log goes
// to the journal: neither may carry the hub's token at central, nor
// central's address or the link's error text in health, while the link
// is up, cut, or refused (the hub revoked at central). (Holds.)
func TestAttack_HubHealthAndLogKeepTheTokenSecret(t *testing.T) {
	const site = "plant-h"
	central := newNode(t, "central")
	logs := &syncBuffer{}
	hub := newHubWith(t, central, "hall", site, func(f forwardFunc) forwardFunc { return f }, logs)
	id := hub.link.Identity()
	health := func() string {
		resp, err := http.Get(hub.ts.URL + "/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	secret := func(what, s string) {
		t.Helper()
		for _, leak := range []string{id.Token, id.URL, hub.proxy.Addr(), central.ts.URL} {
			if strings.Contains(s, leak) {
				t.Errorf("%s carries %q: %s", what, leak, s)
			}
		}
	}
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	a1.write(protocol.TableProductionRecords, record("5d0cbd46-8c50-4b5e-9a3a-3a6f3f1c0d11", "L1", 1), protocol.OpUpsert)
	time.Sleep(300 * time.Millisecond)
	secret("health, link up", health())
	hub.cut(true)
	a1.write(protocol.TableProductionRecords, record("5d0cbd46-8c50-4b5e-9a3a-3a6f3f1c0d11", "L1", 2), protocol.OpUpsert)
	time.Sleep(500 * time.Millisecond)
	h := health()
	secret("health, link cut", h)
	if !strings.Contains(h, `"up":false`) {
		t.Errorf("health while cut says the link is up: %s", h)
	}
	hub.cut(false)
	if err := central.st.RevokeDevice(t.Context(), id.Device, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	a1.write(protocol.TableProductionRecords, record("5d0cbd46-8c50-4b5e-9a3a-3a6f3f1c0d11", "L1", 3), protocol.OpUpsert)
	time.Sleep(500 * time.Millisecond)
	secret("health, hub revoked", health())
	if !strings.Contains(logs.String(), "sync with central failed") {
		t.Errorf("the link logged no failure while cut and revoked: %s", logs.String())
	}
	if strings.Contains(logs.String(), id.Token) {
		t.Errorf("the hub's log carries its token at central")
	}
}
