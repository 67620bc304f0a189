package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestOverturnExplained: which edits explain that the server holds the
// value a decision rejected. Seed 136 of the efb90d4 campaign (replayed on
// 67a5434 with OUTPOST_SIM_DEBUG_DECISIONS): device 10 set a line's target
// rate to 0 on a version whose rate was empty and pushed it only after
// the manager had decided device 6's conflict (its own edit to 0, made
// later) for empty; the server merged device 10's write against its base
// (the decision had not changed the rate since), and the check counted
// the decision overturned because device 10's edit was older than the
// edit that lost.
func TestOverturnExplained(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	const row, field = "03ffc1c6-83ec-49be-91b5-00cd916ecf29", "target_rate_per_hour"
	t0 := time.Date(2026, 12, 7, 9, 49, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	h := func(ms, dev int) string { return fmt.Sprintf("%015d-%05d-dev%02d", at(ms).UnixMilli(), 0, dev) }
	dc := decision{table: protocol.TableLineConfigs, rowID: row, device: "dev06",
		chosen: map[string]any{field: nil}, rejected: map[string]any{field: int64(0)}, version: 188, at: at(3000)}
	zero := protocol.Row{field: int64(0)}
	lost := cfgEdit{id: row, field: field, value: int64(0), hlc: h(2000, 6), at: at(2000)}
	early := cfgEdit{id: row, field: field, value: int64(0), hlc: h(1000, 10), at: at(1000)}
	cases := []struct {
		name   string
		cidx   int
		edits  map[int][]cfgEdit
		pushes map[int][]pushAnswer
		want   bool
	}{
		{"another device's earlier edit pushed after the decision (seed 136)", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}},
			map[int][]pushAnswer{10: {{HLC: h(1000, 10), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, true},
		{"the same, pushed with a later edit of another field", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}},
			map[int][]pushAnswer{10: {{HLC: h(1500, 10), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, true},
		{"another device's earlier edit the server held before the decision", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}},
			map[int][]pushAnswer{10: {
				{HLC: h(1000, 10), Status: protocol.StatusApplied, Version: 150, Row: zero, Sent: at(1200)},
				{HLC: h(1000, 10), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, false},
		{"another device's earlier edit, no answer known", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}}, nil, false},
		{"another device's earlier edit, answered after the decision holding another value", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}},
			map[int][]pushAnswer{10: {{HLC: h(1000, 10), Status: protocol.StatusMerged, Version: 256, Row: protocol.Row{field: int64(100)}, Sent: at(4000)}}}, false},
		{"another device's earlier edit, answered after the decision at an earlier version (another timeline)", 6,
			map[int][]cfgEdit{6: {lost}, 10: {early}},
			map[int][]pushAnswer{10: {{HLC: h(1000, 10), Status: protocol.StatusMerged, Version: 120, Row: zero, Sent: at(4000)}}}, false},
		{"the conflict's device's losing edit pushed again after the decision", 6,
			map[int][]cfgEdit{6: {lost}},
			map[int][]pushAnswer{6: {{HLC: h(2000, 6), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, false},
		{"the conflict's device's earlier edit pushed after the decision", 6,
			map[int][]cfgEdit{6: {early, lost}},
			map[int][]pushAnswer{6: {{HLC: h(2000, 6), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, false},
		{"another device's edit after the edit that lost", 6,
			map[int][]cfgEdit{6: {lost}, 10: {{id: row, field: field, value: int64(0), hlc: h(2500, 10), at: at(2500)}}}, nil, true},
		{"an edit after the decision", 6,
			map[int][]cfgEdit{6: {lost, {id: row, field: field, value: int64(0), hlc: h(3500, 6), at: at(3500)}}}, nil, true},
		{"another row's edit", 6,
			map[int][]cfgEdit{6: {lost}, 10: {{id: "other", field: field, value: int64(0), hlc: h(1000, 10), at: at(1000)}}},
			map[int][]pushAnswer{10: {{HLC: h(1000, 10), Status: protocol.StatusMerged, Version: 256, Row: zero, Sent: at(4000)}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := overturnExplained(tb, dc, field, int64(0), c.cidx, c.edits, c.pushes); got != c.want {
				t.Fatalf("overturnExplained = %v, want %v", got, c.want)
			}
		})
	}
}

// TestConcurrentElsewhere: a site manager keeps the speed 40 against a
// terminal's empty one (hub version 384) while central's manager, 17 ms
// before, decided another conflict of the row with the empty speed (seed
// 288 of the hub campaign on the rebasing hub: central holds the empty
// speed). The hub had not republished central's decision when its manager
// decided: two concurrent decisions, central's standing, no decision
// overturned. Once the hub held central's decision before its own, the
// site's decision was made knowing it: overturned.
func TestConcurrentElsewhere(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	at := time.Date(2026, 12, 8, 0, 31, 37, 299e6, time.UTC)
	site := decision{table: "line_configs", rowID: "r", version: 384, at: at,
		chosen: map[string]any{"speed_rpm": 40.0}, rejected: map[string]any{"speed_rpm": nil}}
	hq := decision{table: "line_configs", rowID: "r", version: 414, hlc: "hq-414", at: at.Add(-17 * time.Millisecond),
		chosen: map[string]any{"speed_rpm": nil}}
	later := hq
	later.at = at.Add(time.Second)
	other := hq
	other.chosen = map[string]any{"speed_rpm": 60.0}
	cases := []struct {
		name    string
		central []decision
		hub     []syncclient.HistoryEntry
		want    bool
	}{
		{"not on the hub yet", []decision{hq}, []syncclient.HistoryEntry{{Version: 380, HLC: "h"}}, true},
		{"on the hub after the site's decision", []decision{hq}, []syncclient.HistoryEntry{{Version: 390, HLC: "hq-414"}}, true},
		{"on the hub before the site's decision", []decision{hq}, []syncclient.HistoryEntry{{Version: 383, HLC: "hq-414"}}, false},
		{"central's decision after the site's", []decision{later}, nil, false},
		{"central chose another value", []decision{other}, nil, false},
		{"no decision at central", nil, nil, false},
	}
	for _, c := range cases {
		if got := concurrentElsewhere(tb, site, "speed_rpm", nil, c.central, c.hub); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
