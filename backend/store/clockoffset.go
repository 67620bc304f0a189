package store

import (
	"context"
	"fmt"

	"github.com/outpost-app/outpost/backend/hlc"
)

// SetClockOffset sets the measured offset of the server's clock from the
// device's (server − device, ms). HLCs stamped afterwards use the corrected
// time; updated_at stays the device clock.
func (s *Store) SetClockOffset(ms int64) { s.clockOffset.Store(ms) }

// ClockOffset returns the offset set by SetClockOffset.
func (s *Store) ClockOffset() int64 { return s.clockOffset.Load() }

// Restamp gives the rows a fresh HLC from the corrected clock and makes them
// pending again (same base): the automatic resubmit of clock_ahead
// rejections. A clock that ran ahead of the corrected time is wound back
// first, so the new stamps are within the server's skew.
func (s *Store) Restamp(ctx context.Context, keys []RowKey) error {
	if len(keys) == 0 {
		return nil
	}
	err := s.write(ctx, func(t *wtx) error {
		now := t.now + s.clockOffset.Load()
		if last := s.clock.Last(); last.Wall > now {
			s.clock = hlc.NewClock(s.clock.Node(), hlc.Timestamp{Wall: now, Node: s.clock.Node()})
		}
		for _, k := range keys {
			tb, ok := s.syncedTable(k.Table)
			if !ok {
				return fmt.Errorf("%s: %w", k.Table, ErrUnknownTable)
			}
			if _, err := t.tx.ExecContext(ctx, "UPDATE "+tb.Name+" SET hlc = ? WHERE id = ? AND synced_at IS NULL", t.stamp(), k.ID); err != nil {
				return fmt.Errorf("re-stamp %s: %w", k.ID, err)
			}
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE tbl = ? AND id = ? AND state = 'rejected'", k.Table, k.ID); err != nil {
				return fmt.Errorf("re-stamp %s: %w", k.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("re-stamp: %w", err)
	}
	return nil
}
