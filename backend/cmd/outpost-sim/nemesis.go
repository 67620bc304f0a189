package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// Nemesis turns a run into an adversary's run (issue 15): while the
// devices edit, it plays a seeded fault schedule against the server
// processes, the network and the devices (schedule.go lists the kinds),
// and after the last fault it judges the run by counters that must all be
// 0: lost, duplicated, diverged, decisions_overturned, resurrected, stuck,
// unverified and unrepaired (docs/architecture.md, "The simulator as a nemesis").
type Nemesis struct {
	Schedule Schedule
	Cluster  *cluster
	// Devices are the knobs of every device (small pull pages, so that a
	// pull from 0 is a chain of pages as on a large site).
	Devices deviceOptions
	// StuckRounds is how many settling rounds after the last fault a
	// device has to converge in (default 5).
	StuckRounds int
	// StaleAfter is the servers' --stale-after.
	StaleAfter time.Duration
	// Hubs are the run's site hubs (hubs.go), the targets of hub-cut and
	// kill-hub.
	Hubs []*hub

	// restoring is held while a backup or restore fault plays (a
	// restore's reading of the histories included): an enrollment
	// scheduled after it waits for it, and it waits for one under way, or
	// the restored server would not know the device; a corrupt fault
	// waits for it too.
	restoring sync.RWMutex
	// ends are the backups and restores of the schedule, each with a
	// channel closed when it has been played: an enrollment or a corrupt
	// fault first waits for those scheduled before it (afterEarlier). The
	// lock alone did not order them: a restore queued behind a slow backup
	// has not yet announced itself to readers, so when the backup unlocks,
	// an enrollment already waiting for its read lock goes first, and the
	// device enrolls on the server the restore then replaces (seed 62 of
	// the 8deb348 campaign: the schedule moved the enrollment to 100 ms
	// after the restore, the PostgreSQL backup was still running; the
	// restored server answered the device 401).
	ends []scheduledEnd
	// enrolls are the enrollments of the schedule, each with a channel
	// closed when it has been played: a backup first waits for those
	// scheduled before it (afterEarlierEnrolls). Without it, an
	// enrollment whose goroutine reached the lock after the backup's (a
	// loaded machine: 111 ms late) enrolled on the server the backup had
	// already copied, and the restore then brought back a server that did
	// not know the device (seed 78 of the 643a89a campaign: enroll@253,
	// backup@364, restore@1689 on SQLite; 401 for good, stuck 1, 256 rows
	// diverged, unverified).
	enrolls []scheduledEnd

	mu       sync.Mutex
	errs     []error
	enrolled int
	// Counts of the faults played (for the summary).
	deviceKills, clockJumps, upgrades, decideRounds, corruptions int
	// corruptSkipped are corrupt faults not played: the device could not
	// verify first.
	corruptSkipped int
	// hubCuts and hubKills are the hub faults played; onsite the on-site
	// visibility probes of the cuts (hubs.go).
	hubCuts, hubKills, hubDrops int
	onsite                      onsiteProbes
}

// NemesisStats are the faults a run played, in its summary.
type NemesisStats struct {
	Store       string `json:"store"`
	Instances   int    `json:"instances"`
	ServerKills int    `json:"server_kills"`
	Restores    int    `json:"restores"`
	// RestoresUnmarked are the restores nobody marked with
	// `outpost-server restored` (the schedule said so, or the server has
	// no such command).
	RestoresUnmarked int `json:"restores_unmarked"`
	DeviceKills      int `json:"device_kills"`
	ClockJumps       int `json:"clock_jumps"`
	Enrolled         int `json:"enrolled_mid_run"`
	Upgrades         int `json:"upgrades"`
	Decisions        int `json:"decisions"`
	// Corruptions are the corrupt faults played (the rows: Summary.Corrupted).
	Corruptions int `json:"corruptions"`
	// CorruptSkipped are corrupt faults skipped: the device could not
	// verify first (so the server may lack a write only its file holds).
	CorruptSkipped int `json:"corruptions_skipped"`
	NetworkFaults  int `json:"network_faults"`
	// HubCuts, HubKills and HubDrops are the hub faults played (issue 19).
	HubCuts  int    `json:"hub_cuts,omitempty"`
	HubKills int    `json:"hub_kills,omitempty"`
	HubDrops int    `json:"hub_drops,omitempty"`
	Faults   string `json:"faults"`
}

