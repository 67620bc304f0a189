// Command bridge serves the built frontend to a plain browser over the real
// app services, for the Playwright tests (frontend/e2e/browser.test.mjs).
// It opens a real encrypted store in a temp dir (key in a key file), wires
// the services as main.go does, and exposes them over HTTP:
//
//	POST /call/{Service}/{Method}  JSON array of arguments → with ?callbackID=
//	                               the Wails dispatcher's callback message
//	                               (wails.go); without, the JSON result or 500
//	                               with app.FormatError's JSON text
//	GET  /events                   server-sent events: the app's runtime events
//	GET  /                         frontend/dist with the real Wails runtime
//	                               JS and a shim standing in for the window's
//	                               IPC (wails.go)
//	GET  /state                    JSON for the test: conflicts and line configs
//
// With --server-bin it starts a real outpost-server process, enrolls this
// device (manager) and a second in-process device, and makes a real
// manual-policy conflict on a line configuration; --seed adds production
// records for the dashboard. --site-data (with --server-bin) first imports
// the site's data with `outpost-server site import`: lines L1–L3 (L9
// retired), products P-100, P-200, P-201, P-300 (P-900 retired), people
// OP-100 "Ana Operator" (operator, no PIN) and MGR-1 "Mia Manager" (manager,
// PIN 2468), settings (UTC, idle sign-out 1 h); the conflict's edits are
// then made by signed-in people (MGR-1 on this device, OP-100 on the other)
// and the records by OP-100, and this device ends signed out: the browser
// starts at the sign-in screen. --people-conflict (with --site-data) then
// adds SUP-1 "Sam Supervisor" (PIN 13572468) and makes both devices' managers
// change that PIN from the same version: an open people conflict whose rows
// hold PIN hashes (none may reach the browser). The first line on stdout is
// "listening URL".
// This binary links go-sqlcipher only: the server runs as its own process.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/outpost-app/outpost/app"
	"github.com/outpost-app/outpost/backend/syncclient"
)

