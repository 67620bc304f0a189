package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// hub is a site hub of a nemesis run (issue 19, docs/design.md section 9):
// its own outpost-server process on its own SQLite file, enrolled at
// central with a hub code, its link to central through its own fault
// proxy (the nemesis cuts it while the hub's LAN, devices to hub, stays
// up). Devices enroll at it with codes made on its database.
type hub struct {
	idx   int
	proc  *serverProc
	proxy *faultproxy.Proxy
	// code and managerCode enroll devices at this hub.
	code, managerCode string
	// mgr is the hub's settling manager: it decides the conflicts the hub
	// judged (those central does not know: a hub's records are not sent
	// to central yet).
	mgr *device
	// probe is the hub's probe device: it writes only for the on-site
	// probes of the cuts (probeOnSite), read back by mgr.
	probe *device

	// op is held by a kill of the hub and by its healing.
	op sync.Mutex
	// cuts is how many hub-cut faults hold the link down now, drops how
	// many hub-drop faults drop central's answers (they may overlap: each
	// ends when its last window does).
	cutMu       sync.Mutex
	cuts, drops int
}

// cut takes the hub's link to central down (down true) or lets it back up
// when no other cut holds it.
func (h *hub) cut(down bool) { h.setLink(&h.cuts, down) }

// drop drops central's answers to the hub (after central committed) at
// random, or ends that when no other window holds it.
func (h *hub) drop(on bool) { h.setLink(&h.drops, on) }

func (h *hub) setLink(n *int, on bool) {
	h.cutMu.Lock()
	defer h.cutMu.Unlock()
	if on {
		*n++
	} else {
		*n = max(0, *n-1)
	}
	f := faultproxy.Faults{Down: h.cuts > 0}
	if h.drops > 0 {
		f.DropResponseRate = 0.3
	}
	h.proxy.Set(f)
}

// hubUpstreamEvery is the hubs' --upstream-every.
const hubUpstreamEvery = 200 * time.Millisecond

// URL is the hub's address as its devices see it (the LAN: no proxy).
func (h *hub) URL() string { return h.proc.URL() }

// startHubs starts k hubs of site after central (c) is up: a hub code made
// at central for each, the hub serving on its own file with its link
// through its own proxy to a central instance, then the device codes made
// on the hub's database (uses each).
func startHubs(ctx context.Context, bin, dir string, c *cluster, site string, k, uses int) ([]*hub, error) {
	var hubs []*hub
	for i := 0; i < k; i++ {
		hcode, err := enrollCode(ctx, bin, c.db, site, protocol.RoleHub, 1)
		if err != nil {
			return hubs, fmt.Errorf("hub %d: %w", i, err)
		}
		px, err := faultproxy.New(c.procs[i%len(c.procs)].addr)
		if err != nil {
			return hubs, fmt.Errorf("hub %d: %w", i, err)
		}
		addr, err := freeAddr()
		if err != nil {
			px.Close()
			return hubs, err
		}
		db := "sqlite://" + filepath.Join(dir, fmt.Sprintf("hub-%d.db", i))
		h := &hub{idx: i, proxy: px, proc: &serverProc{bin: bin, db: db, addr: addr, logPath: filepath.Join(dir, fmt.Sprintf("hub-%d.log", i)),
			extra: []string{"--upstream", px.URL(), "--upstream-code", hcode, "--upstream-every", hubUpstreamEvery.String()}}}
		hubs = append(hubs, h)
		if err := h.proc.start(ctx); err != nil {
			return hubs, fmt.Errorf("hub %d: %w", i, err)
		}
		if h.code, err = enrollCode(ctx, bin, db, site, protocol.RoleOperator, uses); err != nil {
			return hubs, fmt.Errorf("hub %d: %w", i, err)
		}
		if h.managerCode, err = enrollCode(ctx, bin, db, site, protocol.RoleManager, uses); err != nil {
			return hubs, fmt.Errorf("hub %d: %w", i, err)
		}
	}
	return hubs, nil
}

// closeHubs stops the hubs and their proxies.
func closeHubs(hubs []*hub) {
	for _, h := range hubs {
		h.proxy.Close()
		h.proc.Kill()
	}
}

// kill kills the hub with SIGKILL (a push to central or a device's batch
// in flight has committed or rolls back) and starts it again on the same
// file after down.
func (h *hub) kill(ctx context.Context, down time.Duration) error {
	h.op.Lock()
	defer h.op.Unlock()
	h.proc.Kill()
	sleep(ctx, down)
	return h.proc.Restart(ctx)
}

// ensureUp heals the hub: its link's proxy lets everything through and
// the process runs.
func (h *hub) ensureUp(ctx context.Context) error {
	h.op.Lock()
	defer h.op.Unlock()
	h.cutMu.Lock()
	h.cuts, h.drops = 0, 0
	h.proxy.Set(faultproxy.Faults{})
	h.cutMu.Unlock()
	if h.proc.cmd == nil {
		return h.proc.Restart(ctx)
	}
	return nil
}

