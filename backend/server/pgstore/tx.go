package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/server"
)

// Tx is one write transaction of one site, holding the site's row lock.
type Tx struct {
	s *Store
	// conn is the pooled connection in a transaction: BEGIN and COMMIT are
	// sent by this type, each pipelined with the statements beside it (one
	// round trip for BEGIN and the lock, one for the last writes and COMMIT).
	conn *pgxpool.Conn
	done bool // committed or rolled back; conn released
	site string
	// seq is the site's sequence as this transaction advanced it; stored is
	// the value read under the lock. The counter row is written back once,
	// at Commit.
	seq, stored int64
	// timeline is the database's timeline, read with the lock.
	timeline string
	// queued holds writes not sent yet: they go in one round trip before
	// the next read and at Commit, so a push of many rows costs a few
	// round trips, not two per row. An error of a queued write surfaces
	// at that flush, and fails the transaction all the same.
	queued *pgx.Batch
	// rows are the queued PutRow states, written by two multi-row
	// statements at the flush.
	rows []server.StoredRow
	// sums are the checksum changes of this transaction (AddSum), written
	// at Commit.
	sums checksum.Pending
}

var (
	_ server.Tx           = (*Tx)(nil)
	_ server.OtherWriters = (*Tx)(nil)
)

const (
	qLockSite = `SELECT seq, (SELECT timeline FROM server_info), (SELECT max(version) FROM schema_migrations)
		FROM sites WHERE site = $1 FOR NO KEY UPDATE`
	qGetRow  = `SELECT ` + rowCols + ` FROM rows WHERE site = $1 AND tbl = $2 AND id = $3`
	qPutRows = `INSERT INTO rows(site, tbl, id, version, hlc, device_id, deleted, data, bucket)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::bytea[], $9::text[])
		ON CONFLICT (site, tbl, id) DO UPDATE SET version = excluded.version, hlc = excluded.hlc,
		  device_id = excluded.device_id, deleted = excluded.deleted, data = excluded.data`
	qPutVersions = `INSERT INTO row_versions(site, tbl, id, version, hlc, device_id, data)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bytea[])`
)

// Begin starts a READ COMMITTED transaction and, as its first statement,
// locks the site's counter row (creating the site when unknown). Writers of
// one site queue on that lock across every process; the lock is held until
// commit, so sequence numbers become visible in the order they were handed
// out. FOR NO KEY UPDATE excludes other writers exactly like FOR UPDATE but
// lets enrollments (foreign keys to sites) proceed meanwhile.
func (s *Store) Begin(ctx context.Context, site string) (server.Tx, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", wrap(err))
	}
	t := &Tx{s: s, conn: conn, site: site}
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(qLockSite, site)
	br := conn.SendBatch(ctx, b)
	var schema int
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&t.seq, &t.timeline, &schema)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err = conn.Exec(ctx, qEnsureSite, site, time.Now().UnixMilli()); err == nil {
			err = conn.QueryRow(ctx, qLockSite, site).Scan(&t.seq, &t.timeline, &schema)
		}
	}
	if err == nil && schema > s.schema {
		err = fmt.Errorf("%w (version %d, this server's %d)", server.ErrSchemaTooNew, schema, s.schema)
	}
	if err != nil {
		t.Rollback()
		return nil, fmt.Errorf("lock site: %w", wrap(err))
	}
	t.stored = t.seq
	return t, nil
}

// queue adds a write to the next flush.
func (t *Tx) queue(sql string, args ...any) {
	if t.queued == nil {
		t.queued = &pgx.Batch{}
	}
	t.queued.Queue(sql, args...)
}

// flush sends the queued writes, so that reads see them.
func (t *Tx) flush(ctx context.Context) error {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	t.rowsFirst()
	if t.queued == nil || t.queued.Len() == 0 {
		return nil
	}
	b := t.queued
	t.queued = nil
	if err := t.conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write: %w", wrap(err))
	}
	return nil
}

// rowsFirst moves the queued rows into the queue, ahead of the other
// queued writes.
func (t *Tx) rowsFirst() {
	if len(t.rows) == 0 {
		return
	}
	b := &pgx.Batch{}
	t.queueRows(b)
	if t.queued != nil {
		for _, q := range t.queued.QueuedQueries {
			b.Queue(q.SQL, q.Arguments...)
		}
	}
	t.queued, t.rows = b, nil
}

