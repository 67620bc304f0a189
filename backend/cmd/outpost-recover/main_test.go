package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/outpost-app/outpost/backend/keychain"
)

// The test binary doubles as outpost-recover: with this variable set it runs
// main, so the tests exercise the real command line, exit codes included.
const runMainEnv = "OUTPOST_RECOVER_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run outpost-recover: %v", err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

func dsn(path string, key []byte) string {
	d := "file:" + path + "?_pragma_cipher_page_size=4096"
	if key != nil {
		d += "&_pragma_key=" + keychain.DSNKey(key)
	}
	return d
}

// createDB makes an encrypted database the way the store does (raw key in
// the DSN, WAL) holding one production record.
func createDB(t *testing.T, path string, key []byte) {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(path, key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		`CREATE TABLE production_records (id TEXT PRIMARY KEY, line_id TEXT NOT NULL, quantity INTEGER NOT NULL)`,
		`INSERT INTO production_records VALUES ('7f1c2a9e-0000-4000-8000-000000000001', 'line-3', 1234)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func readRow(t *testing.T, path string, key []byte) (string, int) {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(path, key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var line string
	var qty int
	if err := db.QueryRow("SELECT line_id, quantity FROM production_records").Scan(&line, &qty); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return line, qty
}

func newKey(t *testing.T) []byte {
	t.Helper()
	key, err := keychain.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// site sets up what IT has: a site key pair made with --keygen, and a
// database whose recovery file was written with the public key.
type site struct {
	dir, db, identity, recipient string
	key                          []byte
}

func newSite(t *testing.T) site {
	t.Helper()
	s := site{dir: t.TempDir(), key: newKey(t)}
	s.db = filepath.Join(s.dir, "outpost.db")
	s.identity = filepath.Join(s.dir, "site-recovery.key")
	r := runCLI(t, "--keygen", s.identity)
	if r.code != 0 {
		t.Fatalf("--keygen: exit %d: %s", r.code, r.stderr)
	}
	s.recipient = strings.TrimSpace(r.stdout)
	createDB(t, s.db, s.key)
	if err := keychain.WriteRecovery(s.db, s.recipient, s.key); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecover_EndToEnd(t *testing.T) {
	s := newSite(t)

	t.Run("keygen writes a private identity and prints the public key", func(t *testing.T) {
		if !strings.HasPrefix(s.recipient, "age1") || strings.Contains(s.recipient, "\n") {
			t.Fatalf("public key %q", s.recipient)
		}
		info, err := os.Stat(s.identity)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Errorf("identity mode %04o, want 0600", info.Mode().Perm())
		}
		before, _ := os.ReadFile(s.identity)
		if r := runCLI(t, "--keygen", s.identity); r.code != 1 || !strings.Contains(r.stderr, "exists") {
			t.Fatalf("--keygen over an existing file: exit %d, %q", r.code, r.stderr)
		}
		if after, _ := os.ReadFile(s.identity); !bytes.Equal(before, after) {
			t.Fatal("identity file overwritten")
		}
	})

	t.Run("print-key", func(t *testing.T) {
		r := runCLI(t, "--db", s.db, "--identity", s.identity, "--print-key")
		if r.code != 0 || r.stdout != hex.EncodeToString(s.key)+"\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("export writes a plaintext copy", func(t *testing.T) {
		out := filepath.Join(s.dir, "plaintext.db")
		r := runCLI(t, "--db", s.db, "--identity", s.identity, "--export", out)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		head, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(head, []byte("SQLite format 3\x00")) {
			t.Fatalf("export is not a plain SQLite file: %q", head[:16])
		}
		if line, qty := readRow(t, out, nil); line != "line-3" || qty != 1234 {
			t.Fatalf("row = %s %d", line, qty)
		}
		orig, _ := os.ReadFile(s.db)
		if bytes.HasPrefix(orig, []byte("SQLite format 3")) || bytes.Contains(orig, []byte("line-3")) {
			t.Fatal("the original database is not encrypted")
		}
		if line, _ := readRow(t, s.db, s.key); line != "line-3" {
			t.Fatal("the original database changed")
		}

		again := runCLI(t, "--db", s.db, "--identity", s.identity, "--export", out)
		if again.code != 1 || !strings.Contains(again.stderr, "already exists") {
			t.Fatalf("export over an existing file: exit %d, %q", again.code, again.stderr)
		}
		if after, _ := os.ReadFile(out); !bytes.Equal(after, head) {
			t.Fatal("existing export overwritten")
		}
	})

	t.Run("reinstall-key into a kiosk key file", func(t *testing.T) {
		keyFile := filepath.Join(s.dir, "kiosk", "db.key")
		r := runCLI(t, "--db", s.db, "--identity", s.identity, "--reinstall-key", "--key-file", keyFile)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got, created, err := keychain.NewKeyFile(keyFile).GetOrCreate(t.Context(), true)
		if err != nil || created || !bytes.Equal(got, s.key) {
			t.Fatalf("key file after reinstall: created=%v err=%v", created, err)
		}
	})

	t.Run("reinstall-key into the OS keychain", func(t *testing.T) {
		account := "test-recover-" + hex.EncodeToString(newKey(t)[:6])
		kc := keychain.New(keychain.Options{Account: account})
		if _, err := kc.Candidates(t.Context()); errors.Is(err, keychain.ErrUnavailable) {
			if os.Getenv("OUTPOST_REQUIRE_KEYCHAIN") != "" {
				t.Fatalf("OUTPOST_REQUIRE_KEYCHAIN is set but: %v", err)
			}
			t.Skipf("no OS keychain: %v", err)
		}
		t.Cleanup(func() { kc.Delete(context.Background()) })
		r := runCLI(t, "--db", s.db, "--identity", s.identity, "--reinstall-key", "--account", account)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		raw, err := keyring.Get(keychain.DefaultService, account)
		if err != nil || raw != hex.EncodeToString(s.key) {
			t.Fatalf("keychain holds %q, %v", raw, err)
		}
		got, created, err := kc.GetOrCreate(t.Context(), true)
		if err != nil || created || !bytes.Equal(got, s.key) {
			t.Fatalf("GetOrCreate after reinstall: created=%v err=%v", created, err)
		}
	})
}

func TestRecover_Rotation(t *testing.T) {
	// A rotation died after rekeying: the recovery file holds the old key
	// first, then the new one the database is under.
	s := newSite(t)
	old := newKey(t)
	if err := keychain.WriteRecovery(s.db, s.recipient, old, s.key); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--db", s.db, "--identity", s.identity, "--print-key")
	if r.code != 0 || r.stdout != hex.EncodeToString(s.key)+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the key that opens the database", r.code, r.stdout, r.stderr)
	}

	// Only the recovery file was copied to IT's machine: every key printed.
	moved := filepath.Join(t.TempDir(), "outpost.db")
	data, err := os.ReadFile(keychain.RecoveryPath(s.db))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keychain.RecoveryPath(moved), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "--db", moved, "--identity", s.identity, "--print-key")
	want := hex.EncodeToString(old) + "\n" + hex.EncodeToString(s.key) + "\n"
	if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(moved); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a database file was created")
	}
}

func TestRecover_Errors(t *testing.T) {
	s := newSite(t)
	other := filepath.Join(s.dir, "other.key")
	if r := runCLI(t, "--keygen", other); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// A recovery file that belongs to another database.
	foreign := filepath.Join(s.dir, "foreign.db")
	createDB(t, foreign, newKey(t))
	if err := keychain.WriteRecovery(foreign, s.recipient, newKey(t)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", nil, 2, "--db and --identity are required"},
		{"no action", []string{"--db", s.db, "--identity", s.identity}, 2, "say what to do"},
		{"stray argument", []string{"--db", s.db, "--identity", s.identity, "--print-key", "extra"}, 2, "unexpected argument"},
		{"key-file without reinstall", []string{"--db", s.db, "--identity", s.identity, "--print-key", "--key-file", "x"}, 2, "--key-file goes with --reinstall-key"},
		{"keygen with others", []string{"--keygen", filepath.Join(s.dir, "k"), "--db", s.db}, 2, "--keygen goes alone"},
		{"unknown flag", []string{"--frobnicate"}, 2, "flag provided but not defined"},
		{"wrong identity", []string{"--db", s.db, "--identity", other, "--print-key"}, 1, "not the site recovery key"},
		{"identity file missing", []string{"--db", s.db, "--identity", filepath.Join(s.dir, "nope"), "--print-key"}, 1, "open identity file"},
		{"recovery file missing", []string{"--db", filepath.Join(s.dir, "none.db"), "--identity", s.identity, "--print-key"}, 1, "open recovery file"},
		{"recovery file of another database", []string{"--db", foreign, "--identity", s.identity, "--export", filepath.Join(s.dir, "x.db")}, 1, "no key in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if r.stdout != "" {
				t.Fatalf("stdout %q on failure", r.stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(s.dir, "x.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed export left a file")
	}
}

// TestRecover_NoMattnSQLite guards DESIGN §1: this binary links go-sqlcipher,
// so mattn/go-sqlite3 must never be among its dependencies.
func TestRecover_NoMattnSQLite(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.CommandContext(t.Context(), gobin, "list", "-deps", "-test", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/mattn/go-sqlite3") {
			t.Fatalf("outpost-recover depends on %s", dep)
		}
	}
	if !strings.Contains(string(out), "github.com/mutecomm/go-sqlcipher/v4") {
		t.Fatal("go-sqlcipher missing from the dependencies: is go list looking at the right package?")
	}
}

// TestRecover_ExportPrivate: the plaintext export holds the whole database
// in clear, so it is created for its owner only (0600, whatever the umask),
// and never through a name another user prepared (a symlink is refused).
func TestRecover_ExportPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are ACLs on Windows")
	}
	s := newSite(t)
	out := filepath.Join(s.dir, "plaintext.db")
	r := runCLI(t, "--db", s.db, "--identity", s.identity, "--export", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("export mode %v, want 0600", fi.Mode().Perm())
	}
	if line, _ := readRow(t, out, nil); line != "line-3" {
		t.Fatalf("export row %q", line)
	}

	target := filepath.Join(s.dir, "elsewhere.db")
	link := filepath.Join(s.dir, "link.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "--db", s.db, "--identity", s.identity, "--export", link)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("export through a dangling symlink: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("export followed a symlink")
	}
}