// scheduledEnd is a backup or restore of the schedule and the channel
// closed when it has been played.
type scheduledEnd struct {
	at   time.Duration
	done chan struct{}
}

// afterEarlier waits until every backup and restore scheduled before at
// has been played (or ctx ends), then takes the read side of restoring, so
// that one scheduled later waits for this fault in turn; the caller calls
// the returned func when done.
func (n *Nemesis) afterEarlier(ctx context.Context, at time.Duration) (release func()) {
	n.afterEarlierEnds(ctx, at)
	n.restoring.RLock()
	return n.restoring.RUnlock
}

// afterEarlierEnds waits until every backup and restore scheduled before
// at has been played (or ctx ends).
func (n *Nemesis) afterEarlierEnds(ctx context.Context, at time.Duration) {
	for _, e := range n.ends {
		if e.at < at {
			select {
			case <-e.done:
			case <-ctx.Done():
			}
		}
	}
}

// lockForBackup takes restoring for a backup scheduled at at, once the
// enrollments scheduled before it (a backup scheduled after an enrollment
// copies a server that knows the device: seed 2019, and seed 78 of
// 643a89a, whose enrollment's goroutine was late to the lock) and the
// backups and restores scheduled before it have been played.
func (n *Nemesis) lockForBackup(ctx context.Context, at time.Duration) (unlock func()) {
	n.afterEarlierEnrolls(ctx, at)
	n.afterEarlierEnds(ctx, at)
	n.restoring.Lock()
	return n.restoring.Unlock
}

// lockForRestore takes restoring for a restore scheduled at at, once the
// backups and restores scheduled before it have been played: a backup
// waiting for an enrollment held back by a partition let the restore
// scheduled after it go first, with no backup to restore (seed 1082 of
// the 848956c campaign: enroll@1003 in partition@857/1111, backup@1343,
// restore@1892: "restore: no backup was taken").
func (n *Nemesis) lockForRestore(ctx context.Context, at time.Duration) (unlock func()) {
	n.afterEarlierEnds(ctx, at)
	n.restoring.Lock()
	return n.restoring.Unlock
}

// afterEarlierEnrolls waits until every enrollment scheduled before at has
// been played (or ctx ends): a backup scheduled after an enrollment copies
// a server that knows the device.
func (n *Nemesis) afterEarlierEnrolls(ctx context.Context, at time.Duration) {
	for _, e := range n.enrolls {
		if e.at < at {
			select {
			case <-e.done:
			case <-ctx.Done():
			}
		}
	}
}

func (n *Nemesis) fail(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.errs = append(n.errs, err)
}

// run plays the schedule from now on, while the devices edit; it returns
// when every fault has been played and undone, with the devices that
// enrolled meanwhile added to devs.
func (n *Nemesis) run(ctx context.Context, cfg Config, devs []*device, mgr *device, start func(*device, int, Config)) ([]*device, error) {
	begin := time.Now()
	var wg sync.WaitGroup
	var devMu sync.Mutex
	deviceAt := func(i int) *device {
		devMu.Lock()
		defer devMu.Unlock()
		return devs[i%len(devs)]
	}
	everyDevice := func() []*device {
		devMu.Lock()
		defer devMu.Unlock()
		return append(append([]*device{}, devs...), mgr)
	}
	n.ends, n.enrolls = nil, nil
	ends := make([]chan struct{}, len(n.Schedule))
	for i, f := range n.Schedule {
		switch f.Kind {
		case faultBackup, faultRestore:
			ends[i] = make(chan struct{})
			n.ends = append(n.ends, scheduledEnd{at: f.At, done: ends[i]})
		case faultEnroll:
			ends[i] = make(chan struct{})
			n.enrolls = append(n.enrolls, scheduledEnd{at: f.At, done: ends[i]})
		}
	}
	for i, f := range n.Schedule {
		sleep(ctx, time.Until(begin.Add(f.At)))
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ends[i] != nil {
				defer close(ends[i])
			}
			if err := n.play(ctx, f, cfg, deviceAt, everyDevice, mgr, func() error {
				n.mu.Lock()
				n.enrolled++
				idx := cfg.Devices + n.enrolled
				n.mu.Unlock()
				d, err := cfg.newDevice(ctx, idx, false)
				if err != nil {
					return err
				}
				devMu.Lock()
				devs = append(devs, d)
				devMu.Unlock()
				left := cfg.Duration - time.Since(begin)
				c := cfg
				c.Duration = max(0, left)
				start(d, max(1, cfg.Edits/cfg.Devices/2), c)
				return nil
			}); err != nil {
				n.fail(fmt.Errorf("fault %s: %w", f, err))
			}
		}()
	}
	wg.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	devMu.Lock()
	defer devMu.Unlock()
	if len(n.errs) > 0 {
		return devs, n.errs[0]
	}
	return devs, nil
}

