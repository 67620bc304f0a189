package syncclient_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// BenchmarkRepair measures what verified convergence (docs/design.md section 8)
// saves a device whose data drifted: the sync that repairs 100 drifted rows
// against a full re-pull of the same device (its cursor reset: every row
// pulled again), in seconds and bytes on the wire, with a real
// outpost-server process (SQLite) and a real SQLCipher device store.
//
// The site holds REPAIR_ROWS production records (default 1,000,000; a
// smaller number for a quick check) created over 90 days, so a day bucket
// holds about 1/90 of them. The device is built once per run (a first sync
// from a fresh device, reported as first-sync) and copied for every
// measurement. The drift is a third each of rows deleted from the device,
// tombstones made live again and rows rolled back to an older version,
// written in its database directly:
//   - repair-clustered: the 100 rows are of one day (a restore of an old
//     copy of the file, a bug in one session): one bucket to list;
//   - repair-scattered: the 100 rows are picked at random over the 90
//     days: most day buckets are listed, the worst case.
//
// Run with -benchtime 1x (backend/server/bench/checksums.sh does).
func BenchmarkRepair(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("REPAIR_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10_000 {
			b.Fatalf("REPAIR_ROWS=%q: want a number of rows, at least 10000", v)
		}
		rows = n
	}
	ctx := context.Background()
	f := newRepairFixture(b, ctx, rows)
	b.Run("first-sync", func(b *testing.B) {
		b.ReportMetric(f.first.seconds, "s")
		f.first.reportTo(b)
	})
	for _, v := range []struct {
		name  string
		drift []drifted
	}{
		{"repair-clustered", f.clustered},
		{"repair-scattered", f.scattered},
		{"full-repull", nil},
	} {
		b.Run(v.name, func(b *testing.B) {
			var last syncCost
			for range b.N {
				b.StopTimer()
				path := f.copyDevice(b)
				if v.drift != nil {
					corrupt(b, ctx, path, v.drift)
				}
				st, c, wire := f.open(b, path)
				if v.drift == nil {
					if err := st.ResetCursor(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				last = measureSync(b, ctx, c, wire)
				b.StopTimer()
				st.Close()
				if !last.report.Verify.Verified || len(last.report.Verify.Unresolved) > 0 {
					b.Fatalf("the device did not verify after the sync: %+v", last.report.Verify)
				}
				if v.drift != nil && (last.report.Verify.Buckets == 0 || last.report.Pulled != 0) {
					b.Fatalf("the drift was not repaired by the checksums: %+v", last.report)
				}
				if v.drift == nil && last.report.Pulled < rows {
					b.Fatalf("the full re-pull pulled %d rows, want %d", last.report.Pulled, rows)
				}
			}
			b.ReportMetric(last.seconds, "s")
			last.reportTo(b)
		})
	}
}

// drifted is one row to corrupt in the device and how.
type drifted struct {
	id, how string // how: "delete", "resurrect" or "rollback"
	// older is the version a rolled back row is given: its first, before
	// the second the seed writes.
	older int64
}

// repairFixture is the site and the device built once per run.
type repairFixture struct {
	dir      string
	url      string
	key      []byte
	tokens   *syncclient.MemoryTokens
	template string // the device's database after its first sync
	first    syncCost
	// clustered and scattered are the drifts of the two repair variants.
	clustered, scattered []drifted
	drift                map[string]bool // their ids
}

func newRepairFixture(b *testing.B, ctx context.Context, rows int) *repairFixture {
	b.Helper()
	f := &repairFixture{dir: b.TempDir(), key: bytes.Repeat([]byte{7}, 32), tokens: &syncclient.MemoryTokens{}, drift: map[string]bool{}}
	bin := os.Getenv("OUTPOST_SERVER_BIN")
	if bin == "" {
		bin = filepath.Join(f.dir, "outpost-server")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/outpost-app/outpost/backend/cmd/outpost-server").CombinedOutput(); err != nil {
			b.Fatalf("build outpost-server: %v: %s", err, out)
		}
	}
	db := filepath.Join(f.dir, "server.db")
	f.url = startServer(b, bin, db)
	code := enrollCode(b, bin, db)

	t0 := time.Now()
	f.seed(b, ctx, code, rows)
	b.Logf("seeded the server with %d records in %s", rows, time.Since(t0).Round(time.Second))

	path := filepath.Join(f.dir, "device", "outpost.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		b.Fatal(err)
	}
	st, c, wire := f.open(b, path)
	if _, err := c.Enroll(ctx, f.url, code); err != nil {
		b.Fatal(err)
	}
	f.first = measureSync(b, ctx, c, wire)
	if !f.first.report.Verify.Verified || f.first.report.Pulled < rows {
		b.Fatalf("first sync: %+v", f.first.report)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	f.template = path
	b.Logf("first sync of %d records in %.1f s", rows, f.first.seconds)
	return f
}

// seed pushes rows production records over 90 days through a device of its
// own (raw pushes of 1000), then deletes a third of each drift's rows on the
// server: the tombstones the device will make live again.
func (f *repairFixture) seed(b *testing.B, ctx context.Context, code string, rows int) {
	b.Helper()
	anon, err := syncclient.NewAPI(f.url, "", syncclient.HTTPOptions{})
	if err != nil {
		b.Fatal(err)
	}
	enr, err := anon.Enroll(ctx, protocol.EnrollRequest{Code: code, DeviceName: "seeder", Platform: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	api, err := syncclient.NewAPI(f.url, enr.Token, syncclient.HTTPOptions{Timeout: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	const days = 90
	const dayMS = 24 * 60 * 60 * 1000
	now := time.Now().UnixMilli()
	today := now - now%dayMS
	// The drifts: 100 rows of the last day (index ≡ days-1 mod days), and
	// 100 rows at random.
	rnd := rand.New(rand.NewPCG(16, 100))
	clustered, scattered := map[int]int{}, map[int]int{}
	for i := days - 1; len(clustered) < 100; i += days {
		clustered[i] = len(clustered)
	}
	for len(scattered) < 100 {
		if i := rnd.IntN(rows); i%days != days-1 {
			if _, ok := scattered[i]; !ok {
				scattered[i] = len(scattered)
			}
		}
	}
	how := func(k int) string { return [...]string{"resurrect", "delete", "rollback"}[k%3] }
	version := map[string]int64{}
	hlc := 0
	nextHLC := func() string {
		hlc++
		return fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), hlc%100000, enr.DeviceID)
	}
	push := func(changes []string) {
		body := `{"batch_id":"` + uuid.NewString() + `","changes":[` + strings.Join(changes, ",") + `]}`
		resp, err := api.Push(ctx, []byte(body))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range resp.Results {
			if r.Status != "applied" || r.Version == nil {
				b.Fatalf("seed push %s: %s %s", r.ID, r.Status, r.Error)
			}
			version[r.ID] = *r.Version
		}
	}
	var batch []string
	for i := 0; i < rows; i++ {
		id := uuid.NewString()
		if k, ok := clustered[i]; ok {
			f.clustered = append(f.clustered, drifted{id: id, how: how(k)})
			f.drift[id] = true
		} else if k, ok := scattered[i]; ok {
			f.scattered = append(f.scattered, drifted{id: id, how: how(k)})
			f.drift[id] = true
		}
		created := today - int64(days-1-i%days)*dayMS + int64(i/days%dayMS)
		batch = append(batch, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"upsert","base_version":0,"hlc":%q,`+
			`"row":{"id":%q,"line_id":"L%d","product_id":"P-%d","quantity":%d,"operator_id":"op-%d","created_at":%d,"updated_at":%d}}`,
			id, nextHLC(), id, i%20, i%500, i%1000, i%50, created, created))
		if len(batch) == 1000 || i == rows-1 {
			push(batch)
			batch = batch[:0]
			for id := range version {
				if !f.drift[id] {
					delete(version, id)
				}
			}
		}
	}
	for _, ds := range [][]drifted{f.clustered, f.scattered} {
		for i := range ds {
			ds[i].older = version[ds[i].id]
		}
	}
	for _, d := range append(append([]drifted{}, f.clustered...), f.scattered...) {
		switch d.how {
		case "resurrect":
			batch = append(batch, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"delete","base_version":%d,"hlc":%q}`, d.id, version[d.id], nextHLC()))
		case "rollback":
			// A second version, so that rolling back leaves a real one.
			batch = append(batch, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"upsert","base_version":%d,"hlc":%q,`+
				`"row":{"id":%q,"line_id":"L1","product_id":"P-1","quantity":4242,"operator_id":"op-1","created_at":%d,"updated_at":%d}}`,
				d.id, version[d.id], nextHLC(), d.id, today, now))
		}
	}
	push(batch)
}

// open opens the device store at path and a client on it whose connections
// count the bytes they carry.
func (f *repairFixture) open(b *testing.B, path string) (*store.Store, *syncclient.Client, *wireCount) {
	b.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: path, Key: f.key})
	if err != nil {
		b.Fatal(err)
	}
	wire := &wireCount{}
	c := syncclient.New(syncclient.Options{Store: st, Tokens: f.tokens, HTTP: syncclient.HTTPOptions{Transport: wire.transport(), Timeout: 5 * time.Minute},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := c.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	return st, c, wire
}

// copyDevice copies the template device to a fresh directory.
func (f *repairFixture) copyDevice(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp(f.dir, "copy-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	dst := filepath.Join(dir, "outpost.db")
	for _, suf := range []string{"", "-wal"} {
		in, err := os.Open(f.template + suf)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(dst + suf)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}

// corrupt writes the drift in the device's database directly, as a person
// (or a bug) editing the file would.
func corrupt(b *testing.B, ctx context.Context, path string, drift []drifted) {
	b.Helper()
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	db, err := sql.Open("sqlite3", u+"?_pragma_key=x'"+hex.EncodeToString(bytes.Repeat([]byte{7}, 32))+"'&_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, d := range drift {
		q := map[string]string{
			"delete":    `DELETE FROM production_records WHERE id = ?`,
			"resurrect": `UPDATE production_records SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL`,
			"rollback":  `UPDATE production_records SET version = ?, quantity = 1 WHERE id = ?`,
		}[d.how]
		args := []any{d.id}
		if d.how == "rollback" {
			args = []any{d.older, d.id}
		}
		res, err := db.ExecContext(ctx, q, args...)
		if err != nil {
			b.Fatalf("%s %s: %v", d.how, d.id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			b.Fatalf("%s %s: %d rows changed", d.how, d.id, n)
		}
	}
}

// syncCost is what one sync cost.
type syncCost struct {
	seconds    float64
	recv, sent int64
	report     syncclient.Report
}

func (s syncCost) reportTo(b *testing.B) {
	b.ReportMetric(float64(s.recv), "recv-bytes")
	b.ReportMetric(float64(s.sent), "sent-bytes")
	b.ReportMetric(float64(s.report.Verify.Buckets), "buckets")
	b.ReportMetric(float64(s.report.Pulled+s.report.Verify.Rows), "rows")
}

func measureSync(b *testing.B, ctx context.Context, c *syncclient.Client, wire *wireCount) syncCost {
	b.Helper()
	r0, s0 := wire.recv.Load(), wire.sent.Load()
	t0 := time.Now()
	rep, err := c.Sync(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return syncCost{seconds: time.Since(t0).Seconds(), recv: wire.recv.Load() - r0, sent: wire.sent.Load() - s0, report: rep}
}

// wireCount counts the bytes read and written on the client's connections
// (headers and gzip included: what crosses the network).
type wireCount struct{ recv, sent atomic.Int64 }

func (w *wireCount) transport() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countedConn{Conn: c, w: w}, nil
	}
	return tr
}

type countedConn struct {
	net.Conn
	w *wireCount
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.recv.Add(int64(n))
	return n, err
}

func (c countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.sent.Add(int64(n))
	return n, err
}

// startServer runs outpost-server on db until the benchmark ends and
// returns its URL.
func startServer(b *testing.B, bin, db string) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--listen", addr, "--db", "sqlite://"+db, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	u := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(u + "/v1/health"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return u
			}
		}
		if i > 300 {
			b.Fatalf("outpost-server did not start: %s", logs.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// enrollCode makes a code of two uses (the seeder and the device).
func enrollCode(b *testing.B, bin, db string) string {
	b.Helper()
	out, err := exec.Command(bin, "enroll", "--db", "sqlite://"+db, "--site", "bench", "--role", "operator", "--uses", "2", "--ttl", "24h").Output()
	if err != nil {
		b.Fatalf("outpost-server enroll: %v", err)
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		b.Fatal("outpost-server enroll printed no code")
	}
	return last
}
