package conflict

import (
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

const (
	devA = "aaaaaaaa-0000-4000-8000-000000000001"
	devB = "bbbbbbbb-0000-4000-8000-000000000002"
)

func TestLWW(t *testing.T) {
	tests := []struct {
		name         string
		mine, theirs string
		want         Winner
	}{
		{"later wall time wins", "000001700000000001-00000-" + devA, "000001700000000000-00000-" + devB, WinnerMine},
		{"earlier wall time loses", "000001700000000000-00000-" + devA, "000001700000000001-00000-" + devB, WinnerTheirs},
		{"counter breaks a same-ms tie", "000001700000000000-00002-" + devA, "000001700000000000-00001-" + devB, WinnerMine},
		{"device id breaks a full tie", "000001700000000000-00001-" + devB, "000001700000000000-00001-" + devA, WinnerMine},
		{"equal is theirs", "000001700000000000-00001-" + devA, "000001700000000000-00001-" + devA, WinnerTheirs},
		{"no recorded hlc loses", "000001700000000000-00000-" + devA, "", WinnerMine},
		{"both empty is theirs", "", "", WinnerTheirs},
		{"compared as strings, not numbers", "9", "10", WinnerMine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LWW(tt.mine, tt.theirs); got != tt.want {
				t.Errorf("LWW(%q, %q) = %q, want %q", tt.mine, tt.theirs, got, tt.want)
			}
			// Swapped: the other side wins, except that a tie never changes
			// the row whichever side pushes.
			want := WinnerTheirs
			if tt.mine != tt.theirs && tt.want == WinnerTheirs {
				want = WinnerMine
			}
			if got := LWW(tt.theirs, tt.mine); got != want {
				t.Errorf("swapped: LWW(%q, %q) = %q, want %q", tt.theirs, tt.mine, got, want)
			}
		})
	}
}

func TestWinner_matchesProtocol(t *testing.T) {
	if string(WinnerMine) != protocol.WinnerMine || string(WinnerTheirs) != protocol.WinnerTheirs {
		t.Fatalf("Winner values %q/%q drifted from protocol's %q/%q",
			WinnerMine, WinnerTheirs, protocol.WinnerMine, protocol.WinnerTheirs)
	}
}
