package conflict

import "github.com/outpost-app/outpost/backend/protocol"

// Columns the merge treats by name rather than as people's fields.
const (
	colID              = "id"
	colCreatedAt       = "created_at"
	colUpdatedAt       = "updated_at"
	colDeletedAt       = "deleted_at"
	colServerUpdatedAt = "server_updated_at"
)

// MergeResult is a three-way merge outcome.
type MergeResult struct {
	// Row is the merged row (valid only when len(Conflicts)==0). It holds the
	// table's columns only; on a conflict the conflicting fields hold theirs'
	// value, but the row must not be written.
	Row protocol.Row
	// Conflicts lists the people's fields changed on both sides to different
	// values, sorted by column order, and deleted_at when a delete met an
	// edit. It is empty when the merge is clean.
	Conflicts []string
	// Changed reports whether the merged row differs from theirs in a
	// people's field: when false, applying the merge writes nothing new.
	Changed bool
}

// Merge3 merges mine (the pushed change) and theirs (the server's current row)
// against base (the row version mine was based on; nil when mine was made on no
// version, i.e. a create racing another create of the same id).
//
// Only people's fields (Column.People, and deleted_at) are merged, each on its
// own: a field absent from mine (an older client that does not know a nullable
// column) counts as unchanged from base, and so does one absent from theirs;
// a field unchanged on one side takes the other side's value; a field changed
// on both sides to the same value takes it; otherwise the field is a conflict.
// With no base, fields equal on both sides merge and differing ones conflict.
//
// Two exceptions keep a merge from saying something neither side said:
//   - A delete meeting an edit is a conflict, never a silent merge: when one
//     side sets deleted_at and the other side, whose row is not deleted,
//     changed any other people's field, deleted_at is listed in Conflicts.
//   - Two deletes agree on the row's fate even when their times differ: the
//     earlier deleted_at is kept and there is no conflict.
//
// Restoring a deleted row (deleted_at back to null) is not a delete: it
// merges with edits of other fields like any other field change.
//
// The other columns are not people's: id stays; updated_at takes the later of
// mine and theirs; created_at keeps the value the row was created with (base's,
// else theirs'); server_updated_at is theirs'. Any other column (updated_by:
// who made the state) follows updated_at: it is mine's when mine's updated_at
// is the later one and mine carries the column, else theirs'.
//
// The conflict set does not depend on the order of mine and theirs, and a
// clean merge yields the same people's fields in either order.
func Merge3(t protocol.Table, base, mine, theirs protocol.Row) MergeResult {
	hasBase := base != nil
	out := make(protocol.Row, len(t.Columns))
	conflicted := make(map[string]bool)

	// What each side did, for the delete-meets-edit rule.
	var (
		mineEdited, theirsEdited   bool // changed a people's field other than deleted_at
		mineDeletes, theirsDeletes bool // set deleted_at to a new non-null time
		mineDeleted, theirsDeleted bool // its row is deleted
	)

	mineLater := later(mine, theirs)
	for _, c := range t.Columns {
		if !isPeople(c) {
			if v, ok := mergeBookkeeping(c.Name, base, mine, theirs, mineLater); ok {
				out[c.Name] = v
			}
			continue
		}
		b := base[c.Name] // nil when there is no base or it lacks the column
		m, mOK := side(mine, base, c.Name)
		th, tOK := side(theirs, base, c.Name)
		mChanged := mOK && !Equal(m, b)
		tChanged := tOK && !Equal(th, b)
		if c.Name == colDeletedAt {
			mineDeletes = mChanged && m != nil
			theirsDeletes = tChanged && th != nil
			mineDeleted = mOK && m != nil
			theirsDeleted = tOK && th != nil
		} else {
			mineEdited = mineEdited || mChanged
			theirsEdited = theirsEdited || tChanged
		}

		switch {
		case !mOK && !tOK:
			// Neither side has a value and there is no base: leave it out.
		case !mOK:
			out[c.Name] = th
		case !tOK:
			out[c.Name] = m
		case Equal(m, th):
			out[c.Name] = th
		case hasBase && Equal(m, b):
			out[c.Name] = th
		case hasBase && Equal(th, b):
			out[c.Name] = m
		case c.Name == colDeletedAt && m != nil && th != nil:
			// Both sides deleted the row, at different times.
			if v, ok := earlier(m, th); ok {
				out[c.Name] = v
				break
			}
			conflicted[c.Name] = true
			out[c.Name] = th
		default:
			conflicted[c.Name] = true
			out[c.Name] = th
		}
	}

	if mineDeletes && !theirsDeleted && theirsEdited || theirsDeletes && !mineDeleted && mineEdited {
		conflicted[colDeletedAt] = true
	}

	res := MergeResult{Row: out}
	for _, c := range t.Columns {
		if conflicted[c.Name] {
			res.Conflicts = append(res.Conflicts, c.Name)
		}
		if isPeople(c) && !Equal(out[c.Name], theirs[c.Name]) {
			res.Changed = true
		}
	}
	return res
}

