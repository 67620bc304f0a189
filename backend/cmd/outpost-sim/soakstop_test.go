package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSoak_StoppedRunNotCounted: a run the campaign's own stop cuts short
// is neither a run nor a failure of the campaign (seed 218 of the 8deb348
// campaign, stopped at 49 minutes, was counted failed with "quarantine:
// begin read: context canceled").
func TestSoak_StoppedRunNotCounted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(1500*time.Millisecond, cancel)
	var out, errs bytes.Buffer
	nc := NemesisConfig{ServerBin: serverBin, Stores: []string{storeSQLite}, Length: 5 * time.Second}
	c := soak(ctx, nc, 1, 1, time.Minute, &out, &errs)
	if c.Runs != 0 || c.Failed != 0 || c.Errors != 0 || len(c.FailingSeeds) != 0 {
		t.Fatalf("campaign %+v, want no run and no failure", c)
	}
	if out.Len() != 0 {
		t.Errorf("printed a line for the cut run: %s", out.String())
	}
	if !strings.Contains(errs.String(), "stopped during seed 1") {
		t.Errorf("stderr %q does not say which run was cut", errs.String())
	}
}
