package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// hubChange is a change a hub sends: a device's write with the device's
// hlc and the hub's origin_seq.
func hubChange(table, id string, base int64, hlc string, origin int64, row map[string]any) map[string]any {
	c := change(table, id, "upsert", base, hlc, row)
	c["origin_seq"] = origin
	return c
}

func nodeHLC(node string, offset time.Duration, n int) string {
	return fmt.Sprintf("%015d-%05d-%s", time.Now().Add(offset).UnixMilli(), n, node)
}

// What central accepts from a hub (docs/design.md section 9): HLCs naming
// the hub's devices (never a device enrolled at central, never another
// hub's), site data, and changes at or below its origin_seq mark answered
// applied without being applied again.
func TestHubRole_WhatCentralAccepts(t *testing.T) {
	h := newHarness(t)
	hub := h.enroll("s1", "hub")
	other := h.enroll("s1", "hub")
	op := h.enroll("s1", "operator")
	siteDev := uuid.NewString() // a device enrolled at the hub, not here

	tests := []struct {
		name   string
		from   *device
		change map[string]any
		status string
		code   string
	}{
		{"a hub device's write", hub, hubChange("production_records", uuid.NewString(), 0, nodeHLC(siteDev, 0, 1), 1, record("", nil)), "applied", ""},
		{"the hub's own hlc", hub, hubChange("production_records", uuid.NewString(), 0, hub.hlc(0), 2, record("", nil)), "applied", ""},
		{"an hlc of a device enrolled at central", hub, hubChange("production_records", uuid.NewString(), 0, op.hlc(0), 3, record("", nil)), "rejected", "invalid_hlc"},
		{"another hub's device", other, hubChange("production_records", uuid.NewString(), 0, nodeHLC(siteDev, 0, 2), 1, record("", nil)), "rejected", "invalid_hlc"},
		{"site data from a hub", hub, hubChange("lines", protocol.KeyID(protocol.TableLines, "L9"), 0, nodeHLC(siteDev, 0, 3), 4, lineRow("L9", nil)), "applied", ""},
		{"an operator's hlc naming another device", op, change("production_records", uuid.NewString(), "upsert", 0, nodeHLC(siteDev, 0, 4), record("", nil)), "rejected", "invalid_hlc"},
		{"an operator's origin_seq is ignored", op, hubChange("production_records", uuid.NewString(), 0, op.hlc(0), 1, record("", nil)), "applied", ""},
		{"a negative origin_seq", hub, hubChange("production_records", uuid.NewString(), 0, nodeHLC(siteDev, 0, 5), -1, record("", nil)), "rejected", "invalid_value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if row, ok := tc.change["row"].(map[string]any); ok {
				row["id"] = tc.change["id"]
			}
			res := h.push(tc.from, tc.change).results()[0]
			if res["status"] != tc.status {
				t.Fatalf("status %v (%v), want %s", res["status"], res["error"], tc.status)
			}
			if tc.code != "" && !strings.HasPrefix(fmt.Sprint(res["error"]), tc.code) {
				t.Fatalf("error %v, want %s", res["error"], tc.code)
			}
		})
	}
}

