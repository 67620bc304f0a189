package syncclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// checksumServer answers pull, checksums and rows as a server would, with
// what a test sets: a stand-in for servers the real one cannot be (one
// older than section 8, one whose listing disagrees with itself).
type checksumServer struct {
	mu        sync.Mutex
	page      protocol.PullResponse
	checksums map[string]checksum.Wire // nil: an older server
	buckets   map[string]checksum.Wire
	rows      map[string][]protocol.PullChange
	queries   []string
	rowsAsked int
}

func (s *checksumServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var out any
	switch r.URL.Path {
	case "/v1/pull":
		s.queries = append(s.queries, r.URL.RawQuery)
		out = PullAnswer{PullResponse: s.page, Checksums: s.checksums}
	case "/v1/checksums":
		out = ChecksumsAnswer{Cursor: s.page.Cursor, Buckets: s.buckets}
	case "/v1/rows":
		s.rowsAsked++
		out = RowsAnswer{Cursor: s.page.Cursor, Rows: s.rows[r.URL.Query().Get("bucket")]}
	default:
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(out)
}

func record(id string, version int64, created int64) protocol.PullChange {
	return protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: version, HLC: fmt.Sprintf("%015d-00000-other", created),
		Row: protocol.Row{"id": id, "line_id": "L1", "product_id": "P1", "quantity": json.Number("1"), "operator_id": "op",
			"created_at": json.Number(fmt.Sprint(created)), "updated_at": json.Number(fmt.Sprint(created)), "deleted_at": nil}}
}

func wireOf(table string, rows ...protocol.PullChange) checksum.Wire {
	var s checksum.Sum
	for _, r := range rows {
		s.Add(checksum.Hash(table, r.ID, r.Version))
	}
	return s.Wire()
}

// TestVerify_OlderServerCannotVerify: a final page without checksums (a
// server older than section 8) leaves the sync successful and says why the
// device is not verified.
func TestVerify_OlderServerCannotVerify(t *testing.T) {
	cs := &checksumServer{page: protocol.PullResponse{Cursor: 1, Changes: []protocol.PullChange{record("00000000-0000-4000-8000-000000000001", 1, 1760000000000)}}}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	c := newBatchClient(t, srv.URL, st, Options{})
	rep, err := c.Sync(context.Background())
	if err != nil || rep.Verify.Verified {
		t.Fatalf("Sync = %+v, %v", rep, err)
	}
	if v := c.Status(context.Background()).Verify; !strings.HasPrefix(v.Problem, "cannot verify: ") || v.At != 0 {
		t.Fatalf("status = %+v", v)
	}
}

// TestVerify_SendsVerifiedCursor: a verified sync records the page's
// cursor, which every later pull sends as verified=; the time and counts
// survive a restart of the client.
func TestVerify_SendsVerifiedCursor(t *testing.T) {
	r1 := record("00000000-0000-4000-8000-000000000001", 4, 1760000000000)
	cs := &checksumServer{page: protocol.PullResponse{Cursor: 4, Changes: []protocol.PullChange{r1}},
		checksums: map[string]checksum.Wire{protocol.TableProductionRecords: wireOf(protocol.TableProductionRecords, r1)}}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	now := time.Date(2026, 12, 7, 14, 2, 0, 0, time.UTC)
	c := newBatchClient(t, srv.URL, st, Options{Now: func() time.Time { return now }})
	rep, err := c.Sync(context.Background())
	if err != nil || !rep.Verify.Verified {
		t.Fatalf("Sync = %+v, %v", rep, err)
	}
	if strings.Contains(cs.queries[0], "verified=") {
		t.Fatalf("the first pull says verified: %s", cs.queries[0])
	}
	if _, err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q := cs.queries[len(cs.queries)-1]; !strings.Contains(q, "verified=4") {
		t.Fatalf("pull after verification: %s", q)
	}
	c2 := newBatchClient(t, srv.URL, st, Options{})
	v := c2.Status(context.Background()).Verify
	if v.At != now.UnixMilli() || v.Cursor != 4 || v.Tables[protocol.TableProductionRecords] != 1 || v.Tables[protocol.TableLineConfigs] != 0 {
		t.Fatalf("verification after a restart: %+v", v)
	}
	// Unenrolled, the device is verified with no server.
	if err := c2.Unenroll(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if v := c2.Status(context.Background()).Verify; v.At != 0 || v.Cursor != 0 {
		t.Fatalf("verification after unenrolling: %+v", v)
	}
	if v, err := st.LastVerification(context.Background()); err != nil || v.At != 0 {
		t.Fatalf("stored verification after unenrolling: %+v, %v", v, err)
	}
}

// TestVerify_UnresolvedReportedOnce: a difference repair cannot clear (the
// listing names a row of another bucket) is reported once — one log line,
// one count — while each later sync tries its one repair again and never
// loops.
func TestVerify_UnresolvedReportedOnce(t *testing.T) {
	day := int64(1760000000000)
	r1 := record("00000000-0000-4000-8000-000000000001", 4, day)
	stray := record("00000000-0000-4000-8000-000000000002", 5, day+3*86_400_000) // created on another day
	phantom := record("00000000-0000-4000-8000-000000000003", 6, day)            // counted, never listed
	bucket := checksum.Bucket(protocol.TableProductionRecords, r1.ID, true, day)
	cs := &checksumServer{
		page:      protocol.PullResponse{Cursor: 6, Changes: []protocol.PullChange{r1}},
		checksums: map[string]checksum.Wire{protocol.TableProductionRecords: wireOf(protocol.TableProductionRecords, r1, stray, phantom)},
		buckets:   map[string]checksum.Wire{bucket: wireOf(protocol.TableProductionRecords, r1, stray, phantom)},
		rows:      map[string][]protocol.PullChange{bucket: {r1, stray}},
	}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	defer st.Close()
	var logs bytes.Buffer
	c := newBatchClient(t, srv.URL, st, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := 0; i < 3; i++ {
		rep, err := c.Sync(context.Background())
		if err != nil || rep.Verify.Verified || len(rep.Verify.Unresolved) != 1 {
			t.Fatalf("sync %d = %+v, %v", i, rep.Verify, err)
		}
	}
	v := c.Status(context.Background()).Verify
	if v.Unresolved != 1 || !strings.Contains(v.Problem, "still differs") {
		t.Fatalf("status = %+v", v)
	}
	if n := strings.Count(logs.String(), "could not clear"); n != 1 {
		t.Fatalf("reported %d times:\n%s", n, logs.String())
	}
	// One listing per differing bucket per sync (the stray row lands in a
	// second bucket, listed too), never a loop.
	if cs.rowsAsked > 6 {
		t.Fatalf("buckets listed %d times in 3 syncs", cs.rowsAsked)
	}
}
