package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Error codes the UI branches on, besides the validation codes of
// backend/protocol (missing_value, too_long, invalid_value, …).
const (
	CodeNotFound     = "not_found"
	CodeStoreClosed  = "store_unavailable"
	CodeTimeout      = "timeout"
	CodeInternal     = "internal"
	CodeInvalidInput = "invalid_value"
)

// Error is the value a rejected call hands to the WebView: a stable code to
// branch on and to say it by, the English sentence (for logs, the CLI, and
// as the screen's fallback), for validation errors the field it is about
// (the column name, e.g. "line_id"), and the parameters a screen needs to
// say it in the person's language (frontend/src/i18n/errors): a JSON object
// such as {"field": "notes", "max": 4000}, {"tries_left": 4} or
// {"until": "<RFC3339>"}. Codes and parameter names are a contract with the
// message files: rename neither.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// With returns a copy of e with the parameter key set to v; e itself, often
// a shared value such as ErrNotFound, is never changed. Values are what JSON
// carries: numbers, strings, booleans (times as RFC 3339 strings).
func (e *Error) With(key string, v any) *Error {
	c := *e
	c.Params = make(map[string]any, len(e.Params)+1)
	for k, x := range e.Params {
		c.Params[k] = x
	}
	c.Params[key] = v
	return &c
}

// ErrNotFound is returned for an id that names no row.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "That item no longer exists. It may have been deleted; refresh the list."}

// ErrDeleted is returned for an edit of a deleted row.
var ErrDeleted = &Error{Code: "deleted", Message: "This item was deleted. Undo the delete before editing it."}

// mapErr names the local database's errors a person can act on.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrDeleted):
		return ErrDeleted
	case errors.Is(err, store.ErrClosed):
		return &Error{Code: CodeStoreClosed, Message: "The local database is closed. Start Outpost again."}
	}
	if _, ok := protocol.AsValidation(err); ok {
		return err // FormatError puts it next to its field
	}
	return err
}

// fieldLabels are the English names of the columns, for the English
// sentence Go logs and hands the WebView as its fallback (humanize). The
// screens never show them: they name a column in the person's language
// from the message files ("errors.field.<column>" in
// frontend/src/i18n/errors). TestFieldLabelsAreTheMessageFiles keeps this
// map equal to errors/en.json and complete for the registry.
var fieldLabels = map[string]string{
	"id":                   "Id",
	"line_id":              "Line",
	"product_id":           "Product",
	"operator_id":          "Operator",
	"quantity":             "Quantity",
	"recipe":               "Recipe",
	"target_rate_per_hour": "Target rate",
	"temperature_c":        "Temperature",
	"speed_rpm":            "Speed",
	"notes":                "Notes",
	"code":                 "Code",
	"name":                 "Name",
	"area":                 "Area",
	"unit":                 "Unit",
	"active":               "Active",
	"min_quantity":         "Smallest quantity",
	"max_quantity":         "Largest quantity",
	"badge_id":             "Badge",
	"display_name":         "Name",
	"role":                 "Role",
	"pin":                  "PIN",
	"pin_hash":             "PIN",
	"language":             "Language",
	"time_zone":            "Time zone",
	"shifts":               "Shifts",
	"clock_skew_ms":        "Allowed clock difference",
	"idle_signout_s":       "Idle sign-out",
	"pin_roles":            "Roles that need a PIN",
	"updated_by":           "Changed by",
	"created_at":           "Created",
	"updated_at":           "Updated",
	"deleted_at":           "Deleted",
	"server_updated_at":    "Updated on the server",
}

// FieldLabel returns a column's English name, for log sentences.
func FieldLabel(column string) string {
	if l, ok := fieldLabels[column]; ok {
		return l
	}
	return column
}

// FormatError turns any error a bound method returns into the JSON text of
// an *Error. It is the Wails ErrorFormatter: errors are mapped here, once.
// Errors that are not the user's to fix are logged with their detail and
// shown as a generic sentence, so no internals reach the screen.
//
// It returns a string, not the *Error: Wails v2.16's dispatcher puts the
// formatter's value in the callback message as is, and the desktop runtime
// rejects the promise with `new Error(value)`, which turns an object into
// "[object Object]". The string arrives whole as the Error's message, and
// frontend/src/lib/api.ts parses it back (wire_test.go, frontend/e2e/wails-wire).
func FormatError(err error) any {
	e := toError(err)
	b, mErr := json.Marshal(e)
	if mErr != nil {
		// A parameter JSON cannot carry (NaN, a channel): the sentence
		// still reaches the screen.
		slog.Warn("error parameters dropped", "code", e.Code, "err", mErr)
		c := *e
		c.Params = nil
		if b, mErr = json.Marshal(&c); mErr != nil { // cannot happen: strings only
			return `{"code":"internal","message":""}`
		}
	}
	return string(b)
}

// toError maps err to the *Error the WebView gets: its own *Error, or a
// validation error of the store or the registry with its code, field and
// parameters, or a timeout; anything else is logged and shown as internal.
// Text that may quote a secret is scrubbed, parameters included.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Message = scrubText(e.Message)
		c.Params = params(e.Params, e.Field)
		return &c
	}
	if ve, ok := protocol.AsValidation(err); ok {
		return &Error{Code: ve.Code, Field: ve.Column, Message: scrubText(sentence(humanize(ve.Message, ve.Column))),
			Params: params(ve.Params, ve.Column)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "The local database took too long to answer. Try again."}
	}
	slog.Error("bound call failed", "err", scrubText(err.Error()))
	return &Error{Code: CodeInternal, Message: "Something went wrong and the change was not saved. Try again; if it keeps happening, tell IT."}
}

// humanize replaces the column name in a validation message with its label.
func humanize(msg, column string) string {
	if column == "" {
		return msg
	}
	return strings.ReplaceAll(msg, column, FieldLabel(column))
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func fieldError(code, column, format string, args ...any) *Error {
	return &Error{Code: code, Field: column, Message: fmt.Sprintf(format, args...)}
}

// params returns a copy of p for the WebView: string values scrubbed of
// secrets, and "field" set to field when p has none; nil when empty.
func params(p map[string]any, field string) map[string]any {
	if len(p) == 0 && field == "" {
		return nil
	}
	out := make(map[string]any, len(p)+1)
	for k, v := range p {
		if s, ok := v.(string); ok {
			v = scrubText(s)
		}
		out[k] = v
	}
	if _, ok := out["field"]; !ok && field != "" {
		out["field"] = field
	}
	return out
}
