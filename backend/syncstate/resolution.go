package syncstate

import "github.com/outpost-app/outpost/backend/protocol"

// Resolution states.
const (
	// ResolutionQueued: decided here, not yet accepted by the server (offline,
	// or not sent yet).
	ResolutionQueued = "queued"
	// ResolutionStale: the server answered 409 stale_base: the row moved on
	// while the manager decided. The conflict stays open and the manager
	// decides again on StaleRow; the decision is never re-sent by itself.
	ResolutionStale = "stale"
)

// Resolution is a manager's decision on a conflict, kept in the local
// database until the server accepts it, so a decision made offline survives
// a restart and is sent when the server is reachable.
type Resolution struct {
	ConflictID   string       `json:"conflict_id"`
	Row          protocol.Row `json:"row"`
	HLC          string       `json:"hlc"`
	BaseVersion  int64        `json:"base_version"`
	Reason       string       `json:"reason"`
	State        string       `json:"state"`
	QueuedAt     int64        `json:"queued_at"`
	Error        string       `json:"error,omitempty"`
	StaleRow     protocol.Row `json:"stale_row,omitempty"`
	StaleVersion int64        `json:"stale_version,omitempty"`
	// PersonID and PersonName name the person who decided (badge id and
	// display name; "" when the site has no people yet).
	PersonID   string `json:"person_id,omitempty"`
	PersonName string `json:"person_name,omitempty"`
}
