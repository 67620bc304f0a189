package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSchedule_RoundTrip: a drawn schedule printed and parsed back is the
// same schedule (a failing run's --faults replays it), and every restore
// has its backup before it.
func TestSchedule_RoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		nc, _, _, _ := NemesisConfig{Seed: seed, Unmarked: seed%2 == 0}.plan()
		got, err := ParseSchedule(nc.Faults.String())
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if got.String() != nc.Faults.String() {
			t.Fatalf("seed %d: %s parsed back as %s", seed, nc.Faults, got)
		}
		if nc.Devices < 2 || nc.Devices > 20 {
			t.Fatalf("seed %d: %d devices", seed, nc.Devices)
		}
	}
	for _, bad := range []string{"restore@10/0/1", "nap@10/0/0", "drop@x/0/1", "drop@10/0"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// serverRestoredCommand reports whether this build's outpost-server has
// `restored` (the server's side of issue 15: committed cursors, full
// passes, timelines).
func serverRestoredCommand(t *testing.T) bool {
	t.Helper()
	db := "sqlite://" + filepath.Join(t.TempDir(), "probe.db")
	cmd := exec.Command(serverBin, "restored", "--db", db)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	return err == nil || !strings.Contains(strings.ToLower(string(out)), "unknown")
}

// TestNemesis_Sample is make test's bounded sample of the nemesis (make
// soak runs the campaign): fixed seeds and schedules, small runs, every
// fault kind at least once, SQLite, PostgreSQL and two server instances on
// one PostgreSQL; every counter must be 0.
func TestNemesis_Sample(t *testing.T) {
	if testing.Short() {
		t.Skip("the nemesis sample takes about a minute")
	}
	pg := os.Getenv("OUTPOST_TEST_PG")
	cases := []struct {
		name, store string
		seed        uint64
		devices     int
		faults      string
	}{
		{"network and server kills", storeSQLite, 101, 3,
			"decide@300/0/0,drop@400/0/900,kill-server@1500/0/200,decide@2000/0/0,partition@2500/0/500,reset@3200/0/600,delay@3900/0/500,decide@4300/0/0"},
		{"device crashes, clocks, enrollment, upgrade, corrupted files", storeSQLite, 102, 4,
			"decide@300/0/0,kill-device@400/0/0,clock-ahead@800/1/480000,clock-back@1100/2/7200000,kill-device@1500/1/1,corrupt@1800/3/2,enroll@2000/0/0,decide@2300/0/0,kill-device@2600/2/2,upgrade@3200/3/0,corrupt@3500/0/3,decide@3800/0/0"},
		{"restore from a backup", storeSQLite, 103, 3,
			"decide@300/0/0,backup@700/0/0,decide@1400/0/0,drop@1800/0/400,decide@2400/0/0,restore@2800/0/1,decide@3600/0/0,kill-device@3800/1/2,decide@4300/0/0"},
		{"PostgreSQL", storePG, 104, 3,
			"decide@300/0/0,kill-server@900/0/300,kill-device@1300/0/2,backup@1600/0/0,decide@2000/0/0,restore@3000/0/1,enroll@3400/0/0,decide@3900/0/0"},
		{"two instances on one PostgreSQL", storePG2, 105, 4,
			"decide@300/0/0,partition@600/1/700,kill-server@1500/0/200,drop@2000/1/600,decide@2400/0/0,kill-device@2800/1/1,clock-ahead@3000/2/420000,decide@3800/0/0"},
	}
	serverFixed := serverRestoredCommand(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.store != storeSQLite && pg == "" {
				if os.Getenv("OUTPOST_REQUIRE_PG") == "1" {
					t.Fatal("OUTPOST_REQUIRE_PG=1 but OUTPOST_TEST_PG is unset: run the tests through .ci/postgres")
				}
				t.Skip("OUTPOST_TEST_PG is unset: PostgreSQL runs skipped (bash .ci/postgres go test ./backend/cmd/outpost-sim)")
			}
			if !serverFixed {
				t.Skip("this outpost-server has no `restored` command: the server's side of issue 15 (committed cursors, full passes whatever the horizon, timelines) has not landed, and every nemesis run needs it (retention runs every second)")
			}
			sched, err := ParseSchedule(c.faults)
			if err != nil {
				t.Fatal(err)
			}
			nc := NemesisConfig{Seed: c.seed, Devices: c.devices, Store: c.store, PGAdmin: pg, ServerBin: serverBin, Dir: t.TempDir(),
				Faults: sched, Length: 5 * time.Second, EditsPerDevice: 15}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			sum, err := RunNemesis(ctx, nc)
			mm := sum.Mismatches
			sum.Mismatches = nil
			out, _ := json.Marshal(sum)
			t.Logf("summary: %s", out)
			if err != nil {
				t.Fatalf("run: %v (replay: %s)", err, replayCommand(nc))
			}
			if !sum.OK() {
				t.Fatalf("counters not all 0 (replay: %s):\n%s", replayCommand(nc), strings.Join(mm, "\n"))
			}
		})
	}
}
