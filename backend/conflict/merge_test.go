package conflict

import (
	"slices"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

const rid = "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"

// absent, as a value in with(), removes the column from the row.
type absentT struct{}

var absent = absentT{}

func lineConfigs(tb testing.TB) protocol.Table {
	tb.Helper()
	tab, ok := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	if !ok {
		tb.Fatal("line_configs is not in the registry")
	}
	return tab
}

// baseRow is a line_configs row as the server stored it at version N.
func baseRow() protocol.Row {
	return protocol.Row{
		"id": rid, "line_id": "L1", "recipe": "R-1",
		"target_rate_per_hour": int64(100), "temperature_c": 20.5, "speed_rpm": int64(1200),
		"notes": "first", "updated_by": "B-100", "created_at": int64(1000), "updated_at": int64(2000),
		"deleted_at": nil, "server_updated_at": int64(2001),
	}
}

// with returns a copy of r with the given name/value pairs set (or removed,
// for the value absent).
func with(r protocol.Row, kv ...any) protocol.Row {
	out := r.Clone()
	if out == nil {
		out = protocol.Row{}
	}
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == absent {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

const hostile = "'; DROP TABLE line_configs;-- <script>alert(1)</script> ${7*7} \u202egnp.exe \x00"

func TestMerge3(t *testing.T) {
	tab := lineConfigs(t)
	b := baseRow()
	tests := []struct {
		name          string
		base          protocol.Row
		mine, theirs  protocol.Row
		wantConflicts []string
		want          protocol.Row // the whole merged row; checked when there is no conflict
		wantChanged   bool
	}{
		{
			name: "nothing changed",
			base: b, mine: b, theirs: b,
			want: b,
		},
		{
			name: "disjoint edits merge",
			base: b,
			mine: with(b, "notes", "mine note", "updated_at", int64(3000)),
			theirs: with(b, "recipe", "R-2", "updated_at", int64(2500),
				"server_updated_at", int64(2600)),
			want: with(b, "recipe", "R-2", "notes", "mine note", "updated_at", int64(3000),
				"server_updated_at", int64(2600)),
			wantChanged: true,
		},
		{
			name:   "mine unchanged keeps theirs",
			base:   b,
			mine:   with(b, "updated_at", int64(3000)),
			theirs: with(b, "speed_rpm", int64(900), "updated_at", int64(2500)),
			want:   with(b, "speed_rpm", int64(900), "updated_at", int64(3000)),
		},
		{
			name:        "same field same value merges",
			base:        b,
			mine:        with(b, "notes", "same", "updated_at", int64(2100)),
			theirs:      with(b, "notes", "same", "updated_at", int64(2200)),
			want:        with(b, "notes", "same", "updated_at", int64(2200)),
			wantChanged: false,
		},
		{
			name:          "same field different values conflicts",
			base:          b,
			mine:          with(b, "notes", "a"),
			theirs:        with(b, "notes", "b"),
			wantConflicts: []string{"notes"},
		},
		{
			name:          "conflicts are sorted by column order",
			base:          b,
			mine:          with(b, "notes", "a", "recipe", "R-a", "temperature_c", 1.0, "line_id", "L1"),
			theirs:        with(b, "notes", "b", "recipe", "R-b", "temperature_c", 2.0),
			wantConflicts: []string{"recipe", "temperature_c", "notes"},
		},
		{
			name:          "a conflict beside a disjoint edit is still a conflict",
			base:          b,
			mine:          with(b, "notes", "a", "speed_rpm", int64(1)),
			theirs:        with(b, "notes", "b"),
			wantConflicts: []string{"notes"},
		},
		{
			name:          "delete vs edit conflicts",
			base:          b,
			mine:          with(b, "deleted_at", int64(5000), "updated_at", int64(5000)),
			theirs:        with(b, "notes", "edited"),
			wantConflicts: []string{"deleted_at"},
		},
		{
			name:          "edit vs delete conflicts",
			base:          b,
			mine:          with(b, "target_rate_per_hour", int64(150)),
			theirs:        with(b, "deleted_at", int64(5000)),
			wantConflicts: []string{"deleted_at"},
		},
		{
			name:          "delete with an edit vs an edit elsewhere conflicts",
			base:          b,
			mine:          with(b, "deleted_at", int64(5000), "notes", "closing"),
			theirs:        with(b, "recipe", "R-2"),
			wantConflicts: []string{"deleted_at"},
		},
		{
			name:          "delete with an edit vs an edit of the same field",
			base:          b,
			mine:          with(b, "deleted_at", int64(5000), "notes", "closing"),
			theirs:        with(b, "notes", "still running"),
			wantConflicts: []string{"notes", "deleted_at"},
		},
		{
			name:          "delete vs an edit clearing a field conflicts",
			base:          b,
			mine:          with(b, "deleted_at", int64(5000)),
			theirs:        with(b, "notes", nil),
			wantConflicts: []string{"deleted_at"},
		},
		{
			name:        "delete vs unchanged merges",
			base:        b,
			mine:        with(b, "deleted_at", int64(5000), "updated_at", int64(5000)),
			theirs:      b,
			want:        with(b, "deleted_at", int64(5000), "updated_at", int64(5000)),
			wantChanged: true,
		},
		{
			name:   "delete vs delete merges",
			base:   b,
			mine:   with(b, "deleted_at", int64(5000)),
			theirs: with(b, "deleted_at", int64(5000)),
			want:   with(b, "deleted_at", int64(5000)),
		},
		{
			name:        "delete vs delete at another time keeps the earlier",
			base:        b,
			mine:        with(b, "deleted_at", int64(5000)),
			theirs:      with(b, "deleted_at", int64(6000)),
			want:        with(b, "deleted_at", int64(5000)),
			wantChanged: true,
		},
		{
			name:        "delete vs delete with an edit merges",
			base:        b,
			mine:        with(b, "deleted_at", int64(7000)),
			theirs:      with(b, "deleted_at", int64(6000), "notes", "bye"),
			want:        with(b, "deleted_at", int64(6000), "notes", "bye"),
			wantChanged: false,
		},
		{
			name:        "restore vs edit merges",
			base:        with(b, "deleted_at", int64(4000)),
			mine:        with(b, "deleted_at", nil),
			theirs:      with(b, "deleted_at", int64(4000), "notes", "edited while deleted"),
			want:        with(b, "deleted_at", nil, "notes", "edited while deleted"),
			wantChanged: true,
		},
		{
			name:          "restore vs re-delete conflicts",
			base:          with(b, "deleted_at", int64(4000)),
			mine:          with(b, "deleted_at", nil),
			theirs:        with(b, "deleted_at", int64(4500)),
			wantConflicts: []string{"deleted_at"},
		},
		{
			name:   "nullable absent in mine keeps theirs",
			base:   b,
			mine:   with(b, "notes", absent, "speed_rpm", absent, "recipe", "R-2"),
			theirs: with(b, "notes", "theirs", "speed_rpm", nil),
			want:   with(b, "notes", "theirs", "speed_rpm", nil, "recipe", "R-2"),
			// recipe comes from mine.
			wantChanged: true,
		},
		{
			name:   "nullable absent in mine keeps an unchanged value",
			base:   b,
			mine:   with(b, "notes", absent),
			theirs: b,
			want:   b,
		},
		{
			name:        "explicit null in mine clears",
			base:        b,
			mine:        with(b, "notes", nil),
			theirs:      with(b, "recipe", "R-2"),
			want:        with(b, "notes", nil, "recipe", "R-2"),
			wantChanged: true,
		},
		{
			name:          "explicit null vs edit conflicts",
			base:          b,
			mine:          with(b, "notes", nil),
			theirs:        with(b, "notes", "kept"),
			wantConflicts: []string{"notes"},
		},
		{
			name: "nil base: equal fields merge",
			base: nil,
			mine: with(b, "created_at", int64(1100), "updated_at", int64(1100),
				"server_updated_at", absent),
			theirs: with(b, "created_at", int64(1050), "updated_at", int64(1050),
				"server_updated_at", int64(1060)),
			want: with(b, "created_at", int64(1050), "updated_at", int64(1100),
				"server_updated_at", int64(1060)),
		},
		{
			name:          "nil base: differing fields conflict",
			base:          nil,
			mine:          with(b, "recipe", "R-mine", "notes", nil),
			theirs:        with(b, "recipe", "R-theirs", "notes", "x"),
			wantConflicts: []string{"recipe", "notes"},
		},
		{
			name:   "nil base: absent in mine takes theirs",
			base:   nil,
			mine:   with(b, "notes", absent, "temperature_c", absent),
			theirs: with(b, "notes", "theirs"),
			want:   with(b, "notes", "theirs"),
		},
		{
			name:          "nil base: created deleted vs created live conflicts",
			base:          nil,
			mine:          with(b, "deleted_at", int64(1500)),
			theirs:        b,
			wantConflicts: []string{"deleted_at"},
		},
		{
			name: "float vs int: unchanged in another representation",
			base: b,
			mine: with(b, "target_rate_per_hour", float64(100), "temperature_c", 20.5,
				"speed_rpm", float64(1200)),
			theirs:      with(b, "target_rate_per_hour", int64(120), "speed_rpm", int64(1300)),
			want:        with(b, "target_rate_per_hour", int64(120), "speed_rpm", int64(1300)),
			wantChanged: false,
		},
		{
			name:   "float vs int: same new value merges",
			base:   with(b, "temperature_c", float64(20)),
			mine:   with(b, "temperature_c", int64(22), "speed_rpm", float64(1500)),
			theirs: with(b, "temperature_c", float64(22), "speed_rpm", int64(1500)),
			want:   with(b, "temperature_c", float64(22), "speed_rpm", int64(1500)),
		},
		{
			name:          "float vs int: 2^53+1 is not 2^53",
			base:          b,
			mine:          with(b, "speed_rpm", int64(1<<53+1)),
			theirs:        with(b, "speed_rpm", float64(1<<53)),
			wantConflicts: []string{"speed_rpm"},
		},
		{
			name:   "updated_at takes the later, created_at keeps base's",
			base:   b,
			mine:   with(b, "updated_at", int64(9000), "created_at", int64(1)),
			theirs: with(b, "updated_at", int64(8000), "created_at", int64(2)),
			want:   with(b, "updated_at", int64(9000)),
		},
		{
			name:   "updated_at compares numerically across representations",
			base:   b,
			mine:   with(b, "updated_at", float64(10000)),
			theirs: with(b, "updated_at", int64(9999)),
			want:   with(b, "updated_at", float64(10000)),
		},
		{
			name:   "id stays, server_updated_at is theirs', unknown columns are dropped",
			base:   b,
			mine:   with(b, "server_updated_at", int64(1), "colour", "red", "version", int64(3)),
			theirs: with(b, "server_updated_at", int64(7000)),
			want:   with(b, "server_updated_at", int64(7000)),
		},
		{
			name: "updated_by follows the later updated_at: mine",
			base: b,
			mine: with(b, "notes", "mine note", "updated_by", "ann", "updated_at", int64(3000)),
			theirs: with(b, "recipe", "R-2", "updated_by", "bob", "updated_at", int64(2500),
				"server_updated_at", int64(2600)),
			want: with(b, "recipe", "R-2", "notes", "mine note", "updated_by", "ann", "updated_at", int64(3000),
				"server_updated_at", int64(2600)),
			wantChanged: true,
		},
		{
			name: "updated_by follows the later updated_at: theirs",
			base: b,
			mine: with(b, "notes", "mine note", "updated_by", "ann", "updated_at", int64(2500)),
			theirs: with(b, "recipe", "R-2", "updated_by", "bob", "updated_at", int64(3000),
				"server_updated_at", int64(3001)),
			want: with(b, "recipe", "R-2", "notes", "mine note", "updated_by", "bob", "updated_at", int64(3000),
				"server_updated_at", int64(3001)),
			wantChanged: true,
		},
		{
			name:        "updated_by on an updated_at tie keeps theirs",
			base:        b,
			mine:        with(b, "notes", "mine note", "updated_by", "ann", "updated_at", int64(3000)),
			theirs:      with(b, "recipe", "R-2", "updated_by", "bob", "updated_at", int64(3000)),
			want:        with(b, "recipe", "R-2", "notes", "mine note", "updated_by", "bob", "updated_at", int64(3000)),
			wantChanged: true,
		},
		{
			name:        "updated_by left out by a later mine keeps theirs'",
			base:        b,
			mine:        with(b, "notes", "mine note", "updated_by", absent, "updated_at", int64(3000)),
			theirs:      with(b, "recipe", "R-2", "updated_by", "bob", "updated_at", int64(2500)),
			want:        with(b, "recipe", "R-2", "notes", "mine note", "updated_by", "bob", "updated_at", int64(3000)),
			wantChanged: true,
		},
		{
			name:        "updated_by cleared by the later side",
			base:        b,
			mine:        with(b, "notes", "mine note", "updated_by", nil, "updated_at", int64(3000)),
			theirs:      with(b, "recipe", "R-2", "updated_by", "bob", "updated_at", int64(2500)),
			want:        with(b, "recipe", "R-2", "notes", "mine note", "updated_by", nil, "updated_at", int64(3000)),
			wantChanged: true,
		},
		{
			name:   "updated_by alone is not a people's change",
			base:   b,
			mine:   with(b, "updated_by", "ann", "updated_at", int64(3000)),
			theirs: b,
			want:   with(b, "updated_by", "ann", "updated_at", int64(3000)),
		},
		{
			name:   "updated_by differing on both sides never conflicts",
			base:   b,
			mine:   with(b, "notes", "same", "updated_by", "ann", "updated_at", int64(2100)),
			theirs: with(b, "notes", "same", "updated_by", "bob", "updated_at", int64(2200)),
			want:   with(b, "notes", "same", "updated_by", "bob", "updated_at", int64(2200)),
		},
		{
			name:        "hostile strings merge verbatim",
			base:        b,
			mine:        with(b, "notes", hostile),
			theirs:      with(b, "recipe", "<b>R-2</b> OR 1=1"),
			want:        with(b, "notes", hostile, "recipe", "<b>R-2</b> OR 1=1"),
			wantChanged: true,
		},
		{
			name:   "the same hostile string on both sides merges",
			base:   b,
			mine:   with(b, "notes", hostile),
			theirs: with(b, "notes", hostile),
			want:   with(b, "notes", hostile),
		},
		{
			name:          "hostile strings: NFD vs NFC conflicts",
			base:          b,
			mine:          with(b, "notes", "cafe\u0301"),
			theirs:        with(b, "notes", "caf\u00e9"),
			wantConflicts: []string{"notes"},
		},
		{
			name:          "hostile strings: trailing space and case are differences",
			base:          b,
			mine:          with(b, "recipe", "R-2 ", "line_id", "l1"),
			theirs:        with(b, "recipe", "R-2", "line_id", "L2"),
			wantConflicts: []string{"line_id", "recipe"},
		},
		{
			name:          "hostile strings: a NUL byte is a difference",
			base:          b,
			mine:          with(b, "notes", "x\x00"),
			theirs:        with(b, "notes", "x"),
			wantConflicts: []string{"notes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge3(tab, tt.base, tt.mine, tt.theirs)
			if !slices.Equal(got.Conflicts, tt.wantConflicts) {
				t.Fatalf("Conflicts = %q, want %q", got.Conflicts, tt.wantConflicts)
			}
			checkInvariants(t, tab, tt.theirs, got)
			if len(tt.wantConflicts) == 0 {
				assertRow(t, tab, got.Row, tt.want)
				if got.Changed != tt.wantChanged {
					t.Errorf("Changed = %v, want %v", got.Changed, tt.wantChanged)
				}
			}

			t.Run("swapped", func(t *testing.T) {
				sw := Merge3(tab, tt.base, tt.theirs, tt.mine)
				if !slices.Equal(sw.Conflicts, tt.wantConflicts) {
					t.Fatalf("Conflicts = %q, want %q", sw.Conflicts, tt.wantConflicts)
				}
				checkInvariants(t, tab, tt.mine, sw)
				if len(tt.wantConflicts) > 0 {
					return
				}
				if d := DiffPeople(tab, sw.Row, tt.want); d != nil {
					t.Errorf("people's fields differ in %q: got %v, want %v", d, sw.Row, tt.want)
				}
				names := []string{"id", "updated_at"}
				// Attribution is symmetric too when the two edits' times
				// differ and both name an author.
				_, mBy := tt.mine["updated_by"]
				_, tBy := tt.theirs["updated_by"]
				if c, ok := Compare(tt.mine["updated_at"], tt.theirs["updated_at"]); ok && c != 0 && mBy && tBy {
					names = append(names, "updated_by")
				}
				for _, name := range names {
					if !Equal(sw.Row[name], tt.want[name]) {
						t.Errorf("%s = %v, want %v", name, sw.Row[name], tt.want[name])
					}
				}
				if tt.base != nil && !Equal(sw.Row["created_at"], tt.base["created_at"]) {
					t.Errorf("created_at = %v, want base's %v", sw.Row["created_at"], tt.base["created_at"])
				}
			})
		})
	}
}

// checkInvariants checks what every merge result must satisfy.
func checkInvariants(t *testing.T, tab protocol.Table, theirs protocol.Row, got MergeResult) {
	t.Helper()
	people := tab.PeopleColumns()
	last := -1
	for _, name := range got.Conflicts {
		i := slices.Index(people, name)
		if i < 0 {
			t.Errorf("conflict on %q, which is not a people's field", name)
		}
		if i <= last {
			t.Errorf("conflicts %q are not in column order, or repeat", got.Conflicts)
		}
		last = i
	}
	for name := range got.Row {
		if _, ok := tab.Column(name); !ok {
			t.Errorf("merged row carries %q, not a column of %s", name, tab.Name)
		}
	}
	if changed := DiffPeople(tab, got.Row, theirs) != nil; changed != got.Changed {
		t.Errorf("Changed = %v, but the row differs from theirs in %q", got.Changed, DiffPeople(tab, got.Row, theirs))
	}
}

// assertRow checks got against want column by column, and that got carries
// exactly want's columns.
func assertRow(t *testing.T, tab protocol.Table, got, want protocol.Row) {
	t.Helper()
	if d := DiffFields(tab, got, want); d != nil {
		t.Errorf("merged row differs in %q:\n got %v\nwant %v", d, got, want)
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("merged row lacks %q", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("merged row has unexpected %q", name)
		}
	}
}

func TestMerge3_idempotent(t *testing.T) {
	tab := lineConfigs(t)
	b := baseRow()
	mine := with(b, "notes", "mine", "deleted_at", int64(5000))
	theirs := with(b, "deleted_at", int64(6000), "recipe", "R-2")
	first := Merge3(tab, b, mine, theirs)
	if len(first.Conflicts) != 0 {
		t.Fatalf("unexpected conflicts %q", first.Conflicts)
	}
	// The same push judged again against the merged state changes nothing.
	again := Merge3(tab, b, mine, first.Row)
	if len(again.Conflicts) != 0 || again.Changed {
		t.Fatalf("re-merge: conflicts %q, changed %v; want none", again.Conflicts, again.Changed)
	}
	// A result merged with itself is itself.
	self := Merge3(tab, b, first.Row, first.Row)
	if len(self.Conflicts) != 0 || self.Changed {
		t.Fatalf("self-merge: conflicts %q, changed %v; want none", self.Conflicts, self.Changed)
	}
	assertRow(t, tab, self.Row, first.Row)
}

func TestMerge3_deletedAtAlwaysCompared(t *testing.T) {
	// A table that forgot to mark deleted_at as a people's field still never
	// silently merges a delete with an edit.
	tab := protocol.Table{Name: "t", Policy: protocol.PolicyManual, Columns: []protocol.Column{
		{Name: "id", Kind: protocol.Text},
		{Name: "notes", Kind: protocol.Text, Nullable: true, People: true},
		{Name: "deleted_at", Kind: protocol.Time, Nullable: true},
	}}
	base := protocol.Row{"id": rid, "notes": "a", "deleted_at": nil}
	got := Merge3(tab, base, with(base, "deleted_at", int64(1)), with(base, "notes", "b"))
	if !slices.Equal(got.Conflicts, []string{"deleted_at"}) {
		t.Fatalf("Conflicts = %q, want [deleted_at]", got.Conflicts)
	}
}

func TestMerge3_emptyInputs(t *testing.T) {
	tab := lineConfigs(t)
	got := Merge3(tab, nil, nil, nil)
	if len(got.Conflicts) != 0 || got.Changed || len(got.Row) != 0 {
		t.Fatalf("Merge3 of nothing = %+v, want an empty clean result", got)
	}
	got = Merge3(protocol.Table{}, baseRow(), baseRow(), baseRow())
	if len(got.Conflicts) != 0 || got.Changed || len(got.Row) != 0 {
		t.Fatalf("Merge3 on a table without columns = %+v, want an empty clean result", got)
	}
}

func TestDiffFields(t *testing.T) {
	tab := lineConfigs(t)
	b := baseRow()
	tests := []struct {
		name       string
		a, b       protocol.Row
		want       []string
		wantPeople []string
	}{
		{"same", b, b, nil, nil},
		{"representation only", b, with(b, "speed_rpm", float64(1200)), nil, nil},
		{"bookkeeping only", b, with(b, "updated_at", int64(1), "server_updated_at", nil), []string{"updated_at", "server_updated_at"}, nil},
		{"people and bookkeeping, in column order", b, with(b, "deleted_at", int64(9), "notes", "n", "updated_at", int64(9)),
			[]string{"notes", "updated_at", "deleted_at"}, []string{"notes", "deleted_at"}},
		{"absent counts as null", with(b, "notes", nil), with(b, "notes", absent), nil, nil},
		{"absent vs a value", b, with(b, "notes", absent), []string{"notes"}, []string{"notes"}},
		{"columns of other tables ignored", b, with(b, "colour", "red"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DiffFields(tab, tt.a, tt.b); !slices.Equal(got, tt.want) {
				t.Errorf("DiffFields = %q, want %q", got, tt.want)
			}
			if got := DiffFields(tab, tt.b, tt.a); !slices.Equal(got, tt.want) {
				t.Errorf("DiffFields swapped = %q, want %q", got, tt.want)
			}
			if got := DiffPeople(tab, tt.a, tt.b); !slices.Equal(got, tt.wantPeople) {
				t.Errorf("DiffPeople = %q, want %q", got, tt.wantPeople)
			}
		})
	}
}
