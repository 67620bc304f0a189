package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Site data (issue 10): lines, products, people and site_settings are
// written by manager devices only (manual policy); records must name lines
// and products of the device's local lists. The simulator's managers edit
// them offline like everything else, its operators try to as well (the
// store lets them write locally; the server answers "forbidden"), and its
// records pick codes from the local lists, now and then one the lists
// refuse, to see the store refuse it.

// The codes, badges and values the managers choose among: few, so that two
// managers often edit the same row and field.
var (
	lineCodes    = []string{"L1", "L2", "L3", "L4", "L5", "L6"}
	productCodes = append(append([]string{}, products...), "P-400")
	badges       = []string{"B-01", "B-02", "B-03", "B-04", "B-05", "B-06", "B-07", "B-08"}
	siteNames    = []string{"%s", "%s – packing", "%s – assembly", `%s '"; DROP TABLE lines;--`}
	areas        = []any{"Hall A", "Hall B", "=HYPERLINK(\"x\")", nil}
	units        = []any{"pcs", "kg", "m", nil}
	personNames  = []string{"Ana Lima", "Bo Chen", "Émile Zola-Ünal", "Robert'); DROP TABLE people;--", "李雷"}
	timeZones    = []string{"UTC", "Europe/Berlin", "America/Chicago", "Asia/Tokyo"}
	shiftSets    = []string{"Early=06:00,Late=14:00,Night=22:00", "Day=07:00,Night=19:00", "06:00,18:00"}
	idleTimes    = []any{int64(60), int64(300), int64(900), nil}
	pinRoles     = []any{"manager", "manager,supervisor", nil}
	clockSkews   = []any{int64(60_000), int64(300_000), nil}
)

var registry = protocol.NewRegistry()

// siteTables are the site data tables, in the registry's order.
var siteTables = []string{protocol.TableLines, protocol.TableProducts, protocol.TablePeople, protocol.TableSiteSettings}

func isSiteTable(name string) bool {
	for _, t := range siteTables {
		if t == name {
			return true
		}
	}
	return false
}

// pinHashes are argon2id hashes of a few PINs with the cheapest parameters
// pin accepts: a person's PIN hash is synced data like any other field, and
// real parameters would cost tens of milliseconds per hash.
var pinHashes = func() []any {
	var out []any
	for _, p := range []string{"1234", "0000", "987654"} {
		h, err := pin.Hash(p, pin.Params{Memory: 8, Time: 1, Threads: 1})
		if err != nil {
			panic(err)
		}
		out = append(out, h)
	}
	return append(out, nil)
}()

// pick returns one element of xs at random.
func pick[T any](d *device, xs []T) T { return xs[d.rng.IntN(len(xs))] }

// hotRow picks a row's key, the first one (every manager's favourite) half
// of the time, so that managers often edit the same row while apart.
func hotRow(d *device, keys []string) string {
	if d.rng.IntN(2) == 0 {
		return keys[0]
	}
	return pick(d, keys)
}

func (d *device) flag(pOne float64) int64 {
	if d.rng.Float64() < pOne {
		return 1
	}
	return 0
}

// seedSiteData gives the site its first master data (written by the
// settling manager before the devices start): four lines, the products,
// six people and the settings.
func seedSiteData(ctx context.Context, mgr *device) error {
	put := func(table string, f map[string]any) error {
		f["updated_by"] = "B-01"
		_, err := mgr.st.PutSiteRow(ctx, table, f)
		return err
	}
	for i, c := range lineCodes[:4] {
		if err := put(protocol.TableLines, map[string]any{"code": c, "name": "Line " + c, "area": areas[i%2], "active": true}); err != nil {
			return err
		}
	}
	for i, c := range products {
		if err := put(protocol.TableProducts, map[string]any{"code": c, "name": "Product " + c, "unit": units[i%3], "active": true}); err != nil {
			return err
		}
	}
	for i, b := range badges[:6] {
		role := protocol.PersonOperator
		switch i {
		case 0:
			role = protocol.PersonManager
		case 1:
			role = protocol.PersonSupervisor
		}
		f := map[string]any{"badge_id": b, "display_name": personNames[i%len(personNames)], "role": role, "active": true}
		if i < 2 {
			f["pin_hash"] = pinHashes[i]
		}
		if err := put(protocol.TablePeople, f); err != nil {
			return err
		}
	}
	return put(protocol.TableSiteSettings, map[string]any{"time_zone": "Europe/Berlin", "shifts": shiftSets[0],
		"idle_signout_s": int64(300), "pin_roles": "manager,supervisor", "clock_skew_ms": int64(300_000)})
}