// play plays one fault.
func (n *Nemesis) play(ctx context.Context, f Fault, cfg Config, deviceAt func(int) *device, everyDevice func() []*device, mgr *device,
	enroll func() error) error {
	c := n.Cluster
	window := func(faults faultproxy.Faults) {
		c.SetFaults(f.Target, faults)
		sleep(ctx, time.Duration(f.Arg)*time.Millisecond)
		c.SetFaults(f.Target, faultproxy.Faults{})
	}
	switch f.Kind {
	case faultPartition:
		window(faultproxy.Faults{Down: true})
	case faultDelay:
		window(faultproxy.Faults{Latency: time.Duration(5+f.Arg%16) * time.Millisecond})
	case faultReset:
		window(faultproxy.Faults{ResetRate: 0.2})
	case faultDrop:
		window(faultproxy.Faults{DropResponseRate: 0.3})
	case faultKillServer:
		return c.KillServer(ctx, f.Target, time.Duration(f.Arg)*time.Millisecond)
	case faultBackup:
		// After an enrollment under way: one that ends after the backup
		// is unknown to the server a restore brings back (seed 2019);
		// and after one scheduled earlier whose goroutine is late to
		// the lock (seed 78 of 643a89a); see lockForBackup.
		defer n.lockForBackup(ctx, f.At)()
		return c.Backup(ctx)
	case faultRestore:
		// The restore truncates the histories the lost-edit check reads:
		// what they hold when the servers stop for it is kept as evidence
		// (keepHistories), read with the devices' network held.
		defer n.lockForRestore(ctx, f.At)()
		return c.Restore(ctx, f.Arg == 1, func(ctx context.Context, heldAt time.Time, server string) {
			api, err := directAPI(ctx, mgr, server)
			if err != nil {
				n.fail(fmt.Errorf("fault %s: the histories before the restore: %w", f, err))
				return
			}
			keepHistories(ctx, api, everyDevice(), heldAt)
		})
	case faultKillDevice:
		d := deviceAt(f.Target)
		d.op.Lock()
		defer d.op.Unlock()
		switch f.Arg {
		case killMidPush:
			// Enough pending rows for several batches.
			for i := 0; i < 60; i++ {
				if err := d.createRecord(ctx); err != nil {
					return err
				}
			}
		default:
			// Asleep a while, so that there is something to catch up on.
			sleep(ctx, 700*time.Millisecond)
		}
		n.mu.Lock()
		n.deviceKills++
		n.mu.Unlock()
		return d.crash(ctx, int(f.Arg), time.Duration(30+d.rng.IntN(400))*time.Millisecond)
	case faultClockAhead, faultClockBack:
		d := deviceAt(f.Target)
		jump := f.Arg
		if f.Kind == faultClockBack {
			jump = -jump
		}
		d.clock.Store(jump)
		n.mu.Lock()
		n.clockJumps++
		n.mu.Unlock()
	case faultEnroll:
		defer n.afterEarlier(ctx, f.At)()
		return enroll()
	case faultUpgrade:
		d := deviceAt(f.Target)
		d.op.Lock()
		defer d.op.Unlock()
		n.mu.Lock()
		n.upgrades++
		n.mu.Unlock()
		return d.upgrade(ctx)
	case faultCorrupt:
		// After a restore that started before it (its reading of the
		// histories can take a while): the device must sync past it first.
		defer n.afterEarlier(ctx, f.At)()
		d := deviceAt(f.Target)
		d.op.Lock()
		defer d.op.Unlock()
		// Only a device that holds what the server holds: a clean row is
		// the only copy of its write while the server has lost it (a
		// restore the device has not synced past yet), and a corrupted
		// file then loses it for good, which no repair can undo. So the
		// device first syncs and verifies, with no restore meanwhile
		// (the cluster's lock), or the corruption is skipped.
		played, err := func() (bool, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.backedUp && n.restoreAfter(f.At) {
				// A row written since the backup and deleted from the
				// file now would be lost by the coming restore too: two
				// losses of the only copies no sync can undo.
				return false, nil
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			verr := retry(sctx, 3, d.sync)
			cancel()
			if v := d.cl.Status(ctx).Verify; verr != nil || v.Problem != "" || v.Cursor == 0 {
				return false, nil
			}
			// Its own stream, so that the rows picked do not move the
			// device's edits (and a replay picks the same ones from the
			// same file).
			rng := rand.New(rand.NewPCG(uint64(f.At.Milliseconds()), uint64(f.Target)))
			d.mu.Lock()
			rep := d.lastSync
			d.mu.Unlock()
			verified := d.cl.Status(ctx).Verify.Cursor
			done, err := d.corrupt(ctx, rng, int(f.Arg))
			// A clean row the device held after a verified sync that the
			// server does not have was the only copy of its write: its
			// loss is the sync's, not the corruption's.
			for _, r := range done {
				if r.kind != corruptDelete {
					continue
				}
				hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, herr := historyRetry(hctx, mgr.cl.API(), r.table, r.id)
				cancel()
				var ae *syncclient.APIError
				if errors.As(herr, &ae) && ae.Status == 404 {
					d.mu.Lock()
					d.notes = append(d.notes, fmt.Sprintf("device %d held %s %s clean after a sync that verified at cursor %d (verified %v, timeline changed %v), the server does not have it (corrupt fault deleted it at %s)",
						d.idx, r.table, r.id, verified, rep.Verify.Verified, rep.TimelineChanged, time.Now().UTC().Format("15:04:05.000")))
					d.mu.Unlock()
				}
			}
			return true, err
		}()
		n.mu.Lock()
		if played {
			n.corruptions++
		} else {
			n.corruptSkipped++
		}
		n.mu.Unlock()
		return err
	case faultDecide:
		n.mu.Lock()
		n.decideRounds++
		n.mu.Unlock()
		for _, h := range n.Hubs {
			// Each hub's manager decides the records its hub judged.
			func() {
				hm := h.mgr
				hm.op.Lock()
				defer hm.op.Unlock()
				if err := retry(ctx, 3, hm.sync); err != nil {
					return // the hub is down: decide next time
				}
				resolveOpenAt(ctx, hm, hubSkip(ctx, mgr))
			}()
		}
		mgr.op.Lock()
		defer mgr.op.Unlock()
		if err := retry(ctx, 3, mgr.sync); err != nil {
			return nil // the server is down or partitioned: decide next time
		}
		if _, err := resolveOpen(ctx, mgr); err != nil && ctx.Err() == nil {
			return nil // refused under faults: the settling rounds decide again
		}
	case faultHubCut:
		h := n.Hubs[f.Target%len(n.Hubs)]
		n.mu.Lock()
		n.hubCuts++
		n.mu.Unlock()
		h.cut(true)
		end := time.Now().Add(time.Duration(f.Arg) * time.Millisecond)
		n.probeOnSite(ctx, h, end, mgr)
		sleep(ctx, time.Until(end))
		h.cut(false)
	case faultHubDrop:
		h := n.Hubs[f.Target%len(n.Hubs)]
		n.mu.Lock()
		n.hubDrops++
		n.mu.Unlock()
		h.drop(true)
		sleep(ctx, time.Duration(f.Arg)*time.Millisecond)
		h.drop(false)
	case faultKillHub:
		h := n.Hubs[f.Target%len(n.Hubs)]
		n.mu.Lock()
		n.hubKills++
		n.mu.Unlock()
		return h.kill(ctx, time.Duration(f.Arg)*time.Millisecond)
	}
	return nil
}

// afterFaults undoes what faults left behind: every server instance runs,
// no proxy injects anything. The settling rounds start after it.
func (n *Nemesis) afterFaults(ctx context.Context) error {
	if err := n.Cluster.EnsureUp(ctx); err != nil {
		return err
	}
	for _, h := range n.Hubs {
		if err := h.ensureUp(ctx); err != nil {
			return fmt.Errorf("hub %d: %w", h.idx, err)
		}
	}
	return nil
}

// Stats are the faults played.
func (n *Nemesis) Stats() NemesisStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.Cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	net := 0
	for _, f := range n.Schedule {
		switch f.Kind {
		case faultPartition, faultDelay, faultReset, faultDrop:
			net++
		}
	}
	return NemesisStats{Store: c.kind, Instances: len(c.procs), ServerKills: c.kills, Restores: c.restores, RestoresUnmarked: c.unmarked,
		DeviceKills: n.deviceKills, ClockJumps: n.clockJumps, Enrolled: n.enrolled, Upgrades: n.upgrades, Decisions: n.decideRounds,
		Corruptions: n.corruptions, CorruptSkipped: n.corruptSkipped, NetworkFaults: net, HubCuts: n.hubCuts, HubKills: n.hubKills, HubDrops: n.hubDrops,
		Faults: n.Schedule.String()}
}

