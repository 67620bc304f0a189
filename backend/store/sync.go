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

// PendingRow is one row to push: its full current state (every wire column
// but the bookkeeping ones) with the version it is based on.
type PendingRow struct {
	Table       string       `json:"table"`
	ID          string       `json:"id"`
	BaseVersion int64        `json:"base_version"`
	HLC         string       `json:"hlc"`
	Row         protocol.Row `json:"row"`
}

// Pending returns up to limit rows of table not yet accepted by the server,
// in insertion order, through the partial index on synced_at (so the cost
// follows the number of pending rows, not the table's size).
func (s *Store) Pending(ctx context.Context, table string, limit int) ([]PendingRow, error) {
	t, ok := s.syncedTable(table)
	if !ok {
		return nil, fmt.Errorf("pending %q: %w", table, ErrUnknownTable)
	}
	if limit <= 0 {
		limit = protocol.MaxBatchChanges
	}
	var cols []string
	for _, c := range t.Columns {
		if !protocol.IsBookkeeping(c.Name) {
			cols = append(cols, c.Name)
		}
	}
	// Table and column names come from the registry, never from input.
	q := pendingQuery(t.Name, cols)
	out := []PendingRow{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]any, len(cols)+2)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			p := PendingRow{Table: t.Name, Row: make(protocol.Row, len(cols))}
			for i, c := range cols {
				v := vals[i]
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				p.Row[c] = v
			}
			p.ID, _ = p.Row["id"].(string)
			p.BaseVersion, _ = vals[len(cols)].(int64)
			switch h := vals[len(cols)+1].(type) {
			case string:
				p.HLC = h
			case []byte:
				p.HLC = string(h)
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pending %s: %w", table, err)
	}
	return out, nil
}

func pendingQuery(table string, cols []string) string {
	return "SELECT " + strings.Join(cols, ", ") + ", version, hlc FROM " + table +
		" WHERE synced_at IS NULL ORDER BY rowid LIMIT ?"
}

// Ack is the server's acceptance of one pushed row.
type Ack struct {
	ID string
	// HLC is the hlc that was pushed.
	HLC string
	// Version is the row's server version after the push.
	Version int64
	// ServerUpdatedAt is the server's time of the write (ms).
	ServerUpdatedAt int64
}

// MarkSynced applies "applied" results to table in one transaction: each row
// takes its new version and server time and becomes clean — unless it was
// edited again since the push (its hlc differs from the pushed one), in
// which case it takes the new version as its base and stays pending. It
// returns how many rows became clean.
func (s *Store) MarkSynced(ctx context.Context, table string, acks []Ack) (int, error) {
	t, ok := s.syncedTable(table)
	if !ok {
		return 0, fmt.Errorf("mark synced %q: %w", table, ErrUnknownTable)
	}
	var clean int
	err := s.write(ctx, func(w *wtx) error {
		now := w.now
		for _, a := range acks {
			res, err := w.exec(ackClean(t.Name), now, a.Version, a.ServerUpdatedAt, a.ID, a.HLC)
			if err != nil {
				return fmt.Errorf("ack %s: %w", a.ID, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				clean++
				continue
			}
			if _, err := w.exec(ackEdited(t.Name), a.Version, a.ServerUpdatedAt, a.ID); err != nil {
				return fmt.Errorf("ack %s: %w", a.ID, err)
			}
			if err := s.rememberVersion(w, t, a.ID, a.Version); err != nil {
				return fmt.Errorf("ack %s: %w", a.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark synced %s: %w", table, err)
	}
	return clean, nil
}

func ackClean(table string) string {
	return "UPDATE " + table + " SET synced_at = ?, version = ?, server_updated_at = ? WHERE id = ? AND hlc = ?"
}

func ackEdited(table string) string {
	return "UPDATE " + table + " SET version = ?, server_updated_at = ? WHERE id = ?"
}

// writerStatements are the statements prepared on the writer at open.
func writerStatements() []string {
	qs := []string{upsertMeta, insertRecord, getRecord, updateRecord, insertLineConfig, getLineConfig, updateLineConfig,
		qHasLines, qLineActive, qHasProducts, qProductActive, qAnyDirty, upsertKnown}
	for _, t := range syncTableNames() {
		qs = append(qs, ackClean(t), ackEdited(t))
	}
	return qs
}
