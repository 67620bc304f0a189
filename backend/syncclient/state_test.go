package syncclient

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

func TestRowTransition(t *testing.T) {
	tests := []struct {
		from string
		ev   RowEvent
		want string
		err  bool
	}{
		{store.StateClean, EvLocalEdit, store.StatePending, false},
		{store.StateClean, EvPulled, store.StateClean, false},
		{store.StatePending, EvBatched, store.StateInFlight, false},
		{store.StatePending, EvPulled, store.StatePending, false},
		{store.StatePending, EvApplied, store.StatePending, true},
		{store.StateInFlight, EvLocalEdit, store.StateInFlight, false},
		{store.StateInFlight, EvApplied, store.StateClean, false},
		{store.StateInFlight, EvAckEdited, store.StatePending, false},
		{store.StateInFlight, EvConflict, store.StateAwaitingReview, false},
		{store.StateInFlight, EvRejected, store.StateRejected, false},
		{store.StateInFlight, EvClockAhead, store.StatePending, false},
		{store.StateInFlight, EvPulled, store.StateInFlight, false},
		{store.StateAwaitingReview, EvPulled, store.StateAwaitingReview, false},
		{store.StateAwaitingReview, EvResolved, store.StateClean, false},
		{store.StateAwaitingReview, EvLocalEdit, store.StatePending, false},
		{store.StateAwaitingReview, EvBatched, store.StateAwaitingReview, true},
		{store.StateRejected, EvBatched, store.StateRejected, true},
		{store.StateRejected, EvResubmit, store.StatePending, false},
		{store.StateRejected, EvDiscard, store.StateClean, false},
		{store.StateRejected, EvLocalEdit, store.StatePending, false},
		{store.StateClean, EvResolved, store.StateClean, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.from, tc.ev), func(t *testing.T) {
			got, err := RowTransition(tc.from, tc.ev)
			if got != tc.want || (err != nil) != tc.err {
				t.Fatalf("RowTransition(%s, %s) = %s, %v; want %s (error %v)", tc.from, tc.ev, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestResultEvent(t *testing.T) {
	tests := []struct {
		status, err string
		edited      bool
		want        RowEvent
	}{
		{protocol.StatusApplied, "", false, EvApplied},
		{protocol.StatusApplied, "", true, EvAckEdited},
		{protocol.StatusMerged, "", false, EvApplied},
		{protocol.StatusSuperseded, "", true, EvAckEdited},
		{protocol.StatusConflict, "", false, EvConflict},
		{protocol.StatusRejected, "clock_ahead: 6 minutes ahead", false, EvClockAhead},
		{protocol.StatusRejected, "too_long: notes", false, EvRejected},
	}
	for _, tc := range tests {
		if got := resultEvent(tc.status, tc.err, tc.edited); got != tc.want {
			t.Errorf("resultEvent(%s, %q, %v) = %s, want %s", tc.status, tc.err, tc.edited, got, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		err  error
		want Action
	}{
		{nil, ActIdle},
		{fmt.Errorf("push: %w", ErrOffline), ActBackoff},
		{fmt.Errorf("pull: %w", &APIError{Status: 410, Code: "resync_required"}), ActResync},
		{fmt.Errorf("pull: %w", &APIError{Status: 503}), ActBackoff},
		{fmt.Errorf("pull: %w", &APIError{Status: 429}), ActBackoff},
		{fmt.Errorf("push: %w", &APIError{Status: 401, Code: "device_revoked"}), ActStop},
		{fmt.Errorf("push: %w", &APIError{Status: 426}), ActStop},
		{fmt.Errorf("push: %w", &APIError{Status: 413}), ActStop},
		{fmt.Errorf("push: %w", &APIError{Status: 409, Code: "timeline_changed"}), ActResync},
		{fmt.Errorf("pull: %w", &store.TimelineChangedError{Timeline: "t2"}), ActResync},
		{ErrNotEnrolled, ActStop},
		{errors.New("database is locked"), ActBackoff},
	}
	for _, tc := range tests {
		if got := Decide(tc.err); got != tc.want {
			t.Errorf("Decide(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, cap := time.Second, time.Minute
	tests := []struct {
		attempt  int
		r        float64
		min, max time.Duration
	}{
		{0, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{0, 0.999, 500 * time.Millisecond, time.Second},
		{1, 0, time.Second, time.Second},
		{3, 0.5, 6 * time.Second, 6 * time.Second},
		{10, 0, 30 * time.Second, 30 * time.Second},
		{1000, 0.999, 30 * time.Second, time.Minute},
	}
	for _, tc := range tests {
		got := Backoff(tc.attempt, base, cap, tc.r)
		if got < tc.min || got > tc.max {
			t.Errorf("Backoff(%d, r=%v) = %v, want in [%v, %v]", tc.attempt, tc.r, got, tc.min, tc.max)
		}
	}
}

func TestClockOffset(t *testing.T) {
	if got := ClockOffset(1000, 1200, 5000); got != 3900 {
		t.Fatalf("ClockOffset = %d", got)
	}
	if got := ClockOffset(1000, 1000, 400); got != -600 {
		t.Fatalf("ClockOffset = %d", got)
	}
	for _, tc := range []struct {
		off  int64
		want bool
	}{{0, false}, {300_000, false}, {300_001, true}, {-300_001, true}} {
		if got := ClockWarning(tc.off, 5*time.Minute); got != tc.want {
			t.Errorf("ClockWarning(%d) = %v", tc.off, got)
		}
	}
}

func TestReadEvents(t *testing.T) {
	var got []int64
	err := readEvents(strings.NewReader(": keepalive\n\nevent: change\ndata: {\"cursor\":7}\n\n: x\nevent: change\ndata: {\"cursor\":9}\n\n"), func(c int64) { got = append(got, c) })
	if !errors.Is(err, ErrOffline) || len(got) != 2 || got[0] != 7 || got[1] != 9 {
		t.Fatalf("readEvents = %v, %v", got, err)
	}
}

// A 410 for a cursor above the answer's sequence, or naming another
// timeline, is a timeline change; otherwise (or from a server that does not
// send sequence) a horizon resync.
func TestClassify410(t *testing.T) {
	seq := func(n int64) *int64 { return &n }
	gone := func(sq *int64, tl string) error {
		return fmt.Errorf("pull: %w", &APIError{Status: 410, Code: "resync_required", Sequence: sq, Timeline: tl})
	}
	for _, tc := range []struct {
		name     string
		err      error
		cursor   int64
		known    string
		timeline bool
	}{
		{"behind the horizon", gone(seq(50), "t1"), 10, "t1", false},
		{"cursor above the sequence", gone(seq(5), "t1"), 10, "t1", true},
		{"another timeline", gone(seq(50), "t2"), 10, "t1", true},
		{"no timeline known yet", gone(seq(50), "t2"), 10, "", false},
		{"old server", gone(nil, ""), 10, "t1", false},
		{"not a 410", fmt.Errorf("pull: %w", &APIError{Status: 503}), 10, "t1", false},
	} {
		err := classify410(tc.err, tc.cursor, tc.known)
		if got := errors.Is(err, store.ErrTimelineChanged); got != tc.timeline {
			t.Errorf("%s: timeline change = %v, want %v (%v)", tc.name, got, tc.timeline, err)
		}
		if tc.timeline && errors.Is(err, ErrResyncRequired) {
			t.Errorf("%s: a timeline change must not read as a horizon resync", tc.name)
		}
	}
}