// NextSeq advances the site's counter (written back at Commit).
func (t *Tx) NextSeq(ctx context.Context) (int64, error) {
	t.seq++
	return t.seq, nil
}

// Seq returns the site's sequence as this transaction advanced it.
func (t *Tx) Seq(ctx context.Context) (int64, error) { return t.seq, nil }

// Timeline returns the database's timeline, read with the site's lock.
func (t *Tx) Timeline(ctx context.Context) (string, error) { return t.timeline, nil }

// GetRow reads a row's current state.
func (t *Tx) GetRow(ctx context.Context, table, id string) (server.StoredRow, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return server.StoredRow{}, err
	}
	return scanRow(t.conn.QueryRow(ctx, qGetRow, t.site, table, id))
}

// GetVersion reads one version of a row.
func (t *Tx) GetVersion(ctx context.Context, table, id string, version int64) (server.StoredRow, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return server.StoredRow{}, err
	}
	return scanRow(t.conn.QueryRow(ctx, `SELECT tbl, id, version, hlc, device_id, false, data, '' FROM row_versions
		WHERE site = $1 AND tbl = $2 AND id = $3 AND version = $4`, t.site, table, id, version))
}

// HLCsHeld reports which of writes the rows' stored histories hold (this
// transaction's writes included), in one statement: for each write, an
// index scan of its row's range of the history's primary key (site, tbl,
// id, version).
func (t *Tx) HLCsHeld(ctx context.Context, table string, writes []server.RowHLC) (map[server.RowHLC]bool, error) {
	out := map[server.RowHLC]bool{}
	if len(writes) == 0 {
		return out, nil
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	ids, hlcs := make([]string, len(writes)), make([]string, len(writes))
	for i, w := range writes {
		ids[i], hlcs[i] = w.ID, w.HLC
	}
	rs, err := t.conn.Query(ctx, `SELECT k.id, k.hlc FROM unnest($3::text[], $4::text[]) AS k(id, hlc)
		WHERE EXISTS (SELECT 1 FROM row_versions v WHERE v.site = $1 AND v.tbl = $2 AND v.id = k.id AND v.hlc = k.hlc)`,
		t.site, table, ids, hlcs)
	if err != nil {
		return nil, wrap(err)
	}
	defer rs.Close()
	for rs.Next() {
		var w server.RowHLC
		if err := rs.Scan(&w.ID, &w.HLC); err != nil {
			return nil, wrap(err)
		}
		out[w] = true
	}
	return out, wrap(rs.Err())
}

// WrittenByOthers reports whether a device other than deviceID, or a
// conflict resolution, wrote the row at a version greater than after, in
// the stored history (this transaction's writes included): the engine's
// optional server.OtherWriters. A resolution's version has the hlc of its
// resolved conflict record of the row (the record's current state).
func (t *Tx) WrittenByOthers(ctx context.Context, table, id string, after int64, deviceID string) (bool, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return false, err
	}
	var yes bool
	err := t.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM row_versions v
		WHERE v.site = $1 AND v.tbl = $2 AND v.id = $3 AND v.version > $4 AND (v.device_id <> $5
			OR EXISTS (SELECT 1 FROM rows c WHERE c.site = $1 AND c.tbl = 'sync_conflicts' AND c.hlc = v.hlc
				AND convert_from(c.data, 'UTF8')::jsonb ->> 'row_id' = $3
				AND convert_from(c.data, 'UTF8')::jsonb ->> 'status' = 'resolved')))`,
		t.site, table, id, after, deviceID).Scan(&yes)
	return yes, wrap(err)
}

// PutRow replaces the current state and appends to the history (queued).
func (t *Tx) PutRow(ctx context.Context, r server.StoredRow) error {
	t.rows = append(t.rows, r)
	return nil
}

// queueRows adds the statements writing the queued rows to b: every state
// to the history, the last state of each row as its current one (one
// statement may not upsert a row twice).
func (t *Tx) queueRows(b *pgx.Batch) {
	n := len(t.rows)
	var (
		tbl, id, hlc, dev     = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		ver                   = make([]int64, 0, n)
		data                  = make([][]byte, 0, n)
		cTbl, cID, cHLC, cDev []string
		cVer                  []int64
		cDel                  []bool
		cBucket               []string
		cData                 [][]byte
		last                  = make(map[[2]string]int, n)
	)
	for i, r := range t.rows {
		tbl, id, ver, hlc, dev, data = append(tbl, r.Table), append(id, r.ID), append(ver, r.Version), append(hlc, r.HLC), append(dev, r.DeviceID), append(data, r.Data)
		last[[2]string{r.Table, r.ID}] = i
	}
	for i, r := range t.rows {
		if last[[2]string{r.Table, r.ID}] != i {
			continue
		}
		cTbl, cID, cVer, cHLC, cDev, cDel, cData = append(cTbl, r.Table), append(cID, r.ID), append(cVer, r.Version),
			append(cHLC, r.HLC), append(cDev, r.DeviceID), append(cDel, r.Deleted), append(cData, r.Data)
		cBucket = append(cBucket, r.Bucket)
	}
	b.Queue(qPutRows, t.site, cTbl, cID, cVer, cHLC, cDev, cDel, cData, cBucket)
	b.Queue(qPutVersions, t.site, tbl, id, ver, hlc, dev, data)
}

// GetRows reads the current states of many rows of one table in one round
// trip.
func (t *Tx) GetRows(ctx context.Context, table string, ids []string) (map[string]server.StoredRow, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := scanRows(t.conn.Query(ctx, `SELECT `+rowCols+` FROM rows WHERE site = $1 AND tbl = $2 AND id = ANY($3::text[])`,
		t.site, table, ids))
	if err != nil {
		return nil, err
	}
	out := make(map[string]server.StoredRow, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// Purged reports which ids were purged tombstones.
func (t *Tx) Purged(ctx context.Context, table string, ids []string) (map[string]bool, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rs, err := t.conn.Query(ctx, `SELECT id FROM purged WHERE site = $1 AND tbl = $2 AND id = ANY($3::text[])`, t.site, table, ids)
	if err != nil {
		return nil, wrap(err)
	}
	got, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(err)
	}
	out := make(map[string]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// GetBatch reads a stored push response. Under the site lock it sees every
// batch committed before the lock was granted, on any process.
func (t *Tx) GetBatch(ctx context.Context, deviceID, batchID string) ([]byte, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var b []byte
	err := t.conn.QueryRow(ctx, `SELECT response FROM batches WHERE device_id = $1 AND batch_id = $2`, deviceID, batchID).Scan(&b)
	return b, wrap(err)
}

// PutBatch stores a push response in the transaction that applied it
// (queued).
func (t *Tx) PutBatch(ctx context.Context, deviceID, batchID string, response []byte, at int64) error {
	t.queue(`INSERT INTO batches(device_id, batch_id, site, response, created_at) VALUES($1, $2, $3, $4, $5)`,
		deviceID, batchID, t.site, response, at)
	return nil
}

// Meta reads a key of the site, this transaction's writes included (the
// queued ones are sent first).
func (t *Tx) Meta(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return scanMeta(t.conn.QueryRow(ctx, qMeta, t.site, key))
}

// SetMeta stores (or, for nil, deletes) a key of the site (queued).
func (t *Tx) SetMeta(ctx context.Context, key string, value []byte) error {
	if value == nil {
		t.queue(`DELETE FROM site_meta WHERE site = $1 AND key = $2`, t.site, key)
		return nil
	}
	t.queue(`INSERT INTO site_meta(site, key, value) VALUES($1, $2, $3)
		ON CONFLICT (site, key) DO UPDATE SET value = excluded.value`, t.site, key, value)
	return nil
}

// Pin keeps row versions for a conflict.
func (t *Tx) Pin(ctx context.Context, conflictID, table, id string, versions ...int64) error {
	if len(versions) == 0 {
		return nil
	}
	t.queue(`INSERT INTO pins(site, conflict_id, tbl, id, version) SELECT $1, $2, $3, $4, v FROM unnest($5::bigint[]) AS v
		ON CONFLICT DO NOTHING`, t.site, conflictID, table, id, versions)
	return nil
}

// Unpin releases a conflict's pins.
func (t *Tx) Unpin(ctx context.Context, conflictID string) error {
	t.queue(`DELETE FROM pins WHERE site = $1 AND conflict_id = $2`, t.site, conflictID)
	return nil
}

// PurgeTombstones removes old unpinned tombstones (with their history),
// remembers their ids, and raises the horizon, in one statement.
func (t *Tx) PurgeTombstones(ctx context.Context, upTo int64) (int, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	var n int
	var maxV int64
	err := t.conn.QueryRow(ctx, `WITH victims AS (
			SELECT r.tbl, r.id, r.version FROM rows r
			WHERE r.site = $1 AND r.deleted AND r.version <= $2
			  AND NOT EXISTS (SELECT 1 FROM pins p WHERE p.site = r.site AND p.tbl = r.tbl AND p.id = r.id)
		), remember AS (
			INSERT INTO purged(site, tbl, id, version) SELECT $1, tbl, id, version FROM victims
			ON CONFLICT (site, tbl, id) DO UPDATE SET version = excluded.version
		), history AS (
			DELETE FROM row_versions v USING victims x WHERE v.site = $1 AND v.tbl = x.tbl AND v.id = x.id
		), gone AS (
			DELETE FROM rows r USING victims x WHERE r.site = $1 AND r.tbl = x.tbl AND r.id = x.id RETURNING r.version
		)
		SELECT count(*), coalesce(max(version), 0) FROM gone`, t.site, upTo).Scan(&n, &maxV)
	if err != nil {
		return 0, wrap(err)
	}
	if n > 0 {
		if _, err := t.conn.Exec(ctx, `UPDATE sites SET horizon = greatest(horizon, $1) WHERE site = $2`, maxV, t.site); err != nil {
			return 0, wrap(err)
		}
	}
	return n, nil
}

// PurgeVersions removes superseded, unpinned history versions.
func (t *Tx) PurgeVersions(ctx context.Context, upTo int64) (int, error) {
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	tag, err := t.conn.Exec(ctx, `DELETE FROM row_versions v WHERE v.site = $1 AND v.version <= $2
		AND v.version < (SELECT r.version FROM rows r WHERE r.site = v.site AND r.tbl = v.tbl AND r.id = v.id)
		AND NOT EXISTS (SELECT 1 FROM pins p WHERE p.site = v.site AND p.tbl = v.tbl
		  AND p.id = v.id AND p.version = v.version)`, t.site, upTo)
	if err != nil {
		return 0, wrap(err)
	}
	return int(tag.RowsAffected()), nil
}

// Commit sends the queued writes with the sequence and the change
// notification, then commits. PostgreSQL delivers NOTIFY only when (and
// after) the transaction commits.
func (t *Tx) Commit() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.s.opTimeout)
	defer cancel()
	if t.done {
		return errors.New("commit: the transaction has ended")
	}
	t.rowsFirst()
	t.queueSums()
	if t.seq > t.stored {
		t.queue(`UPDATE sites SET seq = $1 WHERE site = $2`, t.seq, t.site)
		t.queue(`SELECT pg_notify($1, $2)`, t.s.channel, strconv.FormatInt(t.seq, 10)+":"+t.site)
	}
	t.queue(`COMMIT`)
	b := t.queued
	t.queued = nil
	br := t.conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		err = errors.New("the database rolled the transaction back")
	}
	if err != nil {
		t.Rollback() // when the COMMIT never ran; releases the connection
		return fmt.Errorf("commit: %w", wrap(err))
	}
	t.done = true
	t.conn.Release()
	return nil
}

// Rollback abandons the transaction; after Commit it does nothing.
func (t *Tx) Rollback() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.s.opTimeout)
	defer cancel()
	if t.done {
		return nil
	}
	t.done = true
	// A connection left inside a transaction (this ROLLBACK failed) or
	// broken is destroyed by Release, never reused.
	defer t.conn.Release()
	if t.conn.Conn().IsClosed() {
		return nil
	}
	_, err := t.conn.Exec(ctx, `ROLLBACK`)
	return wrap(err)
}
