package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//	outpost-sim nemesis --seed N [--devices D] [--store sqlite|pg|pg2] [--hubs K] [--faults SCHEDULE] [--pg URL]
//
// runs one nemesis run (nemesis.go) and prints its JSON summary; a failing
// run prints the command that replays it on stderr and exits 1.
//
//	outpost-sim soak [--seeds A-B] [--minutes 60] [--stores sqlite,pg,pg2] [--hub-share 0.3] [--pg URL]
//
// runs the campaign: one nemesis run per seed, a JSON line each, then a
// closing summary line; it stops at the end of the range or of the time.
// A share of the seeds (soakHubs) runs with one or two site hubs; each
// line says how many ("hubs").

func nemesisFlags(fs *flag.FlagSet) (*NemesisConfig, *string) {
	nc := &NemesisConfig{}
	fs.StringVar(&nc.ServerBin, "server-bin", "", "outpost-server binary (default: beside outpost-sim, then PATH)")
	fs.StringVar(&nc.PGAdmin, "pg", os.Getenv("OUTPOST_TEST_PG"), "PostgreSQL cluster URL for the pg and pg2 stores (default $OUTPOST_TEST_PG)")
	fs.DurationVar(&nc.Length, "length", 5*time.Second, "the edit phase, over which the faults fall")
	fs.BoolVar(&nc.Unmarked, "unmarked-restores", false, "also restore backups nobody marks with `outpost-server restored`")
	faults := fs.String("faults", "", "the fault schedule to play (as a failing run prints it; default drawn from the seed)")
	return nc, faults
}

func runNemesisCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("outpost-sim nemesis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nc, faults := nemesisFlags(fs)
	fs.Uint64Var(&nc.Seed, "seed", 1, "random seed")
	fs.IntVar(&nc.Devices, "devices", 0, "devices (default drawn from the seed, 2–20)")
	fs.StringVar(&nc.Store, "store", "", "server store: sqlite, pg or pg2 (two instances on one PostgreSQL); default drawn from the seed among those available")
	fs.StringVar(&nc.Dir, "dir", "", "keep the run's databases and logs in this directory (default: a temporary one, removed)")
	fs.IntVar(&nc.Hubs, "hubs", 0, "site hubs (issue 19): devices spread over central and K hubs, each hub's link to central cut and the hub killed by the schedule")
	verbose := fs.Bool("v", false, "print the phases and every mismatch")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *faults != "" {
		s, err := ParseSchedule(*faults)
		if err != nil {
			fmt.Fprintln(stderr, "outpost-sim:", err)
			return 2
		}
		nc.Faults = s
	}
	nc.Stores = availableStores(nc.PGAdmin)
	if *verbose {
		nc.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if nc.Hubs < 0 {
		fmt.Fprintln(stderr, "outpost-sim: --hubs must be ≥ 0")
		return 2
	}
	line, ok := nemesisLine(ctx, *nc, runLimit(*nc))
	fmt.Fprintln(stdout, line)
	if !ok {
		fmt.Fprintln(stderr, "replay:", replayCommand(*nc))
		return 1
	}
	return 0
}

// runLimit is how long a run may take: 3 minutes, and a run with hubs its
// edit phase more (the long ones cut a hub's link for minutes).
func runLimit(nc NemesisConfig) time.Duration {
	if nc.Hubs > 0 {
		return 3*time.Minute + nc.Length
	}
	return 3 * time.Minute
}

// soakHubs draws a campaign seed's topology from its own stream (the
// seed's run, drawn by plan, stays what it was): share of the seeds run
// with one or two hubs; with long set (a campaign of half an hour or
// more), one hub run in six has an edit phase of three minutes, whose
// cuts last minutes (drawHubFaults).
func soakHubs(seed uint64, share float64, long bool) (hubs int, length time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0x68756273))
	if rng.Float64() >= share {
		return 0, 0
	}
	hubs = 1 + rng.IntN(2)
	if long && rng.IntN(6) == 0 {
		length = 3 * time.Minute
	}
	return hubs, length
}

// availableStores are the stores a drawn run may use: PostgreSQL only
// with a cluster.
func availableStores(pg string) []string {
	if pg == "" {
		return []string{storeSQLite}
	}
	return []string{storeSQLite, storePG, storePG2}
}

// nemesisLine runs one nemesis run within limit and returns its JSON line
// and whether it passed. A run that could not run at all (a server that
// would not start) is a failure with an "error".
func nemesisLine(ctx context.Context, nc NemesisConfig, limit time.Duration) (string, bool) {
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	sum, err := RunNemesis(rctx, nc)
	if nc.Progress != nil {
		for _, m := range sum.Mismatches {
			fmt.Fprintln(nc.Progress, "mismatch:", m)
		}
	}
	type line struct {
		Summary
		Error      string   `json:"error,omitempty"`
		Mismatches []string `json:"first_mismatches,omitempty"`
		Replay     string   `json:"replay,omitempty"`
	}
	l := line{Summary: sum}
	ok := err == nil && sum.OK()
	if err != nil {
		l.Error = err.Error()
	}
	if !ok {
		l.Mismatches = sum.Mismatches[:min(len(sum.Mismatches), 5)]
		l.Replay = replayCommand(nc)
	}
	l.Summary.Mismatches = nil
	b, _ := json.Marshal(l)
	return string(b), ok
}

