package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// makeFixture writes testdata/schema_vN.sql (a dump of a database written by
// the current schema version N; see fixture_test.go):
//
//	go test ./backend/store -run TestMakeFixture -make-fixture
//
// Run it once per released schema version, before the next migration is
// added, and commit the dump. Fixtures are never regenerated afterwards: they
// stand for files users have on disk.
var makeFixture = flag.Bool("make-fixture", false, "write testdata/schema_vN.sql for the current schema")

// fixtureKeyHex is the key of every fixture. It protects nothing.
// ("outpost-fixture-key-0123456789ab" in ASCII.)
const fixtureKeyHex = "6f7574706f73742d666978747572652d6b65792d303132333435363738396162"

func fixtureKey(t *testing.T) []byte {
	k, err := hex.DecodeString(fixtureKeyHex)
	if err != nil || len(k) != 32 {
		t.Fatalf("fixture key: %v (%d bytes)", err, len(k))
	}
	return k
}

// fixtureManifest is saved beside a fixture and says what it must contain.
type fixtureManifest struct {
	SchemaVersion int          `json:"schema_version"`
	DeviceID      string       `json:"device_id"`
	Records       []Record     `json:"records"`
	LineConfigs   []LineConfig `json:"line_configs"`
	// SiteRows (schema 5 on) holds the site data rows by table, as
	// SiteRow.Fields; numbers are normalised with the registry on reading.
	SiteRows map[string][]protocol.Row `json:"site_rows,omitempty"`
	// SigninAttempts (schema 5 on) by badge.
	SigninAttempts map[string]Attempts `json:"signin_attempts,omitempty"`
}

// fixtureSiteData writes the site data of a schema 5+ fixture: a row of each
// table in several states, a line config with updated_by, and a lockout.
func fixtureSiteData(t *testing.T, s *Store, m *fixtureManifest) {
	ctx := context.Background()
	if _, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L2", Recipe: "R-2", SpeedRPM: p(int64(900)), UpdatedBy: p("mgr-1")}); err != nil {
		t.Fatal(err)
	}
	m.SiteRows = map[string][]protocol.Row{}
	for _, w := range []struct {
		table  string
		fields map[string]any
		synced int64 // server version, 0 = pending
	}{
		{protocol.TableLines, map[string]any{"code": "L1", "name": "Line one", "area": "Hall A", "active": true, "updated_by": "mgr-1"}, 3},
		{protocol.TableLines, map[string]any{"code": "L2", "name": `Line "two" ü☃`, "active": false}, 0},
		{protocol.TableProducts, map[string]any{"code": "P-100", "name": "Widget", "unit": "pcs", "active": int64(1)}, 0},
		{protocol.TablePeople, map[string]any{"badge_id": "op-7", "display_name": "Olga Operator", "role": "operator", "active": 1, "language": "pl"}, 0},
		{protocol.TablePeople, map[string]any{"badge_id": "mgr-1", "display_name": "Max Manager", "role": "manager", "active": 1,
			"pin_hash": "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"}, 5},
		{protocol.TableSiteSettings, map[string]any{"time_zone": "Europe/Berlin", "shifts": "Early=06:00,Late=14:00,Night=22:00",
			"idle_signout_s": 300, "pin_roles": "supervisor,manager"}, 0},
	} {
		r, err := s.PutSiteRow(ctx, w.table, w.fields)
		if err != nil {
			t.Fatal(err)
		}
		if w.synced > 0 {
			pushApplied(t, s, 1_760_000_000_900, map[string]int64{r.ID(): w.synced})
		}
	}
	for _, tb := range []string{protocol.TableLines, protocol.TableProducts, protocol.TablePeople, protocol.TableSiteSettings} {
		rows, err := s.SiteRows(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			m.SiteRows[tb] = append(m.SiteRows[tb], r.Fields)
		}
	}
	a, err := s.RecordSigninFailure(ctx, "op-7", 1_760_000_001_000, 5, 5*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m.SigninAttempts = map[string]Attempts{"op-7": a}
}

// checkFixtureSiteData checks that the upgraded store holds the fixture's
// site data as the fixture says.
func checkFixtureSiteData(t *testing.T, s *Store, m fixtureManifest) {
	ctx := context.Background()
	for table, rows := range m.SiteRows {
		tb, _ := siteTable(table)
		for _, want := range rows {
			id, _ := want["id"].(string)
			got, err := s.SiteRow(ctx, table, id)
			if err != nil {
				t.Fatalf("%s %s: %v", table, id, err)
			}
			for _, c := range tb.Columns {
				w, err := c.Normalize(want[c.Name])
				if err != nil {
					t.Fatalf("%s %s: fixture %s: %v", table, id, c.Name, err)
				}
				if got.Fields[c.Name] != w {
					t.Fatalf("%s %s: %s = %#v, want %#v", table, id, c.Name, got.Fields[c.Name], w)
				}
			}
		}
	}
	for badge, want := range m.SigninAttempts {
		if got, err := s.SigninAttempts(ctx, badge); err != nil || got != want {
			t.Fatalf("sign-in attempts of %s = %+v, %v; want %+v", badge, got, err, want)
		}
	}
}

