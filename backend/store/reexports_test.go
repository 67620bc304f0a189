package store

import (
	"errors"
	"testing"

	"github.com/outpost-app/outpost/backend/syncstate"
)

// The store's sync values are syncstate's (issue 19: the sync client uses
// them without linking this package's driver): the same error value, so
// errors.Is matches whichever name a caller checks and whichever package
// made the error.
func TestReexports_SameTimelineError(t *testing.T) {
	if ErrTimelineChanged != syncstate.ErrTimelineChanged {
		t.Fatal("store.ErrTimelineChanged is not syncstate.ErrTimelineChanged")
	}
	if !errors.Is(&TimelineChangedError{Timeline: "t2"}, syncstate.ErrTimelineChanged) {
		t.Error("a store.TimelineChangedError is not syncstate.ErrTimelineChanged")
	}
	if !errors.Is(&syncstate.TimelineChangedError{}, ErrTimelineChanged) {
		t.Error("a syncstate.TimelineChangedError is not store.ErrTimelineChanged")
	}
}
