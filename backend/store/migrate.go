package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/internal/migrate"
)

// The schema's numbered steps, NNNN_description.sql with NNNN = 1, 2, … and
// no gaps, applied by the runner the server's stores share
// (backend/internal/migrate); the version is kept in PRAGMA user_version.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations returns the embedded migrations in order.
func loadMigrations() ([]migrate.Migration, error) {
	return migrate.Load(migrationFiles, "migrations")
}

// SchemaVersion is the schema version this build writes: the number of the
// last embedded migration.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// localOnlyTag on a migration's first line says it adds nothing the
// server sends (a local index or rollup): it does not make the sync client
// re-pull everything after the upgrade.
const localOnlyTag = "(local only)"

// SyncSchemaVersion is the number of the last migration that changed what
// a pull brings (tables or columns of the feed); RepullIfUpgraded compares
// it with the one the last pull was made under.
func SyncSchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	for i := len(ms) - 1; i >= 0; i-- {
		first, _, _ := strings.Cut(ms[i].SQL, "\n")
		if !strings.Contains(first, localOnlyTag) {
			return ms[i].Version
		}
	}
	return 0
}

// migrationDialect is the runner's side of the store: one transaction of
// the write pool, the version in PRAGMA user_version; a newer file is
// refused with ErrSchemaTooNew.
func migrationDialect(db *sql.DB) migrate.Dialect[*sql.Tx] {
	d := migrate.UserVersion(db)
	d.TooNew = ErrSchemaTooNew
	return d
}

// migrateSchema applies the migrations newer than the file's user_version
// in one transaction, so a crash leaves the file at the old version or the
// new one.
func migrateSchema(ctx context.Context, db *sql.DB) error {
	return runMigrations(ctx, migrationDialect(db))
}

// runMigrations runs the embedded migrations through d: the store's
// dialect, or in tests one that watches it (TestMigrate_FieldDatabases).
func runMigrations(ctx context.Context, d migrate.Dialect[*sql.Tx]) error {
	if _, err := migrate.Run(ctx, migrationFiles, "migrations", d); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
