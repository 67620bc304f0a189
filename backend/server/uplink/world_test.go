package uplink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/uplink"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// node is a real outpost-server (engine, HTTP handlers, SQLite file) on
// loopback: central, or a hub when link is set.
type node struct {
	name string
	st   *sqlitestore.Store
	srv  *server.Server
	ts   *httptest.Server
	// A hub's link to central and the proxy that cuts it.
	link  *uplink.Link
	proxy *faultproxy.Proxy
	stop  func()
	path  string
	addr  string
	opts  hubOptions
}

// restart stops the hub (link, server, database), runs between on its
// database file, and starts it again on that file, as after a kill and a
// restart, or a restore from a backup.
func (h *node) restart(t *testing.T, between func(path string)) {
	h.restartPaused(t, between)
	h.run(t)
}

// restartPaused is restart without the link loop (h.run starts it).
func (h *node) restartPaused(t *testing.T, between func(path string)) {
	t.Helper()
	id := h.link.Identity()
	h.stop()
	h.srv.Close()
	h.ts.Close()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	between(h.path)
	st, err := sqlitestore.Open(t.Context(), h.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	got, err := uplink.LoadIdentity(t.Context(), st)
	if err != nil || got != id {
		t.Fatalf("identity after restart: %+v, %v; want %+v", got, err, id)
	}
	h.serveHub(t, id)
}

func newNode(t *testing.T, name string) *node {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".db")
	st, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := &node{name: name, st: st, path: path}
	n.start(t, server.Config{})
	return n
}

// start serves the node's store with cfg.
func (n *node) start(t *testing.T, cfg server.Config) {
	cfg.Store, cfg.Logger = n.st, slog.New(slog.NewTextHandler(io.Discard, nil))
	n.srv = server.New(cfg)
	n.ts = httptest.NewUnstartedServer(n.srv.Handler())
	if n.addr != "" {
		// A restart listens where devices know the server.
		ln, err := net.Listen("tcp", n.addr)
		if err != nil {
			t.Fatal(err)
		}
		n.ts.Listener.Close()
		n.ts.Listener = ln
	}
	n.ts.Start()
	n.addr = n.ts.Listener.Addr().String()
	srv, ts := n.srv, n.ts
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
}

