package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/internal/rowscan"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Record is one row of production_records.
type Record struct {
	ID         string `json:"id"`
	LineID     string `json:"line_id"`
	ProductID  string `json:"product_id"`
	Quantity   int64  `json:"quantity"`
	OperatorID string `json:"operator_id"`
	// CreatedAt and UpdatedAt are ms since the Unix epoch, device clock.
	CreatedAt int64 `json:"created_at"`
	UpdatedAt int64 `json:"updated_at"`
	// SyncedAt is nil while the last local change awaits the server.
	SyncedAt        *int64 `json:"synced_at"`
	DeletedAt       *int64 `json:"deleted_at"`
	ServerUpdatedAt *int64 `json:"server_updated_at"`
	// Version is the server version the row is based on; 0 = never synced.
	Version int64  `json:"version"`
	HLC     string `json:"hlc"`
}

// Pending reports whether the last local change awaits the server.
func (r Record) Pending() bool { return r.SyncedAt == nil }

// RecordInput holds the fields a person enters for a record.
type RecordInput struct {
	LineID     string `json:"line_id"`
	ProductID  string `json:"product_id"`
	Quantity   int64  `json:"quantity"`
	OperatorID string `json:"operator_id"`
}

const recordCols = `id, line_id, product_id, quantity, operator_id, created_at, updated_at,
	synced_at, deleted_at, server_updated_at, version, hlc`

type scanner = rowscan.Scanner

func scanRecord(sc scanner) (Record, error) {
	var r Record
	var synced, deleted, server sql.Null[int64]
	err := sc.Scan(&r.ID, &r.LineID, &r.ProductID, &r.Quantity, &r.OperatorID, &r.CreatedAt, &r.UpdatedAt,
		&synced, &deleted, &server, &r.Version, &r.HLC)
	r.SyncedAt, r.DeletedAt, r.ServerUpdatedAt = ptr(synced), ptr(deleted), ptr(server)
	return r, err
}

func ptr[T any](n sql.Null[T]) *T {
	if !n.Valid {
		return nil
	}
	v := n.V
	return &v
}

// validateRecord checks a record's full state with the registry's rules,
// the ones the server applies to a push.
func (s *Store) validateRecord(id string, in RecordInput, createdAt, updatedAt int64) error {
	_, err := s.records.Validate(id, map[string]any{
		"line_id": in.LineID, "product_id": in.ProductID, "quantity": in.Quantity,
		"operator_id": in.OperatorID, "created_at": createdAt, "updated_at": updatedAt,
	}, protocol.Complete)
	return err
}

const insertRecord = `INSERT INTO production_records (id, line_id, product_id, quantity, operator_id,
	created_at, updated_at, synced_at, deleted_at, server_updated_at, version, hlc)
	VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, ?)`

// CreateRecord stores a new record with a fresh UUID, pending sync. Invalid
// input returns a wrapped *protocol.ValidationError naming the field; so
// does a line_id (product_id) that is not the code of a live, active line
// (product) when the site has lines (products): CodeUnknownCode or
// CodeInactiveCode.
func (s *Store) CreateRecord(ctx context.Context, in RecordInput) (Record, error) {
	recs, err := s.createRecords(ctx, []RecordInput{in})
	if err != nil {
		return Record{}, fmt.Errorf("create record: %w", err)
	}
	return recs[0], nil
}

// CreateRecords stores several new records in one transaction: all or none.
// Grouping writes this way costs one commit (one fsync) for the lot, the
// cheapest way to take a burst of scans or an import.
func (s *Store) CreateRecords(ctx context.Context, ins []RecordInput) ([]Record, error) {
	recs, err := s.createRecords(ctx, ins)
	if err != nil {
		return nil, fmt.Errorf("create records: %w", err)
	}
	return recs, nil
}

