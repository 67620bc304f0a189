package syncstate

// PullOutcome counts what one pull page did locally.
type PullOutcome struct {
	// Written rows took the server's state; Kept rows were not clean and
	// kept their local edit and version; Ignored changes were of tables this
	// build does not know.
	Written, Kept, Ignored, Conflicts, Resolved int
	// Removed counts clean rows a full pass ended without bringing: the
	// server no longer has them (docs/design.md section 3, "Full passes").
	Removed int
	// PassEnded: the pages ended a full pass.
	PassEnded bool
	// Repushed counts rows a timeline pass made pending again with this
	// device's own write that the server held only as a conflict record's
	// "mine" (backend/store/restoredmine.go).
	Repushed int
}
