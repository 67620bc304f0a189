package main

import (
	"encoding/json"
	"testing"
)

// TestCampaign_AddsUpEveryExcuse: the closing line of a soak adds up every
// excuse a run's line counts, so a campaign's summary shows how often each
// decided a run without summing the JSON lines by hand (the 07fe6a5
// campaign's closing lines left superseded_before_restore out).
func TestCampaign_AddsUpEveryExcuse(t *testing.T) {
	var s Summary
	s.PurgedFromHistory, s.CarriedThenPurged, s.DecidedBeforeRestore, s.SupersededBeforeRestore = 1, 2, 3, 4
	s.Lost = 5
	var c campaign
	c.addRun(s)
	c.addRun(s)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"purged_from_history": 2, "carried_then_purged": 4, "decided_before_restore": 6,
		"superseded_before_restore": 8, "lost": 10,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v (closing line %s)", key, got[key], want, b)
		}
	}
}
