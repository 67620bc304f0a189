package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// settle brings every device online and syncs in rounds until a whole round
// pushes nothing: then every device has pulled the final state. Between
// rounds the manager resolves open conflicts and quarantined rows are
// discarded (docs/design.md invariant 3: "once conflicts and quarantined rows are
// settled").
func settle(ctx context.Context, cfg Config, devs []*device, mgr *device) error {
	all := append(append([]*device{}, devs...), mgr)
	for _, d := range all {
		d.net.offline.Store(false)
	}
	nem := cfg.Nemesis
	rounds := 15
	if nem != nil {
		rounds = nem.stuckRounds() + 5
	}
	for round := 0; round < rounds; round++ {
		moved := false
		if len(cfg.Hubs) > 0 {
			// What the last round wrote crosses the tiers first: every hub
			// pushed it to central and pulled the others' after.
			if err := waitHubsSynced(ctx, cfg.Hubs, 60*time.Second); err != nil {
				if nem == nil {
					return fmt.Errorf("settle: %w", err)
				}
				moved = true
				if cfg.Progress != nil {
					fmt.Fprintf(cfg.Progress, "outpost-sim: settle round %d: %v\n", round, err)
				}
			}
		}
		for _, d := range all {
			before := d.report.Batches
			if nem != nil {
				// A device that cannot sync is judged (stuck), not fatal;
				// one already past the rounds it had is left alone.
				if d.settleErr != nil && round >= nem.stuckRounds() {
					continue
				}
				sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				d.settleErr = retry(sctx, 4, d.sync)
				cancel()
				if d.settleErr != nil {
					moved = true
				}
			} else if err := retry(ctx, 40, d.sync); err != nil {
				return fmt.Errorf("settle: device %d: %w", d.idx, err)
			}
			if d.report.Batches != before {
				moved = true
			}
		}
		n, err := resolveOpen(ctx, mgr)
		for _, h := range cfg.Hubs {
			// Each hub's manager decides the records its hub judged.
			hn, herr := resolveOpenAt(ctx, h.mgr, hubSkip(ctx, mgr))
			n += hn
			if err == nil {
				err = herr
			}
		}
		if err != nil && nem == nil {
			return fmt.Errorf("settle: resolve: %w", err)
		}
		if err != nil {
			moved = true
		}
		for _, d := range all {
			q, err := d.cl.Quarantine(ctx)
			if err != nil {
				return err
			}
			for _, r := range q {
				if err := d.cl.Discard(ctx, r.Table, r.ID); err != nil {
					return fmt.Errorf("settle: discard %s: %w", r.ID, err)
				}
				d.mu.Lock()
				d.discarded[r.Table+"/"+r.ID] = true
				if strings.HasPrefix(r.Reason, protocol.CodeForbidden+":") {
					d.forbidden[r.Table+"/"+r.ID] = true
				}
				d.mu.Unlock()
				n++
			}
		}
		if n > 0 {
			moved = true
		}
		if nem != nil {
			for _, d := range all {
				fp, err := d.fingerprint(ctx)
				if err != nil {
					return fmt.Errorf("settle: device %d: %w", d.idx, err)
				}
				d.settleFP = append(d.settleFP, fp)
			}
		}
		if !moved && round > 0 {
			return nil
		}
	}
	return nil
}

// conflictRecord is the part of a pulled conflict record the simulator reads.
type conflictRecord struct {
	TableName  string         `json:"table_name"`
	RowID      string         `json:"row_id"`
	Status     string         `json:"status"`
	Mine       map[string]any `json:"mine"`
	Theirs     map[string]any `json:"theirs"`
	RowVersion int64          `json:"row_version"`
	// TheirsVersion is the version of theirs, the server's state the
	// conflicting push met.
	TheirsVersion int64  `json:"theirs_version"`
	DeviceID      string `json:"device_id"`
}

// decision is a conflict the settling manager decided: the side it chose,
// the side it did not, the version its resolution wrote.
type decision struct {
	table, rowID, device string
	chosen, rejected     map[string]any
	version              int64
	// hlc is the resolution's hlc, the manager's: the version the
	// decision wrote carries the chosen side under it (carriers).
	hlc string
	// theirsVersion is the version of the conflict's theirs (the server's
	// state the push met); rejectedTheirs says the manager chose mine,
	// knowingly replacing that state.
	theirsVersion  int64
	rejectedTheirs bool
	at             time.Time
}

// resolveOpen has the manager decide every open conflict it has pulled,
// mine or theirs at random. It returns how many it resolved.
func resolveOpen(ctx context.Context, mgr *device) (int, error) {
	return resolveOpenAt(ctx, mgr, nil)
}

