package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"unicode"

	"filippo.io/age"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Field names one setting, exactly as it is spelled in the JSON files.
type Field string

// The settings. Their JSON names are part of the IT contract (docs/deployment.md).
const (
	// ServerURL is the sync server's base URL, https://host[:port][/path].
	ServerURL Field = "server_url"
	// EnrollmentCode is a fleet enrollment code (outpost-server enroll --uses N)
	// the app enrolls with on first start. It is a secret: never logged.
	EnrollmentCode Field = "enrollment_code"
	// CABundle is the absolute path of a PEM file of extra CA certificates
	// trusted for the sync server, beside the system's.
	CABundle Field = "ca_bundle"
	// ProxyURL is the HTTP proxy for the sync server: empty uses the
	// environment (HTTPS_PROXY, NO_PROXY), "direct" uses none, else an
	// http://, https:// or socks5:// URL.
	ProxyURL Field = "proxy_url"
	// RecoveryPublicKey is the site recovery public key, an age recipient
	// ("age1…"), that the database key is also wrapped with. Managed only.
	RecoveryPublicKey Field = "recovery_public_key"
	// KioskKeyFile is the absolute path of a key file used instead of the OS
	// keychain on headless kiosks (the explicit opt-in). Managed only.
	KioskKeyFile Field = "kiosk_key_file"
	// Language is the language of this computer's screens until someone
	// chooses (issue 21): one of protocol.Languages ("de", "pt-BR", …, any
	// case). The terminal's own choice and the signed-in person's language
	// come first; empty is English.
	Language Field = "language"
)

// AllowInsecureHTTP is the managed file's switch (a JSON boolean, managed
// file only) that lets server_url use plain http:// to another computer.
// Without it such an address is refused: the device token and the
// enrollment code would travel in clear.
const AllowInsecureHTTP = "allow_insecure_http"

// CheckServerURL refuses a server address that would send the device token
// in clear: plain http:// to anything but this computer (localhost,
// 127.0.0.0/8, ::1), unless allowInsecure (the managed file's
// allow_insecure_http). "" and addresses that are not URLs pass: Validate
// judges those.
func CheckServerURL(s string, allowInsecure bool) error {
	u, err := url.Parse(s)
	if s == "" || err != nil || allowInsecure || !strings.EqualFold(u.Scheme, "http") || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%w: %s would send this computer's key to the sync server in clear; use https://, "+
		"or IT allows plain http:// with %q: true in the managed configuration", ErrInsecureHTTP, u.Host, AllowInsecureHTTP)
}

// isLoopback reports whether host names this computer: "localhost" or a
// loopback address. Other names are not resolved (DNS can say anything).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProxyDirect is the ProxyURL value that turns every proxy off, including
// one from the environment.
const ProxyDirect = "direct"

// Fields lists every setting, in the order a settings screen shows them.
var Fields = []Field{ServerURL, EnrollmentCode, CABundle, ProxyURL, RecoveryPublicKey, KioskKeyFile, Language}

type fieldSpec struct {
	// managedOnly fields are machine-wide decisions of IT: a user file may not
	// set them, and the operator never can.
	managedOnly bool
	// secret values are redacted by Settings.String.
	secret bool
	// redact, when set, returns the value as it may be shown and logged
	// (the password of a proxy URL blanked); the value itself is used as is.
	redact   func(value string) string
	validate func(goos, value string) error
}

var specs = map[Field]fieldSpec{
	ServerURL:         {validate: validateServerURL},
	EnrollmentCode:    {secret: true, validate: validateEnrollmentCode},
	CABundle:          {validate: validateAbsPath},
	ProxyURL:          {validate: validateProxyURL, redact: redactURL},
	RecoveryPublicKey: {managedOnly: true, validate: validateRecipient},
	KioskKeyFile:      {managedOnly: true, validate: validateAbsPath},
	Language:          {validate: validateLanguage},
}

// Known reports whether f names a setting.
func Known(f Field) bool {
	_, ok := specs[f]
	return ok
}

// Redact returns value of f as a screen or a log line may show it: a
// password in a URL (proxy_url's user:password@) is replaced by "xxxxx".
// Secrets (enrollment_code) are the caller's to hide whole (FieldState.Secret).
func Redact(f Field, value string) string {
	if r := specs[f].redact; r != nil && value != "" {
		return r(value)
	}
	return value
}

// redactURL blanks the password of a URL. A value that does not parse is
// shown as nothing at all: it could hold anything.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

// Validate checks value for f on this OS. The empty string is valid for
// every field: it means "none" (for ProxyURL: "from the environment").
func Validate(f Field, value string) error { return ValidateFor(runtime.GOOS, f, value) }

// ValidateFor checks value for f as the app on goos would.
func ValidateFor(goos string, f Field, value string) error {
	spec, ok := specs[f]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownField, f)
	}
	if value == "" {
		return nil
	}
	if err := spec.validate(goos, value); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	return nil
}

func validateServerURL(_, s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("must start with https:// (or http://)")
	}
	if u.Host == "" {
		return errors.New("has no host name")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment")
	}
	return nil
}

func validateProxyURL(_, s string) error {
	if s == ProxyDirect {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5":
	default:
		return fmt.Errorf("must be %q or an http://, https:// or socks5:// URL", ProxyDirect)
	}
	if u.Host == "" {
		return errors.New("has no host name")
	}
	return nil
}

func validateEnrollmentCode(_, s string) error {
	if len(s) > 256 {
		return errors.New("longer than 256 characters")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("contains control characters")
	}
	return nil
}

// validateAbsPath checks for an absolute path of goos, so a Windows
// configuration can be checked on Linux too (outpost-config check --os).
func validateAbsPath(goos, s string) error {
	abs := strings.HasPrefix(s, "/")
	if goos == "windows" {
		// C:\dir, C:/dir or \\server\share; never a drive-relative C:dir.
		abs = len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') &&
			('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') || strings.HasPrefix(s, `\\`)
	}
	if !abs {
		return errors.New("must be an absolute path")
	}
	return nil
}

func validateRecipient(_, s string) error {
	if _, err := age.ParseRecipients(strings.NewReader(s)); err != nil {
		return fmt.Errorf("not an age public key (age1…): %w", err)
	}
	return nil
}

// language returns the tag of protocol.Languages that s names (any case,
// spaces around ignored), or "".
func language(s string) string {
	s = strings.TrimSpace(s)
	for _, l := range protocol.Languages {
		if strings.EqualFold(s, l) {
			return l
		}
	}
	return ""
}

func validateLanguage(_, s string) error {
	if language(s) == "" {
		return fmt.Errorf("must be one of %s (a language Outpost speaks)", strings.Join(protocol.Languages, ", "))
	}
	return nil
}
