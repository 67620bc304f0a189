package server_test

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/server"
)

// TestServer_WriteArrivingAgain is known gap (4) of issue 15 over HTTP
// (syncclient's TestRestoredServer_OwnWriteKeptThenMergedIsNotPushedAgain
// end to end): a manager's decision, kept by the restored server, is moved
// on by an operator's re-edit merged with it; then the manager's device,
// after its timeline change and before its pass, pushes its decision again
// on base 0 under the decision's hlc. That is the decision arriving again:
// answered "merged" with the row as the server holds it (the decision with
// the re-edit), at its current version, writing nothing — no second
// conflict whose "mine" would drop the re-edit.
func TestServer_WriteArrivingAgain(t *testing.T) {
	h := newHarness(t)
	a := h.enroll("S", "operator")
	b := h.enroll("S", "operator")
	m := h.enroll("S", "manager")
	id := newID()
	v1 := num(h.push(a, change("line_configs", id, "upsert", 0, a.hlc(0), config(id, nil))).results()[0]["version"])
	theirs := num(h.push(b, change("line_configs", id, "upsert", v1, b.hlc(0), config(id, map[string]any{"temperature_c": 80}))).results()[0]["version"])
	r := h.push(a, change("line_configs", id, "upsert", v1, a.hlc(0), config(id, map[string]any{"temperature_c": 120}))).results()[0]
	cid, _ := r["conflict_id"].(string)
	if r["status"] != "conflict" || cid == "" {
		t.Fatalf("setup: %v", r)
	}
	decided := config(id, map[string]any{"temperature_c": 90})
	decisionHLC := m.hlc(0)
	res := h.do("POST", "/v1/conflicts/"+cid+"/resolve", m.Token, map[string]any{"row": decided, "hlc": decisionHLC, "base_version": theirs})
	if res.status != 200 {
		t.Fatalf("resolve: %d %s", res.status, res.raw)
	}
	// The backup kept the decision; the database is marked restored.
	tl, err := server.Restored(context.Background(), h.st)
	if err != nil {
		t.Fatal(err)
	}
	pushOn := func(d *device, changes ...map[string]any) result {
		t.Helper()
		res := h.do("POST", "/v1/push", d.Token, map[string]any{"batch_id": newID(), "changes": changes}, "Outpost-Timeline", tl)
		if res.status != 200 {
			t.Fatalf("push: %d %s", res.status, res.raw)
		}
		return res
	}
	// a's re-edit under review, pushed on theirs' version: merged with the
	// decision, under a's (later) hlc.
	r = pushOn(a, change("line_configs", id, "upsert", theirs, a.hlc(0), config(id, map[string]any{"temperature_c": 80, "notes": "checked"}))).results()[0]
	if r["status"] != "merged" {
		t.Fatalf("a's re-edit: %v", r)
	}
	cur := num(r["version"])
	seq := func() int64 {
		ss, err := h.st.SiteState(context.Background(), "S")
		if err != nil {
			t.Fatal(err)
		}
		return ss.Seq
	}
	before := seq()

	r = pushOn(m, change("line_configs", id, "upsert", 0, decisionHLC, decided)).results()[0]
	row, _ := r["row"].(map[string]any)
	if r["status"] != "merged" || num(r["version"]) != cur || r["conflict_id"] != nil {
		t.Fatalf("the decision arriving again: %v; want merged at version %d, no conflict", r, cur)
	}
	if row["notes"] != "checked" || num(row["temperature_c"]) != 90 {
		t.Errorf("answer's row: temperature %v, notes %v; want the decision's 90 with a's \"checked\"", row["temperature_c"], row["notes"])
	}
	if after := seq(); after != before {
		t.Errorf("sequence %d → %d: the decision was written again", before, after)
	}
	open := 0
	for _, ch := range h.pullAll(m, 0) {
		if ch["table"] == "sync_conflicts" && ch["row"].(map[string]any)["status"] == "open" {
			open++
		}
	}
	if open != 0 {
		t.Errorf("%d open conflict(s) after the decision arrived again, want 0", open)
	}
	// A new edit of the manager's on base 0 is judged as ever: a conflict
	// on the notes it never saw.
	r = pushOn(m, change("line_configs", id, "upsert", 0, m.hlc(0), config(id, map[string]any{"temperature_c": 90, "notes": "m's"}))).results()[0]
	if r["status"] != "conflict" {
		t.Errorf("a new write on base 0: %v; want conflict", r)
	}
}
