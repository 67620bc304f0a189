// Package keychain manages the key of the desktop's SQLCipher database.
//
// The key is 32 random bytes (crypto/rand), created on first start and kept,
// hex-encoded, in the OS keychain (Keychain: service "Outpost", account
// "database-key"; Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows, through github.com/zalando/go-keyring). SQLCipher gets
// it as a raw key (x'…', see DSNKey), so opening costs no key derivation.
// Headless kiosks may instead use a key file (KeyFile), but only when IT sets
// its path explicitly (EnvKeyFile): SourceFor never falls back silently.
// Both implement Source.
//
// # Failures callers branch on
//
//   - ErrUnavailable: the keychain cannot be reached (no Secret Service on the
//     session bus, a locked keyring, no answer within the timeout: every
//     keychain call runs in a goroutine bounded by ctx and a timeout, default
//     5 s, because an unlock prompt waits for a person). Never open or create
//     the database then, and never fall back to a plaintext one.
//   - ErrKeyMissing: the database exists but no key is stored. A new key is
//     never created for an existing database; IT restores the old one with
//     outpost-recover.
//   - ErrWrongKey: keys are stored but none opens the database.
//   - ErrNotFound: nothing stored under a name (Candidates).
//
// # Rotation and crash analysis
//
// Rotate replaces the key with PRAGMA rekey (through Rekeyer). The invariant:
// at every instant, some stored key opens the database, and a key is deleted
// only after the database is known to open without it. With old key O and new
// key N, a process that dies
//
//   - before StageNext: nothing changed; O is current and opens the database.
//   - after StageNext (N stored as "database-key.next"), before or during the
//     rekey, or after a failed rekey: the database is under O (rekeying is one
//     SQLCipher transaction, so it is wholly under O or wholly under N).
//     Candidates gives [O, N]; O opens; Resolve discards N.
//   - after the rekey, before Promote: the database is under N, current still
//     holds O. O fails, N opens; Resolve promotes N (current := N, then the
//     next entry is deleted).
//   - inside Promote, after current := N but before the next entry is
//     deleted: both entries hold N; Candidates gives [N, N]; Resolve opens
//     with N and deletes the leftover next entry.
//   - after Promote: done; only N is stored.
//
// So the opener of an existing database calls Resolve (or Candidates, trying
// each key, then Promote the one that opened if it was not the current one)
// instead of using GetOrCreate's key blindly.
//
// # Recovery
//
// When the managed config names a site recovery public key (an age X25519
// recipient, "age1…", EnvRecoveryRecipient), the key is also written
// age-encrypted beside the database as <db>.recovery.age (WriteRecovery: temp
// file, fsync, rename). Write it on create and at every start (it is cheap
// and follows a changed recipient); Rotate rewrites it with both keys before
// rekeying and with the new key alone after Promote, so the file always holds
// a key that opens the database, whatever step a crash interrupts. IT
// unwraps it with the matching private key: see backend/cmd/outpost-recover
// and docs/keys.md.
package keychain
