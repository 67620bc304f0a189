package syncstate

import (
	"errors"
	"fmt"
)

// ErrTimelineChanged: the server's timeline is not the one this device
// follows (the server was restored from a backup).
var ErrTimelineChanged = errors.New("the sync server was restored from a backup")

// TimelineChangedError carries the server's new timeline ("" = not known
// yet: the next pull answer brings it).
type TimelineChangedError struct {
	Timeline string
}

func (e *TimelineChangedError) Error() string {
	if e.Timeline == "" {
		return ErrTimelineChanged.Error()
	}
	return fmt.Sprintf("%v (timeline %s)", ErrTimelineChanged, e.Timeline)
}

// Is makes errors.Is(err, ErrTimelineChanged) true.
func (e *TimelineChangedError) Is(target error) bool { return target == ErrTimelineChanged }
