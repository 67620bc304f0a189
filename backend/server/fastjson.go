package server

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/protocol"
)

// The push path's JSON, done by hand for the common shapes (README.md,
// "Push path JSON"). Each fast path either produces exactly what the
// encoding/json code it replaces would, or reports that it cannot, and the
// caller runs that original code: an unusual input (escapes in a key,
// nested values, an invalid document, a wrong type) costs more, never
// answers differently. fastjson_test.go checks both against encoding/json.

// rowKind says what a change's "row" member was.
type rowKind int

const (
	rowAbsent    rowKind = iota // absent or null
	rowObject                   // an object: decoded
	rowNotObject                // another JSON value (rejected later, in order)
)

// fastChange is decodeChange and protocol.DecodeRow in one pass over a
// well-formed change whose members table, id, op and hlc are text or null,
// base_version and origin_seq whole numbers ≥ 0 or null, and row an object of scalars
// (or null, or absent). ok is false for anything else: the caller then
// decodes with decodeChange, whose rejections are the contract's.
func fastChange(raw []byte) (c change, row map[string]any, kind rowKind, ok bool) {
	s := scanner{b: raw}
	s.ws()
	if !s.eat('{') {
		return c, nil, 0, false
	}
	s.ws()
	if s.eat('}') {
		return c, nil, rowAbsent, s.end()
	}
	for {
		key, ok := s.key()
		if !ok {
			return c, nil, 0, false
		}
		s.ws()
		switch key {
		case "table", "id", "op", "hlc":
			v, isNull, ok := s.textOrNull()
			if !ok {
				return c, nil, 0, false
			}
			if isNull {
				v = ""
			}
			switch key {
			case "table":
				c.Table = v
			case "id":
				c.ID = v
			case "op":
				c.Op = v
			default:
				c.HLC = v
			}
		case "base_version", "origin_seq":
			var n int64
			if !s.literal("null") {
				num, ok := s.number()
				if !ok {
					return c, nil, 0, false
				}
				// As json.Unmarshal into an int64: an integer literal only.
				var err error
				n, err = strconv.ParseInt(string(num), 10, 64)
				if err != nil || n < 0 {
					return c, nil, 0, false
				}
			}
			if key == "base_version" {
				c.BaseVersion = n
			} else {
				c.OriginSeq = n
			}
		case "row":
			start := s.i
			switch {
			case s.literal("null"):
				c.Row, row, kind = nil, nil, rowAbsent
			case s.peek() == '{':
				m, ok := s.object()
				if !ok {
					return c, nil, 0, false
				}
				c.Row, row, kind = json.RawMessage(raw[start:s.i]), m, rowObject
			default:
				if _, ok := s.scalar(); !ok {
					return c, nil, 0, false
				}
				c.Row, row, kind = json.RawMessage(raw[start:s.i]), nil, rowNotObject
			}
		default:
			if _, ok := s.scalar(); !ok {
				return c, nil, 0, false
			}
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat('}') {
			return c, row, kind, s.end()
		}
		return c, nil, 0, false
	}
}

// fastObject decodes a JSON object of scalars as json.Decoder with
// UseNumber decodes it into a map[string]any (text as string, numbers as
// json.Number, true/false, null as nil); ok is false for anything else.
func fastObject(data []byte) (map[string]any, bool) {
	s := scanner{b: data}
	s.ws()
	if s.peek() != '{' {
		return nil, false
	}
	m, ok := s.object()
	if !ok || !s.end() {
		return nil, false
	}
	return m, true
}

// scanner reads JSON strictly: anything it does not accept, it refuses.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// literal consumes lit (true, false, null) when it comes next.
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// str consumes a string token and returns it decoded as encoding/json
// decodes it (escapes resolved, invalid UTF-8 replaced by U+FFFD).
func (s *scanner) str() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			tok := s.b[start:s.i]
			s.i++
			if !esc && utf8.Valid(tok) {
				return string(tok), true
			}
			var v string
			if err := json.Unmarshal(s.b[start-1:s.i], &v); err != nil {
				return "", false
			}
			return v, true
		case c == '\\':
			esc = true
			s.i += 2
		case c < 0x20:
			return "", false
		default:
			s.i++
		}
	}
	return "", false
}

