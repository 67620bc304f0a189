package server_test

import (
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// TestParseSiteCSV_PersonLanguage: a people file may give each person a
// language (issue 21): one Outpost speaks, or an empty cell for none; any
// other is refused on its line and column with the languages it takes.
func TestParseSiteCSV_PersonLanguage(t *testing.T) {
	reg := protocol.NewRegistry()
	for _, tc := range []struct {
		name    string
		csv     string
		want    any    // the language of the one row ("<none>": not given)
		problem string // a substring of the one problem expected ("" = none)
	}{
		{"a language", "badge_id,display_name,role,language\nB-1,Zofia,operator,pl\n", "pl", ""},
		{"Brazilian Portuguese", "badge_id,display_name,role,language\nB-1,João,operator,pt-BR\n", "pt-BR", ""},
		{"Chinese", "badge_id,display_name,role,language\nB-1,王芳,supervisor,zh-CN\n", "zh-CN", ""},
		{"empty cell: none", "badge_id,display_name,role,language\nB-1,Ana,operator,\n", nil, ""},
		{"no column", "badge_id,display_name,role\nB-1,Ana,operator\n", "<none>", ""},
		{"header in capitals", "Badge_ID,Display_Name,Role,Language\nB-1,Ana,operator,de\n", "de", ""},
		{"a language Outpost does not speak", "badge_id,display_name,role,language\nB-1,Aiko,operator,ja\n", nil, "one of en, de, fr, es, pt-BR, pl, zh-CN"},
		{"a region it does not list", "badge_id,display_name,role,language\nB-1,Ana,operator,pt-PT\n", nil, "one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, problems, err := server.ParseSiteCSV(reg, protocol.TablePeople, strings.NewReader(tc.csv))
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem != "" {
				if len(rows) != 0 || len(problems) != 1 || problems[0].Column != "language" || problems[0].Line != 2 ||
					!strings.Contains(problems[0].Message, tc.problem) {
					t.Fatalf("rows %v, problems %+v; want one on line 2, column language, saying %q", rows, problems, tc.problem)
				}
				return
			}
			if len(problems) > 0 || len(rows) != 1 {
				t.Fatalf("rows %v, problems %+v", rows, problems)
			}
			got, ok := rows[0].Values["language"]
			if tc.want == "<none>" {
				if ok {
					t.Fatalf("language %v set without a column", got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Fatalf("language = %#v, want %#v", got, tc.want)
			}
		})
	}
	if cols, _ := server.ImportColumns(mustTable(t, reg, protocol.TablePeople)); !strings.Contains(strings.Join(cols, ","), "language") {
		t.Fatalf("import columns %v lack language", cols)
	}
}

func mustTable(t *testing.T, reg *protocol.Registry, name string) protocol.Table {
	t.Helper()
	tb, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("no table %s", name)
	}
	return tb
}
