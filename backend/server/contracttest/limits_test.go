package contracttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// padded returns a valid push body of exactly n bytes (JSON whitespace pads it).
func padded(t *testing.T, d *device, n int, changes ...map[string]any) []byte {
	t.Helper()
	if changes == nil {
		changes = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"batch_id": newID(), "changes": changes})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > n {
		t.Fatalf("body of %d bytes does not fit %d", len(b), n)
	}
	return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
}

// The default limit is 8 MiB of request body.
func TestDefaultMaxBody(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	const limit = 8 << 20
	wantError(t, d.call(t, "POST", "/v1/push", padded(t, d, limit+1)), 413, "")
	if r := d.call(t, "POST", "/v1/push", padded(t, d, limit)); r.Status != 200 {
		t.Errorf("a body of exactly 8 MiB: %v", r)
	}
}

// A server configured only through OUTPOST_* variables: --max-body (counted
// in decompressed bytes, gzip or not) and retention (purged tombstones are
// never resurrected: row_deleted; a cursor behind the horizon gets 410).
func TestEnvConfigLimitsRetention(t *testing.T) {
	t.Parallel()
	db := newDB()
	s := startServer(t, db, []string{
		"OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_DB=" + db, "OUTPOST_MAX_BODY=64KiB", "OUTPOST_RETENTION=200ms",
	})
	d := s.dev(t, site(t), "operator")
	const limit = 64 << 10

	t.Run("max-body", func(t *testing.T) {
		id := newID()
		c := d.upsert("production_records", id, 0, prodRow(id))
		if r := d.call(t, "POST", "/v1/push", padded(t, d, limit, c)); r.Status != 200 {
			t.Errorf("exactly --max-body: %v", r)
		}
		wantError(t, d.call(t, "POST", "/v1/push", padded(t, d, limit+1)), 413, "")
		// gzip: the limit counts decompressed bytes.
		wantError(t, d.call(t, "POST", "/v1/push", padded(t, d, limit+1), gzipped()), 413, "")
		wantError(t, d.call(t, "POST", "/v1/push", padded(t, d, 10*limit), gzipped()), 413, "")
		id2 := newID()
		r := d.call(t, "POST", "/v1/push", padded(t, d, limit, d.upsert("production_records", id2, 0, prodRow(id2))), gzipped())
		wantStatus(t, "gzip body of exactly --max-body", results(t, r, 1)[0], "applied")
		// Enrollment is limited too.
		big := `{"code":"x","device_name":"` + strings.Repeat("n", limit) + `"}`
		wantError(t, s.call(t, "POST", "/v1/enroll", big, from(freshAddr())), 413, "")
	})

	t.Run("row_deleted", func(t *testing.T) {
		sname := site(t)
		e := s.dev(t, sname, "operator")
		lazy := s.dev(t, sname, "operator") // never pulls: holds the horizon at 0 until revoked
		id, keep := newID(), newID()
		res := e.mustPush(t, e.upsert("production_records", id, 0, prodRow(id)), e.upsert("production_records", keep, 0, prodRow(keep)))
		del := e.mustPush(t, e.del("production_records", id, num(t, res[0]["version"]), nil))[0]
		wantStatus(t, "delete", del, "applied")
		tomb := num(t, del["version"])
		// Pull past the tombstone (the server records the cursor pulled from).
		_, cursor := e.feed(t)
		if r := e.pull(t, fmt.Sprintf("cursor=%d", cursor)); r.Status != 200 {
			t.Fatalf("pull: %v", r)
		}
		purged := func() bool {
			h := e.call(t, "GET", "/v1/history?table=production_records&id="+id, nil)
			return h.Status == 200 && len(list(t, h.Obj()["versions"])) == 0
		}
		// An active device that has not pulled holds the horizon back.
		time.Sleep(time.Second) // five retention periods
		if purged() {
			t.Fatalf("a tombstone was purged while an active device had not pulled it")
		}
		// A revoked device does not.
		s.cli(t, "devices", "revoke", "--device", lazy.id)
		eventually(t, 15*time.Second, func() error {
			r := e.call(t, "GET", fmt.Sprintf("/v1/pull?cursor=%d", cursor), nil)
			if r.Status != 200 {
				return fmt.Errorf("pull: %v", r)
			}
			if purged() {
				return nil
			}
			return fmt.Errorf("the tombstone was not purged once the only other device was revoked")
		})
		r := e.push(t, e.upsert("production_records", id, tomb, prodRow(id)))
		rejection(t, "upsert of a purged tombstone", results(t, r, 1)[0], "row_deleted")
		r = e.push(t, e.upsert("production_records", id, 0, prodRow(id)))
		rejection(t, "upsert of a purged tombstone (base 0)", results(t, r, 1)[0], "row_deleted")
		// A cursor behind the horizon must resync; 0 is always served.
		if tomb > 1 {
			wantError(t, e.pull(t, fmt.Sprintf("cursor=%d", tomb-1)), 410, "resync_required")
		}
		f, _ := e.feed(t)
		if f["production_records/"+id] != nil || f["production_records/"+keep] == nil {
			t.Errorf("full state after the purge: %v", f)
		}
	})
}