// fingerprint is a digest of a device's synced rows but its clean
// tombstones: id, version, hlc and state of each (equal to the server's
// fingerprint when the device holds exactly the server's live rows, all
// clean).
func (d *device) fingerprint(ctx context.Context) (string, error) {
	var lines []string
	for _, tb := range registry.Tables() {
		rows, err := d.st.DumpTable(ctx, tb.Name)
		if err != nil {
			return "", err
		}
		for id, r := range rows {
			if r.Row["deleted_at"] != nil && r.State == "clean" {
				continue // tombstones come and go with retention
			}
			lines = append(lines, fmt.Sprintf("%s/%s %d %s %s", tb.Name, id, r.Version, r.HLC, r.State))
		}
	}
	return digest(lines), nil
}

// serverFingerprint is the fingerprint a converged device has.
func serverFingerprint(server map[string]map[string]protocol.PullChange) string {
	var lines []string
	for _, tb := range registry.Tables() {
		table, rows := tb.Name, server[tb.Name]
		for id, ch := range rows {
			if ch.Row["deleted_at"] != nil {
				continue
			}
			lines = append(lines, fmt.Sprintf("%s/%s %d %s clean", table, id, ch.Version, ch.HLC))
		}
	}
	return digest(lines)
}

func digest(lines []string) string {
	sort.Strings(lines)
	if dbg := os.Getenv("OUTPOST_SIM_DEBUG_FP"); dbg != "" {
		os.WriteFile(fmt.Sprintf("%s-%d", dbg, time.Now().UnixNano()), []byte(strings.Join(lines, "\n")), 0o600)
	}
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:8])
}

