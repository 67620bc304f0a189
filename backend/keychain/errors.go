package keychain

import "errors"

// Sentinel errors callers branch on. Errors returned by this package wrap one
// of them with a sentence that says what is wrong and what to do.
var (
	// ErrUnavailable means the OS keychain cannot be used: no Secret Service on
	// the session bus, a locked keychain nobody unlocked, or no answer within
	// the timeout. The database must not be opened (and never created
	// unencrypted) until it is fixed.
	ErrUnavailable = errors.New("keychain unavailable")

	// ErrKeyMissing means the database file exists but no key for it is
	// stored. A new key is never created in that case: the database would be
	// lost. IT can restore the key with outpost-recover.
	ErrKeyMissing = errors.New("database key missing")

	// ErrNotFound means no key is stored under the requested name.
	ErrNotFound = errors.New("key not found")

	// ErrWrongKey means keys are stored but none of them opens the database
	// (a wrong key and a corrupt file look the same to SQLCipher).
	ErrWrongKey = errors.New("no stored key opens the database")

	// ErrInvalidKey means a stored key is not 64 hexadecimal characters.
	ErrInvalidKey = errors.New("stored key is malformed")

	// ErrInsecureKeyFile means a kiosk key file is readable or writable by
	// other users (permissions wider than 0600).
	ErrInsecureKeyFile = errors.New("key file permissions too open")
)
