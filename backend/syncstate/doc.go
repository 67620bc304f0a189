// Package syncstate holds the row states and the values the desktop store
// (backend/store) and the sync client (backend/syncclient) exchange: a
// row's sync state, the persisted push batch, what a push, a pull page or a
// repair did, where the next pull starts, a rejected row, a queued conflict
// decision, the status bar's counts, the last verification and the timeline
// change error. That is its one job.
//
// It links no database driver (issue 19): the store links go-sqlcipher, the
// server mattn/go-sqlite3, and the two cannot share a binary (docs/design.md
// section 1). A site hub is the server binary and reuses the sync client's
// wire client for its upstream link, so the sync client speaks of the
// store's values through this package rather than importing the store.
// backend/store re-exports every name here (type aliases, constants and
// variables), so its callers see no difference.
package syncstate
