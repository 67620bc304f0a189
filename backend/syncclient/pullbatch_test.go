package syncclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// pullServer serves GET /v1/pull from a fixed site of n production records
// (versions 1…n), and records the cursors asked for. failAt makes the pull
// from that cursor answer 503 once.
type pullServer struct {
	mu      sync.Mutex
	changes []protocol.PullChange
	asked   []int64
	queries []url.Values
	failAt  int64
}

func newPullServer(n int) *pullServer {
	p := &pullServer{failAt: -1}
	for i := 0; i < n; i++ {
		id := uuid.NewString()
		ms := json.Number(strconv.Itoa(1_700_000_000_000 + i*1000))
		p.changes = append(p.changes, protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: int64(i + 1),
			HLC: fmt.Sprintf("%015d-00000-srv", 1_700_000_000_000+i), Row: protocol.Row{"id": id, "line_id": "L1", "product_id": "P" + strconv.Itoa(i%4),
				"quantity": json.Number(strconv.Itoa(i)), "operator_id": "op", "created_at": ms, "updated_at": ms, "deleted_at": nil, "server_updated_at": ms}})
	}
	return p
}

func (p *pullServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/pull" {
		http.NotFound(w, r)
		return
	}
	cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	p.mu.Lock()
	p.asked = append(p.asked, cursor)
	p.queries = append(p.queries, r.URL.Query())
	fail := cursor == p.failAt
	if fail {
		p.failAt = -1
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"code":"unavailable","message":"database unavailable"}}`))
		return
	}
	end := min(int(cursor)+limit, len(p.changes))
	resp := protocol.PullResponse{Changes: p.changes[cursor:end], Cursor: int64(end), HasMore: end < len(p.changes)}
	json.NewEncoder(w).Encode(resp)
}

func (p *pullServer) cursors() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.asked...)
}

// countingStore records the pages of each ApplyPullPages call; crashAt > 0
// cancels the sync's context (the process dies) while the call of that
// number holds its second page, before the batch commits.
type countingStore struct {
	*store.Store
	mu      sync.Mutex
	batches []int
	crashAt int
	crash   context.CancelFunc
}

func (c *countingStore) ApplyPullPages(ctx context.Context, next func() (protocol.PullResponse, bool)) (store.PullOutcome, int, error) {
	c.mu.Lock()
	call := len(c.batches) + 1
	c.mu.Unlock()
	n := 0
	out, pages, err := c.Store.ApplyPullPages(ctx, func() (protocol.PullResponse, bool) {
		p, ok := next()
		if ok {
			n++
			if call == c.crashAt && n == 2 {
				c.crash()
			}
		}
		return p, ok
	})
	c.mu.Lock()
	c.batches = append(c.batches, n)
	c.mu.Unlock()
	return out, pages, err
}

func newBatchClient(t *testing.T, srvURL string, st Store, o Options) *Client {
	t.Helper()
	tok := &MemoryTokens{}
	if err := tok.Save(context.Background(), Credentials{ServerURL: srvURL, DeviceID: "dev-1", SiteID: "s", Role: "operator", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	o.Store, o.Tokens = st, tok
	c := New(o)
	if err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	key := make([]byte, 32)
	key[0] = 7
	s, err := store.Open(context.Background(), store.Options{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recordCount(t *testing.T, s *store.Store) int {
	t.Helper()
	rows, err := s.DumpTable(context.Background(), protocol.TableProductionRecords)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// A catch-up applies consecutive pages in batches of at most PullBatchRows
// rows and PullBatchPages pages, each batch one local transaction.
func TestClient_CatchUpBatchesPages(t *testing.T) {
	ps := newPullServer(125)
	srv := httptest.NewServer(ps)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	cs := &countingStore{Store: st}
	c := newBatchClient(t, srv.URL, cs, Options{PullLimit: 10, PullBatchRows: 40, PullBatchTime: time.Minute})
	rep, err := c.Sync(context.Background())
	if err != nil || rep.Pulled != 125 {
		t.Fatalf("Sync = %+v, %v", rep, err)
	}
	// 13 pages: batches growing from one page (1, 2, 4) up to 4 pages (40
	// rows), then the rest.
	if fmt.Sprint(cs.batches) != "[1 2 4 4 2]" {
		t.Fatalf("pages per batch = %v, want [1 2 4 4 2]", cs.batches)
	}
	// At most PullBatchPages pages, however small they are.
	st2 := openStore(t, filepath.Join(t.TempDir(), "o2.db"))
	defer st2.Close()
	cs2 := &countingStore{Store: st2}
	c2 := newBatchClient(t, srv.URL, cs2, Options{PullLimit: 10, PullBatchPages: 5, PullBatchTime: time.Minute})
	if rep, err := c2.Sync(context.Background()); err != nil || rep.Pulled != 125 || fmt.Sprint(cs2.batches) != "[1 2 4 5 1]" {
		t.Fatalf("Sync = %+v, %v; pages per batch %v, want [1 2 4 5 1]", rep, err, cs2.batches)
	}
	if cur, _ := st.Cursor(context.Background()); cur != 125 || recordCount(t, st) != 125 {
		t.Fatalf("cursor %d, %d rows", cur, recordCount(t, st))
	}
	if s := c.Status(context.Background()); s.Progress.Pulled != 125 || s.Progress.Cursor != 125 {
		t.Fatalf("progress = %+v", s.Progress)
	}
}

// A crash inside a batch loses only that batch: the restarted device pulls
// again from the cursor of the last committed batch, and ends with every row
// once.
func TestClient_CrashInBatchResumesAtCommittedCursor(t *testing.T) {
	ps := newPullServer(100)
	srv := httptest.NewServer(ps)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "o.db")
	st := openStore(t, path)
	ctx, crash := context.WithCancel(context.Background())
	cs := &countingStore{Store: st, crashAt: 2, crash: crash}
	c := newBatchClient(t, srv.URL, cs, Options{PullLimit: 10, PullBatchRows: 30, PullBatchTime: time.Minute})
	if _, err := c.Sync(ctx); err == nil {
		t.Fatal("the crashed sync succeeded")
	}
	if cur, _ := st.Cursor(context.Background()); cur != 10 || recordCount(t, st) != 10 {
		t.Fatalf("after the crash: cursor %d, %d rows; want the first batch (10, 10)", cur, recordCount(t, st))
	}
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	before := len(ps.cursors())
	c = newBatchClient(t, srv.URL, st, Options{PullLimit: 10, PullBatchRows: 30, PullBatchTime: time.Minute})
	rep, err := c.Sync(context.Background())
	if err != nil || rep.Pulled != 90 {
		t.Fatalf("resumed Sync = %+v, %v", rep, err)
	}
	if asked := ps.cursors()[before:]; asked[0] != 10 {
		t.Fatalf("the restarted sync pulled from %v, want 10 first", asked)
	}
	if cur, _ := st.Cursor(context.Background()); cur != 100 || recordCount(t, st) != 100 {
		t.Fatalf("after the resume: cursor %d, %d rows", cur, recordCount(t, st))
	}
}

// A page that fails to arrive ends the batch: the pages before it commit
// (not pulled again), and the sync reports the failure.
func TestClient_FetchErrorCommitsBatchSoFar(t *testing.T) {
	ps := newPullServer(100)
	ps.failAt = 50
	srv := httptest.NewServer(ps)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	c := newBatchClient(t, srv.URL, st, Options{PullLimit: 10, PullBatchRows: 1000, PullBatchTime: time.Minute})
	_, err := c.Sync(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("Sync = %v, want the 503", err)
	}
	if cur, _ := st.Cursor(context.Background()); cur != 50 || recordCount(t, st) != 50 {
		t.Fatalf("after the failed fetch: cursor %d, %d rows; want 50, 50", cur, recordCount(t, st))
	}
	if rep, err := c.Sync(context.Background()); err != nil || rep.Pulled != 50 {
		t.Fatalf("second Sync = %+v, %v", rep, err)
	}
	if cur, _ := st.Cursor(context.Background()); cur != 100 || recordCount(t, st) != 100 {
		t.Fatalf("cursor %d, %d rows", cur, recordCount(t, st))
	}
}

// The batch gives the writer back after PullBatchTime: a slow server does
// not hold local edits up while a page is on its way.
func TestClient_BatchEndsWhenThePageIsLate(t *testing.T) {
	ps := newPullServer(40)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "20" {
			time.Sleep(300 * time.Millisecond)
		}
		ps.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	cs := &countingStore{Store: st}
	c := newBatchClient(t, srv.URL, cs, Options{PullLimit: 10, PullBatchRows: 1000, PullBatchTime: 100 * time.Millisecond})
	if rep, err := c.Sync(context.Background()); err != nil || rep.Pulled != 40 {
		t.Fatalf("Sync = %+v, %v", rep, err)
	}
	// The second batch (up to 2 pages) holds the page from cursor 10 and
	// does not wait 300 ms for the one from 20.
	if len(cs.batches) < 3 || cs.batches[1] != 1 {
		t.Fatalf("pages per batch = %v: a batch waited for the late page", cs.batches)
	}
	if cur, _ := st.Cursor(context.Background()); cur != 40 || recordCount(t, st) != 40 {
		t.Fatalf("cursor %d, %d rows", cur, recordCount(t, st))
	}
}
