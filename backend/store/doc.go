// Package store is Outpost's local database: one SQLCipher-encrypted SQLite
// file per user (docs/design.md section 2), opened with a raw 256-bit key so that
// opening costs no key derivation.
//
// A Store holds two connection pools on the same file, as pocketbase does: a
// writer with exactly one connection (SQLite allows one writer at a time; one
// connection turns lock contention into a Go-side queue and makes every write
// transaction BEGIN IMMEDIATE) and a pool of read-only readers that WAL lets
// run beside the writer. The schema lives in embedded, numbered migrations
// (migrations/NNNN_*.sql) applied in one transaction by the runner the
// server's stores use too (backend/internal/migrate) and recorded in
// PRAGMA user_version.
//
// Every edit of a synced table validates the row through the shared
// protocol registry (the rules the server applies), stamps it with the
// store's hybrid logical clock, sets updated_at and clears synced_at, in one
// transaction; the clock's last reading is saved in the same transaction so
// that restarts stay monotonic. NewBatch takes what the sync client has to
// push, through the partial index on synced_at.
//
// The sync client's storage primitives (docs/design.md section 3) — a new batch,
// the settlement of its results, a pull page, a discard — are each one write
// transaction, so a crash leaves either the state before it or the state
// after it. Each concept has its own file, named after it (batches.go,
// pushresults.go, pullpages.go, quarantine.go …); docs/architecture.md
// lists them.
//
// The package links github.com/mutecomm/go-sqlcipher and therefore must
// never be imported together with github.com/mattn/go-sqlite3 (docs/design.md
// section 1).
package store
