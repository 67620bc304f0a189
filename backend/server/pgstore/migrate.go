package pgstore

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/outpost-app/outpost/backend/internal/migrate"
	"github.com/outpost-app/outpost/backend/server"
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
func (s *Store) migrate(ctx context.Context) (err error) {
	s.schema, err = migrate.Run(ctx, migrations, "migrations", migrate.Dialect[pgx.Tx]{
		InTx: func(ctx context.Context, fn func(pgx.Tx) error) error {
			err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
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
				return fn(tx)
			})
			if err != nil {
				return fmt.Errorf("migrate schema: %w", wrap(err))
			}
			return nil
		},
		Version: func(ctx context.Context, tx pgx.Tx) (have int, err error) {
			err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have)
			return have, err
		},
		Exec: func(ctx context.Context, tx pgx.Tx, sql string) error {
			_, err := tx.Exec(ctx, sql)
			return err
		},
		Record: func(ctx context.Context, tx pgx.Tx, version int, name string) error {
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES($1, $2)`, version, name)
			return err
		},
		After: map[int]func(context.Context, pgx.Tx) error{checksumsMigration: func(ctx context.Context, tx pgx.Tx) error {
			_, err := rebuildChecksums(ctx, tx)
			return err
		}},
		TooNew: server.ErrSchemaTooNew,
	})
	return err
}
