// Command outpost-recover lets IT unlock an Outpost database whose keychain
// entry is lost, with the site recovery private key.
//
// The desktop app, when the managed config names a site recovery public key,
// keeps the database key age-encrypted beside the database as
// <db>.recovery.age. This command decrypts it with the matching age identity
// and then prints the key, exports an unencrypted copy of the database, or
// stores the key back in the OS keychain (or a kiosk key file) so the app
// opens the database again. It also makes the site key pair (--keygen).
//
//	outpost-recover --keygen site-recovery.key
//	outpost-recover --db PATH --identity FILE --print-key
//	outpost-recover --db PATH --identity FILE --export plaintext.db
//	outpost-recover --db PATH --identity FILE --reinstall-key [--key-file F]
//
// It links go-sqlcipher and must never import github.com/mattn/go-sqlite3.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	_ "github.com/mutecomm/go-sqlcipher/v4" // registers "sqlite3": SQLCipher

	"github.com/outpost-app/outpost/backend/keychain"
)

// Command-line mistakes exit with status 2; errReported is one the flag
// package has already printed.
var (
	errUsage    = errors.New("usage")
	errReported = errors.New("bad flags")
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errReported):
		os.Exit(2)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "outpost-recover:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "outpost-recover:", err)
		os.Exit(1)
	}
}

type options struct {
	db, identity, export, keyFile, keygen, account string
	printKey, reinstall, showVersion               bool
	timeout                                        time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fset := flag.NewFlagSet("outpost-recover", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.db, "db", "", "`path` of the encrypted Outpost database (path.recovery.age beside it is read)")
	fset.StringVar(&o.identity, "identity", "", "age identity file holding the site recovery private key")
	fset.BoolVar(&o.printKey, "print-key", false, "print the database key (64 hex characters)")
	fset.StringVar(&o.export, "export", "", "write an unencrypted copy of the database to this new `file`")
	fset.BoolVar(&o.reinstall, "reinstall-key", false, "store the key in the OS keychain (run as the app's user, in their session) so Outpost opens the database again")
	fset.StringVar(&o.keyFile, "key-file", "", "with --reinstall-key: write the kiosk key `file` instead of the OS keychain")
	fset.StringVar(&o.keygen, "keygen", "", "make a site recovery key pair: write the private key to this new `file`, print the public key")
	fset.StringVar(&o.account, "account", keychain.DefaultAccount, "with --reinstall-key: keychain account (service \""+keychain.DefaultService+"\")")
	fset.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fset.DurationVar(&o.timeout, "timeout", keychain.DefaultTimeout, "limit for each keychain call")
	fset.Usage = func() {
		fmt.Fprint(stderr, `usage:
  outpost-recover --keygen FILE
  outpost-recover --db PATH --identity FILE [--print-key] [--export OUT.db] [--reinstall-key [--key-file F]]

`)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errReported
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fset.Arg(0))
	}
	if o.showVersion {
		fmt.Fprintln(stdout, "outpost-recover", version)
		return nil
	}
	if o.keygen != "" {
		if o.db != "" || o.identity != "" || o.printKey || o.export != "" || o.reinstall {
			return fmt.Errorf("%w: --keygen goes alone", errUsage)
		}
		return keygen(o.keygen, stdout)
	}
	if o.db == "" || o.identity == "" {
		return fmt.Errorf("%w: --db and --identity are required (see --help)", errUsage)
	}
	if !o.printKey && o.export == "" && !o.reinstall {
		return fmt.Errorf("%w: say what to do: --print-key, --export FILE or --reinstall-key", errUsage)
	}
	if o.keyFile != "" && !o.reinstall {
		return fmt.Errorf("%w: --key-file goes with --reinstall-key", errUsage)
	}

	keys, err := keychain.ReadRecoveryFile(o.db, o.identity)
	if err != nil {
		return err
	}
	key, err := findKey(ctx, o.db, keys)
	if errors.Is(err, fs.ErrNotExist) && o.printKey && o.export == "" && !o.reinstall {
		// Only the recovery file was copied here: print what it holds.
		fmt.Fprintf(stderr, "%s not found: printing every key in the recovery file, current first\n", o.db)
		for _, k := range keys {
			fmt.Fprintln(stdout, keychain.EncodeKey(k))
		}
		return nil
	}
	if err != nil {
		return err
	}
	if o.printKey {
		fmt.Fprintln(stdout, keychain.EncodeKey(key))
	}
	if o.export != "" {
		if err := export(ctx, o.db, key, o.export); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote an unencrypted copy of %s to %s: it is readable by anyone who can read the file; delete it when done\n", o.db, o.export)
	}
	if o.reinstall {
		src := keychain.SourceFor(o.keyFile, keychain.Options{Account: o.account, Timeout: o.timeout})
		if err := src.Promote(ctx, key); err != nil {
			return fmt.Errorf("reinstall key: %w", err)
		}
		fmt.Fprintf(stderr, "stored the key of %s in the %s: Outpost opens it again\n", o.db, src)
	}
	return nil
}

