package syncclient

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Every pull says what the device has committed (committed=), never more
// than it asks from and never a page it only prefetched; the pages of a
// chain that began at 0 carry full=1, and a later incremental pull does not.
func TestClient_PullSaysWhatItCommittedAndMarksTheFullPass(t *testing.T) {
	ps := newPullServer(60)
	srv := httptest.NewServer(ps)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	cs := &countingStore{Store: st}
	c := newBatchClient(t, srv.URL, cs, Options{PullLimit: 5, PullBatchTime: time.Minute})
	if rep, err := c.Sync(context.Background()); err != nil || rep.Pulled != 60 {
		t.Fatalf("Sync = %+v, %v", rep, err)
	}
	// The cursors each batch committed: 0, then the end of every batch.
	committedAt := map[int64]bool{0: true}
	end := int64(0)
	for _, n := range cs.batches {
		end += int64(n) * 5
		committedAt[end] = true
	}
	prefetched := 0
	for _, q := range ps.queries {
		cur, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
		com, err := strconv.ParseInt(q.Get("committed"), 10, 64)
		if err != nil || com > cur || !committedAt[com] {
			t.Fatalf("pull %v: committed must be a cursor committed before it, at most the request's", q)
		}
		if com < cur {
			prefetched++
		}
		if q.Get("full") != "1" {
			t.Fatalf("pull %v of the first sync is not marked full=1", q)
		}
	}
	if prefetched == 0 {
		t.Fatal("no page was asked ahead of its commit: the test proves nothing")
	}
	if st, _ := st.PullState(context.Background()); st.Pass != "" || st.Cursor != 60 {
		t.Fatalf("after the first sync: %+v", st)
	}
	ps.mu.Lock()
	ps.queries = nil
	ps.mu.Unlock()
	if _, err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ps.queries) != 1 || ps.queries[0].Get("full") != "" || ps.queries[0].Get("committed") != "60" {
		t.Fatalf("incremental pull: %v", ps.queries)
	}
}

// timelineServer is a server of one site whose timeline can change (a
// restore): pull answers name it, a push naming another is answered 409
// timeline_changed and applies nothing. It pins the order of requests;
// TestRestoredServer_DevicesRecoverWhatTheRestoreLost/marked runs the same
// recovery against the real server once it has `outpost-server restored`.
type timelineServer struct {
	mu       sync.Mutex
	timeline string
	rows     []protocol.PullChange
	log      []string // "push <header>", "pull <cursor> full=<f>"
	seq      int64
}

