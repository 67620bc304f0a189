package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// EachRecord calls fn for every record matching f (live records unless
// f.IncludeDeleted; f's sort, but no paging), oldest first by default,
// from one snapshot: an export streams a million rows without paging by
// offset. total is how many match, known before the first call (for
// progress). A cancelled ctx or an error from fn stops it.
func (s *Store) EachRecord(ctx context.Context, f RecordFilter, fn func(r Record, total int64) error) error {
	col, ok := sortColumns[f.Sort]
	if f.Sort == "" {
		col, ok = "created_at", true
	}
	if !ok {
		return fmt.Errorf("each record: cannot sort by %q", truncate(f.Sort, 40))
	}
	var where []string
	var args []any
	if !f.IncludeDeleted {
		where = append(where, "deleted_at IS NULL")
	}
	for _, c := range []struct{ col, v string }{{"line_id", f.LineID}, {"product_id", f.ProductID}, {"operator_id", f.OperatorID}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.From > 0 {
		where = append(where, "created_at >= ?")
		args = append(args, f.From)
	}
	if f.To > 0 {
		where = append(where, "created_at < ?")
		args = append(args, f.To)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
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
