// Package sqlitestore is the sync server's embedded storage on SQLite
// (github.com/mattn/go-sqlite3): one file, WAL, one writer connection whose
// transactions begin IMMEDIATE (the database write lock doubles as every
// site's write lock), a pool of read-only connections for pulls, and
// embedded numbered migrations recorded in PRAGMA user_version.
//
// This package must never be linked with github.com/mutecomm/go-sqlcipher.
package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/internal/migrate"
	"github.com/outpost-app/outpost/backend/internal/rowscan"
	"github.com/outpost-app/outpost/backend/server"
)

//go:embed migrations/*.sql
var migrations embed.FS

// driverName is mattn/go-sqlite3 with the settings its DSN cannot carry,
// applied to every connection as it opens (so a reconnect keeps them).
const driverName = "sqlite3_outpost_server"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Temporary files in memory: above all the sub-journal, which keeps
		// the original of every page a push changes inside its SAVEPOINT
		// (group commit, group.go). On disk that is two write calls per
		// page; it is never needed after a crash (the WAL is), so memory
		// loses nothing.
		_, err := c.Exec("PRAGMA temp_store = MEMORY", nil)
		return err
	}})
}

// BusyTimeout is how long a write waits for another process's write lock
// (the CLI working on a running server's database) before giving up.
const BusyTimeout = 10 * time.Second

// Store is the SQLite implementation of server.Store.
type Store struct {
	w *sql.DB // one connection: the only writer
	r *sql.DB // read-only pool
	// Statements of the push path, prepared once on the writer connection
	// (re-preparing each costs more than running it).
	stmts map[string]*sql.Stmt

	// The write lock of Begin and the group commit (group.go).
	lock    chan struct{}
	waiting atomic.Int32
	cur     *group // guarded by lock
	// groupAge is how long a group stays open for queued transactions
	// (maxGroupAge; a test holds a group open longer than a loaded
	// machine's scheduling gaps).
	groupAge time.Duration
	// schema is the number of migrations this build knows: a write on a
	// database migrated further is refused.
	schema int
}

// sqlTx is what a group needs of *sql.Tx.
type sqlTx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt
	Commit() error
	Rollback() error
}

// Hot statements of a write transaction.
const (
	qSeq        = `SELECT seq FROM sites WHERE site = ?`
	qSetSeq     = `UPDATE sites SET seq = ? WHERE site = ?`
	qEnsureSite = `INSERT INTO sites(site, created_at) VALUES(?, ?) ON CONFLICT(site) DO NOTHING`
	qGetRow     = `SELECT ` + rowCols + ` FROM rows WHERE site = ? AND tbl = ? AND id = ?`
	qGetVersion = `SELECT v.tbl, v.id, v.version, v.hlc, v.device_id, 0, v.data, r.bucket FROM rows r
		JOIN row_versions v ON v.rid = r.rid AND v.version = ? WHERE r.site = ? AND r.tbl = ? AND r.id = ?`
	// PutRow inserts, or else updates, the current state. Not one UPSERT:
	// ON CONFLICT DO UPDATE makes SQLite keep a statement journal (a copy
	// of every page the statement changes) for each row; these
	// single-row statements need none. The history is keyed by rows.rid
	// (migration 0002).
	qInsertRow = `INSERT INTO rows(site, tbl, id, version, hlc, device_id, deleted, data, bucket) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(site, tbl, id) DO NOTHING`
	qRowID      = `SELECT rid FROM rows WHERE site = ? AND tbl = ? AND id = ?`
	qUpdateRow  = `UPDATE rows SET version = ?, hlc = ?, device_id = ?, deleted = ?, data = ? WHERE rid = ?`
	qPutVersion = `INSERT INTO row_versions(rid, version, site, tbl, id, hlc, device_id, data) VALUES(?, ?, ?, ?, ?, ?, ?, ?)`
	qGetBatch   = `SELECT response FROM batches WHERE device_id = ? AND batch_id = ?`
	qPutBatch   = `INSERT INTO batches(device_id, batch_id, site, response, created_at) VALUES(?, ?, ?, ?, ?)`
	// HLCsHeld: every version's hlc of the rows named (inChunks adds
	// the list), through rows' key and row_versions' (rid, version).
	qHLCsHeld = `SELECT r.id, v.hlc FROM rows r JOIN row_versions v ON v.rid = r.rid
		WHERE r.site = ? AND r.tbl = ? AND r.id IN `
)

