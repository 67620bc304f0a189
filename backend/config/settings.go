package config

import (
	"fmt"
	"strings"
)

// Source tells which layer a setting's value came from.
type Source int

const (
	// SourceDefault: the built-in default.
	SourceDefault Source = iota
	// SourcePreset: the managed file's "defaults" object.
	SourcePreset
	// SourceUser: the user file.
	SourceUser
	// SourceManaged: the managed file's top level (enforced).
	SourceManaged
)

func (s Source) String() string {
	switch s {
	case SourcePreset:
		return "preset"
	case SourceUser:
		return "user"
	case SourceManaged:
		return "managed"
	default:
		return "default"
	}
}

// Settings is the resolved configuration. The zero value holds only empty
// defaults; build it with Loader.Load.
type Settings struct {
	values  map[Field]string
	sources map[Field]Source
	locked  map[Field]bool
	// allowInsecure is the managed file's allow_insecure_http.
	allowInsecure bool
}

// resolve merges the layers field by field: managed > user > presets >
// defaults, where a field that is managed, locked or managed-only ignores the
// user layer. It is the whole precedence rule, kept pure for testing.
func resolve(defaults layer, m *managedFile, user layer) *Settings {
	if m == nil {
		m = &managedFile{}
	}
	s := &Settings{values: map[Field]string{}, sources: map[Field]Source{}, locked: map[Field]bool{},
		allowInsecure: m.allowInsecure}
	for _, f := range Fields {
		_, enforced := m.enforced[f]
		s.locked[f] = enforced || m.locked[f] || specs[f].managedOnly
		value, source := defaults[f], SourceDefault
		if v, ok := m.presets[f]; ok {
			value, source = v, SourcePreset
		}
		if v, ok := user[f]; ok && !s.locked[f] {
			value, source = v, SourceUser
		}
		if v, ok := m.enforced[f]; ok {
			value, source = v, SourceManaged
		}
		s.values[f], s.sources[f] = value, source
	}
	return s
}

// Get returns the value of f ("" when unset).
func (s *Settings) Get(f Field) string { return s.values[f] }

// Source returns the layer f's value came from.
func (s *Settings) Source(f Field) Source { return s.sources[f] }

// Locked reports whether the operator may not change f: the managed file
// sets it, locks it, or it is a managed-only field. A settings screen shows
// such a field read-only, and Loader.SetUser refuses it.
func (s *Settings) Locked(f Field) bool { return s.locked[f] }

// AllowInsecureHTTP reports whether the managed file allows server_url to
// use plain http:// to another computer (allow_insecure_http).
func (s *Settings) AllowInsecureHTTP() bool { return s.allowInsecure }

// ServerURL returns the sync server's base URL, or "".
func (s *Settings) ServerURL() string { return s.Get(ServerURL) }

// EnrollmentCode returns the fleet enrollment code, or "". It is a secret.
func (s *Settings) EnrollmentCode() string { return s.Get(EnrollmentCode) }

// CABundle returns the path of the extra CA bundle, or "".
func (s *Settings) CABundle() string { return s.Get(CABundle) }

// ProxyURL returns the proxy setting: "", ProxyDirect or a URL (see Proxy).
func (s *Settings) ProxyURL() string { return s.Get(ProxyURL) }

// RecoveryPublicKey returns the site recovery public key ("age1…"), or "".
func (s *Settings) RecoveryPublicKey() string { return s.Get(RecoveryPublicKey) }

// KioskKeyFile returns the kiosk key file path, or "" for the OS keychain.
func (s *Settings) KioskKeyFile() string { return s.Get(KioskKeyFile) }

// Language returns IT's default language for the screens, as
// protocol.Languages spells it ("pt-BR"), or "" for none.
func (s *Settings) Language() string { return language(s.Get(Language)) }

// FieldState is one row of a settings screen.
type FieldState struct {
	Field  Field  `json:"field"`
	Value  string `json:"value"`
	Source string `json:"source"` // "default", "preset", "user" or "managed"
	Locked bool   `json:"locked"`
	Secret bool   `json:"secret"` // show as "set"/"not set", never log
}

// States lists every field in display order, for a settings screen. Values
// are shown as Redact shows them (no proxy password); secrets are marked and
// left to the caller to blank.
func (s *Settings) States() []FieldState {
	out := make([]FieldState, 0, len(Fields))
	for _, f := range Fields {
		out = append(out, FieldState{Field: f, Value: Redact(f, s.Get(f)), Source: s.Source(f).String(),
			Locked: s.Locked(f), Secret: specs[f].secret})
	}
	return out
}

// String describes the settings for a log line, secrets and passwords
// redacted.
func (s *Settings) String() string {
	var b strings.Builder
	for i, f := range Fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := Redact(f, s.Get(f))
		if specs[f].secret && v != "" {
			v = "[set]"
		}
		fmt.Fprintf(&b, "%s=%q(%s", f, v, s.Source(f))
		if s.Locked(f) {
			b.WriteString(",locked")
		}
		b.WriteByte(')')
	}
	return b.String()
}