// resolveOpenAt is resolveOpen leaving out the records skip names (a hub's
// manager leaves central's records to central's manager), given each
// record's id and its owner (nil when the record has no owner field). A
// record answered 409 resolve_at_owner is another tier's: left alone.
func resolveOpenAt(ctx context.Context, mgr *device, skip func(id string, owner json.RawMessage) bool) (int, error) {
	cs, err := mgr.st.Conflicts(ctx, true)
	if err != nil {
		return 0, err
	}
	if skip != nil {
		kept := cs[:0]
		for _, c := range cs {
			var o struct {
				Owner json.RawMessage `json:"owner"`
			}
			json.Unmarshal(c.Record, &o)
			if !skip(c.ID, o.Owner) {
				kept = append(kept, c)
			}
		}
		cs = kept
	}
	api := mgr.cl.API()
	node := mgr.cl.Status(ctx).DeviceID
	// The version each row reached with the resolutions made here: the next
	// conflict of the same row is decided on it (no stale_base round trip).
	latest := map[string]int64{}
	n := 0
	for i, c := range cs {
		var rec conflictRecord
		if err := json.Unmarshal(c.Record, &rec); err != nil {
			return n, err
		}
		chosen, rejected := rec.Theirs, rec.Mine
		rejectedTheirs := false
		if mgr.rng.IntN(2) == 0 {
			chosen, rejected = rec.Mine, rec.Theirs
			rejectedTheirs = true
		}
		raw, _ := json.Marshal(chosen)
		base := max(rec.RowVersion, latest[rec.RowID])
		for try := 0; try < 5; try++ {
			h := hlc.Timestamp{Wall: time.Now().UnixMilli(), Counter: i % 99999, Node: node}
			var resp protocol.ResolveResponse
			resp, err = api.Resolve(ctx, c.ID, protocol.ResolveRequest{Row: raw, HLC: h.String(), BaseVersion: &base})
			if err == nil {
				latest[rec.RowID] = resp.Version
				mgr.mu.Lock()
				mgr.decisions = append(mgr.decisions, decision{table: rec.TableName, rowID: rec.RowID, device: rec.DeviceID,
					chosen: chosen, rejected: rejected, version: resp.Version, hlc: h.String(),
					theirsVersion: rec.TheirsVersion, rejectedTheirs: rejectedTheirs, at: time.Now()})
				mgr.mu.Unlock()
				// As the app does (syncclient's sendOne): the accepted
				// decision is the manager's own write at once, so that a
				// restore before its pull does not lose it (seed 3 of the
				// f430ea6 campaign).
				row, derr := protocol.DecodeRow(raw)
				if derr != nil {
					return n, fmt.Errorf("resolve %s: %w", c.ID, derr)
				}
				if aerr := mgr.st.AcceptResolution(ctx, store.Resolution{ConflictID: c.ID, Row: row, HLC: h.String()}, resp.Version); aerr != nil {
					return n, fmt.Errorf("resolve %s: %w", c.ID, aerr)
				}
			}
			var ae *syncclient.APIError
			if errors.As(err, &ae) && ae.Code == "stale_base" && ae.Version != nil {
				base = *ae.Version // decide again on the new state
				continue
			}
			if errors.As(err, &ae) && ae.Code == "already_resolved" {
				err = nil
			}
			if errors.As(err, &ae) && ae.Code == protocol.CodeResolveAtOwner {
				err = errNotOurs // another tier's record: its own manager decides
			}
			break
		}
		if errors.Is(err, errNotOurs) {
			continue
		}
		if err != nil && syncclient.Decide(err) == syncclient.ActBackoff {
			// No answer (a reset, a dropped answer, a server killed): the
			// resolution may have been applied with a state the ledger
			// does not know, so the row's earlier decisions are not judged.
			mgr.mu.Lock()
			mgr.unknownDecisions = append(mgr.unknownDecisions, decision{table: rec.TableName, rowID: rec.RowID, at: time.Now()})
			mgr.mu.Unlock()
		}
		if err != nil && syncclient.Decide(err) != syncclient.ActBackoff {
			return n, fmt.Errorf("conflict %s: %w", c.ID, err)
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

// errNotOurs is a record resolveOpenAt leaves to another tier's manager.
var errNotOurs = errors.New("resolved at its owner's tier")

// check compares every device with the server, field by field (invariant
// 3), and looks for lost and duplicated edits in the server's history.
func check(ctx context.Context, sum *Summary, devs []*device, mgr *device) error {
	api := mgr.cl.API()
	reg := protocol.NewRegistry()
	server, cursor, err := readState(ctx, api)
	if err != nil {
		return fmt.Errorf("check: read the server's state: %w", err)
	}
	// Each hub's state, as its devices pull it (its settling manager's
	// credentials): a hub's devices hold exactly their hub's rows, and
	// every hub holds central's (compareTiers).
	sum.tiers, sum.cursors = []map[string]map[string]protocol.PullChange{server}, []int64{cursor}
	for i, h := range sum.hubs {
		st, c, err := readState(ctx, h.mgr.cl.API())
		if err != nil {
			return fmt.Errorf("check: read hub %d's state: %w", i, err)
		}
		sum.tiers, sum.cursors = append(sum.tiers, st), append(sum.cursors, c)
	}
	diverged := 0
	mismatch := func(format string, args ...any) {
		if len(sum.Mismatches) < 20 {
			sum.Mismatches = append(sum.Mismatches, fmt.Sprintf(format, args...))
		}
	}
	for t, st := range sum.tiers {
		openConflicts := 0
		for _, ch := range st[protocol.TableConflicts] {
			if ch.Row["status"] == protocol.ConflictOpen {
				openConflicts++
			}
			if tn, _ := ch.Row["table_name"].(string); isSiteTable(tn) && t == 0 {
				sum.SiteConflicts++
			}
		}
		if openConflicts > 0 {
			diverged++
			if t == 0 {
				mismatch("%d conflicts still open on the server", openConflicts)
			} else {
				mismatch("%d conflicts still open on hub %d", openConflicts, t-1)
			}
		}
		if t > 0 {
			diverged += compareTiers(t-1, st, server, mismatch)
		}
	}
	for _, t := range siteTables {
		sum.SiteRows += len(server[t])
	}
	// Each device's rows against the server's, field by field: a row that
	// differs counts once in diverged, or in resurrected when the device
	// holds live a row the server holds deleted or no longer holds at all
	// (its tombstone purged).
	for _, d := range append(append([]*device{}, devs...), mgr) {
		server := sum.tiers[d.tier] // the state of the server the device syncs with
		for _, tb := range reg.Tables() {
			local, err := d.st.DumpTable(ctx, tb.Name)
			if err != nil {
				return err
			}
			for id, sc := range server[tb.Name] {
				lr, ok := local[id]
				if !ok && (sum.retention || d.wasCorrupted(tb.Name, id)) && sc.Row["deleted_at"] != nil {
					// A tombstone: a full pass brings only live rows, and a
					// repair removes a clean row its bucket's listing (live
					// rows only) lacks.
					continue
				}
				if !ok {
					diverged++
					mismatch("device %d lacks %s %s", d.idx, tb.Name, id)
					continue
				}
				if sc.Row["deleted_at"] != nil && lr.Row["deleted_at"] == nil && lr.State == "clean" {
					sum.Resurrected++
					mismatch("device %d holds %s %s live, the server deleted it", d.idx, tb.Name, id)
					continue
				}
				differs := false
				switch {
				case lr.State != "clean":
					differs = true
					mismatch("device %d: %s %s is %s", d.idx, tb.Name, id, lr.State)
				case lr.Version != sc.Version || lr.HLC != sc.HLC:
					differs = true
					mismatch("device %d: %s %s at version %d hlc %s, server %d %s", d.idx, tb.Name, id, lr.Version, lr.HLC, sc.Version, sc.HLC)
				}
				for _, col := range tb.Columns {
					sv, err := col.Normalize(sc.Row[col.Name])
					if err != nil && sc.Row[col.Name] != nil {
						differs = true
						mismatch("server %s %s.%s: %v", tb.Name, id, col.Name, err)
						continue
					}
					if sv != lr.Row[col.Name] {
						differs = true
						mismatch("device %d: %s %s.%s = %v, server %v", d.idx, tb.Name, id, col.Name, lr.Row[col.Name], sv)
					}
				}
				if differs {
					diverged++
				}
			}
			for id, lr := range local {
				if _, ok := server[tb.Name][id]; !ok {
					if _, hasDel := lr.Row["deleted_at"]; hasDel && lr.Row["deleted_at"] == nil && lr.State == "clean" {
						sum.Resurrected++
						mismatch("device %d holds %s %s live, the server no longer has it", d.idx, tb.Name, id)
						continue
					}
					if sum.retention && lr.Row["deleted_at"] != nil && lr.State == "clean" {
						continue // a tombstone the server purged
					}
					diverged++
					mismatch("device %d has %s %s (%s) the server does not", d.idx, tb.Name, id, lr.State)
				}
			}
		}
	}
	sum.Diverged = diverged
	sum.server = server

	// Lost: each device's last edit of each row is in some version of the
	// row's history, or on either side of a conflict record (editRecorded).
	// Duplicated: a state (hlc) recorded twice in a row's history.
	mines := map[string][]map[string]any{}
	pushedMines := map[string][]sideWrite{}
	var records []protocol.PullChange
	for _, st := range sum.tiers {
		// A hub's conflict records too: they are not sent to central in
		// this version, and a hub device's write that lost at its hub is
		// on a side of one.
		for _, ch := range st[protocol.TableConflicts] {
			records = append(records, ch)
		}
	}
	for _, ch := range records {
		rowID, _ := ch.Row["row_id"].(string)
		if m, ok := ch.Row["mine"].(map[string]any); ok {
			dev, _ := ch.Row["device_id"].(string)
			pushedMines[rowID] = append(pushedMines[rowID], sideWrite{device: dev, row: m})
		}
		for _, side := range []string{"mine", "theirs"} {
			if m, ok := ch.Row[side].(map[string]any); ok {
				mines[rowID] = append(mines[rowID], m)
			}
		}
	}
	histories := map[string][]syncclient.HistoryEntry{}
	historyOf := func(table, id string) ([]syncclient.HistoryEntry, error) {
		k := table + "/" + id
		if h, ok := histories[k]; ok {
			return h, nil
		}
		vs, err := historyRetry(ctx, api, table, id)
		var ae *syncclient.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			err = nil // the server never had the row
		}
		if err != nil {
			return nil, fmt.Errorf("check: history of %s: %w", k, err)
		}
		histories[k] = vs
		return vs, nil
	}
	deleted := map[string]bool{}
	for _, d := range append(append([]*device{}, devs...), mgr) {
		for k := range d.deleted {
			deleted[k] = true
		}
	}
	if sum.progress != nil {
		n := 0
		for _, d := range append(append([]*device{}, devs...), mgr) {
			d.mu.Lock()
			for _, as := range d.pushes {
				for _, a := range as {
					if a.Status != protocol.StatusRejected {
						n++
					}
				}
			}
			d.mu.Unlock()
		}
		fmt.Fprintf(sum.progress, "outpost-sim: push ledger: %d applied or merged changes\n", n)
	}
	for _, d := range append(append([]*device{}, devs...), mgr) {
		node := d.cl.Status(ctx).DeviceID
		for k, e := range d.last {
			if d.discarded[k] {
				continue
			}
			_, seen := histories[k]
			h, err := historyOf(e.table, e.id)
			if err != nil {
				return err
			}
			if !seen {
				// A merge may keep the newer side's hlc with new contents, so
				// a duplicate is the same hlc, writer and contents twice.
				tb, _ := reg.Lookup(e.table)
				seen := map[string]protocol.Row{}
				for _, v := range h {
					key := v.HLC + "|" + v.DeviceID + "|" + peopleKey(tb, v.Row)
					if first, dup := seen[key]; dup {
						gap := time.Duration(asInt(v.Row["server_updated_at"])-asInt(first["server_updated_at"])) * time.Millisecond
						if sum.staleAfter > 0 && gap > sum.staleAfter {
							// The server keeps a batch's answer as long as a
							// device may stay unseen (--stale-after), no longer
							// (docs/design.md section 3): a batch re-sent later is
							// new to it. Counted apart, not as a defect.
							sum.ReappliedAfterStale++
							continue
						}
						sum.Duplicated++
						mismatch("%s: state %s recorded twice, %v apart", k, v.HLC, gap)
					}
					seen[key] = v.Row
				}
			}
			tb, _ := reg.Lookup(e.table)
			found := editRecorded(tb, e.fields, h, mines[e.id])
			// With hubs central keeps every version (startCluster): no
			// excuse of a purge applies, and a hub device's ledger holds
			// its hub's versions, not central's.
			purges := sum.retention && len(sum.hubs) == 0
			if !found && purges && len(h) == 0 && deleted[k] {
				found = true // deleted, and its tombstone purged
			}
			if !found && purges && len(h) > 0 && !sameValue(tb, "updated_at", h[0].Row["updated_at"], h[0].Row["created_at"]) {
				// Retention purged the row's first versions (the oldest
				// one left is not the row's creation): a superseded edit
				// may have been purged from the history, not lost. The
				// diverged and resurrected counts still judge the row.
				found = true
			}
			if !found {
				// The edit may have been superseded before a restore that
				// truncated the history (supersededBeforeRestore).
				for _, pe := range d.preRestore[k] {
					if sameEdit(pe.e, e) && (supersededBeforeRestore(tb, e.fields, pe.h, h, mines[e.id]) ||
						rewrittenBeforeRestore(tb, e.fields, pe.h, h, pushedMines[e.id])) {
						found = true
						sum.SupersededBeforeRestore++
						break
					}
				}
			}
			// What the check follows an edit through when it is in no
			// version and no conflict record: the device's push ledger,
			// every device's (a decision the manager pushes again after
			// a restore), the manager's decisions, the longest history
			// read before a restore, and the decisions that carried the
			// edit under the manager's hlc (carriers).
			var answers, ledger []pushAnswer
			var pre []syncclient.HistoryEntry
			var decisions []decision
			var cs []carrier
			if !found {
				d.mu.Lock()
				answers = append(answers, d.pushes[k]...)
				d.mu.Unlock()
				for _, od := range append(append([]*device{}, devs...), mgr) {
					od.mu.Lock()
					ledger = append(ledger, od.pushes[k]...)
					for _, pe := range od.preRestore[k] {
						if len(pe.h) > len(pre) {
							pre = pe.h
						}
					}
					od.mu.Unlock()
				}
				mgr.mu.Lock()
				decisions = append(decisions, mgr.decisions...)
				mgr.mu.Unlock()
				cs = carriers(tb, e, node, decisions, answers, pre, sum.rewinds)
			}
			if !found {
				// Accepted, then knowingly replaced before a restore by a
				// write still on the server, the version that held the
				// edit purged before the history was read
				// (replacedBeforeRestore).
				// Writes of the row no push ledger holds, at their
				// version: the manager's decisions, and every version of
				// a history read before a restore (a base's number may
				// name one of them, on another timeline).
				var known []pushAnswer
				for _, dc := range decisions {
					if dc.table == e.table && dc.rowID == e.id && dc.version > 0 {
						known = append(known, pushAnswer{Table: dc.table, ID: dc.rowID, HLC: dc.hlc, Status: protocol.StatusApplied, Version: dc.version, Row: dc.chosen, Sent: dc.at})
					}
				}
				for _, od := range append(append([]*device{}, devs...), mgr) {
					od.mu.Lock()
					for _, pe := range od.preRestore[k] {
						for _, v := range pe.h {
							if at := writtenAt(v, time.Time{}); !at.IsZero() {
								known = append(known, pushAnswer{Table: e.table, ID: e.id, HLC: v.HLC, Status: protocol.StatusApplied, Version: v.Version, Row: v.Row, Sent: at})
							}
						}
					}
					od.mu.Unlock()
				}
				for _, pe := range d.preRestore[k] {
					if !sameEdit(pe.e, e) {
						continue
					}
					if a, b, ok := replacedBeforeRestore(tb, e, answers, ledger, known, pe.h, h, mines[e.id], pushedMines[e.id], sum.rewinds); ok {
						found = true
						sum.SupersededBeforeRestore++
						if sum.progress != nil {
							fmt.Fprintf(sum.progress, "superseded before a restore: device %d's last edit of %s (hlc %s) was %s at v%d, then replaced at v%d on base v%d by hlc %s, still on the server\n",
								d.idx, k, e.hlc, a.Status, a.Version, b.Version, b.Base, b.HLC)
						}
						break
					}
				}
			}
			if !found && purges {
				// Accepted at a version retention has purged since: the
				// push ledger holds the server's answer (ledger.go).
				if a, ok := acceptedThenPurged(tb, e, answers, h, sum.rewinds); ok {
					found = true
					sum.PurgedFromHistory++
					if sum.progress != nil {
						fmt.Fprintf(sum.progress, "purged from history: device %d's last edit of %s (hlc %s) was %s at v%d, a version retention purged since\n",
							d.idx, k, e.hlc, a.Status, a.Version)
					}
				}
			}
			if !found && purges {
				// Carried by a decision under the manager's hlc, knowingly
				// replaced, accepted at a version retention has purged
				// since (carriedThenPurged).
				if w, ok := carriedThenPurged(tb, e, cs, decisions, ledger, pre, h, sum.rewinds); ok {
					found = true
					sum.CarriedThenPurged++
					if sum.progress != nil {
						fmt.Fprintf(sum.progress, "purged from history: device %d's last edit of %s (hlc %s) was carried under hlc %s at v%d, a version retention purged since\n",
							d.idx, k, e.hlc, w.hlc, w.version)
					}
				}
			}
			if !found {
				// Decided against by the manager between a backup and its
				// restore, which took the conflict record back with the
				// decision (decidedBeforeRestore).
				if dc, ok := decidedBeforeRestore(tb, e, node, decisions, pre, cs, sum.rewinds); ok {
					found = true
					sum.DecidedBeforeRestore++
					if sum.progress != nil {
						fmt.Fprintf(sum.progress, "decided before a restore: device %d's last edit of %s (hlc %s) lost to a decision at v%d (%s) the restore took back\n",
							d.idx, k, e.hlc, dc.version, dc.at.UTC().Format("15:04:05.000"))
					}
				}
			}
			if !found && d.tier > 0 {
				// A hub's device: the hub answered its write applied, and
				// central judged the hub's push of it as a device's (a
				// merge with another writer's change keeps the newer
				// stamp, here the edit's own). A central version under the
				// edit's stamp (which names the edit's device: no other
				// write carries it) is the edit merged in: the fields it
				// left as they were on the hub's state may hold another
				// writer's values (seed 423: the hub, cut off, had not
				// seen a rename made at central).
				for _, v := range h {
					if v.HLC == e.hlc {
						found = true
						sum.MergedAtCentral++
						break
					}
				}
				// Merged with a newer write, under that write's stamp.
				if !found && mergedUnderNewerStamp(tb, e.fields, e.hlc, h) {
					found = true
					sum.MergedAtCentral++
				}
			}
			if !found {
				sum.Lost++
				var pre []string
				for _, pe := range d.preRestore[k] {
					if sameEdit(pe.e, e) {
						pre = append(pre, historyLine(tb, e.fields, pe.h))
					}
				}
				var corrupted []string
				for _, c := range d.corrupted {
					if c.table+"/"+c.id == k {
						corrupted = append(corrupted, c.kind)
					}
				}
				atHub := ""
				if d.tier > 0 {
					// Where the edit is on its hub: the versions holding its
					// fields, with their hlc and writer (the hub pushes each
					// upstream under that hlc).
					atHub = "; at hub " + fmt.Sprint(d.tier-1) + ": " + hubVersions(ctx, sum.hubs[d.tier-1], tb, e.fields, e.table, e.id)
				}
				mismatch("device %d's last edit of %s (hlc %s, made at %s) is nowhere on the server: %v; history: %s; conflicts' sides: %s; history before a restore: %s; corrupted in its file: %s%s",
					d.idx, k, e.hlc, e.at.UTC().Format("15:04:05.000"), e.fields, historyLine(tb, e.fields, h), minesLine(tb, e.fields, mines[e.id]), strings.Join(pre, " || "),
					strings.Join(corrupted, ","), atHub)
				if os.Getenv("OUTPOST_SIM_DEBUG_DECISIONS") != "" && sum.progress != nil {
					// Every device's push ledger for the row, the row's
					// decisions and the spans a restore took back
					// (nemesis.go, dumpDecision has an overturned
					// decision's side).
					ms := func(t time.Time) string { return t.UTC().Format("15:04:05.000") }
					for _, od := range append(append([]*device{}, devs...), mgr) {
						od.mu.Lock()
						for _, a := range od.pushes[k] {
							fmt.Fprintf(sum.progress, "debug: lost %s: push d%d sent %s hlc %s %s v%d base v%d %s\n",
								k, od.idx, ms(a.Sent), a.HLC, a.Status, a.Version, a.Base, pickFields(tb, e.fields, a.Row))
						}
						for _, pe := range od.preRestore[k] {
							fmt.Fprintf(sum.progress, "debug: lost %s: d%d's edit hlc %s before a restore: %s\n",
								k, od.idx, pe.e.hlc, historyLine(tb, e.fields, pe.h))
						}
						od.mu.Unlock()
					}
					mgr.mu.Lock()
					for _, dc := range mgr.decisions {
						if dc.table == e.table && dc.rowID == e.id {
							fmt.Fprintf(sum.progress, "debug: lost %s: decision v%d hlc %s at %s on %.8s's conflict: chosen %s rejected %s\n",
								k, dc.version, dc.hlc, ms(dc.at), dc.device, pickFields(tb, e.fields, dc.chosen), pickFields(tb, e.fields, dc.rejected))
						}
					}
					for _, u := range mgr.unknownDecisions {
						if u.table == e.table && u.rowID == e.id {
							fmt.Fprintf(sum.progress, "debug: lost %s: resolution without answer at %s\n", k, ms(u.at))
						}
					}
					mgr.mu.Unlock()
					for _, r := range sum.rewinds {
						fmt.Fprintf(sum.progress, "debug: lost %s: backup at %s, restored at %s\n", k, ms(r[0]), ms(r[1]))
					}
					fmt.Fprintf(sum.progress, "debug: lost %s: device %d is %.8s\n", k, d.idx, node)
				}
			}
		}
	}
	if err := checkForbidden(ctx, sum, devs, server, historyOf, mismatch); err != nil {
		return err
	}
	for _, d := range devs {
		for _, m := range d.codeErrors {
			mismatch("%s", m)
		}
		if sum.Lost > 0 {
			for _, m := range d.notes {
				mismatch("%s", m)
			}
		}
	}
	// Verified: every device proved at its last sync that it holds the
	// server's state at the final cursor (docs/design.md section 8), and each
	// row the nemesis corrupted in a device's file is back at the server's
	// state.
	all := append(append([]*device{}, devs...), mgr)
	for _, d := range all {
		v := d.cl.Status(ctx).Verify
		if cursor := sum.cursors[d.tier]; v.Cursor != cursor || v.Problem != "" {
			sum.Unverified++
			mismatch("device %d (tier %d) not verified at the final cursor %d: verified at %d; %q", d.idx, d.tier, cursor, v.Cursor, v.Problem)
		}
	}
	for t, st := range sum.tiers {
		var tier []*device
		for _, d := range all {
			if d.tier == t {
				tier = append(tier, d)
			}
		}
		if err := judgeCorruption(ctx, sum, tier, st, mismatch); err != nil {
			return err
		}
	}
	sum.Converged = diverged == 0 && sum.Resurrected == 0
	return nil
}

// forcedMoot reports whether an operator's forced write of site data that
// was never refused set only what the server holds at the end: the row's
// final state holds every field it set. Such a write can end unpushed: the
// timeline pass after a restore finds the pending row's people's fields
// equal to the server's and makes it clean (seed 174 of the 8deb348
// campaign: an operator flipped a product's active flag, after the
// restore, back to the value the restore had brought back; 5 of 6 replays
// on 504d0a3 counted it in forbidden_unreported). Nothing is left to
// refuse and nothing was applied (forbidden_applied judges that). Only the
// final state counts, not an older version: a flag flipped back and forth
// is in most histories, and an unrefused write the server does not hold
// is still counted.
func forcedMoot(tb protocol.Table, fields map[string]any, final map[string]any) bool {
	return len(fields) > 0 && final != nil && fieldsEqual(tb, fields, final)
}

// checkForbidden checks that the operator devices' writes of site data were
// reported, not applied: every row an operator device wrote was refused
// with "forbidden" (and settled), and no version of a site data row on the
// server, nor of a row an operator made up, was written by an operator
// device.
func checkForbidden(ctx context.Context, sum *Summary, devs []*device, server map[string]map[string]protocol.PullChange,
	historyOf func(table, id string) ([]syncclient.HistoryEntry, error), mismatch func(string, ...any)) error {
	operators := map[string]int{}
	rows := map[[2]string]bool{}
	for _, d := range devs {
		if d.manager {
			continue
		}
		operators[d.cl.Status(ctx).DeviceID] = d.idx
		for k := range d.forced {
			table, id, _ := strings.Cut(k, "/")
			rows[[2]string{table, id}] = true
			if d.forbidden[k] {
				continue
			}
			tb, _ := registry.Lookup(table)
			if sc, held := server[table][id]; d.forcedMootSeen[k] || held && forcedMoot(tb, d.forcedFields[k], sc.Row) {
				sum.ForbiddenMoot++
				continue
			}
			sum.ForbiddenUnreported++
			mismatch("device %d's write of %s (%v) was never refused as forbidden; the server holds %s", d.idx, k, d.forcedFields[k],
				pickFields(tb, d.forcedFields[k], server[table][id].Row))
		}
	}
	for _, t := range siteTables {
		for id := range server[t] {
			rows[[2]string{t, id}] = true
		}
	}
	for r := range rows {
		h, err := historyOf(r[0], r[1])
		if err != nil {
			return err
		}
		for _, v := range h {
			if idx, ok := operators[v.DeviceID]; ok {
				sum.ForbiddenApplied++
				mismatch("%s %s version %d was written by operator device %d", r[0], r[1], v.Version, idx)
			}
		}
	}
	return nil
}

// editRecorded reports whether an edit's fields are in some version of
// the row's history h, or on a side of one of its conflict records: "mine"
// (the push that lost) or "theirs" (a version the server held, which
// retention may have purged from the history since; a manager deciding
// against it loses nothing).
func editRecorded(tb protocol.Table, fields map[string]any, h []syncclient.HistoryEntry, sides []map[string]any) bool {
	for _, v := range h {
		if fieldsEqual(tb, fields, v.Row) {
			return true
		}
	}
	for _, m := range sides {
		if fieldsEqual(tb, fields, m) {
			return true
		}
	}
	return false
}

// historyLine renders a row's history for a lost edit's mismatch: each
// version's number, hlc, writer and the fields the edit set.
func historyLine(tb protocol.Table, fields map[string]any, h []syncclient.HistoryEntry) string {
	var parts []string
	for _, v := range h {
		parts = append(parts, fmt.Sprintf("v%d %s by %.8s %s", v.Version, v.HLC, v.DeviceID, pickFields(tb, fields, v.Row)))
	}
	return strings.Join(parts, " | ")
}

// minesLine renders both sides of a row's conflict records likewise.
func minesLine(tb protocol.Table, fields map[string]any, mines []map[string]any) string {
	var parts []string
	for _, m := range mines {
		parts = append(parts, pickFields(tb, fields, m))
	}
	return strings.Join(parts, " | ")
}

func pickFields(tb protocol.Table, fields map[string]any, row map[string]any) string {
	var parts []string
	for name := range fields {
		parts = append(parts, fmt.Sprintf("%s=%v", name, row[name]))
	}
	sort.Strings(parts)
	if row["deleted_at"] != nil {
		parts = append(parts, "deleted")
	}
	return strings.Join(parts, ",")
}

// fieldsEqual reports whether row holds every field of want.
func fieldsEqual(tb protocol.Table, want map[string]any, row map[string]any) bool {
	for name, wv := range want {
		if _, ok := wv.(anyDeletion); ok {
			if row[name] == nil {
				return false
			}
			continue
		}
		col, ok := tb.Column(name)
		if !ok {
			return false
		}
		rv, err := col.Normalize(row[name])
		if err != nil && row[name] != nil {
			return false
		}
		nv, err := col.Normalize(wv)
		if err != nil && wv != nil {
			return false
		}
		if rv != nv {
			return false
		}
	}
	return true
}

func pullRetry(ctx context.Context, api *syncclient.API, cursor int64) (protocol.PullResponse, error) {
	var page protocol.PullResponse
	err := retry(ctx, 20, func(ctx context.Context) error {
		var err error
		page, err = api.Pull(ctx, cursor, protocol.MaxPullLimit)
		return err
	})
	return page, err
}

// directAPI is the manager's API to server, the address of a server
// instance itself (no proxy, no network fault: the observer's reads), with
// the manager's credentials and base transport.
func directAPI(ctx context.Context, mgr *device, server string) (*syncclient.API, error) {
	cr, err := mgr.tokens.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("the manager's credentials: %w", err)
	}
	if cr == nil {
		return nil, errors.New("the manager has no credentials")
	}
	return syncclient.NewAPI(server, cr.Token, syncclient.HTTPOptions{Transport: mgr.base, Timeout: 30 * time.Second})
}

func historyRetry(ctx context.Context, api *syncclient.API, table, id string) ([]syncclient.HistoryEntry, error) {
	var vs []syncclient.HistoryEntry
	err := retry(ctx, 20, func(ctx context.Context) error {
		var err error
		vs, err = api.History(ctx, table, id)
		return err
	})
	return vs, err
}

// peopleKey renders a row's people's fields (and deleted_at) canonically.
func peopleKey(tb protocol.Table, row map[string]any) string {
	m := map[string]any{}
	for _, c := range tb.Columns {
		if c.People {
			v, _ := c.Normalize(row[c.Name])
			m[c.Name] = v
		}
	}
	b, _ := json.Marshal(m) // map keys are sorted
	return string(b)
}

// writeKey names one write by its contents: its people's fields and
// deleted_at (peopleKey) and the updated_at the writer gave it.
func writeKey(tb protocol.Table, row map[string]any) string {
	return peopleKey(tb, row) + "|" + fmt.Sprint(asInt(row["updated_at"]))
}

// asInt reads a JSON number (float64 or json.Number) as an int64.
func asInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// preRestoreEdit is a device's last edit of a row and the row's history,
// read just before a restore.
type preRestoreEdit struct {
	e edit
	h []syncclient.HistoryEntry
}

// keepHistories reads, just before a restore, the history of every row a
// device has edited, and keeps it with the device's last edit of the row
// (device.preRestore): the restore truncates the histories, and an edit
// the server had applied and a later version superseded (no conflict, so
// no conflict record) is then in none of them, while the later writer
// pushes its own write again (docs/design.md section 3) and nothing was lost.
// A history it cannot read is left out (the edit is judged as before).
//
// It runs while the devices' network is held and the servers have been
// stopped and started again (cluster.Restore), reading through api, which
// no proxy stands in front of: what it reads is the server's last state
// before the restore. The edits are those made before the hold began
// (heldAt): one made since cannot have reached the server before the
// restore, and is judged by what happens to it after.
func keepHistories(ctx context.Context, api *syncclient.API, all []*device, heldAt time.Time) {
	snap := make([]map[string]edit, len(all))
	rows := map[string]edit{}
	for i, d := range all {
		d.mu.Lock()
		snap[i] = make(map[string]edit, len(d.last))
		for k, e := range d.last {
			if !e.at.Before(heldAt) {
				continue
			}
			snap[i][k] = e
			rows[k] = e
		}
		d.mu.Unlock()
	}
	// Read in parallel: the restore waits for these reads, and the
	// devices, offline meanwhile, wait for the restore.
	var hmu sync.Mutex
	histories := map[string][]syncclient.HistoryEntry{}
	work := make(chan edit)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				h, err := historyRetry(hctx, api, e.table, e.id)
				cancel()
				if err == nil {
					hmu.Lock()
					histories[e.table+"/"+e.id] = h
					hmu.Unlock()
				}
			}
		}()
	}
	for _, e := range rows {
		work <- e
	}
	close(work)
	wg.Wait()
	for i, d := range all {
		for k, e := range snap[i] {
			h, ok := histories[k]
			if !ok {
				continue
			}
			d.mu.Lock()
			if d.preRestore == nil {
				d.preRestore = map[string][]preRestoreEdit{}
			}
			d.preRestore[k] = append(d.preRestore[k], preRestoreEdit{e: e, h: h})
			d.mu.Unlock()
		}
	}
}