// siteChange is one manager edit: the row's key fields and the fields set.
func (d *device) siteChange() (table string, key, set map[string]any) {
	r := d.rng.Float64()
	deleted := func() any {
		if d.rng.Float64() < 0.04 { // now and then a delete, to meet edits
			return time.Now().UnixMilli()
		}
		return nil
	}
	switch {
	case r < 0.25:
		code := hotRow(d, lineCodes)
		table, key = protocol.TableLines, map[string]any{"code": code}
		switch d.rng.IntN(4) {
		case 0:
			set = map[string]any{"name": fmt.Sprintf(pick(d, siteNames), "Line "+code)}
		case 1:
			set = map[string]any{"area": pick(d, areas)}
		case 2:
			set = map[string]any{"active": d.flag(0.7)}
		default:
			set = map[string]any{"name": "Line " + code, "area": pick(d, areas), "active": d.flag(0.7)}
		}
		set["deleted_at"] = deleted()
	case r < 0.5:
		code := hotRow(d, productCodes)
		table, key = protocol.TableProducts, map[string]any{"code": code}
		switch d.rng.IntN(3) {
		case 0:
			set = map[string]any{"name": fmt.Sprintf(pick(d, siteNames), "Product "+code)}
		case 1:
			set = map[string]any{"unit": pick(d, units)}
		default:
			set = map[string]any{"active": d.flag(0.75)}
		}
		set["deleted_at"] = deleted()
	case r < 0.85:
		table, key = protocol.TablePeople, map[string]any{"badge_id": hotRow(d, badges[2:])}
		switch d.rng.IntN(4) {
		case 0:
			set = map[string]any{"display_name": pick(d, personNames)}
		case 1:
			set = map[string]any{"role": pick(d, protocol.PersonRoles)}
		case 2:
			set = map[string]any{"active": d.flag(0.7)}
		default:
			set = map[string]any{"pin_hash": pick(d, pinHashes)}
		}
		set["deleted_at"] = nil
	default:
		table, key = protocol.TableSiteSettings, map[string]any{}
		switch d.rng.IntN(5) {
		case 0:
			set = map[string]any{"time_zone": pick(d, timeZones)}
		case 1:
			set = map[string]any{"shifts": pick(d, shiftSets)}
		case 2:
			set = map[string]any{"idle_signout_s": pick(d, idleTimes)}
		case 3:
			set = map[string]any{"pin_roles": pick(d, pinRoles)}
		default:
			set = map[string]any{"clock_skew_ms": pick(d, clockSkews)}
		}
		set["deleted_at"] = nil
	}
	return table, key, set
}

// newRowFields are the fields a new row needs besides its key.
func newRowFields(d *device, table string, key map[string]any) map[string]any {
	switch table {
	case protocol.TableLines:
		return map[string]any{"name": "Line " + key["code"].(string), "active": int64(1)}
	case protocol.TableProducts:
		return map[string]any{"name": "Product " + key["code"].(string), "active": int64(1)}
	case protocol.TablePeople:
		return map[string]any{"display_name": pick(d, personNames), "role": protocol.PersonOperator, "active": int64(1)}
	default:
		return map[string]any{"time_zone": "UTC", "shifts": shiftSets[0]}
	}
}

