package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// hubRecord is a conflict record as a hub sends it (owner: owner, nil for
// central's).
func hubRecord(id, row string, owner *string, status string) map[string]any {
	return map[string]any{"id": id, "table_name": "line_configs", "row_id": row, "status": status,
		"base": config(row, nil), "mine": config(row, map[string]any{"recipe": "A"}), "theirs": config(row, map[string]any{"recipe": "B"}),
		"fields": []string{"recipe"}, "device_id": uuid.NewString(), "created_at": 1700000000000, "owner": owner}
}

// Review attacks on what central takes from a hub beyond a device's
// writes (issue 19, design section 9): records it does not own, records
// central owns, HLCs of central's devices, another site's conflicts.
// Each must be refused and change nothing. (Holds.)
func TestAttack_CentralRefusesWhatAHubDoesNotOwn(t *testing.T) {
	h := newHarness(t)
	hubA := h.enroll("s1", "hub")
	hubB := h.enroll("s1", "hub")
	op := h.enroll("s1", "operator")
	op2 := h.enroll("s1", "operator")
	elsewhere := h.enroll("s2", "operator")
	elsewhere2 := h.enroll("s2", "operator")
	siteDev := uuid.NewString()

	// Central's own open record on s1, and one on s2.
	open := func(a, b *device) (row, rec string) {
		row = newID()
		v := num(h.push(a, change("line_configs", row, "upsert", 0, a.hlc(0), config(row, nil))).results()[0]["version"])
		h.push(b, change("line_configs", row, "upsert", v, b.hlc(0), config(row, map[string]any{"recipe": "B"})))
		r := h.push(a, change("line_configs", row, "upsert", v, a.hlc(0), config(row, map[string]any{"recipe": "A"}))).results()[0]
		if r["status"] != "conflict" {
			t.Fatalf("setup: %v", r)
		}
		return row, r["conflict_id"].(string)
	}
	row1, central1 := open(op, op2)
	row2, central2 := open(elsewhere, elsewhere2)
	_ = row2

	ownA, ownB := hubA.ID, hubB.ID
	recOfB := uuid.NewString()
	if r := h.push(hubB, hubChange("sync_conflicts", recOfB, 0, nodeHLC(uuid.NewString(), 0, 1), 1, hubRecord(recOfB, row1, &ownB, "open"))).results()[0]; r["status"] != "applied" {
		t.Fatalf("hub B's own record: %v", r)
	}
	tests := []struct {
		name   string
		change map[string]any
		code   string
	}{
		{"a record owned by another hub", hubChange("sync_conflicts", recOfB, 0, nodeHLC(siteDev, 0, 1), 1, hubRecord(recOfB, row1, &ownB, "resolved")), "forbidden"},
		{"another hub's record claimed as its own", hubChange("sync_conflicts", recOfB, 0, nodeHLC(siteDev, 0, 2), 2, hubRecord(recOfB, row1, &ownA, "resolved")), "forbidden"},
		{"central's record claimed as its own", hubChange("sync_conflicts", central1, 0, nodeHLC(siteDev, 0, 3), 3, hubRecord(central1, row1, &ownA, "resolved")), "forbidden"},
		{"central's record, owner null", hubChange("sync_conflicts", central1, 0, nodeHLC(siteDev, 0, 4), 4, hubRecord(central1, row1, nil, "resolved")), "forbidden"},
		{"its record stamped with a central device's hlc", hubChange("sync_conflicts", uuid.NewString(), 0, op.hlc(0), 5, nil), "invalid_hlc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change["row"] == nil {
				id := tc.change["id"].(string)
				tc.change["row"] = hubRecord(id, row1, &ownA, "open")
			}
			r := h.push(hubA, tc.change).results()[0]
			if r["status"] != "rejected" || !strings.HasPrefix(fmt.Sprint(r["error"]), tc.code) {
				t.Fatalf("%v, want rejected %s", r, tc.code)
			}
		})
	}
	// Nothing changed: both records still open with their owners.
	for _, c := range h.pullAll(op, 0) {
		if c["table"] != "sync_conflicts" {
			continue
		}
		rec := c["row"].(map[string]any)
		switch c["id"] {
		case recOfB:
			if rec["owner"] != ownB || rec["status"] != "open" {
				t.Errorf("hub B's record after hub A's attempts: %v", rec)
			}
		case central1:
			if rec["owner"] != nil || rec["status"] != "open" {
				t.Errorf("central's record after hub A's attempts: %v", rec)
			}
		}
	}
	// A hub resolves (forwards) only its own site's records.
	res := h.do("POST", "/v1/conflicts/"+central2+"/resolve", hubA.Token, map[string]any{"row": config(row2, nil), "hlc": nodeHLC(siteDev, 0, 9)})
	if res.status != 403 {
		t.Fatalf("hub of s1 resolving a conflict of s2: %d %s, want 403", res.status, res.raw)
	}
	// A hub's record is decided at that hub only, even by another hub.
	res = h.do("POST", "/v1/conflicts/"+recOfB+"/resolve", hubA.Token, map[string]any{"row": config(row1, nil), "hlc": nodeHLC(siteDev, 0, 10)})
	if res.status != 409 || res.errCode() != "resolve_at_owner" {
		t.Fatalf("hub A resolving hub B's record at central: %d %s, want 409 resolve_at_owner", res.status, res.raw)
	}
}
