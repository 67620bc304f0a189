package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Conflict is one conflict record as the inbox shows it: the common
// ancestor (base), the device's change (mine) and the server's state it met
// (theirs), with who, when and why once decided. Queued and Stale describe a
// decision made on this computer that the server has not accepted yet.
type Conflict struct {
	ID     string `json:"id"`
	Table  string `json:"table"`
	RowID  string `json:"rowId"`
	Status string `json:"status"` // open, auto_resolved, resolved
	// Base, Mine, Theirs and StaleRow are full rows (objects; Base may be
	// null). Typed any: the generated TypeScript's app.Record class would
	// shadow TypeScript's Record<K, V>.
	Base       any      `json:"base"`
	Mine       any      `json:"mine"`
	Theirs     any      `json:"theirs"`
	Winner     string   `json:"winner"`
	Fields     []string `json:"fields"`
	DeviceID   string   `json:"deviceId"`
	CreatedAt  int64    `json:"createdAt"`
	ResolvedAt int64    `json:"resolvedAt"`
	// ResolvedBy is the device that decided; ResolvedByPerson the badge id
	// of the person signed in there and ResolvedByName their name (else the
	// badge id, else a short device id).
	ResolvedBy       string `json:"resolvedBy"`
	ResolvedByPerson string `json:"resolvedByPerson"`
	ResolvedByName   string `json:"resolvedByName"`
	// MineBy is who made the pushed ("mine") edit: the record's operator_id,
	// else the row's updated_by; MineByName their display name (else the
	// badge id, else a short device id).
	MineBy     string `json:"mineBy"`
	MineByName string `json:"mineByName"`
	// TheirsBy is who made the server's state ("theirs", saved first): its
	// operator_id or updated_by; TheirsByName their display name (else the
	// badge id; "" when the row names nobody).
	TheirsBy      string `json:"theirsBy"`
	TheirsByName  string `json:"theirsByName"`
	Reason        string `json:"reason"`
	TheirsVersion int64  `json:"theirsVersion"`
	// Decision is this computer's decision while the server has not
	// accepted it: "queued" (waits for the connection) or "stale" (the row
	// moved on: StaleRow is the server's current state, decide again).
	Decision      string `json:"decision"`
	DecisionError string `json:"decisionError"`
	StaleRow      any    `json:"staleRow"`
	StaleVersion  int64  `json:"staleVersion"`
	// RowVersion is the row's version the conflict record names: for a
	// resolved conflict, the version the decision made. Decided is the row
	// as decided, read from this computer (works offline): set when the
	// conflict is resolved and the local row is clean at RowVersion, else
	// nil (the row moved on, or has not arrived yet): the server's history
	// holds it then.
	RowVersion int64 `json:"rowVersion"`
	Decided    any   `json:"decided"`
	// Owner is set when a site hub recorded the conflict (docs/design.md
	// section 9): it is decided on that site, by a manager there; "" for a
	// conflict recorded at headquarters.
	Owner string `json:"owner"`
}

// HistoryEntry is one stored version of a record: who wrote it (the
// device, and ByName: the person's name from the row's operator_id or
// updated_by, else their badge id, else a short device id).
type HistoryEntry struct {
	Version  int64  `json:"version"`
	HLC      string `json:"hlc"`
	DeviceID string `json:"deviceId"`
	// Row is the full row (an object; typed any: see Conflict.Base).
	Row    any    `json:"row"`
	ByName string `json:"byName"`
}

// ConflictService is bound into the WebView: the conflict inbox, decisions
// and record history. Only manager computers resolve; the server refuses
// others too.
type ConflictService struct {
	sync *SyncService
}

// NewConflictService returns the service over the sync service's client.
func NewConflictService(s *SyncService) *ConflictService { return &ConflictService{sync: s} }

type conflictStore interface {
	Conflicts(ctx context.Context, open bool) ([]store.Conflict, error)
	Resolutions(ctx context.Context) ([]store.Resolution, error)
	PeopleNames(ctx context.Context) (map[string]string, error)
	SyncedRowByID(ctx context.Context, table, id string) (store.SyncedRow, error)
}

