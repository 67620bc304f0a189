package keychain_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/mutecomm/go-sqlcipher/v4" // the real SQLCipher, as the store uses it

	"github.com/outpost-app/outpost/backend/keychain"
)

// envRequire makes a missing Secret Service fail the tests instead of
// skipping them (set by the Makefile, so CI never skips).
const envRequire = "OUTPOST_REQUIRE_KEYCHAIN"

// osKeychain returns a Keychain on the real OS keychain under an account of
// its own, deleted when the test ends. Without a reachable keychain the test
// is skipped, or fails when OUTPOST_REQUIRE_KEYCHAIN is set.
func osKeychain(t *testing.T, opts keychain.Options) *keychain.Keychain {
	t.Helper()
	if opts.Account == "" {
		opts.Account = "test-" + randomHex(t, 6)
	}
	kc := keychain.New(opts)
	_, err := kc.Candidates(t.Context())
	if errors.Is(err, keychain.ErrUnavailable) {
		if os.Getenv(envRequire) != "" {
			t.Fatalf("%s is set but the keychain is unavailable: %v", envRequire, err)
		}
		t.Skipf("no OS keychain (set %s to fail instead): %v", envRequire, err)
	}
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("probe keychain: %v", err)
	}
	t.Cleanup(func() {
		if err := keychain.New(opts).Delete(context.Background()); err != nil {
			t.Errorf("clean up keychain entries: %v", err)
		}
	})
	return kc
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	key, err := keychain.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sqlcipherDSN is the DSN the store uses: the raw key in the DSN.
func sqlcipherDSN(path string, key []byte) string {
	return "file:" + path + "?_pragma_key=" + keychain.DSNKey(key) + "&_pragma_cipher_page_size=4096"
}

// testDB is a real SQLCipher database with one row, implementing
// keychain.Rekeyer the way the store does (PRAGMA rekey on its connection).
type testDB struct {
	path string
	db   *sql.DB
}

var _ keychain.Rekeyer = (*testDB)(nil)

func createDB(t *testing.T, dir string, key []byte) *testDB {
	t.Helper()
	path := filepath.Join(dir, "outpost.db")
	db, err := sql.Open("sqlite3", sqlcipherDSN(path, key))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		"CREATE TABLE production_records (id TEXT PRIMARY KEY, quantity INTEGER NOT NULL)",
		"INSERT INTO production_records VALUES ('r1', 42)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d := &testDB{path: path, db: db}
	t.Cleanup(func() { d.db.Close() })
	return d
}

func (d *testDB) Rekey(ctx context.Context, newKey []byte) error {
	if _, err := d.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA rekey = "%s"`, keychain.DSNKey(newKey))); err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	return nil
}

// reopen simulates a process that died: the connection is dropped, and the
// database is opened again with key.
func (d *testDB) reopen(t *testing.T, key []byte) {
	t.Helper()
	d.db.Close()
	db, err := sql.Open("sqlite3", sqlcipherDSN(d.path, key))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	d.db = db
}

// verify is the keychain.VerifyFunc of the test database: a fresh
// connection with key must read the row.
func (d *testDB) verify(ctx context.Context, key []byte) error {
	db, err := sql.Open("sqlite3", sqlcipherDSN(d.path, key))
	if err != nil {
		return err
	}
	defer db.Close()
	var q int
	if err := db.QueryRowContext(ctx, "SELECT quantity FROM production_records WHERE id = 'r1'").Scan(&q); err != nil {
		return fmt.Errorf("read row: %w", err)
	}
	if q != 42 {
		return fmt.Errorf("row holds %d, want 42", q)
	}
	return nil
}
