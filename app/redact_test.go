package app

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestRedactor: every secret column, nested at any depth (a conflict
// record's base/mine/theirs), and any string that is a PIN hash become
// tokens; equal values give equal tokens; reveal maps a side's token back
// and refuses anything else.
func TestRedactor(t *testing.T) {
	var r redactor
	const h1, h2 = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaDE", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaDI"
	rec := map[string]any{
		"table_name": "people",
		"base":       map[string]any{"badge_id": "M-1", "pin_hash": h1},
		"mine":       protocol.Row{"badge_id": "M-1", "pin_hash": h2},
		"theirs":     map[string]any{"badge_id": "M-1", "pin_hash": nil},
		"list":       []any{map[string]any{"pin_hash": h1}, h2, "plain"},
	}
	out := r.redact(rec).(map[string]any)
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "argon2") {
		t.Fatalf("a hash is left: %s", b)
	}
	base := out["base"].(map[string]any)["pin_hash"].(string)
	mine := out["mine"].(protocol.Row)["pin_hash"].(string)
	if !strings.HasPrefix(base, SecretToken) || len(base) != len(SecretToken)+16 || base == mine {
		t.Fatalf("tokens base %q mine %q", base, mine)
	}
	if out["theirs"].(map[string]any)["pin_hash"] != nil {
		t.Fatal("no PIN became a token")
	}
	if l := out["list"].([]any); l[0].(map[string]any)["pin_hash"] != base || l[1] != mine || l[2] != "plain" {
		t.Fatalf("list: %v", l)
	}
	if rec["base"].(map[string]any)["pin_hash"] != h1 {
		t.Fatal("redact changed its input")
	}
	if again := r.redact(out).(map[string]any); again["base"].(map[string]any)["pin_hash"] != base {
		t.Fatal("a token was redacted again")
	}

	sides := []map[string]any{{"pin_hash": h1}, {"pin_hash": h2}, {"pin_hash": nil}}
	got, err := r.reveal(map[string]any{"badge_id": "M-1", "pin_hash": mine}, sides...)
	if err != nil || got["pin_hash"] != h2 || got["badge_id"] != "M-1" {
		t.Fatalf("reveal mine: %v %v", got, err)
	}
	if got, err := r.reveal(map[string]any{"pin_hash": nil}, sides...); err != nil || got["pin_hash"] != nil {
		t.Fatalf("reveal no PIN: %v %v", got, err)
	}
	for _, bad := range []any{h1, "secret:0000000000000000", "1234"} {
		if _, err := r.reveal(map[string]any{"pin_hash": bad}, sides...); err != errSecretTyped {
			t.Fatalf("reveal %v: %v", bad, err)
		}
	}
	var other redactor
	if other.token(h1) == r.token(h1) {
		t.Fatal("two runs gave the same token: the key is not random")
	}
}

// TestFormatError_ScrubsPINHashes: an error that quotes a PIN hash reaches
// neither the WebView nor the log with it.
func TestFormatError_ScrubsPINHashes(t *testing.T) {
	logs := captureLog(t)
	const h = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaDE"
	for _, err := range []error{
		&Error{Code: CodeInvalidInput, Message: "row " + h + " was refused."},
		&protocol.ValidationError{Code: protocol.CodeInvalidValue, Column: "pin_hash", Message: "pin_hash " + h + " is bad"},
		errors.New(`store: "` + h + `" broke`),
	} {
		b, _ := json.Marshal(FormatError(err))
		if strings.Contains(string(b), "argon2") {
			t.Errorf("FormatError(%v) = %s", err, b)
		}
	}
	if log := logs.String(); !strings.Contains(log, "bound call failed") || strings.Contains(log, "argon2") {
		t.Fatalf("log:\n%s", log)
	}
}
