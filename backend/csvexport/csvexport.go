// Package csvexport writes CSV files people open in spreadsheets: RFC 4180
// (CRLF line ends, fields quoted when they hold a quote, comma, semicolon,
// tab or line break), UTF-8 with a byte order mark so Excel reads non-ASCII right,
// text cells that a spreadsheet would run as a formula neutralised, and the
// separator, decimal separator and date layout of the reader's locale
// (Format).
package csvexport

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// bom tells Excel the file is UTF-8; other readers skip it or show it as
// part of the first header cell.
const bom = "\ufeff"

// Writer writes rows of text and numbers. Numbers are written as numbers;
// text is data, never a formula.
type Writer struct {
	bw  *bufio.Writer
	f   Format
	err error
}

// NewWriter starts a CSV file in the English format on w with the byte
// order mark. Call Flush at the end (and whenever the bytes should reach w).
func NewWriter(w io.Writer) (*Writer, error) { return NewWriterFormat(w, English) }

// NewWriterFormat starts a CSV file in format f on w (see NewWriter).
func NewWriterFormat(w io.Writer, f Format) (*Writer, error) {
	if f.Separator != ';' {
		f.Separator = ','
	}
	if f.Decimal != ',' {
		f.Decimal = '.'
	}
	if f.Date == "" || f.DateTime == "" {
		f.Date, f.DateTime = English.Date, English.DateTime
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(bom); err != nil {
		return nil, err
	}
	return &Writer{bw: bw, f: f}, nil
}

// Format is the format the writer writes.
func (w *Writer) Format() Format { return w.f }

// Neutralize returns s with a ' inserted wherever a spreadsheet could start
// reading a formula: at the start of the text and right after every
// separator (',' or ';'), tab or line break inside it, when what follows
// (after any spaces and quotes) is one of OWASP's formula prefixes =, +, -,
// @, tab or carriage return. Text such as "L1;=HYPERLINK(…)" is one quoted
// cell to a reader that honours quotes, but German and French spreadsheets
// split on ';', and a reader that meets the quote mid-field (after an
// unquoted cell with a comma) splits inside it: every piece it can make then
// starts with ' and stays text. The ' shows in the cell, so the value stays
// readable and is never run; nothing else changes.
func Neutralize(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i <= len(s); i++ {
		if (i == 0 || isBoundary(s[i-1])) && formulaAhead(s[i:]) {
			if b.Len() == 0 {
				b.Grow(len(s) + 2)
			}
			b.WriteString(s[last:i])
			b.WriteByte('\'')
			last = i
		}
	}
	if last == 0 && b.Len() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isBoundary reports whether a spreadsheet may start a new cell (or row)
// after c: a separator of some locale, a tab or a line break.
func isBoundary(c byte) bool {
	switch c {
	case ',', ';', '\t', '\r', '\n':
		return true
	}
	return false
}

// formulaAhead reports whether t starts, after spaces and quotes, with a
// formula prefix.
func formulaAhead(t string) bool {
	t = strings.TrimLeft(t, " \"")
	if t == "" {
		return false
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// field writes one field, quoted when it holds a quote, a separator of any
// locale (',' or ';'), a tab or a line break (RFC 4180: quotes doubled).
// Unlike encoding/csv with UseCRLF, a lone \r or a \n inside a value is kept
// byte for byte.
func (w *Writer) field(s string) {
	if !strings.ContainsAny(s, "\",;\t\r\n") {
		w.bw.WriteString(s)
		return
	}
	w.bw.WriteByte('"')
	w.bw.WriteString(strings.ReplaceAll(s, `"`, `""`))
	w.bw.WriteByte('"')
}

// Write writes one row. Each cell is a string (text, neutralised), an
// int64/int or float64 (a number, with the format's decimal separator and
// no grouping), a time.Time (a local date and time in the format's layout,
// in the time's own location), or nil (empty). Numbers and times are
// never quoted: they hold no separator, and some spreadsheets read a
// quoted number as text.
func (w *Writer) Write(cells ...any) error {
	if w.err != nil {
		return w.err
	}
	for i, c := range cells {
		if i > 0 {
			w.bw.WriteByte(w.f.Separator)
		}
		switch v := c.(type) {
		case nil:
		case string:
			w.field(Neutralize(v))
		case int64:
			w.bw.WriteString(strconv.FormatInt(v, 10))
		case int:
			w.bw.WriteString(strconv.Itoa(v))
		case float64:
			w.bw.WriteString(w.decimal(v))
		case *int64:
			if v != nil {
				w.bw.WriteString(strconv.FormatInt(*v, 10))
			}
		case time.Time:
			w.bw.WriteString(v.Format(w.f.DateTime))
		default:
			w.field(Neutralize(fmtAny(v)))
		}
	}
	_, w.err = w.bw.WriteString("\r\n")
	return w.err
}

// decimal writes f with the format's decimal separator.
func (w *Writer) decimal(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if w.f.Decimal == ',' {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Flush writes what is buffered to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.bw.Flush()
	return w.err
}

func fmtAny(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return ""
}
