package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/outpost-app/outpost/backend/protocol"
)

// SecretToken starts the value that stands in for a secret column's value
// (a PIN hash) in everything the WebView gets: "secret:" and 16 hex
// digits. Equal values give equal tokens within one run of the app, so
// the screens can say "PIN set", "PIN changed" or "PIN removed", but a
// token says nothing about the value: it is an HMAC under a random key that
// never leaves the Go process, so it cannot be guessed at offline the way a
// hash can (a 4-digit PIN's argon2id hash falls in minutes).
const SecretToken = "secret:"

// redactor replaces the values of the registry's Secret columns, and any
// string that is a PIN hash wherever it sits, before a row leaves the Go
// process toward the WebView. Every bound method that returns rows (the
// conflict inbox, history, the quarantine) goes through it. The zero value
// is ready to use.
type redactor struct {
	once sync.Once
	key  []byte
	cols map[string]bool
}

func (r *redactor) init() {
	r.once.Do(func() {
		r.key = make([]byte, 32)
		if _, err := rand.Read(r.key); err != nil {
			panic(fmt.Sprintf("redactor key: %v", err)) // crypto/rand does not fail on supported systems
		}
		r.cols = map[string]bool{}
		for _, c := range registry.SecretColumns() {
			r.cols[c] = true
		}
	})
}

// token is the stand-in of one secret value.
func (r *redactor) token(v string) string {
	r.init()
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return SecretToken + hex.EncodeToString(m.Sum(nil))[:16]
}

// secret redacts the value of a secret column: null and "" stay (no PIN),
// anything else becomes its token.
func (r *redactor) secret(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" || strings.HasPrefix(x, SecretToken) {
			return x
		}
		return r.token(x)
	default:
		return r.token(fmt.Sprint(x))
	}
}

// redact returns a copy of v (a row, a conflict record, a list of them)
// with every secret replaced by its token. Values of other types are
// returned as they are.
func (r *redactor) redact(v any) any {
	r.init()
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if r.cols[k] {
				out[k] = r.secret(e)
			} else {
				out[k] = r.redact(e)
			}
		}
		return out
	case protocol.Row:
		if x == nil {
			return x
		}
		return protocol.Row(r.redact(map[string]any(x)).(map[string]any))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.redact(e)
		}
		return out
	case string:
		if strings.HasPrefix(x, protocol.PINHashPrefix) {
			return r.token(x)
		}
		return x
	}
	return v
}

// row is redact for one row.
func (r *redactor) row(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return r.redact(m).(map[string]any)
}

// errSecretTyped refuses a secret value that is not one of the sides' own.
var errSecretTyped = fieldError(CodeInvalidInput, "pin_hash",
	"A PIN cannot be typed in here: take it from one side, or set a new PIN on the Site screen afterwards.").With("rule", "secret")

// reveal returns row with each secret column's token replaced by the value
// it stands for, found among sides (the rows the token was made from). A
// secret value that is neither empty nor the token of one of the sides is
// refused: the WebView never holds a real secret, so it cannot have typed
// one in.
func (r *redactor) reveal(row map[string]any, sides ...map[string]any) (map[string]any, error) {
	r.init()
	out := make(map[string]any, len(row))
	for k, v := range row {
		out[k] = v
	}
	for col := range r.cols {
		v, ok := out[col]
		if !ok || v == nil || v == "" {
			continue
		}
		tok, _ := v.(string)
		if !strings.HasPrefix(tok, SecretToken) {
			return nil, errSecretTyped
		}
		found := false
		for _, s := range sides {
			if real, _ := s[col].(string); real != "" && r.token(real) == tok {
				out[col], found = real, true
				break
			}
		}
		if !found {
			return nil, errSecretTyped
		}
	}
	return out, nil
}

// hashInText finds a PIN hash inside a sentence: "$argon2id$" and what
// follows up to a space or a quote.
var hashInText = regexp.MustCompile(`\$argon2id\$[^\s"'\x60]*`)

// scrubText replaces every PIN hash in s (an error message, a log line)
// with "[PIN hash]": the last guard of the errors a bound method returns
// and of what FormatError logs.
func scrubText(s string) string {
	if !strings.Contains(s, protocol.PINHashPrefix) {
		return s
	}
	return hashInText.ReplaceAllString(s, "[PIN hash]")
}
