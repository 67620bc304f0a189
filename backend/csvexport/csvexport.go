// Package csvexport writes CSV files people open in spreadsheets: RFC 4180
// (CRLF line ends, fields quoted when they hold a quote, comma or line
// break), UTF-8 with a byte order mark so Excel reads non-ASCII right, and
// text cells that a spreadsheet would run as a formula neutralised.
package csvexport

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// bom tells Excel the file is UTF-8; other readers skip it or show it as
// part of the first header cell.
const bom = "\ufeff"

// Writer writes rows of text and numbers. Numbers are written as numbers;
// text is data, never a formula.
type Writer struct {
	bw  *bufio.Writer
	err error
}

// NewWriter starts a CSV file on w with the byte order mark. Call Flush at
// the end (and whenever the bytes should reach w).
func NewWriter(w io.Writer) (*Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(bom); err != nil {
		return nil, err
	}
	return &Writer{bw: bw}, nil
}

// Neutralize returns s with a leading ' when a spreadsheet would read it as
// a formula: it starts with =, +, -, @, a tab or a carriage return (OWASP's
// CSV injection list). The ' shows in the cell, so the value stays
// readable and is never run.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// field writes one field, quoted when it holds a quote, a comma or a line
// break (RFC 4180: quotes doubled). Unlike encoding/csv with UseCRLF, a lone
// \r or a \n inside a value is kept byte for byte.
func (w *Writer) field(s string) {
	if !strings.ContainsAny(s, "\",\r\n") {
		w.bw.WriteString(s)
		return
	}
	w.bw.WriteByte('"')
	w.bw.WriteString(strings.ReplaceAll(s, `"`, `""`))
	w.bw.WriteByte('"')
}

// Write writes one row. Each cell is a string (text, neutralised), an
// int64/int or float64 (a number, written as is), or nil (empty).
func (w *Writer) Write(cells ...any) error {
	if w.err != nil {
		return w.err
	}
	for i, c := range cells {
		var s string
		switch v := c.(type) {
		case nil:
		case string:
			s = Neutralize(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		case int:
			s = strconv.Itoa(v)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case *int64:
			if v != nil {
				s = strconv.FormatInt(*v, 10)
			}
		default:
			s = Neutralize(fmtAny(v))
		}
		if i > 0 {
			w.bw.WriteByte(',')
		}
		w.field(s)
	}
	_, w.err = w.bw.WriteString("\r\n")
	return w.err
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
