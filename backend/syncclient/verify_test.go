package syncclient

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// editBeforePull edits one record once, just before the next pull's first
// pages are applied (after the push loop), so the pull and the verification
// that follow meet a pending edit.
type editBeforePull struct {
	*store.Store
	id  string
	qty int64
}

func (e *editBeforePull) ApplyPullPages(ctx context.Context, next func() (protocol.PullResponse, bool)) (store.PullOutcome, int, error) {
	if e.id != "" {
		r, err := e.Store.GetRecord(ctx, e.id)
		if err != nil {
			return store.PullOutcome{}, 0, err
		}
		if _, err := e.Store.UpdateRecord(ctx, e.id, store.RecordInput{LineID: r.LineID, ProductID: r.ProductID, Quantity: e.qty, OperatorID: r.OperatorID}); err != nil {
			return store.PullOutcome{}, 0, err
		}
		e.id = ""
	}
	return e.Store.ApplyPullPages(ctx, next)
}

// rawDevice opens a device's database file beside its store, as a person
// (or a bug) editing it by hand would.
func rawDevice(t *testing.T, path string) *sql.DB {
	t.Helper()
	key := make([]byte, 32)
	key[0] = 7 // openStore's key
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	db, err := sql.Open("sqlite3", u+"?_pragma_key=x'"+hex.EncodeToString(key)+"'&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestVerify_CorruptedDeviceRepairsInOneSync: rows deleted, resurrected and
// rolled back to an older version directly in a device's database are
// found by the checksums of the next sync's final page and repaired from
// the differing buckets in that sync; a pending edit in the same bucket is
// not touched, and nothing is lost.
func TestVerify_CorruptedDeviceRepairsInOneSync(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	path := filepath.Join(t.TempDir(), "b.db")
	bst := openStore(t, path)
	t.Cleanup(func() { bst.Close() })
	wrapped := &editBeforePull{Store: bst}
	bc := New(Options{Store: wrapped, Tokens: &MemoryTokens{}, PullLimit: 3})
	if _, err := bc.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	b := &device{name: "b", st: bst, c: bc}

	var ids []string
	for i := 0; i < 8; i++ {
		r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: int64(i), OperatorID: "op"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	a.sync(t)
	// ids[1] is edited twice (version history), ids[2] deleted.
	for _, q := range []int64{100, 101} {
		if _, err := a.st.UpdateRecord(ctx, ids[1], store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: q, OperatorID: "op"}); err != nil {
			t.Fatal(err)
		}
		a.sync(t)
	}
	if _, err := a.st.DeleteRecord(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	rep := b.sync(t)
	if !rep.Verify.Verified || rep.Verify.Buckets != 0 {
		t.Fatalf("b's first sync: verify %+v", rep.Verify)
	}
	st := b.c.Status(ctx)
	if st.Verify.At == 0 || st.Verify.Cursor == 0 || st.Verify.Tables[protocol.TableProductionRecords] != 7 || st.Verify.Problem != "" {
		t.Fatalf("status after a verified sync: %+v", st.Verify)
	}
	before := liveIDs(t, b, protocol.TableProductionRecords)

	// Corrupt b between syncs.
	raw := rawDevice(t, path)
	for _, q := range []string{
		"DELETE FROM production_records WHERE id = '" + ids[0] + "'",
		"UPDATE production_records SET deleted_at = NULL WHERE id = '" + ids[2] + "'",
		"UPDATE production_records SET version = version - 2, quantity = 1 WHERE id = '" + ids[1] + "'",
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A pending edit in the same bucket (made after the push, before the
	// pull), which repair must leave alone.
	wrapped.id, wrapped.qty = ids[3], 4242

	rep = b.sync(t)
	if !rep.Verify.Verified || rep.Verify.Tables != 1 || rep.Verify.Buckets != 1 || len(rep.Verify.Unresolved) != 0 {
		t.Fatalf("b's sync after the corruption: verify %+v", rep.Verify)
	}
	after := liveIDs(t, b, protocol.TableProductionRecords)
	if len(after) != len(before) {
		t.Fatalf("b holds %d live records after repair, %d before the corruption", len(after), len(before))
	}
	for id, r := range before {
		got, ok := after[id]
		if !ok {
			t.Fatalf("record %s lost", id)
		}
		if id == ids[3] {
			continue
		}
		if got.Version != r.Version || fmt.Sprint(got.Row["quantity"]) != fmt.Sprint(r.Row["quantity"]) || got.State != store.StateClean {
			t.Fatalf("record %s = v%d %v %s after repair, want v%d %v clean", id, got.Version, got.Row["quantity"], got.State, r.Version, r.Row["quantity"])
		}
	}
	if _, ok := after[ids[2]]; ok {
		t.Fatalf("the resurrected record %s is still live", ids[2])
	}
	pend, err := bst.GetRecord(ctx, ids[3])
	if err != nil || pend.Quantity != 4242 || pend.SyncedAt != nil {
		t.Fatalf("the pending edit was touched: %+v, %v", pend, err)
	}
	if st := b.c.Status(ctx); st.Verify.Problem != "" || st.Verify.Repaired != 1 {
		t.Fatalf("status after repair: %+v", st.Verify)
	}

	// The next sync pushes the edit; a sees it; both verify with nothing to
	// repair.
	rep = b.sync(t)
	if !rep.Verify.Verified || rep.Verify.Buckets != 0 {
		t.Fatalf("b's sync after repair: verify %+v", rep.Verify)
	}
	rep = a.sync(t)
	if !rep.Verify.Verified || rep.Verify.Buckets != 0 {
		t.Fatalf("a: verify %+v", rep.Verify)
	}
	if r, err := a.st.GetRecord(ctx, ids[3]); err != nil || r.Quantity != 4242 {
		t.Fatalf("a holds %+v, %v: the pending edit did not reach the server", r, err)
	}
}
