package csvexport

import "strings"

// Format is how one locale's spreadsheet reads a CSV file: the cell
// separator, the decimal separator of numbers, and the layouts of dates
// and times it recognises as such (Go time layouts).
type Format struct {
	// Separator is ',' or ';'. Where the decimal separator is a comma, a
	// spreadsheet splits cells on ';' (Excel and LibreOffice in German,
	// French, Spanish, Portuguese, Polish), so a comma-separated file opens
	// as one column.
	Separator byte
	// Decimal is '.' or ','.
	Decimal byte
	// Date and DateTime are the layouts of a day and of a local time.
	Date, DateTime string
}

// English is the default format: commas, decimal points, ISO dates
// ("2026-12-07 14:05:09"), which every spreadsheet reads as a date and
// nobody reads as 12 July.
var English = Format{Separator: ',', Decimal: '.', Date: "2006-01-02", DateTime: "2006-01-02 15:04:05"}

// formats are the languages whose spreadsheets read CSV otherwise than
// English ones, by the language part of the tag.
var formats = map[string]Format{
	"de": {Separator: ';', Decimal: ',', Date: "02.01.2006", DateTime: "02.01.2006 15:04:05"},
	"pl": {Separator: ';', Decimal: ',', Date: "02.01.2006", DateTime: "02.01.2006 15:04:05"},
	"fr": {Separator: ';', Decimal: ',', Date: "02/01/2006", DateTime: "02/01/2006 15:04:05"},
	"es": {Separator: ';', Decimal: ',', Date: "02/01/2006", DateTime: "02/01/2006 15:04:05"},
	"pt": {Separator: ';', Decimal: ',', Date: "02/01/2006", DateTime: "02/01/2006 15:04:05"},
	"zh": {Separator: ',', Decimal: '.', Date: "2006/01/02", DateTime: "2006/01/02 15:04:05"},
}

// FormatFor returns the format of a language tag ("de", "de-AT", "pt-BR",
// "zh-CN"); a language Outpost does not speak, the pseudo-locale "en-XA" and
// "" get English.
func FormatFor(locale string) Format {
	lang, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-")), "-")
	if f, ok := formats[lang]; ok {
		return f
	}
	return English
}
