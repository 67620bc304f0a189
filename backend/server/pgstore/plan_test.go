package pgstore

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/outpost-app/outpost/backend/server/pgstore/pgtest"
)

// A hub reads its site's history in version order (Store.Writes, issue
// 19), page after page as it pushes upstream: a range of row_versions_site
// (site, version), already in order (no sort of the site's history), each
// version's row by the row's key. A sequential scan or a sort would read
// every version of the site (or of every site) for each page.
func TestWrites_RangeOfTheSiteIndex(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	s, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// 20 sites of 50 rows written 10 times each.
	for _, q := range []string{
		`INSERT INTO rows(site, tbl, id, version, hlc, device_id, data, bucket)
			SELECT 's' || (i % 20), 't', 'r' || (i / 20), 10 * (i / 20) + 10, 'h', 'd', '{}'::bytea, 'b' FROM generate_series(0, 999) i`,
		`INSERT INTO row_versions(site, tbl, id, version, hlc, device_id, data)
			SELECT site, tbl, id, version - k, 'h', 'd', '{}'::bytea FROM rows, generate_series(0, 9) k`,
		`ANALYZE rows`, `ANALYZE row_versions`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	rs, err := c.Query(ctx, "EXPLAIN "+qWrites, "s7", 100, 50)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "Index Scan using row_versions_site on row_versions") || strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
		t.Fatalf("plan:\n%s\nwant an index scan of row_versions_site, no sequential scan, no sort", plan)
	}
	t.Logf("plan:\n%s", plan)
}
