// Command bench measures the local store (backend/store) encrypted and
// unencrypted, and the knobs of SQLCipher, for docs/benchmarks.md. It is not
// a test: run.sh builds it, runs it beside Node's better-sqlite3 and prints
// one markdown report.
//
//	bench run -dir DIR -out results.json [-suites driver,store,knobs] [-label L] [-quick]
//	bench report results.json [more.json …]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"

	"github.com/outpost-app/outpost/backend/store"
)

// Names of the systems in the report.
const (
	sysEnc   = "go-sqlcipher encrypted"
	sysPlain = "go-sqlcipher unencrypted"
	sysNode  = "better-sqlite3 12 (Node 20)"
	stEnc    = "store encrypted"
	stPlain  = "store unencrypted"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench run|report …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "report":
		err = report(os.Stdout, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", os.TempDir(), "directory for the databases")
	out := fs.String("out", "results.json", "results file")
	suites := fs.String("suites", "driver,store,knobs", "comma-separated: driver, driver-enc, store, knobs")
	label := fs.String("label", "", "appended to every system name (e.g. the build's CGO_CFLAGS)")
	quick := fs.Bool("quick", false, "small sizes, to check that it runs")
	fs.Parse(args)

	sz := sizes{batch: 100_000, single: 10_000, big: 1_000_000, pending: 1_000, reads: 100_000, hot: 10_000}
	if *quick {
		sz = sizes{batch: 5_000, single: 200, big: 20_000, pending: 100, reads: 2_000, hot: 500}
	}
	rc := &recorder{log: os.Stderr, label: *label}
	rng := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	fmt.Fprintf(os.Stderr, "go-sqlcipher %s, %s, %d CPUs\n", cipherVersion(), runtime.Version(), runtime.NumCPU())

	// This store's settings (store.Options defaults): raw key, memory
	// security off, 32 MiB cache, WAL, synchronous FULL, prepared statements.
	enc := drvConfig{name: sysEnc, key: key, cacheKiB: 32 << 10, sync: "FULL"}
	plain := enc
	plain.name, plain.key = sysPlain, nil

	want := map[string]bool{}
	for _, s := range strings.Split(*suites, ",") {
		want[strings.TrimSpace(s)] = true
	}
	if want["driver"] || want["driver-enc"] {
		if err := runDriverCore(rc, *dir, enc, sz, rng); err != nil {
			return err
		}
	}
	if want["driver"] {
		if err := runDriverCore(rc, *dir, plain, sz, rng); err != nil {
			return err
		}
	}
	if want["store"] {
		if err := runStore(rc, *dir, stEnc, store.Options{Key: key}, sz, rng); err != nil {
			return err
		}
		if err := runStore(rc, *dir, stPlain, store.Options{Unencrypted: true}, sz, rng); err != nil {
			return err
		}
	}
	if want["knobs"] {
		if err := runKnobs(rc, *dir, enc, plain, sz, rng, 3, 2); err != nil {
			return err
		}
	}
	return writeJSON(*out, rc.out)
}

func cipherVersion() string {
	db, err := drvConfig{name: "v", cacheKiB: 2000, sync: "FULL", noSchema: true}.open(":memory:")
	if err != nil {
		return "?"
	}
	defer db.Close()
	var v string
	db.QueryRowContext(context.Background(), "PRAGMA cipher_version").Scan(&v)
	var sv string
	db.QueryRow("SELECT sqlite_version()").Scan(&sv)
	return "SQLCipher " + v + " / SQLite " + sv
}
