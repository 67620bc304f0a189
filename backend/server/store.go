package server

import (
	"context"
	"errors"

	"github.com/outpost-app/outpost/backend/checksum"
)

// Sentinel errors of the storage layer; stores return them (wrapped or not)
// and the server branches on them with errors.Is.
var (
	// ErrNotFound: the row, version, batch, device or conflict does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidCode: an enrollment code is unknown, expired or used up.
	ErrInvalidCode = errors.New("invalid enrollment code")
	// ErrUnavailable: the database cannot be reached or is busy beyond its
	// timeout; the server answers 503.
	ErrUnavailable = errors.New("database unavailable")
	// ErrSchemaTooNew: a newer server migrated the database; this one
	// neither opens nor writes it (it would write rows without what the
	// newer schema keeps with them).
	ErrSchemaTooNew = errors.New("the database schema is newer than this server's: upgrade the server")
)

// Store is the server's persistent state. Every piece of state lives here,
// never only in a server's memory, so several server processes may share one
// database (PostgreSQL). Times are milliseconds since the Unix epoch.
//
// The sync algorithm itself lives in this package (Engine) and runs over the
// primitives of Tx; a store only stores.
type Store interface {
	// Begin starts a write transaction holding the site's write lock: two
	// transactions of one site never overlap, so sequence numbers are
	// assigned in commit order. It creates the site when unknown.
	Begin(ctx context.Context, site string) (Tx, error)

	// Changes returns the current state of the rows of site whose version
	// is greater than after, ordered by version, at most limit of them.
	// Readers never see a version before every smaller version of the site
	// is visible.
	Changes(ctx context.Context, site string, after int64, limit int) ([]StoredRow, error)
	// ReadPage reads, in one read-only snapshot, the site's sequence and
	// horizon, the database's timeline and Changes(site, after, limit):
	// a pull page, its cursor and the horizon check agree with each other
	// whatever commits meanwhile (REPEATABLE READ on PostgreSQL, one read
	// transaction on SQLite). When fewer than limit rows come back (the
	// last page), it also reads the checksum of every table with live rows
	// (Page.Sums) in the same snapshot.
	ReadPage(ctx context.Context, site string, after int64, limit int) (Page, error)
	// Checksums returns, in one snapshot, the site's sequence and the
	// checksum of every non-empty bucket of table (docs/design.md section 8).
	Checksums(ctx context.Context, site, table string) (seq int64, buckets map[string]checksum.Sum, err error)
	// BucketRows returns, in one snapshot, the site's sequence and the live
	// rows of bucket whose id is greater than after (bytewise), in
	// ascending byte order of id, at most limit of them.
	BucketRows(ctx context.Context, site, bucket, after string, limit int) (seq int64, rows []StoredRow, err error)
	// RebuildChecksums recomputes every site's checksums from its rows
	// (`outpost-server checksums rebuild`), holding every site's write
	// lock; it returns the number of live rows counted.
	RebuildChecksums(ctx context.Context) (int64, error)
	// Timeline returns the database's timeline id (a UUID).
	Timeline(ctx context.Context) (string, error)
	// Restored gives the database the new timeline id and forgets every
	// device's committed cursor and full pass: positions on the old
	// timeline mean nothing on the new one. Run after restoring a backup.
	Restored(ctx context.Context, timeline string) error
	// SiteState returns the site's change sequence and purge horizon (zero
	// values for an unknown site).
	SiteState(ctx context.Context, site string) (SiteState, error)
	// History returns every stored version of one row, oldest first.
	History(ctx context.Context, site, table, id string) ([]StoredRow, error)
	// Meta reads one key of site outside any transaction (ErrNotFound when absent).
	Meta(ctx context.Context, site, key string) ([]byte, error)
	// MetaPrefix returns every key of site beginning with prefix and its value, in one snapshot.
	MetaPrefix(ctx context.Context, site, prefix string) (map[string][]byte, error)
	// Writes returns the stored versions of site's rows (their history: every
	// write, not only current states) whose version is greater than after, in
	// version order, at most limit of them; versions purged by retention are absent.
	// StoredRow.DeviceID, HLC, Deleted, Data and Bucket are filled as History fills them.
	Writes(ctx context.Context, site string, after int64, limit int) ([]StoredRow, error)
	// ConflictSite returns the site of conflict record id, or ErrNotFound.
	ConflictSite(ctx context.Context, id string) (string, error)
	// Sites lists every known site.
	Sites(ctx context.Context) ([]string, error)

	// CreateEnrollCode stores an enrollment code (by hash), creating its
	// site when unknown.
	CreateEnrollCode(ctx context.Context, c EnrollCode) error
	// Enroll consumes one use of the code with hash codeHash (valid at now)
	// and creates device d on the code's site with the code's role, both in
	// one transaction. It returns the stored device or ErrInvalidCode.
	Enroll(ctx context.Context, codeHash string, d Device, now int64) (Device, error)
	// DeviceByTokenHash returns the device holding the token, revoked or not.
	DeviceByTokenHash(ctx context.Context, tokenHash string) (Device, error)
	// ListDevices lists the devices of site ("" = every site), by site then
	// creation time.
	ListDevices(ctx context.Context, site string) ([]Device, error)
	// RevokeDevice marks the device revoked at time at (idempotent).
	RevokeDevice(ctx context.Context, id string, at int64) error
	// TouchDevice records that the device was seen at lastSeen.
	TouchDevice(ctx context.Context, id string, lastSeen int64) error
	// RecordPull records a device's pull: when it was seen, the cursor it
	// asked from, the cursor it has committed, and what became of its full
	// pass.
	RecordPull(ctx context.Context, id string, p PullRecord) error

	// TakeEnrollSlot counts the failures from addr at or after since and,
	// when fewer than limit, records a failure at time at and returns its
	// slot; both atomically, so parallel attempts never pass the limit.
	// ok is false (and nothing recorded) when the limit is reached.
	TakeEnrollSlot(ctx context.Context, addr string, at, since int64, limit int) (slot int64, ok bool, err error)
	// ReleaseEnrollSlot removes a slot TakeEnrollSlot took: the attempt did
	// not fail after all.
	ReleaseEnrollSlot(ctx context.Context, slot int64) error
	// EnrollFailures counts the failures from addr at or after since.
	EnrollFailures(ctx context.Context, addr string, since int64) (int, error)
	// DeleteExpired removes batch records older than batchesBefore, enroll
	// failures older than failuresBefore and expired enrollment codes.
	DeleteExpired(ctx context.Context, batchesBefore, failuresBefore, now int64) error

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Tx is one write transaction of one site (see Store.Begin). Every method
// acts on that site only, and reads see the transaction's own writes.
// Rollback after Commit is a no-op.
type Tx interface {
	// NextSeq increments the site's change sequence and returns it.
	NextSeq(ctx context.Context) (int64, error)
	// Seq returns the site's change sequence (this transaction's own
	// NextSeq calls included).
	Seq(ctx context.Context) (int64, error)
	// Timeline returns the database's timeline id, read under the lock.
	Timeline(ctx context.Context) (string, error)
	// GetRow returns the current state of a row, or ErrNotFound.
	GetRow(ctx context.Context, table, id string) (StoredRow, error)
	// GetRows returns the current states of the rows of table among ids
	// that exist, by id: one round trip for a whole push batch.
	GetRows(ctx context.Context, table string, ids []string) (map[string]StoredRow, error)
	// GetVersion returns one stored version of a row, or ErrNotFound.
	GetVersion(ctx context.Context, table, id string, version int64) (StoredRow, error)
	// HLCsHeld returns which of writes (rows of table, each with an hlc)
	// the row's stored history holds: a version of that row written with
	// that hlc — its current state and this transaction's writes included,
	// versions purged by retention not. A push recognises by it the writes
	// it already took (sync.go, writtenAlready), one round trip per table
	// of a batch; each row's history is read through the history's key,
	// never by a scan of the site's.
	HLCsHeld(ctx context.Context, table string, writes []RowHLC) (map[RowHLC]bool, error)
	// PutRow makes r the row's current state and adds it to its history.
	// A new row keeps r.Bucket for good; an existing row keeps its own.
	PutRow(ctx context.Context, r StoredRow) error
	// AddSum adds d (a count and a sum mod 2^64, either may be "negative")
	// to the checksum of bucket of table and to the table's. The engine
	// calls it with every PutRow; the store writes the sums before the
	// transaction commits, in it.
	AddSum(table, bucket string, d checksum.Sum)
	// Purged returns which of ids were tombstones of table purged by
	// retention (never to be written again).
	Purged(ctx context.Context, table string, ids []string) (map[string]bool, error)

	// GetBatch returns the stored response of (device, batch), or ErrNotFound.
	GetBatch(ctx context.Context, deviceID, batchID string) ([]byte, error)
	// PutBatch records the response of (device, batch).
	PutBatch(ctx context.Context, deviceID, batchID string, response []byte, at int64) error

	// Meta returns the value stored under key for the transaction's site, or
	// ErrNotFound. Keys are short text; the sync engine and a hub's upstream
	// link keep their per-site state there (docs/design.md section 9).
	Meta(ctx context.Context, key string) ([]byte, error)
	// SetMeta stores value under key for the site; a nil value deletes the key.
	SetMeta(ctx context.Context, key string, value []byte) error

	// Pin keeps versions of a row from being purged while conflict
	// conflictID needs them; Unpin releases them.
	Pin(ctx context.Context, conflictID, table, id string, versions ...int64) error
	Unpin(ctx context.Context, conflictID string) error
	// PurgeTombstones deletes the unpinned tombstones whose version is at
	// most upTo (with their history), remembers their ids as purged, and
	// raises the site's horizon to the greatest version purged.
	PurgeTombstones(ctx context.Context, upTo int64) (int, error)
	// PurgeVersions deletes unpinned history versions at most upTo that are
	// not a row's current version.
	PurgeVersions(ctx context.Context, upTo int64) (int, error)

	Commit() error
	Rollback() error
}

// OtherWriters is implemented by a Tx that can tell whether a device other
// than deviceID, or a conflict resolution (any device's, deviceID's
// included), wrote a row at a version greater than after (in the stored
// history, the transaction's own writes included). The sync engine needs it
// for "no other device has written the row since base_version": the pusher
// being the row's last writer does not mean no other device wrote in
// between. A manager's decision is not one of its own pushes either: a
// change it pushes on a version before its decision was made before it,
// does not hold it, and is merged with it like another device's change
// (applied whole, it would undo the decision). A Tx without it falls back
// to the last writer alone.
type OtherWriters interface {
	WrittenByOthers(ctx context.Context, table, id string, after int64, deviceID string) (bool, error)
}

// RowHLC names one write of one row: the row's id and the write's hlc.
type RowHLC struct{ ID, HLC string }

// StoredRow is one state of one row as stored: Data is the JSON object of
// every column (the pull feed's row), opaque to the store.
type StoredRow struct {
	Table    string
	ID       string
	Version  int64
	HLC      string
	DeviceID string // the device whose write this is
	Deleted  bool   // a tombstone (deleted_at set)
	Data     []byte
	// Bucket is the row's checksum bucket (docs/design.md section 8), fixed
	// when the row is first written.
	Bucket string
}

// SiteState is a site's change sequence and purge horizon: cursors below
// the horizon (other than 0) must resync.
type SiteState struct {
	Seq     int64
	Horizon int64
}

// Page is one pull page read in one snapshot (Store.ReadPage).
type Page struct {
	State    SiteState
	Timeline string
	Rows     []StoredRow
	// Sums is the checksum of every table with live rows, read only for a
	// page of fewer rows than asked (nil otherwise).
	Sums map[string]checksum.Sum
}

// Device is an enrolled device.
type Device struct {
	ID        string
	SiteID    string
	Name      string
	Role      string
	Platform  string
	TokenHash string
	CreatedAt int64
	LastSeen  int64 // 0 = never
	// Cursor is the cursor the device last pulled from; Committed the
	// cursor it last said it has committed (retention counts only this).
	Cursor, Committed int64
	// PassHorizon is the site's purge horizon when the device's current
	// full pass (a pull chain that began at cursor 0) began, or -1 when no
	// full pass is in progress.
	PassHorizon int64
	RevokedAt   int64 // 0 = active
	// Verified is the cursor the device last said it verified its data
	// at (docs/design.md section 8), VerifiedAt when it said so; -1 and 0 until
	// it does.
	Verified, VerifiedAt int64
}

// PullRecord is what one pull tells about its device (Store.RecordPull).
type PullRecord struct {
	LastSeen  int64
	Cursor    int64
	Committed int64
	// Pass says what becomes of the device's full pass.
	Pass PassChange
	// PassHorizon is the horizon a pass that begins (PassBegin) keeps.
	PassHorizon int64
	// Verified, when not nil, is the cursor the device says it verified
	// at; it is recorded with the pull's time.
	Verified *int64
}

// PassChange is what a pull does to its device's full pass record.
type PassChange int

const (
	// PassKeep leaves the record as it is.
	PassKeep PassChange = iota
	// PassBegin records a pass that began now (at cursor 0).
	PassBegin
	// PassEnd records that no pass is in progress.
	PassEnd
)

// EnrollCode is an enrollment code as stored: only its hash.
type EnrollCode struct {
	Hash      string
	SiteID    string
	Role      string
	Uses      int
	ExpiresAt int64
	CreatedAt int64
}
