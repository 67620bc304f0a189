package protocol

import (
	"slices"

	"github.com/google/uuid"
)

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
	// Enum, when set, lists the only values a text column accepts (and ""
	// when the column is nullable).
	Enum []string
	// Check, when set, is a further rule on a normalised non-null value; it
	// returns a sentence saying what is wrong, or "".
	Check func(v any) string
	// Secret columns (a PIN hash) sync like any other but never leave the
	// desktop's Go process toward its WebView, a log, an export or an error
	// message: the app shows whether the value is set or changed, never the
	// value (app/redact.go).
	Secret bool
}

// Table is one synced table: its name, policy and wire columns (every column
// but the bookkeeping ones synced_at, version and hlc; server_updated_at is
// sent by the server on pull and ignored on push).
type Table struct {
	Name    string
	Policy  Policy
	Columns []Column
	// ManagerOnly tables (site data) are written by manager devices only:
	// the server rejects other devices' changes with "forbidden".
	ManagerOnly bool
	// Key names the column whose value identifies a row: the row id must be
	// KeyID(table, value), so two managers adding the same code write the
	// same row (a manual conflict), never two rows. The value cannot change.
	Key string
	// Singleton tables hold one row per site, whose id is KeyID(table, "site").
	Singleton bool
	// TimePartitioned tables are checksummed in buckets by the UTC day of a
	// row's created_at (which never changes) instead of by the first byte of
	// SHA-256(id) (docs/design.md section 8).
	TimePartitioned bool
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

// Site data tables (master data), written by manager devices only.
const (
	TableLines        = "lines"
	TableProducts     = "products"
	TablePeople       = "people"
	TableSiteSettings = "site_settings"
)

// People's roles (a person's, not a device's: see RoleOperator/RoleManager
// for devices).
const (
	PersonOperator   = "operator"
	PersonSupervisor = "supervisor"
	PersonManager    = "manager"
)

// PersonRoles are the roles a person may have, least to most trusted.
var PersonRoles = []string{PersonOperator, PersonSupervisor, PersonManager}

// Languages are the languages Outpost speaks, as people.language holds them
// (issue 21): a shared terminal shows a signed-in person's language. The
// frontend's message files (frontend/src/i18n) have one locale each.
var Languages = []string{"en", "de", "fr", "es", "pt-BR", "pl", "zh-CN"}

// Limits of site data values.
const (
	nameMax     = 128
	pinHashMax  = 255
	timeZoneMax = 64
	shiftsMax   = 512
	// MaxClockSkewMS bounds the site's allowed clock skew setting (a day).
	MaxClockSkewMS = 24 * 60 * 60 * 1000
	// MinIdleSignOutS and MaxIdleSignOutS bound the idle sign-out setting.
	MinIdleSignOutS = 30
	MaxIdleSignOutS = 24 * 60 * 60
)

func text(name string, people, nullable bool, maxLen int) Column {
	minLen := 1
	if nullable {
		minLen = 0
	}
	return Column{Name: name, Kind: Text, People: people, Nullable: nullable, MinLen: minLen, MaxLen: maxLen}
}

func flag(name string) Column {
	return Column{Name: name, Kind: Int, People: true, HasRange: true, MinInt: 0, MaxInt: 1}
}

// updatedBy names the person whose edit a row's state is (a badge id): not a
// people's field, so it never conflicts by itself; the merge takes it from
// the side with the later updated_at.
func updatedBy() Column {
	c := text("updated_by", false, true, identMax)
	return c
}

// SiteSettingsID is the id of a site's one site_settings row.
func SiteSettingsID() string { return KeyID(TableSiteSettings, "site") }

// keySpace is the namespace of KeyID's name-based UUIDs.
var keySpace = uuid.MustParse("6f1d4c2e-8a4b-5c55-9a37-0a7f3b1e2d90")

// KeyID is the id of the row of table whose key column holds key: a
// name-based (version 5) UUID, the same on every device and the server.
func KeyID(table, key string) string {
	return uuid.NewSHA1(keySpace, []byte(table+"\x00"+key)).String()
}

// Registry is the set of synced tables a build knows. The zero value is
// empty; use NewRegistry for v1's tables.
type Registry struct {
	tables []Table
	byName map[string]int
}

// MaxQuantity is the largest quantity a production record (or a product's
// plausible range) may hold.
const MaxQuantity = 1_000_000_000

// NewRegistry returns the v1 table registry: production_records (lww),
// line_configs (manual), and the site data tables lines, products, people and
// site_settings (manual, manager devices only). Adding a table is a migration on each side plus one
// declaration here.
func NewRegistry() *Registry {
	return newRegistry(
		Table{
			Name:            TableProductionRecords,
			Policy:          PolicyLWW,
			TimePartitioned: true,
			Columns: cols(head(), []Column{
				identifier("line_id"),
				identifier("product_id"),
				{Name: "quantity", Kind: Int, People: true, HasRange: true, MinInt: 0, MaxInt: MaxQuantity},
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
				updatedBy(),
			}, tail()),
		},
		Table{
			Name: TableLines, Policy: PolicyManual, ManagerOnly: true, Key: "code",
			Columns: cols(head(), []Column{
				identifier("code"),
				text("name", true, false, nameMax),
				text("area", true, true, nameMax),
				flag("active"),
				updatedBy(),
			}, tail()),
		},
		Table{
			Name: TableProducts, Policy: PolicyManual, ManagerOnly: true, Key: "code",
			Columns: cols(head(), []Column{
				identifier("code"),
				text("name", true, false, nameMax),
				text("unit", true, true, 32),
				flag("active"),
				// The plausible quantity of one record (issue 20): the entry
				// form asks to confirm a quantity outside it. Nullable: no
				// range means the default rule (above 10,000 is confirmed).
				{Name: "min_quantity", Kind: Int, Nullable: true, People: true, HasRange: true, MinInt: 0, MaxInt: MaxQuantity},
				{Name: "max_quantity", Kind: Int, Nullable: true, People: true, HasRange: true, MinInt: 0, MaxInt: MaxQuantity},
				updatedBy(),
			}, tail()),
		},
		Table{
			Name: TablePeople, Policy: PolicyManual, ManagerOnly: true, Key: "badge_id",
			Columns: cols(head(), []Column{
				identifier("badge_id"),
				text("display_name", true, false, nameMax),
				{Name: "role", Kind: Text, People: true, MinLen: 1, MaxLen: 16, Enum: PersonRoles},
				flag("active"),
				{Name: "pin_hash", Kind: Text, People: true, Nullable: true, MaxLen: pinHashMax, Check: checkPINHash, Secret: true},
				// The person's language (issue 21); null or "": the
				// terminal's own.
				{Name: "language", Kind: Text, People: true, Nullable: true, MaxLen: 16, Enum: Languages},
				updatedBy(),
			}, tail()),
		},
		Table{
			Name: TableSiteSettings, Policy: PolicyManual, ManagerOnly: true, Singleton: true,
			Columns: cols(head(), []Column{
				{Name: "time_zone", Kind: Text, People: true, MinLen: 1, MaxLen: timeZoneMax, Check: checkTimeZone},
				{Name: "shifts", Kind: Text, People: true, MinLen: 1, MaxLen: shiftsMax, Check: checkShifts},
				{Name: "clock_skew_ms", Kind: Int, People: true, Nullable: true, HasRange: true, MinInt: 1000, MaxInt: MaxClockSkewMS},
				{Name: "idle_signout_s", Kind: Int, People: true, Nullable: true, HasRange: true, MinInt: MinIdleSignOutS, MaxInt: MaxIdleSignOutS},
				{Name: "pin_roles", Kind: Text, People: true, Nullable: true, MaxLen: 64, Check: checkPINRoles},
				updatedBy(),
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

// SecretColumns returns the names of the columns marked Secret in any
// table.
func (r *Registry) SecretColumns() []string {
	var out []string
	for _, t := range r.tables {
		for _, c := range t.Columns {
			if c.Secret && !slices.Contains(out, c.Name) {
				out = append(out, c.Name)
			}
		}
	}
	return out
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