// restoreAfter reports whether the schedule restores a backup after at.
func (n *Nemesis) restoreAfter(at time.Duration) bool {
	for _, f := range n.Schedule {
		if f.Kind == faultRestore && f.At > at {
			return true
		}
	}
	return false
}

func (n *Nemesis) stuckRounds() int {
	if n.StuckRounds > 0 {
		return n.StuckRounds
	}
	return 5
}

// judge adds the nemesis's counters to sum (after check read the server):
// stuck devices and overturned decisions.
func (n *Nemesis) judge(ctx context.Context, sum *Summary, devs []*device, mgr *device) error {
	st := n.Stats()
	sum.Nemesis = &st
	n.mu.Lock()
	sum.OnSiteSeen, sum.OnSiteMissed = n.onsite.seen, n.onsite.missed
	if sum.progress != nil {
		for _, w := range n.onsite.why {
			fmt.Fprintln(sum.progress, "outpost-sim:", w)
		}
	}
	for _, m := range n.onsite.notes {
		if len(sum.Mismatches) < 20 {
			sum.Mismatches = append(sum.Mismatches, m)
		}
	}
	n.mu.Unlock()
	all := append(append([]*device{}, devs...), mgr)
	sum.Devices = 0
	for _, d := range devs {
		if !d.hubManager && !d.hubProbe {
			sum.Devices++
		}
	}

	// Stuck: not holding exactly the server's rows (its hub's, for a
	// device of a hub) after any of the first stuckRounds settling rounds.
	wants := []string{serverFingerprint(sum.server)}
	for _, st := range sum.tiers[min(1, len(sum.tiers)):] {
		wants = append(wants, serverFingerprint(st))
	}
	for _, d := range all {
		want := wants[d.tier]
		ok := false
		for r, fp := range d.settleFP {
			if r >= n.stuckRounds() {
				break
			}
			if fp == want {
				ok = true
				break
			}
		}
		if !ok {
			sum.Stuck++
			msg := fmt.Sprintf("device %d did not converge within %d settling rounds", d.idx, n.stuckRounds())
			if d.settleErr != nil {
				msg += ": " + d.settleErr.Error()
			}
			// First: it says the most about the rows that follow.
			sum.Mismatches = append([]string{msg}, sum.Mismatches[:min(len(sum.Mismatches), 24)]...)
		}
	}

	if sum.Lost > 0 {
		// When the restores came, to place the lost edits' times.
		n.Cluster.mu.Lock()
		for _, r := range n.Cluster.rewinds {
			sum.Mismatches = append(sum.Mismatches, fmt.Sprintf("backup at %s, restored at %s",
				r[0].UTC().Format("15:04:05.000"), r[1].UTC().Format("15:04:05.000")))
		}
		n.Cluster.mu.Unlock()
	}

	// Overturned: the row's last decision chose one side of a field; the
	// server now holds the other side's value, and no edit explains it
	// (overturnExplained).
	ids := map[string]int{}
	for _, d := range all {
		ids[d.cl.Status(ctx).DeviceID] = d.idx
	}
	last := map[string]decision{}
	decisions := append([]decision{}, mgr.decisions...)
	decidedAt := map[string]*device{} // a hub decision's hlc: its hub's manager
	for _, d := range devs {
		if d.hubManager {
			// A hub's manager decides the records its hub judged: a
			// later decision, on another tier (its version is the hub's:
			// decisions of several tiers are ordered by time).
			decisions = append(decisions, d.decisions...)
			for _, dc := range d.decisions {
				decidedAt[dc.hlc] = d
			}
		}
	}
	for _, dc := range decisions {
		if n.Cluster.rewound(dc.at) {
			continue // the restore took it back with everything after the backup
		}
		prev, ok := last[dc.rowID]
		if !ok || len(n.Hubs) == 0 && dc.version > prev.version || len(n.Hubs) > 0 && dc.at.After(prev.at) {
			last[dc.rowID] = dc
		}
	}
	tb, _ := registry.Lookup(protocol.TableLineConfigs)
	for _, dc := range last {
		if dc.table != protocol.TableLineConfigs {
			continue
		}
		unknown := false
		for _, u := range mgr.unknownDecisions {
			if u.rowID == dc.rowID && u.at.After(dc.at) {
				unknown = true // a later resolution whose answer was lost
			}
		}
		if unknown {
			continue
		}
		row, ok := sum.server[dc.table][dc.rowID]
		if !ok {
			continue
		}
		for _, col := range tb.Columns {
			if !col.People || col.Name == "updated_at" || col.Name == "created_at" || col.Name == "updated_by" {
				continue
			}
			if sameValue(tb, col.Name, dc.chosen[col.Name], dc.rejected[col.Name]) ||
				!sameValue(tb, col.Name, row.Row[col.Name], dc.rejected[col.Name]) {
				continue
			}
			edits := map[int][]cfgEdit{}
			pushes := map[int][]pushAnswer{}
			for _, d := range all {
				d.mu.Lock()
				edits[d.idx] = d.cfgEdits
				pushes[d.idx] = d.pushes[dc.table+"/"+dc.rowID]
				d.mu.Unlock()
			}
			cidx, known := ids[dc.device]
			if !known {
				cidx = -1
			}
			explained := overturnExplained(tb, dc, col.Name, row.Row[col.Name], cidx, edits, pushes)
			if hm := decidedAt[dc.hlc]; !explained && hm != nil {
				// A site manager's decision another tier's manager
				// decided otherwise at the same time.
				hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				hist, err := historyRetry(hctx, hm.cl.API(), dc.table, dc.rowID)
				cancel()
				var others []decision // central's and the other hubs'
				for _, o := range decisions {
					if decidedAt[o.hlc] != hm {
						others = append(others, o)
					}
				}
				if err == nil && concurrentElsewhere(tb, dc, col.Name, row.Row[col.Name], others, hist) {
					explained = true
					sum.ConcurrentDecisions++
				}
			}
			if !explained {
				if os.Getenv("OUTPOST_SIM_DEBUG_DECISIONS") != "" && sum.progress != nil {
					n.dumpDecision(ctx, sum.progress, dc, col.Name, all, ids, mgr)
				}
				sum.DecisionsOverturned++
				if len(sum.Mismatches) < 20 {
					sum.Mismatches = append(sum.Mismatches, fmt.Sprintf("decision on %s %s (version %d) overturned: %s = %v, decided %v",
						dc.table, dc.rowID, dc.version, col.Name, row.Row[col.Name], dc.chosen[col.Name]))
				}
			}
		}
	}
	return nil
}

