package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

// NemesisConfig is one nemesis run. What it leaves at zero is drawn from
// the seed, so that the seed alone replays the run's shape; Faults, when
// given, replaces the drawn schedule (a failing run prints it).
type NemesisConfig struct {
	Seed uint64
	// Devices (2–20 drawn) and Store (among Stores: sqlite, pg, pg2).
	Devices int
	Store   string
	Stores  []string
	// PGAdmin is the PostgreSQL cluster for pg and pg2 (each run creates
	// and drops a database of its own).
	PGAdmin   string
	ServerBin string
	// Dir holds the run's databases (a temporary directory when empty).
	Dir    string
	Faults Schedule
	// Length is the edit phase, over which the faults fall (default 5 s).
	Length time.Duration
	// Unmarked lets the schedule restore backups nobody marks with
	// `outpost-server restored`.
	Unmarked bool
	// EditsPerDevice is each device's share of the edits (default 25).
	EditsPerDevice int
	// Hubs is the number of site hubs (issue 19; 0: devices on central
	// only, as before): each its own outpost-server on its own SQLite
	// file, its link to central through its own fault proxy; the devices
	// are spread over central and the hubs (Config.tier), and the
	// schedule gains hub faults (drawHubFaults).
	Hubs int
	// HubShare is the share of a soak's seeds run with hubs (soakHubs).
	HubShare float64
	Progress io.Writer
}

// plan draws what nc leaves open from its seed.
func (nc NemesisConfig) plan() (NemesisConfig, *rand.Rand, int, time.Duration) {
	rng := rand.New(rand.NewPCG(nc.Seed, 0x6e656d65736973))
	devices := 2 + rng.IntN(19)
	if nc.Devices == 0 {
		nc.Devices = devices
	}
	stores := nc.Stores
	if len(stores) == 0 {
		stores = []string{storeSQLite}
	}
	store := stores[rng.IntN(len(stores))]
	if nc.Store == "" {
		nc.Store = store
	}
	if nc.Length <= 0 {
		nc.Length = 5 * time.Second
	}
	if nc.EditsPerDevice <= 0 {
		nc.EditsPerDevice = 25
	}
	pullLimit := 20 + rng.IntN(60)
	staleAfter := time.Duration(3+rng.IntN(5)) * time.Second
	instances := 1
	if nc.Store == storePG2 {
		instances = 2
	}
	if nc.Faults == nil {
		nc.Faults = DrawSchedule(rng, nc.Length, nc.Devices, instances, nc.Unmarked)
		if nc.Hubs > 0 {
			nc.Faults = drawHubFaults(rng, nc.Faults, nc.Length, nc.Hubs)
		}
	}
	return nc, rng, pullLimit, staleAfter
}

// RunNemesis runs one nemesis run: its own server processes on a fresh
// database, the devices, the faults, the settling rounds and the verdict.
func RunNemesis(ctx context.Context, nc NemesisConfig) (Summary, error) {
	nc, _, pullLimit, staleAfter := nc.plan()
	sum := Summary{Devices: nc.Devices, Seed: nc.Seed}
	dir := nc.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "outpost-nemesis-")
		if err != nil {
			return sum, fmt.Errorf("nemesis run: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return sum, fmt.Errorf("nemesis run: %w", err)
	}
	bin, err := findServerBin(nc.ServerBin)
	if err != nil {
		return sum, err
	}
	c, err := startCluster(ctx, bin, dir, nc.Store, nc.PGAdmin, staleAfter, nc.Hubs > 0)
	if err != nil {
		return sum, fmt.Errorf("nemesis run: %w", err)
	}
	defer c.Close()
	managers := 1 + nc.Devices/8
	site := fmt.Sprintf("nemesis-%d", nc.Seed)
	var hubs []*hub
	if nc.Hubs > 0 {
		hubs, err = startHubs(ctx, bin, dir, c, site, nc.Hubs, nc.Devices+2*nc.Faults.Count(faultEnroll)+5)
		defer closeHubs(hubs)
		if err != nil {
			return sum, fmt.Errorf("nemesis run: %w", err)
		}
	}
	code, err := enrollCode(ctx, bin, c.db, site, "operator", nc.Devices-managers+2*nc.Faults.Count(faultEnroll)+5)
	if err != nil {
		return sum, err
	}
	mgrCode, err := enrollCode(ctx, bin, c.db, site, "manager", managers+5)
	if err != nil {
		return sum, err
	}
	nem := &Nemesis{Schedule: nc.Faults, Cluster: c, Devices: deviceOptions{PullLimit: pullLimit}, StaleAfter: staleAfter, Hubs: hubs}
	cfg := Config{ServerURLs: c.URLs(), Code: code, ManagerCode: mgrCode, Devices: nc.Devices, Managers: managers,
		Edits: nc.Devices * max(1, nc.EditsPerDevice), OfflineRatio: 0.2, Seed: nc.Seed, Duration: nc.Length, Dir: dir, SyncEvery: 5,
		Progress: nc.Progress, Nemesis: nem, Hubs: hubs}
	sum, err = Run(ctx, cfg)
	sum.Seed, sum.Hubs = nc.Seed, nc.Hubs
	if sum.Nemesis == nil {
		st := nem.Stats()
		sum.Nemesis = &st
	}
	return sum, err
}

// replayCommand is the command line that replays a nemesis run.
func replayCommand(nc NemesisConfig) string {
	nc, _, _, _ = nc.plan()
	hubs := ""
	if nc.Hubs > 0 {
		hubs = fmt.Sprintf(" --hubs %d", nc.Hubs)
	}
	return fmt.Sprintf("outpost-sim --seed %d --devices %d --store %s --length %s%s --faults '%s'", nc.Seed, nc.Devices, nc.Store, nc.Length, hubs, nc.Faults)
}
