package app

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestFormatError_CodeAndParams: every rejection reaches the WebView as a
// stable code with the parameters a screen needs to say it in the
// operator's language; the English sentence stays in message (logs, CLI).
func TestFormatError_CodeAndParams(t *testing.T) {
	reg := protocol.NewRegistry()
	cfg, _ := reg.Lookup(protocol.TableLineConfigs)
	_, tooLong := cfg.Validate("6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", map[string]any{
		"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1, "notes": strings.Repeat("x", 4001),
	}, protocol.Complete)
	const h = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaDE"
	tests := []struct {
		name    string
		err     error
		code    string
		field   string
		params  map[string]any // as the WebView reads the JSON
		message string         // "" = not checked
	}{
		{"too long from the registry", fmt.Errorf("save: %w", tooLong), protocol.CodeTooLong, "notes",
			map[string]any{"field": "notes", "max": 4000.0, "length": 4001.0}, "Notes is 4001 characters long; the limit is 4000."},
		{"range", &protocol.ValidationError{Code: protocol.CodeInvalidValue, Column: "quantity", Message: "quantity must be between 0 and 9",
			Params: map[string]any{"field": "quantity", "rule": "range", "min": int64(0), "max": int64(9)}}, protocol.CodeInvalidValue, "quantity",
			map[string]any{"field": "quantity", "rule": "range", "min": 0.0, "max": 9.0}, "Quantity must be between 0 and 9."},
		{"app error with params", (&Error{Code: CodeWrongPIN, Field: "pin", Message: "Wrong PIN. 4 more tries before this badge is locked for a while."}).With("tries_left", 4),
			CodeWrongPIN, "pin", map[string]any{"field": "pin", "tries_left": 4.0}, "Wrong PIN. 4 more tries before this badge is locked for a while."},
		{"field alone becomes a param", fieldError(CodeInvalidInput, "to", "The end must be after the start."), CodeInvalidInput, "to",
			map[string]any{"field": "to"}, ""},
		{"no params", ErrNotFound, CodeNotFound, "", nil, ErrNotFound.Message},
		{"secrets scrubbed from params", (&Error{Code: CodeInvalidInput, Message: "x"}).With("value", "pin "+h), CodeInvalidInput, "",
			map[string]any{"value": "pin [PIN hash]"}, ""},
		{"a param JSON cannot carry is dropped, the rest kept", (&Error{Code: CodeInvalidInput, Message: "Bad."}).With("n", math.NaN()),
			CodeInvalidInput, "", nil, "Bad."},
		{"internal has no params", fmt.Errorf("disk I/O error"), CodeInternal, "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := FormatError(tc.err).(string)
			if !ok {
				t.Fatalf("FormatError = %#v, want a string", FormatError(tc.err))
			}
			var got struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Field   string         `json:"field"`
				Params  map[string]any `json:"params"`
			}
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if got.Code != tc.code || got.Field != tc.field || !reflect.DeepEqual(got.Params, tc.params) {
				t.Fatalf("got %s\nwant code %q field %q params %#v", s, tc.code, tc.field, tc.params)
			}
			if tc.message != "" && got.Message != tc.message {
				t.Fatalf("message %q, want %q", got.Message, tc.message)
			}
		})
	}
}

// TestError_WithCopies: With never changes a shared error value such as
// ErrNotFound.
func TestError_WithCopies(t *testing.T) {
	e := ErrNotFound.With("id", "x")
	if ErrNotFound.Params != nil || e.Params["id"] != "x" || e.Code != ErrNotFound.Code {
		t.Fatalf("ErrNotFound %+v, copy %+v", ErrNotFound, e)
	}
	f := e.With("n", 1)
	if _, ok := e.Params["n"]; ok || f.Params["id"] != "x" {
		t.Fatalf("With changed its receiver: %+v %+v", e, f)
	}
}

// uiMessages reads the English error and export messages of the UI
// (frontend/src/i18n/errors/en.json).
func uiMessages(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "frontend", "src", "i18n", "errors", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestErrorCodesHaveMessages: every code Go hands the WebView has a message
// in the UI's message files, so no language falls back to English for it.
func TestErrorCodesHaveMessages(t *testing.T) {
	m := uiMessages(t)
	codes := []string{
		CodeNotFound, CodeStoreClosed, CodeTimeout, CodeInternal, CodeInvalidInput, "deleted",
		protocol.CodeUnknownTable, protocol.CodeUnknownColumn, protocol.CodeInvalidValue, protocol.CodeMissingValue,
		protocol.CodeTooLong, protocol.CodeInvalidHLC, protocol.CodeClockAhead, protocol.CodeRowDeleted, protocol.CodeForbidden,
		CodeSignInRequired, CodeForbidden, CodeWrongPIN, CodeLocked, CodeUnknownBadge, CodeInactive, CodePINNotSet,
		CodeUnknownCode, CodeInactiveCode, CodeNoSiteData,
		"invalid_code", "offline", "unauthorized", "sync_failed", "unsettled", "config_invalid", "export_failed",
	}
	for _, c := range codes {
		if m["errors."+c] == "" {
			t.Errorf("no message errors.%s in frontend/src/i18n/errors/en.json", c)
		}
	}
	// Every reason the local database did not open has a title and a
	// message (app.Failure, the failure screen).
	for _, c := range []string{"open_failed", "already_running", "keychain_unavailable", "key_missing", "wrong_key",
		"database_damaged", "key_file_insecure", "key_invalid", "schema_too_new", "key_file_setting_invalid"} {
		if m["errors.failure."+c+".title"] == "" || m["errors.failure."+c+".message"] == "" {
			t.Errorf("no title or message errors.failure.%s", c)
		}
	}
}

// TestFieldLabelsAreTheMessageFiles: every column of every registry table
// has a label "errors.field.<column>" in every language's message file,
// the one key family the forms, the error sentences and the conflict diff
// name columns by (issue 18 point 4); and Go's English labels, which only
// its log sentences use, say what errors/en.json says.
func TestFieldLabelsAreTheMessageFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "frontend", "src", "i18n", "errors", "*.json"))
	if err != nil || len(files) != len(protocol.Languages) {
		t.Fatalf("message files %v (%v), want one per language of %v", files, err, protocol.Languages)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, tb := range protocol.NewRegistry().Tables() {
			for _, c := range tb.Columns {
				if m["errors.field."+c.Name] == "" {
					t.Errorf("%s: no label errors.field.%s (table %s)", filepath.Base(f), c.Name, tb.Name)
				}
			}
		}
	}
	en := uiMessages(t)
	for _, tb := range protocol.NewRegistry().Tables() {
		for _, c := range tb.Columns {
			if _, ok := fieldLabels[c.Name]; !ok {
				t.Errorf("fieldLabels has no English label for %s", c.Name)
			}
		}
	}
	for col, label := range fieldLabels {
		if en["errors.field."+col] != label {
			t.Errorf("fieldLabels[%q] = %q, errors/en.json says %q", col, label, en["errors.field."+col])
		}
	}
}

// TestExportWordsHaveMessages: the UI has a message "csv.<key>" for every
// word an export writes, and no other.
func TestExportWordsHaveMessages(t *testing.T) {
	m := uiMessages(t)
	for k, en := range exportWords {
		if m["csv."+k] != en {
			t.Errorf("csv.%s = %q in en.json, Go writes %q", k, m["csv."+k], en)
		}
	}
	for k := range m {
		if w, ok := strings.CutPrefix(k, "csv."); ok {
			if _, known := exportWords[w]; !known {
				t.Errorf("en.json has %s, which no export writes", k)
			}
		}
	}
}