// dumpDecision prints what the simulator knows of an overturned decision's
// row (OUTPOST_SIM_DEBUG_DECISIONS=1, with -v): the row's decisions, the
// devices' edits of the field, the push ledger's answers and the server's
// history, each with its device's index.
func (n *Nemesis) dumpDecision(ctx context.Context, w io.Writer, dc decision, field string, all []*device, ids map[string]int, mgr *device) {
	idx := func(id string) string {
		if i, ok := ids[id]; ok {
			return fmt.Sprintf("d%d", i)
		}
		return id
	}
	ms := func(t time.Time) string { return t.UTC().Format("15:04:05.000") }
	fmt.Fprintf(w, "debug: overturned %s %s: decision v%d at %s on %s's conflict, %s chosen %v rejected %v\n",
		dc.table, dc.rowID, dc.version, ms(dc.at), idx(dc.device), field, dc.chosen[field], dc.rejected[field])
	for _, o := range mgr.decisions {
		if o.rowID == dc.rowID {
			fmt.Fprintf(w, "debug:   decision v%d at %s on %s's conflict: chosen %v rejected %v rewound %v\n",
				o.version, ms(o.at), idx(o.device), o.chosen[field], o.rejected[field], n.Cluster.rewound(o.at))
		}
	}
	for _, u := range mgr.unknownDecisions {
		if u.rowID == dc.rowID {
			fmt.Fprintf(w, "debug:   resolution without answer at %s\n", ms(u.at))
		}
	}
	n.Cluster.mu.Lock()
	for _, r := range n.Cluster.rewinds {
		fmt.Fprintf(w, "debug:   backup at %s, restored at %s\n", ms(r[0]), ms(r[1]))
	}
	n.Cluster.mu.Unlock()
	for _, d := range all {
		d.mu.Lock()
		for _, e := range d.cfgEdits {
			if e.id == dc.rowID {
				fmt.Fprintf(w, "debug:   edit d%d at %s %s = %v hlc %s\n", d.idx, ms(e.at), e.field, e.value, e.hlc)
			}
		}
		for _, a := range d.pushes[dc.table+"/"+dc.rowID] {
			fmt.Fprintf(w, "debug:   push d%d sent %s hlc %s %s v%d %s = %v\n", d.idx, ms(a.Sent), a.HLC, a.Status, a.Version, field, a.Row[field])
		}
		d.mu.Unlock()
	}
	h, err := mgr.cl.API().History(ctx, dc.table, dc.rowID)
	if err != nil {
		fmt.Fprintf(w, "debug:   history: %v\n", err)
	}
	for _, v := range h {
		fmt.Fprintf(w, "debug:   history v%d by %s hlc %s %s = %v\n", v.Version, idx(v.DeviceID), v.HLC, field, v.Row[field])
	}
}

