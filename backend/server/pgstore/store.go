// Package pgstore is the sync server's storage on PostgreSQL 13 or later
// (github.com/jackc/pgx/v5), for several server processes sharing one
// database behind a load balancer.
//
// A site's write lock is its row in table sites, locked first in every write
// transaction (SELECT … FOR NO KEY UPDATE) and held until commit, so the
// site's change sequence is handed out in commit order across processes.
// Transactions run at READ COMMITTED: every statement after the lock sees
// what the previous holder committed (a repeated batch finds its record).
// Writes that advance a sequence send NOTIFY in the same transaction, so the
// event streams of every process wake at commit (see Listen).
//
// The schema lives in the first schema of the connection's search_path
// (add ?search_path=NAME to the URL to pick one) and is migrated at Open
// under an advisory lock, so instances may start at the same time.
package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/outpost-app/outpost/backend/internal/rowscan"
	"github.com/outpost-app/outpost/backend/server"
)

// Defaults of Options.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 30 * time.Second
	DefaultConnectTimeout   = 10 * time.Second
	// DefaultIdleInTxTimeout ends a session that sits idle inside a
	// transaction (a frozen process holding a site's lock).
	DefaultIdleInTxTimeout = time.Minute
)

// Options tune the connection pool. Zero values take the URL's setting
// (pool_max_conns, statement_timeout, connect_timeout) or else the default.
type Options struct {
	// MaxConns bounds the pool of one server process.
	MaxConns int32
	// StatementTimeout bounds every statement, waits for a site's write
	// lock included; a statement cancelled by it is ErrUnavailable (503).
	StatementTimeout time.Duration
	// ConnectTimeout bounds establishing one connection.
	ConnectTimeout time.Duration
}

// Store is the PostgreSQL implementation of server.Store.
type Store struct {
	pool *pgxpool.Pool
	// channel is the NOTIFY channel of this schema's writes.
	channel string
	// opTimeout bounds every call (see bound), and Commit and Rollback,
	// which take no context.
	opTimeout time.Duration
	// schema is the number of migrations this build knows: a write
	// transaction on a database migrated further is refused.
	schema int
}

var (
	_ server.Store    = (*Store)(nil)
	_ server.Notifier = (*Store)(nil)
)

// Open connects to the database at url (postgres:// or postgresql://),
// checks that it answers, and creates or migrates the schema. An
// unreachable database is an error whose message says so in a sentence.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error repeats the URL, password included: keep it out.
		return nil, errors.New("the PostgreSQL URL is not valid (expected postgres://user@host:5432/dbname?sslmode=…)")
	}
	cc := cfg.ConnConfig
	rp := cc.RuntimeParams
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	stmt := o.StatementTimeout
	if stmt <= 0 {
		stmt = DefaultStatementTimeout
	}
	if o.StatementTimeout > 0 || rp["statement_timeout"] == "" {
		rp["statement_timeout"] = fmt.Sprint(stmt.Milliseconds())
	}
	if rp["idle_in_transaction_session_timeout"] == "" {
		rp["idle_in_transaction_session_timeout"] = fmt.Sprint(DefaultIdleInTxTimeout.Milliseconds())
	}
	if rp["application_name"] == "" {
		rp["application_name"] = "outpost-server"
	}
	if o.ConnectTimeout > 0 || cc.ConnectTimeout == 0 {
		ct := o.ConnectTimeout
		if ct <= 0 {
			ct = DefaultConnectTimeout
		}
		cc.ConnectTimeout = ct
		d := &net.Dialer{Timeout: ct, KeepAlive: 15 * time.Second}
		cc.DialFunc = d.DialContext
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s := &Store{pool: pool, opTimeout: stmt + 5*time.Second}
	where := fmt.Sprintf("%s:%d (database %q, user %q)", cc.Host, cc.Port, cc.Database, cc.User)
	pctx, cancel := context.WithTimeout(ctx, 2*cc.ConnectTimeout+5*time.Second)
	var schema string
	err = pool.QueryRow(pctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema)
	cancel()
	if err != nil {
		pool.Close()
		if errors.Is(wrap(err), server.ErrUnavailable) {
			return nil, unreachableError(fmt.Sprintf("the PostgreSQL database at %s cannot be reached (%s); check --db and that PostgreSQL is running",
				where, oneLine(err)))
		}
		return nil, fmt.Errorf("the PostgreSQL database at %s refused the connection (%s): check the user, password and database in --db", where, oneLine(err))
	}
	if schema == "" {
		pool.Close()
		return nil, fmt.Errorf("the PostgreSQL database at %s has no schema to create tables in: create it, or name one with ?search_path=", where)
	}
	s.channel = channelName(schema)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// unreachableError is a sentence for people that is server.ErrUnavailable
// for callers.
type unreachableError string

func (e unreachableError) Error() string { return string(e) }
func (e unreachableError) Unwrap() error { return server.ErrUnavailable }

// oneLine folds pgx's multi-line connect errors (one line per address
// tried) into one line without repeats.
func oneLine(err error) string {
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSuffix(strings.TrimSpace(l), ":")
		if l != "" && !seen[l] {
			seen[l] = true
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, ": ")
}

// channelName is the NOTIFY channel of one schema: schemas sharing a
// database (tests, several deployments) do not wake each other.
func channelName(schema string) string {
	ch := "outpost_changes:" + schema
	if len(ch) > 63 { // NAMEDATALEN-1
		sum := sha256.Sum256([]byte(schema))
		ch = "outpost_changes:" + hex.EncodeToString(sum[:12])
	}
	return ch
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// bound limits one call to opTimeout: the statement timeout is enforced by
// the database, and this also ends calls stuck on a database that stopped
// answering at all (a network partition) or on a full pool.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// Ping checks that the database answers a query, within 5 seconds.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var one int
	return wrap(s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one))
}

