package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// failingStore makes the next failures PutBatch calls fail: the push's last
// write, after its rows were written in the same transaction.
type failingStore struct {
	server.Store
	failures atomic.Int32
}

var errInjected = errors.New("injected failure")

func (s *failingStore) Begin(ctx context.Context, site string) (server.Tx, error) {
	tx, err := s.Store.Begin(ctx, site)
	if err != nil {
		return nil, err
	}
	return &failingTx{Tx: tx, s: s}, nil
}

type failingTx struct {
	server.Tx
	s *failingStore
}

func (t *failingTx) PutBatch(ctx context.Context, deviceID, batchID string, response []byte, at int64) error {
	if t.s.failures.Add(-1) >= 0 {
		return errInjected
	}
	return t.Tx.PutBatch(ctx, deviceID, batchID, response, at)
}

// testPushFailure: a push whose transaction fails after writing its rows
// leaves nothing behind (no row, no version, no sequence, no batch record),
// and the client's retry of the same batch applies each change exactly once
// (docs/design.md invariant 2).
func testPushFailure(t *testing.T, st server.Store) {
	ctx := context.Background()
	fs := &failingStore{Store: st}
	e := newEngine(fs)
	d := dev(protocol.RoleManager)
	b := server.PushBatch{BatchID: uuid.NewString()}
	for _, row := range []map[string]any{lineRow("L1"), lineRow("L2")} {
		raw, err := json.Marshal(upsert(d, protocol.TableLines, 0, row))
		must(t, err)
		b.Changes = append(b.Changes, raw)
	}

	fs.failures.Store(1)
	if _, _, err := e.Push(ctx, d, b); !errors.Is(err, errInjected) {
		t.Fatalf("push with a failing write: %v", err)
	}
	ss, err := st.SiteState(ctx, site)
	must(t, err)
	rows, err := st.Changes(ctx, site, 0, 10)
	must(t, err)
	if ss.Seq != 0 || len(rows) != 0 {
		t.Fatalf("a failed push left seq %d and %d rows", ss.Seq, len(rows))
	}
	if _, err := e.Replay(ctx, d, b.BatchID, ""); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("a failed push left its batch record: %v", err)
	}

	// The retry: applied once, versions 1 and 2.
	body, seq, err := e.Push(ctx, d, b)
	must(t, err)
	var resp protocol.PushResponse
	must(t, json.Unmarshal(body, &resp))
	if len(resp.Results) != 2 || seq != 2 {
		t.Fatalf("retry: seq %d, %s", seq, body)
	}
	for i, r := range resp.Results {
		if r.Status != protocol.StatusApplied || r.Version == nil || *r.Version != int64(i+1) {
			t.Fatalf("retry result %d: %+v", i, r)
		}
	}
	for _, code := range []string{"L1", "L2"} {
		h, err := st.History(ctx, site, protocol.TableLines, protocol.KeyID(protocol.TableLines, code))
		must(t, err)
		if len(h) != 1 {
			t.Fatalf("%s has %d versions after one failed push and its retry; want 1", code, len(h))
		}
	}
	// A further repeat answers the stored response and writes nothing.
	again, seq2, err := e.Push(ctx, d, b)
	must(t, err)
	if !bytes.Equal(again, body) || seq2 != 0 {
		t.Fatalf("repeat: seq %d, %s; want the stored %s", seq2, again, body)
	}
	if ss, _ := st.SiteState(ctx, site); ss.Seq != 2 {
		t.Fatalf("seq after the repeat = %d, want 2", ss.Seq)
	}
}