// overturnExplained reports whether an edit explains that the server holds
// value, the side decision dc rejected, in field: the edit is a new write,
// judged as usual, not the decision overturned. cidx is the index of the
// conflict's device (-1 when unknown), edits and pushes each device's
// edits of line configurations and its push ledger's answers for the row.
// An edit of the field to that value explains it when it was made
//   - after the decision, by any device;
//   - by another device than the conflict's, after the edit that lost;
//   - by another device than the conflict's, before the decision, and the
//     decision could not have seen it: no answer of that device sent
//     before the decision carries the edit (an hlc at or after the
//     edit's), and an answer sent after the decision does, at a version
//     after the decision's, with the row there holding the value. The
//     server three-way merged that write against the base it was made
//     on, like any write a decision did not see (seed 136 of the efb90d4
//     campaign: device 10 set the target rate 0 on a row whose rate was
//     empty, offline; device 6's edit to 0 then met a conflict, the
//     manager kept empty, and device 10's push, merged after the decision,
//     set 0: the decision had not changed the rate since device 10's
//     base).
//
// An old edit the server held before the decision explains nothing (a
// write of the losing value arriving again after a restore must not hide,
// issue 15's defect 3); neither does an edit whose answer was lost (the
// ledger cannot place it), nor one of the conflict's device before the
// decision.
func overturnExplained(tb protocol.Table, dc decision, field string, value any, cidx int, edits map[int][]cfgEdit, pushes map[int][]pushAnswer) bool {
	// t0: when the conflict's device made the edit that lost.
	var t0 time.Time
	for _, e := range edits[cidx] {
		if cidx >= 0 && e.id == dc.rowID && e.field == field && e.at.Before(dc.at) &&
			sameValue(tb, field, e.value, dc.rejected[field]) && e.at.After(t0) {
			t0 = e.at
		}
	}
	for idx, es := range edits {
		for _, e := range es {
			if e.id != dc.rowID || e.field != field || !sameValue(tb, field, e.value, value) {
				continue
			}
			if e.at.After(dc.at) {
				return true
			}
			if idx == cidx {
				continue
			}
			if e.at.After(t0) || unseenByDecision(tb, dc, field, value, e, pushes[idx]) {
				return true
			}
		}
	}
	return false
}

