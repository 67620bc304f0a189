package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"

	sqlcipher "github.com/mutecomm/go-sqlcipher/v4"

	"github.com/google/uuid"
)

// seedSchema is the seed's table, column for column (docs/design.md section 2):
// the same file the Node side runs.
//
//go:embed seed.sql
var seedSchema string

const (
	insertSQL = `INSERT INTO production_records (id, line_id, product_id, quantity, operator_id,
		created_at, updated_at, synced_at, deleted_at, server_updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`
	pointSQL   = `SELECT id, line_id, product_id, quantity, operator_id, created_at, updated_at, synced_at, deleted_at, server_updated_at FROM production_records WHERE id = ?`
	pendingSQL = `SELECT id, line_id, product_id, quantity, operator_id, created_at, updated_at, deleted_at FROM production_records WHERE synced_at IS NULL`
)

// drvConfig is one way of opening the seed database through go-sqlcipher.
type drvConfig struct {
	name       string
	key        []byte // nil = unencrypted
	passphrase string // a passphrase key (runs PBKDF2) instead of the raw key
	memsec     bool   // cipher_memory_security
	cacheKiB   int
	pageSize   int    // cipher_page_size; 0 = 4096
	sync       string // synchronous
	unprepared bool   // parse every statement anew
	noSchema   bool   // do not create the seed table (the file has the store's)
	// defaults are SQLCipher's process-wide cipher_default_* pragmas, set
	// before each connection is keyed (HMAC settings change the file format;
	// go-sqlcipher reads the file before a connect hook could set them).
	defaults []string
}

