package pgstore_test

// The server over pgstore in this process: event streams woken by LISTEN/
// NOTIFY alone (the poll switched off), and a database that goes away and
// comes back while the server runs.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/pgstore"
	"github.com/outpost-app/outpost/backend/server/pgstore/pgtest"
)

// serveStore runs a server over a new store on db and returns its base URL.
func serveStore(t *testing.T, db string, poll time.Duration) (string, *pgstore.Store) {
	t.Helper()
	st, err := pgstore.Open(context.Background(), db, pgstore.Options{MaxConns: 4, StatementTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, PollInterval: poll, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		st.Close()
	})
	return ts.URL, st
}

func enrollAt(t *testing.T, st server.Store, base, site string) dev {
	t.Helper()
	code, err := server.CreateEnrollCode(context.Background(), st, site, "operator", time.Hour, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	status, raw, err := call("POST", base+"/v1/enroll", "", []byte(`{"code":"`+code+`","device_name":"d","platform":"linux"}`))
	if err != nil || status != 201 {
		t.Fatalf("enroll: %d %s %v", status, raw, err)
	}
	var en struct {
		DeviceID string `json:"device_id"`
		Token    string `json:"token"`
	}
	json.Unmarshal(raw, &en)
	return dev{en.DeviceID, en.Token}
}

// TestEvents_NotifyWakesOtherServer: with the poll effectively off (one
// hour), only a notification can wake B's stream after a write through A.
func TestEvents_NotifyWakesOtherServer(t *testing.T) {
	db := pgtest.URL(t)
	a, stA := serveStore(t, db, time.Hour)
	b, stB := serveStore(t, db, time.Hour)
	writer := enrollAt(t, stA, a, "S")
	watcher := enrollAt(t, stB, b, "S")
	events := openEvents(t, b, watcher)
	waitWake(t, a, writer, events)
}

// TestEvents_ImportNotifies: a site data import made by another process
// (the CLI, its own store on the same database) wakes a server's streams
// through NOTIFY alone, with the poll off.
func TestEvents_ImportNotifies(t *testing.T) {
	db := pgtest.URL(t)
	a, stA := serveStore(t, db, time.Hour)
	b, stB := serveStore(t, db, time.Hour)
	watcher := enrollAt(t, stA, a, "S")
	writer := enrollAt(t, stB, b, "S")
	events := openEvents(t, a, watcher)
	// A's stream woken by writes through B proves that A listens now (and
	// has read the sites' sequences after its LISTEN), so only the import's
	// NOTIFY can wake it below. A write through A itself would prove
	// nothing: A wakes its own streams directly, LISTEN or not.
	waitWake(t, b, writer, events)

	cli, err := pgstore.Open(context.Background(), db, pgstore.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	reg := protocol.NewRegistry()
	rows, problems, err := server.ParseSiteCSV(reg, protocol.TableProducts, strings.NewReader("code,name,unit\nP1,Bolt,pcs\n"))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	eng := &server.Engine{Store: cli, Registry: reg, Now: time.Now}
	res, err := eng.ImportSiteRows(context.Background(), "S", protocol.TableProducts, rows, server.ImportOptions{})
	if err != nil || res.Imported != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	want := fmt.Sprintf(`data: {"cursor":%d}`, res.Seq)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-events:
			if !ok {
				t.Fatal("stream closed")
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q: the import's NOTIFY did not wake the stream", want)
		}
	}
}

// TestEvents_ListenReconnects: B's listening connection is cut (the
// database restarts); B listens again by itself and later writes through A
// still wake its stream, with the poll off.
func TestEvents_ListenReconnects(t *testing.T) {
	db := pgtest.URL(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	a, stA := serveStore(t, db, time.Hour)
	b, stB := serveStore(t, u.String(), time.Hour)
	writer := enrollAt(t, stA, a, "S")
	watcher := enrollAt(t, stB, b, "S")
	events := openEvents(t, b, watcher)
	waitWake(t, a, writer, events)
	px.setDown(true)
	time.Sleep(500 * time.Millisecond)
	px.setDown(false)
	for len(events) > 0 {
		<-events
	}
	waitWake(t, a, writer, events)
}

// TestEvents_ListenCatchesUp: a write committed while B's listening
// connection is cut sends its NOTIFY to nobody; B, listening again, reads
// the sites' sequences and wakes its stream without a later write, with
// the poll off.
func TestEvents_ListenCatchesUp(t *testing.T) {
	db := pgtest.URL(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	a, stA := serveStore(t, db, time.Hour)
	b, stB := serveStore(t, u.String(), time.Hour)
	writer := enrollAt(t, stA, a, "S")
	watcher := enrollAt(t, stB, b, "S")
	events := openEvents(t, b, watcher)
	waitWake(t, a, writer, events)
	px.setDown(true)
	body, _ := batch(writer.ID, 1)
	status, raw, err := call("POST", a+"/v1/push", writer.Token, body)
	if err != nil || status != 200 {
		t.Fatalf("push while B cannot listen: %d %s %v", status, raw, err)
	}
	seq, err := stA.SiteState(context.Background(), "S")
	if err != nil {
		t.Fatal(err)
	}
	px.setDown(false)
	want := fmt.Sprintf(`data: {"cursor":%d}`, seq.Seq)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-events:
			if !ok {
				t.Fatal("stream closed")
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q: the write made while B's listener was cut never woke B's stream", want)
		}
	}
}

// openEvents opens d's event stream on base and returns its data lines.
func openEvents(t *testing.T, base string, d dev) chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+d.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	events := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "data: ") {
				events <- l
			}
		}
		close(events)
	}()
	return events
}

