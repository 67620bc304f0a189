package app

import "github.com/outpost-app/outpost/backend/protocol"

// FieldRule is one editable column's validation rule, derived from the table
// registry of backend/protocol so the screens check what the store and the
// server check, before a round trip. It carries no label: a screen names
// the column in the person's language from the message files
// (frontend/src/i18n/errors, "errors.field.<column>"); Go's English labels
// (fieldLabels) are for its own log sentences only.
type FieldRule struct {
	Column   string `json:"column"`
	Kind     string `json:"kind"` // "text", "integer" or "number"
	Required bool   `json:"required"`
	MinLen   int    `json:"minLen"`
	MaxLen   int    `json:"maxLen"`
	HasRange bool   `json:"hasRange"`
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
}

// TableSchema is what the screens know of one synced table, all from the
// registry: the rules of the fields a person edits (Fields) and the columns
// a conflict's diff compares, in order (Merged: those fields and
// deleted_at, as the three-way merge compares them).
type TableSchema struct {
	Name   string      `json:"name"`
	Fields []FieldRule `json:"fields"`
	Merged []string    `json:"merged"`
}

// SchemaService is bound into the WebView: the validation rules of the
// people's fields of each synced table.
type SchemaService struct{ reg *protocol.Registry }

// NewSchemaService returns the schema service over the v1 registry.
func NewSchemaService() *SchemaService { return &SchemaService{reg: protocol.NewRegistry()} }

// Tables returns every synced table of the registry, in declaration order:
// the screens load it once (frontend/src/stores/schema.ts), so no rule,
// limit or field order is written a second time in TypeScript.
func (s *SchemaService) Tables() []TableSchema {
	out := []TableSchema{}
	for _, t := range s.reg.Tables() {
		merged := t.PeopleColumns()
		if merged == nil {
			merged = []string{}
		}
		out = append(out, TableSchema{Name: t.Name, Fields: fieldRules(t), Merged: merged})
	}
	return out
}

// Fields returns the rules for the fields a person edits in table, in
// declaration order. An unknown table gives an empty list.
func (s *SchemaService) Fields(table string) []FieldRule {
	t, ok := s.reg.Lookup(table)
	if !ok {
		return []FieldRule{}
	}
	return fieldRules(t)
}

func fieldRules(t protocol.Table) []FieldRule {
	out := []FieldRule{}
	for _, c := range t.Columns {
		if !c.People || c.Name == "deleted_at" {
			continue
		}
		r := FieldRule{
			Column: c.Name, Required: !c.Nullable,
			MinLen: c.MinLen, MaxLen: c.MaxLen, HasRange: c.HasRange, Min: c.MinInt, Max: c.MaxInt,
		}
		switch c.Kind {
		case protocol.Int:
			r.Kind = "integer"
		case protocol.Real:
			r.Kind = "number"
		default:
			r.Kind = "text"
		}
		out = append(out, r)
	}
	return out
}
