package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// MaxBucketRows bounds one GET /v1/rows answer (docs/design.md section 8).
const MaxBucketRows = 5000

// ChecksumsAnswer is GET /v1/checksums' answer: the checksum of every
// non-empty bucket of one table at the site's sequence Cursor.
type ChecksumsAnswer struct {
	Cursor  int64                    `json:"cursor"`
	Buckets map[string]checksum.Wire `json:"buckets"`
}

// BucketRow is one live row of a GET /v1/rows answer, its full state as
// pull returns it.
type BucketRow struct {
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	HLC     string          `json:"hlc"`
	Row     json.RawMessage `json:"row"`
}

// RowsAnswer is GET /v1/rows' answer: the live rows of one bucket after an
// id, at the site's sequence Cursor.
type RowsAnswer struct {
	Cursor  int64       `json:"cursor"`
	Rows    []BucketRow `json:"rows"`
	HasMore bool        `json:"has_more"`
}

// Checksums returns the checksums of table's non-empty buckets on site.
func (e *Engine) Checksums(ctx context.Context, site, table string) (ChecksumsAnswer, error) {
	seq, sums, err := e.Store.Checksums(ctx, site, table)
	if err != nil {
		return ChecksumsAnswer{}, fmt.Errorf("read checksums: %w", err)
	}
	out := ChecksumsAnswer{Cursor: seq, Buckets: make(map[string]checksum.Wire, len(sums))}
	for b, s := range sums {
		if s.Count != 0 {
			out.Buckets[b] = s.Wire()
		}
	}
	return out, nil
}

// BucketRows returns up to limit live rows of bucket on site whose id is
// greater than after, in ascending byte order of id.
func (e *Engine) BucketRows(ctx context.Context, site, bucket, after string, limit int) (RowsAnswer, error) {
	seq, rows, err := e.Store.BucketRows(ctx, site, bucket, after, limit+1)
	if err != nil {
		return RowsAnswer{}, fmt.Errorf("read bucket rows: %w", err)
	}
	out := RowsAnswer{Cursor: seq, Rows: make([]BucketRow, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows, out.HasMore = rows[:limit], true
	}
	for _, r := range rows {
		out.Rows = append(out.Rows, BucketRow{ID: r.ID, Version: r.Version, HLC: r.HLC, Row: r.Data})
	}
	return out, nil
}

// knownTable reports whether table is in the feed: a registry table or the
// conflict records.
func (s *Server) knownTable(table string) bool {
	_, ok := s.cfg.Registry.Lookup(table)
	return ok || table == protocol.TableConflicts
}

func (s *Server) handleChecksums(w http.ResponseWriter, r *http.Request, dev Device) error {
	table := r.URL.Query().Get("table")
	if !s.knownTable(table) {
		return errf(http.StatusBadRequest, protocol.CodeUnknownTable, "table must name a synced table.")
	}
	out, err := s.engine.Checksums(r.Context(), dev.SiteID, table)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) handleRows(w http.ResponseWriter, r *http.Request, dev Device) error {
	q := r.URL.Query()
	bucket := q.Get("bucket")
	table, ok := checksum.TableOf(s.cfg.Registry, bucket)
	if !ok || !s.knownTable(table) {
		return errf(http.StatusBadRequest, CodeInvalidBucket, "bucket must name a checksum bucket: <table>:<hh> (two lowercase hex digits), or <table>:<YYYY-MM-DD> for a time-partitioned table.")
	}
	if q.Has("table") && q.Get("table") != table {
		return errf(http.StatusBadRequest, CodeInvalidBucket, "table must be the bucket's table.")
	}
	// An id is UTF-8 text without NUL (PostgreSQL's text can hold no
	// other): an after that is not is refused, never sent to the store.
	after := q.Get("after")
	if !utf8.ValidString(after) || strings.ContainsRune(after, 0) {
		return errf(http.StatusBadRequest, CodeInvalidAfter, "after must be a row id (UTF-8 text without NUL).")
	}
	out, err := s.engine.BucketRows(r.Context(), dev.SiteID, bucket, after, MaxBucketRows)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// CodeInvalidBucket answers a GET /v1/rows whose bucket is malformed, of an
// unknown table, or of another table than its table parameter.
const CodeInvalidBucket = "invalid_bucket"

// CodeInvalidAfter answers a GET /v1/rows whose after is not UTF-8 text
// without NUL (no row id is).
const CodeInvalidAfter = "invalid_after"
