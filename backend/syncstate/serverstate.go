package syncstate

// ServerState is the server's state of one row, as pulled.
type ServerState struct {
	Version int64
	HLC     string
	Row     map[string]any
}
