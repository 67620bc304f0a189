package conflict

import "github.com/outpost-app/outpost/backend/protocol"

// Winner names the side that won a race: WinnerMine (the incoming change) or
// WinnerTheirs (the server's current state). Its values are those of
// protocol.WinnerMine and protocol.WinnerTheirs, as stored in the "winner"
// field of lww conflict records.
type Winner string

// The two sides of a conflict.
const (
	WinnerMine   Winner = protocol.WinnerMine
	WinnerTheirs Winner = protocol.WinnerTheirs
)

// LWW decides a last-write-wins race: the incoming change ("mine") wins when its
// HLC string is greater than the current state's ("theirs"). Equal → theirs (no change).
//
// HLC strings order as clocks (fixed-width wall time and counter, then the
// device id, which breaks ties), so the comparison is a plain byte-wise string
// comparison; callers validate the pushed HLC before asking. An empty theirs
// (a row with no recorded HLC) loses to any non-empty mine.
func LWW(mineHLC, theirsHLC string) Winner {
	if mineHLC > theirsHLC {
		return WinnerMine
	}
	return WinnerTheirs
}
