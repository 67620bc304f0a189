package csvexport

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

func TestFormatFor(t *testing.T) {
	tests := []struct {
		locale        string
		sep, dec      byte
		date, dateTim string
	}{
		{"en", ',', '.', "2026-12-07", "2026-12-07 14:05:09"},
		{"", ',', '.', "2026-12-07", "2026-12-07 14:05:09"},
		{"en-XA", ',', '.', "2026-12-07", "2026-12-07 14:05:09"},
		{"de", ';', ',', "07.12.2026", "07.12.2026 14:05:09"},
		{"de-AT", ';', ',', "07.12.2026", "07.12.2026 14:05:09"},
		{"fr", ';', ',', "07/12/2026", "07/12/2026 14:05:09"},
		{"es", ';', ',', "07/12/2026", "07/12/2026 14:05:09"},
		{"pt-BR", ';', ',', "07/12/2026", "07/12/2026 14:05:09"},
		{"pl", ';', ',', "07.12.2026", "07.12.2026 14:05:09"},
		{"zh-CN", ',', '.', "2026/12/07", "2026/12/07 14:05:09"},
		{"ja", ',', '.', "2026-12-07", "2026-12-07 14:05:09"},
	}
	at := time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.locale, func(t *testing.T) {
			f := FormatFor(tc.locale)
			if f.Separator != tc.sep || f.Decimal != tc.dec {
				t.Fatalf("separator %q decimal %q, want %q %q", f.Separator, f.Decimal, tc.sep, tc.dec)
			}
			if got := at.Format(f.Date); got != tc.date {
				t.Fatalf("date %q, want %q", got, tc.date)
			}
			if got := at.Format(f.DateTime); got != tc.dateTim {
				t.Fatalf("date and time %q, want %q", got, tc.dateTim)
			}
		})
	}
}

// TestWriter_German: a German export opens in columns: ';' between cells,
// decimal commas, dates as 07.12.2026, numbers unquoted (a quoted number
// is text to some spreadsheets), and formulas still neutralised.
func TestWriter_German(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriterFormat(&buf, FormatFor("de"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 14, 5, 9, 0, time.FixedZone("CET", 3600))
	rows := [][]any{
		{"Erstellt", "Linie", "Menge", "Temperatur", "Notiz"},
		{at, "L1", int64(1200), 72.5, "a;=1+1"},
		{at, "Linie 2, Halle", int64(-3), -0.25, "=HYPERLINK(\"x\")"},
	}
	for _, r := range rows {
		if err := w.Write(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimPrefix(buf.String(), "\ufeff")
	if !strings.Contains(out, "07.12.2026 14:05:09;L1;1200;72,5;") {
		t.Fatalf("row 1 not in German form:\n%s", out)
	}
	r := csv.NewReader(strings.NewReader(out))
	r.Comma = ';'
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Erstellt", "Linie", "Menge", "Temperatur", "Notiz"},
		{"07.12.2026 14:05:09", "L1", "1200", "72,5", "a;'=1+1"},
		{"07.12.2026 14:05:09", "Linie 2, Halle", "-3", "-0,25", "'=HYPERLINK(\"x\")"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestWriter_EnglishUnchanged: the default writer writes what it always
// did (commas, ISO dates, decimal points).
func TestWriter_EnglishUnchanged(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC), 2.5, "x;y"); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	if got := buf.String(); got != "\ufeff2026-12-07 14:05:09,2.5,\"x;y\"\r\n" {
		t.Fatalf("%q", got)
	}
}
