package app

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/store"
)

// putSite adds site data rows straight into the local store.
func putSite(t *testing.T, core *Core, table string, rows ...map[string]any) {
	t.Helper()
	for _, f := range rows {
		if _, err := call(core, func(ctx context.Context, st *localDB) (store.SiteRow, error) {
			return st.PutSiteRow(ctx, table, f)
		}); err != nil {
			t.Fatalf("put %s %v: %v", table, f, err)
		}
	}
}

// demoSite is a line, two products (kg and pieces) and an operator.
func demoSite(t *testing.T, core *Core) {
	t.Helper()
	putSite(t, core, "lines", map[string]any{"code": "L1", "name": "Packing", "active": true})
	putSite(t, core, "products",
		map[string]any{"code": "P-300", "name": "Flour", "unit": "kg", "active": true},
		map[string]any{"code": "P-100", "name": "Bolts", "unit": "pcs", "active": true})
	putSite(t, core, "people", map[string]any{"badge_id": "B-7", "display_name": "Ana Operator", "role": "operator", "active": true})
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, header)
	return -1
}

var (
	spreadsheetTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
	uuidLike        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-`)
)

func TestExportService_RecordsForSpreadsheets(t *testing.T) {
	core, _ := newCore(t)
	demoSite(t, core)
	rec, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P-300", Quantity: 40, OperatorID: "B-7"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "records.csv")
	var dir string
	svc := NewExportService(core, NewDashboardService(core, DashboardOptions{Location: time.UTC}), ExportOptions{
		SaveDialog: func(title, d, name string) (string, error) { dir = d; return out, nil },
		Documents:  func() string { return "/home/ana/Dokumente" },
	})
	if _, err := svc.ExportRecords("r1", RecordFilter{}, "en", nil); err != nil {
		t.Fatal(err)
	}
	if dir != "/home/ana/Dokumente" {
		t.Errorf("the save dialog opened in %q, want the Documents folder", dir)
	}
	rows := readCSV(t, out)
	if len(rows) != 2 {
		t.Fatalf("rows = %q", rows)
	}
	h, r := rows[0], rows[1]
	if uuidLike.MatchString(r[0]) {
		t.Errorf("first column is an id: %q", rows)
	}
	for _, c := range []struct{ col, want string }{
		{"Line", "L1"}, {"Line name", "Packing"}, {"Product", "P-300"}, {"Product name", "Flour"},
		{"Quantity", "40"}, {"Unit", "kg"}, {"Operator badge", "B-7"}, {"Operator", "Ana Operator"},
		{"Record id", rec.ID},
	} {
		if got := r[column(t, h, c.col)]; got != c.want {
			t.Errorf("%s = %q, want %q", c.col, got, c.want)
		}
	}
	for _, col := range []string{"Created", "Updated"} {
		got := r[column(t, h, col)]
		if !spreadsheetTime.MatchString(got) {
			t.Errorf("%s = %q, want a local time a spreadsheet reads as a date", col, got)
		}
		if want := time.UnixMilli(rec.CreatedAt).UTC().Format("2006-01-02 15:04:05"); col == "Created" && got != want {
			t.Errorf("Created = %q, want %q (the site's zone)", got, want)
		}
	}
}

func TestExportService_DashboardOneTableEach(t *testing.T) {
	core, _ := newCore(t)
	demoSite(t, core)
	recs := NewRecordService(core)
	for _, in := range []RecordInput{
		{LineID: "L1", ProductID: "P-300", Quantity: 40, OperatorID: "B-7"},
		{LineID: "L1", ProductID: "P-100", Quantity: 12, OperatorID: "B-7"},
	} {
		if _, err := recs.Create(in); err != nil {
			t.Fatal(err)
		}
	}
	rate := int64(60)
	if _, err := NewLineConfigService(core).Create(LineConfigInput{LineID: "L1", Recipe: "R", TargetRatePerHour: &rate}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.csv")
	svc := NewExportService(core, NewDashboardService(core, DashboardOptions{Location: time.UTC}), ExportOptions{
		SaveDialog: func(string, string, string) (string, error) { return path, nil },
	})
	if _, err := svc.ExportDashboard("d1", DashboardQuery{Preset: "today"}, "en", nil); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, path)
	h := rows[0]
	if len(rows) != 3 {
		t.Fatalf("bucket rows = %q", rows)
	}
	for _, r := range rows[1:] {
		if len(r) != len(h) || r[column(t, h, "Line name")] != "Packing" {
			t.Errorf("row %q under %q", r, h)
		}
		if !spreadsheetTime.MatchString(r[0]) {
			t.Errorf("first column %q is not a local time", r[0])
		}
		switch r[column(t, h, "Product")] {
		case "P-300":
			if r[column(t, h, "Unit")] != "kg" || r[column(t, h, "Product name")] != "Flour" || r[column(t, h, "Quantity")] != "40" {
				t.Errorf("flour row %q", r)
			}
		case "P-100":
			if r[column(t, h, "Unit")] != "pcs" {
				t.Errorf("bolts row %q", r)
			}
		default:
			t.Errorf("row %q is not a bucket row", r)
		}
	}
	if _, err := svc.ExportLines("d2", DashboardQuery{Preset: "today"}, "en", nil); err != nil {
		t.Fatal(err)
	}
	rows = readCSV(t, path)
	h = rows[0]
	// One row per line and unit: kg and pieces are never summed.
	if len(rows) != 3 {
		t.Fatalf("line rows = %q", rows)
	}
	units := map[string]string{}
	for _, r := range rows[1:] {
		units[r[column(t, h, "Unit")]] = r[column(t, h, "Quantity")]
		if r[column(t, h, "Line")] != "L1" || r[column(t, h, "Line name")] != "Packing" {
			t.Errorf("line row %q", r)
		}
	}
	if units["kg"] != "40" || units["pcs"] != "12" {
		t.Errorf("per unit = %v", units)
	}
}

func TestDocumentsDir(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".config")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	xdg := filepath.Join(home, "xdg")
	if err := os.MkdirAll(filepath.Join(xdg, "Dokumente"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(xdg, ".config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(xdg, ".config", "user-dirs.dirs"), []byte("# made by xdg-user-dirs-update\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withDocs := t.TempDir()
	if err := os.Mkdir(filepath.Join(withDocs, "Documents"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, goos, home string
		env              map[string]string
		want             string
	}{
		{"linux, user-dirs.dirs", "linux", xdg, map[string]string{"XDG_CONFIG_HOME": filepath.Join(xdg, ".config")}, filepath.Join(xdg, "Dokumente")},
		{"linux, Documents exists", "linux", withDocs, nil, filepath.Join(withDocs, "Documents")},
		{"linux, no Documents", "linux", home, nil, home},
		{"windows", "windows", withDocs, map[string]string{"USERPROFILE": withDocs}, filepath.Join(withDocs, "Documents")},
		{"darwin", "darwin", withDocs, nil, filepath.Join(withDocs, "Documents")},
		{"no home", "linux", "", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := documentsDir(c.goos, c.home, func(k string) string { return c.env[k] })
			if got != c.want {
				t.Fatalf("documentsDir = %q, want %q", got, c.want)
			}
		})
	}
}

// TestExportService_GermanOpensInColumns: an export in German opens in
// columns in a German spreadsheet: ';' between cells, dates as
// 07.12.2026 14:05:09, the header in German (as the UI passes it), a word
// the UI did not pass in English, and formulas still neutralised.
func TestExportService_GermanOpensInColumns(t *testing.T) {
	core, _ := newCore(t)
	demoSite(t, core)
	putSite(t, core, "people", map[string]any{"badge_id": "B-8", "display_name": "=Ben; Meier", "role": "operator", "active": true})
	rec, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P-300", Quantity: 1250, OperatorID: "B-8"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "records.csv")
	var title string
	svc := NewExportService(core, NewDashboardService(core, DashboardOptions{Location: time.UTC}), ExportOptions{
		SaveDialog: func(ti, _, _ string) (string, error) { title = ti; return out, nil },
	})
	de := map[string]string{
		WordCreated: "Erstellt", WordUpdated: "Geändert", WordLine: "Linie", WordLineName: "Linienname",
		WordProduct: "Produkt", WordProductName: "Produktname", WordQuantity: "Menge", WordUnit: "Einheit",
		WordOperatorBadge: "Ausweis", WordOperator: "Mitarbeiter", WordNotSynced: "Noch nicht synchronisiert",
		WordYes: "ja", WordNo: "nein", WordTitleRecords: "Einträge exportieren",
		// WordRecordID left out: written in English.
	}
	if _, err := svc.ExportRecords("r1", RecordFilter{}, "de-DE", de); err != nil {
		t.Fatal(err)
	}
	if title != "Einträge exportieren" {
		t.Errorf("save dialog title %q", title)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	want := []string{"Erstellt", "Geändert", "Linie", "Linienname", "Produkt", "Produktname", "Menge", "Einheit",
		"Ausweis", "Mitarbeiter", "Noch nicht synchronisiert", "Record id"}
	if len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q\nwant header %q", rows, want)
	}
	h, row := rows[0], rows[1]
	germanTime := regexp.MustCompile(`^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$`)
	for _, c := range []struct{ col, want string }{
		{"Erstellt", time.UnixMilli(rec.CreatedAt).UTC().Format("02.01.2006 15:04:05")},
		{"Linie", "L1"}, {"Produktname", "Flour"}, {"Menge", "1250"}, {"Einheit", "kg"},
		{"Ausweis", "B-8"}, {"Mitarbeiter", "'=Ben; Meier"}, {"Noch nicht synchronisiert", "ja"}, {"Record id", rec.ID},
	} {
		if got := row[column(t, h, c.col)]; got != c.want {
			t.Errorf("%s = %q, want %q", c.col, got, c.want)
		}
	}
	if got := row[column(t, h, "Geändert")]; !germanTime.MatchString(got) {
		t.Errorf("Geändert = %q, want a German date and time", got)
	}

	// The dashboard's periods: the day in German form, the shift's name kept.
	if _, err := svc.ExportDashboard("d1", DashboardQuery{Preset: "today", Granularity: "day"}, "de", map[string]string{WordPeriod: "Zeitraum"}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(out)
	r = csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	r.Comma = ';'
	if rows, err = r.ReadAll(); err != nil || len(rows) != 2 {
		t.Fatalf("dashboard rows %q, %v", rows, err)
	}
	if got := rows[1][column(t, rows[0], "Zeitraum")]; !regexp.MustCompile(`^\d{2}\.\d{2}\.\d{4}$`).MatchString(got) {
		t.Errorf("Zeitraum = %q, want the day as 07.12.2026", got)
	}
}