// names turns a person's badge id into a display name: the site's people
// (nil when unknown) know it, else the badge id itself, else a short device
// id stands in.
type names map[string]string

func (n names) of(badge, deviceID string) string {
	if badge != "" {
		if name := n[badge]; name != "" {
			return name
		}
		return badge
	}
	return shortDevice(deviceID)
}

// author is who made a row's state: a record's operator, else the row's
// updated_by ("" when neither is set).
func author(table string, row map[string]any) string {
	if row == nil {
		return ""
	}
	if table == "" || table == "production_records" {
		if s, _ := row["operator_id"].(string); s != "" {
			return s
		}
	}
	s, _ := row["updated_by"].(string)
	return s
}

func (c *ConflictService) names(ctx context.Context) names {
	st := c.sync.local()
	if st == nil {
		return nil
	}
	n, err := st.PeopleNames(ctx)
	if err != nil {
		slog.Warn("read people's names", "err", err)
		return nil
	}
	return n
}

// List returns every conflict pulled to this computer: open ones first, then
// auto-resolved and resolved, newest first within each.
func (c *ConflictService) List() ([]Conflict, error) {
	cl, err := c.sync.get()
	if err != nil {
		return nil, err
	}
	st := c.sync.local()
	if st == nil {
		return nil, &Error{Code: CodeStoreClosed, Message: "Conflicts are not available because the local database did not open."}
	}
	_ = cl
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	recs, err := st.Conflicts(ctx, false)
	if err != nil {
		return nil, err
	}
	decisions, err := st.Resolutions(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]store.Resolution{}
	for _, d := range decisions {
		byID[d.ConflictID] = d
	}
	people := c.names(ctx)
	out := make([]Conflict, 0, len(recs))
	for _, r := range recs {
		var w struct {
			Status        string         `json:"status"`
			Base          map[string]any `json:"base"`
			Mine          map[string]any `json:"mine"`
			Theirs        map[string]any `json:"theirs"`
			Winner        string         `json:"winner"`
			Fields        []string       `json:"fields"`
			DeviceID      string         `json:"device_id"`
			CreatedAt     int64          `json:"created_at"`
			ResolvedAt    *int64         `json:"resolved_at"`
			ResolvedBy    *string        `json:"resolved_by"`
			ByPerson      *string        `json:"resolved_by_person"`
			ByName        *string        `json:"resolved_by_name"`
			Reason        *string        `json:"reason"`
			TheirsVersion int64          `json:"theirs_version"`
			RowVersion    int64          `json:"row_version"`
			Owner         *string        `json:"owner"`
		}
		if err := json.Unmarshal(r.Record, &w); err != nil {
			slog.Warn("skip unreadable conflict record", "id", r.ID, "err", err)
			continue
		}
		// Rows leave for the WebView redacted: a PIN hash becomes a token.
		sec := &c.sync.secrets
		v := Conflict{ID: r.ID, Table: r.TableName, RowID: r.RowID, Status: r.Status, Mine: sec.row(w.Mine), Theirs: sec.row(w.Theirs),
			Winner: w.Winner, Fields: w.Fields, DeviceID: w.DeviceID, CreatedAt: w.CreatedAt, TheirsVersion: w.TheirsVersion,
			RowVersion: w.RowVersion}
		if w.Base != nil {
			v.Base = sec.row(w.Base)
		}
		if w.ResolvedAt != nil {
			v.ResolvedAt = *w.ResolvedAt
		}
		if w.ResolvedBy != nil {
			v.ResolvedBy = *w.ResolvedBy
		}
		v.MineBy = author(r.TableName, w.Mine)
		v.MineByName = people.of(v.MineBy, v.DeviceID)
		if v.TheirsBy = author(r.TableName, w.Theirs); v.TheirsBy != "" {
			v.TheirsByName = people.of(v.TheirsBy, "")
		}
		if w.ByPerson != nil {
			v.ResolvedByPerson = *w.ByPerson
		}
		switch {
		case w.ByName != nil && *w.ByName != "":
			v.ResolvedByName = *w.ByName
		case v.ResolvedBy != "" || v.ResolvedByPerson != "":
			v.ResolvedByName = people.of(v.ResolvedByPerson, v.ResolvedBy)
		}
		if w.Reason != nil {
			v.Reason = *w.Reason
		}
		if w.Owner != nil {
			v.Owner = *w.Owner
		}
		if d, ok := byID[r.ID]; ok && r.Status == "open" {
			v.Decision, v.DecisionError, v.StaleVersion = d.State, d.Error, d.StaleVersion
			if d.StaleRow != nil {
				v.StaleRow = sec.row(map[string]any(d.StaleRow))
			}
		}
		if r.Status == protocol.ConflictResolved {
			if d := decidedRow(ctx, st, r.TableName, r.RowID, v.RowVersion); d != nil {
				v.Decided = sec.redact(d)
			}
		}
		if v.Fields == nil {
			v.Fields = []string{}
		}
		out = append(out, v)
	}
	rank := map[string]int{"open": 0, "auto_resolved": 1, "resolved": 2}
	slices.SortStableFunc(out, func(a, b Conflict) int { return rank[a.Status] - rank[b.Status] })
	return out, nil
}

