package syncclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// TestVerify_RepairAppliesNothingOffTheTimeline: /v1/rows carries no
// timeline, so a repair applies a listing only once a pull at the device's
// cursor confirms the server is still on the final page's timeline (issue
// 15, review finding 4). Another timeline, a 410 or no answer: nothing is
// applied (the clean row the listing lacks stays), the sync is not
// verified, and the next sync follows the server.
func TestVerify_RepairAppliesNothingOffTheTimeline(t *testing.T) {
	tests := []struct {
		name   string
		status int    // the check's answer status
		moved  string // the check's timeline
	}{
		{name: "another timeline", status: http.StatusOK, moved: "t2"},
		{name: "cursor above the sequence", status: http.StatusGone},
		{name: "no answer", status: http.StatusServiceUnavailable},
		{name: "same timeline", status: http.StatusOK, moved: "t1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			day := int64(1760000000000)
			r1 := record("00000000-0000-4000-8000-000000000001", 3, day)
			r2 := record("00000000-0000-4000-8000-000000000002", 4, day)
			bucket := checksum.Bucket(protocol.TableProductionRecords, r1.ID, true, day)
			cs := &checksumServer{
				page:      protocol.PullResponse{Timeline: "t1", Cursor: 4, Changes: []protocol.PullChange{r1, r2}},
				checksums: map[string]checksum.Wire{protocol.TableProductionRecords: wireOf(protocol.TableProductionRecords, r1)},
				buckets:   map[string]checksum.Wire{bucket: wireOf(protocol.TableProductionRecords, r1)},
				rows:      map[string][]protocol.PullChange{bucket: {r1}},
			}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cs.mu.Lock()
				listed := cs.rowsAsked > 0
				cs.mu.Unlock()
				if listed && r.URL.Path == "/v1/pull" {
					if tc.status != http.StatusOK {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tc.status)
						w.Write([]byte(`{"error":"resync_required","message":"no"}`))
						return
					}
					cs.mu.Lock()
					cs.page.Timeline = tc.moved
					cs.mu.Unlock()
				}
				cs.ServeHTTP(w, r)
			})
			srv := httptest.NewServer(h)
			defer srv.Close()
			st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
			defer st.Close()
			c := newBatchClient(t, srv.URL, st, Options{})
			rep, err := c.Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rows, err := st.DumpTable(context.Background(), protocol.TableProductionRecords)
			if err != nil {
				t.Fatal(err)
			}
			_, kept := rows[r2.ID]
			if tc.moved == "t1" {
				if kept || !rep.Verify.Verified {
					t.Fatalf("on the same timeline the repair applies: kept %v, %+v", kept, rep.Verify)
				}
				return
			}
			if !kept || rep.Verify.Verified {
				t.Fatalf("off the timeline the repair applied: kept %v, %+v", kept, rep.Verify)
			}
			want := "cannot verify: "
			if tc.status == http.StatusOK {
				want = "cannot verify: The sync server was restored from a backup"
			}
			if v := c.Status(context.Background()).Verify; !strings.HasPrefix(v.Problem, want) {
				t.Fatalf("status = %+v", v)
			}
		})
	}
}
