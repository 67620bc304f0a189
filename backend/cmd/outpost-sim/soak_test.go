//go:build soak

package main

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// TestSoak_LargeFaultyRun is the long run (make soak): 20 devices (3 of
// them managers editing the site data), 2000 edits, half the time offline,
// over a faulty network.
func TestSoak_LargeFaultyRun(t *testing.T) {
	e := newEnvRoles(t, 17, 3)
	p := e.proxy(t)
	cfg := Config{ServerURL: p.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 20, Managers: 3, Edits: 2000,
		OfflineRatio: 0.5, Seed: 42, Dir: t.TempDir(),
		AfterEnroll: func([]*device) error {
			p.Set(faultproxy.Faults{Latency: time.Millisecond, ResetRate: 0.02, DropResponseRate: 0.03, BytesPerSecond: 2 << 20})
			return nil
		},
		BeforeSettle: func([]*device) error { p.Set(faultproxy.Faults{}); return nil },
	}
	sum, err := Run(timeout(t, 20*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
}
