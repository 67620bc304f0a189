package sqlitestore_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// TestAddSum_WrapsAroundLikeChecksum: the store adds a transaction's sums
// to the stored ones in SQL (issue 16); the result must be the sum mod 2^64
// of checksum.Sum.Merge for sums near 2^63 and 2^64, where SQLite's signed
// 64-bit + would overflow into a REAL or raise an error.
func TestAddSum_WrapsAroundLikeChecksum(t *testing.T) {
	const top = math.MaxUint64
	const half = uint64(1) << 63
	cases := []struct {
		name  string
		steps []checksum.Sum // added one transaction each
	}{
		{"small", []checksum.Sum{{Count: 1, Sum: 1}, {Count: 1, Sum: 2}}},
		{"to 2^63-1", []checksum.Sum{{Count: 1, Sum: half - 2}, {Count: 1, Sum: 1}}},
		{"across 2^63", []checksum.Sum{{Count: 1, Sum: half - 1}, {Count: 1, Sum: 1}}},
		{"2^63 twice wraps to 0", []checksum.Sum{{Count: 1, Sum: half}, {Count: 1, Sum: half}}},
		{"across 2^64", []checksum.Sum{{Count: 1, Sum: top}, {Count: 1, Sum: 2}}},
		{"2^64-1 twice", []checksum.Sum{{Count: 1, Sum: top}, {Count: 1, Sum: top}}},
		{"high halves carry", []checksum.Sum{{Count: 1, Sum: 0xffffffff_ffffffff}, {Count: 1, Sum: 0x00000001_00000001}}},
		{"low half carries into bit 63", []checksum.Sum{{Count: 1, Sum: 0x7fffffff_ffffffff}, {Count: 1, Sum: 0x00000000_00000001}}},
		{"removal below 0", []checksum.Sum{{Count: 2, Sum: 5}, {Count: -1, Sum: neg(7)}}},
		{"removal across 2^63", []checksum.Sum{{Count: 2, Sum: half + 3}, {Count: -1, Sum: neg(4)}}},
		{"many near the top", []checksum.Sum{{Count: 1, Sum: top - 3}, {Count: 1, Sum: top - 5}, {Count: 1, Sum: half + 9}, {Count: -1, Sum: neg(top - 5)}}},
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := "line_configs"
			bucket := fmt.Sprintf("%s:%02x", table, i)
			var want checksum.Sum
			for _, d := range c.steps {
				want.Merge(d)
				tx, err := st.Begin(ctx, "s")
				if err != nil {
					t.Fatal(err)
				}
				tx.AddSum(table, bucket, d)
				if err := tx.Commit(); err != nil {
					t.Fatalf("commit %+v: %v", d, err)
				}
			}
			_, got, err := st.Checksums(ctx, "s", table)
			if err != nil {
				t.Fatal(err)
			}
			if got[bucket] != want {
				t.Fatalf("bucket sum = %+v (%s), want %+v (%s)", got[bucket], checksum.Hex(got[bucket].Sum), want, checksum.Hex(want.Sum))
			}
		})
	}
}

// neg is -x mod 2^64: the sum a removed row of hash x adds.
func neg(x uint64) uint64 { return -x }
