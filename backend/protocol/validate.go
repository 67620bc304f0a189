package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Rejection codes of a push result and of local validation.
const (
	CodeUnknownTable  = "unknown_table"
	CodeUnknownColumn = "unknown_column"
	CodeInvalidValue  = "invalid_value"
	CodeMissingValue  = "missing_value"
	CodeTooLong       = "too_long"
	CodeInvalidHLC    = "invalid_hlc"
	CodeClockAhead    = "clock_ahead"
	CodeRowDeleted    = "row_deleted"
	// CodeForbidden: the device may not write this table (site data is
	// written by manager devices only). An additive code of contract v1.
	CodeForbidden = "forbidden"
)

// ValidationError says why one change or one row was refused. Column is empty
// when the problem is not about one column.
//
// Message is the English sentence (logs, the CLI, and the wire's
// "<code>: <sentence>", which Params never change). Params are what a screen
// needs to say the same in a person's language: "field" (the column), and
// per code "rule" (which check of invalid_value failed: uuid, id_mismatch,
// text, min_length, one_of, check, integer, time, range, number, singleton,
// key_changed, …) with its values ("max", "length", "min", "min_length",
// "options", "table", "value"). Nil when there is nothing to say.
type ValidationError struct {
	Code    string
	Column  string
	Message string
	Params  map[string]any
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

// Reason is the push result's error string: "<code>: <sentence>".
func (e *ValidationError) Reason() string { return e.Error() }

// AsValidation returns the *ValidationError in err's chain, if any.
func AsValidation(err error) (*ValidationError, bool) {
	var ve *ValidationError
	ok := errors.As(err, &ve)
	return ve, ok
}

func invalid(code, col, format string, args ...any) *ValidationError {
	e := &ValidationError{Code: code, Column: col, Message: fmt.Sprintf(format, args...)}
	if col != "" {
		e.Params = map[string]any{"field": col}
	}
	return e
}

// With returns e with the parameter key set to v (e is changed in place);
// it lets a caller add what a screen needs to a refusal it builds.
func (e *ValidationError) With(key string, v any) *ValidationError {
	if e.Params == nil {
		e.Params = map[string]any{}
	}
	e.Params[key] = v
	return e
}

// rule sets the "rule" parameter: which check of the code failed.
func (e *ValidationError) rule(r string) *ValidationError { return e.With("rule", r) }

// Row is one row's column values, normalised: string for text, int64 for
// integers and times, float64 for reals, nil for SQL NULL.
type Row map[string]any

// Clone returns a shallow copy of r (values are immutable scalars).
func (r Row) Clone() Row {
	if r == nil {
		return nil
	}
	out := make(Row, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// DecodeRow decodes a JSON object keeping numbers exact (json.Number), ready
// for Table.Validate.
func DecodeRow(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode row: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode row: row is null, want an object")
	}
	return m, nil
}

// ValidID reports whether id is a UUID in its canonical textual form.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil
}

// ValidateMode says which columns a row must carry.
type ValidateMode int

const (
	// Complete requires every NOT NULL column (an insert, or a push upsert).
	Complete ValidateMode = iota
	// Partial accepts any subset of the columns (a patch of an existing row).
	Partial
)

// Validate checks a row received for table t and returns it normalised. id is
// the change's row id: the row's "id", when present, must equal it. Bookkeeping
// columns are dropped, unknown columns refused. A nullable column that is
// absent stays absent (the server keeps its current value); an explicit null
// clears it. The first problem found is returned as a *ValidationError.
func (t Table) Validate(id string, in map[string]any, mode ValidateMode) (Row, error) {
	if !ValidID(id) {
		return nil, invalid(CodeInvalidValue, "id", "id %q is not a UUID", truncate(id, 64)).rule("uuid")
	}
	out := make(Row, len(in)+1)
	for name, v := range in {
		if IsBookkeeping(name) {
			continue
		}
		col, ok := t.Column(name)
		if !ok {
			return nil, invalid(CodeUnknownColumn, name, "table %s has no column %q", t.Name, truncate(name, 64)).With("field", truncate(name, 64)).With("table", t.Name)
		}
		nv, err := col.Normalize(v)
		if err != nil {
			return nil, err
		}
		out[name] = nv
	}
	if v, ok := out["id"]; ok && v != id {
		return nil, invalid(CodeInvalidValue, "id", "row id does not match the change's id").rule("id_mismatch")
	}
	out["id"] = id
	if ve := t.checkKey(id, out); ve != nil {
		return nil, ve
	}
	if mode == Complete {
		for _, c := range t.Columns {
			if c.Nullable || c.Name == "id" {
				continue
			}
			if _, ok := out[c.Name]; !ok {
				return nil, invalid(CodeMissingValue, c.Name, "%s is required", c.Name)
			}
		}
	}
	return out, nil
}

// Normalize checks one value against the column and returns it in its
// normalised Go type.
func (c Column) Normalize(v any) (any, error) {
	if v == nil {
		if !c.Nullable {
			return nil, invalid(CodeMissingValue, c.Name, "%s is required and cannot be empty", c.Name)
		}
		return nil, nil
	}
	switch c.Kind {
	case Text:
		s, ok := v.(string)
		if !ok {
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be text", c.Name).rule("text")
		}
		n := utf8.RuneCountInString(s)
		if c.MaxLen > 0 && n > c.MaxLen {
			return nil, invalid(CodeTooLong, c.Name, "%s is %d characters long; the limit is %d", c.Name, n, c.MaxLen).With("max", c.MaxLen).With("length", n)
		}
		if n < c.MinLen {
			if n == 0 {
				return nil, invalid(CodeMissingValue, c.Name, "%s is required and cannot be empty", c.Name)
			}
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be at least %d characters", c.Name, c.MinLen).rule("min_length").With("min_length", c.MinLen)
		}
		if c.UUID && !ValidID(s) {
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be a UUID", c.Name).rule("uuid")
		}
		if len(c.Enum) > 0 && !oneOf(s, c.Enum) && (s != "" || !c.Nullable) {
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be one of %s", c.Name, strings.Join(c.Enum, ", ")).rule("one_of").With("options", strings.Join(c.Enum, ", "))
		}
		if c.Check != nil {
			if msg := c.Check(s); msg != "" {
				return nil, invalid(CodeInvalidValue, c.Name, "%s", msg).rule("check")
			}
		}
		return s, nil
	case Int, Time:
		i, ok := toInt(v)
		if !ok {
			if c.Kind == Time {
				return nil, invalid(CodeInvalidValue, c.Name, "%s must be a time in integer milliseconds", c.Name).rule("time")
			}
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be a whole number", c.Name).rule("integer")
		}
		if c.HasRange && (i < c.MinInt || i > c.MaxInt) {
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be between %d and %d", c.Name, c.MinInt, c.MaxInt).rule("range").With("min", c.MinInt).With("max", c.MaxInt)
		}
		return i, nil
	case Real:
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalid(CodeInvalidValue, c.Name, "%s must be a number", c.Name).rule("number")
		}
		return f, nil
	}
	return nil, invalid(CodeInvalidValue, c.Name, "%s has an unknown type", c.Name).rule("type")
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err == nil {
			return i, true
		}
		// 1.0 or 1e3 written by a JSON encoder for an integral value.
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, false
		}
		return floatToInt(f)
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return floatToInt(n)
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