// campaign is the closing line of a soak.
type campaign struct {
	Campaign string `json:"campaign"`
	Runs     int    `json:"runs"`
	Failed   int    `json:"failed"`
	Errors   int    `json:"errors"`
	tally
	// PurgedFromHistory are edits found only through the push ledger
	// (Summary.PurgedFromHistory): not failures, counted to show how often.
	PurgedFromHistory int `json:"purged_from_history"`
	// CarriedThenPurged are edits excused through the decision that
	// carried them (Summary.CarriedThenPurged): not failures either.
	CarriedThenPurged int `json:"carried_then_purged"`
	// DecidedBeforeRestore are edits a decision the restore took back
	// had rejected (Summary.DecidedBeforeRestore): not failures either.
	DecidedBeforeRestore int `json:"decided_before_restore"`
	// SupersededBeforeRestore are edits a later write replaced before a
	// restore truncated the history (Summary.SupersededBeforeRestore).
	SupersededBeforeRestore int      `json:"superseded_before_restore"`
	Stores                  any      `json:"stores"`
	Hubs                    any      `json:"hubs"`
	Faults                  any      `json:"faults"`
	FailingSeeds            []uint64 `json:"failing_seeds"`
	Minutes                 float64  `json:"minutes"`
}

func runSoak(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("outpost-sim soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nc, _ := nemesisFlags(fs)
	seeds := fs.String("seeds", "1-1000", "seed range A-B (inclusive)")
	minutes := fs.Float64("minutes", 60, "stop starting runs after this many minutes")
	stores := fs.String("stores", "", "comma-separated stores the runs draw from (default sqlite, pg, pg2 with a PostgreSQL cluster)")
	fs.Float64Var(&nc.HubShare, "hub-share", 0.3, "share of the seeds run with one or two site hubs (issue 19; 0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	from, to, err := seedRange(*seeds)
	if err != nil {
		fmt.Fprintln(stderr, "outpost-sim:", err)
		return 2
	}
	nc.Stores = availableStores(nc.PGAdmin)
	if *stores != "" {
		nc.Stores = strings.Split(*stores, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := soak(ctx, *nc, from, to, time.Duration(*minutes*float64(time.Minute)), stdout, stderr)
	b, _ := json.Marshal(c)
	fmt.Fprintln(stdout, string(b))
	if c.Failed > 0 {
		return 1
	}
	return 0
}

// addRun adds one run's counters and excuses to the closing line.
func (c *campaign) addRun(s Summary) {
	c.add(s.tally)
	c.PurgedFromHistory += s.PurgedFromHistory
	c.CarriedThenPurged += s.CarriedThenPurged
	c.DecidedBeforeRestore += s.DecidedBeforeRestore
	c.SupersededBeforeRestore += s.SupersededBeforeRestore
}

// soak runs one nemesis run per seed from..to until the range or the time
// ends, printing a line per run, and returns the closing summary. A run
// the campaign's own stop (SIGINT, SIGTERM: ctx) cut short is neither a
// run nor a failure: it is reported on stderr and the campaign ends before
// it (seed 218 of the 8deb348 campaign, stopped at 49 minutes, counted
// failed with "quarantine: begin read: context canceled").
func soak(ctx context.Context, nc NemesisConfig, from, to uint64, limit time.Duration, stdout, stderr io.Writer) campaign {
	start := time.Now()
	deadline := start.Add(limit)
	c := campaign{Campaign: fmt.Sprintf("seeds %d-%d", from, to), FailingSeeds: []uint64{}}
	perStore, perFault, perHubs := map[string]int{}, map[string]int{}, map[string]int{}
	last := from - 1
	for seed := from; seed <= to && time.Now().Before(deadline) && ctx.Err() == nil; seed++ {
		run := nc
		run.Seed = seed
		if run.Hubs == 0 && run.HubShare > 0 {
			var length time.Duration
			run.Hubs, length = soakHubs(seed, run.HubShare, limit >= 30*time.Minute)
			if length > 0 {
				run.Length = length
			}
		}
		line, ok := nemesisLine(ctx, run, runLimit(run))
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "outpost-sim: the campaign was stopped during seed %d: that run is not counted\n", seed)
			break
		}
		fmt.Fprintln(stdout, line)
		last = seed
		var s struct {
			Summary
			Error string `json:"error"`
		}
		json.Unmarshal([]byte(line), &s)
		c.Runs++
		if !ok {
			c.Failed++
			c.FailingSeeds = append(c.FailingSeeds, seed)
		}
		if s.Error != "" {
			c.Errors++
		}
		c.addRun(s.Summary)
		perHubs[strconv.Itoa(s.Hubs)]++
		if s.Nemesis != nil {
			perStore[s.Nemesis.Store]++
			sched, _ := ParseSchedule(s.Nemesis.Faults)
			for _, f := range sched {
				perFault[f.Kind]++
			}
		}
	}
	c.Campaign = fmt.Sprintf("seeds %d-%d", from, last)
	c.Stores, c.Faults, c.Hubs = perStore, perFault, perHubs
	c.Minutes = float64(time.Since(start).Round(time.Second)) / float64(time.Minute)
	return c
}

// seedRange parses "A-B" (or "A").
func seedRange(s string) (uint64, uint64, error) {
	a, b, found := strings.Cut(s, "-")
	from, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("--seeds %q: want A-B", s)
	}
	to := from
	if found {
		if to, err = strconv.ParseUint(b, 10, 64); err != nil || to < from {
			return 0, 0, fmt.Errorf("--seeds %q: want A-B with A ≤ B", s)
		}
	}
	return from, to, nil
}