func siteKeyID(table string, key map[string]any) string {
	switch table {
	case protocol.TableSiteSettings:
		return protocol.SiteSettingsID()
	case protocol.TablePeople:
		return protocol.KeyID(table, key["badge_id"].(string))
	default:
		return protocol.KeyID(table, key["code"].(string))
	}
}

// editSite makes one manager edit of site data through the store's API, as
// the Site screen does, trying another change when the first one chosen
// would change nothing.
func (d *device) editSite(ctx context.Context) error {
	for try := 0; try < 4; try++ {
		if changed, err := d.editSiteOnce(ctx); changed || err != nil {
			return err
		}
	}
	return nil
}

// editSiteOnce makes one random change of site data.
func (d *device) editSiteOnce(ctx context.Context) (changed bool, _ error) {
	table, key, set := d.siteChange()
	return d.putSite(ctx, table, key, set)
}

// putSite sets fields of the site data row named by key (creating it when
// the device has none) and reports whether that changed anything. It
// remembers the edit for the lost-edit check.
func (d *device) putSite(ctx context.Context, table string, key, set map[string]any) (changed bool, _ error) {
	id := siteKeyID(table, key)
	before, err := d.st.SiteRow(ctx, table, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	fields := map[string]any{"updated_by": pick(d, badges[:2])}
	for k, v := range key {
		fields[k] = v
	}
	if !exists {
		for k, v := range newRowFields(d, table, key) {
			fields[k] = v
		}
	}
	for k, v := range set {
		fields[k] = v
	}
	row, err := d.st.PutSiteRow(ctx, table, fields)
	if err != nil {
		return false, fmt.Errorf("manager edit of %s %v: %w", table, fields, err)
	}
	if exists && row.HLC == before.HLC {
		return false, nil // changed nothing: not an edit
	}
	d.rememberSite(table, id, exists, before, fields)
	d.mu.Lock()
	e := d.last[table+"/"+id]
	e.hlc = row.HLC
	d.last[table+"/"+id] = e
	if fields["deleted_at"] != nil {
		d.deleted[table+"/"+id] = true
	}
	d.mu.Unlock()
	return true, nil
}

// rememberSite records a manager's edit of a site data row for the
// lost-edit check. Under the manual policy a merge keeps each side's
// changes from the base version the push names, so what must survive is
// the edit's changes from that base:
//   - from a clean row (the base is that row): the fields the edit changed;
//   - while the row stays pending since it was last clean (the edits go out
//     in one push on that clean version): every field those edits changed
//     from it;
//   - otherwise (in flight, awaiting review, rejected: the base the push
//     will name is not known yet) one field the edit changed, which some
//     version or conflict record holds whatever that base turns out to be.
//
// A field set back to its base value is not a change: a merge rightly takes
// the other side's value of it.
func (d *device) rememberSite(table, id string, exists bool, before store.SiteRow, fields map[string]any) {
	tb, _ := registry.Lookup(table)
	set := map[string]any{}
	for f, v := range fields {
		if f != "updated_by" {
			set[f] = v
		}
	}
	changedFrom := func(base protocol.Row) map[string]any {
		net := map[string]any{}
		for f, v := range set {
			if base == nil || !sameValue(tb, f, v, base[f]) {
				net[f] = v
			}
		}
		return net
	}
	k := table + "/" + id
	d.mu.Lock()
	defer d.mu.Unlock()
	var remembered map[string]any
	switch prev, hasPrev := d.last[k]; {
	case !exists || before.SyncState == store.StateClean:
		d.bases[k] = before.Fields // nil for a new row: every field is new
		remembered = changedFrom(before.Fields)
	case before.SyncState == store.StatePending && hasPrev && d.bases[k] != nil:
		for f, v := range prev.fields {
			if _, again := set[f]; !again {
				set[f] = v
			}
		}
		remembered = changedFrom(d.bases[k])
	default:
		delete(d.bases, k)
		// One field the edit changed here (deleted_at last: it is part of
		// every edit).
		names := make([]string, 0, len(set))
		for f := range set {
			names = append(names, f)
		}
		sort.Slice(names, func(i, j int) bool {
			return names[i] != "deleted_at" && (names[j] == "deleted_at" || names[i] < names[j])
		})
		for _, f := range names {
			if !sameValue(tb, f, set[f], before.Fields[f]) {
				remembered = map[string]any{f: set[f]}
				break
			}
		}
	}
	if len(remembered) == 0 {
		// Every field is back at its base value: the edit restored a state
		// the row's history holds.
		remembered = changedFrom(nil)
	}
	if v, ok := remembered["deleted_at"]; ok && v != nil {
		// Two deletes agree on the row's fate and the merge keeps the
		// earlier time: what must survive is that the row is deleted.
		remembered["deleted_at"] = anyDeletion{}
	}
	d.last[k] = edit{table: table, id: id, fields: remembered, at: time.Now()}
	d.edits++
	d.siteEdits++
}

// anyDeletion, as a remembered deleted_at, matches any deleted state.
type anyDeletion struct{}

// sameValue compares two values of column name, normalised.
func sameValue(tb protocol.Table, name string, a, b any) bool {
	col, ok := tb.Column(name)
	if !ok {
		return false
	}
	na, errA := col.Normalize(a)
	nb, errB := col.Normalize(b)
	if (errA != nil && a != nil) || (errB != nil && b != nil) {
		return false
	}
	return na == nb
}

// forceSite is an operator device writing site data: the store takes it
// (it does not know the device's role), the server must refuse it with
// "forbidden", and the settle phase discards it. Half the time it edits a
// row the device holds, otherwise it adds a line or product of its own.
func (d *device) forceSite(ctx context.Context) error {
	table := pick(d, siteTables)
	var fields map[string]any
	rows, err := d.st.SiteRows(ctx, table)
	if err != nil {
		return err
	}
	switch {
	case len(rows) > 0 && (d.rng.IntN(2) == 0 || table == protocol.TablePeople || table == protocol.TableSiteSettings):
		r := pick(d, rows)
		fields = map[string]any{}
		switch table {
		case protocol.TableLines, protocol.TableProducts:
			fields["code"] = r.Text("code")
			fields["active"] = 1 - r.Fields["active"].(int64)
		case protocol.TablePeople:
			fields["badge_id"] = r.Text("badge_id")
			fields["role"] = protocol.PersonManager // promoting oneself
		default:
			fields["time_zone"] = "Pacific/Kiritimati"
		}
	case table == protocol.TableLines || table == protocol.TableProducts:
		code := fmt.Sprintf("OP%d-%d", d.idx, d.rng.IntN(3))
		fields = map[string]any{"code": code, "name": "operator's own " + code, "active": int64(1)}
	default:
		return nil // nothing here to tamper with yet
	}
	id := siteKeyID(table, fields)
	before, err := d.st.SiteRow(ctx, table, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	row, err := d.st.PutSiteRow(ctx, table, fields)
	if err != nil {
		return fmt.Errorf("operator's forced %s row: %w", table, err)
	}
	if exists && row.HLC == before.HLC {
		return nil
	}
	d.mu.Lock()
	d.forced[table+"/"+id] = true
	if d.forcedFields == nil {
		d.forcedFields = map[string]map[string]any{}
	}
	d.forcedFields[table+"/"+id] = fields
	if d.forcedAt == nil {
		d.forcedAt = map[string]time.Time{}
	}
	d.forcedAt[table+"/"+id] = time.Now()
	delete(d.forcedMootSeen, table+"/"+id) // a new write, pending again
	d.forcedEdits++
	d.mu.Unlock()
	return nil
}

// codeList is a device's local list of lines or products, as the store's
// record checks see it.
type codeList struct {
	has      bool            // the site has live rows: codes are checked
	active   map[string]bool // live rows' codes → active
	actives  []string
	inactive []string
}

func (d *device) codeList(ctx context.Context, table string) (codeList, error) {
	rows, err := d.st.SiteRows(ctx, table)
	if err != nil {
		return codeList{}, err
	}
	l := codeList{has: len(rows) > 0, active: map[string]bool{}}
	for _, r := range rows {
		c := r.Text("code")
		l.active[c] = r.Active()
		if r.Active() {
			l.actives = append(l.actives, c)
		} else {
			l.inactive = append(l.inactive, c)
		}
	}
	return l, nil
}

// allows reports whether the store should take code for a record.
func (l codeList) allows(code string) bool { return !l.has || l.active[code] }

// badCodeRate is how often a record names a code its lists refuse.
const badCodeRate = 0.05

// choose picks a code for a record: from the active ones when the site has
// a list, now and then (or when none is active) an inactive or unknown one.
func (l codeList) choose(d *device, fallback []string) string {
	if !l.has {
		return pick(d, fallback)
	}
	if len(l.actives) == 0 || d.rng.Float64() < badCodeRate {
		if len(l.inactive) > 0 && d.rng.IntN(2) == 0 {
			return pick(d, l.inactive)
		}
		return fmt.Sprintf("GONE-%d", d.rng.IntN(3))
	}
	return pick(d, l.actives)
}

// recordCodes picks a record's codes and says whether the store should
// refuse them; cur is the record being edited (nil for a new one): an
// unchanged code is not checked.
func (d *device) recordCodes(ctx context.Context, cur *store.Record) (line, product string, refuse bool, err error) {
	ll, err := d.codeList(ctx, protocol.TableLines)
	if err != nil {
		return "", "", false, err
	}
	pl, err := d.codeList(ctx, protocol.TableProducts)
	if err != nil {
		return "", "", false, err
	}
	line, product = ll.choose(d, lines), pl.choose(d, products)
	lineOK := ll.allows(line) || cur != nil && cur.LineID == line
	productOK := pl.allows(product) || cur != nil && cur.ProductID == product
	return line, product, !lineOK || !productOK, nil
}

// operatorID is the badge of an active person of the local list (the
// signed-in operator), or a made-up id while the device has none.
func (d *device) operatorID(ctx context.Context) (string, error) {
	rows, err := d.st.SiteRows(ctx, protocol.TablePeople)
	if err != nil {
		return "", err
	}
	var act []string
	for _, r := range rows {
		if r.Active() {
			act = append(act, r.Text("badge_id"))
		}
	}
	if len(act) == 0 {
		return fmt.Sprintf("op-%d", d.idx), nil
	}
	return pick(d, act), nil
}

// codeRefusal reports whether err is the store refusing a record's code.
func codeRefusal(err error) bool {
	var ve *protocol.ValidationError
	return errors.As(err, &ve) && (ve.Code == store.CodeUnknownCode || ve.Code == store.CodeInactiveCode)
}

// judgeCodes compares the store's verdict on a record's codes with what the
// local lists say: a refusal expected is counted (not an edit); any other
// disagreement is a code error of the run.
func (d *device) judgeCodes(what, line, product string, refuse bool, err error) (handled bool, _ error) {
	switch {
	case refuse && codeRefusal(err):
		d.mu.Lock()
		d.refused++
		d.mu.Unlock()
		return true, nil
	case refuse && err == nil:
		d.codeError("device %d: the store took %s with line %q, product %q, which its lists refuse", d.idx, what, line, product)
		return false, nil
	case !refuse && codeRefusal(err):
		d.codeError("device %d: the store refused %s with line %q, product %q, which its lists allow: %v", d.idx, what, line, product, err)
		return true, nil
	}
	return false, err
}

func (d *device) codeError(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.codeErrors) < 5 {
		d.codeErrors = append(d.codeErrors, fmt.Sprintf(format, args...))
	}
	d.codeErrorN++
}
