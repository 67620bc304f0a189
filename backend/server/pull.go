package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
)

// ResyncError answers 410 resync_required: the cursor is behind the purge
// horizon, ahead of the site's sequence (a restored server), or a full pass
// the server cannot vouch for. Seq and Timeline let the device tell a
// timeline change (a cursor above Seq, another timeline) from a horizon
// resync.
type ResyncError struct {
	Seq      int64
	Timeline string
}

func (e *ResyncError) Error() string {
	return fmt.Sprintf("resync required (sequence %d, timeline %s)", e.Seq, e.Timeline)
}

// PullChange is one change of a pull page, the stored row passed through
// unparsed.
type PullChange struct {
	Table   string          `json:"table"`
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	HLC     string          `json:"hlc"`
	Row     json.RawMessage `json:"row"`
}

// PullAnswer is GET /v1/pull's answer.
type PullAnswer struct {
	Changes  []PullChange `json:"changes"`
	Cursor   int64        `json:"cursor"`
	HasMore  bool         `json:"has_more"`
	Timeline string       `json:"timeline"`
	// Checksums, on the page that answers has_more false only, is the
	// checksum of every table with live rows at Cursor (docs/design.md section
	// 8), read in the page's snapshot; {} when the site has none.
	Checksums map[string]checksum.Wire `json:"checksums,omitzero"`
}

// PullRequest is one pull of a device.
type PullRequest struct {
	// Device is the puller as authenticated: its site and its full pass
	// record.
	Device Device
	Cursor int64
	// Committed is the cursor the device says it has committed (clamped to
	// Cursor); nil counts Cursor, as older clients expect.
	Committed *int64
	// Full says the device considers this page part of a full pass; it is
	// honoured only when the server's record shows a pass that began at 0.
	Full  bool
	Limit int
	// Verified, when not nil, is the cursor the device says it last
	// verified its data at (docs/design.md section 8); recorded, never checked.
	Verified *int64
}

// Pull returns one page of the site's feed after req.Cursor and records the
// device's position (docs/design.md section 3, "Full passes, committed cursors and
// timelines"):
//
//   - the page, its cursor, the sequence, the horizon and the timeline are
//     read in one snapshot (Store.ReadPage);
//   - a cursor above the site's sequence is 410, and ends any pass;
//   - a chain that begins at cursor 0 is a full pass: every page of it is
//     served whatever the horizon until a page answers has_more false — a
//     pass needs no tombstones, it brings every live row. When the horizon
//     rose above the cursor since the pass began (a tombstone above the
//     pass's position was purged: the row may be one the pass already
//     brought), the pass must start again: 410;
//   - full=1 on a page whose device has no pass in progress in the
//     server's record is 410 (the pass starts again from 0);
//   - otherwise a cursor behind the horizon is 410;
//   - the page that answers has_more false answers at least the horizon
//     (unless it is empty: then the request's cursor, unchanged);
//   - the device's committed cursor (min(committed, cursor)) is recorded on
//     every pull, decreases included; retention counts only it.
func (e *Engine) Pull(ctx context.Context, req PullRequest) (PullAnswer, error) {
	dev := req.Device
	committed := req.Cursor
	if req.Committed != nil {
		committed = min(*req.Committed, req.Cursor)
	}
	rec := PullRecord{LastSeen: e.nowMS(), Cursor: req.Cursor, Committed: committed, Verified: req.Verified}
	page, err := e.Store.ReadPage(ctx, dev.SiteID, req.Cursor, req.Limit+1)
	if err != nil {
		return PullAnswer{}, fmt.Errorf("read page: %w", err)
	}
	st := page.State
	inPass := dev.PassHorizon >= 0
	var refuse bool
	switch {
	case req.Cursor > st.Seq:
		refuse = true
	case req.Cursor == 0:
		rec.Pass, rec.PassHorizon = PassBegin, st.Horizon
	case req.Full && !inPass:
		// The device believes it is in a full pass, but the server's
		// record shows none that began at 0 (it ended, or a restore
		// forgot it): a pass that did not start at 0 must never remove
		// rows it did not receive, so it starts again.
		refuse = true
	case req.Cursor >= st.Horizon:
		// Nothing purged above the cursor: served as usual.
	case inPass && st.Horizon <= dev.PassHorizon:
		// Behind the horizon, but nothing was purged since the pass
		// began: every tombstone it misses is of a row it never brought.
	default:
		refuse = true
	}
	if refuse {
		rec.Pass, rec.Committed = PassEnd, 0
		e.recordPull(ctx, dev, rec)
		return PullAnswer{}, &ResyncError{Seq: st.Seq, Timeline: page.Timeline}
	}
	resp := PullAnswer{Changes: make([]PullChange, 0, min(len(page.Rows), req.Limit)), Cursor: req.Cursor, Timeline: page.Timeline}
	rows := page.Rows
	if len(rows) > req.Limit {
		rows, resp.HasMore = rows[:req.Limit], true
	}
	for _, r := range rows {
		resp.Changes = append(resp.Changes, PullChange{Table: r.Table, ID: r.ID, Version: r.Version, HLC: r.HLC, Row: r.Data})
		resp.Cursor = r.Version
	}
	if !resp.HasMore {
		if len(rows) > 0 && resp.Cursor < st.Horizon {
			// The last live row is older than the newest purged tombstone:
			// nothing between the two is live, so the state (and the
			// checksums) at the horizon is this page's. Answering the last
			// row's version would leave the device behind the horizon, and
			// its next sync another full pass.
			resp.Cursor = st.Horizon
		}
		rec.Pass = PassEnd
		resp.Checksums = make(map[string]checksum.Wire, len(page.Sums))
		for table, sum := range page.Sums {
			if sum.Count != 0 {
				resp.Checksums[table] = sum.Wire()
			}
		}
	}
	e.recordPull(ctx, dev, rec)
	return resp, nil
}

