package protocol

// Kind is the type of a column's values.
type Kind int

// Column kinds. Text is a string, Int an int64, Real a float64, Time an int64
// of milliseconds since the Unix epoch.
const (
	Text Kind = iota + 1
	Int
	Real
	Time
)

func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Int:
		return "integer"
	case Real:
		return "number"
	case Time:
		return "time (integer ms)"
	}
	return "unknown"
}

// Policy decides what happens when two devices write the same row.
type Policy string

// Conflict policies.
const (
	// PolicyLWW lets the write with the greater HLC win; the loser is kept as
	// an auto_resolved conflict record.
	PolicyLWW Policy = "lww"
	// PolicyManual three-way merges disjoint field changes and opens a
	// conflict for a manager when the same field changed on both sides.
	PolicyManual Policy = "manual"
)

// Column describes one column of a synced table as it travels on the wire.
type Column struct {
	Name     string
	Kind     Kind
	Nullable bool
	// People marks the fields a person edits; the three-way merge compares
	// only these (plus deleted_at).
	People bool
	// MinLen and MaxLen bound text length in characters (runes); 0 = no bound.
	MinLen, MaxLen int
	// MinInt and MaxInt bound integer values when HasRange is set.
	HasRange       bool
	MinInt, MaxInt int64
	// UUID requires a text value to be a canonical UUID.
	UUID bool
}

// Table is one synced table: its name, policy and wire columns (every column
// but the bookkeeping ones synced_at, version and hlc; server_updated_at is
// sent by the server on pull and ignored on push).
type Table struct {
	Name    string
	Policy  Policy
	Columns []Column
}

// Bookkeeping columns never accepted from a client: if a push carries them
// they are ignored.
var bookkeeping = map[string]bool{
	"synced_at":         true,
	"server_updated_at": true,
	"version":           true,
	"hlc":               true,
}

// IsBookkeeping reports whether name is a sync bookkeeping column that a
// client's push may carry but the server ignores.
func IsBookkeeping(name string) bool { return bookkeeping[name] }

// Column returns the named column.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnNames returns the wire column names in declaration order.
func (t Table) ColumnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// PeopleColumns returns the names of the fields the three-way merge compares:
// the people's fields and deleted_at.
func (t Table) PeopleColumns() []string {
	var out []string
	for _, c := range t.Columns {
		if c.People {
			out = append(out, c.Name)
		}
	}
	return out
}

const (
	identMax = 128
	notesMax = 4000
)

func identifier(name string) Column {
	return Column{Name: name, Kind: Text, People: true, MinLen: 1, MaxLen: identMax}
}

// common columns every synced table carries.
func head() []Column {
	return []Column{{Name: "id", Kind: Text, UUID: true, MinLen: 1, MaxLen: 36}}
}

func tail() []Column {
	return []Column{
		{Name: "created_at", Kind: Time, HasRange: true, MinInt: 0, MaxInt: maxTime},
		{Name: "updated_at", Kind: Time, HasRange: true, MinInt: 0, MaxInt: maxTime},
		{Name: "deleted_at", Kind: Time, Nullable: true, People: true, HasRange: true, MinInt: 0, MaxInt: maxTime},
		{Name: "server_updated_at", Kind: Time, Nullable: true, HasRange: true, MinInt: 0, MaxInt: maxTime},
	}
}

// maxTime is year 9999 in ms: a bound that keeps times sane without
// refusing any real clock.
const maxTime = 253402300799999

func cols(parts ...[]Column) []Column {
	var out []Column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Table names of v1.
const (
	TableProductionRecords = "production_records"
	TableLineConfigs       = "line_configs"
	TableConflicts         = "sync_conflicts"
)

// Registry is the set of synced tables a build knows. The zero value is
// empty; use NewRegistry for v1's tables.
type Registry struct {
	tables []Table
	byName map[string]int
}

// NewRegistry returns the v1 table registry: production_records (lww) and
// line_configs (manual). Adding a table is a migration on each side plus one
// declaration here.
func NewRegistry() *Registry {
	return newRegistry(
		Table{
			Name:   TableProductionRecords,
			Policy: PolicyLWW,
			Columns: cols(head(), []Column{
				identifier("line_id"),
				identifier("product_id"),
				{Name: "quantity", Kind: Int, People: true, HasRange: true, MinInt: 0, MaxInt: 1_000_000_000},
				identifier("operator_id"),
			}, tail()),
		},
		Table{
			Name:   TableLineConfigs,
			Policy: PolicyManual,
			Columns: cols(head(), []Column{
				identifier("line_id"),
				identifier("recipe"),
				{Name: "target_rate_per_hour", Kind: Int, Nullable: true, People: true, HasRange: true, MinInt: 0, MaxInt: 1_000_000_000},
				{Name: "temperature_c", Kind: Real, Nullable: true, People: true},
				{Name: "speed_rpm", Kind: Int, Nullable: true, People: true, HasRange: true, MinInt: 0, MaxInt: 1_000_000_000},
				{Name: "notes", Kind: Text, Nullable: true, People: true, MaxLen: notesMax},
			}, tail()),
		},
	)
}

func newRegistry(tables ...Table) *Registry {
	r := &Registry{byName: make(map[string]int, len(tables))}
	for _, t := range tables {
		r.byName[t.Name] = len(r.tables)
		r.tables = append(r.tables, t)
	}
	return r
}

// Tables returns the synced tables in declaration order.
func (r *Registry) Tables() []Table {
	out := make([]Table, len(r.tables))
	copy(out, r.tables)
	return out
}

// Lookup returns the named table.
func (r *Registry) Lookup(name string) (Table, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Table{}, false
	}
	return r.tables[i], true
}