// keygen writes a new age identity to path (never over an existing file) and
// prints its public key.
func keygen(path string, stdout io.Writer) error {
	identity, recipient, err := keychain.GenerateRecoveryIdentity(time.Now())
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create identity file: %w", err)
	}
	if _, err := io.WriteString(f, identity); err != nil {
		f.Close()
		return fmt.Errorf("write identity file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write identity file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write identity file: %w", err)
	}
	fmt.Fprintln(stdout, recipient)
	return nil
}

// findKey returns the first of keys that opens the database at path.
func findKey(ctx context.Context, path string, keys [][]byte) ([]byte, error) {
	var failures []error
	for _, key := range keys {
		db, err := openDB(path, key)
		if err != nil {
			return nil, err
		}
		err = check(ctx, db)
		db.Close()
		if err == nil {
			return key, nil
		}
		failures = append(failures, err)
	}
	return nil, fmt.Errorf("no key in %s opens %s (is it this database's recovery file?): %w",
		keychain.RecoveryPath(path), path, errors.Join(failures...))
}

// openDB opens the existing SQLCipher database at path with key. The key goes
// in the DSN: it is applied to every pooled connection, and PRAGMA key through
// Exec after opening does not work with go-sqlcipher.
func openDB(path string, key []byte) (*sql.DB, error) {
	// The driver creates missing files; never make an empty database here.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	dsn := "file:" + uriPath(path) + "?_pragma_key=" + keychain.DSNKey(key) + "&_pragma_cipher_page_size=4096"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// check reads the schema: a wrong key shows up here as "file is not a
// database".
func check(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return fmt.Errorf("read database: %w", err)
	}
	return nil
}

// export writes an unencrypted copy of the database to out, which must not
// exist yet. The file is created first, 0600 and exclusively (O_EXCL: never
// through a name someone else prepared, such as a symlink), so the plaintext
// is readable by its owner only; SQLite then fills the empty file, and gives
// its journal the same mode.
func export(ctx context.Context, path string, key []byte, out string) error {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("export: %s already exists: choose a new file", out)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// The umask can only narrow 0600; Chmod makes it exact on a file
	// system that ignores the mode at creation.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		os.Remove(out)
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return fmt.Errorf("export: %w", err)
	}
	if err := exportInto(ctx, path, key, out); err != nil {
		os.Remove(out)
		return err
	}
	return nil
}

// exportInto copies the database at path into the empty file out.
func exportInto(ctx context.Context, path string, key []byte, out string) error {
	db, err := openDB(path, key)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // ATTACH is per connection
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS plaintext KEY ''", out); err != nil {
		return fmt.Errorf("export: attach %s: %w", out, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT sqlcipher_export('plaintext')"); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE plaintext")
		return fmt.Errorf("export: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "DETACH DATABASE plaintext"); err != nil {
		return fmt.Errorf("export: detach: %w", err)
	}
	return nil
}

// uriPath escapes the characters a SQLite URI filename treats specially.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
