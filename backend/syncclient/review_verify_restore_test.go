package syncclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// restoreBeforeRepair is a transport that (1) makes the final pull page's
// production_records checksum differ from the device's, so verification
// repairs, and (2) restores the server from a backup just before the first
// GET /v1/checksums is sent: the server is restored between the device's
// last pull page (old timeline) and its repair requests (new timeline).
type restoreBeforeRepair struct {
	mu      sync.Mutex
	armed   bool
	tamper  bool
	restore func()
}

func (r *restoreBeforeRepair) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.armed && req.URL.Path == "/v1/checksums" {
		r.armed = false
		r.restore()
	}
	tamper := r.tamper
	r.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !tamper || req.URL.Path != "/v1/pull" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var page map[string]any
	if json.Unmarshal(body, &page) == nil {
		if cs, ok := page["checksums"].(map[string]any); ok {
			if pr, ok := cs[protocol.TableProductionRecords].(map[string]any); ok {
				pr["sum"] = "0000000000000001"
				r.mu.Lock()
				r.tamper = false
				r.mu.Unlock()
				body, _ = json.Marshal(page)
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("Content-Encoding")
	return resp, nil
}

// Review finding: /v1/checksums and /v1/rows carry no timeline and the
// device applies their listing without checking one. When the server is
// restored between a sync's final pull page and its repair, the repair
// applies the restored server's listing to a device still on the old
// timeline: "clean rows absent from the listing are removed" deletes the
// device's own accepted write that the restore lost. The next sync sees the
// new timeline, but ChangeTimeline can only make pending the own rows that
// still exist: the edit is gone from the device and from the server
// (invariant 1).
func TestReview_RepairAcrossARestoreDeletesOwnLostWrite(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	tr := &restoreBeforeRepair{}
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	t.Cleanup(func() { st.Close() })
	a := &device{name: "a", st: st, c: New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: tr}})}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "a"}); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	r2, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 42, OperatorID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	tr.armed, tr.tamper = true, true
	tr.restore = func() {
		srv.stop()
		if !srv.restoreFrom(backup, true) {
			t.Error("outpost-server restored failed")
		}
		srv.start()
	}
	tr.mu.Unlock()
	rep := a.sync(t) // push r2 (applied), pull, verify -> the restore happens here
	t.Logf("sync during the restore: %+v", rep.Verify)
	for i := 0; i < 3; i++ {
		a.sync(t)
	}
	if _, ok := liveIDs(t, a, protocol.TableProductionRecords)[r2.ID]; !ok {
		t.Errorf("a's own record %s (quantity 42), accepted before the restore and lost by it, is gone from a", r2.ID)
	}
	if !onServer(t, srv, "c", protocol.TableProductionRecords, r2.ID, quantityIs(42)) {
		t.Errorf("a's own record %s (quantity 42) is nowhere on the restored server: the edit is lost", r2.ID)
	}
}
