package keychain_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/zalando/go-keyring"

	"github.com/outpost-app/outpost/backend/keychain"
)

// sourceKind builds a fresh Source of one kind. wrapped returns a second
// Source on the same storage whose raw operations go through c (crash
// injection); c may be nil. dropCurrent deletes the current key behind the
// Source's back (a lost keychain entry).
type sourceKind struct {
	name string
	make func(t *testing.T) (src keychain.Source, wrapped func(c *crasher) keychain.Source, dropCurrent func() error)
}

func sourceKinds() []sourceKind {
	return []sourceKind{
		{"keychain", func(t *testing.T) (keychain.Source, func(*crasher) keychain.Source, func() error) {
			account := "test-" + randomHex(t, 6)
			kc := osKeychain(t, keychain.Options{Account: account})
			wrapped := func(c *crasher) keychain.Source {
				return keychain.New(keychain.Options{Account: account, Backend: crashBackend{c, keychain.OSBackend{}}})
			}
			return kc, wrapped, func() error { return keyring.Delete(keychain.DefaultService, account) }
		}},
		{"key file", func(t *testing.T) (keychain.Source, func(*crasher) keychain.Source, func() error) {
			path := filepath.Join(t.TempDir(), "kiosk", "db.key")
			kf := keychain.NewKeyFile(path)
			wrapped := func(c *crasher) keychain.Source { return crashSource{kf, c} }
			return kf, wrapped, func() error { return os.Remove(path) }
		}},
	}
}

// errDead is what every operation returns once the simulated process has
// died: nothing after the crash point has any effect. (A panic would not do:
// keychain calls run in their own goroutine.)
var errDead = errors.New("process died")

// crasher counts the points where a process could die (before and after
// each change of state) and "dies" at point number at (0: never).
type crasher struct {
	at     int
	n      int
	died   string
	points []string
}

// point passes a crash point; it reports whether the process is dead.
func (c *crasher) point(name string) bool {
	if c == nil {
		return false
	}
	if c.died != "" {
		return true
	}
	c.n++
	c.points = append(c.points, name)
	if c.n == c.at {
		c.died = name
	}
	return c.died != ""
}

func (c *crasher) dead() bool { return c != nil && c.died != "" }

// crashBackend is the real OS keychain with crash points around each write.
type crashBackend struct {
	c    *crasher
	real keychain.Backend
}

func (b crashBackend) Get(service, account string) (string, error) {
	if b.c.dead() {
		return "", errDead
	}
	return b.real.Get(service, account)
}

func (b crashBackend) Set(service, account, secret string) error {
	if b.c.point("before keychain set " + account) {
		return errDead
	}
	err := b.real.Set(service, account, secret)
	if b.c.point("after keychain set " + account) {
		return errDead
	}
	return err
}

func (b crashBackend) Delete(service, account string) error {
	if b.c.point("before keychain delete " + account) {
		return errDead
	}
	err := b.real.Delete(service, account)
	if b.c.point("after keychain delete " + account) {
		return errDead
	}
	return err
}

// crashSource is a key file with crash points around each write.
type crashSource struct {
	keychain.Source
	c *crasher
}

func (s crashSource) GetOrCreate(ctx context.Context, dbExists bool) ([]byte, bool, error) {
	if s.c.dead() {
		return nil, false, errDead
	}
	return s.Source.GetOrCreate(ctx, dbExists)
}

func (s crashSource) Candidates(ctx context.Context) ([][]byte, error) {
	if s.c.dead() {
		return nil, errDead
	}
	return s.Source.Candidates(ctx)
}

func (s crashSource) write(name string, fn func() error) error {
	if s.c.point("before " + name) {
		return errDead
	}
	err := fn()
	if s.c.point("after " + name) {
		return errDead
	}
	return err
}

func (s crashSource) StageNext(ctx context.Context, key []byte) error {
	return s.write("StageNext", func() error { return s.Source.StageNext(ctx, key) })
}

func (s crashSource) Promote(ctx context.Context, key []byte) error {
	return s.write("Promote", func() error { return s.Source.Promote(ctx, key) })
}

func (s crashSource) DiscardNext(ctx context.Context) error {
	return s.write("DiscardNext", func() error { return s.Source.DiscardNext(ctx) })
}

// rekeyer wraps the test database with crash points and failure modes.
type rekeyer struct {
	db      *testDB
	c       *crasher
	failPre bool // fail without rekeying
	failPst bool // rekey, then report a failure
	calls   int
}

func (r *rekeyer) Rekey(ctx context.Context, key []byte) error {
	r.calls++
	if r.failPre {
		return errors.New("disk full")
	}
	if r.c.point("before rekey") {
		return errDead
	}
	err := r.db.Rekey(ctx, key)
	if r.c.point("after rekey") {
		return errDead
	}
	if err == nil && r.failPst {
		return errors.New("connection reset after rekey")
	}
	return err
}

func newIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func readRecovery(t *testing.T, dbPath string, id age.Identity) [][]byte {
	t.Helper()
	f, err := os.Open(keychain.RecoveryPath(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := keychain.ReadRecovery(f, id)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// opensWithOneOf reports which of keys opens the database, or fails.
func opensWithOneOf(t *testing.T, db *testDB, keys [][]byte, what string) []byte {
	t.Helper()
	for _, k := range keys {
		if db.verify(t.Context(), k) == nil {
			return k
		}
	}
	t.Fatalf("no key of %s opens the database (%d keys)", what, len(keys))
	return nil
}

func assertOnlyKey(t *testing.T, src keychain.Source, want []byte) {
	t.Helper()
	keys, err := src.Candidates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !bytes.Equal(keys[0], want) {
		t.Fatalf("stored keys = %d (first matches: %v), want exactly the key that opens the database", len(keys), len(keys) > 0 && bytes.Equal(keys[0], want))
	}
}

func TestRotate(t *testing.T) {
	for _, kind := range sourceKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := t.Context()
			src, _, _ := kind.make(t)
			oldKey, _, err := src.GetOrCreate(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			db := createDB(t, t.TempDir(), oldKey)
			id := newIdentity(t)
			opts := keychain.RotateOptions{DBPath: db.path, Recipient: id.Recipient().String()}
			if err := keychain.WriteRecovery(db.path, opts.Recipient, oldKey); err != nil {
				t.Fatal(err)
			}

			newKey, err := keychain.Rotate(ctx, src, db, db.verify, opts)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(newKey, oldKey) || len(newKey) != keychain.KeySize {
				t.Fatal("rotation kept the old key")
			}
			if err := db.verify(ctx, newKey); err != nil {
				t.Fatalf("database does not open with the new key: %v", err)
			}
			if err := db.verify(ctx, oldKey); err == nil {
				t.Fatal("database still opens with the old key")
			}
			assertOnlyKey(t, src, newKey)
			if keys := readRecovery(t, db.path, id); len(keys) != 1 || !bytes.Equal(keys[0], newKey) {
				t.Fatalf("recovery file holds %d keys, want the new key alone", len(keys))
			}
		})
	}
}

func TestRotate_Failures(t *testing.T) {
	tests := []struct {
		name        string
		rekeyPre    bool
		rekeyPost   bool
		verifyFails int // how many verifications of the new key fail
		wrongKey    bool
		wantErr     error
		wantNew     bool // the database ends under the new key
	}{
		{name: "rekey fails, nothing changed", rekeyPre: true, wantNew: false},
		{name: "rekey applied but reported a failure", rekeyPost: true, wantNew: true},
		{name: "new key fails to verify once", verifyFails: 1, wantNew: true},
		{name: "stored key does not open the database", wrongKey: true, wantErr: keychain.ErrWrongKey},
	}
	for _, kind := range sourceKinds() {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				ctx := t.Context()
				src, _, _ := kind.make(t)
				oldKey, _, err := src.GetOrCreate(ctx, false)
				if err != nil {
					t.Fatal(err)
				}
				dbKey := oldKey
				if tt.wrongKey {
					dbKey = mustKey(t)
				}
				db := createDB(t, t.TempDir(), dbKey)
				id := newIdentity(t)
				opts := keychain.RotateOptions{DBPath: db.path, Recipient: id.Recipient().String()}
				r := &rekeyer{db: db, failPre: tt.rekeyPre, failPst: tt.rekeyPost}
				fails := tt.verifyFails
				verify := func(ctx context.Context, key []byte) error {
					if !bytes.Equal(key, oldKey) && fails > 0 {
						fails--
						return errors.New("database is locked")
					}
					return db.verify(ctx, key)
				}

				_, err = keychain.Rotate(ctx, src, r, verify, opts)
				if err == nil {
					t.Fatal("Rotate succeeded")
				}
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("err = %v, want %v", err, tt.wantErr)
					}
					if r.calls != 0 {
						t.Fatal("rekeyed a database the stored key does not open")
					}
					assertOnlyKey(t, src, oldKey)
					return
				}
				t.Logf("error: %v", err)
				keys, err := src.Candidates(ctx)
				if err != nil {
					t.Fatal(err)
				}
				key := opensWithOneOf(t, db, keys, "the stored keys")
				assertOnlyKey(t, src, key)
				if got := !bytes.Equal(key, oldKey); got != tt.wantNew {
					t.Fatalf("database under the new key: %v, want %v", got, tt.wantNew)
				}
				rec := readRecovery(t, db.path, id)
				if len(rec) != 1 || !bytes.Equal(rec[0], key) {
					t.Fatalf("recovery file holds %d keys, want the working key alone", len(rec))
				}
			})
		}
	}
}

