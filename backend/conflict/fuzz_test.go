package conflict

import (
	"fmt"
	"slices"
	"testing"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Fuzz rows are decoded from bytes, one byte per column per row, drawing
// values from a small pool so that the equalities the merge cares about
// (unchanged, same value on both sides, int64 vs float64 of one number) are
// common rather than astronomically rare. Columns get values of any type:
// Merge3 must hold its properties even on rows that were never normalised.
const (
	vAbsent = 0 // the column is not in the row
	vNil    = 1 // SQL NULL
	vInt    = 2 // int64(n)
	vFloat  = 3 // float64(n): equal to vInt of the same n
	vHalf   = 4 // float64(n) + 0.5
	vS1     = 5 // the fuzzed string s1
	vS2     = 6 // the fuzzed string s2
	vText   = 7 // "v0".."v3"
)

func code(kind, n byte) byte { return kind | n<<3 }

func decodeValue(k byte, s1, s2 string) (any, bool) {
	n := int64(k>>3) % 4
	switch k % 8 {
	case vAbsent:
		return nil, false
	case vNil:
		return nil, true
	case vInt:
		return n, true
	case vFloat:
		return float64(n), true
	case vHalf:
		return float64(n) + 0.5, true
	case vS1:
		return s1, true
	case vS2:
		return s2, true
	}
	return fmt.Sprintf("v%d", n), true
}

// decodeRows turns data into base, mine and theirs: data[0]&1 set means no
// base; then one byte per column for base, mine and theirs in turn (missing
// bytes mean absent columns).
func decodeRows(tab protocol.Table, data []byte, s1, s2 string) (base, mine, theirs protocol.Row) {
	next := func() byte {
		if len(data) == 0 {
			return vAbsent
		}
		b := data[0]
		data = data[1:]
		return b
	}
	noBase := next()&1 == 1
	rows := make([]protocol.Row, 3)
	for i := range rows {
		rows[i] = protocol.Row{}
		for _, c := range tab.Columns {
			if v, ok := decodeValue(next(), s1, s2); ok {
				rows[i][c.Name] = v
			}
		}
	}
	if noBase {
		rows[0] = nil
	}
	return rows[0], rows[1], rows[2]
}

// seedRows encodes rows for f.Add: flags, then each row's column codes.
func seedRows(noBase bool, rows ...[]byte) []byte {
	out := []byte{0}
	if noBase {
		out[0] = 1
	}
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// row codes in line_configs column order: id, line_id, recipe,
// target_rate_per_hour, temperature_c, speed_rpm, notes, updated_by,
// created_at, updated_at, deleted_at, server_updated_at.
func seedRow(over map[int]byte) []byte {
	r := []byte{
		code(vText, 0), code(vText, 1), code(vText, 2), code(vInt, 1), code(vHalf, 1), code(vInt, 2),
		code(vText, 3), code(vText, 0), code(vInt, 1), code(vInt, 2), vNil, code(vInt, 3),
	}
	for i, v := range over {
		r[i] = v
	}
	return r
}

const (
	iRecipe    = 2
	iRate      = 3
	iTemp      = 4
	iNotes     = 6
	iUpdatedBy = 7
	iUpdatedAt = 9
	iDeletedAt = 10
)

// seedColumns names the columns the seed indices point at, so a change of
// line_configs' columns shows here instead of silently shifting the seeds.
var seedColumns = map[int]string{iRecipe: "recipe", iRate: "target_rate_per_hour", iTemp: "temperature_c",
	iNotes: "notes", iUpdatedBy: "updated_by", iUpdatedAt: "updated_at", iDeletedAt: "deleted_at"}

func FuzzMerge3(f *testing.F) {
	base := seedRow(nil)
	f.Add(seedRows(false, base, base, base), "", "")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iNotes: vS1}), seedRow(map[int]byte{iRecipe: vS2})), "mine", "theirs")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iNotes: vS1}), seedRow(map[int]byte{iNotes: vS2})), hostile, "caf\u00e9")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iDeletedAt: code(vInt, 3)}), seedRow(map[int]byte{iNotes: vS1})), "edited", "")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iDeletedAt: code(vInt, 3)}), seedRow(map[int]byte{iDeletedAt: code(vFloat, 2), iNotes: vS1})), "bye", "")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iNotes: vAbsent, iTemp: vAbsent}), seedRow(map[int]byte{iNotes: vNil})), "", "")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iRate: code(vFloat, 1), iUpdatedAt: code(vFloat, 3)}), seedRow(map[int]byte{iRate: code(vInt, 2)})), "", "")
	f.Add(seedRows(true, nil, seedRow(map[int]byte{iRecipe: vS1}), seedRow(map[int]byte{iRecipe: vS2})), "R-1", "R-1 ")
	f.Add(seedRows(true, nil, seedRow(map[int]byte{iNotes: vAbsent}), seedRow(nil)), "", "")
	f.Add([]byte{}, "", "")
	// updated_by follows the later updated_at, on either side.
	f.Add(seedRows(false, base, seedRow(map[int]byte{iNotes: vS1, iUpdatedBy: vS1, iUpdatedAt: code(vInt, 3)}),
		seedRow(map[int]byte{iRecipe: vS2, iUpdatedBy: vS2})), "ann", "bob")
	f.Add(seedRows(false, base, seedRow(map[int]byte{iNotes: vS1, iUpdatedBy: vAbsent, iUpdatedAt: code(vInt, 3)}),
		seedRow(map[int]byte{iUpdatedBy: vS2, iUpdatedAt: code(vHalf, 2)})), "", "bob")

	tab := lineConfigs(f)
	if len(seedRow(nil)) != len(tab.Columns) {
		f.Fatalf("seedRow has %d columns, line_configs %d", len(seedRow(nil)), len(tab.Columns))
	}
	for i, name := range seedColumns {
		if tab.Columns[i].Name != name {
			f.Fatalf("seed index %d is %s, want %s: update the seed indices", i, tab.Columns[i].Name, name)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, s1, s2 string) {
		base, mine, theirs := decodeRows(tab, data, s1, s2)
		before := fmt.Sprintf("%#v %#v %#v", base, mine, theirs)

		res := Merge3(tab, base, mine, theirs)
		checkInvariants(t, tab, theirs, res)
		if after := fmt.Sprintf("%#v %#v %#v", base, mine, theirs); after != before {
			t.Fatalf("Merge3 modified its arguments:\nbefore %s\n after %s", before, after)
		}

		// Symmetry: the conflict set does not depend on which side pushed,
		// and a clean merge says the same thing either way.
		sw := Merge3(tab, base, theirs, mine)
		if !slices.Equal(res.Conflicts, sw.Conflicts) {
			t.Fatalf("conflicts %q, swapped %q", res.Conflicts, sw.Conflicts)
		}
		if len(res.Conflicts) == 0 {
			if d := DiffPeople(tab, res.Row, sw.Row); d != nil {
				t.Fatalf("clean merge not symmetric in %q:\n%v\n%v", d, res.Row, sw.Row)
			}
		}

		// A push that changed nothing (mine == base, or mine knowing none of
		// the columns) merges cleanly into theirs' people's fields.
		if base != nil {
			knowsNothing := protocol.Row{}
			for _, m := range []protocol.Row{base, knowsNothing} {
				r := Merge3(tab, base, m, theirs)
				// Changed is checked by checkInvariants: theirs lacking a
				// column base has is a difference the merge may have to write.
				checkInvariants(t, tab, theirs, r)
				if len(r.Conflicts) != 0 {
					t.Fatalf("unchanged mine %v: conflicts %q", m, r.Conflicts)
				}
				for _, name := range tab.PeopleColumns() {
					want, ok := theirs[name]
					if !ok {
						want = base[name]
					}
					if !Equal(r.Row[name], want) {
						t.Fatalf("unchanged mine: %s = %#v, want theirs' %#v", name, r.Row[name], want)
					}
				}
			}
		}

		if len(res.Conflicts) != 0 {
			return
		}
		// Attribution goes with the later updated_at, whichever side pushed:
		// when the two updated_at differ and both sides name an author, the
		// merge names the later edit's author in either order.
		if c, ok := Compare(mine["updated_at"], theirs["updated_at"]); ok && c != 0 {
			mb, mOK := mine["updated_by"]
			tb, tOK := theirs["updated_by"]
			if mOK && tOK {
				want := tb
				if c > 0 {
					want = mb
				}
				if !Equal(res.Row["updated_by"], want) || !Equal(sw.Row["updated_by"], want) {
					t.Fatalf("updated_by %#v, swapped %#v; want the later edit's %#v", res.Row["updated_by"], sw.Row["updated_by"], want)
				}
			}
		}
		// Idempotence: a result merged with itself is itself, and the same
		// push judged again against the merged state changes nothing.
		self := Merge3(tab, base, res.Row, res.Row)
		if len(self.Conflicts) != 0 || self.Changed {
			t.Fatalf("self-merge: conflicts %q, changed %v", self.Conflicts, self.Changed)
		}
		if d := DiffPeople(tab, self.Row, res.Row); d != nil {
			t.Fatalf("self-merge differs in %q", d)
		}
		again := Merge3(tab, base, mine, res.Row)
		if len(again.Conflicts) != 0 || again.Changed {
			t.Fatalf("re-merge: conflicts %q, changed %v\nmerged %v\nagain  %v", again.Conflicts, again.Changed, res.Row, again.Row)
		}
	})
}

