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

// layer holds the fields one source sets.
type layer map[Field]string

// managedFile is a parsed managed configuration.
type managedFile struct {
	enforced layer
	presets  layer
	locked   map[Field]bool
	// allowInsecure: allow_insecure_http is true.
	allowInsecure bool
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

// doc is a file as parsed: every field whose JSON type is right, and the
// problems with the others. Values are not validated yet.
type doc struct {
	values layer
	// bad are the known top-level fields present with the wrong type.
	bad map[Field]bool
	// locked is the "locked" list; lockedBad: it is present but cannot be
	// read whole (not a list, or an entry that is not a string).
	locked    []string
	lockedBad bool
	hasLocked bool
	// allowInsecure is allow_insecure_http; hasAllow: present (not null).
	allowInsecure bool
	hasAllow      bool
	// defaults is the "defaults" object's fields; hasDefaults: present.
	defaults    layer
	hasDefaults bool
	problems    []error
}

// parseDoc decodes data field by field, so one bad value costs only its own
// field: a file that is not one JSON object (syntax, trailing data, another
// type) is an error and nil; otherwise every field with the right type is
// kept and every other one is a problem naming it.
func parseDoc(path string, data []byte) (*doc, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, decodeError(path, data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{File: path, Err: fmt.Errorf("%w: unexpected data after the JSON object", ErrMalformed)}
	}
	if raw == nil { // the file is "null"
		return nil, &Error{File: path, Err: fmt.Errorf("%w: the top level must be a JSON object {…}, not null", ErrMalformed)}
	}
	d := &doc{values: layer{}, bad: map[Field]bool{}}
	for _, name := range sortedKeys(raw) {
		v := raw[name]
		switch {
		case Known(Field(name)):
			s, ok, err := stringValue(v)
			if err != nil {
				d.bad[Field(name)] = true
				d.problems = append(d.problems, &Error{File: path, Field: name, Err: err})
			} else if ok {
				d.values[Field(name)] = s
			}
		case name == "locked":
			d.hasLocked = !isNull(v)
			d.locked, d.lockedBad = lockedList(path, v, &d.problems)
		case name == AllowInsecureHTTP:
			d.hasAllow = !isNull(v)
			if d.hasAllow {
				if err := json.Unmarshal(v, &d.allowInsecure); err != nil {
					d.problems = append(d.problems, &Error{File: path, Field: name,
						Err: fmt.Errorf("%w: want true or false, got %s", ErrWrongType, jsonType(v))})
				}
			}
		case name == "defaults":
			d.hasDefaults = !isNull(v)
			d.defaults = defaultsObject(path, v, &d.problems)
		default:
			d.problems = append(d.problems, &Error{File: path, Field: name,
				Err: fmt.Errorf("%w (known fields: %s)", ErrUnknownField, knownList())})
		}
	}
	return d, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// jsonType names the JSON type of v as encoding/json's errors do.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// stringValue decodes a setting: a string (ok), null (absent), or a
// wrong-type error.
func stringValue(v json.RawMessage) (s string, ok bool, err error) {
	if isNull(v) {
		return "", false, nil
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, fmt.Errorf("%w: want a string, got %s", ErrWrongType, jsonType(v))
	}
	return s, true, nil
}

// lockedList decodes "locked". bad reports a list that cannot be read
// whole: the caller then locks every field, since IT meant to lock
// something.
func lockedList(path string, v json.RawMessage, problems *[]error) (names []string, bad bool) {
	if isNull(v) {
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		*problems = append(*problems, &Error{File: path, Field: "locked",
			Err: fmt.Errorf("%w: want a list of field names, got %s", ErrWrongType, jsonType(v))})
		return nil, true
	}
	for i, it := range items {
		var name string
		if err := json.Unmarshal(it, &name); err != nil {
			*problems = append(*problems, &Error{File: path, Field: fmt.Sprintf("locked[%d]", i),
				Err: fmt.Errorf("%w: want a field name (string), got %s", ErrWrongType, jsonType(it))})
			bad = true
			continue
		}
		names = append(names, name)
	}
	return names, bad
}

// defaultsObject decodes "defaults" field by field.
func defaultsObject(path string, v json.RawMessage, problems *[]error) layer {
	l := layer{}
	if isNull(v) {
		return l
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		*problems = append(*problems, &Error{File: path, Field: "defaults",
			Err: fmt.Errorf("%w: want an object, got %s", ErrWrongType, jsonType(v))})
		return l
	}
	for _, name := range sortedKeys(raw) {
		if !Known(Field(name)) {
			*problems = append(*problems, &Error{File: path, Field: "defaults." + name,
				Err: fmt.Errorf("%w (known fields: %s)", ErrUnknownField, fieldList())})
			continue
		}
		s, ok, err := stringValue(raw[name])
		if err != nil {
			*problems = append(*problems, &Error{File: path, Field: "defaults." + name, Err: err})
		} else if ok {
			l[Field(name)] = s
		}
	}
	return l
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
		// Fields are decoded one by one: only the top level reaches here.
		return &Error{File: path, Err: fmt.Errorf("%w: the top level must be a JSON object {…}, not a %s", ErrMalformed, typ.Value)}
	}
	return &Error{File: path, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
}

func knownList() string {
	return fieldList() + "; and in the managed file only: " + AllowInsecureHTTP + ", locked, defaults"
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

// validateLayer drops every invalid value of l and returns the fields
// dropped and the problems.
func validateLayer(goos, path, prefix string, l layer) (dropped []Field, problems []error) {
	for _, f := range Fields {
		v, ok := l[f]
		if !ok {
			continue
		}
		if err := ValidateFor(goos, f, v); err != nil {
			delete(l, f)
			dropped = append(dropped, f)
			problems = append(problems, &Error{File: path, Field: prefix + string(f), Err: err})
		}
	}
	return dropped, problems
}

// lockedEverything is the managed layer when the managed file cannot be
// read: nothing IT set is known, so the operator may change nothing.
func lockedEverything() *managedFile {
	m := &managedFile{enforced: layer{}, presets: layer{}, locked: map[Field]bool{}}
	for _, f := range Fields {
		m.locked[f] = true
	}
	return m
}

// loadManaged reads the managed file; a missing file is an empty layer. It
// always returns a layer, and an error naming every problem: each valid
// field is kept (a kiosk keeps its key file when another field is bad), a
// field IT set badly stays locked at its default (the operator cannot fill
// it in), an unreadable "locked" list or entry locks every field, and a file
// that cannot be read or parsed at all locks every field.
func loadManaged(goos, path string) (*managedFile, error) {
	m := &managedFile{enforced: layer{}, presets: layer{}, locked: map[Field]bool{}}
	if path == "" {
		return m, nil
	}
	data, err := readFile(path)
	if err != nil {
		return lockedEverything(), err
	}
	if data == nil {
		return m, nil
	}
	d, err := parseDoc(path, data)
	if err != nil {
		return lockedEverything(), err
	}
	problems := d.problems
	for f := range d.bad {
		m.locked[f] = true
	}
	m.enforced = d.values
	dropped, p := validateLayer(goos, path, "", m.enforced)
	problems = append(problems, p...)
	for _, f := range dropped {
		m.locked[f] = true
	}
	m.presets = d.defaults
	_, p = validateLayer(goos, path, "defaults.", m.presets)
	problems = append(problems, p...)
	for _, f := range Fields {
		if _, ok := m.presets[f]; ok && specs[f].managedOnly {
			delete(m.presets, f)
			problems = append(problems, &Error{File: path, Field: "defaults." + string(f),
				Err: fmt.Errorf("%w: an operator may not change it, so set it at the top level, not under defaults", ErrManagedOnly)})
		}
	}
	m.allowInsecure = d.allowInsecure
	lockAll := d.lockedBad
	for i, name := range d.locked {
		if name == LockAll {
			lockAll = true
			continue
		}
		if !Known(Field(name)) {
			// IT meant to lock something: lock everything rather than guess.
			lockAll = true
			problems = append(problems, &Error{File: path, Field: fmt.Sprintf("locked[%d]", i),
				Err: fmt.Errorf("%w %q (lockable: %s, or %q for all); every field is locked until it is corrected", ErrUnknownField, name, fieldList(), LockAll)})
			continue
		}
		m.locked[Field(name)] = true
	}
	if lockAll {
		for _, f := range Fields {
			m.locked[f] = true
		}
	}
	return m, joinProblems(problems)
}

// loadUser reads the user file; a missing file is an empty layer. It always
// returns a layer: the file's valid fields, without what a user file may not
// set (locks, presets, managed-only fields) or what is invalid, each
// reported.
func loadUser(goos, path string) (layer, error) {
	if path == "" {
		return layer{}, nil
	}
	data, err := readFile(path)
	if err != nil {
		return layer{}, err
	}
	if data == nil {
		return layer{}, nil
	}
	d, err := parseDoc(path, data)
	if err != nil {
		return layer{}, err
	}
	problems := d.problems
	if d.hasLocked || d.lockedBad {
		problems = append(problems, &Error{File: path, Field: "locked", Err: fmt.Errorf("%w: only the managed file can lock settings", ErrManagedOnly)})
	}
	if d.hasAllow {
		problems = append(problems, &Error{File: path, Field: AllowInsecureHTTP, Err: fmt.Errorf("%w: only IT can allow plain http://, in the managed file", ErrManagedOnly)})
	}
	if d.hasDefaults {
		problems = append(problems, &Error{File: path, Field: "defaults", Err: fmt.Errorf("%w: only the managed file can pre-set defaults", ErrManagedOnly)})
	}
	l := d.values
	for f := range d.bad {
		delete(l, f)
	}
	for _, f := range Fields {
		if _, ok := l[f]; ok && specs[f].managedOnly {
			delete(l, f)
			problems = append(problems, &Error{File: path, Field: string(f), Err: fmt.Errorf("%w: IT sets it in the machine-wide file", ErrManagedOnly)})
		}
	}
	_, p := validateLayer(goos, path, "", l)
	problems = append(problems, p...)
	return l, joinProblems(problems)
}

// joinProblems joins problems in the order of their field names (nil for
// none), so the same file always gives the same message, the first problem
// first.
func joinProblems(problems []error) error {
	sort.SliceStable(problems, func(i, j int) bool {
		var a, b *Error
		errors.As(problems[i], &a)
		errors.As(problems[j], &b)
		return a != nil && b != nil && a.Field < b.Field
	})
	return errors.Join(problems...)
}