func (s *Store) prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{qSeq, qSetSeq, qEnsureSite, qGetRow, qGetVersion, qInsertRow, qRowID, qUpdateRow, qPutVersion, qGetBatch, qPutBatch, qAddSum} {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", wrap(err))
		}
		s.stmts[q] = st
	}
	return nil
}

var _ server.Store = (*Store)(nil)

// Open opens (creating and migrating) the database file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	common := url.Values{}
	common.Set("_journal_mode", "WAL")
	common.Set("_busy_timeout", strconv.Itoa(int(BusyTimeout.Milliseconds())))
	common.Set("_foreign_keys", "1")
	common.Set("_synchronous", "FULL")  // an acknowledged push survives power loss
	common.Set("_cache_size", "-65536") // 64 MiB page cache per connection
	wq := url.Values{}
	for k, v := range common {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	w, err := sql.Open(driverName, "file:"+escapePath(path)+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, lock: make(chan struct{}, 1), groupAge: maxGroupAge}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		w.Close()
		return nil, err
	}
	rq := common
	rq.Set("_query_only", "1")
	r, err := sql.Open(driverName, "file:"+escapePath(path)+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.r = r
	return s, nil
}

// escapePath makes a file path safe inside a file: URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// migrate applies the embedded migrations the database lacks, in one
// transaction of the write connection, and keeps the version in PRAGMA
// user_version.
func (s *Store) migrate(ctx context.Context) (err error) {
	d := migrate.UserVersion(s.w)
	d.After = map[int]func(context.Context, *sql.Tx) error{checksumsMigration: func(ctx context.Context, tx *sql.Tx) error {
		_, err := rebuildChecksums(ctx, tx)
		return err
	}}
	d.TooNew = server.ErrSchemaTooNew
	s.schema, err = migrate.Run(ctx, migrations, "migrations", d)
	return wrap(err)
}

// SchemaVersion returns the database's migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, wrap(err)
}

// wrap marks errors that mean "the database is not available" with
// server.ErrUnavailable and maps sql.ErrNoRows to server.ErrNotFound. An
// error it marked already is returned as it is.
func wrap(err error) error {
	if err == nil || errors.Is(err, server.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return server.ErrNotFound
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrCantOpen,
			sqlite3.ErrNotADB, sqlite3.ErrCorrupt, sqlite3.ErrFull, sqlite3.ErrReadonly:
			return fmt.Errorf("%w: %w", server.ErrUnavailable, err)
		}
	}
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return fmt.Errorf("%w: %w", server.ErrUnavailable, err)
	}
	return err
}

// Close closes both pools.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	err := s.w.Close()
	if s.r != nil {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var n int // reads the schema, so a broken or missing file shows
	return wrap(s.r.QueryRowContext(ctx, "SELECT count(*) FROM sites").Scan(&n))
}

func ensureSite(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, site string) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO sites(site, created_at) VALUES(?, ?) ON CONFLICT(site) DO NOTHING`,
		site, time.Now().UnixMilli())
	return wrap(err)
}

// Begin waits for the write lock and starts a transaction inside the
// current group (see group.go): a SAVEPOINT in an IMMEDIATE transaction on
// the single writer connection.
func (s *Store) Begin(ctx context.Context, site string) (server.Tx, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, fmt.Errorf("wait for the write lock: %w", err)
	}
	g, err := s.openGroup()
	if err != nil {
		s.release()
		return nil, err
	}
	t := &Tx{tx: g.tx, g: g, site: site, s: s, seq: -1}
	bg := context.WithoutCancel(ctx)
	if _, err := g.tx.ExecContext(bg, "SAVEPOINT batch"); err != nil {
		s.endGroup(g, err)
		s.release()
		return nil, fmt.Errorf("savepoint: %w", wrap(err))
	}
	if _, err := t.stmt(bg, qEnsureSite).ExecContext(bg, site, time.Now().UnixMilli()); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("ensure site: %w", wrap(err))
	}
	return t, nil
}

const rowCols = `tbl, id, version, hlc, device_id, deleted, data, bucket`

func scanRow(sc rowscan.Scanner) (server.StoredRow, error) {
	var r server.StoredRow
	var data string
	err := sc.Scan(&r.Table, &r.ID, &r.Version, &r.HLC, &r.DeviceID, &r.Deleted, &data, &r.Bucket)
	r.Data = []byte(data)
	return r, wrap(err)
}

// Changes reads one page of the site's feed.
func (s *Store) Changes(ctx context.Context, site string, after int64, limit int) ([]server.StoredRow, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT `+rowCols+` FROM rows WHERE site = ? AND version > ? ORDER BY version LIMIT ?`, site, after, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanRow)
	return out, wrap(err)
}

