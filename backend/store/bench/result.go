package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Result is one measured operation. Node's script prints the same shape.
type Result struct {
	Suite   string  `json:"suite"`  // "driver", "store" or "knob"
	System  string  `json:"system"` // what ran it
	Op      string  `json:"op"`     // what was measured
	N       int     `json:"n"`      // operations timed
	Rows    int     `json:"rows"`   // rows written or read in them
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

// UsPerOp is the mean time of one operation in µs.
func (r Result) UsPerOp() float64 { return r.Seconds / float64(r.N) * 1e6 }

// RowsPerSec is the throughput in rows per second.
func (r Result) RowsPerSec() float64 { return float64(r.Rows) / r.Seconds }

// recorder collects results and echoes them to stderr as they come.
type recorder struct {
	out   []Result
	log   io.Writer
	label string // appended to System, e.g. the CGO_CFLAGS of this build
}

func (rc *recorder) add(r Result) {
	if rc.label != "" {
		r.System += " " + rc.label
	}
	rc.out = append(rc.out, r)
	fmt.Fprintf(rc.log, "%-7s %-48s %-26s %10.2f µs/op %12.0f rows/s  %s\n", r.Suite, r.System, r.Op, r.UsPerOp(), r.RowsPerSec(), r.Note)
}

// time runs fn once and records it as n operations over rows rows.
func (rc *recorder) time(suite, system, op string, n, rows int, note string, fn func() error) error {
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s %s %s: %w", suite, system, op, err)
	}
	rc.add(Result{Suite: suite, System: system, Op: op, N: n, Rows: rows, Seconds: time.Since(start).Seconds(), Note: note})
	return nil
}

func writeJSON(path string, rs []Result) error {
	b, err := json.MarshalIndent(rs, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func readJSON(path string) ([]Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}