// cipherDefaults resets SQLCipher's process-wide defaults and applies extra.
func cipherDefaults(extra []string) error {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range append([]string{"PRAGMA cipher_default_hmac_algorithm = HMAC_SHA512", "PRAGMA cipher_default_use_hmac = ON"}, extra...) {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (c drvConfig) open(path string) (*sql.DB, error) {
	if err := cipherDefaults(c.defaults); err != nil {
		return nil, err
	}
	q := url.Values{}
	switch {
	case c.passphrase != "":
		q.Set("_pragma_key", c.passphrase)
	case c.key != nil:
		q.Set("_pragma_key", "x'"+hex.EncodeToString(c.key)+"'")
	}
	if c.pageSize > 0 {
		q.Set("_pragma_cipher_page_size", strconv.Itoa(c.pageSize))
	}
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", c.sync)
	memsec := "OFF"
	if c.memsec {
		memsec = "ON"
	}
	hook := []string{
		"PRAGMA cipher_memory_security = " + memsec,
		"PRAGMA cache_size = -" + strconv.Itoa(c.cacheKiB),
		"PRAGMA temp_store = MEMORY",
	}
	drv := &sqlcipher.SQLiteDriver{ConnectHook: func(conn *sqlcipher.SQLiteConn) error {
		for _, h := range hook {
			if _, err := conn.Exec(h, nil); err != nil {
				return fmt.Errorf("%s: %w", h, err)
			}
		}
		return nil
	}}
	db := sql.OpenDB(&connector{dsn: "file:" + path + "?" + q.Encode(), drv: drv})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		db.Close()
		return nil, err
	}
	if c.noSchema {
		return db, nil
	}
	if _, err := db.Exec(seedSchema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// fillCacheKiB is the page cache while filling the 1M-row tables: setup,
// not a measured operation; a cache smaller than the random-UUID primary key
// index makes the fill spill pages mid-transaction and take minutes.
const fillCacheKiB = 256 << 10

func (c drvConfig) withCache(kib int) drvConfig { c.cacheKiB = kib; return c }

type connector struct {
	dsn string
	drv *sqlcipher.SQLiteDriver
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.drv }

// seedRow returns the values of row i; every pendingEvery-th row is pending.
func seedRow(id string, i, pendingEvery int) []any {
	const t0 = 1_760_000_000_000
	var synced any = int64(t0 + i + 1000)
	if pendingEvery > 0 && i%pendingEvery == pendingEvery/2 {
		synced = nil
	}
	return []any{id, "L" + strconv.Itoa(i%20), "P-" + strconv.Itoa(i%500), int64(i % 1000), "op-" + strconv.Itoa(i%50),
		int64(t0 + i), int64(t0 + i), synced, synced}
}

func newIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	return ids
}

// insertRows inserts ids[from:to] in transactions of group rows (group <= 0:
// one transaction).
func insertRows(db *sql.DB, ids []string, from, to, group, pendingEvery int, unprepared bool) error {
	if group <= 0 {
		group = to - from
	}
	for start := from; start < to; start += group {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		var st *sql.Stmt
		if !unprepared {
			if st, err = tx.Prepare(insertSQL); err != nil {
				tx.Rollback()
				return err
			}
		}
		for i := start; i < min(start+group, to); i++ {
			args := seedRow(ids[i], i, pendingEvery)
			if unprepared {
				_, err = tx.Exec(insertSQL, args...)
			} else {
				_, err = st.Exec(args...)
			}
			if err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// multiRows is the number of rows per INSERT statement of insertMulti.
const multiRows = 100

func multiInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(strings.SplitAfter(insertSQL, "VALUES ")[0])
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)")
	}
	return b.String()
}

// insertMulti inserts ids[from:to] in one transaction, multiRows rows per
// INSERT statement: one statement step per 100 rows instead of per row.
func insertMulti(db *sql.DB, ids []string, from, to int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.Prepare(multiInsertSQL(multiRows))
	if err != nil {
		return err
	}
	args := make([]any, 0, multiRows*9)
	for start := from; start < to; start += multiRows {
		n := min(multiRows, to-start)
		args = args[:0]
		for i := start; i < start+n; i++ {
			args = append(args, seedRow(ids[i], i, 0)...)
		}
		if n == multiRows {
			_, err = st.Exec(args...)
		} else {
			_, err = tx.Exec(multiInsertSQL(n), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// pointReads reads n rows by id, chosen at random from ids.
func pointReads(db *sql.DB, ids []string, n int, unprepared bool, rng *rand.Rand) error {
	var st *sql.Stmt
	var err error
	if !unprepared {
		if st, err = db.Prepare(pointSQL); err != nil {
			return err
		}
		defer st.Close()
	}
	var (
		id, line, product, operator string
		qty, created, updated       int64
		synced, deleted, server     sql.NullInt64
	)
	for i := 0; i < n; i++ {
		var row *sql.Row
		if unprepared {
			row = db.QueryRow(pointSQL, ids[rng.IntN(len(ids))])
		} else {
			row = st.QueryRow(ids[rng.IntN(len(ids))])
		}
		if err := row.Scan(&id, &line, &product, &qty, &operator, &created, &updated, &synced, &deleted, &server); err != nil {
			return err
		}
	}
	return nil
}

// timePendingQuery times reps reads of the pending rows through st, of
// pending rows each.
func timePendingQuery(rc *recorder, suite, system string, reps, pending int, note string, st *sql.Stmt) error {
	return rc.time(suite, system, "pending_query", reps, reps*pending, note, func() error {
		for range reps {
			if _, err := pendingRead(st); err != nil {
				return err
			}
		}
		return nil
	})
}

// pendingRead reads every pending row once and returns how many there were.
func pendingRead(st *sql.Stmt) (int, error) {
	rows, err := st.Query()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var (
		id, line, product, operator string
		qty, created, updated       int64
		deleted                     sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &line, &product, &qty, &operator, &created, &updated, &deleted); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// sizes of one run.
type sizes struct {
	batch, single, big, pending, reads, hot int
}

// runDriverCore measures the four operations for one config.
func runDriverCore(rc *recorder, dir string, c drvConfig, sz sizes, rng *rand.Rand) error {
	// 1. 100k inserts in one transaction, into an empty table.
	p := dir + "/" + c.name + "-batch.db"
	db, err := c.open(p)
	if err != nil {
		return err
	}
	ids := newIDs(sz.batch + sz.single)
	if err := rc.time("driver", c.name, "insert_batch", 1, sz.batch, "one transaction", func() error {
		return insertRows(db, ids, 0, sz.batch, 0, 0, c.unprepared)
	}); err != nil {
		return err
	}
	db.Close()
	removeDB(p)
	db, err = c.open(p)
	if err != nil {
		return err
	}
	if err := rc.time("driver", c.name, "insert_batch_multirow", 1, sz.batch, fmt.Sprintf("one transaction, %d rows per INSERT", multiRows), func() error {
		return insertMulti(db, ids, 0, sz.batch)
	}); err != nil {
		return err
	}
	// 2. single-row transactions, on top of it.
	if err := rc.time("driver", c.name, "insert_single_tx", sz.single, sz.single, "synchronous="+c.sync, func() error {
		return insertRows(db, ids, sz.batch, sz.batch+sz.single, 1, 0, c.unprepared)
	}); err != nil {
		return err
	}
	db.Close()
	removeDB(p)

	// 3. the 1M-row table with 1k pending rows spread through it.
	p = dir + "/" + c.name + "-big.db"
	db, err = c.withCache(fillCacheKiB).open(p)
	if err != nil {
		return err
	}
	big := newIDs(sz.big)
	every := sz.big / sz.pending
	if err := rc.time("driver", c.name, "fill_1m", 1, sz.big, "setup, one transaction, 256 MiB cache", func() error {
		return insertRows(db, big, 0, sz.big, 0, every, false)
	}); err != nil {
		return err
	}
	db.Close()
	if err := bigReads(rc, "driver", c, p, big, sz, rng); err != nil {
		return err
	}
	removeDB(p)
	return nil
}

// bigReads measures cold point reads, the pending query and cached point
// reads on the big database at p.
func bigReads(rc *recorder, suite string, c drvConfig, p string, big []string, sz sizes, rng *rand.Rand) error {
	// Cold: a new connection (empty page cache; the OS cache is warm).
	db, err := c.open(p)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := rc.time(suite, c.name, "point_read_cold", sz.reads, sz.reads, fmt.Sprintf("random ids over %d rows, fresh connection, %d MiB cache", sz.big, c.cacheKiB>>10), func() error {
		return pointReads(db, big, sz.reads, c.unprepared, rng)
	}); err != nil {
		return err
	}
	st, err := db.Prepare(pendingSQL)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := 0; i < 5; i++ {
		if n, err := pendingRead(st); err != nil || n != sz.pending {
			return fmt.Errorf("pending rows = %d, %v", n, err)
		}
	}
	const reps = 200
	if err := timePendingQuery(rc, suite, c.name, reps, sz.pending, fmt.Sprintf("%d pending of %d, full rows", sz.pending, sz.big), st); err != nil {
		return err
	}
	hot := big[:sz.hot]
	if err := pointReads(db, hot, sz.hot*3, c.unprepared, rng); err != nil { // warm
		return err
	}
	return rc.time(suite, c.name, "point_read_cached", sz.reads, sz.reads, fmt.Sprintf("random ids over a %d-row hot set", sz.hot), func() error {
		return pointReads(db, hot, sz.reads, c.unprepared, rng)
	})
}

func removeDB(p string) {
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(p + s)
	}
}
