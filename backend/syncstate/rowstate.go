package syncstate

// Row states of a synced row. Clean and Pending are not stored in sync_rows:
// clean = synced_at set; pending = synced_at NULL with no entry, or with an
// entry whose hlc is not the row's (edited again since it met the server).
const (
	StateClean          = "clean"
	StatePending        = "pending"
	StateInFlight       = "in_flight"
	StateAwaitingReview = "awaiting_review"
	// StateResolving is awaiting review whose resolution has been pulled
	// while the resolved row state has not yet arrived.
	StateResolving = "resolving"
	StateRejected  = "rejected"
)
