package uplink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/uplink"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// The benchmarks' world. world_test.go's helpers take *testing.T, which a
// benchmark does not have; these are the same servers (engine, HTTP
// handlers, SQLite files on disk, loopback) built on testing.TB, with a
// proxy that counts the bytes of the hub↔central link.

// benchNode is a real outpost-server: central, or a hub when link is set.
type benchNode struct {
	name  string
	st    *sqlitestore.Store
	srv   *server.Server
	ts    *httptest.Server
	link  *uplink.Link
	proxy *benchProxy
}

func benchNewNode(tb testing.TB, name string) *benchNode {
	tb.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), name+".db"))
	if err != nil {
		tb.Fatal(err)
	}
	n := &benchNode{name: name, st: st}
	n.srv = server.New(server.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n.ts = httptest.NewServer(n.srv.Handler())
	tb.Cleanup(func() {
		n.srv.Close()
		n.ts.Close()
		st.Close()
	})
	return n
}

func (n *benchNode) code(tb testing.TB, site, role string, uses int) string {
	tb.Helper()
	c, err := server.CreateEnrollCode(context.Background(), n.st, site, role, time.Hour, uses, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// benchNewHub starts a hub of site enrolled at central through a counting
// proxy, its link as outpost-server serve --upstream runs it (Every 2 s,
// Retry 1 s doubling to 30 s, batches of 500). It returns once the link's
// first sync (the initial full pull) succeeded.
func benchNewHub(tb testing.TB, central *benchNode, name, site string) *benchNode {
	tb.Helper()
	h := benchNewNode(tb, name)
	p, err := benchNewProxy(central.ts.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	h.proxy = p
	ctx := context.Background()
	id, err := uplink.Enroll(ctx, h.st, p.URL(), central.code(tb, site, protocol.RoleHub, 1), name, syncclient.HTTPOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	local, cancel, _ := h.srv.Subscribe(runCtx, site)
	h.link, err = uplink.New(uplink.Config{Engine: h.srv.Engine(), ID: id,
		Publish: h.srv.Publish, Local: local, Log: benchLog()})
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); h.link.Run(runCtx) }()
	tb.Cleanup(func() { stop(); <-done; cancel() })
	benchWaitFor(tb, time.Minute, name+"'s first sync", func() bool { return h.link.Status().Up })
	return h
}

// benchWaitFor polls cond every 10 ms until it holds, or fails after timeout.
func benchWaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not done after %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// benchProxy forwards a loopback port to a target, counting the bytes in
// each direction as they cross (HTTP headers, gzip bodies and event
// streams alike: what a site's uplink carries), and cuts the link on
// demand (faultproxy counts no bytes).
type benchProxy struct {
	target string
	ln     net.Listener
	down   atomic.Bool
	// Up is client → target, Down target → client.
	Up, Down atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func benchNewProxy(target string) (*benchProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &benchProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *benchProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Bytes returns the bytes carried so far, both directions.
func (p *benchProxy) Bytes() (up, down int64) { return p.Up.Load(), p.Down.Load() }

// Reset zeroes the counters.
func (p *benchProxy) Reset() { p.Up.Store(0); p.Down.Store(0) }

// Cut takes the link down (new connections refused, open ones cut) or back.
func (p *benchProxy) Cut(down bool) {
	p.down.Store(down)
	if down {
		p.closeAll()
	}
}

func (p *benchProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *benchProxy) Close() error {
	err := p.ln.Close()
	p.closeAll()
	p.wg.Wait()
	return err
}

func (p *benchProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *benchProxy) serve(client net.Conn) {
	defer p.wg.Done()
	srv, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[srv] = struct{}{}, struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, srv)
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, n *atomic.Int64) {
		buf := make([]byte, 32<<10)
		for {
			k, err := src.Read(buf)
			if k > 0 {
				n.Add(int64(k))
				if _, werr := dst.Write(buf[:k]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(srv, client, &p.Up)
	go pipe(client, srv, &p.Down)
	<-done
	<-done
}

// benchDev is a site terminal speaking the v1 contract through the
// desktop's wire client (gzip bodies, as in production).
type benchDev struct {
	id     string
	api    *syncclient.API
	ms     int64 // HLC: wall-clock ms and counter, never ahead of the clock
	ctr    int
	cursor int64
}

// benchEnroll enrolls n devices at a server reached at url (the server's
// own address, or a proxy before it) with one code of n uses.
func benchEnroll(tb testing.TB, at *benchNode, url, site string, n int) []*benchDev {
	tb.Helper()
	code := at.code(tb, site, protocol.RoleOperator, n)
	var out []*benchDev
	for i := range n {
		api, err := syncclient.NewAPI(url, "", syncclient.HTTPOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		resp, err := api.Enroll(context.Background(), protocol.EnrollRequest{Code: code, DeviceName: fmt.Sprintf("line %d", i+1), Platform: "linux"})
		if err != nil {
			tb.Fatal(err)
		}
		if api, err = syncclient.NewAPI(url, resp.Token, syncclient.HTTPOptions{}); err != nil {
			tb.Fatal(err)
		}
		out = append(out, &benchDev{id: resp.DeviceID, api: api})
	}
	return out
}

func (d *benchDev) hlc() string {
	now := time.Now().UnixMilli()
	if now > d.ms {
		d.ms, d.ctr = now, 0
	} else {
		d.ctr++
	}
	return fmt.Sprintf("%015d-%05d-%s", d.ms, d.ctr, d.id)
}

// newRecords returns n new production records of the device, as changes.
func (d *benchDev) newRecords(n int) []protocol.Change {
	out := make([]protocol.Change, n)
	for i := range out {
		id := uuid.NewString()
		raw, _ := json.Marshal(record(id, "L1", i%1000+1))
		out[i] = protocol.Change{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: d.hlc(), Row: raw}
	}
	return out
}

// push sends changes in batches of size (the desktop sends 500), failing
// on any result but applied.
func (d *benchDev) push(ctx context.Context, changes []protocol.Change, size int) error {
	for len(changes) > 0 {
		k := min(size, len(changes))
		body, _ := json.Marshal(protocol.PushRequest{BatchID: uuid.NewString(), Changes: changes[:k]})
		resp, err := d.api.Push(ctx, body)
		if err != nil {
			return err
		}
		for _, r := range resp.Results {
			if r.Status != protocol.StatusApplied {
				return fmt.Errorf("push %s/%s: %s %s", r.Table, r.ID, r.Status, r.Error)
			}
		}
		changes = changes[k:]
	}
	return nil
}

// pull reads the feed from the device's cursor to its end, 5000 a page
// like the desktop, and reports whether it saw row id ("" = any).
func (d *benchDev) pull(ctx context.Context, id string) (bool, error) {
	seen := false
	for {
		page, err := d.api.PullPage(ctx, syncclient.PullParams{Cursor: d.cursor, Limit: protocol.MaxPullLimit, Committed: d.cursor})
		if err != nil {
			return seen, err
		}
		for _, ch := range page.Changes {
			if ch.ID == id {
				seen = true
			}
		}
		d.cursor = page.Cursor
		if !page.HasMore {
			return seen, nil
		}
	}
}

// benchPushAll has every device push its changes at once, and returns the
// first error.
func benchPushAll(ctx context.Context, devs []*benchDev, changes [][]protocol.Change, size int) error {
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() { errs[i] = d.push(ctx, changes[i], size) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// benchCountWrites counts the versions of site's production records in n's
// history whose HLC is in want.
func benchCountWrites(tb testing.TB, n *benchNode, site string, want map[string]bool) int {
	tb.Helper()
	got, after := 0, int64(0)
	for {
		rows, err := n.st.Writes(context.Background(), site, after, 5000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(rows) == 0 {
			return got
		}
		for _, r := range rows {
			if r.Table == protocol.TableProductionRecords && want[r.HLC] {
				got++
			}
		}
		after = rows[len(rows)-1].Version
	}
}

// benchEnv reads a size from the environment.
func benchEnv(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// benchPercentile returns the q-quantile (nearest rank) of ds in ms.
func benchPercentile(ds []time.Duration, q float64) float64 {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.999999) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}

// benchLog is the link's log: discarded, or on stderr from debug level
// with OUTPOST_HUB_BENCH_LOG=1.
func benchLog() *slog.Logger {
	if os.Getenv("OUTPOST_HUB_BENCH_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
