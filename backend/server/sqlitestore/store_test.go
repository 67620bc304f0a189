package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/storetest"
)

func open(t *testing.T) server.Store {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestSiteData(t *testing.T) { storetest.RunSiteData(t, open) }

func TestPasses(t *testing.T) { storetest.RunPasses(t, open) }

func TestHubMeta(t *testing.T) { storetest.RunHubMeta(t, open) }

func TestOpen_MigratesOnceAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#.db") // URI-special characters in the path
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	tx, err := st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.NextSeq(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	ss, err := st.SiteState(ctx, "s")
	if err != nil || ss.Seq != 1 {
		t.Fatalf("after reopen seq = %d, %v", ss.Seq, err)
	}
}

// A database made by an older server (schema 1) upgrades on open and keeps
// every row, every history version and the rules that read them.
func TestOpen_UpgradesSchema1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	init1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(init1), `PRAGMA user_version = 1`,
		`INSERT INTO sites(site, seq, created_at) VALUES('s', 3, 1)`,
		`INSERT INTO rows VALUES('s', 'production_records', 'a', 3, 'h3', 'd2', 0, '{"v":3}')`,
		`INSERT INTO rows VALUES('s', 'production_records', 'b', 2, 'h2', 'd1', 1, '{"v":2}')`,
		`INSERT INTO row_versions VALUES('s', 'production_records', 'a', 1, 'h1', 'd1', '{"v":1}')`,
		`INSERT INTO row_versions VALUES('s', 'production_records', 'b', 2, 'h2', 'd1', '{"v":2}')`,
		`INSERT INTO row_versions VALUES('s', 'production_records', 'a', 3, 'h3', 'd2', '{"v":3}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, err := st.SchemaVersion(ctx); err != nil || v != 5 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	// 0004: the checksums of the rows already stored, by the migration.
	seq, sums, err := st.Checksums(ctx, "s", "production_records")
	want := checksum.Sum{Count: 1, Sum: checksum.Hash("production_records", "a", 3)}
	if err != nil || seq != 3 || len(sums) != 1 || sums["production_records:1970-01-01"] != want {
		t.Fatalf("checksums after upgrade: %d %+v, %v", seq, sums, err)
	}
	if p, err := st.ReadPage(ctx, "s", 0, 10); err != nil || p.Sums["production_records"] != want {
		t.Fatalf("page checksums after upgrade: %+v, %v", p.Sums, err)
	}
	// 0003: the database gets a timeline on upgrade.
	if tl, err := st.Timeline(ctx); err != nil || len(tl) != 36 {
		t.Fatalf("timeline after upgrade: %q, %v", tl, err)
	}
	h, err := st.History(ctx, "s", "production_records", "a")
	if err != nil || len(h) != 2 || h[0].Version != 1 || string(h[0].Data) != `{"v":1}` || h[1].Version != 3 || h[1].DeviceID != "d2" {
		t.Fatalf("history after upgrade: %+v, %v", h, err)
	}
	ch, err := st.Changes(ctx, "s", 0, 10)
	if err != nil || len(ch) != 2 || ch[0].ID != "b" || !ch[0].Deleted || ch[1].ID != "a" || ch[1].HLC != "h3" {
		t.Fatalf("feed after upgrade: %+v, %v", ch, err)
	}
	// 0005 (issue 19): the history in version order, and no site state yet.
	w, err := st.Writes(ctx, "s", 0, 10)
	if err != nil || len(w) != 3 || w[0].ID != "a" || w[0].Version != 1 || w[1].ID != "b" || w[2].ID != "a" || w[2].HLC != "h3" {
		t.Fatalf("writes after upgrade: %+v, %v", w, err)
	}
	if _, err := st.Meta(ctx, "s", "upstream.cursor"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("meta after upgrade: %v, want ErrNotFound", err)
	}
	tx, err := st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.SetMeta(ctx, "upstream.cursor", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if r, err := tx.GetVersion(ctx, "production_records", "a", 1); err != nil || string(r.Data) != `{"v":1}` {
		t.Fatalf("version 1 after upgrade: %+v, %v", r, err)
	}
	ow := tx.(server.OtherWriters)
	if others, err := ow.WrittenByOthers(ctx, "production_records", "a", 1, "d1"); err != nil || !others {
		t.Fatalf("d2 wrote a after version 1: got %v, %v", others, err)
	}
	if others, err := ow.WrittenByOthers(ctx, "production_records", "a", 1, "d2"); err != nil || others {
		t.Fatalf("only d2 wrote a after version 1: got %v, %v", others, err)
	}
	seq, _ = tx.NextSeq(ctx)
	if err := tx.PutRow(ctx, server.StoredRow{Table: "production_records", ID: "a", Version: seq, HLC: "h4", DeviceID: "d1", Data: []byte(`{"v":4}`)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.History(ctx, "s", "production_records", "a"); len(h) != 3 || h[2].Version != 4 {
		t.Fatalf("history after a write: %+v", h)
	}
	if v, err := st.Meta(ctx, "s", "upstream.cursor"); err != nil || string(v) != "3" {
		t.Fatalf("meta written with a row after upgrade: %q, %v", v, err)
	}
}

// A server refuses to write on a database a newer server migrated since it
// opened it: it would write rows without what the newer schema keeps.
func TestBegin_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tx, err := st.Begin(ctx, "s")
	if err == nil {
		tx.Rollback()
		t.Fatal("Begin on a newer schema succeeded")
	}
	if !errors.Is(err, server.ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer than this server") {
		t.Fatalf("Begin: %v, want one wrapping server.ErrSchemaTooNew", err)
	}
	st.Close()
	// Nor does a server start on it; the file stays as the newer one left it.
	if st2, err := sqlitestore.Open(ctx, path); !errors.Is(err, server.ErrSchemaTooNew) || errors.Is(err, server.ErrUnavailable) {
		if err == nil {
			st2.Close()
		}
		t.Fatalf("Open on a newer schema = %v, want one wrapping server.ErrSchemaTooNew", err)
	}
	db, err = sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 99 {
		t.Fatalf("user_version after a refused Open = %d, %v", v, err)
	}
}
