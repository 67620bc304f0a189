package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The push's history lookup (Tx.HLCsHeld, issue 15) reads one row's
// versions through keys: rows' unique (site, tbl, id), then row_versions'
// primary key (rid, version). A SCAN of either table would make every push
// on a stale base read the whole site's history.
func TestHLCsHeld_SearchesByKey(t *testing.T) {
	joined := queryPlan(t, qHLCsHeld+"(?, ?)", "s", "t", "id1", "id2")
	if strings.Contains(joined, "SCAN") || !strings.Contains(joined, "(rid=?") {
		t.Fatalf("plan %q: want a SEARCH of rows by key and of row_versions by rid", joined)
	}
	t.Logf("plan: %s", joined)
}

// A hub reads its site's history in version order (Store.Writes, issue
// 19), page after page as it pushes upstream: a range of row_versions_site
// (site, version), already in order (no sort), and each version's row by
// its rid. A SCAN would read every site's history for each page.
func TestWrites_RangeOfTheSiteIndex(t *testing.T) {
	joined := queryPlan(t, qWrites, "s", 0, 100)
	if strings.Contains(joined, "SCAN") || strings.Contains(joined, "TEMP B-TREE") ||
		!strings.Contains(joined, "row_versions_site (site=? AND version>?)") || !strings.Contains(joined, "INTEGER PRIMARY KEY (rowid=?)") {
		t.Fatalf("plan %q: want a SEARCH of row_versions_site by (site, version) and of rows by rid, without a sort", joined)
	}
	t.Logf("plan: %s", joined)
}

// queryPlan returns the details of EXPLAIN QUERY PLAN of q on a new
// database, joined by "; ".
func queryPlan(t *testing.T, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 {
		t.Fatal("no query plan")
	}
	return strings.Join(plan, "; ")
}
