package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlcipher "github.com/mutecomm/go-sqlcipher/v4"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Store is the open local database. It is safe for concurrent use.
type Store struct {
	// mu is held shared by every call and exclusively by Rekey and Close,
	// which swap or close the pools.
	mu     sync.RWMutex
	opts   Options
	path   string
	w      *sql.DB // one connection: every write goes through it
	r      *sql.DB // read-only pool
	wstmts *stmtCache
	rstmts *stmtCache
	closed bool

	records protocol.Table
	configs protocol.Table
	clock   *hlc.Clock
	// former holds this device's former ids at its site (reenroll.go).
	former atomic.Pointer[[]string]
	// clockOffset (ms) is added to the device clock when stamping HLCs:
	// the sync client measures it from the server's time (SetClockOffset),
	// while updated_at stays the plain device clock shown to people.
	clockOffset atomic.Int64

	// verifyOnly marks the throwaway Store of Verify, whose connections
	// must not change process-wide SQLCipher settings.
	verifyOnly bool
}

// Open opens (creating when missing) the database at opts.Path, checks that
// the key decrypts it, applies pending migrations and restores the clock.
// A key that does not decrypt an existing file returns ErrWrongKey (wrapped,
// with what the file looks like); the file is never written in that case.
func Open(ctx context.Context, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	p, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("open store: create directory: %w", err)
	}
	// SQLite would create the file with the umask's mode (often 0644);
	// create it first so that even its ciphertext is the user's alone. An
	// empty file is a new database to SQLite.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		f.Close()
	case !errors.Is(err, os.ErrExist):
		return nil, fmt.Errorf("open store: create %s: %w", p, err)
	}

	reg := protocol.NewRegistry()
	s := &Store{opts: o, path: p}
	s.records, _ = reg.Lookup(protocol.TableProductionRecords)
	s.configs, _ = reg.Lookup(protocol.TableLineConfigs)

	if err := s.openPools(ctx, o.Key); err != nil {
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	if err := migrateSchema(ctx, s.w); err != nil {
		s.closePools()
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	if err := s.loadClock(ctx); err != nil {
		s.closePools()
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	if err := s.loadFormer(ctx); err != nil {
		s.closePools()
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	if err := s.wstmts.prepareAll(ctx, writerStatements()...); err != nil {
		s.closePools()
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	// Rows the upgrade to 0007 noted (or a direct edit of the file) get
	// their known state and checksums now, in one transaction.
	if err := s.write(ctx, func(*wtx) error { return nil }); err != nil {
		s.closePools()
		return nil, fmt.Errorf("open store %s: settle checksums: %w", p, err)
	}
	return s, nil
}

// openPools opens the writer and the readers with key and proves the key
// right with a first read, before anything can write.
func (s *Store) openPools(ctx context.Context, key []byte) error {
	w := sql.OpenDB(s.connector(key, true))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkKey(ctx, w, s.path); err != nil {
		w.Close()
		return err
	}
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		w.Close()
		return fmt.Errorf("set WAL: %w", err)
	}
	r := sql.OpenDB(s.connector(key, false))
	r.SetMaxOpenConns(s.opts.ReadConns)
	r.SetMaxIdleConns(s.opts.ReadConns)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if err := checkKey(ctx, r, s.path); err != nil {
		w.Close()
		r.Close()
		return err
	}
	s.w, s.r = w, r
	s.wstmts, s.rstmts = newStmtCache(w, false), newStmtCache(r, true)
	return nil
}

func (s *Store) closePools() error {
	var errs []error
	for _, c := range []*stmtCache{s.wstmts, s.rstmts} {
		if c != nil {
			c.close()
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	s.r, s.w = nil, nil
	return errors.Join(errs...)
}

// checkKey runs the first query on db. SQLCipher reports a wrong key only
// there, as SQLITE_NOTADB, the same error as a damaged file.
func checkKey(ctx context.Context, db *sql.DB, path string) error {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
	if err == nil {
		return nil
	}
	if isNotADB(err) {
		return fmt.Errorf("%w (%s)", ErrWrongKey, diagnose(path))
	}
	return fmt.Errorf("first read: %w", err)
}

func isNotADB(err error) bool {
	var se sqlcipher.Error
	return errors.As(err, &se) && se.Code == sqlcipher.ErrNotADB
}

// diagnose guesses, from the file alone, why it did not decrypt.
func diagnose(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "the file cannot be read: " + err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "the file cannot be read: " + err.Error()
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	switch {
	case bytes.Equal(head[:n], []byte("SQLite format 3\x00")):
		return "the file is a plain, unencrypted SQLite database"
	case st.Size()%512 != 0:
		return fmt.Sprintf("the file is %d bytes, not a whole number of pages: it looks truncated or damaged", st.Size())
	default:
		return "the file looks encrypted: most likely the key is not the one it was written with"
	}
}

// connector returns a database/sql connector for one pool. Options that
// SQLite keeps per connection go in the DSN (applied by the driver to every
// new connection, the key first) or in the connect hook.
func (s *Store) connector(key []byte, writer bool) driver.Connector {
	q := url.Values{}
	if len(key) > 0 {
		q.Set("_pragma_key", "x'"+hex.EncodeToString(key)+"'")
	}
	if s.opts.CipherPageSize > 0 {
		q.Set("_pragma_cipher_page_size", strconv.Itoa(s.opts.CipherPageSize))
	}
	q.Set("_busy_timeout", strconv.FormatInt(s.opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	if writer {
		q.Set("_txlock", "immediate")
		q.Set("_synchronous", s.opts.Synchronous)
	} else {
		q.Set("_query_only", "1")
	}
	dsn := fileURI(s.path) + "?" + q.Encode()

	memsec := "OFF"
	if s.opts.MemorySecurity {
		memsec = "ON"
	}
	hook := []string{
		"PRAGMA cache_size = -" + strconv.Itoa(s.opts.CacheSizeKiB),
		"PRAGMA temp_store = MEMORY",
	}
	if !s.verifyOnly && (len(key) > 0 || s.opts.MemorySecurity) {
		// Process-wide in SQLCipher: the last connection opened decides.
		hook = append(hook, "PRAGMA cipher_memory_security = "+memsec)
	}
	drv := &sqlcipher.SQLiteDriver{ConnectHook: func(c *sqlcipher.SQLiteConn) error {
		for _, q := range hook {
			if _, err := c.Exec(q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}}
	return &connector{dsn: dsn, drv: drv}
}

// fileURI turns a path into an SQLite file: URI, escaping ?, # and %.
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/…
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

type connector struct {
	dsn string
	drv *sqlcipher.SQLiteDriver
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.drv }

// Close closes the store. Calls made after Close return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.closePools(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// acquire takes the shared lock for one call.
func (s *Store) acquire() (release func(), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	return s.mu.RUnlock, nil
}

// Rekey re-encrypts the database with newKey (PRAGMA rekey) and reopens the
// pools with it. SQLCipher rekeys in one transaction, so after a crash the
// file is wholly under one key or the other; the caller keeps both keys until
// the file opens with the new one (backend/keychain's Rotate does). If the
// reopen fails the store is closed and the error says so.
func (s *Store) Rekey(ctx context.Context, newKey []byte) error {
	if len(newKey) != 32 {
		return fmt.Errorf("rekey: %w (got %d)", ErrBadKey, len(newKey))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("rekey: %w", ErrClosed)
	}
	if s.opts.Unencrypted {
		return fmt.Errorf("rekey: %w", ErrNotEncrypted)
	}
	// Readers would keep decrypting with the old key: close them first.
	if err := s.r.Close(); err != nil {
		return fmt.Errorf("rekey: close readers: %w", err)
	}
	s.r = nil
	reopen := func(key []byte) error {
		s.closePools()
		if err := s.openPools(ctx, key); err != nil {
			s.closed = true
			return err
		}
		return nil
	}
	if err := rekeyWriter(ctx, s.w, newKey); err != nil {
		if rerr := reopen(s.opts.Key); rerr != nil {
			return fmt.Errorf("rekey: %w; reopen with the old key: %v", err, rerr)
		}
		return fmt.Errorf("rekey: %w", err)
	}
	if err := reopen(newKey); err != nil {
		return fmt.Errorf("rekey: reopen with the new key (the store is closed): %w", err)
	}
	if err := s.wstmts.prepareAll(ctx, writerStatements()...); err != nil {
		s.closePools()
		s.closed = true
		return fmt.Errorf("rekey: %w", err)
	}
	s.opts.Key = append([]byte(nil), newKey...)
	return nil
}

func rekeyWriter(ctx context.Context, w *sql.DB, newKey []byte) error {
	conn, err := w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Fold the WAL into the file first so that every page is rewritten
	// under the new key by the rekey itself.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA rekey = "x'`+hex.EncodeToString(newKey)+`'"`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint after rekey: %w", err)
	}
	return nil
}

// Verify reports whether key decrypts the existing database at path: nil,
// ErrWrongKey (wrapped, with a diagnosis) or an error wrapping
// os.ErrNotExist. It never creates the file nor changes its contents; it
// suits backend/keychain's VerifyFunc. An empty key checks for a plain
// SQLite file.
func Verify(ctx context.Context, path string, key []byte) error {
	p, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("verify key: %w", err)
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("verify key: %w", err)
	}
	s := &Store{path: p, verifyOnly: true, opts: Options{CacheSizeKiB: 2048, BusyTimeout: 5 * time.Second}}
	db := sql.OpenDB(s.connector(key, false))
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkKey(ctx, db, p); err != nil {
		return fmt.Errorf("verify key: %w", err)
	}
	return nil
}

// Info describes the open database for the status screen.
type Info struct {
	Path          string `json:"path"`
	Encrypted     bool   `json:"encrypted"`
	CipherVersion string `json:"cipher_version"`
	SchemaVersion int    `json:"schema_version"`
	// Tables holds the row counts of each synced table.
	Tables  []TableCount `json:"tables"`
	Pending int64        `json:"pending"`
}

// TableCount counts the rows of one synced table.
type TableCount struct {
	Table   string `json:"table"`
	Live    int64  `json:"live"`
	Deleted int64  `json:"deleted"`
	Pending int64  `json:"pending"`
}

// Info returns the path, encryption state, versions and row counts.
func (s *Store) Info(ctx context.Context) (Info, error) {
	release, err := s.acquire()
	if err != nil {
		return Info{}, fmt.Errorf("info: %w", err)
	}
	defer release()
	in := Info{Path: s.path}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Info{}, fmt.Errorf("info: %w", err)
	}
	defer tx.Rollback()
	// cipher_version names the library; cipher_provider answers only on a
	// connection that has a key, i.e. an encrypted database.
	if err := tx.QueryRowContext(ctx, "PRAGMA cipher_version").Scan(&in.CipherVersion); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Info{}, fmt.Errorf("info: cipher_version: %w", err)
	}
	var provider string
	if err := tx.QueryRowContext(ctx, "PRAGMA cipher_provider").Scan(&provider); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Info{}, fmt.Errorf("info: cipher_provider: %w", err)
	}
	in.Encrypted = provider != "" && !s.opts.Unencrypted
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&in.SchemaVersion); err != nil {
		return Info{}, fmt.Errorf("info: user_version: %w", err)
	}
	for _, t := range syncTableNames() {
		tc := TableCount{Table: t}
		// t is a registry name, never input.
		q := "SELECT count(*) - count(deleted_at), count(deleted_at), (SELECT count(*) FROM " + t + " WHERE synced_at IS NULL) FROM " + t
		if err := tx.QueryRowContext(ctx, q).Scan(&tc.Live, &tc.Deleted, &tc.Pending); err != nil {
			return Info{}, fmt.Errorf("info: count %s: %w", t, err)
		}
		in.Pending += tc.Pending
		in.Tables = append(in.Tables, tc)
	}
	return in, nil
}
