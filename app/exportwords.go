package app

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/csvexport"
)

// Keys of the words an export writes (headers, cells, the save dialog's
// title). The UI passes them in the person's language from its message
// files (frontend/src/i18n/errors, "export.word.<key>"), so every sentence a
// person reads lives in the message files and the pseudo-locale checks
// them; Go keeps only English, for a key the UI did not send.
const (
	WordCreated        = "created"
	WordUpdated        = "updated"
	WordFrom           = "from"
	WordTo             = "to"
	WordPeriod         = "period"
	WordLine           = "line"
	WordLineName       = "line_name"
	WordProduct        = "product"
	WordProductName    = "product_name"
	WordQuantity       = "quantity"
	WordUnit           = "unit"
	WordRecords        = "records"
	WordOperatorBadge  = "operator_badge"
	WordOperator       = "operator"
	WordNotSynced      = "not_synced"
	WordRecordID       = "record_id"
	WordTargetPerHour  = "target_per_hour"
	WordTarget         = "target"
	WordTargetSince    = "target_since"
	WordYes            = "yes"
	WordNo             = "no"
	WordTitleRecords   = "title_records"
	WordTitleDashboard = "title_dashboard"
	WordTitleLines     = "title_lines"
)

// exportWords are the English words of an export, by key.
var exportWords = map[string]string{
	WordCreated:        "Created",
	WordUpdated:        "Updated",
	WordFrom:           "From",
	WordTo:             "To",
	WordPeriod:         "Period",
	WordLine:           "Line",
	WordLineName:       "Line name",
	WordProduct:        "Product",
	WordProductName:    "Product name",
	WordQuantity:       "Quantity",
	WordUnit:           "Unit",
	WordRecords:        "Records",
	WordOperatorBadge:  "Operator badge",
	WordOperator:       "Operator",
	WordNotSynced:      "Not yet synced",
	WordRecordID:       "Record id",
	WordTargetPerHour:  "Target per hour",
	WordTarget:         "Target",
	WordTargetSince:    "Target counted from",
	WordYes:            "yes",
	WordNo:             "no",
	WordTitleRecords:   "Export records",
	WordTitleDashboard: "Export dashboard",
	WordTitleLines:     "Export lines against target",
}

// maxWordLen bounds a word the UI passes: a header, not a document.
const maxWordLen = 200

// exportLocale is one export's format and words.
type exportLocale struct {
	format  csvexport.Format
	english bool
	words   map[string]string
}

// localWords returns the format of locale and the words to write: the
// UI's for the keys it passed (trimmed, at most maxWordLen characters),
// English for the rest.
func localWords(locale string, words map[string]string) exportLocale {
	lw := exportLocale{format: csvexport.FormatFor(locale), english: csvexport.FormatFor(locale) == csvexport.English, words: make(map[string]string, len(exportWords))}
	for k, en := range exportWords {
		w := strings.TrimSpace(words[k])
		if w == "" || utf8.RuneCountInString(w) > maxWordLen {
			w = en
		}
		lw.words[k] = w
	}
	return lw
}

func (lw exportLocale) word(key string) string { return lw.words[key] }

// header returns the header row of keys.
func (lw exportLocale) header(keys ...string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = lw.word(k)
	}
	return out
}

// period writes a dashboard bucket's label in the locale: the dashboard
// labels buckets in English ("Mon 07 Dec", "Mon 07 Dec Early",
// "Mon 07 Dec 14:00 CET"); in another locale the English day becomes the
// locale's date and the rest (the shift's name, the hour) stays.
func (lw exportLocale) period(b DashboardBucket, loc *time.Location) string {
	if lw.english {
		return b.Label
	}
	from := time.UnixMilli(b.From).In(loc)
	if en := from.Format("Mon 02 Jan"); strings.HasPrefix(b.Label, en) {
		return from.Format(lw.format.Date) + b.Label[len(en):]
	}
	return b.Label
}
