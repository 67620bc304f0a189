package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Conflict is a conflict record as pulled.
type Conflict struct {
	ID        string          `json:"id"`
	TableName string          `json:"table_name"`
	RowID     string          `json:"row_id"`
	Status    string          `json:"status"`
	Version   int64           `json:"version"`
	Record    json.RawMessage `json:"record"`
}

// Conflicts lists the conflict records pulled, open ones only when open is
// set, newest first.
func (s *Store) Conflicts(ctx context.Context, open bool) ([]Conflict, error) {
	// Version 0: a record a push answer announced, not pulled yet.
	q := "SELECT id, table_name, row_id, status, version, row FROM sync_conflicts WHERE version > 0"
	if open {
		q += " AND status = 'open'"
	}
	q += " ORDER BY version DESC"
	out, err := readAll(ctx, s, q, nil, func(sc scanner) (c Conflict, err error) {
		var rec string
		err = sc.Scan(&c.ID, &c.TableName, &c.RowID, &c.Status, &c.Version, &rec)
		c.Record = json.RawMessage(rec)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	return out, nil
}

// pullConflict stores a conflict record and, when it is closed, returns the
// rows awaiting its review to clean (taking the resolved server state).
func (s *Store) pullConflict(t *wtx, ch protocol.PullChange, out *PullOutcome) error {
	tableName, _ := ch.Row["table_name"].(string)
	rowID, _ := ch.Row["row_id"].(string)
	status, _ := ch.Row["status"].(string)
	data, err := json.Marshal(ch.Row)
	if err != nil {
		return err
	}
	// A page of a full pass brings the record's current state, whatever
	// version was held: after a timeline change the held one may be of the
	// old timeline, above the restored server's (a decision the restore
	// lost: the record is open again, and must show so).
	if _, err := t.exec(`INSERT INTO sync_conflicts(id, table_name, row_id, status, version, hlc, row) VALUES(?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET table_name = excluded.table_name, row_id = excluded.row_id, status = excluded.status,
		version = excluded.version, hlc = excluded.hlc, row = excluded.row WHERE excluded.version >= sync_conflicts.version OR ?`,
		ch.ID, tableName, rowID, status, ch.Version, ch.HLC, string(data), t.pass); err != nil {
		return err
	}
	out.Conflicts++
	if status == protocol.ConflictOpen {
		return nil
	}
	tb, ok := s.syncedTable(tableName)
	if !ok {
		return nil
	}
	resolved, _ := toInt64(ch.Row["row_version"])
	if status == protocol.ConflictResolved && resolved > 0 {
		// A decision: the decider's device pushes the decided state again
		// as its own accepted write after a restore; no own version of
		// this device up to it is carried on (ownchain.go), so a decision
		// is never met by a second push of the values it chose or
		// replaced.
		if _, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ? AND version > 0 AND version <= ?", tb.Name, rowID, resolved); err != nil {
			return fmt.Errorf("forget own versions a decision replaced: %w", err)
		}
	}
	var entryHLC, cur string
	var serverV sql.NullInt64
	var serverRow sql.NullString
	var serverHLC sql.NullString
	err = t.queryRow(`SELECT e.hlc, r.hlc, e.server_version, e.server_row, e.server_hlc FROM sync_rows e JOIN `+tb.Name+` r ON r.id = e.id
		WHERE e.tbl = ? AND e.id = ? AND e.conflict_id = ? AND e.state = 'awaiting_review'`, tb.Name, rowID, ch.ID).
		Scan(&entryHLC, &cur, &serverV, &serverRow, &serverHLC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if entryHLC != cur {
		// Edited again since: that edit is pending and settles by itself.
		return nil
	}
	if serverV.Valid && serverV.Int64 >= resolved && serverRow.Valid {
		row, err := protocol.DecodeRow([]byte(serverRow.String))
		if err != nil {
			return err
		}
		if err := writeServerRow(t, tb, rowID, row, serverV.Int64, serverHLC.String); err != nil {
			return err
		}
		out.Resolved++
		_, err = t.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", tb.Name, rowID)
		return err
	}
	_, err = t.exec("UPDATE sync_rows SET state = 'resolving', resolved_version = ? WHERE tbl = ? AND id = ?", resolved, tb.Name, rowID)
	return err
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}