// A hub restored from a backup, or one whose answer was lost after a
// batch id it no longer has, sends writes central applied already: at or
// below the hub's origin_seq mark they are answered applied with the row's
// version and applied nothing (no new version, no conflict).
func TestHubRole_MarkAppliesNothingTwice(t *testing.T) {
	h := newHarness(t)
	hub := h.enroll("s1", "hub")
	op := h.enroll("s1", "operator")
	dev := uuid.NewString()
	id := uuid.NewString()
	h0, h1 := nodeHLC(dev, -time.Second, 1), nodeHLC(dev, 0, 2)
	first := h.push(hub, hubChange("production_records", id, 0, h1, 7, record(id, map[string]any{"quantity": 1}))).results()[0]
	if first["status"] != "applied" {
		t.Fatalf("first push: %v", first)
	}
	v1 := num(first["version"])
	// The same write again, in a new batch, at or below the mark (7):
	// answered merged with the row at its version, nothing applied (the
	// hub takes central's state rather than skip it as an echo: central
	// may have merged that write with another under its stamp).
	again := h.push(hub, hubChange("production_records", id, 0, h1, 7, record(id, map[string]any{"quantity": 1}))).results()[0]
	if again["status"] != "merged" || num(again["version"]) != v1 || num(again["row"].(map[string]any)["quantity"]) != 1 {
		t.Fatalf("the same write at the mark: %v, want merged at %d", again, v1)
	}
	// An older write below the mark (taken before, then overwritten by
	// h1): answered merged with the row as it is, nothing applied.
	older := h.push(hub, hubChange("production_records", id, 0, h0, 5, record(id, map[string]any{"quantity": 3}))).results()[0]
	if older["status"] != "merged" || num(older["version"]) != v1 || num(older["row"].(map[string]any)["quantity"]) != 1 {
		t.Fatalf("an older write below the mark: %v, want merged at %d with quantity 1", older, v1)
	}
	hist, err := h.st.History(context.Background(), "s1", "production_records", id)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history after re-sent changes: %d versions (%v), want 1", len(hist), err)
	}
	// Another device moved the row on since: the re-sent write is answered
	// merged with the row as it is, so the hub takes central's state.
	h.push(op, change("production_records", id, "upsert", v1, op.hlc(0), record(id, map[string]any{"quantity": 4})))
	res := h.push(hub, hubChange("production_records", id, 0, h1, 7, record(id, map[string]any{"quantity": 1}))).results()[0]
	if res["status"] != "merged" || num(res["row"].(map[string]any)["quantity"]) != 4 {
		t.Fatalf("a re-sent write after another device's: %v, want merged with quantity 4", res)
	}
	// The hub's own later write moved the row on (and a restored hub may
	// not hold it): the older write sent again is answered merged with the
	// row as it is, never applied, which would make the hub skip that
	// state as an echo.
	later := h.push(hub, hubChange("production_records", id, num(res["version"]), nodeHLC(dev, 0, 3), 8, record(id, map[string]any{"quantity": 6}))).results()[0]
	if later["status"] != "applied" {
		t.Fatalf("the hub's later write: %v", later)
	}
	res = h.push(hub, hubChange("production_records", id, 0, nodeHLC(dev, 0, 2), 7, record(id, map[string]any{"quantity": 1}))).results()[0]
	if res["status"] != "merged" || num(res["row"].(map[string]any)["quantity"]) != 6 {
		t.Fatalf("an older hub write sent again after a later one: %v, want merged with quantity 6", res)
	}
	// Above the mark: applied as usual, and the mark moves.
	res = h.push(hub, hubChange("production_records", id, num(res["version"]), nodeHLC(dev, 0, 4), 9, record(id, map[string]any{"quantity": 5}))).results()[0]
	if res["status"] != "applied" {
		t.Fatalf("a new write: %v", res)
	}
}

// A change ahead of central's clock holds back every later change of the
// hub's batch (rejected clock_ahead, nothing applied), so the mark never
// passes a write the hub must send again.
func TestHubRole_ClockAheadHoldsTheRest(t *testing.T) {
	h := newHarness(t)
	hub := h.enroll("s1", "hub")
	dev := uuid.NewString()
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	res := h.push(hub,
		hubChange("production_records", ids[0], 0, nodeHLC(dev, 0, 1), 1, record(ids[0], nil)),
		hubChange("production_records", ids[1], 0, nodeHLC(dev, time.Hour, 2), 2, record(ids[1], nil)),
		hubChange("production_records", ids[2], 0, nodeHLC(dev, 0, 3), 3, record(ids[2], nil))).results()
	want := []string{"applied", "rejected", "rejected"}
	for i, r := range res {
		if r["status"] != want[i] {
			t.Fatalf("change %d: %v, want %s", i, r, want[i])
		}
		if i > 0 && !strings.HasPrefix(fmt.Sprint(r["error"]), "clock_ahead") {
			t.Fatalf("change %d: %v, want clock_ahead", i, r["error"])
		}
	}
	// Sent again (the third change above the mark): applied.
	r := h.push(hub, hubChange("production_records", ids[2], 0, nodeHLC(dev, 0, 4), 3, record(ids[2], nil))).results()[0]
	if r["status"] != "applied" {
		t.Fatalf("the held-back change sent again: %v", r)
	}
}
