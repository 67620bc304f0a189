package store

import "errors"

// Sentinel errors callers branch on. They are returned wrapped; test with
// errors.Is. Validation problems are returned as (wrapped)
// *protocol.ValidationError instead, so the UI can show them by the field.
var (
	// ErrNotFound: no row with that id.
	ErrNotFound = errors.New("not found")
	// ErrWrongKey: SQLite read the file but could not decrypt it. The file
	// is left untouched.
	ErrWrongKey = errors.New("the database could not be decrypted: the key is wrong or the file is damaged")
	// ErrNoKey: Options.Key is empty and Options.Unencrypted was not set; the
	// store never falls back to a plaintext database silently.
	ErrNoKey = errors.New("no database key given (an unencrypted database needs Options.Unencrypted)")
	// ErrBadKey: a key that is not 32 bytes.
	ErrBadKey = errors.New("the database key must be 32 bytes")
	// ErrSchemaTooNew: the file was written by a newer Outpost.
	ErrSchemaTooNew = errors.New("the database was written by a newer version of Outpost; update the app")
	// ErrDeleted: the row is soft-deleted; restore it before editing.
	ErrDeleted = errors.New("the row is deleted; restore it before editing")
	// ErrNotEncrypted: Rekey on a store opened with Options.Unencrypted.
	ErrNotEncrypted = errors.New("the database is not encrypted")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("the store is closed")
	// ErrUnknownTable: a table name the registry does not know.
	ErrUnknownTable = errors.New("unknown table")
)
