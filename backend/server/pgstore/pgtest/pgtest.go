// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the cluster named by OUTPOST_TEST_PG (see .ci/postgres),
// dropped when the test ends.
//
// Without OUTPOST_TEST_PG the test is skipped, unless OUTPOST_REQUIRE_PG=1
// (CI), where it fails: a missing database must not pass silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Admin returns the cluster URL of OUTPOST_TEST_PG, skipping (or failing,
// under OUTPOST_REQUIRE_PG=1) when it is unset.
func Admin(t testing.TB) string {
	t.Helper()
	u := os.Getenv("OUTPOST_TEST_PG")
	if u == "" {
		if os.Getenv("OUTPOST_REQUIRE_PG") == "1" {
			t.Fatal("OUTPOST_REQUIRE_PG=1 but OUTPOST_TEST_PG is unset: run the tests through .ci/postgres")
		}
		t.Skip("OUTPOST_TEST_PG is unset: PostgreSQL tests skipped (run them with: bash .ci/postgres go test ./backend/server/pgstore/...)")
	}
	return u
}

// URL creates a fresh schema and returns OUTPOST_TEST_PG with search_path
// set to it. The schema is dropped at cleanup (after the cleanups the test
// registers later, such as closing its stores).
func URL(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	var b [8]byte
	rand.Read(b[:])
	schema := "outpost_test_" + hex.EncodeToString(b[:])
	exec(t, admin, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, admin, "DROP SCHEMA "+schema+" CASCADE") })
	return WithParam(t, admin, "search_path", schema)
}

// WithParam returns u with one query parameter set.
func WithParam(t testing.TB, u, key, value string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("OUTPOST_TEST_PG must be a postgres:// URL: %v", err)
	}
	q := p.Query()
	q.Set(key, value)
	p.RawQuery = q.Encode()
	return p.String()
}

func exec(t testing.TB, u, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to the test cluster: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
