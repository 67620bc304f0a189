package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// wireCases makes, with the real services, one error of every shape the
// screens show: a validation error with its field, a wrong PIN with the
// tries left, a lockout with its time, an unknown badge and a refused
// enrollment code.
func wireCases(t *testing.T) map[string]error {
	t.Helper()
	tm := newTerminal(t, "operator")
	tm.seed(t, protocol.TablePeople,
		person("OP-100", "Olga Operator", "operator", true, ""),
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")))
	out := map[string]error{}
	core, _ := newCore(t)
	_, out["validation"] = NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P-100", Quantity: -1, OperatorID: "op"})
	_, out["unknown_badge"] = tm.sess.Identify("NOPE-7")
	_, out["wrong_pin"] = tm.sess.SignIn("MGR-1", "0000")
	for i := 0; i < 3; i++ {
		tm.sess.SignIn("MGR-1", "0000")
	}
	_, out["locked"] = tm.sess.SignIn("MGR-1", "0000")
	out["invalid_code"] = syncError(fmt.Errorf("enroll: %w", &syncclient.APIError{Status: 400, Code: "invalid_code"}))
	for k, err := range out {
		if err == nil {
			t.Fatalf("%s: no error", k)
		}
	}
	return out
}

// TestFormatError_WailsCarriesAString: Wails v2.16's desktop runtime rejects
// a bound call's promise with `new Error(message.error)`
// (internal/frontend/runtime/desktop/calls.js, Callback), where message.error
// is what the ErrorFormatter returned, marshalled by the dispatcher
// (internal/frontend/dispatcher/calls.go, CallbackMessage.Err). An object
// becomes "[object Object]" there; only a string survives. So FormatError
// returns the JSON text of the *Error, and every shape the screens branch on
// (code, sentence, field) comes back out of it.
//
// With OUTPOST_WIRE_OUT set it writes the formatter's values there, for the
// test that sends them through the real dispatcher and runtime
// (frontend/e2e/wails-wire).
func TestFormatError_WailsCarriesAString(t *testing.T) {
	want := map[string]struct{ code, field, text string }{
		"validation":    {"invalid_value", "quantity", "Quantity"},
		"unknown_badge": {CodeUnknownBadge, "badge", "NOPE-7"},
		"wrong_pin":     {CodeWrongPIN, "pin", "4 more tries"},
		"locked":        {CodeLocked, "pin", "5 minutes"},
		"invalid_code":  {"invalid_code", "code", "enrollment code was not accepted"},
	}
	values := map[string]string{}
	for name, err := range wireCases(t) {
		v := FormatError(err)
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: FormatError returned %T, want a string the runtime can carry", name, v)
		}
		var e Error
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			t.Fatalf("%s: FormatError returned %q, not JSON: %v", name, s, err)
		}
		w := want[name]
		if e.Code != w.code || e.Field != w.field || !strings.Contains(e.Message, w.text) || !strings.HasSuffix(e.Message, ".") {
			t.Errorf("%s: %+v, want code %q field %q and a sentence with %q", name, e, w.code, w.field, w.text)
		}
		values[name] = s
	}
	if len(values) != len(want) {
		t.Fatalf("cases %v, want %v", values, want)
	}
	if out := os.Getenv("OUTPOST_WIRE_OUT"); out != "" {
		b, _ := json.MarshalIndent(values, "", "  ")
		if err := os.WriteFile(filepath.Clean(out), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An internal error still reaches the screen as the generic sentence,
	// as JSON too.
	var e Error
	if err := json.Unmarshal([]byte(FormatError(errors.New("disk I/O error")).(string)), &e); err != nil || e.Code != CodeInternal {
		t.Fatalf("internal error: %+v %v", e, err)
	}
}