func (s *Store) createRecords(ctx context.Context, ins []RecordInput) ([]Record, error) {
	out := make([]Record, 0, len(ins))
	err := s.write(ctx, func(t *wtx) error {
		codes := newCodeChecker(t)
		for i, in := range ins {
			id, err := newRecordID()
			if err != nil {
				return err
			}
			r := Record{
				ID: id, LineID: in.LineID, ProductID: in.ProductID, Quantity: in.Quantity,
				OperatorID: in.OperatorID, CreatedAt: t.now, UpdatedAt: t.now,
			}
			err = s.validateRecord(r.ID, in, r.CreatedAt, r.UpdatedAt)
			if err == nil {
				err = codes.checkRecordCodes(in, true, true)
			}
			if err != nil {
				if len(ins) > 1 {
					return fmt.Errorf("record %d: %w", i, err)
				}
				return err
			}
			r.HLC = t.stamp()
			if _, err := t.exec(insertRecord, r.ID, r.LineID, r.ProductID, r.Quantity, r.OperatorID,
				r.CreatedAt, r.UpdatedAt, r.HLC); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// newRecordID returns a time-ordered UUID (version 7: the first 48 bits are
// the Unix time in ms, the rest random). Records are keyed by id on every
// device and on the server, and a site's records arrive in roughly creation
// order (local creates, pulled pages in change order): time-ordered ids land
// at the right edge of the primary-key index instead of on a random page of
// it, so a transaction of thousands of inserts dirties (and encrypts and
// writes) a few pages of that index instead of most of it. With random (v4)
// ids the initial sync of 1M records rewrote most of the id index at every
// 5000-row page (docs/benchmarks.md). Ids stay unique, opaque UUIDs; the
// creation time they reveal is in created_at anyway.
func newRecordID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return u.String(), nil
}

const getRecord = `SELECT ` + recordCols + ` FROM production_records WHERE id = ?`

// GetRecord returns the record, deleted or not, or ErrNotFound.
func (s *Store) GetRecord(ctx context.Context, id string) (Record, error) {
	if !protocol.ValidID(id) {
		return Record{}, fmt.Errorf("get record %q: %w", id, ErrNotFound)
	}
	var r Record
	err := s.readRow(ctx, getRecord, []any{id}, func(row *sql.Row) error {
		var err error
		r, err = scanRecord(row)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get record %s: %w", id, err)
	}
	return r, nil
}

// getRecordTx reads a record inside a write transaction.
func getRecordTx(t *wtx, id string) (Record, error) {
	if !protocol.ValidID(id) {
		return Record{}, ErrNotFound
	}
	r, err := scanRecord(t.queryRow(getRecord, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	return r, err
}

const updateRecord = `UPDATE production_records SET line_id = ?, product_id = ?, quantity = ?, operator_id = ?,
	updated_at = ?, deleted_at = ?, synced_at = NULL, hlc = ? WHERE id = ?`

// UpdateRecord replaces the people's fields of record id. An edit that
// changes nothing returns the record as it is (nothing to sync). A deleted
// record returns ErrDeleted: restore it first. A changed line_id or
// product_id is checked against the site's lines and products as in
// CreateRecord; an unchanged one is not, so a record on a line retired since
// can still be corrected.
func (s *Store) UpdateRecord(ctx context.Context, id string, in RecordInput) (Record, error) {
	var r Record
	err := s.write(ctx, func(t *wtx) error {
		cur, err := getRecordTx(t, id)
		if err != nil {
			return err
		}
		if cur.DeletedAt != nil {
			return ErrDeleted
		}
		if err := s.validateRecord(id, in, cur.CreatedAt, t.now); err != nil {
			return err
		}
		if cur.LineID == in.LineID && cur.ProductID == in.ProductID && cur.Quantity == in.Quantity && cur.OperatorID == in.OperatorID {
			r = cur
			return nil
		}
		if err := newCodeChecker(t).checkRecordCodes(in, in.LineID != cur.LineID, in.ProductID != cur.ProductID); err != nil {
			return err
		}
		r = cur
		r.LineID, r.ProductID, r.Quantity, r.OperatorID = in.LineID, in.ProductID, in.Quantity, in.OperatorID
		return saveRecord(t, &r)
	})
	if err != nil {
		return Record{}, fmt.Errorf("update record %s: %w", id, err)
	}
	return r, nil
}

// saveRecord writes r's people's fields as a new local edit.
func saveRecord(t *wtx, r *Record) error {
	r.UpdatedAt, r.SyncedAt, r.HLC = t.now, nil, t.stamp()
	if _, err := t.exec(updateRecord, r.LineID, r.ProductID, r.Quantity, r.OperatorID,
		r.UpdatedAt, r.DeletedAt, r.HLC, r.ID); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// DeleteRecord soft-deletes record id: it sets deleted_at, a tombstone that
// syncs like any edit. Deleting a deleted record changes nothing.
func (s *Store) DeleteRecord(ctx context.Context, id string) (Record, error) {
	r, err := s.setRecordDeleted(ctx, id, true)
	if err != nil {
		return Record{}, fmt.Errorf("delete record %s: %w", id, err)
	}
	return r, nil
}

// RestoreRecord undoes a soft delete of record id. Restoring a live record
// changes nothing.
func (s *Store) RestoreRecord(ctx context.Context, id string) (Record, error) {
	r, err := s.setRecordDeleted(ctx, id, false)
	if err != nil {
		return Record{}, fmt.Errorf("restore record %s: %w", id, err)
	}
	return r, nil
}

// setRecordDeleted sets (deleted) or clears the tombstone of record id, as
// an edit that syncs; a record already so is left as it is.
func (s *Store) setRecordDeleted(ctx context.Context, id string, deleted bool) (r Record, err error) {
	err = s.write(ctx, func(t *wtx) error {
		if r, err = getRecordTx(t, id); err != nil || (r.DeletedAt != nil) == deleted {
			return err
		}
		r.DeletedAt = nil
		if deleted {
			now := t.now
			r.DeletedAt = &now
		}
		return saveRecord(t, &r)
	})
	return r, err
}

// RecordFilter selects and orders a page of records. Empty strings and zero
// times do not filter.
type RecordFilter struct {
	LineID     string `json:"line_id"`
	ProductID  string `json:"product_id"`
	OperatorID string `json:"operator_id"`
	// From (inclusive) and To (exclusive) bound created_at, ms since the
	// epoch; 0 leaves that end open.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// IncludeDeleted lists soft-deleted records too.
	IncludeDeleted bool `json:"include_deleted"`
	// Sort is one of the Sort* keys; "" = SortCreatedAt. Ties are broken by
	// insertion order, so pages never overlap or skip.
	Sort string `json:"sort"`
	Desc bool   `json:"desc"`
	// Limit defaults to DefaultLimit and is capped at MaxLimit.
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// Sort keys of RecordFilter.Sort.
const (
	SortCreatedAt  = "created_at"
	SortUpdatedAt  = "updated_at"
	SortLineID     = "line_id"
	SortProductID  = "product_id"
	SortOperatorID = "operator_id"
	SortQuantity   = "quantity"
)

// Page sizes of ListRecords.
const (
	DefaultLimit = 200
	MaxLimit     = 1000
)

// sortColumns whitelists the ORDER BY columns; the filter's Sort is only
// ever a key into it, never interpolated.
var sortColumns = map[string]string{
	SortCreatedAt: "created_at", SortUpdatedAt: "updated_at", SortLineID: "line_id",
	SortProductID: "product_id", SortOperatorID: "operator_id", SortQuantity: "quantity",
}

// RecordPage is one page of a list; Total counts every match.
type RecordPage struct {
	Records []Record `json:"records"`
	Total   int64    `json:"total"`
}

// ListRecords returns one page of the records matching f, and how many match
// in all, from one snapshot. Paging is by offset over an index (the skipped
// entries are not decrypted into rows), fast enough for a virtual list over
// 100k records.
func (s *Store) ListRecords(ctx context.Context, f RecordFilter) (RecordPage, error) {
	rq, err := f.query()
	if err != nil {
		return RecordPage{}, fmt.Errorf("list records: %w", err)
	}
	cond, args, col, dir := rq.cond, rq.args, rq.col, rq.dir
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	offset := max(f.Offset, 0)

	page := RecordPage{Records: []Record{}}
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM production_records"+cond, args...).Scan(&page.Total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		if int64(offset) >= page.Total {
			return nil
		}
		q := "SELECT " + recordCols + " FROM production_records" + cond +
			" ORDER BY " + col + dir + ", rowid" + dir + " LIMIT ? OFFSET ?"
		rows, err := tx.QueryContext(ctx, q, append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Records, err = rowscan.All(rows, scanRecord)
		return err
	})
	if err != nil {
		return RecordPage{}, fmt.Errorf("list records: %w", err)
	}
	return page, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// recordQuery is a RecordFilter turned into SQL: the WHERE clause with its
// arguments, and the whitelisted sort column and direction.
type recordQuery struct {
	cond     string
	args     []any
	col, dir string
}

// query builds the SQL of a records filter, shared by ListRecords and
// EachRecord so a list and its export select exactly the same rows. The sort
// column comes from a whitelist, never from the input.
func (f RecordFilter) query() (recordQuery, error) {
	col, ok := sortColumns[f.Sort]
	if f.Sort == "" {
		col, ok = "created_at", true
	}
	if !ok {
		return recordQuery{}, &protocol.ValidationError{
			Code: protocol.CodeInvalidValue, Column: "sort", Message: fmt.Sprintf("records cannot be sorted by %q", truncate(f.Sort, 40)),
			Params: map[string]any{"field": "sort", "rule": "sort", "value": truncate(f.Sort, 40)},
		}
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
	q := recordQuery{args: args, col: col, dir: " ASC"}
	if len(where) > 0 {
		q.cond = " WHERE " + strings.Join(where, " AND ")
	}
	if f.Desc {
		q.dir = " DESC"
	}
	return q, nil
}
