package syncclient

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// pullBlocker fails every pull while block is set: the device pushes, but
// learns no timeline.
type pullBlocker struct {
	block atomic.Bool
}

func (p *pullBlocker) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.block.Load() && r.URL.Path == "/v1/pull" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("test: pull blocked")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Issue 15, seed 3 of the f430ea6 campaign (a replay's wire log): device 8
// enrolled, its first pulls failed (a reset fault), so it knew no
// timeline; it pushed a new production record, accepted without an
// Outpost-Timeline header after the backup; the server was restored; its
// next pull brought the new timeline, which the device adopted as its
// first: no timeline change, so its own accepted write, taken back by the
// restore, was pushed again by no one, and the record was nowhere on the
// server. A device that has accepted writes when it first learns a
// timeline cannot tell whether that timeline is the one they were
// answered on: it adopts it as a timeline change (its own writes pending
// on base 0, a timeline pass first, so that only what the server lacks
// is pushed again).
func TestRestoredServer_WriteAcceptedBeforeAnyTimelineSurvives(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	t.Cleanup(func() { st.Close() })
	pb := &pullBlocker{}
	pb.block.Store(true)
	c := New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: pb}})
	if _, err := c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	a := &device{name: "a", st: st, c: c}
	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()
	rec, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P", Quantity: 787, OperatorID: "op"})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Sync(ctx); err == nil || rep.Applied != 1 {
		t.Fatalf("first sync: %+v, %v; want the record applied and the pull failed", rep, err)
	}
	if ps, err := st.PullState(ctx); err != nil || ps.Timeline != "" {
		t.Fatalf("timeline after a push alone: %q, %v; the premise is none known", ps.Timeline, err)
	}

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	pb.block.Store(false)
	a.sync(t)
	a.sync(t)
	if !onServer(t, srv, "c", protocol.TableProductionRecords, rec.ID, quantityIs(787)) {
		t.Errorf("a's record, accepted before the restore while a knew no timeline, is nowhere on the restored server")
	}
}
