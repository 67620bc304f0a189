package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// A hub's sums for verification against central (docs/design.md sections 8
// and 9) hash each live row with central's version of it, never the hub's:
// central's rows republished and the hub's own writes central answered
// alike. While anything is between the hub and central (a write of the
// site not yet sent, a batch unanswered) the hub's state is not central's
// at any cursor and nothing is compared.
func TestUpstreamSums_CentralVersionsWhenSettled(t *testing.T) {
	ctx := context.Background()
	const site, hub = "site-u", "hub-dev"
	const central, gone, own = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003"
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(server.Config{Store: st, HubID: hub, Logger: discardLogger()})
	t.Cleanup(srv.Close)
	e := srv.Engine()
	reg := protocol.NewRegistry()
	const table = protocol.TableProductionRecords
	now := time.Now().UnixMilli()
	rec := func(id string, qty int) protocol.Row {
		return protocol.Row{"id": id, "line_id": "L1", "product_id": "P-1", "quantity": qty, "operator_id": "op",
			"created_at": now, "updated_at": now}
	}
	hlc := fmt.Sprintf("%015d-%05d-%s", now, 0, "dev-c")
	// Central's rows 41 (live) and 43 (a tombstone), republished.
	tomb := rec(gone, 2)
	tomb["deleted_at"] = now
	if _, err := e.Republish(ctx, site, hub, protocol.PullResponse{Cursor: 50, Changes: []protocol.PullChange{
		{Table: table, ID: central, Version: 41, HLC: hlc, Row: rec(central, 1)},
		{Table: table, ID: gone, Version: 43, HLC: hlc, Row: tomb},
	}}); err != nil {
		t.Fatal(err)
	}
	bucket := checksum.Bucket(table, "", true, now)
	want := checksum.Sum{}
	want.Add(checksum.Hash(table, central, 41))
	sums, err := e.UpstreamSums(ctx, site, hub)
	if err != nil {
		t.Fatal(err)
	}
	if !sums.Settled || sums.Cursor != 50 || sums.Tables[table][bucket] != want || len(sums.Tables[table]) != 1 {
		t.Fatalf("after a republish: %+v, want settled at 50 with %s = %+v", sums, bucket, want)
	}

	// A device of the site writes: not settled until central answers.
	tx, err := st.Begin(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := tx.NextSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(rec(own, 3))
	r := server.StoredRow{Table: table, ID: own, Version: seq, HLC: fmt.Sprintf("%015d-%05d-%s", now, 0, "dev-1"),
		DeviceID: "dev-1", Data: data, Bucket: checksum.RowBucket(reg, table, own, data)}
	if err := tx.PutRow(ctx, r); err != nil {
		t.Fatal(err)
	}
	tx.AddSum(table, r.Bucket, checksum.Sum{Count: 1, Sum: checksum.Hash(table, own, seq)})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if sums, err = e.UpstreamSums(ctx, site, hub); err != nil || sums.Settled || !strings.Contains(sums.Why, "not been answered") {
		t.Fatalf("with a write of the site unsent: %+v, %v; want not settled", sums, err)
	}
	body, ok, err := e.UpstreamBatch(ctx, site, hub, 100)
	if err != nil || !ok {
		t.Fatalf("upstream batch: %v, %v", ok, err)
	}
	if sums, err = e.UpstreamSums(ctx, site, hub); err != nil || sums.Settled || !strings.Contains(sums.Why, "batch") {
		t.Fatalf("with a batch unanswered: %+v, %v; want not settled", sums, err)
	}
	var req protocol.PushRequest
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	v := int64(52)
	if _, _, err := e.UpstreamAnswer(ctx, site, hub, protocol.PushResponse{BatchID: req.BatchID,
		Results: []protocol.PushResult{{Table: table, ID: own, Status: protocol.StatusApplied, Version: &v}}}); err != nil {
		t.Fatal(err)
	}
	// Answered applied at central's 52: hashed with 52, not the hub's seq.
	want.Add(checksum.Hash(table, own, 52))
	if sums, err = e.UpstreamSums(ctx, site, hub); err != nil || !sums.Settled || sums.Tables[table][bucket] != want {
		t.Fatalf("after central's answer: %+v, %v; want settled with %s = %+v", sums, err, bucket, want)
	}
}
