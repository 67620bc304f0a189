// Package migrate is the one schema migration runner of Outpost's stores:
// the desktop store (backend/store, SQLCipher) and the server's stores
// (backend/server/sqlitestore, backend/server/pgstore). It applies the
// embedded, numbered migrations (0001_init.sql, 0002_….sql, in sequence)
// that a database lacks, in one transaction, and records each. What differs
// between the databases — how the transaction is opened and locked, where
// the version is kept, how a statement runs — is the Dialect.
//
// The package imports no database driver: the desktop binary links
// go-sqlcipher and the server mattn/go-sqlite3, and the two must never meet
// in one binary. UserVersion is the dialect of any SQLite reached through
// database/sql.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// ErrTooNew is what Run's error wraps when the database has migrations this
// build does not know, unless the Dialect names its own error.
var ErrTooNew = errors.New("the database schema is newer than this build's")

// Migration is one numbered schema step.
type Migration struct {
	Version int    // 1, 2, …: the NNNN of its file name
	Name    string // the file name, NNNN_description.sql
	SQL     string
}

// Load returns the migrations in dir of fsys (the files NNNN_description.sql;
// other files are ignored) in order, checking that they are numbered 1, 2, …
// without a gap.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for i, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		if v, err := strconv.Atoi(num); !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s is out of sequence (want %04d_description.sql)", base, i+1)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		out = append(out, Migration{Version: i + 1, Name: base, SQL: string(body)})
	}
	return out, nil
}

// Dialect is one database's side of Run, for its transaction type T.
type Dialect[T any] struct {
	// InTx runs fn in one transaction, committed when fn returns nil,
	// holding whatever keeps two processes from migrating at once.
	InTx func(ctx context.Context, fn func(T) error) error
	// Version is the number of the last migration the database has.
	Version func(ctx context.Context, tx T) (int, error)
	// Exec runs one migration's SQL.
	Exec func(ctx context.Context, tx T, sql string) error
	// Record notes that migration version, file name, has been applied.
	Record func(ctx context.Context, tx T, version int, name string) error
	// After holds the work some migrations need once their SQL has run
	// (the checksums of the rows already stored), by migration number.
	After map[int]func(ctx context.Context, tx T) error
	// TooNew is the error Run wraps when the database is newer than this
	// build, saying what to do ("upgrade the server", "update the app");
	// nil means ErrTooNew.
	TooNew error
}

// Run applies the migrations in dir of fsys that the database lacks, and
// returns the number of migrations this build knows. A database migrated
// further than that is refused, with an error wrapping d.TooNew, and left
// as it is; so is one whose migration fails: all of them run in one
// transaction.
func Run[T any](ctx context.Context, fsys fs.FS, dir string, d Dialect[T]) (int, error) {
	ms, err := Load(fsys, dir)
	if err != nil {
		return 0, err
	}
	return len(ms), d.InTx(ctx, func(tx T) error {
		have, err := d.Version(ctx, tx)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have > len(ms) {
			tooNew := d.TooNew
			if tooNew == nil {
				tooNew = ErrTooNew
			}
			return fmt.Errorf("%w (database at version %d, this build's %d)", tooNew, have, len(ms))
		}
		for _, m := range ms[have:] {
			if err := d.Exec(ctx, tx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if after := d.After[m.Version]; after != nil {
				if err := after(ctx, tx); err != nil {
					return fmt.Errorf("apply migration %s: %w", m.Name, err)
				}
			}
			if err := d.Record(ctx, tx, m.Version, m.Name); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// UserVersion is the dialect of a SQLite database reached through
// database/sql (SQLCipher on the desktop, SQLite on the server): one
// transaction of db, the version kept in PRAGMA user_version. Use db's
// write pool, so that the transaction holds SQLite's write lock.
func UserVersion(db *sql.DB) Dialect[*sql.Tx] {
	return Dialect[*sql.Tx]{
		InTx: func(ctx context.Context, fn func(*sql.Tx) error) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("begin migration: %w", err)
			}
			defer tx.Rollback()
			if err := fn(tx); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("commit migration: %w", err)
			}
			return nil
		},
		Version: func(ctx context.Context, tx *sql.Tx) (have int, err error) {
			err = tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have)
			return have, err
		},
		Exec: func(ctx context.Context, tx *sql.Tx, q string) error {
			_, err := tx.ExecContext(ctx, q)
			return err
		},
		Record: func(ctx context.Context, tx *sql.Tx, version int, _ string) error {
			// PRAGMA takes no bound parameters; version is an int.
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(version))
			return err
		},
	}
}