// SchemaVersion returns the database's migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, wrap(err)
}

const rowCols = `tbl, id, version, hlc, device_id, deleted, data, bucket`

func scanRow(sc rowscan.Scanner) (server.StoredRow, error) {
	var r server.StoredRow
	err := sc.Scan(&r.Table, &r.ID, &r.Version, &r.HLC, &r.DeviceID, &r.Deleted, &r.Data, &r.Bucket)
	return r, wrap(err)
}

func scanRows(rs pgx.Rows, err error) ([]server.StoredRow, error) {
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanRow)
	return out, wrap(err)
}

// Changes reads one page of the site's feed in one snapshot.
func (s *Store) Changes(ctx context.Context, site string, after int64, limit int) ([]server.StoredRow, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanRows(s.pool.Query(ctx, `SELECT `+rowCols+` FROM rows WHERE site = $1 AND version > $2 ORDER BY version LIMIT $3`,
		site, after, limit))
}

// ReadPage reads the site's state, the timeline and one page of the feed in
// one REPEATABLE READ, read-only transaction: one snapshot.
func (s *Store) ReadPage(ctx context.Context, site string, after int64, limit int) (server.Page, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var p server.Page
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM sites WHERE site = $1), 0),
			coalesce((SELECT horizon FROM sites WHERE site = $1), 0), (SELECT timeline FROM server_info)`, site).
			Scan(&p.State.Seq, &p.State.Horizon, &p.Timeline)
		if err != nil {
			return fmt.Errorf("read site state: %w", err)
		}
		p.Rows, err = scanRows(tx.Query(ctx, `SELECT `+rowCols+` FROM rows WHERE site = $1 AND version > $2 ORDER BY version LIMIT $3`,
			site, after, limit))
		if err != nil || len(p.Rows) >= limit {
			return err
		}
		p.Sums, err = scanSums(tx.Query(ctx, `SELECT tbl, cnt, sum FROM checksums WHERE site = $1 AND bucket = '' AND cnt <> 0`, site))
		if err != nil {
			return fmt.Errorf("read checksums: %w", err)
		}
		return nil
	})
	if err != nil {
		return server.Page{}, wrap(err)
	}
	return p, nil
}

// Timeline returns the database's timeline id.
func (s *Store) Timeline(ctx context.Context) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var tl string
	err := s.pool.QueryRow(ctx, `SELECT timeline FROM server_info`).Scan(&tl)
	return tl, wrap(err)
}

// Restored sets a new timeline and forgets every device's position, in one
// transaction.
func (s *Store) Restored(ctx context.Context, timeline string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE server_info SET timeline = $1`, timeline); err != nil {
			return fmt.Errorf("set timeline: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET committed = 0, pass_horizon = -1`); err != nil {
			return fmt.Errorf("forget device positions: %w", err)
		}
		return nil
	}))
}

// SiteState returns the site's sequence and horizon.
func (s *Store) SiteState(ctx context.Context, site string) (server.SiteState, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var st server.SiteState
	err := s.pool.QueryRow(ctx, `SELECT seq, horizon FROM sites WHERE site = $1`, site).Scan(&st.Seq, &st.Horizon)
	if errors.Is(err, pgx.ErrNoRows) {
		return server.SiteState{}, nil
	}
	return st, wrap(err)
}

