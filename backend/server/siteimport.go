package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/conflict"
	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Site data import: an administrator loads lines, products, people or the
// site settings from a CSV file (outpost-server site import). The rows are
// written like a manager's edits — new versions of key-derived rows, in the
// site's feed — by the server itself, in one transaction under the site's
// write lock.

const (
	// AdminDeviceID is the device id of writes the server's administration
	// commands make (the import): the HLC node of those rows' versions and
	// their writer in the history. It is no UUID, so it never names an
	// enrolled device; clients only read the HLC's time from it.
	AdminDeviceID = "outpost-admin"
	// ImportUpdatedBy is the updated_by of rows an import writes: no
	// person's badge id, so a device shows "import" as the author.
	ImportUpdatedBy = "import"
	// MaxImportBytes bounds an import file.
	MaxImportBytes = 16 << 20
	// pinColumn is the people import's column of PINs in clear; the row
	// stores only pin_hash.
	pinColumn = "pin"
	// importAttempts bounds the retries when devices write the imported
	// rows between the import's read and its write.
	importAttempts = 3
)

// ErrImportTooLarge: the import file is over MaxImportBytes.
var ErrImportTooLarge = errors.New("import file too large")

// ImportRow is one data row of an import file.
type ImportRow struct {
	// Line is the row's line in the file (the header is line 1).
	Line int
	// Values holds the columns the file names, normalised (nil clears a
	// nullable column); the key column is always there.
	Values protocol.Row
	// PIN is a people row's new PIN in clear, checked with pin.Check; ""
	// keeps the current hash. It is hashed before it is stored and never
	// logged or printed.
	PIN string
}

// ImportProblem is one thing wrong with an import file.
type ImportProblem struct {
	Line    int
	Column  string // "" when the problem is the whole row or file
	Message string // a sentence; never a PIN
}

func (p ImportProblem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Message)
}

// ImportError lists every problem found; nothing was written.
type ImportError struct {
	Problems []ImportProblem
}

func (e *ImportError) Error() string {
	if len(e.Problems) == 1 {
		return "import refused: " + e.Problems[0].String()
	}
	return fmt.Sprintf("import refused: %d problems, the first %s", len(e.Problems), e.Problems[0])
}

// ImportOptions tune ImportSiteRows.
type ImportOptions struct {
	// DryRun validates and counts without writing anything.
	DryRun bool
}

// ImportResult says what an import did.
type ImportResult struct {
	// Imported rows were written as new versions; Unchanged rows already
	// held the file's values and were skipped.
	Imported, Unchanged int
	// Seq is the site's sequence after the import (0 when nothing was
	// written).
	Seq int64
}

// ImportColumns returns the CSV columns an import of table t takes, the key
// first: every wire column a person edits, with people's pin_hash replaced by
// pin (in clear). ok is false for tables that are not site data.
func ImportColumns(t protocol.Table) (cols []string, ok bool) {
	if !t.ManagerOnly {
		return nil, false
	}
	if t.Key != "" {
		cols = append(cols, t.Key)
	}
	for _, c := range t.Columns {
		switch {
		case c.Name == t.Key || !c.People || c.Name == "deleted_at":
		case c.Name == "pin_hash":
			cols = append(cols, pinColumn)
		default:
			cols = append(cols, c.Name)
		}
	}
	return cols, true
}

// isFlag reports whether c is a 0/1 flag column (active).
func isFlag(c protocol.Column) bool {
	return c.Kind == protocol.Int && c.HasRange && c.MinInt == 0 && c.MaxInt == 1
}

