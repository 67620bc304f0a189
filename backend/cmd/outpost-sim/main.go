// Command outpost-sim is a headless device simulator: N simulated desktops,
// each with its own encrypted store (key from a key file in a temporary
// directory) and the real sync client, edit the same site (the same rows
// from different devices too), drop offline and come back at random, then
// sync until settled; it checks that every device holds exactly the
// server's state, field by field, and that no edit was lost or applied
// twice. --managers of the devices are manager devices: they also edit the
// site data (lines, products, people, site settings), so two managers'
// concurrent edits of a master row meet as manual conflicts or merges. The
// operator devices now and then write site data into their own store too:
// the check requires each such write to be refused by the server
// ("forbidden") and none applied. Records take their line and product codes
// from the device's local lists, now and then one the lists refuse: the
// store must refuse exactly those.
//
//	outpost-sim [--server URL --code C --manager-code C] --devices N --managers K --edits M
//	            --offline-ratio P --seed S --duration D [--server-bin PATH] [--dir DIR]
//
// Without --server it starts outpost-server itself (--server-bin, beside this
// binary, on PATH, or — under `go run` in the source tree — built into the
// user cache directory) on a temporary embedded-SQLite database on
// loopback and enrolls the devices through its enroll command. With
// --server, enrollment codes come from --code (an operator code with at
// least N-K uses) and --manager-code (K+1 uses: the managers and the one
// that settles conflicts), or from --server-db (the server's --db, for the
// enroll command).
//
// The last line of output is a JSON summary (site_edits, site_rows,
// site_conflicts, forbidden_edits, forbidden and refused count the site
// data's part). Exit status 0 only if the devices converged with nothing
// lost or duplicated, every operator's write of site data refused and none
// applied, and the store's code checks agreeing with the lists; 1
// otherwise; 2 for usage errors.
//
//	outpost-sim nemesis --seed N [--devices D --store sqlite|pg|pg2 --hubs K --faults SCHEDULE]
//	outpost-sim --seed N --faults SCHEDULE …   (the same: a failing run's replay line)
//	outpost-sim soak [--seeds A-B --minutes 60 --hub-share 0.3]
//
// run the simulator as a nemesis: seeded fault schedules against real
// server processes and crashing devices, judged by counters that must be
// 0 (nemesis.go, nemesiscmd.go; make soak runs the campaign). With --hubs
// K the site has K hubs (hubs.go, issue 19), each an outpost-server of its
// own whose link to central the nemesis cuts.
//
//	outpost-sim bench [--rows 1000000] [--push 100000]
//
// measures the initial sync of a large site against a raw local insert of
// the same rows, and the push rate (make bench).
//
// It links only go-sqlcipher (the device store), never the server's SQLite
// store: the two drivers cannot share a binary (docs/design.md section 1).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getenv("OUTPOST_SIM_CHILD") != "" {
		os.Exit(childDevice()) // a device process of a nemesis run (crash.go)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bench":
			return runBench(args[1:], stdout, stderr)
		case "nemesis":
			return runNemesisCmd(args[1:], stdout, stderr)
		case "soak":
			return runSoak(args[1:], stdout, stderr)
		}
	}
	for _, a := range args {
		if a == "-faults" || a == "--faults" || strings.HasPrefix(a, "-faults=") || strings.HasPrefix(a, "--faults=") {
			// outpost-sim --seed N --faults …: the replay of a nemesis run.
			return runNemesisCmd(args, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("outpost-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("server", "", "sync server URL (default: start outpost-server on a temporary database)")
	serverBin := fs.String("server-bin", "", "outpost-server binary (default: beside outpost-sim, then PATH)")
	serverDB := fs.String("server-db", "", "with --server: the server's --db URL, to create enrollment codes")
	code := fs.String("code", "", "with --server: an operator enrollment code with at least --devices minus --managers uses")
	mgrCode := fs.String("manager-code", "", "with --server: a manager enrollment code with at least --managers + 1 uses")
	site := fs.String("site", "", "site of the codes created here (default sim-<seed>-<time>)")
	devices := fs.Int("devices", 5, "number of simulated devices")
	managers := fs.Int("managers", 1, "how many of the devices are manager devices (they edit site data)")
	edits := fs.Int("edits", 500, "total number of edits over all devices")
	offline := fs.Float64("offline-ratio", 0.3, "fraction of the time a device is offline (0–1)")
	seed := fs.Uint64("seed", 1, "random seed")
	duration := fs.Duration("duration", 0, "spread the edits over this time (0 = as fast as possible)")
	dir := fs.String("dir", "", "directory for the devices' databases (default: a temporary one, removed)")
	verbose := fs.Bool("v", false, "log the sync clients")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *devices < 1 || *managers < 0 || *managers > *devices || *edits < 0 || *offline < 0 || *offline > 1 {
		fmt.Fprintln(stderr, "outpost-sim: --devices must be ≥ 1, --managers in 0–devices, --edits ≥ 0, --offline-ratio in 0–1")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "outpost-sim-")
		if err != nil {
			fmt.Fprintln(stderr, "outpost-sim:", err)
			return 1
		}
		defer os.RemoveAll(d)
		work = d
	}
	cfg := Config{Devices: *devices, Managers: *managers, Edits: *edits, OfflineRatio: *offline, Seed: *seed, Duration: *duration, Dir: work,
		ServerURL: *serverURL, Code: *code, ManagerCode: *mgrCode, Progress: stderr}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *site == "" {
		*site = fmt.Sprintf("sim-%d-%d", *seed, time.Now().UnixNano())
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "outpost-sim:", err)
		out, _ := json.Marshal(Summary{Devices: *devices})
		fmt.Fprintln(stdout, string(out))
		return 1
	}
	if cfg.ServerURL == "" {
		bin, err := findServerBin(*serverBin)
		if err != nil {
			fmt.Fprintln(stderr, "outpost-sim:", err)
			return 2
		}
		srv, err := startServer(ctx, bin, work)
		if err != nil {
			return fail(err)
		}
		defer srv.Stop()
		cfg.ServerURL = srv.URL()
		*serverBin, *serverDB = bin, srv.db
	}
	if cfg.Code == "" || cfg.ManagerCode == "" {
		if *serverDB == "" {
			fmt.Fprintln(stderr, "outpost-sim: with --server, give --code and --manager-code, or --server-db to create them")
			return 2
		}
		bin, err := findServerBin(*serverBin)
		if err != nil {
			fmt.Fprintln(stderr, "outpost-sim:", err)
			return 2
		}
		if cfg.Code, err = enrollCode(ctx, bin, *serverDB, *site, "operator", max(1, *devices-*managers)); err != nil {
			return fail(err)
		}
		if cfg.ManagerCode, err = enrollCode(ctx, bin, *serverDB, *site, "manager", *managers+1); err != nil {
			return fail(err)
		}
	}
	sum, err := Run(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	for _, m := range sum.Mismatches {
		fmt.Fprintln(stderr, "mismatch:", m)
	}
	mm := sum.Mismatches
	sum.Mismatches = nil
	out, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(out))
	sum.Mismatches = mm
	if !sum.OK() {
		return 1
	}
	return 0
}
