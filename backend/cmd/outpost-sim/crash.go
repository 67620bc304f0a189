package main

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	sqlcipher "github.com/mutecomm/go-sqlcipher/v4"

	"github.com/outpost-app/outpost/backend/syncclient"
)

// A device crash is real: the device's store is closed here, the device
// runs as a child process of this binary (OUTPOST_SIM_CHILD=1 in its
// environment) on the same database file and key file, syncing in a loop,
// and is killed with SIGKILL at a random moment; then the store is opened
// here again, as the app would after the crash.

// Kill modes: where the kill is aimed.
const (
	killMidPush    = 0 // a batch in flight: the device has many pending rows
	killMidPull    = 1 // pages applied one per transaction
	killMidCatchUp = 2 // the default catch-up batches of up to 10 pages (prefetched cursors)
)

// childDevice runs one device in this process until it is killed (at
// most a minute): it syncs in a loop. The parent passes the directory,
// credentials and knobs in the environment (the token never touches a
// file).
func childDevice() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	idx, _ := strconv.Atoi(os.Getenv("OUTPOST_SIM_IDX"))
	clock, _ := strconv.ParseInt(os.Getenv("OUTPOST_SIM_CLOCK"), 10, 64)
	limit, _ := strconv.Atoi(os.Getenv("OUTPOST_SIM_PULL_LIMIT"))
	pages, _ := strconv.Atoi(os.Getenv("OUTPOST_SIM_PULL_PAGES"))
	batch, _ := strconv.Atoi(os.Getenv("OUTPOST_SIM_BATCH"))
	if limit == 0 {
		limit, batch = 50, 50
	}
	d, err := openDeviceOpts(ctx, os.Getenv("OUTPOST_SIM_DIR"), idx, nil, 1, nil, deviceOptions{BatchSize: batch, PullLimit: limit})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	d.clock.Store(clock)
	var cr syncclient.Credentials
	if err := json.Unmarshal([]byte(os.Getenv("OUTPOST_SIM_CREDS")), &cr); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	d.tokens.Save(ctx, cr)
	// The server's answers to this process's pushes go to a file the
	// parent adds to the device's push ledger after the kill (ledger.go).
	if f, err := os.OpenFile(childPushLog(d.dir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
		defer f.Close()
		d.pushLog = f
	}
	d.cl = syncclient.New(syncclient.Options{Store: d.st, Tokens: d.tokens, HTTP: syncclient.HTTPOptions{Transport: d.net},
		BatchSize: batch, PullLimit: limit, PullBatchPages: pages, Now: d.now})
	if err := d.cl.Load(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Println("ready")
	for ctx.Err() == nil {
		d.cl.Sync(ctx)
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// crash runs d as a child process in mode and kills it after wait; the
// caller holds d.op.
func (d *device) crash(ctx context.Context, mode int, wait time.Duration) (err error) {
	creds, err := d.tokens.Load(ctx)
	if err != nil || creds == nil {
		return fmt.Errorf("crash device %d: no credentials: %v", d.idx, err)
	}
	d.st.Close()
	defer func() {
		if oerr := d.reopen(ctx); oerr != nil && err == nil {
			err = oerr
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("crash device %d: %w", d.idx, err)
	}
	cj, _ := json.Marshal(creds)
	limit, pages, batch := 50, 1, 50
	switch mode {
	case killMidPush:
		batch = 20
	case killMidCatchUp:
		limit, pages = 20, 10
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(cleanEnv(), "OUTPOST_SIM_CHILD=1", "OUTPOST_SIM_DIR="+d.dir, "OUTPOST_SIM_IDX="+strconv.Itoa(d.idx),
		"OUTPOST_SIM_CREDS="+string(cj), "OUTPOST_SIM_CLOCK="+strconv.FormatInt(d.clock.Load(), 10),
		"OUTPOST_SIM_PULL_LIMIT="+strconv.Itoa(limit), "OUTPOST_SIM_PULL_PAGES="+strconv.Itoa(pages), "OUTPOST_SIM_BATCH="+strconv.Itoa(batch))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("crash device %d: %w", d.idx, err)
	}
	logf, _ := os.OpenFile(filepath.Join(d.dir, "child.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if logf != nil {
		cmd.Stderr = logf
		defer logf.Close()
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("crash device %d: start: %w", d.idx, err)
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line == "ready\n"
	}()
	select {
	case ok := <-ready:
		if ok {
			sleep(ctx, wait)
		}
	case <-time.After(20 * time.Second):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	d.loadChildPushes()
	return nil
}

// reopen opens the store and client again after the device's process
// ended (a crash or an upgrade) and loads its credentials.
func (d *device) reopen(ctx context.Context) error {
	if err := d.open(ctx); err != nil {
		return err
	}
	if err := d.cl.Load(ctx); err != nil {
		return fmt.Errorf("device %d: load after restart: %w", d.idx, err)
	}
	return nil
}

// upgrade restarts d as an app upgraded to a schema that changed the
// feed: the store records an older pull schema, as the previous build
// left it, so the sync client re-pulls from 0 once (the caller holds d.op).
func (d *device) upgrade(ctx context.Context) error {
	d.st.Close()
	err := d.setMeta(ctx, "sync_pull_schema", "1")
	if oerr := d.reopen(ctx); oerr != nil && err == nil {
		err = oerr
	}
	return err
}

// setMeta writes one entry of the closed store's meta table directly
// (go-sqlcipher with the device's key): the simulator's stand-in for the
// older app build that wrote it.
func (d *device) setMeta(ctx context.Context, key, value string) error {
	k, err := deviceKey(ctx, d.dir)
	if err != nil {
		return fmt.Errorf("device %d key: %w", d.idx, err)
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(d.dir, "outpost.db"))}).String()
	dsn := u + "?" + url.Values{"_pragma_key": {"x'" + hex.EncodeToString(k) + "'"}, "_busy_timeout": {"5000"}}.Encode()
	db := sql.OpenDB(rawConnector{dsn: dsn})
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("device %d: set %s: %w", d.idx, key, err)
	}
	return nil
}

type rawConnector struct{ dsn string }

func (c rawConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlcipher.SQLiteDriver{}).Open(c.dsn)
}
func (c rawConnector) Driver() driver.Driver { return &sqlcipher.SQLiteDriver{} }