// ParseSiteCSV reads an import file for table from r: a header row naming
// columns (any order, case-insensitive) then one row per record. A UTF-8
// BOM is skipped; CRLF line ends are fine; text is kept verbatim. It
// returns the rows that parsed and the problems of the others (with line
// numbers). An error is returned only for an unknown table, a read failure
// or a file over MaxImportBytes (ErrImportTooLarge).
func ParseSiteCSV(reg *protocol.Registry, table string, r io.Reader) ([]ImportRow, []ImportProblem, error) {
	t, ok := reg.Lookup(table)
	allowed, isSite := ImportColumns(t)
	if !ok || !isSite {
		return nil, nil, fmt.Errorf("%w: %q is not a site data table (lines, products, people or site_settings)", ErrBadArgument, clip(table, 64))
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read import file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, fmt.Errorf("%w: the limit is %d MiB; split the file", ErrImportTooLarge, MaxImportBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))

	var problems []ImportProblem
	add := func(line int, col, format string, args ...any) {
		problems = append(problems, ImportProblem{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // checked here, so that every bad row is reported
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		add(1, "", "the file is empty; its first line must name the columns (%s)", strings.Join(allowed, ", "))
		return nil, problems, nil
	}
	if err != nil {
		add(csvLine(err, 1), "", "%s", csvProblem(err))
		return nil, problems, nil
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		cols[i] = name
		switch {
		case name == "":
			add(1, "", "column %d of the header has no name", i+1)
		case !oneOf(name, allowed):
			add(1, clip(name, 64), "unknown column; %s takes %s", t.Name, strings.Join(allowed, ", "))
		case seen[name]:
			add(1, name, "the header names this column twice")
		}
		seen[name] = true
	}
	if t.Key != "" && !seen[t.Key] {
		add(1, t.Key, "the header must name the %s column, which identifies each row", t.Key)
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}

	var rows []ImportRow
	keys := map[string]int{} // key value → first line
	dataLines := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			add(csvLine(err, 0), "", "%s", csvProblem(err))
			return nil, problems, nil
		}
		line, _ := cr.FieldPos(0)
		dataLines++
		if t.Singleton && dataLines > 1 {
			add(line, "", "%s takes exactly one data row", t.Name)
			continue
		}
		if len(rec) != len(cols) {
			add(line, "", "the row has %d fields; the header names %d columns", len(rec), len(cols))
			continue
		}
		row := ImportRow{Line: line, Values: protocol.Row{}}
		bad := false
		for i, name := range cols {
			v := rec[i]
			if !utf8.ValidString(v) {
				add(line, name, "the text is not valid UTF-8; save the file as UTF-8")
				bad = true
				continue
			}
			if name == pinColumn {
				if v != "" {
					if err := pin.Check(v); err != nil {
						add(line, name, "%s", err.Error()) // the sentence, never the PIN
						bad = true
						continue
					}
					row.PIN = v
				}
				continue
			}
			col, _ := t.Column(name)
			nv, msg := cellValue(col, v)
			if msg != "" {
				add(line, name, "%s", msg)
				bad = true
				continue
			}
			row.Values[name] = nv
		}
		if k, ok := row.Values[t.Key].(string); ok && t.Key != "" {
			// Checked on rows with other problems too, so one run reports
			// everything.
			if first, dup := keys[k]; dup {
				add(line, t.Key, "%q is also on line %d; each %s appears once", clip(k, 64), first, t.Key)
				continue
			}
			keys[k] = line
		}
		if !bad {
			if msg := rangeProblem(row.Values); msg != "" {
				add(line, "max_quantity", "%s", msg)
				continue
			}
			rows = append(rows, row)
		}
	}
	if t.Singleton && dataLines == 0 {
		add(1, "", "%s needs one data row after the header", t.Name)
	}
	return rows, problems, nil
}

// rangeProblem says what is wrong with a product's plausible quantity range
// (issue 20): its least quantity above its most. "" when fine or absent.
func rangeProblem(v protocol.Row) string {
	lo, okLo := v["min_quantity"].(int64)
	hi, okHi := v["max_quantity"].(int64)
	if okLo && okHi && lo > hi {
		return fmt.Sprintf("the largest plausible quantity (%d) is below the smallest (%d)", hi, lo)
	}
	return ""
}

// cellValue parses one CSV cell for column c: text verbatim, integers and
// numbers trimmed, flags as 1/0/true/false/yes/no; an empty cell of a
// nullable column is null. It returns a sentence when the cell is wrong.
func cellValue(c protocol.Column, s string) (any, string) {
	var v any = s
	switch {
	case s == "" && c.Nullable:
		return nil, ""
	case isFlag(c):
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "true", "yes":
			v = int64(1)
		case "0", "false", "no":
			v = int64(0)
		default:
			return nil, fmt.Sprintf("%s must be 1 or 0 (true/false and yes/no work too)", c.Name)
		}
	case c.Kind == protocol.Int || c.Kind == protocol.Time:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("%s must be a whole number", c.Name)
		}
		v = i
	case c.Kind == protocol.Real:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Sprintf("%s must be a number", c.Name)
		}
		v = f
	}
	nv, err := c.Normalize(v)
	if ve, ok := protocol.AsValidation(err); ok {
		return nil, ve.Message
	}
	if err != nil {
		return nil, err.Error()
	}
	return nv, ""
}

func csvLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.Line > 0 {
		return pe.Line
	}
	return def
}

func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("not valid CSV (%v, column %d): put a field holding quotes, commas or line breaks in double quotes and double its quotes", pe.Err, pe.Column)
	}
	return "not valid CSV: " + err.Error()
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// importPlan is one file row merged onto the row's current state.
type importPlan struct {
	line    int
	row     protocol.Row // the full state to write
	changed bool
	hashPIN string // a PIN to hash into pin_hash before writing
}

// ImportSiteRows writes rows (parsed by ParseSiteCSV) into table of site, as
// an administrator's edit: each row is merged onto the row's current state
// (columns the file leaves out keep their values; a new row's active
// defaults to 1), validated with the registry, and — when it changes a
// person's field — written as a new version with updated_at and
// server_updated_at the server time, updated_by ImportUpdatedBy, deleted_at
// cleared, created_at kept, HLC the server clock on AdminDeviceID. Rows
// already holding the file's values are skipped. PINs are kept when the
// stored hash already verifies them, else hashed (argon2id) outside the
// site's lock.
//
// Everything is written in one transaction under the site's write lock, or
// nothing: any problem returns an *ImportError listing every one. Stores
// that notify (PostgreSQL) wake every server's event streams at commit;
// SQLite servers notice within their poll interval.
func (e *Engine) ImportSiteRows(ctx context.Context, site, table string, rows []ImportRow, opt ImportOptions) (ImportResult, error) {
	t, ok := e.Registry.Lookup(table)
	if !ok || !t.ManagerOnly {
		return ImportResult{}, fmt.Errorf("%w: %q is not a site data table", ErrBadArgument, clip(table, 64))
	}
	if n := utf8.RuneCountInString(site); n == 0 || n > 128 {
		return ImportResult{}, fmt.Errorf("%w: the site must be 1–128 characters", ErrBadArgument)
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		id, err := importID(t, r)
		if err != nil {
			return ImportResult{}, err
		}
		ids = append(ids, id)
	}
	if len(rows) == 0 {
		return ImportResult{}, nil
	}
	for attempt := 1; ; attempt++ {
		now := e.nowMS()
		snap, err := e.importSnapshot(ctx, site, t.Name, ids)
		if err != nil {
			return ImportResult{}, err
		}
		plans, problems, err := planImport(t, rows, ids, snap, now)
		if err != nil {
			return ImportResult{}, err
		}
		if len(problems) > 0 {
			return ImportResult{}, &ImportError{Problems: problems}
		}
		var res ImportResult
		for _, p := range plans {
			if p.changed {
				res.Imported++
			} else {
				res.Unchanged++
			}
		}
		if opt.DryRun || res.Imported == 0 {
			return res, nil
		}
		// Hash new PINs now, before taking the site's lock: argon2id is
		// slow on purpose.
		for i := range plans {
			if plans[i].hashPIN == "" {
				continue
			}
			h, err := pin.Hash(plans[i].hashPIN, pin.Default)
			if err != nil {
				return ImportResult{}, fmt.Errorf("hash the PIN of line %d: %w", plans[i].line, err)
			}
			plans[i].row["pin_hash"], plans[i].hashPIN = h, ""
		}
		seq, err := e.writeImport(ctx, site, t, ids, snap, plans, now)
		if errors.Is(err, errImportRace) && attempt < importAttempts {
			continue // a device wrote one of the rows meanwhile: plan again
		}
		if errors.Is(err, errImportRace) {
			return ImportResult{}, fmt.Errorf("the site's %s kept changing during the import; run it again", t.Name)
		}
		if err != nil {
			return ImportResult{}, err
		}
		res.Seq = seq
		return res, nil
	}
}

// errImportRace: a row changed between the import's read and its write.
var errImportRace = errors.New("rows changed during the import")

// importID is the id of the row an import row names: derived from its key,
// or the site's one row of a singleton table.
func importID(t protocol.Table, r ImportRow) (string, error) {
	if t.Singleton {
		return protocol.SiteSettingsID(), nil
	}
	k, ok := r.Values[t.Key].(string)
	if !ok || k == "" {
		return "", fmt.Errorf("%w: line %d has no %s", ErrBadArgument, r.Line, t.Key)
	}
	return protocol.KeyID(t.Name, k), nil
}

