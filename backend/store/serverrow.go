package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/outpost-app/outpost/backend/protocol"
)

func encodeRow(r map[string]any) (any, error) {
	if r == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// writeServerRow makes the local row id equal to the server's state row at
// version, clean. Columns the server did not send (a table it knows fewer
// columns of) are kept; unknown columns are ignored.
func writeServerRow(t *wtx, tb protocol.Table, id string, row map[string]any, version int64, h string) error {
	all := true
	var cols []string
	args := make([]any, 0, len(tb.Columns)+3)
	args = append(args, id)
	for _, c := range tb.Columns {
		v, ok := row[c.Name]
		if c.Name == "id" {
			continue
		}
		if !ok {
			all = false
			continue
		}
		nv, err := c.Normalize(v)
		if err != nil {
			return fmt.Errorf("server row: %w", err)
		}
		cols = append(cols, c.Name)
		args = append(args, nv)
	}
	args = append(args, t.now, version, h)
	var q string
	if all {
		// Every column sent (the usual case): the table's statement, built
		// once instead of once per row.
		q = serverRowSQL(tb)
	} else {
		q = buildServerRowSQL(tb.Name, cols)
	}
	if _, err := t.exec(q, args...); err != nil {
		return fmt.Errorf("write server row: %w", err)
	}
	return nil
}

var serverRowSQLs sync.Map // table name → statement with every column

func serverRowSQL(tb protocol.Table) string {
	if q, ok := serverRowSQLs.Load(tb.Name); ok {
		return q.(string)
	}
	var cols []string
	for _, c := range tb.Columns {
		if c.Name != "id" {
			cols = append(cols, c.Name)
		}
	}
	q := buildServerRowSQL(tb.Name, cols)
	serverRowSQLs.Store(tb.Name, q)
	return q
}

// buildServerRowSQL is the upsert of writeServerRow for the wire columns
// cols (without id), in the table's order; its arguments are id, cols,
// synced_at, version, hlc.
func buildServerRowSQL(table string, cols []string) string {
	cols = append(cols[:len(cols):len(cols)], "synced_at", "version", "hlc")
	set := make([]string, len(cols))
	ph := make([]string, len(cols))
	// The update runs only when it changes something besides synced_at: a
	// row that is already clean and equal, column for column, to this
	// server state (a device's own pushed rows coming back in the pull that
	// follows the push, a re-pull from cursor 0) is left alone instead of
	// being rewritten in every index and rollup for nothing.
	differs := []string{"synced_at IS NULL"}
	for i, c := range cols {
		set[i] = c + " = excluded." + c
		ph[i] = "?"
		if c != "synced_at" {
			differs = append(differs, c+" IS NOT excluded."+c)
		}
	}
	return "INSERT INTO " + table + " (id, " + strings.Join(cols, ", ") + ") VALUES (?, " + strings.Join(ph, ", ") +
		") ON CONFLICT(id) DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(differs, " OR ")
}