// sameEdit reports whether a and b are the same remembered edit.
func sameEdit(a, b edit) bool {
	return a.table == b.table && a.id == b.id && a.hlc == b.hlc && a.at.Equal(b.at) && fmt.Sprint(a.fields) == fmt.Sprint(b.fields)
}

// supersededBeforeRestore reports whether the history pre, read just
// before a restore, holds the edit's fields in some version followed by a
// later version whose contents (people's fields, deleted_at, updated_at:
// the write itself, pushed again) are on the server at the end: in the
// final history h or on a conflict's side.
func supersededBeforeRestore(tb protocol.Table, fields map[string]any, pre, h []syncclient.HistoryEntry, sides []map[string]any) bool {
	kept := keptWrites(tb, h, sides)
	held := false
	for _, v := range pre {
		if held && kept[writeKey(tb, v.Row)] {
			return true
		}
		if fieldsEqual(tb, fields, v.Row) {
			held = true
		}
	}
	return false
}

// keptWrites returns the writes (writeKey) on the server at the end: the
// versions of the final history h and the conflicts' sides.
func keptWrites(tb protocol.Table, h []syncclient.HistoryEntry, sides []map[string]any) map[string]bool {
	kept := map[string]bool{}
	for _, v := range h {
		kept[writeKey(tb, v.Row)] = true
	}
	for _, m := range sides {
		kept[writeKey(tb, m)] = true
	}
	return kept
}

