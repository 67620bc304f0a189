package syncstate

import "github.com/outpost-app/outpost/backend/protocol"

// QuarantinedRow is a rejected row: what the operator fixes or discards.
type QuarantinedRow struct {
	Table  string       `json:"table"`
	ID     string       `json:"id"`
	Reason string       `json:"reason"`
	Since  int64        `json:"since"`
	Row    protocol.Row `json:"row"`
	// ServerVersion is the server's version of the row known here (0 = the
	// server has none, or none was seen): what a discard returns to.
	ServerVersion int64 `json:"server_version"`
}