// decidedRow is the row a resolved conflict's decision made, as this
// computer holds it: the local row when it is clean (equals the server's
// version) at version, the one the decision made. Anything else — the row
// moved on since, is edited here, has not arrived yet, or is gone — gives
// nil: only the server's history knows the decided state then.
func decidedRow(ctx context.Context, st conflictStore, table, id string, version int64) any {
	if version <= 0 {
		return nil
	}
	r, err := st.SyncedRowByID(ctx, table, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrUnknownTable) {
			slog.Warn("read the decided row", "table", table, "id", id, "err", err)
		}
		return nil
	}
	if r.State != store.StateClean || r.Version != version {
		return nil
	}
	return map[string]any(r.Row)
}

// Resolve decides conflict id: row is the chosen full state (people's
// fields), baseVersion the server version the decision was made against,
// reason is required. The decision is kept on this computer and sent at once
// when online, else when the connection is back. It returns the decision's
// state: "sent", "queued" or "stale" (the row moved on: decide again).
func (c *ConflictService) Resolve(id string, row map[string]any, baseVersion int64, reason string) (string, error) {
	cl, err := c.sync.get()
	if err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", fieldError(CodeInvalidInput, "reason", "Write why you decided this way: the site sees it with the decision.").With("rule", "reason_required")
	}
	if row == nil {
		return "", fieldError(CodeInvalidInput, "row", "Choose a value for every field first.").With("rule", "choose_every_field")
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	by, err := c.decider(ctx)
	if err != nil {
		return "", err
	}
	row, err = c.reveal(ctx, id, row)
	if err != nil {
		return "", err
	}
	if by.PersonID != "" {
		row = c.stampDecider(ctx, id, row, by.PersonID)
	}
	r, err := cl.Resolve(ctx, id, protocol.Row(row), baseVersion, reason, by)
	if errors.Is(err, syncclient.ErrNotManager) {
		return "", &Error{Code: "forbidden", Message: "Only a manager's computer can resolve conflicts.", Params: map[string]any{"rule": "manager_computer"}}
	}
	if err != nil {
		return "", syncError(err)
	}
	if r.State == "" {
		return "sent", nil
	}
	return r.State, nil
}

var registry = protocol.NewRegistry()

// stampDecider sets updated_by of the chosen row to the deciding person
// when its table has the column: the decision is their edit (history shows
// their name).
func (c *ConflictService) stampDecider(ctx context.Context, id string, row map[string]any, badge string) map[string]any {
	st := c.sync.local()
	if st == nil {
		return row
	}
	open, err := st.Conflicts(ctx, true)
	if err != nil {
		return row
	}
	for _, r := range open {
		if r.ID != id {
			continue
		}
		if tb, ok := registry.Lookup(r.TableName); ok {
			if _, has := tb.Column("updated_by"); has {
				out := make(map[string]any, len(row)+1)
				for k, v := range row {
					out[k] = v
				}
				out["updated_by"] = badge
				return out
			}
		}
	}
	return row
}

