package syncclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/outpost-app/outpost/backend/keychain"
)

// Credentials are what enrollment gives a device. They live in the OS
// keychain (the token is a secret), never in the database or a config file.
type Credentials struct {
	ServerURL string `json:"server_url"`
	DeviceID  string `json:"device_id"`
	SiteID    string `json:"site_id"`
	Role      string `json:"role"`
	Token     string `json:"token"`
}

// TokenStore keeps the device's credentials.
type TokenStore interface {
	// Load returns the stored credentials, or nil when none are stored.
	Load(ctx context.Context) (*Credentials, error)
	Save(ctx context.Context, c Credentials) error
	Delete(ctx context.Context) error
}

// TokenAccount is the keychain account of the device credentials (service
// keychain.DefaultService, beside the database key).
const TokenAccount = "device-token"

// KeychainTokens keeps the credentials in the OS keychain through
// backend/keychain's Backend, every call bounded by a timeout (an unlock
// prompt waits for a person).
type KeychainTokens struct {
	Backend keychain.Backend // default keychain.OSBackend{}
	Service string           // default keychain.DefaultService
	Account string           // default TokenAccount
	Timeout time.Duration    // default keychain.DefaultTimeout
}

var _ TokenStore = (*KeychainTokens)(nil)

func (k *KeychainTokens) defaults() (keychain.Backend, string, string, time.Duration) {
	b, s, a, t := k.Backend, k.Service, k.Account, k.Timeout
	if b == nil {
		b = keychain.OSBackend{}
	}
	if s == "" {
		s = keychain.DefaultService
	}
	if a == "" {
		a = TokenAccount
	}
	if t <= 0 {
		t = keychain.DefaultTimeout
	}
	return b, s, a, t
}

func (k *KeychainTokens) call(ctx context.Context, fn func(b keychain.Backend, service, account string) error) error {
	b, s, a, t := k.defaults()
	done := make(chan error, 1)
	go func() { done <- fn(b, s, a) }()
	timer := time.NewTimer(t)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("%w: %v", keychain.ErrUnavailable, err)
		}
		return err
	case <-timer.C:
		return fmt.Errorf("%w: the keychain did not answer within %s", keychain.ErrUnavailable, t)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Load implements TokenStore.
func (k *KeychainTokens) Load(ctx context.Context) (*Credentials, error) {
	var raw string
	err := k.call(ctx, func(b keychain.Backend, s, a string) error {
		var err error
		raw, err = b.Get(s, a)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load device token: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fmt.Errorf("load device token: stored value is malformed: %w", err)
	}
	return &c, nil
}

// Save implements TokenStore.
func (k *KeychainTokens) Save(ctx context.Context, c Credentials) error {
	data, _ := json.Marshal(c)
	if err := k.call(ctx, func(b keychain.Backend, s, a string) error { return b.Set(s, a, string(data)) }); err != nil {
		return fmt.Errorf("save device token: %w", err)
	}
	return nil
}

// Delete implements TokenStore.
func (k *KeychainTokens) Delete(ctx context.Context) error {
	err := k.call(ctx, func(b keychain.Backend, s, a string) error { return b.Delete(s, a) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("delete device token: %w", err)
	}
	return nil
}

// MemoryTokens keeps credentials in memory only: for the simulator and
// tests, whose devices live as long as the process.
type MemoryTokens struct {
	mu sync.Mutex
	c  *Credentials
}

var _ TokenStore = (*MemoryTokens)(nil)

// Load implements TokenStore.
func (m *MemoryTokens) Load(context.Context) (*Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil, nil
	}
	c := *m.c
	return &c, nil
}

// Save implements TokenStore.
func (m *MemoryTokens) Save(_ context.Context, c Credentials) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.c = &c
	return nil
}

// Delete implements TokenStore.
func (m *MemoryTokens) Delete(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.c = nil
	return nil
}
