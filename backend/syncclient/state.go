package syncclient

import (
	"errors"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// This file holds the client's decisions as pure functions (no I/O, no
// clock reads): the row state machine, what an error means for the loop,
// backoff and clock offset. The store implements the row transitions in SQL
// (backend/store: batches.go, pushresults.go, rowstate.go); these functions are their specification and
// are table-tested.

// RowEvent is something that happens to one row of a synced table.
type RowEvent string

// Row events.
const (
	EvLocalEdit  RowEvent = "local_edit"  // an operator edits (or deletes) the row
	EvBatched    RowEvent = "batched"     // the row is written into a new batch
	EvApplied    RowEvent = "applied"     // push result applied/merged/superseded, hlc unchanged
	EvAckEdited  RowEvent = "ack_edited"  // same result, but the row was edited meanwhile
	EvConflict   RowEvent = "conflict"    // push result conflict
	EvRejected   RowEvent = "rejected"    // push result rejected (not clock_ahead)
	EvClockAhead RowEvent = "clock_ahead" // push result rejected with clock_ahead
	EvResolved   RowEvent = "resolved"    // the conflict's resolution and row state pulled
	EvResubmit   RowEvent = "resubmit"    // operator resubmits a quarantined row
	EvDiscard    RowEvent = "discard"     // operator discards a quarantined row
	EvPulled     RowEvent = "pulled"      // a newer server state of the row is pulled
)

// ErrNoTransition: the event does not apply in that state.
var ErrNoTransition = errors.New("no such transition")

// RowTransition returns the state a row in state from is in after ev.
// Pulled states never move a row that is not clean (its local edit and its
// base version are kept; the server settles it on the next push).
func RowTransition(from string, ev RowEvent) (string, error) {
	switch ev {
	case EvLocalEdit:
		switch from {
		case syncstate.StateInFlight:
			// The batch still carries the old state; the edit goes into the
			// next batch once this one is answered.
			return syncstate.StateInFlight, nil
		default:
			return syncstate.StatePending, nil
		}
	case EvPulled:
		return from, nil
	}
	switch from {
	case syncstate.StatePending:
		if ev == EvBatched {
			return syncstate.StateInFlight, nil
		}
	case syncstate.StateInFlight:
		switch ev {
		case EvApplied:
			return syncstate.StateClean, nil
		case EvAckEdited:
			return syncstate.StatePending, nil
		case EvConflict:
			return syncstate.StateAwaitingReview, nil
		case EvRejected:
			return syncstate.StateRejected, nil
		case EvClockAhead:
			// Re-stamped with the corrected clock and resubmitted by itself.
			return syncstate.StatePending, nil
		}
	case syncstate.StateAwaitingReview:
		if ev == EvResolved {
			return syncstate.StateClean, nil
		}
	case syncstate.StateRejected:
		switch ev {
		case EvResubmit:
			return syncstate.StatePending, nil
		case EvDiscard:
			return syncstate.StateClean, nil
		}
	}
	return from, ErrNoTransition
}

// Action is what the sync loop does after an attempt.
type Action int

// Loop actions.
const (
	// ActIdle: the attempt succeeded; wait for the next trigger.
	ActIdle Action = iota
	// ActBackoff: the server is unreachable or busy; probe health with
	// backoff, the batch stays persisted and is re-sent unchanged.
	ActBackoff
	// ActResync: 410; push pending first, then re-pull from cursor 0.
	ActResync
	// ActStop: retrying will not help (unenrolled, revoked, protocol too
	// old, a refused request): show the sentence, wait for the person.
	ActStop
)

// Decide maps the error of a sync attempt to the loop's next action.
func Decide(err error) Action {
	switch {
	case err == nil:
		return ActIdle
	case errors.Is(err, ErrResyncRequired), errors.Is(err, syncstate.ErrTimelineChanged):
		return ActResync
	case errors.Is(err, ErrNotEnrolled), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrProtocolTooOld):
		return ActStop
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 429 && ae.Status != 408 {
		return ActStop
	}
	// Network failures, 5xx, local hiccups: try again later.
	return ActBackoff
}

// Backoff returns the wait before health probe number attempt (0-based):
// base·2^attempt capped at max, with "equal jitter" (half fixed, half
// random, r in [0,1)) so a fleet of devices does not reconnect in step.
func Backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// ClockOffset estimates server − device in ms from one exchange: the request
// left at sent and the answer came back at received (device clock), and the
// server stamped serverTime in between.
func ClockOffset(sent, received, serverTime int64) int64 {
	return serverTime - (sent+received)/2
}

// ClockWarning reports whether an offset is large enough to show people.
func ClockWarning(offset int64, threshold time.Duration) bool {
	if offset < 0 {
		offset = -offset
	}
	return offset > threshold.Milliseconds()
}

// resultEvent maps one push result to its row event.
func resultEvent(status, errText string, edited bool) RowEvent {
	switch status {
	case protocol.StatusApplied, protocol.StatusMerged, protocol.StatusSuperseded:
		if edited {
			return EvAckEdited
		}
		return EvApplied
	case protocol.StatusConflict:
		return EvConflict
	}
	if len(errText) >= len(protocol.CodeClockAhead) && errText[:len(protocol.CodeClockAhead)] == protocol.CodeClockAhead {
		return EvClockAhead
	}
	return EvRejected
}
