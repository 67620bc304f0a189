package syncstate

// PushOutcome counts how a batch's results settled its rows.
type PushOutcome struct {
	Applied, Merged, Superseded, Conflicts, Rejected int
	// StillPending counts rows edited again while in flight: acknowledged
	// at their new version, they stay pending.
	StillPending int
	// ClockAhead lists the rows rejected with clock_ahead, which the client
	// re-stamps and resubmits by itself (the store's Restamp).
	ClockAhead []RowKey
}

// RowKey names one row of a synced table.
type RowKey struct {
	Table string `json:"table"`
	ID    string `json:"id"`
}
