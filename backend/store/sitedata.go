package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Site data (issue 10): the manager-only synced tables lines, products,
// people and site_settings. They are handled generically, from the
// registry: a row is a protocol.Row of its wire columns, its id derived from
// its key column (code, badge_id) or, for site_settings, the site's one id.

// SiteRow is one row of a site data table.
type SiteRow struct {
	// Fields holds every wire column (id, the table's columns, created_at,
	// updated_at, deleted_at, server_updated_at), normalised: string for
	// text, int64 for integers and times, float64 for reals, nil for NULL.
	Fields protocol.Row `json:"fields"`
	// Pending is true while the server has not accepted the last local
	// change (synced_at IS NULL).
	Pending bool `json:"pending"`
	// SyncState is the row's state as RowState reports it: StateClean,
	// StatePending, StateInFlight, StateAwaitingReview or StateRejected.
	SyncState string `json:"sync_state"`
	// Version is the server version the row is based on; 0 = never synced.
	Version int64 `json:"version"`
	// HLC is the hybrid logical clock of the last local edit.
	HLC string `json:"hlc"`
}

// ID returns the row's id.
func (r SiteRow) ID() string { return r.Text("id") }

// Text returns a text column's value, "" when NULL or not text.
func (r SiteRow) Text(col string) string {
	s, _ := r.Fields[col].(string)
	return s
}

// Int returns an integer column's value; ok is false when NULL.
func (r SiteRow) Int(col string) (v int64, ok bool) {
	v, ok = r.Fields[col].(int64)
	return v, ok
}

// Active reports whether the row is live (not deleted) and, for tables with
// an active flag, has active = 1.
func (r SiteRow) Active() bool {
	if r.Fields["deleted_at"] != nil {
		return false
	}
	if v, ok := r.Fields["active"]; ok {
		return v == int64(1)
	}
	return true
}

// Codes of the master data checks on records (CreateRecord, UpdateRecord),
// as *protocol.ValidationError.Code.
const (
	// CodeUnknownCode: the line_id / product_id is not the code of a live
	// row of lines / products.
	CodeUnknownCode = "unknown_code"
	// CodeInactiveCode: it names a row whose active flag is 0.
	CodeInactiveCode = "inactive_code"
)

// siteTable returns the named site data table (a synced table with a key or
// one row per site); other names are ErrUnknownTable.
func siteTable(name string) (protocol.Table, bool) {
	for _, t := range syncTables {
		if t.Name == name && (t.ManagerOnly || t.Key != "" || t.Singleton) {
			return t, true
		}
	}
	return protocol.Table{}, false
}

// siteRowID derives a row's id from its key value in fields.
func siteRowID(tb protocol.Table, fields map[string]any) (string, error) {
	if tb.Singleton {
		return protocol.SiteSettingsID(), nil
	}
	col, ok := tb.Column(tb.Key)
	if !ok {
		return "", fmt.Errorf("%s: no key column: %w", tb.Name, ErrUnknownTable)
	}
	v, err := col.Normalize(fields[tb.Key])
	if err != nil {
		return "", err
	}
	return protocol.KeyID(tb.Name, v.(string)), nil
}

func scanSiteRow(tb protocol.Table, sc scanner) (SiteRow, error) {
	r, synced, err := scanSyncedRow(tb.ColumnNames(), sc)
	if err != nil {
		return SiteRow{}, err
	}
	return SiteRow{Fields: r.Row, Pending: !synced, SyncState: r.State, Version: r.Version, HLC: r.HLC}, nil
}