// decidedBeforeRestore returns the manager's decision that rejected the
// edit between a backup and its restore: a decision on the edit's row
// whose rejected side holds the edit's fields and whose chosen side does
// not, made within one of rewinds, after the edit, that rejected the mine
// of a conflict device node pushed (the edit was "mine") or rejected
// theirs while the history pre (read just before the restore) held the
// edit's hlc (the edit was "theirs", sameWrite). An edit whose hlc names
// another device set a value its row already held (no write): it stands
// for the write its hlc names, made at that hlc's time. The device's row
// took the decision (the edit lived on only in the conflict record,
// docs/design.md section 3), and the restore took back the record with the
// decision, as it takes back every decision made after the backup (the
// decisions_overturned count skips those too): the edit was settled, not
// lost, though no record of it is left (seed 3 of the f430ea6 campaign). The edit may also have reached the
// server through a decision that chose it, under the manager's hlc (cs,
// carriers): a decision that rejected the conflict's theirs at a version
// pre held under a carrier's hlc with the edit's fields, that very write
// (sameWrite), rejected the edit (seed 51 of the 3d15714 campaign).
func decidedBeforeRestore(tb protocol.Table, e edit, node string, decisions []decision, pre []syncclient.HistoryEntry, cs []carrier, rewinds [][2]time.Time) (decision, bool) {
	made := madeAt(e, node)
	// When the server wrote each version pre holds under the edit's hlc
	// (server_updated_at, else when the edit was made): a decision met
	// the edit as theirs only while the server held it (sameWrite), not
	// before it was written (an hlc's wall time is the writer's clock,
	// which a clock-back fault sets behind) nor after a restore took it
	// back (review of seed 51, issue 15).
	var heldAt []time.Time
	// When each version pre holds under a carrier's hlc was written (the
	// server's time, else the carrier's decision): a decision met that
	// write only after it and while no restore had taken it back
	// (sameWrite; a restore gives its number to another write).
	carriedAt := map[int64][]time.Time{}
	for _, v := range pre {
		if e.hlc != "" && v.HLC == e.hlc && fieldsEqual(tb, e.fields, v.Row) {
			heldAt = append(heldAt, writtenAt(v, made))
		}
		for _, c := range cs {
			if v.HLC == c.hlc && fieldsEqual(tb, e.fields, v.Row) {
				carriedAt[v.Version] = append(carriedAt[v.Version], writtenAt(v, c.at))
			}
		}
	}
	for _, dc := range decisions {
		if dc.table != e.table || dc.rowID != e.id || dc.at.Before(made) || !sentWithin(dc.at, rewinds) {
			continue
		}
		carried := dc.rejectedTheirs && sameWriteAny(carriedAt[dc.theirsVersion], dc.at, rewinds)
		heldByServer := sameWriteAny(heldAt, dc.at, rewinds)
		// The rejected side is the edit when it is the device's own push
		// (mine, on its conflict), or the server's state (theirs) that
		// held the edit or its carrier when the manager decided: another
		// device's push of the same value (mine), or theirs chosen
		// against on the device's own conflict when the server did not
		// hold the edit, is not the edit (review of seed 51, issue 15).
		ownMine := dc.device == node && !dc.rejectedTheirs
		if !ownMine && !(dc.rejectedTheirs && (heldByServer || carried)) {
			continue
		}
		if fieldsEqual(tb, e.fields, dc.rejected) && !fieldsEqual(tb, e.fields, dc.chosen) {
			return dc, true
		}
	}
	return decision{}, false
}