// health reads the hub's link state from its /v1/health.
func (h *hub) health(ctx context.Context) (protocol.UpstreamHealth, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a hub that hangs is a lagging hub
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL()+"/v1/health", nil)
	if err != nil {
		return protocol.UpstreamHealth{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return protocol.UpstreamHealth{}, err
	}
	defer resp.Body.Close()
	var body struct {
		Upstream *protocol.UpstreamHealth `json:"upstream"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return protocol.UpstreamHealth{}, fmt.Errorf("hub %d health: %w", h.idx, err)
	}
	if body.Upstream == nil {
		return protocol.UpstreamHealth{}, fmt.Errorf("hub %d health has no upstream part", h.idx)
	}
	return *body.Upstream, nil
}

// waitHubsSynced waits until every hub's link has pushed everything its
// devices wrote (waiting 0) and then finished a whole sync with central
// (push, pull to the end of the feed) after every hub had: so each hub
// holds what every other hub pushed before. An error after timeout says
// which hub lags.
func waitHubsSynced(ctx context.Context, hubs []*hub, timeout time.Duration) error {
	if len(hubs) == 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	ready := func(since int64) error {
		var last error
		for _, h := range hubs {
			hs, err := h.health(ctx)
			switch {
			case err != nil:
				last = err
			case !hs.Up || hs.Waiting > 0:
				last = fmt.Errorf("hub %d: link up %v, %d writes waiting", h.idx, hs.Up, hs.Waiting)
			case hs.LastSync <= since:
				last = fmt.Errorf("hub %d: no whole sync with central since %d (last %d)", h.idx, since, hs.LastSync)
			}
			if last != nil {
				return last
			}
		}
		return nil
	}
	for _, since := range []int64{0, -1} {
		if since < 0 {
			since = time.Now().UnixMilli()
		}
		for {
			err := ready(since)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the hubs did not sync with central within %s: %w", timeout, err)
			}
			sleep(ctx, 50*time.Millisecond)
		}
	}
	return nil
}

// hubSkip is what a hub's manager leaves to central's manager (mgr):
// a record whose owner is null (central's, when records carry an owner),
// or, when they carry none, one central knows (centralOwns).
func hubSkip(ctx context.Context, mgr *device) func(id string, owner json.RawMessage) bool {
	return func(id string, owner json.RawMessage) bool {
		if owner != nil {
			return string(owner) == "null"
		}
		owned, err := centralOwns(ctx, mgr, id)
		return err != nil || owned
	}
}

// centralOwns reports whether central knows conflict record id: a record
// central does not know is the hub's own (a hub's records are not sent to
// central in this version), which the hub's manager decides.
func centralOwns(ctx context.Context, mgr *device, id string) (bool, error) {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := historyRetry(hctx, mgr.cl.API(), protocol.TableConflicts, id)
	var ae *syncclient.APIError
	if errors.As(err, &ae) && ae.Status == 404 {
		return false, nil
	}
	return err == nil && len(h) > 0, err
}

// readState reads a server's state as api's device pulls it (central's,
// or a hub's): every row, and the cursor at the end of the feed.
func readState(ctx context.Context, api *syncclient.API) (map[string]map[string]protocol.PullChange, int64, error) {
	state := map[string]map[string]protocol.PullChange{}
	var cursor int64
	for {
		page, err := pullRetry(ctx, api, cursor)
		if err != nil {
			return nil, 0, err
		}
		for _, ch := range page.Changes {
			if state[ch.Table] == nil {
				state[ch.Table] = map[string]protocol.PullChange{}
			}
			state[ch.Table][ch.ID] = ch
		}
		cursor = page.Cursor
		if !page.HasMore {
			return state, cursor, nil
		}
	}
}

// tierRow renders a row for comparing tiers: every field but
// server_updated_at (each tier stamps its own writes), and the hlc.
func tierRow(ch protocol.PullChange) string {
	r := map[string]any{}
	for k, v := range ch.Row {
		if k != "server_updated_at" {
			r[k] = v
		}
	}
	b, _ := json.Marshal(r)
	return ch.HLC + " " + string(b)
}

// compareTiers counts the rows a hub holds otherwise than central,
// conflict records left out (each tier numbers its own, and a hub's are
// not sent to central yet); a row deleted on one side and absent on the
// other is the same (a tombstone a full pass does not bring).
func compareTiers(h int, hubState, central map[string]map[string]protocol.PullChange, mismatch func(string, ...any)) int {
	n := 0
	for _, tb := range registry.Tables() {
		for id, c := range central[tb.Name] {
			hc, ok := hubState[tb.Name][id]
			if !ok {
				if c.Row["deleted_at"] == nil {
					n++
					mismatch("hub %d lacks %s %s", h, tb.Name, id)
				}
				continue
			}
			if a, b := tierRow(hc), tierRow(c); a != b {
				n++
				mismatch("hub %d: %s %s is %s, central %s", h, tb.Name, id, a, b)
			}
		}
		for id, hc := range hubState[tb.Name] {
			if _, ok := central[tb.Name][id]; !ok && hc.Row["deleted_at"] == nil {
				n++
				mismatch("hub %d has %s %s central does not", h, tb.Name, id)
			}
		}
	}
	return n
}

// onsiteProbes are the results of the on-site visibility probes.
type onsiteProbes struct {
	seen, missed int
	// skipped are probes that could not judge: the hub was down, the
	// cut ended first, the write was refused.
	skipped int
	notes   []string
	// why are the reasons of the skips (printed with -v).
	why []string
}

// probeOnSite is issue 19's "a write on site reached every device on that
// site while the link was down": while hub h's link to central is cut
// (until end), the hub's probe device writes a record and syncs, the hub's
// manager syncs and must hold it, and central must not hold it yet. A
// probe the faults keep from judging (the hub killed meanwhile, the cut
// over before the reads ended) is skipped, not counted.
func (n *Nemesis) probeOnSite(ctx context.Context, h *hub, end time.Time, mgr *device) {
	writer, reader := h.probe, h.mgr
	begin := time.Now()
	skip := func(why string) {
		n.mu.Lock()
		n.onsite.skipped++
		n.onsite.why = append(n.onsite.why, fmt.Sprintf("on-site probe of hub %d skipped after %s (cut left %s at the start): %s",
			h.idx, time.Since(begin).Round(time.Millisecond), end.Sub(begin).Round(time.Millisecond), why))
		n.mu.Unlock()
	}
	if writer == nil || reader == nil {
		skip("no device of the hub to write")
		return
	}
	id, ok := func() (string, bool) {
		writer.op.Lock()
		defer writer.op.Unlock()
		off := writer.net.offline.Load()
		writer.net.offline.Store(false)
		defer writer.net.offline.Store(off)
		var id string
		for try := 0; id == "" && try < 10; try++ {
			// A record's codes are now and then one the lists refuse
			// (the store refuses it, as the check expects): write again.
			var err error
			if id, err = writer.createRecordID(ctx); err != nil {
				return "", false
			}
		}
		if id == "" {
			return "", false
		}
		sctx, cancel := context.WithDeadline(ctx, end)
		defer cancel()
		if err := retry(sctx, 5, writer.sync); err != nil {
			return "", false
		}
		states, err := writer.st.RowStates(ctx, protocol.TableProductionRecords, []string{id})
		return id, err == nil && states[id] == "clean"
	}()
	if !ok {
		skip(fmt.Sprintf("device %d's write did not reach the hub before the cut ended", writer.idx))
		return
	}
	seen, ok := func() (bool, bool) {
		reader.op.Lock()
		defer reader.op.Unlock()
		sctx, cancel := context.WithDeadline(ctx, end)
		defer cancel()
		if err := retry(sctx, 5, reader.sync); err != nil {
			return false, false
		}
		_, err := reader.st.GetRecord(ctx, id)
		return err == nil, true
	}()
	if !ok {
		skip("the hub's manager could not sync before the cut ended")
		return
	}
	// Central, read directly (no device proxy's fault in the way).
	api, err := directAPI(ctx, mgr, n.Cluster.procs[0].URL())
	if err != nil {
		skip(err.Error())
		return
	}
	hctx, cancel := context.WithDeadline(ctx, end)
	versions, herr := historyRetry(hctx, api, protocol.TableProductionRecords, id)
	cancel()
	var ae *syncclient.APIError
	atCentral := herr == nil && len(versions) > 0
	absent := herr == nil && len(versions) == 0 || errors.As(herr, &ae) && ae.Status == 404
	if !atCentral && !absent || time.Now().After(end) {
		skip(fmt.Sprintf("central could not be read (%v), or the cut ended first", herr))
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case !seen:
		n.onsite.missed++
		n.onsite.notes = append(n.onsite.notes, fmt.Sprintf("on site: device %d's record %s, written while hub %d's link was cut, was not on the hub's manager after a sync", writer.idx, id, h.idx))
	case atCentral:
		n.onsite.missed++
		n.onsite.notes = append(n.onsite.notes, fmt.Sprintf("on site: device %d's record %s, written while hub %d's link was cut, was at central before the link came back", writer.idx, id, h.idx))
	default:
		n.onsite.seen++
	}
}

// hubVersions renders the versions of a row's history at hub h that hold
// fields, each with its hlc and its writer (a lost edit's mismatch: an hlc
// that names another device than the writer is a state the hub pushes
// upstream under someone else's hlc).
func hubVersions(ctx context.Context, h *hub, tb protocol.Table, fields map[string]any, table, id string) string {
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	vs, err := historyRetry(hctx, h.mgr.cl.API(), table, id)
	if err != nil {
		return "history unread: " + err.Error()
	}
	var out []string
	for _, v := range vs {
		if fieldsEqual(tb, fields, v.Row) {
			out = append(out, fmt.Sprintf("v%d %s by %.8s", v.Version, v.HLC, v.DeviceID))
		}
	}
	if len(out) == 0 {
		return "in no version"
	}
	return strings.Join(out, " | ")
}