// SIGTERM closes open event streams and the process exits 0, promptly.
func TestShutdown(t *testing.T) {
	t.Parallel()
	db := newDB()
	s, err := startProc(db, nil, "--listen", "127.0.0.1:0", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.cmd.Process.Kill()
	d := s.dev(t, site(t), "operator")
	st := d.events(t)
	// A second stream read raw: it must end when the server stops.
	req, _ := http.NewRequest("GET", s.base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(ended) }()

	// A push in flight (its body half sent) is drained: it completes.
	id := newID()
	body, _ := json.Marshal(map[string]any{"batch_id": newID(), "changes": []any{d.upsert("production_records", id, 0, prodRow(id))}})
	pr, pw := io.Pipe()
	preq, _ := http.NewRequest("POST", s.base+"/v1/push", pr)
	preq.Header.Set("Authorization", "Bearer "+d.token)
	preq.ContentLength = int64(len(body))
	pushDone := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{}).Do(preq)
		if err != nil {
			pushDone <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		pushDone <- resp.StatusCode
	}()
	pw.Write(body[:len(body)/2])
	time.Sleep(200 * time.Millisecond)

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Errorf("the event stream was not closed at SIGTERM")
	}
	time.Sleep(300 * time.Millisecond)
	pw.Write(body[len(body)/2:])
	pw.Close()
	select {
	case st := <-pushDone:
		if st != 200 {
			t.Errorf("the push in flight at SIGTERM answered %d, want 200 (drained)", st)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the push in flight at SIGTERM never completed")
	}
	exit, _, err := s.terminate(12 * time.Second)
	took := time.Since(start)
	if err != nil || exit != 0 {
		t.Fatalf("SIGTERM with open event streams: exit %d after %v (%v)\n%s", exit, took, err, s.logTail())
	}
	if took > 5*time.Second {
		t.Errorf("SIGTERM took %v with only event streams and a short push open", took)
	}
	select {
	case <-st.ended:
	case <-time.After(2 * time.Second):
		t.Errorf("the event stream was not closed")
	}
}

// Draining is bounded (default 10 s): a request that never completes does
// not keep the process alive, and it still exits 0.
func TestShutdownBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 10 s drain bound")
	}
	t.Parallel()
	db := newDB()
	s, err := startProc(db, nil, "--listen", "127.0.0.1:0", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.cmd.Process.Kill()
	d := s.dev(t, site(t), "operator")
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", s.base+"/v1/push", pr)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.ContentLength = 1000
	go func() {
		if resp, err := (&http.Client{}).Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	pw.Write([]byte(`{"batch_id":`))
	time.Sleep(200 * time.Millisecond)
	exit, took, err := s.terminate(20 * time.Second)
	if err != nil || exit != 0 {
		t.Fatalf("SIGTERM with a stuck request: exit %d after %v (%v)\n%s", exit, took, err, s.logTail())
	}
	if took > 13*time.Second {
		t.Errorf("SIGTERM with a stuck request took %v (bound: 10 s)", took)
	}
}