// waitWake pushes through base as writer until the stream wakes. The
// listening connection is made concurrently (at start, or after a cut): push
// until a wake-up arrives, so the test does not race it.
func waitWake(t *testing.T, base string, writer dev, events chan string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		body, _ := batch(writer.ID, 1)
		if status, raw, err := call("POST", base+"/v1/push", writer.Token, body); err != nil || status != 200 {
			t.Fatalf("push: %d %s %v", status, raw, err)
		}
		select {
		case l, ok := <-events:
			if !ok {
				t.Fatal("stream closed")
			}
			if !strings.Contains(l, `"cursor":`) {
				t.Fatalf("event %q", l)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("the stream was not woken by writes through the other server within 20s")
		}
	}
}

// proxy forwards TCP to the database and can cut it off, like a database
// restart or a network partition.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	hole   bool // accept, then never answer (a partition)
	// swallowed are the connections accepted during the hole; the
	// partition's end resets them.
	swallowed []net.Conn
	conns     map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.setDown(true)
	})
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		if p.hole {
			p.swallowed = append(p.swallowed, c)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(u, c)
		go p.pipe(c, u)
	}
}

// pipe copies src to dst, dropping the bytes while the proxy is a hole.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		hole := p.hole
		p.mu.Unlock()
		if n > 0 && !hole {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// setHole makes the database silent: open connections stop delivering in
// both directions and new ones are accepted but never answered, as behind
// a network partition (no error, no reset).
func (p *proxy) setHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hole = true
}

// setDown cuts every open connection and refuses new ones (true), or lets
// them through again (false).
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]struct{}{}
	}
	p.hole = false
	for _, c := range p.swallowed {
		c.Close()
	}
	p.swallowed = nil
}

// TestServer_DatabaseDownAndBack: while the database cannot be reached the
// server answers 503 with the JSON error body (health included); when it
// comes back, requests succeed again without a restart.
func TestServer_DatabaseDownAndBack(t *testing.T) {
	db := pgtest.URL(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	base, st := serveStore(t, u.String(), time.Second)
	d := enrollAt(t, st, base, "S")
	push := func() (int, []byte) {
		body, _ := batch(d.ID, 3)
		status, raw, err := call("POST", base+"/v1/push", d.Token, body)
		if err != nil {
			t.Fatal(err)
		}
		return status, raw
	}
	if status, raw := push(); status != 200 {
		t.Fatalf("push before: %d %s", status, raw)
	}

	px.setDown(true)
	for _, tc := range []struct {
		name string
		do   func() (int, []byte)
	}{
		{"push", push},
		{"pull", func() (int, []byte) {
			s, raw, _ := call("GET", base+"/v1/pull?cursor=0", d.Token, nil)
			return s, raw
		}},
		{"health", func() (int, []byte) {
			s, raw, _ := call("GET", base+"/v1/health", "", nil)
			return s, raw
		}},
	} {
		status, raw := tc.do()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if status != 503 || json.Unmarshal(raw, &e) != nil || !strings.Contains(e.Error.Code, "unavailable") || e.Error.Message == "" {
			t.Fatalf("%s while the database is down: %d %s", tc.name, status, raw)
		}
	}

	px.setDown(false)
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, raw := push()
		if status == 200 {
			break
		}
		if status != 503 || time.Now().After(deadline) {
			t.Fatalf("push after the database came back: %d %s", status, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	status, raw, _ := call("GET", base+"/v1/pull?cursor=0", d.Token, nil)
	if status != 200 || strings.Count(string(raw), `"table":"production_records"`) < 6 {
		t.Fatalf("pull after recovery: %d %s", status, raw)
	}
}

// TestServer_DatabaseSilent: a database that stops answering at all (no
// error, no reset: a partition) is a 503 within the statement timeout plus
// a few seconds, not a hung request; then it recovers.
func TestServer_DatabaseSilent(t *testing.T) {
	db := pgtest.URL(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	base, st := serveStore(t, u.String(), time.Second)
	d := enrollAt(t, st, base, "S")
	px.setHole()
	start := time.Now()
	body, _ := batch(d.ID, 1)
	status, raw, err := call("POST", base+"/v1/push", d.Token, body)
	if err != nil || status != 503 || !strings.Contains(string(raw), "unavailable") {
		t.Fatalf("push behind a partition: %d %s %v", status, raw, err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("503 after %v", el)
	}
	t.Logf("503 after %v", time.Since(start).Round(time.Millisecond))
	px.setDown(false)
	start = time.Now()
	deadline := time.Now().Add(15 * time.Second)
	for {
		body, _ := batch(d.ID, 1)
		status, raw, _ := call("POST", base+"/v1/push", d.Token, body)
		if status == 200 {
			t.Logf("recovered after %v", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %d %s", status, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServer_RowsAfterNotText: an after no row id can be (NUL, invalid
// UTF-8) is 400 invalid_after; PostgreSQL's text cannot hold such bytes,
// and sent to the database the query failed: 500 internal.
func TestServer_RowsAfterNotText(t *testing.T) {
	db := pgtest.URL(t)
	base, st := serveStore(t, db, time.Hour)
	d := enrollAt(t, st, base, "S")
	for _, after := range []string{"%00", "%ff", "a%c3"} {
		status, raw, err := call("GET", base+"/v1/rows?bucket=line_configs:0a&after="+after, d.Token, nil)
		if err != nil || status != 400 || !strings.Contains(string(raw), `"code":"invalid_after"`) {
			t.Errorf("after=%s: %d %s %v", after, status, raw, err)
		}
	}
}
