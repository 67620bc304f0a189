package store

import (
	"context"
	"database/sql"
	"fmt"
)

// EachRecord calls fn for every record matching f (live records unless
// f.IncludeDeleted; f's sort, but no paging), oldest first by default,
// from one snapshot: an export streams a million rows without paging by
// offset. total is how many match, known before the first call (for
// progress). A cancelled ctx or an error from fn stops it.
func (s *Store) EachRecord(ctx context.Context, f RecordFilter, fn func(r Record, total int64) error) error {
	q, err := f.query()
	if err != nil {
		return fmt.Errorf("each record: %w", err)
	}
	cond, args, col, dir := q.cond, q.args, q.col, q.dir
	err = s.read(ctx, func(tx *sql.Tx) error {
		var total int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM production_records"+cond, args...).Scan(&total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+recordCols+" FROM production_records"+cond+" ORDER BY "+col+dir+", rowid"+dir, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			if err := fn(r, total); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("each record: %w", err)
	}
	return nil
}
