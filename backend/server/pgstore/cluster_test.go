package pgstore_test

// Several outpost-server processes on one PostgreSQL database, as behind a
// load balancer: no gap for a puller while pushers write through every
// instance, a batch retried on another instance while the first attempt
// still runs, kill -9 mid-load, event streams woken across instances, and
// an unreachable database at start.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/pgstore"
	"github.com/outpost-app/outpost/backend/server/pgstore/pgtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// serverBinary builds outpost-server once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outpost-server-pg")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "outpost-server")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/outpost-app/outpost/backend/cmd/outpost-server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one outpost-server process.
type instance struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
	mu   sync.Mutex
	logs bytes.Buffer
}

func startInstance(t *testing.T, db string, extra ...string) *instance {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--db-max-conns", "4", "--retention", "0"}, extra...)
	cmd := exec.Command(serverBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			in.mu.Lock()
			in.logs.WriteString(line + "\n")
			in.mu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				ready <- m["addr"].(string)
			}
		}
		cmd.Wait()
		close(in.done)
	}()
	select {
	case in.addr = <-ready:
	case <-in.done:
		t.Fatalf("server exited at start: %s", in.log())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start: %s", in.log())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.done
		if t.Failed() {
			t.Logf("instance %s log:\n%s", in.addr, tail(in.log(), 20))
		}
	})
	return in
}

func (in *instance) log() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.logs.String()
}

func (in *instance) url(path string) string { return "http://" + in.addr + path }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var httpc = &http.Client{Timeout: 60 * time.Second}

// call does one request; err is a transport error (instance down).
func call(method, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

type dev struct{ ID, Token string }

// enrollDevices creates n devices of site through the given instances in
// turn (a code made in the shared database works on every instance).
func enrollDevices(t *testing.T, db, site string, n int, ins ...*instance) []dev {
	t.Helper()
	ctx := context.Background()
	st, err := pgstore.Open(ctx, db, pgstore.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, err := server.CreateEnrollCode(ctx, st, site, "operator", time.Hour, n, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]dev, n)
	for i := range out {
		body := fmt.Sprintf(`{"code":%q,"device_name":"d%d","platform":"linux"}`, code, i)
		status, raw, err := call("POST", ins[i%len(ins)].url("/v1/enroll"), "", []byte(body))
		if err != nil || status != 201 {
			t.Fatalf("enroll: %d %s %v", status, raw, err)
		}
		var en struct {
			DeviceID string `json:"device_id"`
			Token    string `json:"token"`
		}
		json.Unmarshal(raw, &en)
		out[i] = dev{en.DeviceID, en.Token}
	}
	return out
}

// batch is a push body of n new production records.
func batch(devID string, n int) (body []byte, ids []string) {
	var cs []string
	for i := 0; i < n; i++ {
		id := uuid.NewString()
		ids = append(ids, id)
		h := fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), i, devID)
		cs = append(cs, fmt.Sprintf(`{"table":"production_records","id":%q,"op":"upsert","base_version":0,"hlc":%q,"row":{"id":%q,"line_id":"L","product_id":"P","quantity":%d,"operator_id":"o","created_at":1,"updated_at":2}}`, id, h, id, i))
	}
	return []byte(fmt.Sprintf(`{"batch_id":%q,"changes":[%s]}`, uuid.NewString(), strings.Join(cs, ","))), ids
}

type pullPage struct {
	Changes []struct {
		Table   string `json:"table"`
		ID      string `json:"id"`
		Version int64  `json:"version"`
	} `json:"changes"`
	Cursor  int64 `json:"cursor"`
	HasMore bool  `json:"has_more"`
}

func pull(in *instance, token string, cursor int64, limit int) (pullPage, error) {
	var p pullPage
	status, raw, err := call("GET", in.url(fmt.Sprintf("/v1/pull?cursor=%d&limit=%d", cursor, limit)), token, nil)
	if err != nil {
		return p, err
	}
	if status != 200 {
		return p, fmt.Errorf("pull: %d %s", status, raw)
	}
	return p, json.Unmarshal(raw, &p)
}