// importSnap is the current state of an import's rows.
type importSnap struct {
	rows   map[string]StoredRow
	purged map[string]bool
}

// importSnapshot reads the current rows (and purge marks) an import names.
// It holds the site's lock only for the reads.
func (e *Engine) importSnapshot(ctx context.Context, site, table string, ids []string) (importSnap, error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return importSnap{}, fmt.Errorf("begin import read: %w", err)
	}
	defer tx.Rollback()
	// Rolled back, not committed: a refused or dry-run import leaves no
	// trace, not even the site Begin creates.
	return readImportRows(ctx, tx, table, ids)
}

func readImportRows(ctx context.Context, tx Tx, table string, ids []string) (importSnap, error) {
	rows, purged, err := readRows(ctx, tx, table, ids)
	return importSnap{rows: rows, purged: purged}, err
}

// planImport merges each row onto its current state and validates it.
func planImport(t protocol.Table, rows []ImportRow, ids []string, snap importSnap, now int64) ([]importPlan, []ImportProblem, error) {
	var problems []ImportProblem
	plans := make([]importPlan, 0, len(rows))
	for i, r := range rows {
		id := ids[i]
		cur, exists := snap.rows[id]
		if !exists && snap.purged[id] {
			col := t.Key
			problems = append(problems, ImportProblem{Line: r.Line, Column: col,
				Message: fmt.Sprintf("this %s was deleted and its tombstone purged; its %s cannot be used again", t.Name, t.Key)})
			continue
		}
		var theirs protocol.Row
		if exists {
			var err error
			if theirs, err = decodeRow(t, cur.Data); err != nil {
				return nil, nil, err
			}
		}
		row := make(protocol.Row, len(t.Columns))
		for _, c := range t.Columns {
			if v, ok := r.Values[c.Name]; ok {
				row[c.Name] = v
			} else if exists {
				row[c.Name] = theirs[c.Name]
			} else if isFlag(c) {
				row[c.Name] = int64(1) // a new row is active unless the file says otherwise
			} else if c.Nullable {
				// Left out of a new row: nullable columns start null;
				// Validate reports the required ones.
				row[c.Name] = nil
			}
		}
		row["id"] = id
		row["deleted_at"] = nil // an imported row is live (a deleted one is restored)
		row["updated_at"] = now
		row["updated_by"] = ImportUpdatedBy
		row["server_updated_at"] = now
		if !exists || theirs["created_at"] == nil {
			row["created_at"] = now
		}
		valid, err := t.Validate(id, row, protocol.Complete)
		if ve, ok := protocol.AsValidation(err); ok {
			problems = append(problems, ImportProblem{Line: r.Line, Column: ve.Column, Message: ve.Message})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("validate line %d: %w", r.Line, err)
		}
		valid["server_updated_at"] = now // bookkeeping: Validate drops it
		p := importPlan{line: r.Line, row: valid, changed: !exists || conflict.DiffPeople(t, valid, theirs) != nil}
		if r.PIN != "" {
			cur, _ := theirs["pin_hash"].(string)
			if cur == "" || pin.Verify(r.PIN, cur) != nil {
				p.changed, p.hashPIN = true, r.PIN
			}
		}
		plans = append(plans, p)
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return plans, problems, nil
}

// writeImport writes the changed plans in one transaction, provided no row
// moved since the snapshot they were planned on (else errImportRace).
func (e *Engine) writeImport(ctx context.Context, site string, t protocol.Table, ids []string, snap importSnap, plans []importPlan, now int64) (int64, error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return 0, fmt.Errorf("begin import: %w", err)
	}
	defer tx.Rollback()
	again, err := readImportRows(ctx, tx, t.Name, ids)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		a, aOK := snap.rows[id]
		b, bOK := again.rows[id]
		if aOK != bOK || a.Version != b.Version || again.purged[id] != snap.purged[id] {
			return 0, errImportRace
		}
	}
	h := hlc.Timestamp{Wall: now, Node: AdminDeviceID}.String()
	w := newWriter(tx, e.Registry, now)
	for _, p := range plans {
		if !p.changed {
			continue
		}
		if _, err := w.put(ctx, rowState(t, p.row, h, AdminDeviceID)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit import: %w", err)
	}
	return w.last, nil
}
