package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrateLock is the advisory lock key serialising schema migrations of
// every server process on the database ("OUTPOST1").
const migrateLock int64 = 0x4f555450_4f535431

// migrate applies the embedded migrations the database lacks, in one
// transaction holding migrateLock: instances starting together wait for the
// first one, then find the schema current. Versions are recorded in
// schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for i, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		if v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0]); err != nil || v != i+1 {
			return fmt.Errorf("migration %s is out of sequence", base)
		}
	}
	s.schema = len(names)
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		// A long migration must not hit the request statement timeout.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have > len(names) {
			return fmt.Errorf("database schema version %d is newer than this server's %d: upgrade the server", have, len(names))
		}
		for i := have; i < len(names); i++ {
			body, err := migrations.ReadFile(names[i])
			if err != nil {
				return fmt.Errorf("read migration %s: %w", names[i], err)
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", names[i], err)
			}
			if i+1 == checksumsMigration {
				if _, err := rebuildChecksums(ctx, tx); err != nil {
					return fmt.Errorf("apply migration %s: %w", names[i], err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES($1, $2)`,
				i+1, strings.TrimPrefix(names[i], "migrations/")); err != nil {
				return fmt.Errorf("record migration %s: %w", names[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate schema: %w", wrap(err))
	}
	return nil
}
