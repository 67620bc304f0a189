package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Keys of the meta table.
const (
	metaDeviceID = "device_id"
	metaLastHLC  = "last_hlc"
)

// syncTables are the synced tables the store keeps, in the registry's
// order: every table of the registry but the conflict feed (sync_conflicts,
// kept apart in its own table). Every table and column name that goes into
// SQL comes from here, never from input.
var syncTables = func() []protocol.Table {
	var out []protocol.Table
	for _, t := range protocol.NewRegistry().Tables() {
		if t.Name != protocol.TableConflicts {
			out = append(out, t)
		}
	}
	return out
}()

// syncedTable looks a synced table up by name; a table name from a caller is
// only ever a key into syncTables.
func (s *Store) syncedTable(name string) (protocol.Table, bool) {
	for _, t := range syncTables {
		if t.Name == name {
			return t, true
		}
	}
	return protocol.Table{}, false
}

// syncTableNames returns the names of syncTables.
func syncTableNames() []string {
	out := make([]string, len(syncTables))
	for i, t := range syncTables {
		out[i] = t.Name
	}
	return out
}

// loadClock restores the HLC from meta: the device id (Unenrolled until
// enrollment) and the last reading, so a restart never issues an older HLC
// even when the wall clock went back.
func (s *Store) loadClock(ctx context.Context) error {
	node, err := s.metaGet(ctx, s.w, metaDeviceID)
	if err != nil {
		return fmt.Errorf("load clock: %w", err)
	}
	if node == "" {
		node = hlc.Unenrolled
	}
	lastS, err := s.metaGet(ctx, s.w, metaLastHLC)
	if err != nil {
		return fmt.Errorf("load clock: %w", err)
	}
	var last hlc.Timestamp
	if lastS != "" {
		if last, err = hlc.Parse(lastS); err != nil {
			return fmt.Errorf("load clock: %w", err)
		}
	}
	s.clock = hlc.NewClock(node, last)
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// metaGet returns a meta value, "" when absent.
func (s *Store) metaGet(ctx context.Context, q queryer, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	return v, nil
}

// DeviceID returns the id the server gave this device at enrollment, or ""
// before enrollment.
func (s *Store) DeviceID(ctx context.Context) (string, error) {
	release, err := s.acquire()
	if err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	defer release()
	return s.metaGet(ctx, s.r, metaDeviceID)
}

// SetDeviceID records the device id after enrollment, at a site not
// named (SetEnrollment).
func (s *Store) SetDeviceID(ctx context.Context, id string) error {
	return s.SetEnrollment(ctx, id, "")
}

// PendingCount returns how many rows of all synced tables await the server.
func (s *Store) PendingCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.readRow(ctx, pendingCountQuery, nil, func(r *sql.Row) error { return r.Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("pending count: %w", err)
	}
	return n, nil
}

// pendingCountQuery sums the pending rows of every synced table, each
// counted through its partial index on synced_at.
var pendingCountQuery = func() string {
	parts := make([]string, len(syncTables))
	for i, t := range syncTables {
		parts[i] = "(SELECT count(*) FROM " + t.Name + " WHERE synced_at IS NULL)"
	}
	return "SELECT " + strings.Join(parts, " + ")
}()

// writerStatements are the statements prepared on the writer at open.
func writerStatements() []string {
	return []string{upsertMeta, insertRecord, getRecord, updateRecord, insertLineConfig, getLineConfig, updateLineConfig,
		qHasLines, qLineActive, qHasProducts, qProductActive, qAnyDirty, upsertKnown}
}
