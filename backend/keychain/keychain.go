package keychain

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds every keychain call. An unlock prompt waits for a
// person, so a missing answer must not hang the app's start.
const DefaultTimeout = 5 * time.Second

// Backend is the raw secret store a Keychain talks to. OSBackend is the real
// one; tests substitute a fake only where the real one cannot run (a prompt
// nobody answers). A missing entry is reported as keyring.ErrNotFound.
type Backend interface {
	Get(service, account string) (string, error)
	Set(service, account, secret string) error
	Delete(service, account string) error
}

// OSBackend is the operating system's keychain through go-keyring: Secret
// Service on Linux, Keychain on macOS, Credential Manager on Windows.
type OSBackend struct{}

var _ Backend = OSBackend{}

// Get returns the secret stored for service and account.
func (OSBackend) Get(service, account string) (string, error) {
	if err := checkSessionBus(); err != nil {
		return "", err
	}
	return keyring.Get(service, account)
}

// Set stores secret for service and account, replacing any previous one.
func (OSBackend) Set(service, account, secret string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Set(service, account, secret)
}

// Delete removes the secret stored for service and account.
func (OSBackend) Delete(service, account string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Delete(service, account)
}

// Options configures a Keychain. Zero fields take the defaults.
type Options struct {
	Service string        // DefaultService
	Account string        // DefaultAccount; the next key lives under Account+NextSuffix
	Timeout time.Duration // DefaultTimeout, for each call
	Backend Backend       // OSBackend{}
}

// Keychain keeps the database key in the OS keychain.
type Keychain struct {
	service string
	account string
	timeout time.Duration
	backend Backend
}

var _ Source = (*Keychain)(nil)

// New returns a Keychain with opts applied over the defaults.
func New(opts Options) *Keychain {
	k := &Keychain{service: opts.Service, account: opts.Account, timeout: opts.Timeout, backend: opts.Backend}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.account == "" {
		k.account = DefaultAccount
	}
	if k.timeout <= 0 {
		k.timeout = DefaultTimeout
	}
	if k.backend == nil {
		k.backend = OSBackend{}
	}
	return k
}

// String names the keychain entry, e.g. `OS keychain entry "Outpost"/"database-key"`.
func (k *Keychain) String() string {
	return fmt.Sprintf("%s entry %q/%q", keychainName(), k.service, k.account)
}

func (k *Keychain) nextAccount() string { return k.account + NextSuffix }

// GetOrCreate returns the current key, creating one only when none is stored
// and the database does not exist yet.
func (k *Keychain) GetOrCreate(ctx context.Context, dbExists bool) ([]byte, bool, error) {
	// An unfinished rotation may have left only the next key; the opener
	// resolves that through Candidates. Never invent a key here.
	missing := fmt.Errorf("%w: the database exists but %s holds no key: restore it with outpost-recover --reinstall-key (see docs/keys.md)", ErrKeyMissing, k)
	return getOrCreate(dbExists, missing,
		func() ([]byte, error) { return k.get(ctx, k.account) },
		func(key []byte) error { return k.set(ctx, k.account, key) })
}

// Candidates returns the current key, then the next key if one is staged.
func (k *Keychain) Candidates(ctx context.Context) ([][]byte, error) {
	return candidates([]string{k.account, k.nextAccount()},
		fmt.Errorf("%w: %s holds no key", ErrNotFound, k),
		func(account string) ([]byte, error) { return k.get(ctx, account) })
}

// StageNext stores key under the next account, beside the current key.
func (k *Keychain) StageNext(ctx context.Context, key []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return k.set(ctx, k.nextAccount(), key)
}

// Promote stores key as the current key, then deletes the next entry. A crash
// in between leaves both entries holding key, which Candidates reports once.
func (k *Keychain) Promote(ctx context.Context, key []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := k.set(ctx, k.account, key); err != nil {
		return err
	}
	return k.DiscardNext(ctx)
}

// DiscardNext deletes the next entry; a missing one is not an error.
func (k *Keychain) DiscardNext(ctx context.Context) error {
	err := k.delete(ctx, k.nextAccount())
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Delete removes the current and next entries (uninstall, tests). Missing
// entries are not an error.
func (k *Keychain) Delete(ctx context.Context) error {
	for _, account := range []string{k.nextAccount(), k.account} {
		if err := k.delete(ctx, account); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func (k *Keychain) get(ctx context.Context, account string) ([]byte, error) {
	var secret string
	err := k.call(ctx, "read", account, func() (err error) {
		secret, err = k.backend.Get(k.service, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	key, err := DecodeKey(secret)
	if err != nil {
		return nil, fmt.Errorf("read %s entry %q/%q: %w", keychainName(), k.service, account, err)
	}
	return key, nil
}

func (k *Keychain) set(ctx context.Context, account string, key []byte) error {
	return k.call(ctx, "store", account, func() error {
		return k.backend.Set(k.service, account, EncodeKey(key))
	})
}

func (k *Keychain) delete(ctx context.Context, account string) error {
	return k.call(ctx, "delete", account, func() error {
		return k.backend.Delete(k.service, account)
	})
}

// call runs fn in a goroutine and waits for it, ctx or the timeout. fn
// outliving a timeout is harmless: its result goes to a buffered channel
// nobody reads. Errors are mapped to ErrNotFound or ErrUnavailable.
func (k *Keychain) call(ctx context.Context, op, account string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s entry %q/%q: %w", op, keychainName(), k.service, account, err)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrNotFound):
			return fmt.Errorf("%s %s entry %q/%q: %w", op, keychainName(), k.service, account, ErrNotFound)
		default:
			return fmt.Errorf("%w: %s (%s %q/%q: %v)", ErrUnavailable, unavailableReason(err), op, k.service, account, err)
		}
	case <-timer.C:
		return fmt.Errorf("%w: %s did not answer within %s (is it locked, waiting for a password?)", ErrUnavailable, keychainName(), k.timeout)
	case <-ctx.Done():
		return fmt.Errorf("%s %s entry %q/%q: %w", op, keychainName(), k.service, account, ctx.Err())
	}
}

func keychainName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		return "Secret Service"
	}
}

// unavailableReason turns a keychain error into a sentence naming what is
// missing.
func unavailableReason(err error) string {
	switch runtime.GOOS {
	case "darwin":
		return "the macOS login Keychain refused the request (is it locked?)"
	case "windows":
		return "Windows Credential Manager refused the request"
	}
	if strings.Contains(err.Error(), "failed to unlock") {
		return "the Secret Service keyring is locked and was not unlocked (log in to the desktop session, or unlock gnome-keyring)"
	}
	return "no Secret Service (gnome-keyring or KWallet) is reachable on the D-Bus session bus"
}