// sideWrite is a conflict record's "mine" and the device that pushed it.
type sideWrite struct {
	device string
	row    map[string]any
}

// rewrittenBeforeRestore reports whether the history pre, read just
// before a restore, holds the edit's fields in some version followed by a
// later version V that replaced them, whose device wrote V's values of
// every field the edit set again in a write still on the server at the
// end (a version of h or a conflict's "mine") no older than V. The
// superseding device may have edited the row again before it pushed its
// own write again on the new timeline (docs/design.md section 3), so V's exact
// write is gone (supersededBeforeRestore looks for that) while what
// replaced the edit is still there (seed 3 of the f430ea6 campaign).
func rewrittenBeforeRestore(tb protocol.Table, fields map[string]any, pre, h []syncclient.HistoryEntry, mines []sideWrite) bool {
	var later []sideWrite
	for _, v := range h {
		later = append(later, sideWrite{device: v.DeviceID, row: v.Row})
	}
	later = append(later, mines...)
	held := false
	for _, v := range pre {
		if fieldsEqual(tb, fields, v.Row) {
			held = true
			continue
		}
		if !held || v.DeviceID == "" {
			continue
		}
		replaced := map[string]any{}
		for name := range fields {
			replaced[name] = v.Row[name]
		}
		for _, s := range later {
			if s.device == v.DeviceID && asInt(s.row["updated_at"]) >= asInt(v.Row["updated_at"]) && fieldsEqual(tb, replaced, s.row) {
				return true
			}
		}
	}
	return false
}

