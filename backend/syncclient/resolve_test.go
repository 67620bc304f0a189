package syncclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// A decision queued while an earlier one on the same conflict is being sent
// is not lost to the earlier one's answer: accepted or refused, that answer
// acts on the decision it was for, and the newer one stays queued to be
// sent (the server judges it on its own).
func TestClient_AnswerToASentDecisionKeepsANewerOne(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"accepted", http.StatusOK, `{"conflict_id":"c1"}`},
		{"stale_base", http.StatusConflict, `{"error":{"code":"stale_base","message":"the row moved on","row":{"recipe":"S"},"version":9}}`},
		{"already_resolved", http.StatusConflict, `{"error":{"code":"already_resolved","message":"decided elsewhere"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t, filepath.Join(t.TempDir(), "outpost.db"))
			defer st.Close()
			var newer store.Resolution
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/conflicts/c1/resolve" {
					http.NotFound(w, r)
					return
				}
				// The manager decides again while the first decision is on
				// its way.
				var err error
				if newer, err = st.QueueResolution(ctx, store.Resolution{ConflictID: "c1", Row: protocol.Row{"recipe": "B"}, BaseVersion: 9}); err != nil {
					t.Error(err)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newBatchClient(t, srv.URL, st, Options{})
			if _, err := st.QueueResolution(ctx, store.Resolution{ConflictID: "c1", Row: protocol.Row{"recipe": "A"}, BaseVersion: 7}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SendResolutions(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := st.Resolutions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].HLC != newer.HLC || got[0].Row["recipe"] != "B" || got[0].State != store.ResolutionQueued {
				t.Fatalf("queue after the answer to the first decision = %+v; want the newer decision, queued", got)
			}
		})
	}
}
