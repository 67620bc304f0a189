package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// The fault tests run the real outpost-server as a separate process (built
// once in TestMain: this test binary links go-sqlcipher, the server
// mattn/go-sqlite3) and real devices, with faults between them. Each ends
// with the simulator's convergence check (invariant 3) and its lost and
// duplicated counts.

var serverBin string

func TestMain(m *testing.M) {
	if os.Getenv("OUTPOST_SIM_CHILD") != "" {
		os.Exit(childDevice())
	}
	dir, err := os.MkdirTemp("", "outpost-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "outpost-server")
	cmd := exec.Command("go", "build", "-o", serverBin, "github.com/outpost-app/outpost/backend/cmd/outpost-server")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if p := os.Getenv("OUTPOST_SIM_TEST_SERVER_BIN"); p != "" {
		// Another build of the server (a branch's fix, judged by these
		// tests without merging them).
		serverBin = p
	} else if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build outpost-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	srv               *serverProc
	code, managerCode string
	dir               string
}

// newEnv starts a server with codes for devices operator devices and the
// settling manager.
func newEnv(t *testing.T, devices int) *env { t.Helper(); return newEnvRoles(t, devices, 0) }

// newEnvRoles starts a server with codes for operators operator devices and
// managers manager devices besides the settling manager.
func newEnvRoles(t *testing.T, operators, managers int) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := startServer(ctx, serverBin, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	site := "site-" + t.Name()
	code, err := enrollCode(ctx, serverBin, srv.db, site, "operator", max(1, operators))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := enrollCode(ctx, serverBin, srv.db, site, "manager", managers+1)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, code: code, managerCode: mgr, dir: dir}
}

