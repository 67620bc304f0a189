package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxFileSize bounds what is read: a settings file is a few hundred bytes.
const maxFileSize = 1 << 20

// LockAll in the managed "locked" list locks every field.
const LockAll = "*"

// fileValues is the set of settings a file may carry. Pointers tell "absent"
// (nil, or JSON null) from "set, possibly to the empty string".
type fileValues struct {
	ServerURL         *string `json:"server_url"`
	EnrollmentCode    *string `json:"enrollment_code"`
	CABundle          *string `json:"ca_bundle"`
	ProxyURL          *string `json:"proxy_url"`
	RecoveryPublicKey *string `json:"recovery_public_key"`
	KioskKeyFile      *string `json:"kiosk_key_file"`
}

// fileDoc is the whole schema; the user file may use only its fileValues.
type fileDoc struct {
	fileValues
	Locked   []string    `json:"locked"`
	Defaults *fileValues `json:"defaults"`
}

func (v *fileValues) ptr(f Field) **string {
	switch f {
	case ServerURL:
		return &v.ServerURL
	case EnrollmentCode:
		return &v.EnrollmentCode
	case CABundle:
		return &v.CABundle
	case ProxyURL:
		return &v.ProxyURL
	case RecoveryPublicKey:
		return &v.RecoveryPublicKey
	case KioskKeyFile:
		return &v.KioskKeyFile
	}
	panic("config: no such field " + string(f))
}

// layer holds the fields one source sets.
type layer map[Field]string

func (v *fileValues) layer() layer {
	l := layer{}
	if v == nil {
		return l
	}
	for _, f := range Fields {
		if p := *v.ptr(f); p != nil {
			l[f] = *p
		}
	}
	return l
}

// managedFile is a parsed managed configuration.
type managedFile struct {
	enforced layer
	presets  layer
	locked   map[Field]bool
}

// readFile returns the file's bytes as UTF-8, or (nil, nil) when it does not
// exist.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: path, Err: fmt.Errorf("%w: larger than %d bytes", ErrMalformed, maxFileSize)}
	}
	data, err = toUTF8(data)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return data, nil
}

// toUTF8 drops a UTF-8 byte order mark and decodes UTF-16 with a BOM:
// Windows PowerShell 5.1 writes both by default, and IT should not have to
// know.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		le := data[0] == 0xFF
		data = data[2:]
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("%w: odd length for UTF-16 text", ErrMalformed)
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			if le {
				u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8 text", ErrMalformed)
	}
	return data, nil
}

// parseDoc decodes data strictly: one JSON object, known fields only, right
// types, nothing after it.
func parseDoc(path string, data []byte) (*fileDoc, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(path, data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{File: path, Err: fmt.Errorf("%w: unexpected data after the JSON object", ErrMalformed)}
	}
	return &doc, nil
}

// decodeError turns encoding/json's errors into ones that name the field, or
// the line and column.
func decodeError(path string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &Error{File: path, Err: fmt.Errorf("%w: the file is empty; write {} for no settings", ErrMalformed)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{File: path, Err: fmt.Errorf("%w: the JSON ends too early (a missing } or \"?)", ErrMalformed)}
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return &Error{File: path, Err: fmt.Errorf("%w: line %d, column %d: %s", ErrMalformed, line, col, strings.TrimPrefix(syn.Error(), "json: "))}
	case errors.As(err, &typ):
		// encoding/json spells a promoted field with its embedded struct's name.
		typ.Field = strings.TrimPrefix(typ.Field, "fileValues.")
		if typ.Field == "" {
			return &Error{File: path, Err: fmt.Errorf("%w: the top level must be a JSON object {…}, not a %s", ErrMalformed, typ.Value)}
		}
		want := "a string"
		switch {
		case typ.Field == "locked":
			want = "a list of field names"
		case strings.HasPrefix(typ.Field, "locked."):
			want = "a field name (string)"
		case typ.Field == "defaults":
			want = "an object"
		}
		return &Error{File: path, Field: typ.Field, Err: fmt.Errorf("%w: want %s, got %s", ErrWrongType, want, typ.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &Error{File: path, Field: name, Err: fmt.Errorf("%w (known fields: %s)", ErrUnknownField, knownList())}
	}
	return &Error{File: path, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
}

func knownList() string {
	return fieldList() + "; and in the managed file only: locked, defaults"
}

func fieldList() string {
	names := make([]string, 0, len(Fields))
	for _, f := range Fields {
		names = append(names, string(f))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

func validateLayer(goos, path, prefix string, l layer) error {
	for _, f := range Fields {
		v, ok := l[f]
		if !ok {
			continue
		}
		if err := ValidateFor(goos, f, v); err != nil {
			return &Error{File: path, Field: prefix + string(f), Err: err}
		}
	}
	return nil
}

// loadManaged reads the managed file; a missing file is an empty layer.
func loadManaged(goos, path string) (*managedFile, error) {
	m := &managedFile{enforced: layer{}, presets: layer{}, locked: map[Field]bool{}}
	if path == "" {
		return m, nil
	}
	data, err := readFile(path)
	if err != nil || data == nil {
		return m, err
	}
	doc, err := parseDoc(path, data)
	if err != nil {
		return nil, err
	}
	m.enforced = doc.layer()
	if err := validateLayer(goos, path, "", m.enforced); err != nil {
		return nil, err
	}
	m.presets = doc.Defaults.layer()
	if err := validateLayer(goos, path, "defaults.", m.presets); err != nil {
		return nil, err
	}
	for _, f := range Fields {
		if _, ok := m.presets[f]; ok && specs[f].managedOnly {
			return nil, &Error{File: path, Field: "defaults." + string(f),
				Err: fmt.Errorf("%w: an operator may not change it, so set it at the top level, not under defaults", ErrManagedOnly)}
		}
	}
	for i, name := range doc.Locked {
		if name == LockAll {
			for _, f := range Fields {
				m.locked[f] = true
			}
			continue
		}
		if !Known(Field(name)) {
			return nil, &Error{File: path, Field: fmt.Sprintf("locked[%d]", i),
				Err: fmt.Errorf("%w %q (lockable: %s, or %q for all)", ErrUnknownField, name, fieldList(), LockAll)}
		}
		m.locked[Field(name)] = true
	}
	return m, nil
}

// loadUser reads the user file; a missing file is an empty layer.
func loadUser(goos, path string) (layer, error) {
	if path == "" {
		return layer{}, nil
	}
	data, err := readFile(path)
	if err != nil || data == nil {
		return layer{}, err
	}
	doc, err := parseDoc(path, data)
	if err != nil {
		return nil, err
	}
	if doc.Locked != nil {
		return nil, &Error{File: path, Field: "locked", Err: fmt.Errorf("%w: only the managed file can lock settings", ErrManagedOnly)}
	}
	if doc.Defaults != nil {
		return nil, &Error{File: path, Field: "defaults", Err: fmt.Errorf("%w: only the managed file can pre-set defaults", ErrManagedOnly)}
	}
	l := doc.layer()
	for _, f := range Fields {
		if _, ok := l[f]; ok && specs[f].managedOnly {
			return nil, &Error{File: path, Field: string(f), Err: fmt.Errorf("%w: IT sets it in the machine-wide file", ErrManagedOnly)}
		}
	}
	if err := validateLayer(goos, path, "", l); err != nil {
		return nil, err
	}
	return l, nil
}
