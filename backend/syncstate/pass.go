package syncstate

// Kinds of pass (the store's meta sync_pass; docs/design.md section 3,
// "Full passes, committed cursors and timelines").
const (
	// PassFull is a pass after a first sync, a 410 resync, an upgrade
	// re-pull or an enrollment.
	PassFull = "full"
	// PassTimeline is the pass after a timeline change: it must end before
	// the next push (the store's ChangeTimeline).
	PassTimeline = "timeline"
	// PassReenroll is the pass after enrolling again at the same site while
	// the device knows its server's timeline: like a timeline pass it ends
	// before the next push, but nothing is reset for it
	// (backend/store/reenroll.go).
	PassReenroll = "reenroll"
)

// PullState is where the next pull starts.
type PullState struct {
	// Cursor is the last change sequence committed here.
	Cursor int64
	// Pass is the kind of pass in progress ("" = none). A pull from
	// cursor 0 starts one.
	Pass string
	// Timeline is the server timeline this device follows ("" = none seen
	// yet: it adopts the first).
	Timeline string
}

// FullPass reports whether the next pull belongs to a full pass.
func (p PullState) FullPass() bool { return p.Pass != "" || p.Cursor == 0 }
