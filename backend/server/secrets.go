package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/protocol"
)

// HashSecret returns the hex SHA-256 of a token or normalised code: the only
// form in which secrets are stored.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newToken returns a device token: 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics if the OS has no entropy)
	return base64.RawURLEncoding.EncodeToString(b)
}

var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newEnrollCode returns a code of 20 random bytes in base32, grouped in
// fours for reading aloud.
func newEnrollCode() string {
	b := make([]byte, 20)
	rand.Read(b)
	s := codeEncoding.EncodeToString(b)
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, "-")
}

// normalizeCode drops the separators and case a person may type.
func normalizeCode(c string) string {
	c = strings.ToUpper(c)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, c)
}

// ErrBadArgument is returned by the administration functions for invalid input.
var ErrBadArgument = errors.New("bad argument")

// CreateEnrollCode makes an enrollment code for site (created when unknown)
// and role, valid for ttl and uses enrollments, and returns it. The store
// keeps only its hash: the code is shown once.
func CreateEnrollCode(ctx context.Context, st Store, site, role string, ttl time.Duration, uses int, now time.Time) (string, error) {
	if n := utf8.RuneCountInString(site); n == 0 || n > 128 {
		return "", fmt.Errorf("%w: the site must be 1–128 characters", ErrBadArgument)
	}
	if role != protocol.RoleOperator && role != protocol.RoleManager && role != protocol.RoleHub {
		return "", fmt.Errorf("%w: the role must be %q, %q or %q", ErrBadArgument, protocol.RoleOperator, protocol.RoleManager, protocol.RoleHub)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: the ttl must be positive", ErrBadArgument)
	}
	if uses < 1 {
		return "", fmt.Errorf("%w: uses must be 1 or more", ErrBadArgument)
	}
	code := newEnrollCode()
	err := st.CreateEnrollCode(ctx, EnrollCode{
		Hash: HashSecret(normalizeCode(code)), SiteID: site, Role: role, Uses: uses,
		ExpiresAt: now.Add(ttl).UnixMilli(), CreatedAt: now.UnixMilli(),
	})
	if err != nil {
		return "", fmt.Errorf("store enrollment code: %w", err)
	}
	return code, nil
}
