// Package migrate is the schema migration runner of the server's stores
// (sqlitestore, pgstore): it applies the embedded, numbered migrations
// (0001_init.sql, 0002_….sql, in sequence) that a database lacks, in one
// transaction, and records each. What differs between the databases — how
// the transaction is opened and locked, where the version is kept, how a
// statement runs — is the Dialect.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

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
}

// Run applies the migrations in dir of fsys that the database lacks, and
// returns the number of migrations this build knows. A database migrated
// further than that is refused: the server must be upgraded.
func Run[T any](ctx context.Context, fsys fs.FS, dir string, d Dialect[T]) (int, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for i, n := range names {
		base := path.Base(n)
		if v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0]); err != nil || v != i+1 {
			return 0, fmt.Errorf("migration %s is out of sequence", base)
		}
	}
	return len(names), d.InTx(ctx, func(tx T) error {
		have, err := d.Version(ctx, tx)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have > len(names) {
			return fmt.Errorf("database schema version %d is newer than this server's %d: upgrade the server", have, len(names))
		}
		for i := have; i < len(names); i++ {
			body, err := fs.ReadFile(fsys, names[i])
			if err != nil {
				return fmt.Errorf("read migration %s: %w", names[i], err)
			}
			if err := d.Exec(ctx, tx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", names[i], err)
			}
			if after := d.After[i+1]; after != nil {
				if err := after(ctx, tx); err != nil {
					return fmt.Errorf("apply migration %s: %w", names[i], err)
				}
			}
			if err := d.Record(ctx, tx, i+1, path.Base(names[i])); err != nil {
				return fmt.Errorf("record migration %s: %w", names[i], err)
			}
		}
		return nil
	})
}
