package config

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped in *Error; test with errors.Is.
var (
	// ErrMalformed: the file is not a JSON object (syntax, encoding, size).
	ErrMalformed = errors.New("malformed")
	// ErrUnknownField: the file names a field Outpost does not know.
	ErrUnknownField = errors.New("unknown field")
	// ErrWrongType: a field holds a value of the wrong JSON type.
	ErrWrongType = errors.New("wrong type")
	// ErrInvalidValue: a field's value does not pass validation.
	ErrInvalidValue = errors.New("invalid value")
	// ErrManagedOnly: a user file sets a field only IT may set.
	ErrManagedOnly = errors.New("managed configuration only")
	// ErrInsecureHTTP: server_url uses plain http:// to another computer
	// without the managed file's allow_insecure_http.
	ErrInsecureHTTP = errors.New("plain http:// to another computer")
	// ErrLocked: the operator tried to change a setting IT manages.
	ErrLocked = errors.New("locked by the managed configuration")
)

// Error is a problem with one configuration file, and where applicable one
// field in it. Its message is a sentence IT can act on.
type Error struct {
	File  string // path of the file
	Field string // JSON path of the field ("defaults.server_url"), or ""
	Err   error  // wraps one of the sentinels
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("config file %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("config file %s: field %q: %v", e.File, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