func FuzzLWW(f *testing.F) {
	f.Add("000001700000000001-00000-"+devA, "000001700000000000-00000-"+devB)
	f.Add("000001700000000000-00001-"+devA, "000001700000000000-00001-"+devA)
	f.Add("000001700000000000-00001-"+devB, "000001700000000000-00001-"+devA)
	f.Add("000001700000000000-00001-"+devA, "")
	f.Add("not an hlc", "000001700000000000-00001-"+devA)
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := LWW(a, b), LWW(b, a)
		for _, w := range []Winner{ab, ba} {
			if w != WinnerMine && w != WinnerTheirs {
				t.Fatalf("LWW returned %q", w)
			}
		}
		switch {
		case a == b:
			if ab != WinnerTheirs || ba != WinnerTheirs {
				t.Fatalf("a tie must keep theirs: %q, %q", ab, ba)
			}
		case (ab == WinnerMine) == (ba == WinnerMine):
			t.Fatalf("LWW(a, b) = %q and LWW(b, a) = %q: exactly one side must win", ab, ba)
		}
		// For valid HLCs string order is clock order.
		ta, errA := hlc.Parse(a)
		tb, errB := hlc.Parse(b)
		if errA == nil && errB == nil && (ab == WinnerMine) != tb.Before(ta) {
			t.Fatalf("LWW(%q, %q) = %q disagrees with the clock order", a, b, ab)
		}
	})
}