func (n *node) code(t *testing.T, site, role string) string {
	t.Helper()
	c, err := server.CreateEnrollCode(context.Background(), n.st, site, role, time.Hour, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newHub starts a hub of site enrolled at central through a fault proxy,
// its link syncing every 100 ms.
func newHub(t *testing.T, central *node, name, site string) *node {
	t.Helper()
	return newHubOpts(t, central, name, site, hubOptions{})
}

// hubOptions change a test hub: its forwarded resolves go through wrap,
// its link's log (debug level) to log.
type hubOptions struct {
	wrap func(forwardFunc) forwardFunc
	log  io.Writer
}

type forwardFunc func(ctx context.Context, id string, req protocol.ResolveRequest) (int64, error)

// newHubOpts is newHub with opts (kept for its restarts too).
func newHubOpts(t *testing.T, central *node, name, site string, opts hubOptions) *node {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".db")
	st, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &node{name: name, st: st, path: path, opts: opts}
	p, err := faultproxy.New(central.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	h.proxy = p
	id, err := uplink.Enroll(t.Context(), h.st, p.URL(), central.code(t, site, protocol.RoleHub), name, syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.serveHub(t, id)
	h.run(t)
	return h
}

// serveHub starts the hub's server and link on its store (again after a
// stop: a restart on the same file).
func (h *node) serveHub(t *testing.T, id uplink.Identity) {
	t.Helper()
	var link *uplink.Link
	fwd := forwardFunc(func(ctx context.Context, cid string, req protocol.ResolveRequest) (int64, error) {
		return link.ForwardResolve(ctx, cid, req)
	})
	if h.opts.wrap != nil {
		fwd = h.opts.wrap(fwd)
	}
	h.start(t, server.Config{HubID: id.Device, HubSite: id.Site,
		Upstream:       func(ctx context.Context) *protocol.UpstreamHealth { return link.Health(ctx) },
		ForwardResolve: fwd})
	logw := h.opts.log
	if logw == nil {
		logw = io.Discard
	}
	local, cancel, _ := h.srv.Subscribe(context.Background(), id.Site)
	link, err := uplink.New(uplink.Config{Engine: h.srv.Engine(), ID: id, Every: 100 * time.Millisecond, Retry: 100 * time.Millisecond,
		Publish: h.srv.Publish, Wake: h.srv.Wake, Local: local, Log: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h.link = link
	h.stop = cancel
	t.Cleanup(func() { h.stop() })
}

// run starts the hub's link loop.
func (h *node) run(t *testing.T) {
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.link.Run(runCtx) }()
	cancel := h.stop
	h.stop = func() { stop(); <-done; cancel() }
}

// cut takes the hub's link to central down (the LAN stays up) or back.
func (n *node) cut(down bool) { n.proxy.Set(faultproxy.Faults{Down: down}) }

type rowKey struct{ table, id string }

// device is a terminal speaking the v1 contract to one server (central or
// a hub) through the desktop's wire client: it pushes its writes on the
// version it knows and pulls the whole feed, keeping what it learns.
type device struct {
	t      *testing.T
	name   string
	id     string
	role   string
	api    *syncclient.API
	mu     sync.Mutex
	last   int64
	cursor int64
	// rows: every row as last pulled or answered; versions: its version.
	rows     map[rowKey]protocol.Row
	versions map[rowKey]int64
	// acked: the hlc of every write the server took, by row, and how.
	acked []ack
}

type ack struct {
	key    rowKey
	hlc    string
	status string
	// conflict is the record an lww loss or a manual clash made.
	conflict string
	where    string
}

func enrollDevice(t *testing.T, at *node, name, site, role string) *device {
	t.Helper()
	api, err := syncclient.NewAPI(at.ts.URL, "", syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := api.Enroll(t.Context(), protocol.EnrollRequest{Code: at.code(t, site, role), DeviceName: name, Platform: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	if api, err = syncclient.NewAPI(at.ts.URL, resp.Token, syncclient.HTTPOptions{}); err != nil {
		t.Fatal(err)
	}
	return &device{t: t, name: name + "@" + at.name, id: resp.DeviceID, role: role, api: api,
		rows: map[rowKey]protocol.Row{}, versions: map[rowKey]int64{}}
}

func (d *device) hlc() string {
	d.last = max(d.last+1, time.Now().UnixMilli())
	return fmt.Sprintf("%015d-%05d-%s", d.last, 0, d.id)
}

// write pushes one change of the row on the version the device knows and
// returns the server's result.
func (d *device) write(table string, row map[string]any, op string) protocol.PushResult {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	k := rowKey{table, row["id"].(string)}
	raw, _ := json.Marshal(row)
	c := protocol.Change{Table: table, ID: k.id, Op: op, BaseVersion: d.versions[k], HLC: d.hlc(), Row: raw}
	body, _ := json.Marshal(protocol.PushRequest{BatchID: uuid.NewString(), Changes: []protocol.Change{c}})
	resp, err := d.api.Push(d.t.Context(), body)
	if err != nil {
		d.t.Fatalf("%s push: %v", d.name, err)
	}
	res := resp.Results[0]
	if res.Status == protocol.StatusRejected {
		d.t.Fatalf("%s push refused: %s", d.name, res.Error)
	}
	d.versions[k] = *res.Version
	d.acked = append(d.acked, ack{key: k, hlc: c.HLC, status: res.Status, conflict: res.ConflictID, where: d.name})
	if res.Row != nil {
		d.rows[k] = res.Row
	} else {
		d.rows[k] = protocol.Row(row)
	}
	return res
}

// pull reads the feed to its end.
func (d *device) pull() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		page, err := d.api.PullPage(d.t.Context(), syncclient.PullParams{Cursor: d.cursor, Limit: 5000, Committed: d.cursor})
		if err != nil {
			d.t.Fatalf("%s pull: %v", d.name, err)
		}
		for _, ch := range page.Changes {
			k := rowKey{ch.Table, ch.ID}
			d.rows[k], d.versions[k] = ch.Row, ch.Version
		}
		d.cursor = page.Cursor
		if !page.HasMore {
			return
		}
	}
}

// state is what the device holds of the site's rows, conflict records
// left out (each tier numbers its own) and server_updated_at too (each
// tier stamps its own writes).
func (d *device) state() map[rowKey]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[rowKey]string{}
	for k, r := range d.rows {
		if k.table == protocol.TableConflicts {
			continue
		}
		c := r.Clone()
		delete(c, "server_updated_at")
		b, _ := json.Marshal(c)
		out[k] = string(b)
	}
	return out
}

// conflicts returns the device's conflict records by the row they are about.
func (d *device) conflicts() map[string]protocol.Row {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]protocol.Row{}
	for k, r := range d.rows {
		if k.table == protocol.TableConflicts {
			out[k.id] = r
		}
	}
	return out
}

// diff lists the rows two states disagree on.
func diff(a, b map[rowKey]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s/%s: %s vs %s", k.table, k.id, v, b[k]))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s/%s: absent vs %s", k.table, k.id, b[k]))
		}
	}
	sort.Strings(out)
	return out
}

// converge pulls on every device until they all hold the reference
// device's state, or fails after timeout with what differs.
func converge(t *testing.T, timeout time.Duration, ref *device, devs ...*device) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ref.pull()
		want := ref.state()
		var bad []string
		for _, d := range devs {
			d.pull()
			if df := diff(want, d.state()); len(df) > 0 {
				bad = append(bad, fmt.Sprintf("%s differs from %s on %d rows, first %s", d.name, ref.name, len(df), df[0]))
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged after %s:\n%v", timeout, bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