// pullAll reads the whole feed and checks it is exactly versions 1..n, one
// per row: every row was written once, so an extra version would be a
// change applied twice and a missing one a lost change.
func pullAll(t *testing.T, in *instance, token string, want map[string]bool) {
	t.Helper()
	seen := map[string]int64{}
	var cursor int64
	for {
		p, err := pull(in, token, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Changes {
			if c.Version != int64(len(seen)+1) {
				t.Fatalf("feed position %d holds version %d: a gap or a change applied twice", len(seen)+1, c.Version)
			}
			seen[c.ID] = c.Version
		}
		cursor = p.Cursor
		if !p.HasMore {
			break
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("feed holds %d rows, %d were acknowledged", len(seen), len(want))
	}
	for id := range want {
		if _, ok := seen[id]; !ok {
			t.Fatalf("acknowledged row %s is missing", id)
		}
	}
}

func siteSeq(t *testing.T, db, site string) int64 {
	t.Helper()
	st, err := pgstore.Open(context.Background(), db, pgstore.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ss, err := st.SiteState(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	return ss.Seq
}

// TestCluster_NoGap: pushers write through three instances at once while a
// puller reads through all of them in turn; the puller must see every
// acknowledged row, and its cursor never jumps over a change that commits
// later (sequence numbers become visible in commit order across processes).
func TestCluster_NoGap(t *testing.T) {
	db := pgtest.URL(t)
	ins := []*instance{startInstance(t, db), startInstance(t, db), startInstance(t, db)}
	const pushers, batches, rows = 8, 8, 25
	devs := enrollDevices(t, db, "S", pushers+1, ins...)
	reader := devs[pushers]

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	var pushing atomic.Int32
	pushing.Store(pushers)
	for w := 0; w < pushers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pushing.Add(-1)
			for b := 0; b < batches; b++ {
				body, ids := batch(devs[w].ID, rows)
				status, raw, err := call("POST", ins[(w+b)%len(ins)].url("/v1/push"), devs[w].Token, body)
				if err != nil || status != 200 {
					t.Errorf("push: %d %s %v", status, raw, err)
					return
				}
				mu.Lock()
				for _, id := range ids {
					acked[id] = true
				}
				mu.Unlock()
			}
		}()
	}

	seen := map[string]bool{}
	var cursor int64
	for i := 0; ; i++ {
		done := pushing.Load() == 0 // read before pulling: a page after the last push
		p, err := pull(ins[i%len(ins)], reader.Token, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		last := cursor
		for _, c := range p.Changes {
			if c.Version <= last {
				t.Fatalf("page out of order: version %d after %d", c.Version, last)
			}
			last = c.Version
			seen[c.ID] = true
		}
		cursor = p.Cursor
		if done && !p.HasMore {
			break
		}
		if len(p.Changes) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(acked) != pushers*batches*rows {
		t.Fatalf("%d rows acknowledged", len(acked))
	}
	for id := range acked {
		if !seen[id] {
			t.Fatalf("the puller never saw acknowledged row %s: its cursor skipped a change", id)
		}
	}
	pullAll(t, ins[0], reader.Token, acked)
	if seq := siteSeq(t, db, "S"); seq != int64(len(acked)) {
		t.Fatalf("site sequence %d for %d rows", seq, len(acked))
	}
}

// TestCluster_RetryWhileFirstRuns: the same batch sent to two instances
// while the first attempt still runs (both wait on the site's lock, held
// here) is applied once, and both attempts get the same answer.
func TestCluster_RetryWhileFirstRuns(t *testing.T) {
	db := pgtest.URL(t)
	a, b := startInstance(t, db), startInstance(t, db)
	d := enrollDevices(t, db, "S", 1, a)[0]
	body, ids := batch(d.ID, 200)

	ctx := context.Background()
	st, err := pgstore.Open(ctx, db, pgstore.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hold, err := st.Begin(ctx, "S") // the site's write lock
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		raw    []byte
		err    error
	}
	answers := make(chan answer, 3)
	for _, in := range []*instance{a, b, a} {
		go func() {
			s, raw, err := call("POST", in.url("/v1/push"), d.Token, body)
			answers <- answer{s, raw, err}
		}()
	}
	select {
	case ans := <-answers:
		t.Fatalf("a push did not wait for the site lock: %d %s %v", ans.status, ans.raw, ans.err)
	case <-time.After(700 * time.Millisecond):
	}
	hold.Rollback()
	var first []byte
	for range 3 {
		ans := <-answers
		if ans.err != nil || ans.status != 200 {
			t.Fatalf("push: %d %s %v", ans.status, ans.raw, ans.err)
		}
		if first == nil {
			first = ans.raw
		} else if !bytes.Equal(first, ans.raw) {
			t.Fatalf("answers differ:\n%s\n%s", first, ans.raw)
		}
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	pullAll(t, b, d.Token, want)
	if seq := siteSeq(t, db, "S"); seq != int64(len(ids)) {
		t.Fatalf("site sequence %d after one batch of %d: applied twice", seq, len(ids))
	}
}

// TestCluster_KillNine: one of three instances is killed with SIGKILL under
// load; clients retry the same batch on another instance; every batch is
// answered, nothing is lost or applied twice, and a batch that was in
// flight on the dead instance answers the same everywhere.
func TestCluster_KillNine(t *testing.T) {
	db := pgtest.URL(t)
	ins := []*instance{startInstance(t, db), startInstance(t, db), startInstance(t, db)}
	const pushers, batches, rows = 6, 10, 20
	devs := enrollDevices(t, db, "S", pushers+1, ins...)
	reader := devs[pushers]
	var dead atomic.Bool
	var acks atomic.Int32

	type sent struct {
		dev    dev
		body   []byte
		answer []byte
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	var retried []sent
	var wg sync.WaitGroup
	for w := 0; w < pushers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := w % len(ins)
			for b := 0; b < batches; b++ {
				body, ids := batch(devs[w].ID, rows)
				tries := 0
				for {
					in := ins[next]
					if in == ins[0] && dead.Load() {
						next = (next + 1) % len(ins)
						continue
					}
					status, raw, err := call("POST", in.url("/v1/push"), devs[w].Token, body)
					if err == nil && status == 200 {
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						if tries > 0 {
							retried = append(retried, sent{devs[w], body, raw})
						}
						mu.Unlock()
						acks.Add(1)
						break
					}
					if err == nil && status < 500 {
						t.Errorf("push: %d %s", status, raw)
						return
					}
					tries++
					if tries > 20 {
						t.Errorf("push never answered: %d %s %v", status, raw, err)
						return
					}
					next = (next + 1) % len(ins) // retry the same batch elsewhere
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	for acks.Load() < pushers*batches/4 {
		time.Sleep(5 * time.Millisecond)
	}
	ins[0].cmd.Process.Kill() // SIGKILL, mid-load
	dead.Store(true)
	<-ins[0].done
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(retried) == 0 {
		t.Log("no push was in flight on the killed instance this time")
	}
	for _, r := range retried {
		_, raw, err := call("POST", ins[2].url("/v1/push"), r.dev.Token, r.body)
		if err != nil || !bytes.Equal(raw, r.answer) {
			t.Fatalf("repeat of a retried batch answers differently (%v):\n%s\n%s", err, r.answer, raw)
		}
	}
	pullAll(t, ins[1], reader.Token, acked)
	if seq := siteSeq(t, db, "S"); seq != int64(len(acked)) {
		t.Fatalf("site sequence %d for %d rows", seq, len(acked))
	}
}

// TestCluster_EventsAcrossInstances: a write through instance A wakes an
// event stream held by instance B.
func TestCluster_EventsAcrossInstances(t *testing.T) {
	db := pgtest.URL(t)
	a, b := startInstance(t, db), startInstance(t, db)
	devs := enrollDevices(t, db, "S", 2, a, b)
	req, _ := http.NewRequest("GET", b.url("/v1/events"), nil)
	req.Header.Set("Authorization", "Bearer "+devs[1].Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	body, _ := batch(devs[0].ID, 1)
	if status, raw, err := call("POST", a.url("/v1/push"), devs[0].Token, body); err != nil || status != 200 {
		t.Fatalf("push: %d %s %v", status, raw, err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream closed")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"cursor":1`) {
				return
			}
		case <-deadline:
			t.Fatal("the stream on B was not woken by a write through A")
		}
	}
}

// TestCluster_UnreachableAtStart: serve exits non-zero with a sentence when
// the database does not answer.
func TestCluster_UnreachableAtStart(t *testing.T) {
	pgtest.Admin(t)
	cmd := exec.Command(serverBinary(t), "serve", "--listen", "127.0.0.1:0", "--db", "postgres://outpost:s3cret@127.0.0.1:1/outpost?connect_timeout=2")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	if s := string(out); !strings.Contains(s, "cannot be reached") || strings.Contains(s, "s3cret") || strings.Count(s, "\n") != 1 {
		t.Fatalf("stderr = %q", s)
	}
}
