package main

// Running the benchmark against PostgreSQL, with one or several server
// processes sharing the database:
//
//	bash backend/server/bench/run.sh -pg postgres://outpost@127.0.0.1:5432/postgres -instances 2
//
// Each run gets a fresh schema, dropped afterwards; devices are spread over
// the instances in turn, as a load balancer would.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	pgURL     = flag.String("pg", "", "PostgreSQL cluster URL (postgres://…): run there instead of on SQLite, a fresh schema per run")
	instances = flag.Int("instances", 1, "server processes sharing the database (with -pg)")
)

// storeName names the store of the runs in the table's title.
func storeName() string {
	if *pgURL == "" {
		return "embedded SQLite"
	}
	return fmt.Sprintf("PostgreSQL, %d instance(s)", max(1, *instances))
}

// newDB returns the --db of a fresh, empty database and how to remove it.
func newDB() (string, func(), error) {
	if *pgURL == "" {
		dir, err := os.MkdirTemp("", "outpost-bench")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "server.db"), func() { os.RemoveAll(dir) }, nil
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "outpost_bench_" + hex.EncodeToString(b[:])
	if err := pgExec(*pgURL, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(*pgURL)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { pgExec(*pgURL, "DROP SCHEMA "+schema+" CASCADE") }, nil
}

func pgExec(u, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", u, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
