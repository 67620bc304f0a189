// Package pin hashes and checks people's sign-in PINs: argon2id (RFC 9106)
// with a random salt per hash, stored in the PHC string format
// "$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>" (unpadded standard base64).
//
// A PIN never leaves this package in clear: only hashes are stored, synced
// and compared. Hashes are slow on purpose; the lockout after repeated
// failures (package signin) is what stops guessing on a terminal.
package pin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// Default follows OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a
// few tens of milliseconds on a terminal.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinLen and MaxLen bound a PIN's length in characters.
	MinLen = 4
	MaxLen = 32
	// maxMemory refuses hashes asking for absurd work (a hostile hash in
	// synced data must not take a terminal down).
	maxMemory = 64 * 1024
	maxTime   = 8
)

// ErrMismatch is returned by Verify for a wrong PIN.
var ErrMismatch = errors.New("pin: wrong PIN")

// ErrFormat is returned for a hash that is not one this package writes.
var ErrFormat = errors.New("pin: not an argon2id hash")

// Check says whether p is acceptable as a PIN: MinLen–MaxLen digits.
func Check(p string) error {
	n := utf8.RuneCountInString(p)
	if n < MinLen || n > MaxLen {
		return fmt.Errorf("a PIN has %d to %d digits", MinLen, MaxLen)
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return fmt.Errorf("a PIN has digits only")
		}
	}
	return nil
}

// Hash returns the PHC string of p with a fresh random salt.
func Hash(p string, prm Params) (string, error) {
	if err := Check(p); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("pin: salt: %w", err)
	}
	key := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, prm.Memory, prm.Time, prm.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether p matches hash: nil, ErrMismatch, or ErrFormat
// (wrapped) for a hash it cannot read.
func Verify(p, hash string) error {
	prm, salt, key, err := decode(hash)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

func decode(hash string) (Params, []byte, []byte, error) {
	var prm Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return prm, nil, nil, ErrFormat
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return prm, nil, nil, fmt.Errorf("%w: version %q", ErrFormat, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &prm.Memory, &prm.Time, &prm.Threads); err != nil {
		return prm, nil, nil, fmt.Errorf("%w: parameters", ErrFormat)
	}
	if prm.Memory < 8 || prm.Memory > maxMemory || prm.Time < 1 || prm.Time > maxTime || prm.Threads < 1 {
		return prm, nil, nil, fmt.Errorf("%w: parameters out of range", ErrFormat)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return prm, nil, nil, fmt.Errorf("%w: salt", ErrFormat)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return prm, nil, nil, fmt.Errorf("%w: hash", ErrFormat)
	}
	return prm, salt, key, nil
}