// ReadPage reads the site's state, the timeline and one page of the feed in
// one read transaction: in WAL mode its snapshot begins at the first read
// and holds until the end, whatever the writer commits meanwhile.
func (s *Store) ReadPage(ctx context.Context, site string, after int64, limit int) (server.Page, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return server.Page{}, fmt.Errorf("begin read: %w", wrap(err))
	}
	defer tx.Rollback()
	var p server.Page
	err = tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sites WHERE site = ?), 0),
		coalesce((SELECT horizon FROM sites WHERE site = ?), 0), (SELECT timeline FROM server_info)`, site, site).
		Scan(&p.State.Seq, &p.State.Horizon, &p.Timeline)
	if err != nil {
		return server.Page{}, fmt.Errorf("read site state: %w", wrap(err))
	}
	rs, err := tx.QueryContext(ctx, `SELECT `+rowCols+` FROM rows WHERE site = ? AND version > ? ORDER BY version LIMIT ?`, site, after, limit)
	if err != nil {
		return server.Page{}, fmt.Errorf("read page: %w", wrap(err))
	}
	defer rs.Close()
	if p.Rows, err = rowscan.All(rs, scanRow); err != nil {
		return server.Page{}, wrap(err)
	}
	if len(p.Rows) < limit {
		if p.Sums, err = readSums(ctx, tx, site); err != nil {
			return server.Page{}, err
		}
	}
	return p, nil
}

// Timeline returns the database's timeline id.
func (s *Store) Timeline(ctx context.Context) (string, error) {
	var tl string
	err := s.r.QueryRowContext(ctx, `SELECT timeline FROM server_info`).Scan(&tl)
	return tl, wrap(err)
}

// Restored sets a new timeline and forgets every device's position, in one
// transaction.
func (s *Store) Restored(ctx context.Context, timeline string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", wrap(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE server_info SET timeline = ?`, timeline); err != nil {
		return fmt.Errorf("set timeline: %w", wrap(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET committed = 0, pass_horizon = -1`); err != nil {
		return fmt.Errorf("forget device positions: %w", wrap(err))
	}
	return wrap(tx.Commit())
}

// SiteState returns the site's sequence and horizon.
func (s *Store) SiteState(ctx context.Context, site string) (server.SiteState, error) {
	var st server.SiteState
	err := s.r.QueryRowContext(ctx, `SELECT seq, horizon FROM sites WHERE site = ?`, site).Scan(&st.Seq, &st.Horizon)
	if errors.Is(err, sql.ErrNoRows) {
		return server.SiteState{}, nil
	}
	return st, wrap(err)
}

// History returns every stored version of a row.
func (s *Store) History(ctx context.Context, site, table, id string) ([]server.StoredRow, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT v.tbl, v.id, v.version, v.hlc, v.device_id, 0, v.data, r.bucket FROM rows r
		JOIN row_versions v ON v.rid = r.rid WHERE r.site = ? AND r.tbl = ? AND r.id = ? ORDER BY v.version`, site, table, id)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanRow)
	return out, wrap(err)
}

// qWrites reads a site's history in version order: a range of
// row_versions_site (site, version), each version's bucket through its
// row's rid (TestWrites_RangeOfTheSiteIndex).
const qWrites = `SELECT v.tbl, v.id, v.version, v.hlc, v.device_id, 0, v.data, r.bucket FROM row_versions v
	JOIN rows r ON r.rid = v.rid WHERE v.site = ? AND v.version > ? ORDER BY v.version LIMIT ?`

// Writes returns a page of the site's stored versions, oldest first,
// through the read pool: committed versions only.
func (s *Store) Writes(ctx context.Context, site string, after int64, limit int) ([]server.StoredRow, error) {
	rs, err := s.r.QueryContext(ctx, qWrites, site, after, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanRow)
	return out, wrap(err)
}

// Meta reads one committed key of a site, through the read pool.
func (s *Store) Meta(ctx context.Context, site, key string) ([]byte, error) {
	return scanMeta(s.r.QueryRowContext(ctx, qMeta, site, key))
}

