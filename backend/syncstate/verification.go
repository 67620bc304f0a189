package syncstate

// Verification is the last time the device proved it held the server's
// state (docs/design.md section 8): the cursor it verified at, when (ms,
// device clock), and the number of live rows per table it held then.
type Verification struct {
	Cursor int64            `json:"cursor"`
	At     int64            `json:"at"`
	Tables map[string]int64 `json:"tables"`
}
