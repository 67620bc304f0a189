package store

import (
	"context"
	"fmt"
)

// Meta keys of the sync client.
const (
	metaCursor     = "sync_cursor"
	metaPullSchema = "sync_pull_schema"
)

// Cursor returns the pull cursor: the last change sequence applied, 0 before
// the first pull or after ResetCursor.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	release, err := s.acquire()
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	defer release()
	v, err := s.metaGet(ctx, s.r, metaCursor)
	if err != nil || v == "" {
		return 0, err
	}
	var c int64
	if _, err := fmt.Sscan(v, &c); err != nil {
		return 0, fmt.Errorf("cursor %q: %w", v, err)
	}
	return c, nil
}

// ResetCursor makes the next pull start from 0 as a full pass (410
// resync_required, or an upgrade that knows new tables or columns), and
// restarts a pass in progress. Pending edits are kept; only clean rows take
// the full state, and the clean rows the pass does not bring are removed
// when it ends.
func (s *Store) ResetCursor(ctx context.Context) error {
	err := s.write(ctx, func(t *wtx) error {
		return s.restartPass(t, PassFull)
	})
	if err != nil {
		return fmt.Errorf("reset cursor: %w", err)
	}
	return nil
}

// RepullIfUpgraded resets the cursor once when this build's schema is newer
// than the one the last pull was made with (an upgrade that added tables or
// columns; local-only migrations do not count), and records the current schema. It reports whether it reset.
func (s *Store) RepullIfUpgraded(ctx context.Context) (bool, error) {
	var reset bool
	want := fmt.Sprint(SyncSchemaVersion())
	err := s.write(ctx, func(t *wtx) error {
		seen, err := s.metaGet(ctx, t.tx, metaPullSchema)
		if err != nil || seen == want {
			return err
		}
		cur, err := s.metaGet(ctx, t.tx, metaCursor)
		if err != nil {
			return err
		}
		if seen != "" || (cur != "" && cur != "0") {
			reset = true
			if err := s.restartPass(t, PassFull); err != nil {
				return err
			}
		}
		_, err = t.tx.ExecContext(ctx, upsertMeta, metaPullSchema, want)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("repull after upgrade: %w", err)
	}
	return reset, nil
}
