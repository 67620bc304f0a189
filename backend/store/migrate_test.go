package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// fieldDB restores the fixture of schema version v (a file as the store's
// former runner of its own left it: user_version, no table of versions)
// into an encrypted file, and returns it opened without the store.
func fieldDB(t *testing.T, v int) (*sql.DB, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outpost.db")
	restoreFixture(t, fmt.Sprintf("testdata/schema_v%d.sql", v), p, fixtureKey(t))
	db := rawDB(t, p, fixtureKey(t))
	t.Cleanup(func() { db.Close() })
	return db, p
}

// ranMigrations is the store's dialect, noting each migration it records,
// and failing migration failAt once its SQL has run.
func ranMigrations(db *sql.DB, failAt int) (*[]int, func(context.Context) error) {
	var ran []int
	d := migrationDialect(db)
	record := d.Record
	d.Record = func(ctx context.Context, tx *sql.Tx, version int, name string) error {
		if version == failAt {
			return errors.New("disk full")
		}
		ran = append(ran, version)
		return record(ctx, tx, version, name)
	}
	return &ran, func(ctx context.Context) error { return runMigrations(ctx, d) }
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMigrate_FieldDatabases: the files users have on disk were written by
// the store's own runner, before it moved to backend/internal/migrate. One at
// the latest schema is up to date (no step runs again); one a version behind
// gets that step only; a failing step changes nothing; a newer file is
// refused with ErrSchemaTooNew and left as it is.
func TestMigrate_FieldDatabases(t *testing.T) {
	ctx := context.Background()
	latest := SchemaVersion()

	t.Run("at the latest schema", func(t *testing.T) {
		db, p := fieldDB(t, latest)
		ran, run := ranMigrations(db, 0)
		if err := run(ctx); err != nil || len(*ran) != 0 || userVersion(t, db) != latest {
			t.Fatalf("migrate = %v, ran %v, user_version %d", err, *ran, userVersion(t, db))
		}
		db.Close()
		s := openTest(t, Options{Path: p, Key: fixtureKey(t)})
		if info, err := s.Info(ctx); err != nil || info.SchemaVersion != latest {
			t.Fatalf("Info = %+v, %v", info, err)
		}
	})

	t.Run("one version behind", func(t *testing.T) {
		db, _ := fieldDB(t, latest-1)
		ran, run := ranMigrations(db, 0)
		if err := run(ctx); err != nil || !slices.Equal(*ran, []int{latest}) || userVersion(t, db) != latest {
			t.Fatalf("migrate = %v, ran %v, user_version %d", err, *ran, userVersion(t, db))
		}
	})

	t.Run("a failing step changes nothing", func(t *testing.T) {
		db, _ := fieldDB(t, latest-2)
		before := rawSchema(t, db)
		_, run := ranMigrations(db, latest)
		if err := run(ctx); err == nil || userVersion(t, db) != latest-2 {
			t.Fatalf("migrate = %v, user_version %d", err, userVersion(t, db))
		}
		if after := rawSchema(t, db); !slices.Equal(after, before) {
			t.Fatalf("schema changed by a failed migration:\n got %q\nwant %q", after, before)
		}
	})

	t.Run("newer than this build", func(t *testing.T) {
		db, _ := fieldDB(t, latest)
		if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
			t.Fatal(err)
		}
		ran, run := ranMigrations(db, 0)
		if err := run(ctx); !errors.Is(err, ErrSchemaTooNew) || len(*ran) != 0 || userVersion(t, db) != 999 {
			t.Fatalf("migrate = %v, ran %v, user_version %d", err, *ran, userVersion(t, db))
		}
	})
}

// rawSchema lists the schema objects of db.
func rawSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY 1")
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
	return out
}
