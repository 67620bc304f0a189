package server

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// Restored marks st's database as restored from a backup: it gets a new
// timeline (a fresh UUID, returned) and forgets every device's committed
// cursor and full pass. Devices then see another timeline in their next
// pull answer (and a 409 timeline_changed on push or resolve) and recover
// by a full pass (docs/design.md section 3, "Timelines"). Run it once after
// each restore, before the server serves again.
func Restored(ctx context.Context, st Store) (string, error) {
	old, err := st.Timeline(ctx)
	if err != nil {
		return "", fmt.Errorf("read timeline: %w", err)
	}
	tl := uuid.NewString()
	for tl == old {
		tl = uuid.NewString()
	}
	if err := st.Restored(ctx, tl); err != nil {
		return "", fmt.Errorf("set timeline: %w", err)
	}
	return tl, nil
}
