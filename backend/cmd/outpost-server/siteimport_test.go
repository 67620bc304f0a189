package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// siteRows returns the current rows of site's table, by key, and the site's
// sequence.
func siteRows(t *testing.T, path, site, table, key string) (map[string]map[string]any, int64) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ss, err := st.SiteState(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Changes(context.Background(), site, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, r := range rows {
		if r.Table != table {
			continue
		}
		var m map[string]any
		json.Unmarshal(r.Data, &m)
		k, _ := m[key].(string)
		out[k] = m
	}
	return out, ss.Seq
}

func TestCLI_SiteImport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := "sqlite://" + path
	imp := func(table, file string, extra ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append([]string{"site", "import", "--db", db, "--site", "Plant 1", "--table", table, "--file", file}, extra...)...)
	}

	lines := writeFile(t, "lines.csv", "\ufeffcode,name,area,active\r\nL1,Line one,Hall A,1\r\nL2,\"Line \"\"two\"\", east\",,no\r\n=1+1,'; DROP TABLE rows;--,<b>x</b>,yes\r\n")
	if code, out, errs := imp("lines", lines); code != 0 || out != "imported 3 rows (0 unchanged)\n" {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	got, seq := siteRows(t, path, "Plant 1", "lines", "code")
	if got["L2"]["name"] != `Line "two", east` || got["=1+1"]["name"] != `'; DROP TABLE rows;--` || got["=1+1"]["area"] != "<b>x</b>" || got["L2"]["active"] != float64(0) {
		t.Fatalf("stored lines %v", got)
	}
	if code, out, _ := imp("lines", lines); code != 0 || out != "imported 0 rows (3 unchanged)\n" {
		t.Fatalf("re-import: %d %q", code, out)
	}
	if _, again := siteRows(t, path, "Plant 1", "lines", "code"); again != seq {
		t.Fatalf("an unchanged re-import moved the sequence %d → %d", seq, again)
	}
	if code, out, _ := imp("lines", writeFile(t, "l.csv", "code,name\nL1,Dry\n"), "--dry-run"); code != 0 || !strings.Contains(out, "would import 1 rows (0 unchanged)") {
		t.Fatalf("dry run: %d %q", code, out)
	}

	// People from standard input: the PIN is hashed, never printed.
	stdin = strings.NewReader("badge_id,display_name,role,pin\nB-1,Ann,manager,482913\nB-2,Bob,operator,\n")
	t.Cleanup(func() { stdin = os.Stdin })
	code, out, errs := imp("people", "-")
	if code != 0 || out != "imported 2 rows (0 unchanged)\n" || strings.Contains(out+errs, "482913") {
		t.Fatalf("people: %d %q %q", code, out, errs)
	}
	people, _ := siteRows(t, path, "Plant 1", "people", "badge_id")
	if h, _ := people["B-1"]["pin_hash"].(string); pin.Verify("482913", h) != nil {
		t.Fatalf("B-1's pin_hash %q does not verify", h)
	}

	// A bad file: every problem by line, exit 1, nothing written.
	_, seq = siteRows(t, path, "Plant 1", "people", "badge_id")
	bad := writeFile(t, "bad.csv", "badge_id,display_name,role,pin\n"+
		"B-3,Cy,operator,90817263\n"+ // fine on its own
		"B-4,,operator,\n"+
		"B-5,Dee,boss,77x77\n"+
		"B-3,Again,operator,\n"+
		"B-6,\x1b[31mEve,chief\u202e,\n")
	code, out, errs = imp("people", bad)
	wantLines := []string{
		"line 3: display_name: display_name is required and cannot be empty",
		"line 4: role: role must be one of operator, supervisor, manager",
		"line 4: pin: a PIN has digits only",
		`line 5: badge_id: "B-3" is also on line 2; each badge_id appears once`,
		"line 6: role: role must be one of operator, supervisor, manager",
	}
	if code != 1 || out != "" {
		t.Fatalf("bad file: exit %d, stdout %q", code, out)
	}
	for _, l := range wantLines {
		if !strings.Contains(errs, l+"\n") {
			t.Errorf("stderr lacks %q:\n%s", l, errs)
		}
	}
	if !strings.Contains(errs, "5 problems; nothing was imported") || strings.Contains(errs, "77x77") || strings.Contains(errs, "90817263") || strings.Contains(errs, "\x1b") {
		t.Errorf("stderr:\n%s", errs)
	}
	if _, after := siteRows(t, path, "Plant 1", "people", "badge_id"); after != seq {
		t.Fatalf("a refused import moved the sequence %d → %d", seq, after)
	}

	// Many problems: the list is capped.
	var many strings.Builder
	many.WriteString("code,name,active\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&many, "X%d,x,maybe\n", i)
	}
	code, _, errs = imp("lines", writeFile(t, "many.csv", many.String()))
	if n := strings.Count(errs, "\nline ") + 1; code != 1 || n != 50 || !strings.Contains(errs, "and 10 more problems\n") || !strings.Contains(errs, "60 problems") {
		t.Errorf("many problems: exit %d, %d lines shown:\n%s", code, n, errs)
	}

	// Header problems; site settings take one row.
	for name, c := range map[string]struct{ table, body, want string }{
		"unknown column": {"lines", "code,name,colour\nL1,x,red\n", "line 1: colour: unknown column; lines takes code, name, area, active"},
		"no key column":  {"products", "name\nx\n", "line 1: code: the header must name the code column"},
		"empty file":     {"lines", "", "line 1: the file is empty"},
		"two settings":   {"site_settings", "time_zone,shifts\nUTC,A=06:00\nUTC,A=07:00\n", "line 3: site_settings takes exactly one data row"},
		"bad csv":        {"lines", "code,name\nL1,\"unterminated\n", "not valid CSV"},
		"terminal codes": {"lines", "code,name,\x1b[2J\u202ecol\n", `line 1: \x1b[2j\u202ecol: unknown column`},
	} {
		if code, _, errs := imp(c.table, writeFile(t, "h.csv", c.body)); code != 1 || !strings.Contains(errs, c.want) || strings.ContainsAny(errs, "\x1b\u202e") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errs)
		}
	}
	if code, out, errs := imp("site_settings", writeFile(t, "s.csv", "time_zone,shifts,idle_signout_s\nEurope/Berlin,\"Early=06:00,Late=14:00\",600\n")); code != 0 || out != "imported 1 rows (0 unchanged)\n" {
		t.Fatalf("site settings: %d %q %q", code, out, errs)
	}

	// Too large.
	big := filepath.Join(t.TempDir(), "big.csv")
	f, _ := os.Create(big)
	f.Truncate(server.MaxImportBytes + 1)
	f.Close()
	if code, _, errs := imp("lines", big); code != 1 || !strings.Contains(errs, "at most 16 MiB") {
		t.Errorf("big file: %d %q", code, errs)
	}
	// Usage errors.
	for _, args := range [][]string{
		{"site", "import", "--db", db, "--site", "S", "--file", lines},
		{"site", "import", "--db", db, "--site", "S", "--table", "production_records", "--file", lines},
		{"site", "export"},
		{"site"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	if code, _, errs := imp("lines", filepath.Join(t.TempDir(), "missing.csv")); code != 1 || !strings.Contains(errs, "open the import file") {
		t.Errorf("missing file: %d %q", code, errs)
	}
}

// TestServe_SiteImportWakesDevices: the import, run beside a serving
// process on its database, wakes the devices' event streams and the rows
// come down the pull.
func TestServe_SiteImportWakesDevices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.db")
	db := "sqlite://" + path
	p := start(t, db)
	_, token := enrollDevice(t, db, "Plant 1", "operator", p)

	req, _ := http.NewRequest("GET", p.url("/v1/events"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ev, err := http.DefaultClient.Do(req)
	if err != nil || ev.StatusCode != 200 {
		t.Fatalf("events: %v", err)
	}
	defer ev.Body.Close()
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(ev.Body)
		for sc.Scan() {
			events <- sc.Text()
		}
		close(events)
	}()
	if l := <-events; l != ": connected" {
		t.Fatalf("stream opened with %q", l)
	}

	file := writeFile(t, "products.csv", "code,name,unit\nP-1,Bolt,pcs\nP-2,Nut,\n")
	if code, out, errs := runCLI(t, "site", "import", "--db", db, "--site", "Plant 1", "--table", "products", "--file", file); code != 0 || out != "imported 2 rows (0 unchanged)\n" {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	deadline := time.After(5 * time.Second)
wait:
	for {
		select {
		case l := <-events:
			if l == "event: change" {
				break wait
			}
		case <-deadline:
			t.Fatal("no change event after the import")
		}
	}
	st, raw := call(t, "GET", p.url("/v1/pull?cursor=0"), token, "")
	var page protocol.PullResponse
	if st != 200 || json.Unmarshal(raw, &page) != nil {
		t.Fatalf("pull: %d %s", st, raw)
	}
	names := map[string]any{}
	for _, c := range page.Changes {
		if c.Table == "products" {
			names[c.Row["code"].(string)] = c.Row["name"]
			if c.ID != protocol.KeyID("products", c.Row["code"].(string)) {
				t.Errorf("product id %s is not derived from its code", c.ID)
			}
		}
	}
	if names["P-1"] != "Bolt" || names["P-2"] != "Nut" {
		t.Fatalf("pulled products %v", names)
	}
}
