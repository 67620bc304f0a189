package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// hourMs is the rollups' bucket: one UTC hour in ms.
const hourMs = 3_600_000

// Group keys of Aggregate: what a total is kept per, besides bucket and line.
const (
	ByProduct  = "product"
	ByOperator = "operator"
)

// rollupSource names the rollup table and the record column of a group key.
var rollupSource = map[string]struct{ table, col string }{
	ByProduct:  {"production_hourly", "product_id"},
	ByOperator: {"production_hourly_operator", "operator_id"},
}

// Total is the sum of live records in bucket Bucket (an index into the
// bounds of Aggregate) for one line and one product or operator (Key).
type Total struct {
	Bucket   int    `json:"bucket"`
	LineID   string `json:"line_id"`
	Key      string `json:"key"`
	Quantity int64  `json:"quantity"`
	Records  int64  `json:"records"`
}

// interval is a part of bucket i, [lo, hi) in ms, read from the rollup
// (whole UTC hours) or from the records (what is left at the edges).
type interval struct {
	i      int
	lo, hi int64
}

func floorHour(ms int64) int64 {
	r := ms % hourMs
	if r < 0 {
		r += hourMs
	}
	return ms - r
}

func ceilHour(ms int64) int64 {
	f := floorHour(ms)
	if f == ms {
		return ms
	}
	return f + hourMs
}

// split cuts each bucket [bounds[i], bounds[i+1]) into the whole UTC hours
// the rollup answers and the partial hours at its edges, which only the
// records can: a range or a local hour that does not start on a UTC hour
// (a custom time, a half-hour time zone) stays exact.
func split(bounds []int64) (whole, partial []interval) {
	for i := 0; i+1 < len(bounds); i++ {
		lo, hi := bounds[i], bounds[i+1]
		a, z := ceilHour(lo), floorHour(hi)
		if a >= z {
			partial = append(partial, interval{i, lo, hi})
			continue
		}
		whole = append(whole, interval{i, a, z})
		if lo < a {
			partial = append(partial, interval{i, lo, a})
		}
		if z < hi {
			partial = append(partial, interval{i, z, hi})
		}
	}
	return whole, partial
}

// maxIntervalsPerQuery keeps a query's bound parameters well under
// SQLite's limit.
const maxIntervalsPerQuery = 250