func main() {
	dist := flag.String("dist", "frontend/dist", "built frontend")
	serverBin := flag.String("server-bin", "", "outpost-server binary: start a sync server and make a real conflict")
	seed := flag.Bool("seed", false, "seed production records for the dashboard")
	siteData := flag.Bool("site-data", false, "import site data (lines, products, people, settings) into the server first; needs --server-bin")
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	peopleConflict := flag.Bool("people-conflict", false, "also make a conflict on a person's PIN; needs --site-data")
	flag.Parse()
	if *peopleConflict && !*siteData {
		fmt.Fprintln(os.Stderr, "bridge: --people-conflict needs --site-data")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if *siteData && *serverBin == "" {
		fmt.Fprintln(os.Stderr, "bridge: --site-data needs --server-bin")
		os.Exit(2)
	}
	if err := run(*dist, *serverBin, *seed, *siteData, *peopleConflict, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// hub relays runtime events to every /events client. Like Wails' runtime,
// which hands every event to the WebView, it never drops one: the screens
// follow events (the status bar, the conflict inbox), not a poll, so a
// dropped event would leave a screen stale in the tests where the real
// window would not be. Each client has its own queue, unbounded, drained by
// its handler.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one /events client's queue.
type subscriber struct {
	mu    sync.Mutex
	queue [][]byte
	ready chan struct{} // signalled when queue gains an event
}

func (h *hub) emit(name string, data any) {
	b, err := json.Marshal(map[string]any{"name": name, "data": data})
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		c.mu.Lock()
		c.queue = append(c.queue, b)
		c.mu.Unlock()
		select {
		case c.ready <- struct{}{}:
		default: // already signalled
		}
	}
}

// take returns the events queued so far, in order, and empties the queue.
func (c *subscriber) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// cuttable is a transport whose network can be cut (to edit offline).
type cuttable struct{ down atomic.Bool }

func (c *cuttable) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down.Load() {
		return nil, errors.New("network is down")
	}
	return http.DefaultTransport.RoundTrip(r)
}

type device struct {
	core  *app.Core
	sync  *app.SyncService
	lines *app.LineConfigService
	sess  *app.SessionService
}

func newDevice(ctx context.Context, dir, url, code string, tr http.RoundTripper, onStatus func(app.SyncStatus)) device {
	o := app.SyncOptions{Tokens: &syncclient.MemoryTokens{}, ServerURL: url, Code: code, Transport: tr, OnStatus: onStatus, DeviceName: filepath.Base(dir)}
	svc := app.NewSyncService(o)
	core := app.NewCore("bridge", svc.Wrap(app.OpenLocal(app.OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	return device{core: core, sync: svc, lines: app.NewLineConfigService(core)}
}

// withSession gives d a session service (sign-in) emitting to emit.
func (d *device) withSession(emit func(string, any)) *app.SessionService {
	d.sess = app.NewSessionService(d.core, d.sync, app.SessionOptions{Emit: emit})
	return d.sess
}

func run(dist, serverBin string, seed, siteData, peopleConflict bool, listen string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "outpost-bridge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	events := &hub{subs: map[*subscriber]struct{}{}}

	var url, codeA, codeB string
	if serverBin != "" {
		var srv *exec.Cmd
		url, codeA, codeB, srv, err = startServer(serverBin, tmp, siteData)
		if srv != nil {
			defer func() { srv.Process.Kill(); srv.Wait() }()
		}
		if err != nil {
			return err
		}
	}
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			return err
		}
	}
	aNet := &cuttable{}
	a := newDevice(ctx, filepath.Join(tmp, "a"), url, codeA, aNet, func(s app.SyncStatus) { events.emit("sync:status", s) })
	defer func() { a.sync.Shutdown(); a.core.Shutdown() }()
	dashSvc := app.NewDashboardService(a.core, app.DashboardOptions{})
	exportSvc := app.NewExportService(a.core, dashSvc, app.ExportOptions{
		SaveDialog: func(title, dir, name string) (string, error) { return filepath.Join(tmp, name), nil },
		Emit:       events.emit,
	})
	go app.WatchData(ctx, dashSvc, events.emit)
	records := app.NewRecordService(a.core)
	conflicts := app.NewConflictService(a.sync)
	sessions := a.withSession(events.emit)
	site := app.NewSiteService(a.core, a.sync, sessions)
	go app.WatchSessions(ctx, sessions)
	services := map[string]any{
		"RecordService":     records,
		"LineConfigService": a.lines,
		"StatusService":     app.NewStatusService(a.core),
		"SchemaService":     app.NewSchemaService(),
		"SyncService":       a.sync,
		"ConflictService":   conflicts,
		"DashboardService":  dashSvc,
		"ExportService":     exportSvc,
		"SessionService":    sessions,
		"SiteService":       site,
		"PrefsService":      app.NewPrefsService(a.core),
	}

	if siteData {
		if err := eventually("the site's people on this device", func() bool {
			a.sync.SyncNow()
			s, err := sessions.Current()
			return err == nil && s.Required
		}); err != nil {
			return err
		}
		if _, err := sessions.SignIn("MGR-1", "2468"); err != nil {
			return fmt.Errorf("sign in the manager: %w", err)
		}
	}
	if serverBin != "" {
		b := newDevice(ctx, filepath.Join(tmp, "b"), url, codeB, nil, nil)
		defer func() { b.sync.Shutdown(); b.core.Shutdown() }()
		if siteData {
			bs := b.withSession(nil)
			if err := eventually("the site's people on the other device", func() bool {
				b.sync.SyncNow()
				s, err := bs.Current()
				return err == nil && s.Required
			}); err != nil {
				return err
			}
			if _, err := bs.SignIn("OP-100", ""); err != nil {
				return fmt.Errorf("sign in the operator on the other device: %w", err)
			}
		}
		if err := makeConflict(a, b, aNet, conflicts); err != nil {
			return fmt.Errorf("seed conflict: %w", err)
		}
		if peopleConflict {
			if _, err := b.sess.SignIn("MGR-1", "2468"); err != nil {
				return fmt.Errorf("sign in the manager on the other device: %w", err)
			}
			siteB := app.NewSiteService(b.core, b.sync, b.sess)
			if err := makePeopleConflict(a, b, aNet, site, siteB, conflicts); err != nil {
				return fmt.Errorf("seed the people conflict: %w", err)
			}
		}
	}
	if seed {
		if siteData {
			if _, err := sessions.SignIn("OP-100", ""); err != nil {
				return fmt.Errorf("sign in the operator: %w", err)
			}
		}
		if err := seedRecords(records); err != nil {
			return fmt.Errorf("seed records: %w", err)
		}
	}
	if siteData {
		if _, err := sessions.SignOut(); err != nil {
			return err
		}
	}

	index, err := page(dist)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dist)
	if err != nil {
		return err
	}
	runtimeJS, err := wailsRuntime(filepath.Dir(filepath.Dir(abs)))
	if err != nil {
		return fmt.Errorf("the Wails runtime: %w", err)
	}
	shim := shimJS(services)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /call/{service}/{method}", func(w http.ResponseWriter, r *http.Request) {
		call(w, r, services[r.PathValue("service")], r.PathValue("method"))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no streaming", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		c := &subscriber{ready: make(chan struct{}, 1)}
		events.mu.Lock()
		events.subs[c] = struct{}{}
		events.mu.Unlock()
		defer func() { events.mu.Lock(); delete(events.subs, c); events.mu.Unlock() }()
		fmt.Fprint(w, ": hello\n\n")
		fl.Flush()
		for {
			select {
			case <-c.ready:
				for _, b := range c.take() {
					fmt.Fprintf(w, "data: %s\n\n", b)
				}
				fl.Flush()
			case <-r.Context().Done():
				return
			case <-ctx.Done():
				return
			}
		}
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		cs, err1 := conflicts.List()
		lcs, err2 := a.lines.List()
		sess, err3 := sessions.Current()
		if err := errors.Join(err1, err2, err3); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"conflicts": cs, "lineConfigs": lcs, "session": sess})
	})
	files := http.FileServer(http.Dir(dist))
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || r.URL.Path == "/index.html" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(index)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /bridge-shim.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(shim)
	})
	mux.HandleFunc("GET /wails/runtime.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(runtimeJS)
	})

	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() { <-ctx.Done(); srv.Close() }()
	fmt.Printf("listening http://%s\n", l.Addr())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// call decodes the JSON argument array and calls the method. For the page
