package server_test

import (
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// TestParseSiteCSV_ProductRange: a product file may give each product a
// unit and a plausible quantity range (issue 20); empty cells are no range,
// and a range whose least quantity is above its most is refused on its line.
func TestParseSiteCSV_ProductRange(t *testing.T) {
	reg := protocol.NewRegistry()
	for _, tc := range []struct {
		name    string
		csv     string
		rows    int
		problem string // a substring of the one problem expected ("" = none)
		col     string
	}{
		{"unit and range", "code,name,unit,min_quantity,max_quantity,active\nP-300,Flour,kg,1,500,1\n", 1, "", ""},
		{"no range", "code,name,unit,min_quantity,max_quantity\nP-100,Bolts,pcs,,\n", 1, "", ""},
		{"only a maximum", "code,name,max_quantity\nP-100,Bolts,200\n", 1, "", ""},
		{"not a number", "code,name,max_quantity\nP-100,Bolts,lots\n", 0, "whole number", "max_quantity"},
		{"negative", "code,name,min_quantity\nP-100,Bolts,-5\n", 0, "", "min_quantity"},
		{"upside down", "code,name,min_quantity,max_quantity\nP-100,Bolts,500,20\n", 0, "below", "max_quantity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, problems, err := server.ParseSiteCSV(reg, protocol.TableProducts, strings.NewReader(tc.csv))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.rows {
				t.Fatalf("rows = %d, want %d (problems %v)", len(rows), tc.rows, problems)
			}
			if tc.col == "" {
				if len(problems) > 0 {
					t.Fatalf("problems %v", problems)
				}
				return
			}
			if len(problems) != 1 || problems[0].Column != tc.col || !strings.Contains(problems[0].Message, tc.problem) || problems[0].Line != 2 {
				t.Fatalf("problems %+v, want one on line 2, column %s, saying %q", problems, tc.col, tc.problem)
			}
		})
	}
	rows, _, _ := server.ParseSiteCSV(reg, protocol.TableProducts, strings.NewReader("code,name,unit,min_quantity,max_quantity\nP-300,Flour,kg,1,500\n"))
	if v := rows[0].Values; v["unit"] != "kg" || v["min_quantity"] != int64(1) || v["max_quantity"] != int64(500) {
		t.Fatalf("values %v", v)
	}
}