// MetaPrefix reads the committed keys of a site beginning with prefix, in
// one statement (one snapshot): a range of site_meta's primary key.
func (s *Store) MetaPrefix(ctx context.Context, site, prefix string) (map[string][]byte, error) {
	q, args := `SELECT key, value FROM site_meta WHERE site = ? AND key >= ?`, []any{site, prefix}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND key < ?`
		args = append(args, end)
	}
	rs, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out := map[string][]byte{}
	for rs.Next() {
		var k string
		var v []byte
		if err := rs.Scan(&k, &v); err != nil {
			return nil, wrap(err)
		}
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, wrap(rs.Err())
}

const qMeta = `SELECT value FROM site_meta WHERE site = ? AND key = ?`

func scanMeta(row *sql.Row) ([]byte, error) {
	var v []byte
	if err := row.Scan(&v); err != nil {
		return nil, wrap(err)
	}
	if v == nil {
		v = []byte{} // an empty value is a value (only an absent key is ErrNotFound)
	}
	return v, nil
}

// prefixEnd returns the least string greater than every string beginning
// with prefix, in code point order (which is the byte order of UTF-8, and
// so SQLite's BINARY collation's): prefix with its last character replaced
// by the next one; ok is false when there is none (prefix is empty, or
// every string at or above it begins with it) or prefix is not UTF-8.
func prefixEnd(prefix string) (string, bool) {
	if !utf8.ValidString(prefix) {
		return "", false
	}
	rs := []rune(prefix)
	for len(rs) > 0 {
		last := rs[len(rs)-1] + 1
		if last == 0xD800 { // surrogates are no characters
			last = 0xE000
		}
		if last <= utf8.MaxRune {
			rs[len(rs)-1] = last
			return string(rs), true
		}
		rs = rs[:len(rs)-1]
	}
	return "", false
}

// ConflictSite returns the site holding conflict record id.
func (s *Store) ConflictSite(ctx context.Context, id string) (string, error) {
	var site string
	err := s.r.QueryRowContext(ctx, `SELECT site FROM rows WHERE tbl = 'sync_conflicts' AND id = ? LIMIT 1`, id).Scan(&site)
	return site, wrap(err)
}

// Sites lists every site.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT site FROM sites ORDER BY site`)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, func(sc rowscan.Scanner) (site string, err error) {
		// Scan first, then read site: in "return site, sc.Scan(&site)"
		// the spec leaves open whether site is read before the call.
		err = sc.Scan(&site)
		return site, err
	})
	return out, wrap(err)
}

// CreateEnrollCode stores a code's hash, creating its site.
func (s *Store) CreateEnrollCode(ctx context.Context, c server.EnrollCode) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", wrap(err))
	}
	defer tx.Rollback()
	if err := ensureSite(ctx, tx, c.SiteID); err != nil {
		return fmt.Errorf("ensure site: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO enroll_codes(code_hash, site, role, uses_left, expires_at, created_at)
		VALUES(?, ?, ?, ?, ?, ?)`, c.Hash, c.SiteID, c.Role, c.Uses, c.ExpiresAt, c.CreatedAt); err != nil {
		return fmt.Errorf("insert code: %w", wrap(err))
	}
	return wrap(tx.Commit())
}

// Enroll consumes one use of a code and creates the device.
func (s *Store) Enroll(ctx context.Context, codeHash string, d server.Device, now int64) (server.Device, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return server.Device{}, fmt.Errorf("begin: %w", wrap(err))
	}
	defer tx.Rollback()
	var uses int
	var expires int64
	err = tx.QueryRowContext(ctx, `SELECT site, role, uses_left, expires_at FROM enroll_codes WHERE code_hash = ?`, codeHash).
		Scan(&d.SiteID, &d.Role, &uses, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return server.Device{}, server.ErrInvalidCode
	}
	if err != nil {
		return server.Device{}, fmt.Errorf("read code: %w", wrap(err))
	}
	if uses <= 0 || expires <= now {
		return server.Device{}, server.ErrInvalidCode
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enroll_codes SET uses_left = uses_left - 1 WHERE code_hash = ?`, codeHash); err != nil {
		return server.Device{}, fmt.Errorf("use code: %w", wrap(err))
	}
	d.CreatedAt = now
	if _, err := tx.ExecContext(ctx, `INSERT INTO devices(id, site, name, role, platform, token_hash, created_at, last_seen)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.SiteID, d.Name, d.Role, d.Platform, d.TokenHash, d.CreatedAt, now); err != nil {
		return server.Device{}, fmt.Errorf("insert device: %w", wrap(err))
	}
	d.LastSeen = now
	if err := tx.Commit(); err != nil {
		return server.Device{}, fmt.Errorf("commit enroll: %w", wrap(err))
	}
	return d, nil
}

const deviceCols = `id, site, name, role, platform, token_hash, created_at, last_seen, cursor, committed, pass_horizon, revoked_at, verified, verified_at`

func scanDevice(sc rowscan.Scanner) (server.Device, error) {
	var d server.Device
	err := sc.Scan(&d.ID, &d.SiteID, &d.Name, &d.Role, &d.Platform, &d.TokenHash, &d.CreatedAt, &d.LastSeen, &d.Cursor, &d.Committed, &d.PassHorizon, &d.RevokedAt, &d.Verified, &d.VerifiedAt)
	return d, wrap(err)
}

// DeviceByTokenHash finds a device by its token's hash.
func (s *Store) DeviceByTokenHash(ctx context.Context, hash string) (server.Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE token_hash = ?`, hash))
}

