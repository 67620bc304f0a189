package protocol

import "encoding/json"

// Change operations.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"
)

// Push result statuses.
const (
	StatusApplied    = "applied"
	StatusMerged     = "merged"
	StatusSuperseded = "superseded"
	StatusConflict   = "conflict"
	StatusRejected   = "rejected"
)

// Conflict record statuses and LWW winners.
const (
	ConflictOpen         = "open"
	ConflictResolved     = "resolved"
	ConflictAutoResolved = "auto_resolved"
	WinnerMine           = "mine"
	WinnerTheirs         = "theirs"
)

// Device roles.
const (
	RoleOperator = "operator"
	RoleManager  = "manager"
	// RoleHub is a site hub's link to the central server (docs/design.md
	// section 9): an outpost-server of one site that pushes its devices'
	// writes upstream. It writes what a manager may write, its HLCs name
	// the site's devices, and it is never a person's terminal.
	RoleHub = "hub"
)

// HealthResponse is GET /v1/health's answer.
type HealthResponse struct {
	Status     string `json:"status"`
	Protocol   int    `json:"protocol"`
	ServerTime int64  `json:"server_time"`
	// Upstream is a site hub's link to central (docs/design.md section 9);
	// absent on a central server.
	Upstream *UpstreamHealth `json:"upstream,omitempty"`
}

// UpstreamHealth says whether a hub's link to central is up and what
// waits for it.
type UpstreamHealth struct {
	Up bool `json:"up"`
	// LastSync is the end of the last successful sync with central (ms),
	// 0 never.
	LastSync int64 `json:"last_sync"`
	// Waiting counts the site's writes central has not answered yet (up
	// to 10000); OldestMS is when the oldest of them reached the hub.
	Waiting  int    `json:"waiting"`
	OldestMS int64  `json:"oldest_ms"`
	Error    string `json:"error,omitempty"`
	// VerifiedAt is when the hub last proved it holds central's state
	// (ms), 0 never (docs/design.md section 8).
	VerifiedAt int64 `json:"verified_at,omitempty"`
}

// EnrollRequest is POST /v1/enroll's body.
type EnrollRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
	Platform   string `json:"platform"`
}

// EnrollResponse is POST /v1/enroll's answer (201).
type EnrollResponse struct {
	DeviceID string `json:"device_id"`
	Token    string `json:"token"`
	SiteID   string `json:"site_id"`
	Role     string `json:"role"`
}

// Change is one row change in a push. Row is kept raw so that the receiver
// decodes it with exact numbers (DecodeRow).
type Change struct {
	Table       string          `json:"table"`
	ID          string          `json:"id"`
	Op          string          `json:"op"`
	BaseVersion int64           `json:"base_version"`
	HLC         string          `json:"hlc"`
	Row         json.RawMessage `json:"row"`
	// OriginSeq is a hub's sequence number of this write (docs/design.md
	// section 9); devices leave it out.
	OriginSeq int64 `json:"origin_seq,omitempty"`
}

// PushRequest is POST /v1/push's body.
type PushRequest struct {
	BatchID string   `json:"batch_id"`
	Changes []Change `json:"changes"`
}

// PushResult is the outcome of one change, in the order of the request.
type PushResult struct {
	Table      string `json:"table"`
	ID         string `json:"id"`
	Status     string `json:"status"`
	Version    *int64 `json:"version,omitempty"`
	ConflictID string `json:"conflict_id,omitempty"`
	Row        Row    `json:"row,omitempty"`
	Error      string `json:"error,omitempty"`
}

// PushResponse is POST /v1/push's answer.
type PushResponse struct {
	BatchID    string       `json:"batch_id"`
	ServerTime int64        `json:"server_time"`
	Results    []PushResult `json:"results"`
	// OriginMark answers a site hub's push only: the highest origin_seq
	// of that hub central has applied (docs/design.md section 9), which a
	// hub restored from a backup continues above.
	OriginMark *int64 `json:"origin_mark,omitempty"`
}

// PullChange is the latest state of one changed row.
type PullChange struct {
	Table   string `json:"table"`
	ID      string `json:"id"`
	Version int64  `json:"version"`
	HLC     string `json:"hlc"`
	Row     Row    `json:"row"`
}

// PullResponse is GET /v1/pull's answer.
type PullResponse struct {
	Changes []PullChange `json:"changes"`
	Cursor  int64        `json:"cursor"`
	HasMore bool         `json:"has_more"`
	// Timeline is the server database's timeline id (additive, docs/design.md
	// section 3): another one than the device knows means a restore.
	Timeline string `json:"timeline,omitempty"`
}

// ResolveRequest is POST /v1/conflicts/{id}/resolve's body.
type ResolveRequest struct {
	Row         json.RawMessage `json:"row"`
	HLC         string          `json:"hlc"`
	BaseVersion *int64          `json:"base_version,omitempty"`
	Reason      *string         `json:"reason,omitempty"`
	// PersonID and PersonName name the person who decided (badge id and
	// display name, additive to contract v1); the record keeps them as
	// resolved_by_person and resolved_by_name.
	PersonID   *string `json:"person_id,omitempty"`
	PersonName *string `json:"person_name,omitempty"`
}

// ResolveResponse is the resolve endpoint's answer.
type ResolveResponse struct {
	Version int64 `json:"version"`
}

// ErrorBody is every error answer: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error. Row and Version accompany 409 stale_base;
// Sequence and Timeline accompany 410 resync_required (additive): the site's
// current sequence and the server's timeline, so a device tells a horizon
// resync from a restore.
type ErrorDetail struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Row      Row    `json:"row,omitempty"`
	Version  *int64 `json:"version,omitempty"`
	Sequence *int64 `json:"sequence,omitempty"`
	Timeline string `json:"timeline,omitempty"`
}

// EventChange is the data of an "event: change" server-sent event.
type EventChange struct {
	Cursor int64 `json:"cursor"`
}
