package store

import (
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// rebase moves a row edited while its push was in flight onto the server's
// row: each people's field the newer edit left as pushed takes the server's
// value; the row stays pending, based on version.
func rebase(t *wtx, tb protocol.Table, c protocol.Change, server map[string]any, version, serverTime int64) error {
	pushed, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return err
	}
	people := tb.PeopleColumns()
	sel := strings.Join(people, ", ")
	vals := make([]any, len(people))
	ptrs := make([]any, len(people))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := t.queryRow("SELECT "+sel+" FROM "+tb.Name+" WHERE id = ?", c.ID).Scan(ptrs...); err != nil {
		return err
	}
	sets := []string{"version = ?", "server_updated_at = ?"}
	args := []any{version, serverTime}
	for i, name := range people {
		col, _ := tb.Column(name)
		pv, perr := col.Normalize(pushed[name])
		sv, serr := col.Normalize(server[name])
		if perr != nil || serr != nil {
			continue
		}
		if textOf(vals[i]) == pv && sv != pv {
			sets = append(sets, name+" = ?")
			args = append(args, sv)
		}
	}
	_, err = t.exec("UPDATE "+tb.Name+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, c.ID)...)
	return err
}