// History returns every stored version of a row.
func (s *Store) History(ctx context.Context, site, table, id string) ([]server.StoredRow, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanRows(s.pool.Query(ctx, `SELECT tbl, id, version, hlc, device_id, false, data, '' FROM row_versions
		WHERE site = $1 AND tbl = $2 AND id = $3 ORDER BY version`, site, table, id))
}

// Writes returns a page of the site's stored versions, oldest first, in one
// statement (one snapshot of committed data): a range of row_versions_site
// (site, version), each version's bucket from its row by the row's key.
// Versions become visible in version order (the site's lock is held until
// commit), as for Changes.
func (s *Store) Writes(ctx context.Context, site string, after int64, limit int) ([]server.StoredRow, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanRows(s.pool.Query(ctx, qWrites, site, after, limit))
}

// qWrites is Writes' query (TestWrites_RangeOfTheSiteIndex).
const qWrites = `SELECT v.tbl, v.id, v.version, v.hlc, v.device_id, false, v.data, r.bucket FROM row_versions v
	JOIN rows r ON r.site = v.site AND r.tbl = v.tbl AND r.id = v.id
	WHERE v.site = $1 AND v.version > $2 ORDER BY v.version LIMIT $3`

const qMeta = `SELECT value FROM site_meta WHERE site = $1 AND key = $2`

// Meta reads one committed key of a site.
func (s *Store) Meta(ctx context.Context, site, key string) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanMeta(s.pool.QueryRow(ctx, qMeta, site, key))
}

func scanMeta(row pgx.Row) ([]byte, error) {
	var v []byte
	if err := row.Scan(&v); err != nil {
		return nil, wrap(err)
	}
	if v == nil {
		v = []byte{} // an empty value is a value (only an absent key is ErrNotFound)
	}
	return v, nil
}

// MetaPrefix reads the committed keys of a site beginning with prefix, in
// one statement (one snapshot): a range of site_meta's primary key.
func (s *Store) MetaPrefix(ctx context.Context, site, prefix string) (map[string][]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q, args := `SELECT key, value FROM site_meta WHERE site = $1 AND key >= $2`, []any{site, prefix}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND key < $3`
		args = append(args, end)
	}
	rs, err := s.pool.Query(ctx, q, args...)
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

// prefixEnd returns the least string greater than every string beginning
// with prefix, in code point order (which is the byte order of UTF-8, and
// so COLLATE "C"'s): prefix with its last character replaced by the next
// one; ok is false when there is none (prefix is empty, or every string at
// or above it begins with it) or prefix is not UTF-8.
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var site string
	err := s.pool.QueryRow(ctx, `SELECT site FROM rows WHERE tbl = 'sync_conflicts' AND id = $1 LIMIT 1`, id).Scan(&site)
	return site, wrap(err)
}

// Sites lists every site.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rs, err := s.pool.Query(ctx, `SELECT site FROM sites ORDER BY site`)
	if err != nil {
		return nil, wrap(err)
	}
	out, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, wrap(err)
}

const qEnsureSite = `INSERT INTO sites(site, created_at) VALUES($1, $2) ON CONFLICT (site) DO NOTHING`

// CreateEnrollCode stores a code's hash, creating its site.
func (s *Store) CreateEnrollCode(ctx context.Context, c server.EnrollCode) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, qEnsureSite, c.SiteID, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("ensure site: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO enroll_codes(code_hash, site, role, uses_left, expires_at, created_at)
			VALUES($1, $2, $3, $4, $5, $6)`, c.Hash, c.SiteID, c.Role, c.Uses, c.ExpiresAt, c.CreatedAt); err != nil {
			return fmt.Errorf("insert code: %w", err)
		}
		return nil
	}))
}

// Enroll consumes one use of a code and creates the device, atomically:
// concurrent enrollments on several processes never overuse a code.
func (s *Store) Enroll(ctx context.Context, codeHash string, d server.Device, now int64) (server.Device, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE enroll_codes SET uses_left = uses_left - 1
			WHERE code_hash = $1 AND uses_left > 0 AND expires_at > $2 RETURNING site, role`, codeHash, now).
			Scan(&d.SiteID, &d.Role)
		if errors.Is(err, pgx.ErrNoRows) {
			return server.ErrInvalidCode
		}
		if err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		d.CreatedAt, d.LastSeen = now, now
		if _, err := tx.Exec(ctx, `INSERT INTO devices(id, site, name, role, platform, token_hash, created_at, last_seen)
			VALUES($1, $2, $3, $4, $5, $6, $7, $8)`, d.ID, d.SiteID, []byte(d.Name), d.Role, []byte(d.Platform), d.TokenHash, now, now); err != nil {
			return fmt.Errorf("insert device: %w", err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, server.ErrInvalidCode) {
			return server.Device{}, err
		}
		return server.Device{}, wrap(err)
	}
	return d, nil
}

const deviceCols = `id, site, name, role, platform, token_hash, created_at, last_seen, cursor, committed, pass_horizon, revoked_at, verified, verified_at`

func scanDevice(sc rowscan.Scanner) (server.Device, error) {
	var d server.Device
	var name, platform []byte
	err := sc.Scan(&d.ID, &d.SiteID, &name, &d.Role, &platform, &d.TokenHash, &d.CreatedAt, &d.LastSeen, &d.Cursor, &d.Committed, &d.PassHorizon, &d.RevokedAt, &d.Verified, &d.VerifiedAt)
	d.Name, d.Platform = string(name), string(platform)
	return d, wrap(err)
}

// DeviceByTokenHash finds a device by its token's hash.
func (s *Store) DeviceByTokenHash(ctx context.Context, hash string) (server.Device, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE token_hash = $1`, hash))
}

