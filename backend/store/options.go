package store

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Options configures Open. Only Path and Key are required; the zero value of
// every other field picks the measured default (docs/benchmarks.md).
type Options struct {
	// Path of the database file. Its directory is created (0700) when
	// missing; a new file is created 0600.
	Path string
	// Key is the raw 256-bit SQLCipher key, given to SQLite as x'…' so no
	// key derivation runs. Required unless Unencrypted is set.
	Key []byte
	// Unencrypted opens a plain SQLite file through the same driver, for
	// benchmarks and tools only. The app never sets it: docs/design.md (section 2) forbids a
	// silent plaintext database.
	Unencrypted bool

	// CacheSizeKiB is each connection's page cache (PRAGMA cache_size).
	// Default 32768 (32 MiB), grown only as pages are read. SQLCipher keeps
	// decrypted pages in this cache, so a larger cache saves decryption on
	// repeated reads; it costs memory and keeps more plaintext in RAM.
	CacheSizeKiB int
	// MemorySecurity turns SQLCipher's cipher_memory_security on: all memory
	// SQLite frees is zeroed and its allocations are locked in RAM. It is a
	// process-wide setting (it also slows unencrypted databases in the same
	// process) and makes batched writes ~1.5× slower; it is off by default because
	// it only wipes freed memory: the key and the live page cache stay in
	// memory either way, and at-rest protection (the point of the
	// encryption) does not depend on it. Sites that fear memory dumps or
	// swap on unencrypted disks can turn it on.
	MemorySecurity bool
	// CipherPageSize is PRAGMA cipher_page_size (SQLCipher 4 default 4096).
	// It is not stored in the file: a database must always be opened with
	// the size it was created with. 0 = the default.
	CipherPageSize int
	// ReadConns is the reader pool's size. Default max(4, GOMAXPROCS).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock. Default 5 s.
	BusyTimeout time.Duration
	// Synchronous is PRAGMA synchronous for the writer: "FULL" (default:
	// every commit is on disk when it returns, so an operator's saved edit
	// survives a power cut) or "NORMAL" (WAL is synced only at checkpoints:
	// faster single-row commits, but the last commits can be lost on power
	// loss — never corruption).
	Synchronous string

	// Now returns the device clock in ms since the Unix epoch; tests set it.
	// Default time.Now.
	Now func() int64
}

func (o Options) withDefaults() (Options, error) {
	if o.Path == "" {
		return o, fmt.Errorf("options: Path is empty")
	}
	switch {
	case o.Unencrypted && len(o.Key) > 0:
		return o, fmt.Errorf("options: both Key and Unencrypted are set")
	case !o.Unencrypted && len(o.Key) == 0:
		return o, ErrNoKey
	case !o.Unencrypted && len(o.Key) != 32:
		return o, fmt.Errorf("%w (got %d)", ErrBadKey, len(o.Key))
	}
	if o.CacheSizeKiB == 0 {
		o.CacheSizeKiB = 32 << 10
	}
	if o.ReadConns <= 0 {
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	o.Synchronous = strings.ToUpper(o.Synchronous)
	switch o.Synchronous {
	case "":
		o.Synchronous = "FULL"
	case "FULL", "NORMAL", "OFF", "EXTRA":
	default:
		return o, fmt.Errorf("options: Synchronous %q is not FULL, NORMAL, OFF or EXTRA", o.Synchronous)
	}
	if o.CipherPageSize != 0 && (o.CipherPageSize < 512 || o.CipherPageSize > 65536 || o.CipherPageSize&(o.CipherPageSize-1) != 0) {
		return o, fmt.Errorf("options: CipherPageSize %d is not a power of two in 512–65536", o.CipherPageSize)
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixMilli() }
	}
	o.Key = append([]byte(nil), o.Key...)
	return o, nil
}