// recordPull stores what a pull says about its device, skipping the write
// when nothing changes. A failure is not the puller's problem: the record
// only ever lags (retention then waits longer, a pass restarts).
func (e *Engine) recordPull(ctx context.Context, dev Device, rec PullRecord) {
	inPass := dev.PassHorizon >= 0
	same := rec.Verified == nil && rec.Cursor == dev.Cursor && rec.Committed == dev.Committed &&
		(rec.Pass == PassKeep || (rec.Pass == PassEnd && !inPass) || (rec.Pass == PassBegin && dev.PassHorizon == rec.PassHorizon))
	if same && rec.LastSeen-dev.LastSeen < touchEvery.Milliseconds() {
		return
	}
	if err := e.Store.RecordPull(ctx, dev.ID, rec); err != nil && e.Log != nil {
		e.Log.Warn("record device position", "device", dev.ID, "err", err)
	}
}

// touchEvery bounds how often a device's last-seen time is written.
const touchEvery = 30 * time.Second

// HistoryEntry is one stored version of a row.
type HistoryEntry struct {
	Version  int64           `json:"version"`
	HLC      string          `json:"hlc"`
	DeviceID string          `json:"device_id"`
	Row      json.RawMessage `json:"row"`
}

// HistoryResponse is GET /v1/history's answer.
type HistoryResponse struct {
	Table    string         `json:"table"`
	ID       string         `json:"id"`
	Versions []HistoryEntry `json:"versions"`
}

// History returns every stored version of a row of the site.
func (e *Engine) History(ctx context.Context, site, table, id string) (HistoryResponse, error) {
	rows, err := e.Store.History(ctx, site, table, id)
	if err != nil {
		return HistoryResponse{}, fmt.Errorf("history: %w", err)
	}
	out := HistoryResponse{Table: table, ID: id, Versions: make([]HistoryEntry, 0, len(rows))}
	for _, r := range rows {
		out.Versions = append(out.Versions, HistoryEntry{Version: r.Version, HLC: r.HLC, DeviceID: r.DeviceID, Row: r.Data})
	}
	return out, nil
}

// Retention says what Purge may remove.
type Retention struct {
	// StaleAfter: devices unseen for longer do not hold the horizon back;
	// batch responses are kept at least this long.
	StaleAfter time.Duration
}

// PurgeStats counts what one Purge removed.
type PurgeStats struct {
	Tombstones, Versions int
}

// Purge removes, per site, tombstones and superseded row versions that every
// active device has committed (revoked devices and devices unseen for
// longer than StaleAfter do not count), keeping versions open conflicts
// need; then expired batch records, enrollment codes and throttle entries.
func (e *Engine) Purge(ctx context.Context, ret Retention) (PurgeStats, error) {
	var stats PurgeStats
	now := e.Now()
	sites, err := e.Store.Sites(ctx)
	if err != nil {
		return stats, fmt.Errorf("list sites: %w", err)
	}
	for _, site := range sites {
		devs, err := e.Store.ListDevices(ctx, site)
		if err != nil {
			return stats, fmt.Errorf("list devices: %w", err)
		}
		st, err := e.Store.SiteState(ctx, site)
		if err != nil {
			return stats, fmt.Errorf("site state: %w", err)
		}
		horizon := st.Seq
		staleBefore := now.Add(-ret.StaleAfter).UnixMilli()
		for _, d := range devs {
			seen := max(d.LastSeen, d.CreatedAt)
			if d.RevokedAt != 0 || seen < staleBefore {
				continue
			}
			// What the device has committed, never the cursor it asked
			// from: it asks for pages before it commits the ones before.
			horizon = min(horizon, d.Committed)
		}
		if horizon <= 0 {
			continue
		}
		tx, err := e.Store.Begin(ctx, site)
		if err != nil {
			return stats, fmt.Errorf("begin purge: %w", err)
		}
		if e.HubID != "" {
			// A site hub keeps every write central has not answered:
			// each goes upstream as its own change (docs/design.md
			// section 9), tombstones included.
			pushed, err := metaInt(ctx, tx, metaUpPushed)
			if err != nil {
				tx.Rollback()
				return stats, err
			}
			if horizon = min(horizon, pushed); horizon <= 0 {
				tx.Rollback()
				continue
			}
		}
		// A hub keeps its tombstones: central restored from a backup
		// may have lost a delete made on site, which the hub then sends
		// again (UpstreamCentralRestored); a purged tombstone could not
		// be, and the row would come back to life.
		n := 0
		if e.HubID == "" {
			if n, err = tx.PurgeTombstones(ctx, horizon); err != nil {
				tx.Rollback()
				return stats, fmt.Errorf("purge tombstones: %w", err)
			}
		}
		m, err := tx.PurgeVersions(ctx, horizon)
		if err != nil {
			tx.Rollback()
			return stats, fmt.Errorf("purge versions: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return stats, fmt.Errorf("commit purge: %w", err)
		}
		stats.Tombstones += n
		stats.Versions += m
	}
	cut := now.Add(-ret.StaleAfter).UnixMilli()
	if err := e.Store.DeleteExpired(ctx, cut, now.Add(-time.Minute).UnixMilli(), now.UnixMilli()); err != nil {
		return stats, fmt.Errorf("delete expired: %w", err)
	}
	return stats, nil
}