// PutSiteRow writes a row of a site data table (lines, products, people,
// site_settings) as a local edit, pending sync, and returns it. The row's id
// is derived from fields' key column (code, badge_id; site_settings has one
// row). fields is merged onto the existing local row: a column not given
// keeps its value, an explicit nil clears a nullable one. created_at (kept
// on an existing row), updated_at, the hlc and the sync columns are set by
// the store; a deleted row is restored unless fields sets deleted_at. A Go
// bool is accepted for an integer column (the active flag): true is 1.
//
// The merged row is validated with the registry's rules (the ones the server
// applies): a problem returns a wrapped *protocol.ValidationError and
// changes nothing. A row whose people's fields would not change is left as
// it is (no edit to sync) and returned. Unknown table names (or a synced
// table that is not site data) return ErrUnknownTable.
func (s *Store) PutSiteRow(ctx context.Context, table string, fields map[string]any) (SiteRow, error) {
	tb, ok := siteTable(table)
	if !ok {
		return SiteRow{}, fmt.Errorf("put site row %q: %w", table, ErrUnknownTable)
	}
	in := make(map[string]any, len(fields))
	for k, v := range fields {
		switch k {
		case "created_at", "updated_at", "server_updated_at":
			continue // the store's to set
		}
		if b, isBool := v.(bool); isBool {
			if c, ok := tb.Column(k); ok && c.Kind == protocol.Int {
				v = int64(0)
				if b {
					v = int64(1)
				}
			}
		}
		in[k] = v
	}
	id, err := siteRowID(tb, in)
	if err != nil {
		return SiteRow{}, fmt.Errorf("put %s row: %w", table, err)
	}
	sel := syncedRowQuery(tb) + " WHERE r.id = ?"
	var out SiteRow
	err = s.write(ctx, func(t *wtx) error {
		cur, err := scanSiteRow(tb, t.tx.QueryRowContext(ctx, sel, id))
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read: %w", err)
		}
		merged := map[string]any{}
		if exists {
			for k, v := range cur.Fields {
				merged[k] = v
			}
		}
		for k, v := range in {
			merged[k] = v
		}
		if _, ok := in["deleted_at"]; !ok {
			merged["deleted_at"] = nil
		}
		if !exists {
			merged["created_at"] = t.now
		}
		merged["updated_at"] = t.now
		row, err := tb.Validate(id, merged, protocol.Complete)
		if err != nil {
			return err
		}
		if exists && samePeopleFields(tb, cur.Fields, row) {
			out = cur
			return nil
		}
		var re *reEdit
		var own *ownEdit
		if exists {
			if re, err = beforeEdit(t, tb, id); err != nil {
				return err
			}
			if own, err = beforeOwnEdit(t, tb, id); err != nil {
				return err
			}
		}
		var cols []string
		var args []any
		for _, c := range tb.Columns {
			if c.Name == "server_updated_at" {
				continue
			}
			cols = append(cols, c.Name)
			args = append(args, row[c.Name])
		}
		set := make([]string, 0, len(cols))
		for _, c := range cols[1:] { // not id
			set = append(set, c+" = excluded."+c)
		}
		q := "INSERT INTO " + tb.Name + " (" + strings.Join(cols, ", ") + ", synced_at, version, hlc) VALUES (" +
			strings.Repeat("?, ", len(cols)) + "NULL, 0, ?) ON CONFLICT(id) DO UPDATE SET " + strings.Join(set, ", ") +
			", synced_at = NULL, hlc = excluded.hlc"
		if _, err := t.tx.ExecContext(ctx, q, append(args, t.stamp())...); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if err := re.afterEdit(t); err != nil {
			return err
		}
		if err := own.after(t); err != nil {
			return err
		}
		if out, err = scanSiteRow(tb, t.tx.QueryRowContext(ctx, sel, id)); err != nil {
			return fmt.Errorf("read back: %w", err)
		}
		return nil
	})
	if err != nil {
		return SiteRow{}, fmt.Errorf("put %s row: %w", table, err)
	}
	return out, nil
}

// samePeopleFields reports whether row changes none of cur's people's
// fields (deleted_at included).
func samePeopleFields(tb protocol.Table, cur, row protocol.Row) bool {
	for _, c := range tb.PeopleColumns() {
		if cur[c] != row[c] {
			return false
		}
	}
	return true
}

// SiteRows returns the live rows (deleted_at IS NULL) of a site data table,
// ordered by their key (code, badge_id), active or not.
func (s *Store) SiteRows(ctx context.Context, table string) ([]SiteRow, error) {
	tb, ok := siteTable(table)
	if !ok {
		return nil, fmt.Errorf("site rows %q: %w", table, ErrUnknownTable)
	}
	order := "r.id"
	if tb.Key != "" {
		order = "r." + tb.Key + ", r.id"
	}
	q := syncedRowQuery(tb) + " WHERE r.deleted_at IS NULL ORDER BY " + order
	out, err := readAll(ctx, s, q, nil, func(sc scanner) (SiteRow, error) { return scanSiteRow(tb, sc) })
	if err != nil {
		return nil, fmt.Errorf("site rows %s: %w", table, err)
	}
	return out, nil
}

