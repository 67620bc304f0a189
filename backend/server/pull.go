package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrResyncRequired: the cursor is behind the purge horizon or ahead of the
// site's sequence; the device must re-pull from 0.
var ErrResyncRequired = errors.New("resync required")

// pullChange is protocol.PullChange with the stored row passed through
// unparsed.
type pullChange struct {
	Table   string          `json:"table"`
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	HLC     string          `json:"hlc"`
	Row     json.RawMessage `json:"row"`
}

type pullResponse struct {
	Changes []pullChange `json:"changes"`
	Cursor  int64        `json:"cursor"`
	HasMore bool         `json:"has_more"`
}

// Pull returns one page of the site's feed after cursor.
func (e *Engine) Pull(ctx context.Context, site string, cursor int64, limit int) (any, error) {
	st, err := e.Store.SiteState(ctx, site)
	if err != nil {
		return nil, fmt.Errorf("site state: %w", err)
	}
	if cursor > st.Seq || (cursor != 0 && cursor < st.Horizon) {
		return nil, ErrResyncRequired
	}
	rows, err := e.Store.Changes(ctx, site, cursor, limit+1)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	resp := pullResponse{Changes: make([]pullChange, 0, min(len(rows), limit)), Cursor: cursor}
	if len(rows) > limit {
		rows, resp.HasMore = rows[:limit], true
	}
	for _, r := range rows {
		resp.Changes = append(resp.Changes, pullChange{Table: r.Table, ID: r.ID, Version: r.Version, HLC: r.HLC, Row: r.Data})
		resp.Cursor = r.Version
	}
	return resp, nil
}

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
// active device has pulled past (revoked devices and devices unseen for
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
			horizon = min(horizon, d.Cursor)
		}
		if horizon <= 0 {
			continue
		}
		tx, err := e.Store.Begin(ctx, site)
		if err != nil {
			return stats, fmt.Errorf("begin purge: %w", err)
		}
		n, err := tx.PurgeTombstones(ctx, horizon)
		if err != nil {
			tx.Rollback()
			return stats, fmt.Errorf("purge tombstones: %w", err)
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