func (s *scanner) key() (string, bool) {
	k, ok := s.str()
	if !ok {
		return "", false
	}
	s.ws()
	return k, s.eat(':')
}

func (s *scanner) textOrNull() (v string, isNull, ok bool) {
	if s.literal("null") {
		return "", true, true
	}
	if s.peek() != '"' {
		return "", false, false
	}
	v, ok = s.str()
	return v, false, ok
}

// number consumes a number token of JSON's grammar.
func (s *scanner) number() ([]byte, bool) {
	start := s.i
	s.eat('-')
	switch {
	case s.eat('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return nil, false
	}
	if s.eat('.') {
		if s.digits() == 0 {
			return nil, false
		}
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// scalar consumes a string, number, true, false or null.
func (s *scanner) scalar() (any, bool) {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		n, ok := s.number()
		return json.Number(n), ok
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	case s.literal("null"):
		return nil, true
	}
	return nil, false
}

// object consumes an object of scalars; a later duplicate key wins, as in
// encoding/json.
func (s *scanner) object() (map[string]any, bool) {
	if !s.eat('{') {
		return nil, false
	}
	m := make(map[string]any, 12)
	s.ws()
	if s.eat('}') {
		return m, true
	}
	for {
		k, ok := s.key()
		if !ok {
			return nil, false
		}
		s.ws()
		v, ok := s.scalar()
		if !ok {
			return nil, false
		}
		m[k] = v
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat('}') {
			return m, true
		}
		return nil, false
	}
}

// rowEncoder writes a row as json.Marshal writes the map: members sorted by
// key (the table's columns, sorted once), values encoded alike.
type rowEncoder struct {
	cols []encCol
}

type encCol struct {
	name string
	key  []byte // "name":
}

type encoderKey struct {
	cols *protocol.Column // the registry's column array
	n    int
	name string
}

var rowEncoders sync.Map // encoderKey → *rowEncoder

func encoderFor(t protocol.Table) *rowEncoder {
	if len(t.Columns) == 0 {
		return nil
	}
	k := encoderKey{&t.Columns[0], len(t.Columns), t.Name}
	if e, ok := rowEncoders.Load(k); ok {
		return e.(*rowEncoder)
	}
	names := t.ColumnNames()
	slices.Sort(names)
	names = slices.Compact(names)
	e := &rowEncoder{cols: make([]encCol, len(names))}
	for i, n := range names {
		key, _ := json.Marshal(n)
		e.cols[i] = encCol{name: n, key: append(key, ':')}
	}
	rowEncoders.Store(k, e)
	return e
}

var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encodeRow returns json.Marshal(r) for a row of t.
func encodeRow(t protocol.Table, r protocol.Row) []byte {
	if e := encoderFor(t); e != nil && r != nil {
		bp := encBufs.Get().(*[]byte)
		b, ok := e.append((*bp)[:0], r)
		var out []byte
		if ok {
			out = append(make([]byte, 0, len(b)), b...)
		}
		*bp = b[:0]
		encBufs.Put(bp)
		if ok {
			return out
		}
	}
	data, _ := json.Marshal(r) // scalars only: cannot fail
	return data
}

// append writes r; ok is false when r holds a key that is not a column of
// the table or a value other than nil, string, int64, finite float64 or
// bool (the caller then uses json.Marshal).
func (e *rowEncoder) append(b []byte, r protocol.Row) ([]byte, bool) {
	b = append(b, '{')
	n := 0
	for _, c := range e.cols {
		v, ok := r[c.name]
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, c.key...)
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendJSONString(b, x)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return b, false
			}
			b = appendJSONFloat(b, x)
		case bool:
			b = strconv.AppendBool(b, x)
		default:
			return b, false
		}
	}
	if n != len(r) {
		return b, false
	}
	return append(b, '}'), true
}

// appendJSONFloat is encoding/json's float64 encoding (ES6 number to
// string).
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping
// (json.Marshal's default): <, >, & and control characters as \u00XX
// (\b \f \n \r \t short), U+2028 and U+2029 escaped, invalid UTF-8 as
// \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
