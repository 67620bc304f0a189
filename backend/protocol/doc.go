// Package protocol holds the sync wire types (contract v1, see docs/protocol.md),
// the registry of synced tables and the validation rules shared by the desktop
// client and the sync server.
//
// It imports no database driver: both the desktop binary (go-sqlcipher) and the
// server binary (mattn/go-sqlite3, pgx) link it.
package protocol

// Version is the wire protocol version this build speaks.
const Version = 1

// MinVersion is the oldest client protocol version the server still serves.
const MinVersion = 1

// HeaderProtocol is the request header carrying the client's protocol version.
const HeaderProtocol = "Outpost-Protocol"

// HeaderTimeline is the request header of push and resolve naming the
// server timeline the device knows (docs/design.md section 3, "Timelines").
const HeaderTimeline = "Outpost-Timeline"

// Error codes of the timelines rules: 409 timeline_changed (a push or
// resolve naming another timeline, or on a base_version above the site's
// sequence) and 410 resync_required.
const (
	CodeTimelineChanged = "timeline_changed"
	CodeResyncRequired  = "resync_required"
)

// Error codes of site hubs (docs/design.md section 9): 503
// upstream_unavailable (a hub cannot reach central to forward a resolve;
// the device keeps its decision queued) and 409 resolve_at_owner (the
// conflict record belongs to another tier).
const (
	CodeUpstreamUnavailable = "upstream_unavailable"
	CodeResolveAtOwner      = "resolve_at_owner"
)

// Limits of the v1 contract.
const (
	MaxBatchChanges  = 1000
	DefaultPullLimit = 500
	MaxPullLimit     = 5000
	DefaultMaxBody   = 8 << 20
)
