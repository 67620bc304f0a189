package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/outpost-app/outpost/backend/internal/rowscan"
)

// stmtCache keeps prepared statements of one pool. database/sql prepares a
// *sql.Stmt on each connection it runs on and reuses it there, so a hot
// query is parsed once per connection instead of once per call.
//
// The writer's statements are all prepared at open (prepareAll): preparing
// on the one-connection writer while a transaction holds that connection
// would wait forever; a write transaction prepares any other query itself
// (wtx.stmt). The readers prepare lazily.
type stmtCache struct {
	mu   sync.Mutex
	db   *sql.DB
	m    map[string]*sql.Stmt
	lazy bool
}

func newStmtCache(db *sql.DB, lazy bool) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, lazy: lazy}
}

func (c *stmtCache) prepareAll(ctx context.Context, qs ...string) error {
	for _, q := range qs {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		c.m[q] = st
	}
	return nil
}

// get returns the prepared statement for q, or nil when q is not cached
// (the caller then runs q unprepared).
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok || !c.lazy {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared run reports the error
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// wtx is one write transaction on the writer connection. Its statements
// are the writer's, prepared at open (cache), and any other query it runs,
// prepared in the transaction on first use and kept until it ends (stmts):
// a batch or a pull page runs the same few statements thousands of times.
type wtx struct {
	ctx   context.Context
	tx    *sql.Tx
	cache *stmtCache
	stmts map[string]*sql.Stmt
	now   int64
	s     *Store
	last  string
	// pass: the pull page being applied belongs to a full pass; timeline:
	// to the pass after a timeline change (beforePage sets both).
	pass, timeline bool
}

// stmt returns q prepared for the transaction.
func (t *wtx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st := t.cache.get(t.ctx, q)
	if st != nil {
		st = t.tx.StmtContext(t.ctx, st)
	} else {
		var err error
		if st, err = t.tx.PrepareContext(t.ctx, q); err != nil {
			return nil, err
		}
	}
	t.stmts[q] = st
	return st, nil
}

// exec runs q, prepared once per transaction, inside the transaction.
func (t *wtx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *wtx) queryRow(q string, args ...any) *sql.Row {
	st, err := t.stmt(q)
	if err != nil {
		// Let the unprepared query report the error at Scan.
		return t.tx.QueryRowContext(t.ctx, q, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// closeStmts closes the statements prepared for the transaction.
func (t *wtx) closeStmts() {
	for _, st := range t.stmts {
		st.Close()
	}
	clear(t.stmts)
}

// stamp returns a new HLC for an edit in this transaction. Taking it while
// the writer is held makes HLC order equal commit order.
func (t *wtx) stamp() string {
	t.last = t.s.clock.Now(t.now + t.s.clockOffset.Load()).String()
	return t.last
}

const upsertMeta = `INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`

// write runs fn in one IMMEDIATE transaction on the writer and commits it
// together with the clock's last reading, so restarts stay monotonic.
func (s *Store) write(ctx context.Context, fn func(t *wtx) error) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	t := &wtx{ctx: ctx, tx: tx, cache: s.wstmts, stmts: map[string]*sql.Stmt{}, now: s.opts.Now(), s: s}
	defer t.closeStmts()
	if err := fn(t); err != nil {
		return err
	}
	// Whatever fn changed, the known server states and the checksums
	// follow in this transaction (checksums.go).
	if err := s.settleKnown(t); err != nil {
		return err
	}
	if t.last != "" {
		if _, err := t.exec(upsertMeta, metaLastHLC, t.last); err != nil {
			return fmt.Errorf("save clock: %w", err)
		}
	}
	t.closeStmts()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in one read transaction on a reader, so that several queries
// (a page and its total) see the same snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// readAll runs query q in a read transaction and scans each row with scan,
// in order; no row is an empty slice, never nil.
func readAll[T any](ctx context.Context, s *Store, q string, args []any, scan func(rowscan.Scanner) (T, error)) (out []T, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = rowscan.All(rows, scan)
		return err
	})
	return out, err
}

// readRow runs one cached single-row query on a reader, outside an explicit
// transaction (the cheapest path for point reads).
func (s *Store) readRow(ctx context.Context, q string, args []any, dest func(*sql.Row) error) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	if st := s.rstmts.get(ctx, q); st != nil {
		return dest(st.QueryRowContext(ctx, args...))
	}
	return dest(s.r.QueryRowContext(ctx, q, args...))
}