// reveal puts back the secrets (PIN hashes) the WebView got as tokens into
// a chosen row: each must be the value one side of conflict id holds
// (base, mine, theirs, or the server's newer state of a stale decision).
// Every conflict is searched, not only open ones: an auto-resolved one can
// be reverted.
func (c *ConflictService) reveal(ctx context.Context, id string, row map[string]any) (map[string]any, error) {
	var sides []map[string]any
	if st := c.sync.local(); st != nil {
		all, err := st.Conflicts(ctx, false)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			if r.ID != id {
				continue
			}
			var w struct {
				Base, Mine, Theirs map[string]any
			}
			if err := json.Unmarshal(r.Record, &w); err == nil {
				sides = append(sides, w.Base, w.Mine, w.Theirs)
			}
		}
		decisions, err := st.Resolutions(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range decisions {
			if d.ConflictID == id && d.StaleRow != nil {
				sides = append(sides, map[string]any(d.StaleRow))
			}
		}
	}
	return c.sync.secrets.reveal(row, sides...)
}

// decider is the person deciding a conflict: when sign-in is required, a
// signed-in manager (a manager's computer is not enough).
func (c *ConflictService) decider(ctx context.Context) (syncclient.Decider, error) {
	if c.sync.deviceRole() != protocol.RoleManager {
		return syncclient.Decider{}, &Error{Code: CodeForbidden, Message: "Only a manager's computer can resolve conflicts.", Params: map[string]any{"rule": "manager_computer"}}
	}
	st := c.sync.local()
	if st == nil || c.sync.sess == nil {
		return syncclient.Decider{}, nil
	}
	a, err := actorOf(ctx, c.sync.sess, st)
	if err != nil {
		return syncclient.Decider{}, err
	}
	if !a.required {
		return syncclient.Decider{}, nil
	}
	switch {
	case a.person == nil:
		return syncclient.Decider{}, &Error{Code: CodeSignInRequired, Message: "Sign in as a manager to resolve conflicts.", Params: map[string]any{"rule": "manager"}}
	case a.person.Role != protocol.PersonManager:
		return syncclient.Decider{}, &Error{Code: CodeForbidden, Message: fmt.Sprintf("Only a manager can resolve conflicts; %s is signed in as %s.", a.person.DisplayName, a.person.Role),
			Params: map[string]any{"rule": "manager_only", "name": a.person.DisplayName, "role": a.person.Role}}
	}
	return syncclient.Decider{PersonID: a.person.BadgeID, PersonName: a.person.DisplayName}, nil
}

// History returns every version of a record the server keeps, oldest first.
func (c *ConflictService) History(table, id string) ([]HistoryEntry, error) {
	cl, err := c.sync.get()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	h, err := cl.History(ctx, table, id)
	if err != nil {
		return nil, syncError(err)
	}
	people := c.names(ctx)
	out := make([]HistoryEntry, len(h))
	for i, e := range h {
		out[i] = HistoryEntry{Version: e.Version, HLC: e.HLC, DeviceID: e.DeviceID, Row: c.sync.secrets.row(e.Row),
			ByName: people.of(author(table, e.Row), e.DeviceID)}
	}
	return out, nil
}

// shortDevice is the name of last resort for a device: its id's first
// eight characters.
func shortDevice(id string) string {
	if len(id) > 8 {
		return "device " + id[:8]
	}
	if id == "" {
		return ""
	}
	return "device " + id
}

// sendQueued sends decisions made offline; called after each sync.
func (s *SyncService) sendQueued(cl *syncclient.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := cl.SendResolutions(ctx); err != nil {
		slog.Debug("queued resolutions wait", "err", err)
	} else if n > 0 {
		slog.Info("sent queued resolutions", "count", n)
	}
}
