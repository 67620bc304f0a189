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
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+qHLCsHeld+"(?, ?)", "s", "t", "id1", "id2")
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
	joined := strings.Join(plan, "; ")
	if len(plan) == 0 || strings.Contains(joined, "SCAN") || !strings.Contains(joined, "(rid=?") {
		t.Fatalf("plan %q: want a SEARCH of rows by key and of row_versions by rid", joined)
	}
	t.Logf("plan: %s", joined)
}
