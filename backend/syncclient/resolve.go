package syncclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// ResolveStore is what conflict resolution needs from the local database
// (backend/store.Store implements it; storeimpl_test.go checks): the
// durable queue of decisions.
type ResolveStore interface {
	QueueResolution(ctx context.Context, r syncstate.Resolution) (syncstate.Resolution, error)
	Resolutions(ctx context.Context) ([]syncstate.Resolution, error)
	// DropResolution and MarkResolutionStale act only on the decision
	// stamped hlc ("" = whichever is queued): one queued while it was
	// being sent is judged by the server on its own.
	DropResolution(ctx context.Context, conflictID, hlc string) error
	MarkResolutionStale(ctx context.Context, conflictID, hlc, reason string, row protocol.Row, version int64) error
	// AcceptResolution drops the accepted decision r as DropResolution
	// does and, in the same transaction, writes the decided row, stored by
	// the server at version, as this device's own accepted write, so a
	// restore from a backup taken before it does not lose it.
	AcceptResolution(ctx context.Context, r syncstate.Resolution, version int64) error
}

// ErrNotManager: only manager devices resolve conflicts.
var ErrNotManager = errors.New("only a manager's computer can resolve conflicts")

func (c *Client) resolveStore() (ResolveStore, error) {
	rs, ok := c.o.Store.(ResolveStore)
	if !ok {
		return nil, errors.New("resolve: the local store keeps no resolution queue")
	}
	return rs, nil
}

// Resolve records a manager's decision on conflict id — the chosen full row,
// decided against the server's version baseVersion — in the local queue,
// then tries to send it at once. Offline, it stays queued (with who
// decided) and is sent by SendResolutions later. The returned resolution
// says where it stands.
func (c *Client) Resolve(ctx context.Context, id string, row protocol.Row, baseVersion int64, reason string, by Decider) (syncstate.Resolution, error) {
	c.mu.Lock()
	role := c.status.Role
	c.mu.Unlock()
	if role != "manager" {
		return syncstate.Resolution{}, ErrNotManager
	}
	rs, err := c.resolveStore()
	if err != nil {
		return syncstate.Resolution{}, err
	}
	r, err := rs.QueueResolution(ctx, syncstate.Resolution{
		ConflictID: id, Row: row, BaseVersion: baseVersion, Reason: reason,
		PersonID: by.PersonID, PersonName: by.PersonName,
	})
	if err != nil {
		return syncstate.Resolution{}, err
	}
	if err := c.sendOne(ctx, rs, &r); err != nil && Decide(err) != ActBackoff && !errors.Is(err, ErrNotEnrolled) {
		return r, err
	}
	return r, nil
}

// Decider names the person who made a decision: their badge id and display
// name (both "" when the site has no people, or sign-in is not required).
type Decider struct {
	PersonID, PersonName string
}

// SendResolutions sends every queued decision; accepted ones leave the
// queue (the pull brings the resolution to every device), refused ones are
// marked stale for the manager to decide again. It stops at the first
// network error (the rest wait for the next call).
func (c *Client) SendResolutions(ctx context.Context) (sent int, err error) {
	rs, err := c.resolveStore()
	if err != nil {
		return 0, err
	}
	list, err := rs.Resolutions(ctx)
	if err != nil {
		return 0, err
	}
	for i := range list {
		if list[i].State != syncstate.ResolutionQueued {
			continue
		}
		if err := c.sendOne(ctx, rs, &list[i]); err != nil {
			return sent, err
		}
		if list[i].State == "" {
			sent++
		}
	}
	if sent > 0 {
		c.Trigger() // pull the resolutions
	}
	return sent, nil
}

// sendOne sends r; on success it drops it from the queue and clears
// r.State. A 409 stale_base marks it stale with the server's current row;
// 409 already_resolved drops it (another manager decided first: the pull
// shows that decision). Network errors leave it queued and are returned.
func (c *Client) sendOne(ctx context.Context, rs ResolveStore, r *syncstate.Resolution) error {
	api, err := c.currentAPI()
	if err != nil {
		return err
	}
	body, err := json.Marshal(r.Row)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", r.ConflictID, err)
	}
	req := protocol.ResolveRequest{Row: body, HLC: r.HLC}
	if r.BaseVersion > 0 {
		base := r.BaseVersion
		req.BaseVersion = &base
	}
	if r.Reason != "" {
		reason := r.Reason
		req.Reason = &reason
	}
	if r.PersonID != "" {
		id, name := r.PersonID, r.PersonName
		req.PersonID, req.PersonName = &id, &name
	}
	if ps, err := c.o.Store.PullState(ctx); err == nil {
		api.SetTimeline(ps.Timeline)
	}
	resp, err := api.Resolve(ctx, r.ConflictID, req)
	var ae *APIError
	switch {
	case errors.Is(err, syncstate.ErrTimelineChanged):
		// The server was restored from a backup: the decision was made on
		// a state it may no longer hold. The manager decides again; the
		// next sync moves the device to the new timeline.
		r.State, r.Error = syncstate.ResolutionStale, refusalMessage(err)
		if err := rs.MarkResolutionStale(ctx, r.ConflictID, r.HLC, protocol.CodeTimelineChanged+": "+r.Error, nil, 0); err != nil {
			return err
		}
		c.Trigger()
		return nil
	case err == nil:
		// The decision is this device's accepted write from now on, not
		// only once a pull brings it (a restore in between would lose it).
		r.State = ""
		return rs.AcceptResolution(ctx, *r, resp.Version)
	case errors.As(err, &ae) && ae.Code == "already_resolved":
		r.State = ""
		return rs.DropResolution(ctx, r.ConflictID, r.HLC)
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 401 && ae.Status != 429:
		var v int64
		if ae.Version != nil {
			v = *ae.Version
		}
		r.State, r.Error, r.StaleRow, r.StaleVersion = syncstate.ResolutionStale, ae.Message, ae.Row, v
		return rs.MarkResolutionStale(ctx, r.ConflictID, r.HLC, ae.Code+": "+ae.Message, ae.Row, v)
	}
	return err
}

// History returns every stored version of a row from the server, oldest
// first (GET /v1/history; online only).
func (c *Client) History(ctx context.Context, table, id string) ([]HistoryEntry, error) {
	api, err := c.currentAPI()
	if err != nil {
		return nil, err
	}
	return api.History(ctx, table, id)
}

func refusalMessage(err error) string {
	var ae *APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return ae.Message
	}
	return "the sync server was restored from a backup"
}
