package protocol

import (
	"strings"
	"testing"
)

const rid = "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"

func record(over map[string]any) map[string]any {
	m := map[string]any{
		"id": rid, "line_id": "L1", "product_id": "P-100", "quantity": 5,
		"operator_id": "op-7", "created_at": 1700000000000, "updated_at": 1700000000001,
	}
	for k, v := range over {
		if v == "<drop>" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

func TestTable_Validate(t *testing.T) {
	reg := NewRegistry()
	rec, _ := reg.Lookup(TableProductionRecords)
	cfg, _ := reg.Lookup(TableLineConfigs)
	tests := []struct {
		name  string
		table Table
		id    string
		row   map[string]any
		mode  ValidateMode
		code  string // "" = valid
		col   string
	}{
		{"valid record", rec, rid, record(nil), Complete, "", ""},
		{"bookkeeping ignored", rec, rid, record(map[string]any{"version": 9, "hlc": "x", "synced_at": 1}), Complete, "", ""},
		{"bad id", rec, "not-a-uuid", record(nil), Complete, CodeInvalidValue, "id"},
		{"row id mismatch", rec, "7f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", record(nil), Complete, CodeInvalidValue, "id"},
		{"unknown column", rec, rid, record(map[string]any{"colour": "red"}), Complete, CodeUnknownColumn, "colour"},
		{"missing line", rec, rid, record(map[string]any{"line_id": "<drop>"}), Complete, CodeMissingValue, "line_id"},
		{"partial allows missing", rec, rid, map[string]any{"quantity": 3}, Partial, "", ""},
		{"empty line", rec, rid, record(map[string]any{"line_id": ""}), Complete, CodeMissingValue, "line_id"},
		{"null line", rec, rid, record(map[string]any{"line_id": nil}), Complete, CodeMissingValue, "line_id"},
		{"line 128 chars", rec, rid, record(map[string]any{"line_id": strings.Repeat("é", 128)}), Complete, "", ""},
		{"line 129 chars", rec, rid, record(map[string]any{"line_id": strings.Repeat("é", 129)}), Complete, CodeTooLong, "line_id"},
		{"quantity text", rec, rid, record(map[string]any{"quantity": "5"}), Complete, CodeInvalidValue, "quantity"},
		{"quantity fraction", rec, rid, record(map[string]any{"quantity": 1.5}), Complete, CodeInvalidValue, "quantity"},
		{"quantity negative", rec, rid, record(map[string]any{"quantity": -1}), Complete, CodeInvalidValue, "quantity"},
		{"quantity max", rec, rid, record(map[string]any{"quantity": 1_000_000_000}), Complete, "", ""},
		{"quantity over max", rec, rid, record(map[string]any{"quantity": 1_000_000_001}), Complete, CodeInvalidValue, "quantity"},
		{"time not integer", rec, rid, record(map[string]any{"created_at": 1.25}), Complete, CodeInvalidValue, "created_at"},
		{"hostile text verbatim", rec, rid, record(map[string]any{"operator_id": "'; DROP TABLE x;-- <script>=1+1"}), Complete, "", ""},
		{"config nullable absent", cfg, rid, map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1}, Complete, "", ""},
		{"notes 4000", cfg, rid, map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1, "notes": strings.Repeat("x", 4000)}, Complete, "", ""},
		{"notes 4001", cfg, rid, map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1, "notes": strings.Repeat("x", 4001)}, Complete, CodeTooLong, "notes"},
		{"temperature text", cfg, rid, map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1, "temperature_c": "hot"}, Complete, CodeInvalidValue, "temperature_c"},
		{"explicit null clears", cfg, rid, map[string]any{"line_id": "L1", "recipe": "R", "created_at": 1, "updated_at": 1, "notes": nil}, Complete, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.table.Validate(tc.id, tc.row, tc.mode)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got["id"] != tc.id {
					t.Fatalf("id = %v", got["id"])
				}
				for k := range got {
					if IsBookkeeping(k) {
						t.Fatalf("bookkeeping column %s kept", k)
					}
				}
				return
			}
			ve, ok := AsValidation(err)
			if !ok || ve.Code != tc.code || ve.Column != tc.col {
				t.Fatalf("Validate err = %v (%+v), want code %s column %s", err, ve, tc.code, tc.col)
			}
		})
	}
}

