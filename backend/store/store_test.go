package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/outpost-app/outpost/backend/hlc"
)

// testKey returns a deterministic 32-byte key; seed tells keys apart.
func testKey(seed byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

// fakeClock returns a Now func that starts at start and advances 1 ms per
// call, so every edit gets a distinct updated_at.
func fakeClock(start int64) func() int64 {
	var t atomic.Int64
	t.Store(start - 1)
	return func() int64 { return t.Add(1) }
}

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "outpost", "outpost.db")
	}
	if opts.Key == nil && !opts.Unencrypted {
		opts.Key = testKey(1)
	}
	if opts.Now == nil {
		opts.Now = fakeClock(1_700_000_000_000)
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestOpen_EncryptsFileAndWAL(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := filepath.Join(dir, "outpost.db")
	s := openTest(t, Options{Path: p})
	const secret = "OPERATOR-ZEBRA-7731"
	for i := 0; i < 50; i++ {
		if _, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: secret}); err != nil {
			t.Fatal(err)
		}
	}
	// Before closing, the rows sit in the WAL; check it, then the main file
	// after the closing checkpoint.
	wal, err := os.ReadFile(p + "-wal")
	if err != nil {
		t.Fatalf("read WAL: %v", err)
	}
	if len(wal) == 0 {
		t.Fatal("WAL is empty; the test checks nothing")
	}
	if bytes.Contains(wal, []byte(secret)) {
		t.Fatal("WAL holds a field value in clear")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(db, []byte("SQLite format 3")) {
		t.Fatal("database file starts with the plain SQLite header")
	}
	if bytes.Contains(db, []byte(secret)) || bytes.Contains(db, []byte("production_records")) {
		t.Fatal("database file holds text in clear")
	}
	for _, c := range []struct {
		p    string
		perm os.FileMode
	}{{dir, 0o700}, {p, 0o600}} {
		st, err := os.Stat(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != c.perm {
			t.Errorf("%s mode = %o, want %o", c.p, got, c.perm)
		}
	}
	// The same key opens it again and sees the rows.
	s2 := openTest(t, Options{Path: p})
	info, err := s2.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Encrypted || info.CipherVersion == "" || info.Tables[0].Live != 50 || info.Pending != 50 || info.SchemaVersion != SchemaVersion() {
		t.Fatalf("Info = %+v", info)
	}
}

func TestOpen_Unencrypted(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "plain.db")
	s := openTest(t, Options{Path: p, Unencrypted: true})
	if _, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Encrypted {
		t.Fatalf("Info.Encrypted = true for a plain database")
	}
	s.Close()
	b, _ := os.ReadFile(p)
	if !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Fatal("unencrypted store did not write a plain SQLite file")
	}
	// A key on a plaintext file is refused, and says why.
	h := fileHash(t, p)
	_, err = Open(ctx, Options{Path: p, Key: testKey(1)})
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("Open plain file with key: %v", err)
	}
	if fileHash(t, p) != h {
		t.Fatal("file changed")
	}
}

func TestOpen_KeyRequired(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "x.db")
	if _, err := Open(ctx, Options{Path: p}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := Open(ctx, Options{Path: p, Key: []byte("short")}); !errors.Is(err, ErrBadKey) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused open created the file")
	}
}

