package syncclient

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/outpost-app/outpost/backend/keychain"
)

// memBackend is an in-memory keychain.Backend; block makes Get hang like an
// unlock prompt nobody answers.
type memBackend struct {
	mu    sync.Mutex
	m     map[string]string
	block chan struct{}
}

func (b *memBackend) Get(service, account string) (string, error) {
	if b.block != nil {
		<-b.block
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[service+"/"+account]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *memBackend) Set(service, account, secret string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[service+"/"+account] = secret
	return nil
}

func (b *memBackend) Delete(service, account string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[service+"/"+account]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.m, service+"/"+account)
	return nil
}

func TestKeychainTokens(t *testing.T) {
	ctx := context.Background()
	be := &memBackend{m: map[string]string{}}
	k := &KeychainTokens{Backend: be}
	if c, err := k.Load(ctx); err != nil || c != nil {
		t.Fatalf("empty Load = %v, %v", c, err)
	}
	want := Credentials{ServerURL: "https://s", DeviceID: "d", SiteID: "site", Role: "operator", Token: "secret"}
	if err := k.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	// Beside the database key, under its own account.
	if _, ok := be.m[keychain.DefaultService+"/"+TokenAccount]; !ok || len(be.m) != 1 {
		t.Fatalf("stored under %v", be.m)
	}
	if c, err := k.Load(ctx); err != nil || c == nil || *c != want {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	if err := k.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	// A keychain that never answers is "unavailable", within the timeout.
	be.block = make(chan struct{})
	defer close(be.block)
	start := time.Now()
	_, err := (&KeychainTokens{Backend: be, Timeout: 50 * time.Millisecond}).Load(ctx)
	if !errors.Is(err, keychain.ErrUnavailable) || time.Since(start) > time.Second {
		t.Fatalf("blocked Load = %v after %v", err, time.Since(start))
	}
}
