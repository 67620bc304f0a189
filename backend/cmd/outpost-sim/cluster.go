package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// Server stores a nemesis run can use.
const (
	storeSQLite = "sqlite" // one server on an embedded SQLite database
	storePG     = "pg"     // one server on PostgreSQL
	storePG2    = "pg2"    // two server instances on one PostgreSQL database
)

// cluster is the sync server of a nemesis run: one or two outpost-server
// processes on one database, each behind its own fault proxy, with
// aggressive retention. Kills, backups and restores go through it.
type cluster struct {
	bin, dir, kind string
	db             string // the servers' --db
	pgAdmin        string // the PostgreSQL cluster's URL (maintenance)
	pgName         string // the run's database
	procs          []*serverProc
	proxies        []*faultproxy.Proxy

	mu sync.Mutex // one kill, backup or restore at a time
	// backedUp says a backup exists; restores and unmarked count the
	// restores and those nobody marked (no `restored` command, or the
	// schedule said so).
	backedUp           bool
	restores, unmarked int
	kills              int
	// backupAt is when the backup was taken; rewinds the spans of time a
	// restore took back.
	backupAt time.Time
	rewinds  [][2]time.Time

	// netMu guards held and faults. While held (a restore's snapshot and
	// the restore itself), every proxy is down whatever the network
	// faults ask; faults are what they ask of each proxy, set again when
	// the hold ends.
	netMu  sync.Mutex
	held   bool
	faults []faultproxy.Faults
}

// SetFaults sets the faults of proxy i (a network fault's window), or
// keeps them for when the hold ends while the network is held.
func (c *cluster) SetFaults(i int, f faultproxy.Faults) {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	i %= len(c.proxies)
	if len(c.faults) != len(c.proxies) {
		c.faults = make([]faultproxy.Faults, len(c.proxies))
	}
	c.faults[i] = f
	if !c.held {
		c.proxies[i].Set(f)
	}
}

// holdNetwork takes every proxy down (cutting the connections open) until
// releaseNetwork: no device, crash child included, reaches a server.
func (c *cluster) holdNetwork() {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	c.held = true
	for _, px := range c.proxies {
		px.Set(faultproxy.Faults{Down: true})
	}
}

// releaseNetwork ends the hold: each proxy gets the faults asked of it
// meanwhile.
func (c *cluster) releaseNetwork() {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	c.held = false
	for i, px := range c.proxies {
		var f faultproxy.Faults
		if i < len(c.faults) {
			f = c.faults[i]
		}
		px.Set(f)
	}
}

// rewound reports whether a write made at t was taken back by a restore.
func (c *cluster) rewound(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rewinds {
		if t.After(r[0]) && t.Before(r[1]) {
			return true
		}
	}
	return false
}

// rewindSpans are the spans of time restores took back: from each
// backup to its restore.
func (c *cluster) rewindSpans() [][2]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][2]time.Time{}, c.rewinds...)
}

// retentionFlags make the horizon move within a run: a purge every
// second and devices unseen for staleAfter no longer holding it back.
func retentionFlags(staleAfter time.Duration) []string {
	return []string{"--retention", "1s", "--stale-after", staleAfter.String(), "--drain-timeout", "2s"}
}