// Aggregate sums the live production records per bucket, line and group
// key (ByProduct or ByOperator). bounds are ascending instants (ms): bucket
// i is [bounds[i], bounds[i+1]), by created_at. lineID, when set, keeps one
// line. Whole UTC hours come from the hourly rollup; only the parts of
// hours cut by a bound are read from the records. Totals are ordered by
// bucket, line and key; buckets with nothing live are left out.
func (s *Store) Aggregate(ctx context.Context, by string, bounds []int64, lineID string) ([]Total, error) {
	src, ok := rollupSource[by]
	if !ok {
		return nil, fmt.Errorf("aggregate: unknown grouping %q", by)
	}
	if err := checkBounds(bounds); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	whole, partial := split(bounds)
	acc := map[Total]*Total{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rollupQ := "SELECT b.column1, h.line_id, h." + src.col + ", sum(h.quantity), sum(h.records) FROM b CROSS JOIN " + src.table +
			" h ON h.hour >= b.column2 AND h.hour < b.column3"
		if err := sumIntervals(ctx, tx, rollupQ, whole, lineID, acc); err != nil {
			return fmt.Errorf("rollup: %w", err)
		}
		scanQ := "SELECT b.column1, h.line_id, h." + src.col + ", sum(h.quantity), count(*) FROM b CROSS JOIN production_records h" +
			" ON h.deleted_at IS NULL AND h.created_at >= b.column2 AND h.created_at < b.column3"
		if err := sumIntervals(ctx, tx, scanQ, partial, lineID, acc); err != nil {
			return fmt.Errorf("edges: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	return sortedTotals(acc), nil
}

// AggregateScan is Aggregate computed from the records alone, without the
// rollup: the reference the rollup is checked against, in tests and
// benchmarks.
func (s *Store) AggregateScan(ctx context.Context, by string, bounds []int64, lineID string) ([]Total, error) {
	src, ok := rollupSource[by]
	if !ok {
		return nil, fmt.Errorf("aggregate scan: unknown grouping %q", by)
	}
	if err := checkBounds(bounds); err != nil {
		return nil, fmt.Errorf("aggregate scan: %w", err)
	}
	var all []interval
	for i := 0; i+1 < len(bounds); i++ {
		all = append(all, interval{i, bounds[i], bounds[i+1]})
	}
	acc := map[Total]*Total{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		q := "SELECT b.column1, h.line_id, h." + src.col + ", sum(h.quantity), count(*) FROM b CROSS JOIN production_records h" +
			" ON h.deleted_at IS NULL AND h.created_at >= b.column2 AND h.created_at < b.column3"
		return sumIntervals(ctx, tx, q, all, lineID, acc)
	})
	if err != nil {
		return nil, fmt.Errorf("aggregate scan: %w", err)
	}
	return sortedTotals(acc), nil
}

func checkBounds(bounds []int64) error {
	for i := 1; i < len(bounds); i++ {
		if bounds[i] <= bounds[i-1] {
			return fmt.Errorf("bounds must ascend: %d after %d", bounds[i], bounds[i-1])
		}
	}
	return nil
}

// sumIntervals runs q (which selects bucket, line, key, quantity, records
// from a join of the intervals "b" with a source aliased "h") over ivs in
// chunks and adds its rows to acc.
func sumIntervals(ctx context.Context, tx *sql.Tx, q string, ivs []interval, lineID string, acc map[Total]*Total) error {
	for len(ivs) > 0 {
		n := min(len(ivs), maxIntervalsPerQuery)
		chunk := ivs[:n]
		ivs = ivs[n:]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk)+1)
		for k, iv := range chunk {
			vals[k] = "(?, ?, ?)"
			args = append(args, iv.i, iv.lo, iv.hi)
		}
		full := "WITH b AS (VALUES " + strings.Join(vals, ", ") + ") " + q
		if lineID != "" {
			full += " AND h.line_id = ?"
			args = append(args, lineID)
		}
		full += " GROUP BY 1, 2, 3"
		rows, err := tx.QueryContext(ctx, full, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t Total
			if err := rows.Scan(&t.Bucket, &t.LineID, &t.Key, &t.Quantity, &t.Records); err != nil {
				rows.Close()
				return err
			}
			k := Total{Bucket: t.Bucket, LineID: t.LineID, Key: t.Key}
			if a := acc[k]; a != nil {
				a.Quantity += t.Quantity
				a.Records += t.Records
			} else {
				acc[k] = &t
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func sortedTotals(acc map[Total]*Total) []Total {
	out := make([]Total, 0, len(acc))
	for _, t := range acc {
		if t.Records != 0 {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Bucket != b.Bucket {
			return a.Bucket < b.Bucket
		}
		if a.LineID != b.LineID {
			return a.LineID < b.LineID
		}
		return a.Key < b.Key
	})
	return out
}

// RollupChange says which hours of the rollup changed since a revision.
type RollupChange struct {
	// Rev is the rollup's revision now; pass it to the next call.
	Rev int64 `json:"rev"`
	// From and To (exclusive, ms) cover every changed hour; both are 0 when
	// nothing changed.
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// RollupChangedSince reports the hours whose totals changed after revision
// rev; with rev = math.MaxInt64 it only reads the current revision. Every write of a record —
// local, pulled, discarded — moves the revision, so a dashboard polls this
// cheaply and re-reads only when the change touches what it shows.
func (s *Store) RollupChangedSince(ctx context.Context, rev int64) (RollupChange, error) {
	var c RollupChange
	var from, to sql.NullInt64
	err := s.readRow(ctx, `SELECT coalesce((SELECT max(rev) FROM production_hourly), 0),
		(SELECT min(hour) FROM production_hourly WHERE rev > ?1), (SELECT max(hour) FROM production_hourly WHERE rev > ?1)`,
		[]any{rev}, func(r *sql.Row) error { return r.Scan(&c.Rev, &from, &to) })
	if err != nil {
		return RollupChange{}, fmt.Errorf("rollup changes: %w", err)
	}
	if from.Valid {
		c.From, c.To = from.Int64, to.Int64+hourMs
	}
	return c, nil
}

// LineTargets returns each line's target rate per hour from its latest
// live configuration (by updated_at); a line whose latest configuration
// has no target is absent.
func (s *Store) LineTargets(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT line_id, target_rate_per_hour FROM line_configs
			WHERE deleted_at IS NULL ORDER BY line_id, updated_at, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			var rate sql.NullInt64
			if err := rows.Scan(&line, &rate); err != nil {
				return err
			}
			if rate.Valid {
				out[line] = rate.Int64
			} else {
				delete(out, line)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("line targets: %w", err)
	}
	return out, nil
}

// LineTarget is a line's target rate per hour (from its latest live
// configuration) and Since, when the line was first configured (the
// created_at of its earliest live configuration, ms): a target counts only
// from then, never for the hours before anyone set it.
type LineTarget struct {
	Rate  int64
	Since int64
}

// LineTargetsSince returns LineTargets with the time each line was first
// configured; a line whose latest configuration has no target is absent.
func (s *Store) LineTargetsSince(ctx context.Context) (map[string]LineTarget, error) {
	out := map[string]LineTarget{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT line_id, target_rate_per_hour, created_at FROM line_configs
			WHERE deleted_at IS NULL ORDER BY line_id, updated_at, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		since := map[string]int64{}
		for rows.Next() {
			var line string
			var rate sql.NullInt64
			var created int64
			if err := rows.Scan(&line, &rate, &created); err != nil {
				return err
			}
			if at, ok := since[line]; !ok || created < at {
				since[line] = created
			}
			if rate.Valid {
				out[line] = LineTarget{Rate: rate.Int64}
			} else {
				delete(out, line)
			}
		}
		for line, t := range out {
			t.Since = since[line]
			out[line] = t
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("line targets since: %w", err)
	}
	return out, nil
}