// ListDevices lists devices of one site or all.
func (s *Store) ListDevices(ctx context.Context, site string) ([]server.Device, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rs, err := s.pool.Query(ctx, `SELECT `+deviceCols+` FROM devices WHERE $1 = '' OR site = $1 ORDER BY site, created_at, id`, site)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanDevice)
	return out, wrap(err)
}

// RevokeDevice marks a device revoked; the first revocation time is kept.
func (s *Store) RevokeDevice(ctx context.Context, id string, at int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END WHERE id = $2`, at, id)
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return server.ErrNotFound
	}
	return nil
}

// TouchDevice records when the device was last seen.
func (s *Store) TouchDevice(ctx context.Context, id string, lastSeen int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE devices SET last_seen = greatest(last_seen, $1) WHERE id = $2`, lastSeen, id)
	return wrap(err)
}

// RecordPull records a device's pull.
func (s *Store) RecordPull(ctx context.Context, id string, p server.PullRecord) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	verified, has := int64(0), p.Verified != nil
	if has {
		verified = *p.Verified
	}
	_, err := s.pool.Exec(ctx, `UPDATE devices SET last_seen = greatest(last_seen, $1), cursor = $2, committed = $3,
		pass_horizon = CASE $4::int WHEN 1 THEN $5::bigint WHEN 2 THEN -1 ELSE pass_horizon END,
		verified = CASE WHEN $7::boolean THEN $8::bigint ELSE verified END,
		verified_at = CASE WHEN $7::boolean THEN $1::bigint ELSE verified_at END WHERE id = $6`,
		p.LastSeen, p.Cursor, p.Committed, int(p.Pass), p.PassHorizon, id, has, verified)
	return wrap(err)
}

// enrollLockClass is the first key of the advisory locks that serialise
// the enrollment attempts of one address ("OUTE").
const enrollLockClass int32 = 0x4f555445

// TakeEnrollSlot records a failure unless the address has limit of them
// since since. The count and the insert run under a transaction-scoped
// advisory lock of the address, so parallel attempts on any process queue
// and never pass the limit.
func (s *Store) TakeEnrollSlot(ctx context.Context, addr string, at, since int64, limit int) (int64, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var slot int64
	ok := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, enrollLockClass, addr); err != nil {
			return fmt.Errorf("lock address: %w", err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO enroll_failures(addr, at) SELECT $1, $2
			WHERE (SELECT count(*) FROM enroll_failures WHERE addr = $1 AND at >= $3) < $4 RETURNING id`,
			addr, at, since, limit).Scan(&slot)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take slot: %w", err)
		}
		ok = true
		return nil
	})
	if err != nil {
		return 0, false, wrap(err)
	}
	return slot, ok, nil
}

// ReleaseEnrollSlot removes a slot.
func (s *Store) ReleaseEnrollSlot(ctx context.Context, slot int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `DELETE FROM enroll_failures WHERE id = $1`, slot)
	return wrap(err)
}

// EnrollFailures counts recent failures of one address.
func (s *Store) EnrollFailures(ctx context.Context, addr string, since int64) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM enroll_failures WHERE addr = $1 AND at >= $2`, addr, since).Scan(&n)
	return n, wrap(err)
}

// DeleteExpired drops old batch records, throttle entries and codes.
func (s *Store) DeleteExpired(ctx context.Context, batchesBefore, failuresBefore, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM batches WHERE created_at < $1`, batchesBefore)
		b.Queue(`DELETE FROM enroll_failures WHERE at < $1`, failuresBefore)
		b.Queue(`DELETE FROM enroll_codes WHERE expires_at < $1`, now)
		return tx.SendBatch(ctx, b).Close()
	}))
}