// startCluster starts the servers of kind (storeSQLite, storePG, storePG2)
// in dir; pgAdmin is the PostgreSQL cluster's URL for the other two.
//
// With hubs, central keeps every version (no retention): the check
// follows each version a hub's device wrote into central's history, which
// the purge's excuses (the push ledger's versions) cannot do for a hub's
// devices, whose answers carry the hub's versions.
func startCluster(ctx context.Context, bin, dir, kind, pgAdmin string, staleAfter time.Duration, hubs bool) (*cluster, error) {
	c := &cluster{bin: bin, dir: dir, kind: kind, pgAdmin: pgAdmin}
	n := 1
	switch kind {
	case storeSQLite:
		c.db = "sqlite://" + filepath.Join(dir, "server.db")
	case storePG, storePG2:
		if pgAdmin == "" {
			return nil, errors.New("a PostgreSQL server needs --pg (or OUTPOST_TEST_PG)")
		}
		var b [6]byte
		rand.Read(b[:])
		c.pgName = "outpost_sim_" + hex.EncodeToString(b[:])
		if err := c.pgExec(ctx, "CREATE DATABASE "+c.pgName); err != nil {
			return nil, err
		}
		u, err := url.Parse(pgAdmin)
		if err != nil {
			return nil, fmt.Errorf("parse the PostgreSQL URL: %w", err)
		}
		u.Path = "/" + c.pgName
		c.db = u.String()
		if kind == storePG2 {
			n = 2
		}
	default:
		return nil, fmt.Errorf("unknown server store %q (want sqlite, pg or pg2)", kind)
	}
	for i := 0; i < n; i++ {
		addr, err := freeAddr()
		if err != nil {
			c.Close()
			return nil, err
		}
		extra := retentionFlags(staleAfter)
		if hubs {
			extra = append(extra, "--retention", "0")
		}
		if kind != storeSQLite {
			extra = append(extra, "--db-max-conns", "4")
		}
		p := &serverProc{bin: bin, db: c.db, addr: addr, extra: extra, logPath: filepath.Join(dir, fmt.Sprintf("server-%d.log", i))}
		if err := p.start(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("server instance %d: %w", i, err)
		}
		c.procs = append(c.procs, p)
		px, err := faultproxy.New(addr)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.proxies = append(c.proxies, px)
	}
	return c, nil
}

// URLs are the instances' addresses as the devices see them (the proxies).
func (c *cluster) URLs() []string {
	var out []string
	for _, p := range c.proxies {
		out = append(out, p.URL())
	}
	return out
}

// Close stops everything and drops the run's PostgreSQL databases.
func (c *cluster) Close() {
	for _, px := range c.proxies {
		px.Close()
	}
	for _, p := range c.procs {
		p.Kill()
	}
	if c.pgName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range []string{c.pgName, c.pgName + "_bak"} {
			c.dropDB(ctx, name)
		}
	}
}