// unseenByDecision reports whether the device's ledger shows that its edit
// e reached the server only after decision dc: no answer sent before the
// decision names e's hlc or a later one of the row, and one sent after it
// does, at a version after the decision's, the row there holding value.
func unseenByDecision(tb protocol.Table, dc decision, field string, value any, e cfgEdit, answers []pushAnswer) bool {
	if e.hlc == "" {
		return false
	}
	after := false
	for _, a := range answers {
		if a.HLC < e.hlc || a.Status == protocol.StatusRejected {
			continue // an earlier write of the row, or none
		}
		if !a.Sent.After(dc.at) {
			return false // the server may have held it when deciding
		}
		if a.Version > dc.version && sameValue(tb, field, a.Row[field], value) {
			after = true
		}
	}
	return after
}

// concurrentElsewhere reports whether a site manager's decision dc (made
// at a hub, hubHistory the row's history there) that central now holds the
// rejected value of in field (value) met a decision of another tier's
// manager (central's, another hub's) it could not have seen: made before
// it, choosing that value, and not yet on dc's hub when its manager
// decided (no hub version before dc's carries that decision's stamp). The
// two managers decided the row at the same time on two tiers; central
// judged the later one, which changed nothing of the field on its own
// tier's state, three-way against the first, which stands: a decision,
// not an edit, explains the value (seed 288 of the hub campaign, and seed
// 256 before the hubs rebased their writes).
func concurrentElsewhere(tb protocol.Table, dc decision, field string, value any, others []decision, hubHistory []syncclient.HistoryEntry) bool {
	for _, c := range others {
		if c.table != dc.table || c.rowID != dc.rowID || !c.at.Before(dc.at) || !sameValue(tb, field, c.chosen[field], value) {
			continue
		}
		seen := false
		for _, v := range hubHistory {
			if v.HLC == c.hlc && v.Version < dc.version {
				seen = true
				break
			}
		}
		if !seen {
			return true
		}
	}
	return false
}
