package app

import "github.com/outpost-app/outpost/backend/protocol"

// FieldRule is one editable column's validation rule, derived from the table
// registry of backend/protocol so the screens check what the store and the
// server check, before a round trip.
type FieldRule struct {
	Column   string `json:"column"`
	Label    string `json:"label"`
	Kind     string `json:"kind"` // "text", "integer" or "number"
	Required bool   `json:"required"`
	MinLen   int    `json:"minLen"`
	MaxLen   int    `json:"maxLen"`
	HasRange bool   `json:"hasRange"`
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
}

// SchemaService is bound into the WebView: the validation rules of the
// people's fields of each synced table.
type SchemaService struct{ reg *protocol.Registry }

// NewSchemaService returns the schema service over the v1 registry.
func NewSchemaService() *SchemaService { return &SchemaService{reg: protocol.NewRegistry()} }

// Fields returns the rules for the fields a person edits in table, in
// declaration order. An unknown table gives an empty list.
func (s *SchemaService) Fields(table string) []FieldRule {
	t, ok := s.reg.Lookup(table)
	if !ok {
		return []FieldRule{}
	}
	out := []FieldRule{}
	for _, c := range t.Columns {
		if !c.People || c.Name == "deleted_at" {
			continue
		}
		r := FieldRule{
			Column: c.Name, Label: FieldLabel(c.Name), Required: !c.Nullable,
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
