package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// configRow is a line configuration as a device pushes it.
func configRow(id string, rate, speed any, notes any) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": id, "line_id": "L1", "recipe": "R-A", "target_rate_per_hour": rate,
		"temperature_c": nil, "speed_rpm": speed, "notes": notes, "created_at": now, "updated_at": now, "updated_by": nil}
}

// testDeciderEditBeforeDecision: a manager's own edit made before its
// decision, pushed after it on the version the decision was made on, does
// not undo the decision. The resolution is the manager device's write, so
// the rule "a device never conflicts with itself" (every write since base
// is the pusher's) took the edit for the device's next write after a lost
// acknowledgement and applied its full state over the decision: the rate
// the manager had just decided went back to the value it rejected, with
// no conflict. A decision is not a write the pushed state contains; the
// push is merged with it like any other device's: the field the edit
// changed is applied, the decided field is kept.
func testDeciderEditBeforeDecision(t *testing.T, e *server.Engine) {
	ctx := context.Background()
	o, d, m := dev(protocol.RoleOperator), dev(protocol.RoleOperator), dev(protocol.RoleManager)
	id := uuid.NewString()
	tb := protocol.TableLineConfigs
	v1 := *push(t, e, o, upsert(o, tb, 0, configRow(id, int64(100), nil, nil)))[0].Version
	v2 := *push(t, e, o, upsert(o, tb, v1, configRow(id, int64(200), nil, nil)))[0].Version
	r := push(t, e, d, upsert(d, tb, v1, configRow(id, int64(300), nil, nil)))[0]
	if r.Status != protocol.StatusConflict {
		t.Fatalf("setup: device d's push: %+v, want a conflict", r)
	}
	// The manager holds v2 and edits its speed (pending: not pushed yet).
	edit := upsert(m, tb, v2, configRow(id, int64(200), int64(40), nil))
	// Then it decides d's conflict for d's rate, on v2.
	base := v2
	req := server.ResolveRequest{Row: configRow(id, int64(300), nil, nil), HLC: stamp(m), BaseVersion: &base}
	chosen, err := e.ValidateResolve(ctx, m, r.ConflictID, req)
	must(t, err)
	v3, _, err := e.Resolve(ctx, m, r.ConflictID, req, chosen)
	must(t, err)
	// Now its edit reaches the server, on v2.
	res := push(t, e, m, edit)[0]
	row := rowData(t, current(t, e.Store)[tb+"/"+id])
	if res.Status != protocol.StatusMerged || fmt.Sprint(row["target_rate_per_hour"]) != "300" || fmt.Sprint(row["speed_rpm"]) != "40" {
		t.Fatalf("the manager's edit made before its decision (v%d), pushed after it: %s, row rate %v speed %v; "+
			"want merged, the decided rate 300 kept and the edit's speed 40", v3, res.Status,
			row["target_rate_per_hour"], row["speed_rpm"])
	}
}
