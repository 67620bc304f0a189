package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outpost-app/outpost/backend/syncstate"
)

// SyncCounts is what the status bar shows (syncstate.SyncCounts).
type SyncCounts = syncstate.SyncCounts

// SyncCounts counts rows by state, from one snapshot.
func (s *Store) SyncCounts(ctx context.Context) (SyncCounts, error) {
	var c SyncCounts
	err := s.read(ctx, func(tx *sql.Tx) error {
		var total int64
		for _, tb := range syncTableNames() {
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+tb+" WHERE synced_at IS NULL").Scan(&n); err != nil {
				return err
			}
			total += n
			rows, err := tx.QueryContext(ctx, `SELECT e.state, count(*) FROM sync_rows e JOIN `+tb+` r ON r.id = e.id
				WHERE e.tbl = ? AND r.synced_at IS NULL AND (e.state = 'in_flight' OR e.hlc = r.hlc) GROUP BY e.state`, tb)
			if err != nil {
				return err
			}
			for rows.Next() {
				var st string
				var k int64
				if err := rows.Scan(&st, &k); err != nil {
					rows.Close()
					return err
				}
				switch st {
				case StateInFlight:
					c.InFlight += k
				case StateAwaitingReview, StateResolving:
					c.AwaitingReview += k
				case StateRejected:
					c.Rejected += k
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		c.Pending = total - c.InFlight - c.AwaitingReview - c.Rejected
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM sync_conflicts WHERE status = 'open'").Scan(&c.OpenConflicts)
	})
	if err != nil {
		return SyncCounts{}, fmt.Errorf("sync counts: %w", err)
	}
	return c, nil
}
