package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// BenchResult is `outpost-sim bench`'s JSON line.
type BenchResult struct {
	Rows int `json:"rows"`
	// InitialSyncSeconds: a fresh device pulls every row over loopback.
	InitialSyncSeconds float64 `json:"initial_sync_seconds"`
	// RawInsertSeconds: the same number of rows inserted into the same kind
	// of store locally as a real bulk insert (CreateRecords, one prepared
	// statement, transactions of rawInsertChunk rows): the local limit.
	RawInsertSeconds float64 `json:"raw_insert_seconds"`
	Ratio            float64 `json:"initial_sync_vs_raw_insert"`
	// PeakHeapMiB is the Go heap's peak during the initial sync; PeakRSSMiB
	// the process's (VmHWM, Linux), which includes SQLCipher's page caches.
	PeakHeapMiB float64 `json:"peak_heap_mib"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	PushRows    int     `json:"push_rows"`
	PushPerSec  float64 `json:"push_rows_per_second"`
	Gzip        bool    `json:"gzip"`
}

// runBench measures the initial sync of a large site and the push rate
// (make bench). Gzip is on both ways, as in production.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("outpost-sim bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rows := fs.Int("rows", 1_000_000, "rows on the server for the initial sync")
	pushN := fs.Int("push", 100_000, "pending rows pushed for the push rate")
	serverBin := fs.String("server-bin", "", "outpost-server binary")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "outpost-sim bench:", err)
			return 1
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := bench(context.Background(), *rows, *pushN, *serverBin, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "outpost-sim bench:", err)
		return 1
	}
	out, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(out))
	return 0
}

func openBenchStore(ctx context.Context, dir string) (*store.Store, error) {
	key, _, err := keychain.NewKeyFile(filepath.Join(dir, "key")).GetOrCreate(ctx, false)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Path: filepath.Join(dir, "outpost.db"), Key: key})
}

// rawInsertChunk is the raw insert's transaction size: the store's bulk
// insert (CreateRecords: one prepared statement, one transaction) at its best.
// Larger transactions dirty each index page once for many rows; the initial
// sync cannot do that, as each pulled page (at most 5000 rows, the server's
// cap) commits with its cursor.
const rawInsertChunk = 100_000

func insertRows(ctx context.Context, st *store.Store, n int) error {
	return insertRowsChunked(ctx, st, n, 5000)
}

func insertRowsChunked(ctx context.Context, st *store.Store, n, chunk int) error {
	ins := make([]store.RecordInput, 0, chunk)
	for i := 0; i < n; i++ {
		ins = append(ins, store.RecordInput{LineID: "L" + strconv.Itoa(i%20), ProductID: "P-" + strconv.Itoa(i%500), Quantity: int64(i % 1000), OperatorID: "op-" + strconv.Itoa(i%50)})
		if len(ins) == chunk || i == n-1 {
			if _, err := st.CreateRecords(ctx, ins); err != nil {
				return err
			}
			ins = ins[:0]
		}
	}
	return nil
}

func bench(ctx context.Context, rows, pushN int, serverBin string, log io.Writer) (BenchResult, error) {
	res := BenchResult{Rows: rows, PushRows: pushN, Gzip: true}
	dir, err := os.MkdirTemp("", "outpost-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	bin, err := findServerBin(serverBin)
	if err != nil {
		return res, err
	}
	srv, err := startServer(ctx, bin, dir)
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	code, err := enrollCode(ctx, bin, srv.db, "bench", "operator", 3)
	if err != nil {
		return res, err
	}
	device := func(name string) (*store.Store, *syncclient.Client, error) {
		st, err := openBenchStore(ctx, filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		cl := syncclient.New(syncclient.Options{Store: st, Tokens: &syncclient.MemoryTokens{}, BatchSize: 1000, PullLimit: 5000})
		if _, err := cl.Enroll(ctx, srv.URL(), code); err != nil {
			st.Close()
			return nil, nil, err
		}
		return st, cl, nil
	}

	// Push rate: pushN pending rows, batches of 1000.
	pst, pcl, err := device("pusher")
	if err != nil {
		return res, err
	}
	if err := insertRows(ctx, pst, pushN); err != nil {
		return res, err
	}
	t0 := time.Now()
	if _, err := pcl.Sync(ctx); err != nil {
		return res, fmt.Errorf("push: %w", err)
	}
	res.PushPerSec = float64(pushN) / time.Since(t0).Seconds()
	fmt.Fprintf(log, "pushed %d rows in %s\n", pushN, time.Since(t0).Round(time.Millisecond))
	// The rest of the site, pushed the same way (not timed).
	if rest := rows - pushN; rest > 0 {
		if err := insertRows(ctx, pst, rest); err != nil {
			return res, err
		}
		if _, err := pcl.Sync(ctx); err != nil {
			return res, fmt.Errorf("seed: %w", err)
		}
	}
	pst.Close()
	runtime.GC()

	// Initial sync of a fresh device.
	fst, fcl, err := device("fresh")
	if err != nil {
		return res, err
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t0 = time.Now()
	rep, err := fcl.Sync(ctx)
	res.InitialSyncSeconds = time.Since(t0).Seconds()
	close(stop)
	fst.Close()
	if err != nil {
		return res, fmt.Errorf("initial sync: %w", err)
	}
	if rep.Pulled < rows {
		return res, fmt.Errorf("initial sync pulled %d changes, want %d", rep.Pulled, rows)
	}
	res.PeakHeapMiB = float64(peak.Load()) / (1 << 20)
	res.PeakRSSMiB = vmHWM()
	fmt.Fprintf(log, "initial sync of %d rows in %.1fs\n", rows, res.InitialSyncSeconds)

	// The local limit: the same rows inserted straight into a fresh store.
	rst, err := openBenchStore(ctx, filepath.Join(dir, "raw"))
	if err != nil {
		return res, err
	}
	t0 = time.Now()
	err = insertRowsChunked(ctx, rst, rows, rawInsertChunk)
	res.RawInsertSeconds = time.Since(t0).Seconds()
	rst.Close()
	if err != nil {
		return res, err
	}
	res.Ratio = res.InitialSyncSeconds / res.RawInsertSeconds
	return res, nil
}

// vmHWM returns the process's peak resident memory in MiB (Linux), or 0.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
