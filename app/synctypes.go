package app

import (
	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Sync status, the quarantine and the settings fields as the WebView sees
// them (camelCase, like every type in app). The backend's own types keep
// their snake_case JSON names: the protocol, the server and the CLI use
// them; the screens get these (issue 18 point 4).

// SyncStatus is the status bar's data: online, pending count, open
// conflicts, last sync, clock offset warning and progress. It is also the
// "sync:status" event's payload.
type SyncStatus struct {
	Enrolled  bool   `json:"enrolled"`
	ServerURL string `json:"serverUrl"`
	SiteID    string `json:"siteId"`
	Role      string `json:"role"`
	DeviceID  string `json:"deviceId"`
	Online    bool   `json:"online"`
	Syncing   bool   `json:"syncing"`
	// Pending counts rows waiting to be pushed (not in flight, not held);
	// InFlight the rows pushed without an answer yet; AwaitingReview the
	// rows held on a conflict a manager decides; Rejected the quarantine.
	Pending        int64 `json:"pending"`
	InFlight       int64 `json:"inFlight"`
	AwaitingReview int64 `json:"awaitingReview"`
	Rejected       int64 `json:"rejected"`
	OpenConflicts  int64 `json:"openConflicts"`
	// LastSync is the end of the last successful sync (ms, device clock).
	LastSync      int64        `json:"lastSync"`
	LastError     string       `json:"lastError"`
	ClockOffsetMS int64        `json:"clockOffsetMs"`
	ClockWarning  bool         `json:"clockWarning"`
	Progress      SyncProgress `json:"progress"`
	// Verify is the last verification against the server's checksums, or
	// why the last sync did not verify.
	Verify SyncVerification `json:"verify"`
	// Headquarters is the site hub's link to headquarters when this
	// computer syncs with a hub; nil with a central server.
	Headquarters *HeadquartersLink `json:"headquarters"`
}

// HeadquartersLink is what a site hub last said of its link to
// headquarters (protocol.UpstreamHealth): up or not, the end of its last
// sync with it (ms, the hub's clock; 0 never), how many of the site's
// changes wait on the hub for it and since when (the hub's clock), the
// hub's sentence when its last sync failed, and when it last verified
// itself against headquarters (0 never).
type HeadquartersLink struct {
	Up         bool   `json:"up"`
	LastSync   int64  `json:"lastSync"`
	Waiting    int64  `json:"waiting"`
	OldestMS   int64  `json:"oldestMs"`
	Error      string `json:"error"`
	VerifiedAt int64  `json:"verifiedAt"`
}

// SyncProgress is a running sync's progress: the phase ("push", "pull" or
// ""), rows pushed and pulled, and the change sequence reached (Cursor) of
// the latest the server announced (Target, 0 = unknown).
type SyncProgress struct {
	Phase  string `json:"phase"`
	Pushed int    `json:"pushed"`
	Pulled int    `json:"pulled"`
	Cursor int64  `json:"cursor"`
	Target int64  `json:"target"`
}

// SyncVerification is when the device last proved it held the server's
// state (At, ms, device clock; Cursor), its live rows per table, why the
// last sync did not verify (Problem, "" when it did), the buckets repaired
// since the app started and the differences repair could not clear.
type SyncVerification struct {
	At         int64            `json:"at"`
	Cursor     int64            `json:"cursor"`
	Tables     map[string]int64 `json:"tables" ts_type:"{[key: string]: number}"`
	Problem    string           `json:"problem"`
	Repaired   int64            `json:"repaired"`
	Unresolved int64            `json:"unresolved"`
}

// syncStatusView is the client's status as the WebView sees it.
func syncStatusView(s syncclient.Status) SyncStatus {
	return SyncStatus{
		Enrolled: s.Enrolled, ServerURL: s.ServerURL, SiteID: s.SiteID, Role: s.Role, DeviceID: s.DeviceID,
		Online: s.Online, Syncing: s.Syncing,
		Pending: s.Pending, InFlight: s.InFlight, AwaitingReview: s.AwaitingReview, Rejected: s.Rejected,
		OpenConflicts: s.OpenConflicts,
		LastSync:      s.LastSync, LastError: s.LastError, ClockOffsetMS: s.ClockOffsetMS, ClockWarning: s.ClockWarning,
		Progress: SyncProgress{Phase: s.Progress.Phase, Pushed: s.Progress.Pushed, Pulled: s.Progress.Pulled,
			Cursor: s.Progress.Cursor, Target: s.Progress.Target},
		Verify: SyncVerification{At: s.Verify.At, Cursor: s.Verify.Cursor, Tables: s.Verify.Tables,
			Problem: s.Verify.Problem, Repaired: s.Verify.Repaired, Unresolved: s.Verify.Unresolved},
		Headquarters: headquartersView(s.Upstream),
	}
}

func headquartersView(u *protocol.UpstreamHealth) *HeadquartersLink {
	if u == nil {
		return nil
	}
	return &HeadquartersLink{Up: u.Up, LastSync: u.LastSync, Waiting: int64(u.Waiting), OldestMS: u.OldestMS,
		Error: u.Error, VerifiedAt: u.VerifiedAt}
}

// QuarantinedRow is a row the server refused ("needs attention"), with its
// reason, since when (ms), the row as edited here (redacted), and the
// server's version of it known here (0 = none): what a discard returns to.
type QuarantinedRow struct {
	Table         string         `json:"table"`
	ID            string         `json:"id"`
	Reason        string         `json:"reason"`
	Since         int64          `json:"since"`
	Row           map[string]any `json:"row" ts_type:"{[key: string]: any}"`
	ServerVersion int64          `json:"serverVersion"`
}

// quarantinedRowView is a quarantined row as the WebView sees it; row is
// the row to show (already redacted).
func quarantinedRowView(q store.QuarantinedRow, row map[string]any) QuarantinedRow {
	return QuarantinedRow{Table: q.Table, ID: q.ID, Reason: q.Reason, Since: q.Since, Row: row, ServerVersion: q.ServerVersion}
}

// SettingField is one configuration field on the setup and settings
// screens: its name (config.Field's, e.g. "server_url": a key, not a JSON
// name), its value as shown (secrets blanked), where it comes from
// ("default", "preset", "user" or "managed"), whether IT locked it and
// whether it is a secret.
type SettingField struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Locked bool   `json:"locked"`
	Secret bool   `json:"secret"`
}

// settingFieldsView is the fields as the WebView sees them (never nil).
func settingFieldsView(fs []config.FieldState) []SettingField {
	out := make([]SettingField, 0, len(fs))
	for _, f := range fs {
		out = append(out, SettingField{Field: string(f.Field), Value: f.Value, Source: f.Source, Locked: f.Locked, Secret: f.Secret})
	}
	return out
}
