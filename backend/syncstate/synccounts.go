package syncstate

// SyncCounts is what the status bar shows.
type SyncCounts struct {
	// Pending counts rows waiting to be pushed (not in flight, not held).
	Pending        int64 `json:"pending"`
	InFlight       int64 `json:"in_flight"`
	AwaitingReview int64 `json:"awaiting_review"`
	Rejected       int64 `json:"rejected"`
	OpenConflicts  int64 `json:"open_conflicts"`
}

// Unsettled is every row the server has not accepted yet.
func (c SyncCounts) Unsettled() int64 {
	return c.Pending + c.InFlight + c.AwaitingReview + c.Rejected
}
