package syncclient

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// theOpenConflict returns the one open conflict on d (a manager's device,
// synced): its id, its "theirs" side (the server state it was raised
// against) and the version d holds of the line configuration it is about,
// the base a decision is sent on. The restore and review tests decide on it.
func theOpenConflict(t *testing.T, d *device, lineConfigID string) (id string, theirs protocol.Row, version int64) {
	t.Helper()
	ctx := context.Background()
	open, err := d.st.Conflicts(ctx, true)
	if err != nil || len(open) != 1 {
		t.Fatalf("manager's open conflicts: %v, %v", open, err)
	}
	var rec struct {
		Theirs protocol.Row `json:"theirs"`
	}
	if err := json.Unmarshal(open[0].Record, &rec); err != nil {
		t.Fatal(err)
	}
	cur, err := d.st.GetLineConfig(ctx, lineConfigID)
	if err != nil {
		t.Fatal(err)
	}
	return open[0].ID, rec.Theirs, cur.Version
}
