package csvexport

import (
	"bytes"
	"encoding/csv"
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
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"equals later is fine", "a=b", "a=b"},
		{"unicode", "Grüße ☃ 製品 🏭", "Grüße ☃ 製品 🏭"},
		{"rtl", "שלום,עולם", "שלום,עולם"},
		{"sql", `'; DROP TABLE x;--`, `'; DROP TABLE x;--`},
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
	for _, raw := range []string{"\"'\r=1\"", "\"a\r\nb\"", "\"say \"\"hi\"\"\""} {
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