// TestRotate_Crash kills the rotation (from then on nothing it does has an
// effect) at every point where state changes, before and after each change,
// then checks what a restarted app finds: a stored key and the recovery file
// each open the database, Resolve settles on one key, and rotation works
// again.
func TestRotate_Crash(t *testing.T) {
	for _, kind := range sourceKinds() {
		t.Run(kind.name, func(t *testing.T) {
			for at := 1; ; at++ {
				finished := false
				var sub *testing.T
				t.Run(fmt.Sprintf("point %d", at), func(t *testing.T) {
					sub = t
					finished = crashAt(t, kind, at)
				})
				if sub.Skipped() {
					t.Skip("source unavailable")
				}
				if finished || t.Failed() {
					t.Logf("%d crash points covered", at-1)
					if at < 5 {
						t.Fatalf("only %d crash points: the injection is not wired", at-1)
					}
					return
				}
			}
		})
	}
}

// crashAt runs one rotation that dies at crash point at; it reports whether
// the rotation finished without reaching that point.
func crashAt(t *testing.T, kind sourceKind, at int) (finished bool) {
	ctx := t.Context()
	src, wrapped, _ := kind.make(t)
	oldKey, _, err := src.GetOrCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	db := createDB(t, t.TempDir(), oldKey)
	id := newIdentity(t)
	opts := keychain.RotateOptions{DBPath: db.path, Recipient: id.Recipient().String()}
	if err := keychain.WriteRecovery(db.path, opts.Recipient, oldKey); err != nil {
		t.Fatal(err)
	}
	c := &crasher{at: at}
	verify := func(ctx context.Context, key []byte) error {
		if c.dead() {
			return errDead
		}
		return db.verify(ctx, key)
	}
	_, err = keychain.Rotate(ctx, wrapped(c), &rekeyer{db: db, c: c}, verify, opts)
	if c.died == "" {
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		return true
	}
	t.Logf("died %s; Rotate said: %v", c.died, err)
	if err == nil {
		t.Fatal("Rotate reported success after its process died")
	}

	// The process is gone: its connection too.
	db.db.Close()
	keys, err := src.Candidates(ctx)
	if err != nil {
		t.Fatalf("Candidates after the crash: %v", err)
	}
	opensWithOneOf(t, db, keys, "the stored keys")
	opensWithOneOf(t, db, readRecovery(t, db.path, id), "the recovery file")

	key, err := keychain.Resolve(ctx, src, db.verify)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if err := db.verify(ctx, key); err != nil {
		t.Fatalf("resolved key does not open the database: %v", err)
	}
	assertOnlyKey(t, src, key)

	db.reopen(t, key)
	newKey, err := keychain.Rotate(ctx, src, db, db.verify, opts)
	if err != nil {
		t.Fatalf("rotate after recovery: %v", err)
	}
	assertOnlyKey(t, src, newKey)
	return false
}

// TestResolve covers the states a crash can leave, set up directly
// (including a crash inside Promote, between its two writes).
func TestResolve(t *testing.T) {
	const (
		old = iota + 1
		next
		other
	)
	tests := []struct {
		name          string
		current, stag int // stored keys (0: none)
		dbUnder       int
		want          int   // key Resolve returns (0: error)
		wantErr       error // when want is 0
	}{
		{name: "clean", current: old, dbUnder: old, want: old},
		{name: "died before rekey", current: old, stag: next, dbUnder: old, want: old},
		{name: "died after rekey", current: old, stag: next, dbUnder: next, want: next},
		{name: "died inside promote", current: next, stag: next, dbUnder: next, want: next},
		{name: "current entry lost, next opens", stag: next, dbUnder: next, want: next},
		{name: "no key stored", dbUnder: old, wantErr: keychain.ErrKeyMissing},
		{name: "no stored key opens", current: old, stag: next, dbUnder: other, wantErr: keychain.ErrWrongKey},
	}
	for _, kind := range sourceKinds() {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				ctx := t.Context()
				keys := map[int][]byte{old: mustKey(t), next: mustKey(t), other: mustKey(t)}
				src, _, dropCurrent := kind.make(t)
				if tt.current != 0 || tt.stag != 0 {
					first := tt.current
					if first == 0 {
						first = tt.stag
					}
					if err := src.Promote(ctx, keys[first]); err != nil {
						t.Fatal(err)
					}
				}
				if tt.stag != 0 {
					if err := src.StageNext(ctx, keys[tt.stag]); err != nil {
						t.Fatal(err)
					}
				}
				if tt.current == 0 && tt.stag != 0 {
					if err := dropCurrent(); err != nil {
						t.Fatal(err)
					}
				}
				db := createDB(t, t.TempDir(), keys[tt.dbUnder])
				before, _ := src.Candidates(ctx)

				got, err := keychain.Resolve(ctx, src, db.verify)
				if tt.want == 0 {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Resolve = %v, want %v", err, tt.wantErr)
					}
					after, _ := src.Candidates(ctx)
					if len(after) != len(before) {
						t.Fatalf("stored keys changed from %d to %d on failure", len(before), len(after))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, keys[tt.want]) {
					t.Fatal("Resolve returned the wrong key")
				}
				assertOnlyKey(t, src, got)
				if cur, created, err := src.GetOrCreate(ctx, true); err != nil || created || !bytes.Equal(cur, got) {
					t.Fatalf("current key after Resolve: created=%v err=%v", created, err)
				}
			})
		}
	}
}