func TestDecodeRow_ExactNumbers(t *testing.T) {
	m, err := DecodeRow([]byte(`{"quantity": 9007199254740993, "created_at": 1e3}`))
	if err != nil {
		t.Fatal(err)
	}
	c := Column{Name: "quantity", Kind: Int}
	v, err := c.Normalize(m["quantity"])
	if err != nil || v != int64(9007199254740993) {
		t.Fatalf("quantity = %v, %v", v, err)
	}
	tm := Column{Name: "created_at", Kind: Time}
	if v, err := tm.Normalize(m["created_at"]); err != nil || v != int64(1000) {
		t.Fatalf("created_at = %v, %v", v, err)
	}
	for _, bad := range []string{`null`, `[1]`, `"x"`, `{`} {
		if _, err := DecodeRow([]byte(bad)); err == nil {
			t.Errorf("DecodeRow(%s) succeeded", bad)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	if _, ok := reg.Lookup("nope"); ok {
		t.Fatal("unknown table found")
	}
	for _, tb := range reg.Tables() {
		for _, need := range []string{"id", "created_at", "updated_at", "deleted_at", "server_updated_at"} {
			if _, ok := tb.Column(need); !ok {
				t.Errorf("%s lacks %s", tb.Name, need)
			}
		}
	}
	rec, _ := reg.Lookup(TableProductionRecords)
	if rec.Policy != PolicyLWW {
		t.Fatal("production_records must be lww")
	}
	cfg, _ := reg.Lookup(TableLineConfigs)
	if cfg.Policy != PolicyManual {
		t.Fatal("line_configs must be manual")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"line_id":"L","product_id":"P","quantity":1,"operator_id":"o","created_at":1,"updated_at":2}`))
	f.Add([]byte(`{"quantity":1e400}`))
	f.Add([]byte(`{"line_id":null}`))
	rec, _ := NewRegistry().Lookup(TableProductionRecords)
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeRow(raw)
		if err != nil {
			return
		}
		row, err := rec.Validate(rid, m, Complete)
		if err != nil {
			if _, ok := AsValidation(err); !ok {
				t.Fatalf("non-validation error %T %v", err, err)
			}
			return
		}
		// A valid row re-validates to itself.
		again, err := rec.Validate(rid, map[string]any(row), Complete)
		if err != nil || len(again) != len(row) {
			t.Fatalf("revalidate: %v", err)
		}
	})
}

func TestSiteDataTables(t *testing.T) {
	reg := NewRegistry()
	lines, _ := reg.Lookup(TableLines)
	people, _ := reg.Lookup(TablePeople)
	products, _ := reg.Lookup(TableProducts)
	settings, _ := reg.Lookup(TableSiteSettings)
	now := int64(1_700_000_000_000)
	productID := KeyID(TableProducts, "P-300")
	base := func(m map[string]any) map[string]any {
		m["created_at"], m["updated_at"] = now, now
		return m
	}
	lineID := KeyID(TableLines, "L1")
	for _, tc := range []struct {
		name string
		t    Table
		id   string
		row  map[string]any
		code string
	}{
		{"line ok", lines, lineID, base(map[string]any{"code": "L1", "name": "Line 1", "active": int64(1)}), ""},
		{"line id not derived from code", lines, KeyID(TableLines, "L2"), base(map[string]any{"code": "L1", "name": "Line 1", "active": int64(1)}), CodeInvalidValue},
		{"line random id", lines, "0b7e7a8e-6c54-4a43-9b8a-0c6a0f1f4f2e", base(map[string]any{"code": "L1", "name": "Line 1", "active": int64(1)}), CodeInvalidValue},
		{"active not a flag", lines, lineID, base(map[string]any{"code": "L1", "name": "Line 1", "active": int64(2)}), CodeInvalidValue},
		{"line without name", lines, lineID, base(map[string]any{"code": "L1", "active": int64(1)}), CodeMissingValue},
		// Issue 20: a product's unit and plausible quantity range (nullable).
		{"product with unit and range", products, productID, base(map[string]any{"code": "P-300", "name": "Flour", "unit": "kg", "min_quantity": int64(1), "max_quantity": int64(500), "active": int64(1)}), ""},
		{"product without range", products, productID, base(map[string]any{"code": "P-300", "name": "Flour", "active": int64(1), "min_quantity": nil, "max_quantity": nil}), ""},
		{"product negative min", products, productID, base(map[string]any{"code": "P-300", "name": "Flour", "active": int64(1), "min_quantity": int64(-1)}), CodeInvalidValue},
		{"product max too large", products, productID, base(map[string]any{"code": "P-300", "name": "Flour", "active": int64(1), "max_quantity": int64(1_000_000_001)}), CodeInvalidValue},
		{"product fractional max", products, productID, base(map[string]any{"code": "P-300", "name": "Flour", "active": int64(1), "max_quantity": 2.5}), CodeInvalidValue},
		{"person ok", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "manager", "active": int64(1), "pin_hash": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}), ""},
		// Issue 21: a person's language (optional).
		{"person with a language", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "language": "pt-BR"}), ""},
		{"person without a language", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "language": nil}), ""},
		{"person empty language", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "language": ""}), ""},
		{"person unknown language", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "language": "ja"}), CodeInvalidValue},
		{"person language not a tag we speak", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "language": "pt"}), CodeInvalidValue},
		{"person bad role", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "admin", "active": int64(1)}), CodeInvalidValue},
		{"person clear PIN", people, KeyID(TablePeople, "B-7"), base(map[string]any{"badge_id": "B-7", "display_name": "Ana", "role": "operator", "active": int64(1), "pin_hash": "4711"}), CodeInvalidValue},
		{"settings ok", settings, SiteSettingsID(), base(map[string]any{"time_zone": "Europe/Berlin", "shifts": "Early=06:00,Late=14:00,Night=22:00", "pin_roles": "supervisor,manager"}), ""},
		{"settings other id", settings, lineID, base(map[string]any{"time_zone": "UTC", "shifts": "06:00"}), CodeInvalidValue},
		{"settings bad zone", settings, SiteSettingsID(), base(map[string]any{"time_zone": "Mars/Olympus", "shifts": "06:00"}), CodeInvalidValue},
		{"settings Local zone", settings, SiteSettingsID(), base(map[string]any{"time_zone": "Local", "shifts": "06:00"}), CodeInvalidValue},
		{"settings bad shifts", settings, SiteSettingsID(), base(map[string]any{"time_zone": "UTC", "shifts": "06:00,06:00"}), CodeInvalidValue},
		{"settings bad pin roles", settings, SiteSettingsID(), base(map[string]any{"time_zone": "UTC", "shifts": "06:00", "pin_roles": "root"}), CodeInvalidValue},
		{"settings idle too short", settings, SiteSettingsID(), base(map[string]any{"time_zone": "UTC", "shifts": "06:00", "idle_signout_s": int64(5)}), CodeInvalidValue},
	} {
		_, err := tc.t.Validate(tc.id, tc.row, Complete)
		ve, _ := AsValidation(err)
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != "" && (ve == nil || ve.Code != tc.code):
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	for _, tb := range []Table{lines, people, settings} {
		if !tb.ManagerOnly || tb.Policy != PolicyManual {
			t.Errorf("%s: site data must be manual and manager-only", tb.Name)
		}
	}
	if KeyID(TableLines, "L1") == KeyID(TableProducts, "L1") {
		t.Error("KeyID must differ between tables")
	}
}
