package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// schemaFixture is the registry as SchemaService.Tables sends it, which the
// frontend's tests load instead of a hand-written copy of the rules.
var schemaFixture = filepath.Join("..", "frontend", "src", "test", "fixtures", "schema.json")

// TestSchemaFixture: frontend/src/test/fixtures/schema.json is exactly what
// SchemaService.Tables returns, so the frontend's tests check the forms and
// the conflict diff against the registry and can never drift from it
// (issue 18 point 4). After a change to the registry, write it again with
// UPDATE_SCHEMA_FIXTURE=1 go test ./app/ -run TestSchemaFixture.
func TestSchemaFixture(t *testing.T) {
	want, err := json.MarshalIndent(NewSchemaService().Tables(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if os.Getenv("UPDATE_SCHEMA_FIXTURE") != "" {
		if err := os.WriteFile(schemaFixture, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what SchemaService.Tables returns: write it again with UPDATE_SCHEMA_FIXTURE=1 go test ./app/ -run TestSchemaFixture", schemaFixture)
	}
}

func TestSchemaService_Tables(t *testing.T) {
	s := NewSchemaService()
	tables := s.Tables()
	reg := protocol.NewRegistry().Tables()
	if len(tables) != len(reg) {
		t.Fatalf("%d tables, registry has %d", len(tables), len(reg))
	}
	for i, tb := range tables {
		if tb.Name != reg[i].Name {
			t.Fatalf("table %d is %s, registry says %s", i, tb.Name, reg[i].Name)
		}
		var cols []string
		for _, f := range tb.Fields {
			cols = append(cols, f.Column)
		}
		if got := s.Fields(tb.Name); len(got) != len(tb.Fields) {
			t.Fatalf("%s: Tables gives %d fields, Fields %d", tb.Name, len(tb.Fields), len(got))
		}
		// The diff compares the fields a person edits, then deleted_at.
		if strings.Join(tb.Merged, ",") != strings.Join(append(cols, "deleted_at"), ",") {
			t.Fatalf("%s: merged %v, fields %v", tb.Name, tb.Merged, cols)
		}
	}
	lc := tables[1]
	if lc.Name != protocol.TableLineConfigs ||
		strings.Join(lc.Merged, ",") != "line_id,recipe,target_rate_per_hour,temperature_c,speed_rpm,notes,deleted_at" {
		t.Fatalf("line_configs %+v", lc)
	}
}