func TestOpen_WrongKey(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "outpost.db")
	s := openTest(t, Options{Path: p, Key: testKey(1)})
	if _, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := fileHash(t, p)
	for name, opts := range map[string]Options{
		"other key": {Path: p, Key: testKey(2)},
		"no key":    {Path: p, Unencrypted: true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(ctx, opts)
			if !errors.Is(err, ErrWrongKey) {
				t.Fatalf("Open = %v, want ErrWrongKey", err)
			}
			if !strings.Contains(err.Error(), "the key is wrong or the file is damaged") {
				t.Fatalf("message = %q", err)
			}
			if fileHash(t, p) != before {
				t.Fatal("database file changed after a wrong-key open")
			}
			if _, err := os.Stat(p + "-wal"); err == nil {
				if b, _ := os.ReadFile(p + "-wal"); len(b) > 0 {
					t.Fatal("a wrong-key open wrote a WAL")
				}
			}
		})
	}
	if err := Verify(ctx, p, testKey(2)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Verify wrong key = %v", err)
	}
	if err := Verify(ctx, p, testKey(1)); err != nil {
		t.Fatalf("Verify right key = %v", err)
	}
	if fileHash(t, p) != before {
		t.Fatal("Verify changed the file")
	}
	if err := Verify(ctx, filepath.Join(t.TempDir(), "none.db"), testKey(1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Verify missing file = %v", err)
	}
	// The right key still opens it.
	s2 := openTest(t, Options{Path: p, Key: testKey(1)})
	if n, err := s2.PendingCount(ctx); err != nil || n != 1 {
		t.Fatalf("PendingCount = %d, %v", n, err)
	}
}

func TestOpen_DamagedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "outpost.db")
	junk := bytes.Repeat([]byte{0xA5, 0x17, 0x3C}, 1000) // 3000 bytes: not whole pages
	if err := os.WriteFile(p, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Path: p, Key: testKey(1)})
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "truncated or damaged") {
		t.Fatalf("Open damaged = %v", err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, junk) {
		t.Fatal("damaged file was changed")
	}
}

func TestMigrations_Idempotent(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "outpost.db")
	s := openTest(t, Options{Path: p})
	r, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 3, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for i := 0; i < 2; i++ {
		s := openTest(t, Options{Path: p})
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.SchemaVersion != SchemaVersion() {
			t.Fatalf("schema version = %d, want %d", info.SchemaVersion, SchemaVersion())
		}
		if got, err := s.GetRecord(ctx, r.ID); err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("GetRecord after reopen = %+v, %v", got, err)
		}
		s.Close()
	}
}

func TestMigrations_SchemaTooNew(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "outpost.db")
	s := openTest(t, Options{Path: p})
	if _, err := s.w.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, Options{Path: p, Key: testKey(1)}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || SchemaVersion() != len(ms) {
		t.Fatalf("migrations = %d, SchemaVersion = %d", len(ms), SchemaVersion())
	}
}

func TestClock_MonotonicAcrossRestart(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "outpost.db")
	s := openTest(t, Options{Path: p, Now: func() int64 { return 2_000_000_000_000 }})
	var last string
	for i := 0; i < 3; i++ {
		r, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "o"})
		if err != nil {
			t.Fatal(err)
		}
		if r.HLC <= last {
			t.Fatalf("hlc %s not after %s", r.HLC, last)
		}
		last = r.HLC
	}
	s.Close()
	// The wall clock went back a day: HLCs must still grow.
	s = openTest(t, Options{Path: p, Now: func() int64 { return 2_000_000_000_000 - 86_400_000 }})
	r, err := s.CreateRecord(ctx, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if r.HLC <= last {
		t.Fatalf("hlc after restart %s not after %s", r.HLC, last)
	}
	ts, err := hlc.Parse(r.HLC)
	if err != nil || ts.Node != hlc.Unenrolled {
		t.Fatalf("hlc %s: %v", r.HLC, err)
	}
}

// Paths reach SQLite as file: URIs; characters that mean something in a URI
// must not cut the path short.
func TestOpen_PathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "Outpost data #1", "a?b%20c&d=e.db")
	s := openTest(t, Options{Path: p})
	if _, err := s.CreateRecord(ctx, validInput()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("database not at %s: %v", p, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	for _, e := range entries {
		if e.Name() != filepath.Base(p) && !strings.HasPrefix(e.Name(), filepath.Base(p)+"-") {
			t.Fatalf("stray file %q beside the database", e.Name())
		}
	}
	if err := Verify(ctx, p, testKey(1)); err != nil {
		t.Fatal(err)
	}
}
