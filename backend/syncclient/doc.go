// Package syncclient is the desktop's sync engine (docs/design.md sections 3–5):
// push, then pull, whenever the server is reachable.
//
// A Client drives the local store's sync primitives (backend/store:
// batches.go, pushresults.go, pullpages.go) through the wire contract v1 (API): the open batch is
// persisted before its first send and re-sent byte for byte until the
// server answers; its results are applied in one local transaction with
// the batch's removal; pull pages are applied with their cursor in one
// transaction, never touching a row that is not clean. The clock offset is
// measured from every server_time; clock_ahead rejections are re-stamped and
// resubmitted by themselves; a 410 re-pulls from cursor 0 after pushing.
//
// Run keeps it going: at start, after local writes (debounced), when the
// server's event stream announces a change, and on a slow poll; while the
// server is unreachable it probes /v1/health with capped exponential backoff
// and jitter. The device token lives in the OS keychain (KeychainTokens,
// account "device-token"), never in the database or a config file.
//
// The decisions (row transitions, what an error means, backoff, clock
// offset) are pure functions in state.go; docs/architecture.md ("Sync
// client: row states") draws the state machine and its crash analysis.
//
// The package links no database driver: it names the store's values
// through backend/syncstate and the store through the Store, ResolveStore
// and verifier interfaces, never backend/store itself (its go-sqlcipher
// cannot share a binary with the server's mattn/go-sqlite3). So the server
// can import it: a site hub is the server binary and reuses the wire client
// (API) and the token handling for its upstream link (issue 19).
package syncclient