// ListDevices lists devices of one site or all.
func (s *Store) ListDevices(ctx context.Context, site string) ([]server.Device, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE ? = '' OR site = ? ORDER BY site, created_at, id`, site, site)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanDevice)
	return out, wrap(err)
}

// RevokeDevice marks a device revoked; the first revocation time is kept.
func (s *Store) RevokeDevice(ctx context.Context, id string, at int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, at, id)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return server.ErrNotFound
	}
	return nil
}

// TouchDevice records when the device was last seen.
func (s *Store) TouchDevice(ctx context.Context, id string, lastSeen int64) error {
	_, err := s.w.ExecContext(ctx, `UPDATE devices SET last_seen = max(last_seen, ?) WHERE id = ?`, lastSeen, id)
	return wrap(err)
}

// RecordPull records a device's pull.
func (s *Store) RecordPull(ctx context.Context, id string, p server.PullRecord) error {
	verified, has := int64(0), p.Verified != nil
	if has {
		verified = *p.Verified
	}
	_, err := s.w.ExecContext(ctx, `UPDATE devices SET last_seen = max(last_seen, ?), cursor = ?, committed = ?,
		pass_horizon = CASE ? WHEN 1 THEN ? WHEN 2 THEN -1 ELSE pass_horizon END,
		verified = CASE WHEN ? THEN ? ELSE verified END, verified_at = CASE WHEN ? THEN ? ELSE verified_at END WHERE id = ?`,
		p.LastSeen, p.Cursor, p.Committed, int(p.Pass), p.PassHorizon, has, verified, has, p.LastSeen, id)
	return wrap(err)
}

// TakeEnrollSlot records a failure unless the address has limit of them
// since since: one statement on the single writer connection, atomic.
func (s *Store) TakeEnrollSlot(ctx context.Context, addr string, at, since int64, limit int) (int64, bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO enroll_failures(addr, at) SELECT ?, ?
		WHERE (SELECT count(*) FROM enroll_failures WHERE addr = ? AND at >= ?) < ?`, addr, at, addr, since, limit)
	if err != nil {
		return 0, false, wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	slot, err := res.LastInsertId()
	return slot, err == nil, wrap(err)
}

// ReleaseEnrollSlot removes a slot.
func (s *Store) ReleaseEnrollSlot(ctx context.Context, slot int64) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM enroll_failures WHERE rowid = ?`, slot)
	return wrap(err)
}

// EnrollFailures counts recent failures of one address.
func (s *Store) EnrollFailures(ctx context.Context, addr string, since int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM enroll_failures WHERE addr = ? AND at >= ?`, addr, since).Scan(&n)
	return n, wrap(err)
}