func TestMakeFixture(t *testing.T) {
	if !*makeFixture {
		t.Skip("run with -make-fixture to write a fixture for the current schema")
	}
	ctx := context.Background()
	v := SchemaVersion()
	dst := filepath.Join("testdata", fmt.Sprintf("schema_v%d.sql", v))
	if _, err := os.Stat(dst); err == nil {
		t.Fatalf("%s exists; fixtures of released versions are never regenerated", dst)
	}
	dbPath := filepath.Join(t.TempDir(), "fixture.db")
	s, err := Open(ctx, Options{Path: dbPath, Key: fixtureKey(t), Now: fakeClock(1_760_000_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	m := fixtureManifest{SchemaVersion: v, DeviceID: "3b241101-e2bb-4255-8caf-4136c566a962"}
	for i, in := range []RecordInput{
		{LineID: "L1", ProductID: "P-100", Quantity: 5, OperatorID: "op-7"},
		{LineID: "L2", ProductID: "P-200", Quantity: 0, OperatorID: `'"; DROP TABLE x;-- ü☃`},
		{LineID: "L1", ProductID: "P-300", Quantity: 1_000_000_000, OperatorID: "op-8"},
	} {
		r, err := s.CreateRecord(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0: // synced
			pushApplied(t, s, 1_760_000_000_500, map[string]int64{r.ID: 4})
		case 2: // deleted
			if _, err := s.DeleteRecord(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R-1", TemperatureC: p(72.25), Notes: p("first\nsecond")}); err != nil {
		t.Fatal(err)
	}
	if v >= 5 {
		fixtureSiteData(t, s, &m)
	}
	if err := s.SetDeviceID(ctx, m.DeviceID); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListRecords(ctx, RecordFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Records = page.Records
	if m.LineConfigs, err = s.ListLineConfigs(ctx, LineConfigFilter{IncludeDeleted: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dumpFixture(t, dbPath, fixtureKey(t), dst)
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(fmt.Sprintf("testdata/schema_v%d.json", v), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s; commit it", dst)
}

// TestUpgradeFromFixtures opens a copy of every released schema's fixture:
// it must migrate to the current schema, keep every row, and end with the
// same schema as a database created fresh.
func TestUpgradeFromFixtures(t *testing.T) {
	ctx := context.Background()
	fixtures, _ := filepath.Glob("testdata/schema_v*.sql")
	if len(fixtures) == 0 {
		t.Fatal("no fixture in testdata/")
	}
	seen := map[int]bool{}
	fresh := openTest(t, Options{})
	want := schemaOf(t, fresh)
	for _, fx := range fixtures {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			v, _ := strconv.Atoi(regexp.MustCompile(`schema_v(\d+)\.sql$`).FindStringSubmatch(fx)[1])
			seen[v] = true
			var m fixtureManifest
			b, err := os.ReadFile(fx[:len(fx)-len(".sql")] + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "outpost.db")
			restoreFixture(t, fx, p, fixtureKey(t))
			s := openTest(t, Options{Path: p, Key: fixtureKey(t)})
			info, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.SchemaVersion != SchemaVersion() || !info.Encrypted {
				t.Fatalf("after upgrade: %+v", info)
			}
			if got := schemaOf(t, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("upgraded schema differs from a fresh one:\n got %q\nwant %q", got, want)
			}
			if id, _ := s.DeviceID(ctx); id != m.DeviceID {
				t.Fatalf("device id = %q, want %q", id, m.DeviceID)
			}
			for _, r := range m.Records {
				got, err := s.GetRecord(ctx, r.ID)
				if err != nil || !reflect.DeepEqual(got, r) {
					t.Fatalf("record %s = %+v, %v; want %+v", r.ID, got, err, r)
				}
			}
			for _, c := range m.LineConfigs {
				got, err := s.GetLineConfig(ctx, c.ID)
				if err != nil || !reflect.DeepEqual(got, c) {
					t.Fatalf("line config %s = %+v, %v; want %+v", c.ID, got, err, c)
				}
			}
			checkFixtureSiteData(t, s, m)
			// 0007 computed the checksums of the rows the file held.
			checkSums(t, s, "after upgrade")
			// And it takes new writes, later in HLC order than the old ones.
			r, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			for _, old := range m.Records {
				if r.HLC <= old.HLC {
					t.Fatalf("new hlc %s not after fixture's %s", r.HLC, old.HLC)
				}
			}
		})
	}
	// Every released schema version has a fixture.
	for v := 1; v <= SchemaVersion(); v++ {
		if !seen[v] {
			t.Errorf("no testdata/schema_v%d.sql: run TestMakeFixture with -make-fixture before the next migration", v)
		}
	}
}

// schemaOf lists the database's schema objects, normalised for comparison.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.r.Query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}