// SiteRow returns one row of a site data table by id, deleted or not, or
// ErrNotFound. The id of a keyed row is protocol.KeyID(table, key); the
// site_settings row's is protocol.SiteSettingsID().
func (s *Store) SiteRow(ctx context.Context, table, id string) (SiteRow, error) {
	tb, ok := siteTable(table)
	if !ok {
		return SiteRow{}, fmt.Errorf("site row %q: %w", table, ErrUnknownTable)
	}
	if !protocol.ValidID(id) {
		return SiteRow{}, fmt.Errorf("site row %s %q: %w", table, id, ErrNotFound)
	}
	var r SiteRow
	err := s.readRow(ctx, syncedRowQuery(tb)+" WHERE r.id = ?", []any{id}, func(row *sql.Row) error {
		var err error
		r, err = scanSiteRow(tb, row)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return SiteRow{}, fmt.Errorf("site row %s %s: %w", table, id, err)
	}
	return r, nil
}

// PersonByBadge returns the live people row of badge (active or not), or
// ErrNotFound: one primary-key read.
func (s *Store) PersonByBadge(ctx context.Context, badge string) (SiteRow, error) {
	if badge == "" {
		return SiteRow{}, fmt.Errorf("person by badge: %w", ErrNotFound)
	}
	r, err := s.SiteRow(ctx, protocol.TablePeople, protocol.KeyID(protocol.TablePeople, badge))
	if err == nil && r.Fields["deleted_at"] != nil {
		err = fmt.Errorf("person by badge: deleted: %w", ErrNotFound)
	}
	if err != nil {
		return SiteRow{}, err
	}
	return r, nil
}

// CountActive counts the live rows of a site data table whose active flag
// is 1 (every live row for a table without one: site_settings).
func (s *Store) CountActive(ctx context.Context, table string) (int, error) {
	tb, ok := siteTable(table)
	if !ok {
		return 0, fmt.Errorf("count active %q: %w", table, ErrUnknownTable)
	}
	q := "SELECT count(*) FROM " + tb.Name + " WHERE deleted_at IS NULL"
	if _, ok := tb.Column("active"); ok {
		q += " AND active = 1"
	}
	var n int
	if err := s.readRow(ctx, q, nil, func(r *sql.Row) error { return r.Scan(&n) }); err != nil {
		return 0, fmt.Errorf("count active %s: %w", table, err)
	}
	return n, nil
}

// CountLive counts the live rows of a site data table, active or not.
func (s *Store) CountLive(ctx context.Context, table string) (int, error) {
	tb, ok := siteTable(table)
	if !ok {
		return 0, fmt.Errorf("count live %q: %w", table, ErrUnknownTable)
	}
	var n int
	if err := s.readRow(ctx, "SELECT count(*) FROM "+tb.Name+" WHERE deleted_at IS NULL", nil,
		func(r *sql.Row) error { return r.Scan(&n) }); err != nil {
		return 0, fmt.Errorf("count live %s: %w", table, err)
	}
	return n, nil
}

// PeopleNames maps the badge id of every live person (active or not, so old
// records keep their operator's name) to their display name.
func (s *Store) PeopleNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT badge_id, display_name FROM people WHERE deleted_at IS NULL")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, n string
			if err := rows.Scan(&b, &n); err != nil {
				return err
			}
			out[b] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("people names: %w", err)
	}
	return out, nil
}

// Master data checks on records (issue 10): when a site has at least one
// live line, a record's line_id must be the code of a live, active line;
// the same for products and product_id. A site without lines (products)
// does not check them.

const (
	qHasLines      = "SELECT EXISTS (SELECT 1 FROM lines WHERE deleted_at IS NULL)"
	qLineActive    = "SELECT active FROM lines WHERE code = ? AND deleted_at IS NULL"
	qHasProducts   = "SELECT EXISTS (SELECT 1 FROM products WHERE deleted_at IS NULL)"
	qProductActive = "SELECT active FROM products WHERE code = ? AND deleted_at IS NULL"
)

// codeChecker checks records' codes inside one write transaction, reading
// each table's "has rows" and each code once.
type codeChecker struct {
	t    *wtx
	has  map[string]bool
	seen map[string]error
}

func newCodeChecker(t *wtx) *codeChecker {
	return &codeChecker{t: t, has: map[string]bool{}, seen: map[string]error{}}
}

type codeRule struct {
	table, column, noun, hasQ, activeQ string
}

var (
	lineRule    = codeRule{protocol.TableLines, "line_id", "Line", qHasLines, qLineActive}
	productRule = codeRule{protocol.TableProducts, "product_id", "Product", qHasProducts, qProductActive}
)

func (c *codeChecker) check(r codeRule, code string) error {
	key := r.table + "\x00" + code
	if err, ok := c.seen[key]; ok {
		return err
	}
	has, ok := c.has[r.table]
	if !ok {
		if err := c.t.queryRow(r.hasQ).Scan(&has); err != nil {
			return fmt.Errorf("check %s: %w", r.column, err)
		}
		c.has[r.table] = has
	}
	var err error
	if has {
		var active int64
		switch qerr := c.t.queryRow(r.activeQ, code).Scan(&active); {
		case errors.Is(qerr, sql.ErrNoRows):
			err = &protocol.ValidationError{Code: CodeUnknownCode, Column: r.column,
				Message: fmt.Sprintf("%s %q is not in this site's list of %ss.", r.noun, truncate(code, 64), strings.ToLower(r.noun)),
				Params:  map[string]any{"field": r.column, "value": truncate(code, 64)}}
		case qerr != nil:
			return fmt.Errorf("check %s: %w", r.column, qerr)
		case active != 1:
			err = &protocol.ValidationError{Code: CodeInactiveCode, Column: r.column,
				Message: fmt.Sprintf("%s %q is no longer active.", r.noun, truncate(code, 64)),
				Params:  map[string]any{"field": r.column, "value": truncate(code, 64)}}
		}
	}
	c.seen[key] = err
	return err
}

// checkRecordCodes applies the master data checks to a record's codes.
// Only the codes in changed are checked (all of them for a new record): an
// old record on a line retired since can still have its quantity fixed.
func (c *codeChecker) checkRecordCodes(in RecordInput, lineChanged, productChanged bool) error {
	if lineChanged {
		if err := c.check(lineRule, in.LineID); err != nil {
			return err
		}
	}
	if productChanged {
		if err := c.check(productRule, in.ProductID); err != nil {
			return err
		}
	}
	return nil
}