// DeleteExpired drops old batch records, throttle entries and codes.
func (s *Store) DeleteExpired(ctx context.Context, batchesBefore, failuresBefore, now int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM batches WHERE created_at < ?`, batchesBefore},
		{`DELETE FROM enroll_failures WHERE at < ?`, failuresBefore},
		{`DELETE FROM enroll_codes WHERE expires_at < ?`, now},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
			return wrap(err)
		}
	}
	return wrap(tx.Commit())
}

// Tx is one write transaction of one site: a savepoint of a group.
// Statements run with the caller's values but never its cancellation: an
// interrupted statement could roll back the whole group.
type Tx struct {
	tx   sqlTx
	g    *group
	done bool
	site string
	s    *Store
	// seq is the site's sequence as this transaction advanced it (-1 until
	// read). The transaction holds the database write lock, so the counter
	// row is read once and written back once, at commit.
	seq, stored int64
	// sums are the checksum changes of this transaction (AddSum), written
	// at Commit.
	sums checksum.Pending
}

var (
	_ server.Tx           = (*Tx)(nil)
	_ server.OtherWriters = (*Tx)(nil)
)

func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	return t.tx.StmtContext(ctx, t.s.stmts[q])
}

// NextSeq advances the site's counter row (written back at Commit).
func (t *Tx) NextSeq(ctx context.Context) (int64, error) {
	ctx = context.WithoutCancel(ctx)
	if _, err := t.Seq(ctx); err != nil {
		return 0, err
	}
	t.seq++
	return t.seq, nil
}

// Seq returns the site's sequence as this transaction advanced it.
func (t *Tx) Seq(ctx context.Context) (int64, error) {
	ctx = context.WithoutCancel(ctx)
	if t.seq < 0 {
		if err := t.stmt(ctx, qSeq).QueryRowContext(ctx, t.site).Scan(&t.seq); err != nil {
			return 0, wrap(err)
		}
		t.stored = t.seq
	}
	return t.seq, nil
}

// Timeline returns the database's timeline id.
func (t *Tx) Timeline(ctx context.Context) (string, error) {
	ctx = context.WithoutCancel(ctx)
	var tl string
	err := t.tx.QueryRowContext(ctx, `SELECT timeline FROM server_info`).Scan(&tl)
	return tl, wrap(err)
}

// GetRow reads a row's current state.
func (t *Tx) GetRow(ctx context.Context, table, id string) (server.StoredRow, error) {
	ctx = context.WithoutCancel(ctx)
	return scanRow(t.stmt(ctx, qGetRow).QueryRowContext(ctx, t.site, table, id))
}

// GetVersion reads one version of a row.
func (t *Tx) GetVersion(ctx context.Context, table, id string, version int64) (server.StoredRow, error) {
	ctx = context.WithoutCancel(ctx)
	return scanRow(t.stmt(ctx, qGetVersion).QueryRowContext(ctx, version, t.site, table, id))
}

// HLCsHeld reports which of writes the rows' stored histories hold: the
// rows by their key, then each one's history by (rid, version), the
// primary key's range of that row (qHLCsHeld), up to 500 rows a statement.
func (t *Tx) HLCsHeld(ctx context.Context, table string, writes []server.RowHLC) (map[server.RowHLC]bool, error) {
	ctx = context.WithoutCancel(ctx)
	want := make(map[server.RowHLC]bool, len(writes))
	ids := make([]string, 0, len(writes))
	for _, w := range writes {
		if !want[w] {
			want[w] = true
			ids = append(ids, w.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := map[server.RowHLC]bool{}
	err := t.inChunks(ctx, qHLCsHeld, table, ids, func(rs *sql.Rows) error {
		var w server.RowHLC
		err := rs.Scan(&w.ID, &w.HLC)
		if want[w] {
			out[w] = true
		}
		return err
	})
	return out, err
}

// WrittenByOthers reports whether a device other than deviceID, or a
// conflict resolution, wrote the row at a version greater than after
// (server.OtherWriters). A resolution's version has the hlc of its
// resolved conflict record of the row (the record's current state).
func (t *Tx) WrittenByOthers(ctx context.Context, table, id string, after int64, deviceID string) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM rows r JOIN row_versions v ON v.rid = r.rid
		WHERE r.site = ? AND r.tbl = ? AND r.id = ? AND v.version > ? AND (v.device_id <> ?
			OR EXISTS (SELECT 1 FROM rows c WHERE c.site = r.site AND c.tbl = 'sync_conflicts' AND c.hlc = v.hlc
				AND json_extract(c.data, '$.row_id') = r.id AND json_extract(c.data, '$.status') = 'resolved')) LIMIT 1`,
		t.site, table, id, after, deviceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap(err)
}

