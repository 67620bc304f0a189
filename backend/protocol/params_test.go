package protocol

import (
	"reflect"
	"strings"
	"testing"
)

// TestValidationError_Params checks that every refusal carries a stable rule
// and the values a screen needs to say it in any language, while the English
// sentence (and so the wire's "<code>: <sentence>") stays as it was.
func TestValidationError_Params(t *testing.T) {
	reg := NewRegistry()
	rec, _ := reg.Lookup(TableProductionRecords)
	cfg, _ := reg.Lookup(TableLineConfigs)
	people, _ := reg.Lookup(TablePeople)
	settings, _ := reg.Lookup(TableSiteSettings)
	lines, _ := reg.Lookup(TableLines)
	cfgRow := func(over map[string]any) map[string]any {
		m := map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	person := func(over map[string]any) map[string]any {
		m := map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "created_at": 1, "updated_at": 1}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	settingsRow := func(over map[string]any) map[string]any {
		m := map[string]any{"time_zone": "UTC", "shifts": "06:00,14:00,22:00", "created_at": 1, "updated_at": 1}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		table   Table
		id      string
		row     map[string]any
		code    string
		params  map[string]any
		message string // the English sentence, unchanged
	}{
		{"bad id", rec, "nope", record(nil), CodeInvalidValue,
			map[string]any{"field": "id", "rule": "uuid"}, `id "nope" is not a UUID`},
		{"id mismatch", rec, "7f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", record(nil), CodeInvalidValue,
			map[string]any{"field": "id", "rule": "id_mismatch"}, "row id does not match the change's id"},
		{"unknown column", rec, rid, record(map[string]any{"colour": "red"}), CodeUnknownColumn,
			map[string]any{"field": "colour", "table": TableProductionRecords}, `table production_records has no column "colour"`},
		{"missing", rec, rid, record(map[string]any{"line_id": "<drop>"}), CodeMissingValue,
			map[string]any{"field": "line_id"}, "line_id is required"},
		{"empty", rec, rid, record(map[string]any{"line_id": ""}), CodeMissingValue,
			map[string]any{"field": "line_id"}, "line_id is required and cannot be empty"},
		{"not text", rec, rid, record(map[string]any{"line_id": 7}), CodeInvalidValue,
			map[string]any{"field": "line_id", "rule": "text"}, "line_id must be text"},
		{"too long", cfg, rid, cfgRow(map[string]any{"notes": strings.Repeat("x", 4001)}), CodeTooLong,
			map[string]any{"field": "notes", "max": 4000, "length": 4001}, "notes is 4001 characters long; the limit is 4000"},
		{"one of", people, KeyID(TablePeople, "B-7"), person(map[string]any{"role": "admin"}), CodeInvalidValue,
			map[string]any{"field": "role", "rule": "one_of", "options": "operator, supervisor, manager"}, "role must be one of operator, supervisor, manager"},
		{"check", settings, SiteSettingsID(), settingsRow(map[string]any{"time_zone": "Mars/Olympus"}), CodeInvalidValue,
			map[string]any{"field": "time_zone", "rule": "check"}, `time_zone "Mars/Olympus" is not a known time zone (use a name such as Europe/Berlin or UTC)`},
		{"whole number", rec, rid, record(map[string]any{"quantity": 1.5}), CodeInvalidValue,
			map[string]any{"field": "quantity", "rule": "integer"}, "quantity must be a whole number"},
		{"time", rec, rid, record(map[string]any{"created_at": "x"}), CodeInvalidValue,
			map[string]any{"field": "created_at", "rule": "time"}, "created_at must be a time in integer milliseconds"},
		{"range", rec, rid, record(map[string]any{"quantity": 1_000_000_001}), CodeInvalidValue,
			map[string]any{"field": "quantity", "rule": "range", "min": int64(0), "max": int64(MaxQuantity)}, "quantity must be between 0 and 1000000000"},
		{"number", cfg, rid, cfgRow(map[string]any{"temperature_c": "hot"}), CodeInvalidValue,
			map[string]any{"field": "temperature_c", "rule": "number"}, "temperature_c must be a number"},
		{"key changed", lines, KeyID(TableLines, "L1"), map[string]any{"code": "L2", "name": "Line", "active": int64(1), "created_at": 1, "updated_at": 1}, CodeInvalidValue,
			map[string]any{"field": "code", "rule": "key_changed", "table": TableLines}, "the id of a lines row is derived from its code, which cannot change: add a new row instead"},
		{"singleton", settings, rid, settingsRow(nil), CodeInvalidValue,
			map[string]any{"field": "id", "rule": "singleton", "table": TableSiteSettings}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.table.Validate(tc.id, tc.row, Complete)
			ve, ok := AsValidation(err)
			if !ok {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if ve.Code != tc.code || !reflect.DeepEqual(ve.Params, tc.params) {
				t.Fatalf("code %q params %#v, want %q %#v", ve.Code, ve.Params, tc.code, tc.params)
			}
			if tc.message != "" && ve.Message != tc.message {
				t.Fatalf("message %q, want %q (the wire sentence must not change)", ve.Message, tc.message)
			}
			if ve.Reason() != ve.Code+": "+ve.Message {
				t.Fatalf("reason %q", ve.Reason())
			}
		})
	}
}