func (s *timelineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/push":
		h := r.Header.Get(protocol.HeaderTimeline)
		s.log = append(s.log, "push "+h)
		if h != "" && h != s.timeline {
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"error":{"code":"timeline_changed","message":"the server was restored"}}`))
			return
		}
		zr, _ := gzip.NewReader(r.Body)
		body, _ := io.ReadAll(zr)
		var req protocol.PushRequest
		json.Unmarshal(body, &req)
		resp := protocol.PushResponse{BatchID: req.BatchID, ServerTime: time.Now().UnixMilli(), Results: []protocol.PushResult{}}
		for _, ch := range req.Changes {
			s.seq++
			v := s.seq
			row, _ := protocol.DecodeRow(ch.Row)
			s.rows = append(s.rows, protocol.PullChange{Table: ch.Table, ID: ch.ID, Version: v, HLC: ch.HLC, Row: row})
			resp.Results = append(resp.Results, protocol.PushResult{Table: ch.Table, ID: ch.ID, Status: protocol.StatusApplied, Version: &v})
		}
		json.NewEncoder(w).Encode(resp)
	case "/v1/pull":
		cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
		s.log = append(s.log, "pull "+r.URL.Query().Get("cursor")+" full="+r.URL.Query().Get("full"))
		resp := protocol.PullResponse{Changes: []protocol.PullChange{}, Cursor: cursor, Timeline: s.timeline}
		for _, ch := range s.rows {
			if ch.Version > cursor {
				resp.Changes = append(resp.Changes, ch)
				resp.Cursor = ch.Version
			}
		}
		json.NewEncoder(w).Encode(resp)
	default:
		if strings.HasPrefix(r.URL.Path, "/v1/conflicts/") {
			h := r.Header.Get(protocol.HeaderTimeline)
			s.log = append(s.log, "resolve "+h)
			if h != s.timeline {
				w.WriteHeader(http.StatusConflict)
				w.Write([]byte(`{"error":{"code":"timeline_changed","message":"the server was restored"}}`))
				return
			}
			w.Write([]byte(`{"version":99}`))
			return
		}
		http.NotFound(w, r)
	}
}

// A push names the timeline the device follows; after a restore the server
// refuses it (409 timeline_changed); the device recovers in one transaction
// and runs the full pass before it pushes again: the write the restored
// server kept comes back clean and only the lost one is pushed, on base 0,
// naming the new timeline.
func TestClient_TimelineChangeRunsAFullPassBeforeThePush(t *testing.T) {
	ctx := context.Background()
	ts := &timelineServer{timeline: "t1"}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	c := newBatchClient(t, srv.URL, st, Options{})
	kept, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P", Quantity: 1, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	lost, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P", Quantity: 2, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The restore: back to the state after the first write, new timeline.
	ts.mu.Lock()
	ts.rows, ts.seq, ts.timeline, ts.log = ts.rows[:1], 1, "t2", nil
	ts.mu.Unlock()
	if _, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P", Quantity: 3, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Sync(ctx)
	if err != nil || !rep.TimelineChanged {
		t.Fatalf("Sync after the restore = %+v, %v", rep, err)
	}
	want := []string{"push t1", "pull 0 full=1", "push t2", "pull 1 full="}
	if len(ts.log) != len(want) {
		t.Fatalf("requests %q, want %q", ts.log, want)
	}
	for i := range want {
		if ts.log[i] != want[i] {
			t.Fatalf("requests %q, want %q", ts.log, want)
		}
	}
	rows, _ := st.DumpTable(ctx, protocol.TableProductionRecords)
	if r := rows[kept.ID]; r.State != store.StateClean || r.Version != 1 {
		t.Fatalf("the write the restore kept: %+v", r)
	}
	if r := rows[lost.ID]; r.State != store.StateClean || r.Version < 2 {
		t.Fatalf("the write the restore lost, pushed again: %+v", r)
	}
	if ps, _ := st.PullState(ctx); ps.Timeline != "t2" || ps.Pass != "" {
		t.Fatalf("pull state: %+v", ps)
	}
	if n := len(ts.rows); n != 3 {
		t.Fatalf("server holds %d rows, want 3 (the kept one once)", n)
	}
}

// A decision sent with the timeline the device follows, after a restore the
// device has not noticed yet, is refused (409 timeline_changed): it is kept,
// marked stale for the manager to decide again on what the server holds
// now, never re-sent by itself.
func TestClient_ResolveOnAnotherTimelineIsMarkedStale(t *testing.T) {
	ctx := context.Background()
	ts := &timelineServer{timeline: "t1"}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	tok := &MemoryTokens{}
	if err := tok.Save(ctx, Credentials{ServerURL: srv.URL, DeviceID: "dev-m", SiteID: "s", Role: "manager", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	c := New(Options{Store: st, Tokens: tok})
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil { // adopts t1
		t.Fatal(err)
	}
	ts.mu.Lock()
	ts.timeline = "t2"
	ts.mu.Unlock()
	r, err := c.Resolve(ctx, "0b1c2d3e-0000-4000-8000-00000000000c", protocol.Row{"id": "x"}, 4, "", Decider{})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != store.ResolutionStale {
		t.Fatalf("decision after the restore: %+v", r)
	}
	rs, _ := st.Resolutions(ctx)
	if len(rs) != 1 || rs[0].State != store.ResolutionStale || !strings.HasPrefix(rs[0].Error, protocol.CodeTimelineChanged) {
		t.Fatalf("queue: %+v", rs)
	}
	if sent, err := c.SendResolutions(ctx); err != nil || sent != 0 {
		t.Fatalf("a stale decision was sent again: %d, %v", sent, err)
	}
	if got := ts.log[len(ts.log)-1]; got != "resolve t1" {
		t.Fatalf("last request %q, want the one refused", got)
	}
}