// PutRow replaces the current state and appends to the history.
func (t *Tx) PutRow(ctx context.Context, r server.StoredRow) error {
	ctx = context.WithoutCancel(ctx)
	data := string(r.Data)
	res, err := t.stmt(ctx, qInsertRow).ExecContext(ctx, t.site, r.Table, r.ID, r.Version, r.HLC, r.DeviceID, r.Deleted, data, r.Bucket)
	if err != nil {
		return wrap(err)
	}
	var rid int64
	if n, _ := res.RowsAffected(); n == 1 {
		if rid, err = res.LastInsertId(); err != nil {
			return wrap(err)
		}
	} else {
		if err := t.stmt(ctx, qRowID).QueryRowContext(ctx, t.site, r.Table, r.ID).Scan(&rid); err != nil {
			return wrap(err)
		}
		if _, err := t.stmt(ctx, qUpdateRow).ExecContext(ctx, r.Version, r.HLC, r.DeviceID, r.Deleted, data, rid); err != nil {
			return wrap(err)
		}
	}
	_, err = t.stmt(ctx, qPutVersion).ExecContext(ctx, rid, r.Version, t.site, r.Table, r.ID, r.HLC, r.DeviceID, data)
	return wrap(err)
}

// GetRows reads the current states of many rows of one table.
func (t *Tx) GetRows(ctx context.Context, table string, ids []string) (map[string]server.StoredRow, error) {
	ctx = context.WithoutCancel(ctx)
	out := make(map[string]server.StoredRow, len(ids))
	err := t.inChunks(ctx, `SELECT `+rowCols+` FROM rows WHERE site = ? AND tbl = ? AND id IN `, table, ids, func(rs *sql.Rows) error {
		r, err := scanRow(rs)
		out[r.ID] = r
		return err
	})
	return out, err
}

// Purged reports which ids were purged tombstones.
func (t *Tx) Purged(ctx context.Context, table string, ids []string) (map[string]bool, error) {
	ctx = context.WithoutCancel(ctx)
	out := map[string]bool{}
	err := t.inChunks(ctx, `SELECT id FROM purged WHERE site = ? AND tbl = ? AND id IN `, table, ids, func(rs *sql.Rows) error {
		var id string
		err := rs.Scan(&id)
		out[id] = true
		return err
	})
	return out, err
}

// inChunks runs query (ending in "IN ") with the site, the table and up to
// 500 ids at a time, calling each for every result row.
func (t *Tx) inChunks(ctx context.Context, query, table string, ids []string, each func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, 0, n+2)
		args = append(args, t.site, table)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		rs, err := t.tx.QueryContext(ctx, query+"(?"+strings.Repeat(",?", n-1)+")", args...)
		if err != nil {
			return wrap(err)
		}
		for rs.Next() {
			if err := each(rs); err != nil {
				rs.Close()
				return wrap(err)
			}
		}
		if err := rs.Close(); err != nil {
			return wrap(err)
		}
		if err := rs.Err(); err != nil {
			return wrap(err)
		}
		ids = ids[n:]
	}
	return nil
}

// GetBatch reads a stored push response.
func (t *Tx) GetBatch(ctx context.Context, deviceID, batchID string) ([]byte, error) {
	ctx = context.WithoutCancel(ctx)
	var b []byte
	err := t.stmt(ctx, qGetBatch).QueryRowContext(ctx, deviceID, batchID).Scan(&b)
	return b, wrap(err)
}

// PutBatch stores a push response.
func (t *Tx) PutBatch(ctx context.Context, deviceID, batchID string, response []byte, at int64) error {
	ctx = context.WithoutCancel(ctx)
	_, err := t.stmt(ctx, qPutBatch).ExecContext(ctx, deviceID, batchID, t.site, response, at)
	return wrap(err)
}

// Meta reads a key of the site, this transaction's writes included.
func (t *Tx) Meta(ctx context.Context, key string) ([]byte, error) {
	ctx = context.WithoutCancel(ctx)
	return scanMeta(t.tx.QueryRowContext(ctx, qMeta, t.site, key))
}

// SetMeta stores (or, for nil, deletes) a key of the site.
func (t *Tx) SetMeta(ctx context.Context, key string, value []byte) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	if value == nil {
		_, err = t.tx.ExecContext(ctx, `DELETE FROM site_meta WHERE site = ? AND key = ?`, t.site, key)
	} else {
		_, err = t.tx.ExecContext(ctx, `INSERT INTO site_meta(site, key, value) VALUES(?, ?, ?)
			ON CONFLICT(site, key) DO UPDATE SET value = excluded.value`, t.site, key, value)
	}
	return wrap(err)
}

