package syncstate

import (
	"errors"
	"fmt"
	"testing"
)

func TestTimelineChangedError_IsErrTimelineChanged(t *testing.T) {
	for _, err := range []error{
		&TimelineChangedError{},
		&TimelineChangedError{Timeline: "t2"},
		fmt.Errorf("push: %w", &TimelineChangedError{Timeline: "t2"}),
	} {
		if !errors.Is(err, ErrTimelineChanged) {
			t.Errorf("errors.Is(%v, ErrTimelineChanged) = false", err)
		}
	}
	if got, want := (&TimelineChangedError{}).Error(), ErrTimelineChanged.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&TimelineChangedError{Timeline: "t2"}).Error(), "the sync server was restored from a backup (timeline t2)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(errors.New("the sync server was restored from a backup"), ErrTimelineChanged) {
		t.Error("another error with the same text is ErrTimelineChanged")
	}
}

func TestPullState_FullPass(t *testing.T) {
	for _, tc := range []struct {
		p    PullState
		want bool
	}{
		{PullState{}, true},
		{PullState{Cursor: 7}, false},
		{PullState{Cursor: 7, Pass: PassFull}, true},
		{PullState{Cursor: 7, Pass: PassTimeline, Timeline: "t2"}, true},
		{PullState{Cursor: 7, Pass: PassReenroll}, true},
	} {
		if got := tc.p.FullPass(); got != tc.want {
			t.Errorf("%+v.FullPass() = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestSyncCounts_Unsettled(t *testing.T) {
	c := SyncCounts{Pending: 1, InFlight: 2, AwaitingReview: 4, Rejected: 8, OpenConflicts: 16}
	if got := c.Unsettled(); got != 15 {
		t.Errorf("Unsettled() = %d, want 15 (open conflicts are not rows)", got)
	}
}