// mergedUnderNewerStamp reports whether history h holds an edit (its
// fields, its hlc) merged at central with a newer write of another device:
// central's merge keeps the newer of the two stamps, so the merged version
// carries the previous version's hlc (newer than the edit's) under another
// writer (the hub that pushed the edit), and holds, of the edit's fields,
// the edit's value where the merge took the edit's change and the previous
// version's where the edit left the field as it was: the value before the
// newer write (the version before it), which the newer write changed; at
// least one field is the edit's and new (a merge that changes nothing
// writes no version).
func mergedUnderNewerStamp(tb protocol.Table, fields map[string]any, editHLC string, h []syncclient.HistoryEntry) bool {
	for i := 2; i < len(h); i++ {
		before, prev, v := h[i-2], h[i-1], h[i]
		if v.HLC != prev.HLC || v.DeviceID == prev.DeviceID || v.HLC <= editHLC {
			continue
		}
		ok, took := true, false
		for f, want := range fields {
			switch {
			case sameValue(tb, f, v.Row[f], want):
				took = took || !sameValue(tb, f, v.Row[f], prev.Row[f])
			case sameValue(tb, f, v.Row[f], prev.Row[f]) && sameValue(tb, f, want, before.Row[f]):
			default:
				ok = false
			}
		}
		if ok && took {
			return true
		}
	}
	return false
}
