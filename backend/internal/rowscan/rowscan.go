// Package rowscan is the query-and-scan loop of Outpost's stores, written
// once for database/sql (*sql.Rows: the desktop store, sqlitestore) and pgx
// (pgx.Rows: pgstore). Like backend/internal/migrate it imports no database
// driver. The caller closes the rows and maps the error to its own
// (wrap), as it does for every other statement.
package rowscan

import "github.com/outpost-app/outpost/backend/checksum"

// Rows is what *sql.Rows and pgx.Rows both offer.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Scanner is one row to scan: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type Scanner = interface{ Scan(dest ...any) error }

// All scans every row of rs with scan, in order. An empty result is an
// empty slice, never nil, so that it reaches JSON as [] and not null.
func All[T any](rs Rows, scan func(Scanner) (T, error)) ([]T, error) {
	out := []T{}
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// Sums reads rows of (key, count, sum) — a checksum as the stores keep it,
// the sum as a signed 64-bit integer — into a map by key.
func Sums(rs Rows) (map[string]checksum.Sum, error) {
	out := map[string]checksum.Sum{}
	for rs.Next() {
		var k string
		var c checksum.Sum
		var sum int64
		if err := rs.Scan(&k, &c.Count, &sum); err != nil {
			return nil, err
		}
		c.Sum = uint64(sum)
		out[k] = c
	}
	return out, rs.Err()
}