func (e *env) proxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(e.srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func requireOK(t *testing.T, sum Summary) {
	t.Helper()
	out, _ := json.Marshal(sum)
	t.Logf("summary: %s", out)
	if !sum.OK() {
		t.Fatalf("not converged or lost/duplicated edits: %v", sum.Mismatches)
	}
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestFaults_Network: latency, resets, responses dropped after the server
// committed (lost acknowledgements) and a bandwidth limit during the whole
// edit phase; after the faults stop, every device converges.
func TestFaults_Network(t *testing.T) {
	e := newEnv(t, 4)
	p := e.proxy(t)
	cfg := Config{ServerURL: p.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 4, Edits: 400,
		OfflineRatio: 0.2, Seed: 7, Dir: t.TempDir(), SyncEvery: 5,
		AfterEnroll: func([]*device) error {
			p.Set(faultproxy.Faults{Latency: 2 * time.Millisecond, ResetRate: 0.03, DropResponseRate: 0.05, BytesPerSecond: 4 << 20})
			return nil
		},
		BeforeSettle: func([]*device) error { p.Set(faultproxy.Faults{}); return nil },
	}
	sum, err := Run(timeout(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("injected %d resets, %d dropped answers", p.Resets.Load(), p.Drops.Load())
	if p.Drops.Load() == 0 {
		t.Fatal("no answer was dropped: the lost-ack case was not exercised")
	}
	requireOK(t, sum)
}

// TestSiteData_ManagersAndOperators: two manager devices and four operator
// devices, offline half the time, edit the site data (lines, products,
// people with PIN hashes, the settings) besides records and line
// configurations, over a network that drops answers. The managers' edits of
// the same master rows meet as manual conflicts or merges, which the
// settling manager resolves; the operators' writes of site data are refused
// ("forbidden"), discarded and never applied; records name only active
// codes of the device's lists, and the store refuses the others. Every
// device ends with the server's site tables.
func TestSiteData_ManagersAndOperators(t *testing.T) {
	e := newEnvRoles(t, 4, 2)
	p := e.proxy(t)
	cfg := Config{ServerURL: p.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 6, Managers: 2, Edits: 480,
		OfflineRatio: 0.5, Seed: 10, Dir: t.TempDir(), SyncEvery: 8,
		AfterEnroll: func(devs []*device) error {
			// Besides the random ones, one sure collision: both managers
			// pull the settings, then each sets its own time zone, apart.
			ctx := context.Background()
			for i, tz := range []string{"Asia/Tokyo", "America/Chicago"} {
				d := devs[i] // devices 0 and 1 are the managers
				if err := retry(ctx, 20, d.sync); err != nil {
					return err
				}
				if _, err := d.putSite(ctx, protocol.TableSiteSettings, map[string]any{}, map[string]any{"time_zone": tz}); err != nil {
					return err
				}
			}
			p.Set(faultproxy.Faults{DropResponseRate: 0.03})
			return nil
		},
		BeforeSettle: func([]*device) error { p.Set(faultproxy.Faults{}); return nil },
	}
	sum, err := Run(timeout(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
	switch {
	case sum.SiteEdits < 40 || sum.SiteRows < 16:
		t.Errorf("the managers made %d site data edits over %d rows: too few to mean much", sum.SiteEdits, sum.SiteRows)
	case sum.SiteConflicts == 0:
		t.Error("no two managers' edits of a master row met: the manual policy was not exercised")
	case sum.ForbiddenEdits == 0 || sum.Forbidden == 0:
		t.Errorf("operators' site data writes: %d made, %d refused: the forbidden case was not exercised", sum.ForbiddenEdits, sum.Forbidden)
	case sum.Refused == 0:
		t.Error("no record named a code the lists refuse: the store's check was not exercised")
	}
}

// TestFaults_ServerDownWholeSession: the server cannot be reached for the
// whole edit phase; edits keep working and pile up as pending, then drain.
func TestFaults_ServerDownWholeSession(t *testing.T) {
	e := newEnv(t, 3)
	p := e.proxy(t)
	cfg := Config{ServerURL: p.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 3, Edits: 150,
		Seed: 3, Dir: t.TempDir(),
		AfterEnroll: func([]*device) error { p.Set(faultproxy.Faults{Down: true}); return nil },
		BeforeSettle: func(devs []*device) error {
			for _, d := range devs {
				c, err := d.st.SyncCounts(context.Background())
				if err != nil {
					return err
				}
				if c.Pending < int64(d.edits)/3 || c.InFlight > 1000 {
					return fmt.Errorf("device %d after an offline session: %+v for %d edits", d.idx, c, d.edits)
				}
				st := d.cl.Status(context.Background())
				if st.Online || st.LastError == "" {
					return fmt.Errorf("device %d status while the server is down: %+v", d.idx, st)
				}
			}
			p.Set(faultproxy.Faults{})
			return nil
		},
	}
	sum, err := Run(timeout(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
}

// TestFaults_KillServerMidBatch kills the server with SIGKILL while devices
// push, twice, and restarts it on the same database.
func TestFaults_KillServerMidBatch(t *testing.T) {
	e := newEnv(t, 3)
	stop := make(chan struct{})
	killed := make(chan error, 1)
	cfg := Config{ServerURL: e.srv.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 3, Edits: 600,
		Seed: 11, Dir: t.TempDir(), SyncEvery: 3,
		AfterEnroll: func([]*device) error {
			go func() {
				var err error
				for i := 0; i < 2 && err == nil; i++ {
					select {
					case <-stop:
						killed <- nil
						return
					case <-time.After(time.Duration(150+rand.IntN(200)) * time.Millisecond):
					}
					e.srv.Kill()
					time.Sleep(200 * time.Millisecond)
					err = e.srv.Restart(context.Background())
				}
				killed <- err
			}()
			return nil
		},
		BeforeSettle: func([]*device) error {
			close(stop)
			return <-killed
		},
	}
	sum, err := Run(timeout(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
}

// killChild runs the device in dir as a child process and kills it with
// SIGKILL at a random moment after it is ready, times times; after each
// kill, probe looks at the dead device's store and says whether the kill
// landed mid-work.
func killChild(t *testing.T, dir string, idx int, creds syncclient.Credentials, times int, probe func() bool) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cj, _ := json.Marshal(creds)
	mid := false
	for i := 0; i < times; i++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "OUTPOST_SIM_CHILD=1", "OUTPOST_SIM_DIR="+dir, "OUTPOST_SIM_IDX="+strconv.Itoa(idx),
			"OUTPOST_SIM_CREDS="+string(cj))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := io.ReadFull(out, buf); err != nil { // "ready\n"
			t.Fatalf("child did not start: %v", err)
		}
		time.Sleep(time.Duration(100+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if probe() {
			mid = true
		}
	}
	if !mid {
		t.Errorf("none of the %d kills landed in the middle of the work", times)
	}
}

// TestFaults_KillDeviceMidPushAndPull kills a device process with SIGKILL
// while it pushes 1500 rows in batches of 50 through a slow link, and
// another while it pulls them in pages of 50; both restart and converge,
// every row on the server exactly once.
func TestFaults_KillDeviceMidPushAndPull(t *testing.T) {
	ctx := timeout(t, 2*time.Minute)
	e := newEnv(t, 2)
	p := e.proxy(t)
	// A slow link, so that each kill lands in the middle of the work.
	p.Set(faultproxy.Faults{Latency: 20 * time.Millisecond})

	pusherDir, pullerDir := filepath.Join(e.dir, "pusher"), filepath.Join(e.dir, "puller")
	enroll := func(dir string, idx int, code string) (*device, syncclient.Credentials) {
		d, err := openDevice(ctx, dir, idx, nil, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := d.cl.Enroll(ctx, p.URL(), code)
		if err != nil {
			t.Fatal(err)
		}
		return d, cr
	}
	pusher, pcr := enroll(pusherDir, 0, e.code)
	ins := make([]store.RecordInput, 1500)
	for i := range ins {
		ins[i] = store.RecordInput{LineID: "L1", ProductID: "P", Quantity: int64(i), OperatorID: "op"}
	}
	recs, err := pusher.st.CreateRecords(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]edit{}
	for _, r := range recs {
		last[protocol.TableProductionRecords+"/"+r.ID] = edit{table: protocol.TableProductionRecords, id: r.ID, fields: recordFields(r)}
	}
	pusher.close()
	countsOf := func(dir string, idx int) (store.SyncCounts, int64) {
		d, err := openDevice(ctx, dir, idx, nil, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		c, err := d.st.SyncCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := d.st.Cursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c, cur
	}
	killChild(t, pusherDir, 0, pcr, 3, func() bool {
		c, _ := countsOf(pusherDir, 0)
		t.Logf("pusher killed: %+v", c)
		return c.InFlight > 0 || (c.Pending > 0 && c.Pending < int64(len(recs)))
	})

	puller, lcr := enroll(pullerDir, 1, e.managerCode)
	puller.close()
	// Let the pusher finish so the puller has everything to pull.
	pusher, err = openDevice(ctx, pusherDir, 0, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	pusher.tokens.Save(ctx, pcr)
	if err := pusher.cl.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := retry(ctx, 20, pusher.sync); err != nil {
		t.Fatal(err)
	}
	killChild(t, pullerDir, 1, lcr, 3, func() bool {
		_, cur := countsOf(pullerDir, 1)
		t.Logf("puller killed at cursor %d", cur)
		return cur > 0 && cur < int64(len(recs))
	})
	p.Set(faultproxy.Faults{})
	puller, err = openDevice(ctx, pullerDir, 1, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer puller.close()
	defer pusher.close()
	puller.tokens.Save(ctx, lcr)
	if err := puller.cl.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := retry(ctx, 20, puller.sync); err != nil {
		t.Fatal(err)
	}
	if err := retry(ctx, 20, pusher.sync); err != nil {
		t.Fatal(err)
	}
	pusher.last = last
	sum := Summary{Devices: 2, Edits: len(recs)}
	if err := check(ctx, &sum, []*device{pusher}, puller); err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
}

// TestLive_EventStream: two devices running their sync loops; an edit on one
// reaches the other within seconds (debounced push, event stream, pull).
func TestLive_EventStream(t *testing.T) {
	ctx := timeout(t, time.Minute)
	e := newEnv(t, 2)
	var devs []*device
	for i := 0; i < 2; i++ {
		d, err := openDevice(ctx, filepath.Join(e.dir, fmt.Sprint("live", i)), i, nil, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		d.cl = syncclient.New(syncclient.Options{Store: d.st, Tokens: d.tokens, Debounce: 100 * time.Millisecond, Poll: time.Hour})
		if _, err := d.cl.Enroll(ctx, e.srv.URL(), e.code); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.cl.Run(rctx); close(done) }()
		defer func() { cancel(); <-done }()
		devs = append(devs, d)
	}
	time.Sleep(300 * time.Millisecond) // both loops synced once and hold their event streams
	start := time.Now()
	rec, err := devs[0].st.CreateRecord(ctx, store.RecordInput{LineID: "L", ProductID: "P", Quantity: 1, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	devs[0].cl.Notify()
	for {
		if r, err := devs[1].st.GetRecord(ctx, rec.ID); err == nil && !r.Pending() {
			t.Logf("arrived on the other device after %v", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the edit did not reach the other device within 5 s; status: %+v", devs[1].cl.Status(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := devs[0].cl.Status(ctx); !st.Online || st.Pending != 0 || st.LastSync == 0 {
		t.Fatalf("status = %+v", st)
	}
}

// TestClockAhead: a device whose clock runs 10 minutes ahead has its edits
// rejected with clock_ahead; the client corrects its offset from
// server_time, re-stamps them and resubmits them by itself, in the same sync.
func TestClockAhead(t *testing.T) {
	ctx := timeout(t, time.Minute)
	e := newEnv(t, 1)
	dir := filepath.Join(e.dir, "ahead")
	key, _, err := keychain.NewKeyFile(filepath.Join(dir, "key")).GetOrCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	ahead := func() time.Time { return time.Now().Add(10 * time.Minute) }
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "outpost.db"), Key: key, Now: func() int64 { return ahead().UnixMilli() }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cl := syncclient.New(syncclient.Options{Store: st, Tokens: &syncclient.MemoryTokens{}, Now: ahead})
	if _, err := cl.Enroll(ctx, e.srv.URL(), e.code); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L", ProductID: "P", Quantity: int64(i), OperatorID: "o"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := cl.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := cl.Status(ctx)
	if rep.Rejected != 5 || rep.Applied != 5 || s.Pending+s.Rejected+s.InFlight != 0 || !s.ClockWarning {
		t.Fatalf("report %+v, status %+v", rep, s)
	}
	if s.ClockOffsetMS > -9*60_000 || s.ClockOffsetMS < -11*60_000 {
		t.Fatalf("clock offset %d ms, want about -10 min", s.ClockOffsetMS)
	}
}

// TestResyncAfterServerRestore: the server is restored from an older
// backup nobody marked, so the device's cursor is ahead of the site's
// sequence (410 with the sequence): a timeline change. The device pushes
// again the writes the restore lost and its pending edit, and ends at the
// server's cursor.
func TestResyncAfterServerRestore(t *testing.T) {
	ctx := timeout(t, time.Minute)
	e := newEnv(t, 1)
	d, err := openDevice(ctx, filepath.Join(e.dir, "dev"), 0, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if _, err := d.cl.Enroll(ctx, e.srv.URL(), e.code); err != nil {
		t.Fatal(err)
	}
	mk := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := d.st.CreateRecord(ctx, store.RecordInput{LineID: "L", ProductID: "P", Quantity: int64(i), OperatorID: "o"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.cl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mk(3)
	dbFile := filepath.Join(e.dir, "server.db")
	backup := func(from, to string) {
		for _, suf := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(from + suf)
			if err != nil {
				os.Remove(to + suf)
				continue
			}
			if err := os.WriteFile(to+suf, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.srv.Stop()
	backup(dbFile, dbFile+".bak")
	if err := e.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	mk(5)
	e.srv.Stop()
	backup(dbFile+".bak", dbFile)
	if err := e.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	pending, err := d.st.CreateRecord(ctx, store.RecordInput{LineID: "L", ProductID: "P", Quantity: 99, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	// The cursor above the restored sequence is a timeline change (docs/design.md
	// section 3): the device re-pushes on base 0 its own 5 writes the
	// restore lost, with the pending edit, after a full pass.
	rep, err := d.cl.Sync(ctx)
	if err != nil || !rep.TimelineChanged || rep.Applied != 6 {
		t.Fatalf("sync after restore: %+v, %v", rep, err)
	}
	if r, err := d.st.GetRecord(ctx, pending.ID); err != nil || r.Pending() {
		t.Fatalf("pending edit after resync: %+v, %v", r, err)
	}
	page, err := d.cl.API().Pull(ctx, 0, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := d.st.Cursor(ctx); cur != page.Cursor {
		t.Fatalf("cursor after resync %d, server's %d", cur, page.Cursor)
	}
}

// TestPush_TooLargeIsSplit: a server with a small body limit refuses a big
// batch as a whole (413); the client drops it and sends the rows in smaller
// batches, each exactly once.
func TestPush_TooLargeIsSplit(t *testing.T) {
	ctx := timeout(t, time.Minute)
	dir := t.TempDir()
	srv, err := startServer(ctx, serverBin, dir, "--max-body", "32KiB")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	code, err := enrollCode(ctx, serverBin, srv.db, "big", "operator", 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDevice(ctx, filepath.Join(dir, "dev"), 0, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if _, err := d.cl.Enroll(ctx, srv.URL(), code); err != nil {
		t.Fatal(err)
	}
	ins := make([]store.RecordInput, 400)
	for i := range ins {
		ins[i] = store.RecordInput{LineID: "L", ProductID: fmt.Sprintf("%0128d", i), Quantity: int64(i), OperatorID: fmt.Sprintf("%0128d", i)}
	}
	if _, err := d.st.CreateRecords(ctx, ins); err != nil {
		t.Fatal(err)
	}
	rep, err := d.cl.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != len(ins) || rep.Batches < 4 {
		t.Fatalf("report %+v", rep)
	}
	if c, _ := d.st.SyncCounts(ctx); c.Unsettled() != 0 {
		t.Fatalf("counts %+v", c)
	}
}

// TestFaults_CorruptDevice: two devices' databases are corrupted directly
// between syncs (clean rows deleted, a deleted row live again or a row the
// server never had inserted, clean rows rolled back to an older version),
// pending edits untouched; each device repairs itself at its next sync
// (docs/design.md section 8) and every device ends verified at the final cursor
// with nothing lost (issue 16).
func TestFaults_CorruptDevice(t *testing.T) {
	e := newEnv(t, 3)
	cfg := Config{ServerURL: e.srv.URL(), Code: e.code, ManagerCode: e.managerCode, Devices: 3, Edits: 150,
		Seed: 16, Dir: t.TempDir(), SyncEvery: 5,
		BeforeSettle: func(devs []*device) error {
			ctx := context.Background()
			for _, d := range devs[:2] {
				// A pending edit first: the corruption must leave it alone.
				if err := d.createRecord(ctx); err != nil {
					return err
				}
				if _, err := d.corrupt(ctx, rand.New(rand.NewPCG(16, uint64(d.idx))), 2); err != nil {
					return err
				}
			}
			return nil
		},
	}
	sum, err := Run(timeout(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, sum)
	if sum.Corrupted == 0 || sum.Repairs == 0 {
		t.Fatalf("corrupted %d rows, %d buckets repaired: the corruption was not exercised", sum.Corrupted, sum.Repairs)
	}
}