// (a callbackID in the query) it answers as the Wails dispatcher does, see
// wails.go; for the tests' own calls (harness.mjs) it writes the result, or
// 500 with app.FormatError's JSON text.
func call(w http.ResponseWriter, r *http.Request, svc any, name string) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, app.FormatError(err))
		return
	}
	if id := r.URL.Query().Get("callbackID"); id != "" {
		writeJSON(w, http.StatusOK, answer(svc, name, raw, id))
		return
	}
	result, err := invoke(svc, name, raw)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, app.FormatError(err))
		return
	}
	writeJSON(w, http.StatusOK, result)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// page returns index.html with the shim and the real Wails runtime injected
// before the app's module script, as the desktop window injects them.
func page(dist string) ([]byte, error) {
	index, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		return nil, fmt.Errorf("the frontend is not built (cd frontend && npm run build): %w", err)
	}
	tag := `<script src="/bridge-shim.js"></script><script src="/wails/runtime.js"></script>`
	s := string(index)
	if i := strings.Index(s, "<script"); i >= 0 {
		s = s[:i] + tag + "\n    " + s[i:]
	} else {
		s = strings.Replace(s, "</head>", tag+"</head>", 1)
	}
	return []byte(s), nil
}

// startServer starts outpost-server on a free port with a SQLite database
// and enrolls two managers (after importing the site data when siteData is
// set). It returns the URL and the two codes.
func startServer(bin, dir string, siteData bool) (url, codeA, codeB string, cmd *exec.Cmd, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	db := "sqlite://" + filepath.Join(dir, "server.db")
	cmd = exec.Command(bin, "serve", "--listen", addr, "--db", db, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", "", "", nil, err
	}
	url = "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/v1/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 400 {
			return "", "", "", cmd, errors.New("outpost-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	enroll := func(role string) (string, error) {
		var out bytes.Buffer
		e := exec.Command(bin, "enroll", "--db", db, "--site", "s1", "--role", role)
		e.Stdout, e.Stderr = &out, os.Stderr
		if err := e.Run(); err != nil {
			return "", err
		}
		var code string
		for sc := bufio.NewScanner(&out); sc.Scan(); {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				code = l
			}
		}
		return code, nil
	}
	if siteData {
		if err := importSiteData(bin, db, dir); err != nil {
			return "", "", "", cmd, err
		}
	}
	if codeA, err = enroll("manager"); err != nil {
		return "", "", "", cmd, err
	}
	if codeB, err = enroll("manager"); err != nil {
		return "", "", "", cmd, err
	}
	return url, codeA, codeB, cmd, nil
}

