package app

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/syncclient"
)

func TestSyncService_OfflineFirst(t *testing.T) {
	dir := t.TempDir()
	var published atomic.Int64 // OnStatus runs on the loop's and the callers' goroutines
	svc := NewSyncService(SyncOptions{Tokens: &syncclient.MemoryTokens{}, OnStatus: func(SyncStatus) { published.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	t.Cleanup(func() {
		svc.Shutdown()
		core.Shutdown()
		cancel()
	})
	select {
	case <-core.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("store did not open")
	}
	// Local writes work before enrollment and count as pending.
	recs := NewRecordService(core)
	if _, err := recs.Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 3, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	st, err := svc.Status()
	if err != nil || st.Enrolled || st.Pending != 1 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if _, err := svc.Enroll("https://sync.example.com", " "); asError(t, err).Field != "code" {
		t.Fatalf("empty code: %v", err)
	}
	if _, err := svc.Enroll("not a url", "abc"); err == nil {
		t.Fatal("a malformed server address was accepted")
	}
	if q, err := svc.Quarantine(); err != nil || len(q) != 0 {
		t.Fatalf("quarantine = %v, %v", q, err)
	}
	// Unenrolling would lose the pending record: refused with a sentence.
	if _, err := svc.Unenroll(false); asError(t, err).Code != "unsettled" {
		t.Fatalf("unenroll with pending work: %v", err)
	}
	if _, err := svc.SyncNow(); asError(t, err).Code != "sync_failed" {
		t.Fatalf("sync now before enrollment: %v", err)
	}
	if published.Load() == 0 {
		t.Fatal("no status was published")
	}
}