func (c *cluster) pgExec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, c.pgAdmin)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// dropDB drops a database, ending its sessions first.
func (c *cluster) dropDB(ctx context.Context, name string) error {
	c.terminate(ctx, name)
	return c.pgExec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// terminate ends every session on database name: a database used as a
// template, or dropped, must have none.
func (c *cluster) terminate(ctx context.Context, name string) {
	c.pgExec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
}

// KillServer kills instance i with SIGKILL (whatever it was doing: a
// batch in flight rolls back or has committed) and restarts it after down.
func (c *cluster) KillServer(ctx context.Context, i int, down time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.procs[i%len(c.procs)]
	p.Kill()
	c.kills++
	sleep(ctx, down)
	return p.Restart(ctx)
}

// Backup copies the database as it is now: the servers are killed (a
// crash-consistent copy of a SQLite file and its WAL; a template copy of
// the PostgreSQL database, which needs no session on it) and restarted.
func (c *cluster) Backup(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.whileDown(ctx, func() error {
		if c.pgName == "" {
			return copyDB(strings.TrimPrefix(c.db, "sqlite://"), filepath.Join(c.dir, "backup.db"))
		}
		c.dropDB(ctx, c.pgName+"_bak")
		return c.withRetry(ctx, func() error {
			c.terminate(ctx, c.pgName)
			return c.pgExec(ctx, "CREATE DATABASE "+c.pgName+"_bak TEMPLATE "+c.pgName)
		})
	})
	if err == nil {
		c.backedUp, c.backupAt = true, time.Now()
	}
	return err
}

// Restore puts the backup back and, when mark is set and the server has
// the command, runs `outpost-server restored` before the servers start
// again (what the operations guide asks after a restore).
//
// snapshot, when set, first reads the server's last state before the
// restore, as an operator's restore stops the server before it replaces
// the database: the devices' network is held (holdNetwork) from then
// until the restored servers run, the servers are killed (a push under
// way has committed or rolls back) and started again, and snapshot gets
// when the hold began and the address of instance 0, which no proxy
// stands in front of, to read from (nothing else reaches the servers
// meanwhile). So every write the servers accepted before the restore is
// in what it reads, and nothing written after it began. Seed 117 of a
// campaign: the histories were read while the devices still pushed,
// retried through a partition, and ~3 s of accepted writes were judged
// without them.
func (c *cluster) Restore(ctx context.Context, mark bool, snapshot func(ctx context.Context, heldAt time.Time, server string)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.backedUp {
		return errors.New("restore: no backup was taken")
	}
	if snapshot != nil {
		c.holdNetwork()
		defer c.releaseNetwork()
		heldAt := time.Now()
		if err := c.whileDown(ctx, func() error { return nil }); err != nil {
			return fmt.Errorf("restore: stop the servers for the snapshot: %w", err)
		}
		snapshot(ctx, heldAt, c.procs[0].URL())
	}
	return c.whileDown(ctx, func() error {
		if c.pgName == "" {
			path := strings.TrimPrefix(c.db, "sqlite://")
			os.Remove(path + "-shm")
			if err := copyDB(filepath.Join(c.dir, "backup.db"), path); err != nil {
				return err
			}
		} else {
			err := c.withRetry(ctx, func() error {
				if err := c.dropDB(ctx, c.pgName); err != nil {
					return err
				}
				c.terminate(ctx, c.pgName+"_bak")
				return c.pgExec(ctx, "CREATE DATABASE "+c.pgName+" TEMPLATE "+c.pgName+"_bak")
			})
			if err != nil {
				return err
			}
		}
		c.restores++
		c.rewinds = append(c.rewinds, [2]time.Time{c.backupAt, time.Now()})
		if !mark || !c.markRestored(ctx) {
			c.unmarked++
		}
		return nil
	})
}

// markRestored runs `outpost-server restored --db URL`; false when the
// server has no such command yet (or it failed: then the log says why).
func (c *cluster) markRestored(ctx context.Context) bool {
	cmd := exec.CommandContext(ctx, c.bin, "restored", "--db", c.db)
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if f, ferr := os.OpenFile(filepath.Join(c.dir, "restored.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); ferr == nil {
			fmt.Fprintf(f, "outpost-server restored: %v: %s\n", err, out.String())
			f.Close()
		}
		return false
	}
	return true
}

// whileDown kills every instance, runs fn and starts them again.
func (c *cluster) whileDown(ctx context.Context, fn func() error) error {
	for _, p := range c.procs {
		p.Kill()
	}
	err := fn()
	for i, p := range c.procs {
		if rerr := p.Restart(ctx); rerr != nil && err == nil {
			err = fmt.Errorf("restart server instance %d: %w", i, rerr)
		}
	}
	return err
}

// withRetry retries fn for a few seconds: a killed server's PostgreSQL
// sessions take a moment to go away.
func (c *cluster) withRetry(ctx context.Context, fn func() error) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = fn(); err == nil {
			return nil
		}
		sleep(ctx, 100*time.Millisecond)
	}
	return err
}

// EnsureUp restarts any instance that is not running (after the faults).
func (c *cluster) EnsureUp(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.proxies {
		c.SetFaults(i, faultproxy.Faults{})
	}
	for i, p := range c.procs {
		if p.cmd == nil {
			if err := p.Restart(ctx); err != nil {
				return fmt.Errorf("server instance %d: %w", i, err)
			}
		}
	}
	return nil
}

// copyDB copies a SQLite database file and its WAL (a file that does not
// exist is removed at the destination).
func copyDB(from, to string) error {
	for _, suf := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suf)
		if errors.Is(err, os.ErrNotExist) {
			os.Remove(to + suf)
			continue
		}
		if err != nil {
			return fmt.Errorf("copy database: %w", err)
		}
		if err := os.WriteFile(to+suf, b, 0o600); err != nil {
			return fmt.Errorf("copy database: %w", err)
		}
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