// siteCSV is the site data --site-data imports, one CSV per table.
var siteCSV = []struct{ table, csv string }{
	{"lines", "code,name,area,active\nL1,Line 1,Hall A,1\nL2,Line 2,Hall A,1\nL3,Line 3,Hall B,1\nL9,Line 9 (retired),Hall B,0\n"},
	{"products", "code,name,unit,active\nP-100,Bracket 40 mm,pcs,1\nP-200,\"Housing, left\",pcs,1\nP-201,\"Housing, right\",pcs,1\nP-300,Granulate blend,kg,1\nP-900,Old clip,pcs,0\n"},
	{"people", "badge_id,display_name,role,active,pin\nOP-100,Ana Operator,operator,1,\nMGR-1,Mia Manager,manager,1,2468\n"},
	{"site_settings", "time_zone,shifts,clock_skew_ms,idle_signout_s,pin_roles\nUTC,\"Early=06:00,Late=14:00,Night=22:00\",,3600,\n"},
}

// importSiteData loads siteCSV into site s1 with `outpost-server site import`.
func importSiteData(bin, db, dir string) error {
	for _, t := range siteCSV {
		f := filepath.Join(dir, t.table+".csv")
		if err := os.WriteFile(f, []byte(t.csv), 0o600); err != nil {
			return err
		}
		var out bytes.Buffer
		c := exec.Command(bin, "site", "import", "--db", db, "--site", "s1", "--table", t.table, "--file", f)
		c.Stdout, c.Stderr = io.Discard, &out
		if err := c.Run(); err != nil {
			return fmt.Errorf("site import %s: %w: %s", t.table, err, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

func eventually(what string, ok func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// makeConflict: A (bridged) and B, two managers, edit the same
// line configuration from the same version: both change the temperature, A
// the notes, B the speed. B syncs first; A's push meets B's change.
func makeConflict(a, b device, aNet *cuttable, conflicts *app.ConflictService) error {
	for _, d := range []device{a, b} {
		if err := eventually("enrollment", func() bool { st, err := d.sync.Status(); return err == nil && st.Enrolled && st.Online }); err != nil {
			return err
		}
	}
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	s := func(v string) *string { return &v }
	in := app.LineConfigInput{LineID: "L7", Recipe: "RECIPE-SUMMER", TargetRatePerHour: i(1200), TemperatureC: f(180), SpeedRPM: i(60), Notes: s("Check seals")}
	lc, err := a.lines.Create(in)
	if err != nil {
		return err
	}
	if err := eventually("B to pull the line config", func() bool { _, err := b.lines.Get(lc.ID); return err == nil }); err != nil {
		return err
	}
	aNet.down.Store(true) // A edits offline: both edits start from the same version
	mine := in
	mine.TemperatureC, mine.Notes = f(185), s("Check seals every shift")
	if _, err := a.lines.Update(lc.ID, mine); err != nil {
		return err
	}
	theirs := in
	theirs.TemperatureC, theirs.SpeedRPM = f(190), i(70)
	if _, err := b.lines.Update(lc.ID, theirs); err != nil {
		return err
	}
	if err := eventually("B's edit on the server", func() bool { st, _ := b.sync.Status(); return st.Pending == 0 && st.InFlight == 0 }); err != nil {
		return err
	}
	aNet.down.Store(false)
	return eventually("the open conflict in A's inbox", func() bool {
		a.sync.SyncNow()
		cs, _ := conflicts.List()
		for _, c := range cs {
			if c.Status == "open" && c.RowID == lc.ID {
				return true
			}
		}
		return false
	})
}

// makePeopleConflict: A's manager adds SUP-1 with a PIN; once B has it,
// A (offline) and B each give SUP-1 a new PIN from that version. B syncs
// first; A's push meets B's change on pin_hash: an open people conflict.
func makePeopleConflict(a, b device, aNet *cuttable, siteA, siteB *app.SiteService, conflicts *app.ConflictService) error {
	p := func(s string) *string { return &s }
	sup := app.PersonInput{BadgeID: "SUP-1", DisplayName: "Sam Supervisor", Role: "supervisor", Active: true, PIN: p("13572468")}
	if _, err := siteA.SavePerson(sup); err != nil {
		return fmt.Errorf("add SUP-1: %w", err)
	}
	if err := eventually("B to pull SUP-1", func() bool {
		a.sync.SyncNow()
		b.sync.SyncNow()
		d, err := siteB.Get()
		for _, x := range d.People {
			if err == nil && x.BadgeID == "SUP-1" && !x.Pending {
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	aNet.down.Store(true)
	sup.PIN = p("24681357")
	if _, err := siteA.SavePerson(sup); err != nil {
		return fmt.Errorf("site A changes SUP-1's PIN: %w", err)
	}
	sup.PIN = p("97531864")
	if _, err := siteB.SavePerson(sup); err != nil {
		return fmt.Errorf("site B changes SUP-1's PIN: %w", err)
	}
	if err := eventually("B's edit on the server", func() bool {
		b.sync.SyncNow()
		st, _ := b.sync.Status()
		return st.Pending == 0 && st.InFlight == 0
	}); err != nil {
		return err
	}
	aNet.down.Store(false)
	return eventually("the open people conflict in A's inbox", func() bool {
		a.sync.SyncNow()
		cs, _ := conflicts.List()
		for _, c := range cs {
			if c.Status == "open" && c.Table == "people" {
				return true
			}
		}
		return false
	})
}

// seedRecords: production records now, with known totals per line
// (L1 = 300, L2 = 150, L3 = 45).
func seedRecords(records *app.RecordService) error {
	for _, r := range []app.RecordInput{
		{LineID: "L1", ProductID: "P-100", Quantity: 120, OperatorID: "op-1"},
		{LineID: "L1", ProductID: "P-100", Quantity: 180, OperatorID: "op-2"},
		{LineID: "L2", ProductID: "P-200", Quantity: 100, OperatorID: "op-1"},
		{LineID: "L2", ProductID: "P-201", Quantity: 50, OperatorID: "op-3"},
		{LineID: "L3", ProductID: "P-300", Quantity: 45, OperatorID: "op-2"},
	} {
		if _, err := records.Create(r); err != nil {
			return err
		}
	}
	return nil
}