// Pin keeps row versions for a conflict.
func (t *Tx) Pin(ctx context.Context, conflictID, table, id string, versions ...int64) error {
	ctx = context.WithoutCancel(ctx)
	for _, v := range versions {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO pins(site, conflict_id, tbl, id, version) VALUES(?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, t.site, conflictID, table, id, v); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// Unpin releases a conflict's pins.
func (t *Tx) Unpin(ctx context.Context, conflictID string) error {
	ctx = context.WithoutCancel(ctx)
	_, err := t.tx.ExecContext(ctx, `DELETE FROM pins WHERE site = ? AND conflict_id = ?`, t.site, conflictID)
	return wrap(err)
}

// PurgeTombstones removes old unpinned tombstones and raises the horizon.
func (t *Tx) PurgeTombstones(ctx context.Context, upTo int64) (int, error) {
	ctx = context.WithoutCancel(ctx)
	const victims = `FROM rows AS r WHERE r.site = ? AND r.deleted = 1 AND r.version <= ?
		AND NOT EXISTS (SELECT 1 FROM pins p WHERE p.site = r.site AND p.tbl = r.tbl AND p.id = r.id)`
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO purged(site, tbl, id, version) SELECT r.site, r.tbl, r.id, r.version `+victims+`
		ON CONFLICT(site, tbl, id) DO UPDATE SET version = excluded.version`, t.site, upTo); err != nil {
		return 0, wrap(err)
	}
	var maxV sql.NullInt64
	if err := t.tx.QueryRowContext(ctx, `SELECT max(r.version) `+victims, t.site, upTo).Scan(&maxV); err != nil {
		return 0, wrap(err)
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM row_versions WHERE rid IN (SELECT r.rid `+victims+`)`, t.site, upTo); err != nil {
		return 0, wrap(err)
	}
	res, err := t.tx.ExecContext(ctx, `DELETE `+victims, t.site, upTo)
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	if maxV.Valid {
		if _, err := t.tx.ExecContext(ctx, `UPDATE sites SET horizon = max(horizon, ?) WHERE site = ?`, maxV.Int64, t.site); err != nil {
			return 0, wrap(err)
		}
	}
	return int(n), nil
}

// PurgeVersions removes superseded, unpinned history versions.
func (t *Tx) PurgeVersions(ctx context.Context, upTo int64) (int, error) {
	ctx = context.WithoutCancel(ctx)
	res, err := t.tx.ExecContext(ctx, `DELETE FROM row_versions WHERE site = ? AND version <= ?
		AND version < (SELECT r.version FROM rows r WHERE r.rid = row_versions.rid)
		AND NOT EXISTS (SELECT 1 FROM pins p WHERE p.site = row_versions.site AND p.tbl = row_versions.tbl
		  AND p.id = row_versions.id AND p.version = row_versions.version)`, t.site, upTo)
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Commit writes the sequence back, releases the savepoint and returns once
// the group it belongs to is durably committed.
func (t *Tx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	g, s := t.g, t.s
	ctx := context.Background()
	if err := t.writeSums(ctx); err != nil {
		t.undo()
		return err
	}
	if t.seq > t.stored {
		if _, err := t.stmt(ctx, qSetSeq).ExecContext(ctx, t.seq, t.site); err != nil {
			t.undo()
			return fmt.Errorf("store sequence: %w", wrap(err))
		}
	}
	if _, err := g.tx.ExecContext(ctx, "RELEASE batch"); err != nil {
		s.endGroup(g, err)
		s.release()
		return fmt.Errorf("release savepoint: %w", wrap(err))
	}
	g.members++
	s.handOff(g)
	return s.wait(g)
}

// Rollback abandons the transaction; after Commit it does nothing.
func (t *Tx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	return t.undo()
}

// undo rolls back to the savepoint and ends the turn; the group's other
// members are unaffected.
func (t *Tx) undo() error {
	g, s := t.g, t.s
	ctx := context.Background()
	_, err := g.tx.ExecContext(ctx, "ROLLBACK TO batch")
	if err == nil {
		_, err = g.tx.ExecContext(ctx, "RELEASE batch")
	}
	if err != nil {
		s.endGroup(g, err)
		s.release()
		return wrap(err)
	}
	if g.members == 0 && s.cur == g {
		// Nothing of anyone's to commit: end the SQLite transaction.
		g.tx.Rollback()
		s.cur = nil
		close(g.done)
		s.release()
		return nil
	}
	s.handOff(g)
	return nil
}
