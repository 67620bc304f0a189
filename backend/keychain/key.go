package keychain

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a database key in bytes (AES-256).
const KeySize = 32

// Default names of the keychain entries.
const (
	DefaultService = "Outpost"
	DefaultAccount = "database-key"
	// NextSuffix is appended to the account (or key file path) under which a
	// rotation stages the new key before the database is rekeyed.
	NextSuffix = ".next"
)

// Source is where the database key lives: the OS keychain (Keychain) or, on
// headless kiosks and only when IT configures it, a key file (KeyFile).
type Source interface {
	// GetOrCreate returns the current key. When none is stored and the
	// database does not exist yet, it creates, stores and returns a new random
	// key with created true. When none is stored and dbExists, it returns
	// ErrKeyMissing and never creates a key.
	GetOrCreate(ctx context.Context, dbExists bool) (key []byte, created bool, err error)
	// Candidates returns the keys that may open the database: the current key
	// first, then the staged next key of an unfinished rotation (the two may
	// be equal after a crash inside Promote). With no key stored at all it
	// returns ErrNotFound.
	Candidates(ctx context.Context) ([][]byte, error)
	// StageNext stores key beside the current one, as the rotation's next key.
	StageNext(ctx context.Context, key []byte) error
	// Promote makes key the current key, then removes the staged next key.
	Promote(ctx context.Context, key []byte) error
	// DiscardNext removes the staged next key, if any.
	DiscardNext(ctx context.Context) error
	// String names where the keys live, for messages and logs (never a key).
	String() string
}

// NewKey returns KeySize random bytes from crypto/rand.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// EncodeKey returns key as lowercase hex, the form in which it is stored and
// given to SQLCipher (x'…').
func EncodeKey(key []byte) string { return hex.EncodeToString(key) }

// DecodeKey parses a stored key: exactly 64 hex characters, surrounding
// whitespace ignored.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*KeySize {
		return nil, fmt.Errorf("%w: want %d hex characters, found %d", ErrInvalidKey, 2*KeySize, len(s))
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hexadecimal", ErrInvalidKey)
	}
	return key, nil
}

// DSNKey returns the SQLCipher DSN parameter value for key: x'<64 hex>'.
// Given as a raw key, opening costs no key derivation.
func DSNKey(key []byte) string { return "x'" + EncodeKey(key) + "'" }

func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("%w: want %d bytes, got %d", ErrInvalidKey, KeySize, len(key))
	}
	return nil
}

func containsKey(keys [][]byte, key []byte) bool {
	for _, k := range keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}

// getOrCreate is GetOrCreate over the place where a Source keeps its current
// key: read returns the key or an error wrapping ErrNotFound, write stores a
// new one. A database that exists without its key gets missing (wrapping
// ErrKeyMissing), never a new key.
func getOrCreate(dbExists bool, missing error, read func() ([]byte, error), write func([]byte) error) ([]byte, bool, error) {
	key, err := read()
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	if dbExists {
		return nil, false, missing
	}
	key, err = NewKey()
	if err != nil {
		return nil, false, err
	}
	if err := write(key); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// candidates is Candidates over a Source's places (current, then next): the
// keys read from them in order, skipping a place that holds none (read's
// error wraps ErrNotFound). With no key at all it returns none (wrapping
// ErrNotFound).
func candidates(places []string, none error, read func(place string) ([]byte, error)) ([][]byte, error) {
	var keys [][]byte
	for _, place := range places {
		key, err := read(place)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, none
	}
	return keys, nil
}

// SourceFor returns the KeyFile source when keyFile is set (IT's explicit
// opt-in, e.g. from EnvKeyFile), else the OS keychain with opts. It never
// falls back from one to the other.
func SourceFor(keyFile string, opts Options) Source {
	if keyFile != "" {
		return NewKeyFile(keyFile)
	}
	return New(opts)
}