// isPeople reports whether the merge compares column c: the people's fields,
// and deleted_at even if a table forgot to mark it.
func isPeople(c protocol.Column) bool { return c.People || c.Name == colDeletedAt }

// side returns one side's value of column name: the row's own when present,
// else base's (absent means unchanged), else nothing (ok false).
func side(row, base protocol.Row, name string) (v any, ok bool) {
	if v, ok := row[name]; ok {
		return v, true
	}
	if base != nil {
		return base[name], true
	}
	return nil, false
}

// later reports whether mine's updated_at is the later one: strictly greater
// than theirs', or present when theirs has none. A tie keeps theirs.
func later(mine, theirs protocol.Row) bool {
	m, mOK := mine[colUpdatedAt]
	th, tOK := theirs[colUpdatedAt]
	switch {
	case mOK && tOK:
		c, ok := Compare(m, th)
		return ok && c > 0
	default:
		return mOK
	}
}

// mergeBookkeeping returns the merged value of a column that is not a
// people's field, and false when no row has one. mineLater says whose
// updated_at wins (see later).
func mergeBookkeeping(name string, base, mine, theirs protocol.Row, mineLater bool) (any, bool) {
	switch name {
	case colID:
		return first(name, theirs, mine, base)
	case colUpdatedAt:
		if mineLater {
			return first(name, mine)
		}
		return first(name, theirs, base)
	case colCreatedAt:
		return first(name, base, theirs, mine)
	case colServerUpdatedAt:
		return first(name, theirs)
	}
	// Attribution (updated_by) goes with the state whose updated_at wins:
	// the later edit's author, not always the server's.
	if mineLater {
		return first(name, mine, theirs, base)
	}
	return first(name, theirs, mine, base)
}

// first returns the value of name in the first row that has it.
func first(name string, rows ...protocol.Row) (any, bool) {
	for _, r := range rows {
		if v, ok := r[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// earlier returns the smaller of two numbers, preferring b when they are
// equal; ok is false when they cannot be ordered.
func earlier(a, b any) (any, bool) {
	c, ok := Compare(a, b)
	if !ok {
		return nil, false
	}
	if c < 0 {
		return a, true
	}
	return b, true
}

// DiffFields returns the names of table t's columns whose values differ
// between a and b, in column order. A column absent from a row counts as
// null; columns that are not t's are ignored.
func DiffFields(t protocol.Table, a, b protocol.Row) []string {
	var out []string
	for _, c := range t.Columns {
		if !Equal(a[c.Name], b[c.Name]) {
			out = append(out, c.Name)
		}
	}
	return out
}

// DiffPeople is DiffFields restricted to the fields the merge compares: the
// people's fields and deleted_at. An empty answer means a and b say the same
// thing to a person, whatever their bookkeeping.
func DiffPeople(t protocol.Table, a, b protocol.Row) []string {
	var out []string
	for _, c := range t.Columns {
		if isPeople(c) && !Equal(a[c.Name], b[c.Name]) {
			out = append(out, c.Name)
		}
	}
	return out
}
