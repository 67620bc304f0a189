// Command bench measures one outpost-server on embedded SQLite (or, with
// -pg, one or several on PostgreSQL: see pg.go) over loopback with simulated
// devices (pure Go HTTP clients):
//
//   - open loop: N devices each push a batch of 100 production records every
//     second and pull after each push; p50/p99 push latency and whether the
//     server keeps up (no device falls behind its schedule);
//   - closed loop: D devices push batches back to back; accepted rows/s.
//
// It starts the server binary given by -server as a child process and reads
// its CPU time and peak memory from /proc. The output is a Markdown table.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

func main() {
	bin := flag.String("server", "build/bin/outpost-server", "outpost-server binary")
	openN := flag.String("open", "10,50,200", "device counts of the open loop")
	closedN := flag.String("closed", "1,10,50", "device counts of the closed loop")
	dur := flag.Duration("duration", 10*time.Second, "length of each run")
	batch := flag.Int("batch", 100, "rows per push")
	flag.IntVar(&perSite, "per-site", 10, "devices per site (each device pulls its site's changes)")
	flag.Parse()
	if err := run(*bin, ints(*openN), ints(*closedN), *dur, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

type server struct {
	cmd  *exec.Cmd
	addr string
	db   string
	bin  string
	drop func() // removes the database
	// more are the other instances sharing db (-instances); devices are
	// spread over all of them.
	more []*server
}

func startServer(bin string) (*server, error) {
	db, drop, err := newDB()
	if err != nil {
		return nil, err
	}
	s, err := startProcess(bin, db)
	if err != nil {
		drop()
		return nil, err
	}
	s.drop = drop
	for len(s.more)+1 < *instances && *pgURL != "" {
		m, err := startProcess(bin, db)
		if err != nil {
			s.stop()
			return nil, err
		}
		s.more = append(s.more, m)
	}
	return s, nil
}

func startProcess(bin, db string) (*server, error) {
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", db)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
				addr <- m["addr"].(string)
			}
		}
	}()
	select {
	case a := <-addr:
		return &server{cmd: cmd, addr: a, db: db, bin: bin}, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("server did not start")
	}
}

func (s *server) stop() {
	for _, m := range s.more {
		m.stop()
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	if s.drop != nil {
		s.drop()
	}
}

// total sums one server's figure f over this server and the others of the
// run.
func (s *server) total(f func(*server) float64) float64 {
	t := f(s)
	for _, m := range s.more {
		t += f(m)
	}
	return t
}

// cpu returns the servers' user+system CPU seconds so far.
func (s *server) cpu() float64 { return s.total((*server).cpu1) }

func (s *server) cpu1() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ
}

// rss returns the servers' peak resident memory in MiB (summed).
func (s *server) rss() float64 { return s.total((*server).rss1) }

func (s *server) rss1() float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type device struct {
	id, token string
	addr      string // the instance this device talks to
	cursor    int64
	counter   int
}

var perSite = 10

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 0}}

func (s *server) enroll(n int) ([]*device, error) {
	var devs []*device
	for site := 0; len(devs) < n; site++ {
		uses := min(perSite, n-len(devs))
		out, err := exec.Command(s.bin, "enroll", "--db", s.db, "--site", fmt.Sprint("site-", site), "--role", "operator", "--uses", strconv.Itoa(uses)).Output()
		if err != nil {
			return nil, fmt.Errorf("enroll: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		code := lines[len(lines)-1]
		for i := 0; i < uses; i++ {
			body, _ := json.Marshal(map[string]string{"code": code, "device_name": fmt.Sprint("bench ", len(devs)), "platform": "linux"})
			in := s
			if k := len(devs) % (len(s.more) + 1); k > 0 {
				in = s.more[k-1]
			}
			resp, err := client.Post("http://"+in.addr+"/v1/enroll", "application/json", bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			var en struct {
				DeviceID string `json:"device_id"`
				Token    string `json:"token"`
			}
			json.NewDecoder(resp.Body).Decode(&en)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				return nil, fmt.Errorf("enroll answered %d", resp.StatusCode)
			}
			devs = append(devs, &device{id: en.DeviceID, token: en.Token, addr: in.addr})
		}
	}
	return devs, nil
}

func (s *server) push(d *device, rows int) (time.Duration, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"batch_id":%q,"changes":[`, uuid.NewString())
	now := time.Now().UnixMilli()
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		d.counter++
		id := uuid.NewString()
		fmt.Fprintf(&b, `{"table":"production_records","id":%q,"op":"upsert","base_version":0,"hlc":"%015d-%05d-%s","row":{"id":%q,"line_id":"L1","product_id":"P-100","quantity":%d,"operator_id":"op-7","created_at":%d,"updated_at":%d}}`,
			id, now, d.counter%100000, d.id, id, i, now, now)
	}
	b.WriteString("]}")
	start := time.Now()
	req, _ := http.NewRequest("POST", "http://"+d.addr+"/v1/push", &b)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("push answered %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

func (s *server) pull(d *device) error {
	for {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/v1/pull?cursor=%d&limit=5000", d.addr, d.cursor), nil)
		req.Header.Set("Authorization", "Bearer "+d.token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var p struct {
			Cursor  int64 `json:"cursor"`
			HasMore bool  `json:"has_more"`
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("pull answered %d: %v", resp.StatusCode, err)
		}
		d.cursor = p.Cursor
		if !p.HasMore {
			return nil
		}
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

func run(bin string, openN, closedN []int, dur time.Duration, rows int) error {
	fmt.Printf("## Sync server on %s (loopback, %d rows per push, %d devices per site, %s per run)\n\n", storeName(), rows, perSite, dur)
	fmt.Println("| mode | devices | offered rows/s | accepted rows/s | push p50 | push p99 | kept up | server CPU | server peak RSS |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, n := range openN {
		if err := openLoop(bin, n, dur, rows); err != nil {
			return err
		}
	}
	for _, n := range closedN {
		if err := closedLoop(bin, n, dur, rows); err != nil {
			return err
		}
	}
	return nil
}

// openLoop: every device pushes once a second and pulls after each push.
func openLoop(bin string, n int, dur time.Duration, rows int) error {
	var behind atomic.Int64
	r, err := runDevices(bin, n, rows, func(s *server, start time.Time, i int, d *device, push func() error) error {
		// Spread the devices over the second.
		next := start.Add(time.Duration(i) * time.Second / time.Duration(n))
		for next.Before(start.Add(dur)) {
			time.Sleep(time.Until(next))
			if err := push(); err != nil {
				return err
			}
			if err := s.pull(d); err != nil {
				return err
			}
			next = next.Add(time.Second)
			if time.Now().After(next) {
				behind.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	kept := "yes"
	if behind.Load() > 0 {
		kept = fmt.Sprintf("no (%d late cycles)", behind.Load())
	}
	fmt.Printf("| open | %d | %d | %.0f | %s | %s | %s | %.0f%% | %.0f MiB |\n", n, n*rows, float64(r.accepted)/r.elapsed,
		pct(r.lat, .5).Round(100*time.Microsecond), pct(r.lat, .99).Round(100*time.Microsecond), kept, r.cpu*100, r.rss)
	return nil
}

// closedLoop: every device pushes back to back.
func closedLoop(bin string, n int, dur time.Duration, rows int) error {
	r, err := runDevices(bin, n, rows, func(_ *server, start time.Time, _ int, _ *device, push func() error) error {
		for time.Since(start) < dur {
			if err := push(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("| closed | %d | — | %.0f | %s | %s | — | %.0f%% | %.0f MiB |\n", n, float64(r.accepted)/r.elapsed,
		pct(r.lat, .5).Round(100*time.Microsecond), pct(r.lat, .99).Round(100*time.Microsecond), r.cpu*100, r.rss)
	return nil
}

// loopRun is what one run of the devices measured.
type loopRun struct {
	lat      []time.Duration // of every push
	accepted int64           // rows
	elapsed  float64         // seconds
	cpu      float64         // the server's, in cores
	rss      float64         // the server's peak, MiB
}

// runDevices starts a server, enrolls n devices and runs each one's loop at
// once; push pushes rows from the device and notes the latency. The first
// error of any device is the run's.
func runDevices(bin string, n, rows int, loop func(s *server, start time.Time, i int, d *device, push func() error) error) (loopRun, error) {
	s, err := startServer(bin)
	if err != nil {
		return loopRun{}, err
	}
	defer s.stop()
	devs, err := s.enroll(n)
	if err != nil {
		return loopRun{}, err
	}
	var r loopRun
	var mu sync.Mutex
	var accepted atomic.Int64
	var firstErr atomic.Value
	cpu0 := s.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := loop(s, start, i, d, func() error {
				l, err := s.push(d, rows)
				if err != nil {
					return err
				}
				accepted.Add(int64(rows))
				mu.Lock()
				r.lat = append(r.lat, l)
				mu.Unlock()
				return nil
			})
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return loopRun{}, e.(error)
	}
	r.accepted, r.elapsed = accepted.Load(), time.Since(start).Seconds()
	r.cpu, r.rss = (s.cpu()-cpu0)/r.elapsed, s.rss()
	return r, nil
}
