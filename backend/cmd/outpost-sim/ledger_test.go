package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestAcceptedThenPurged: retention purges every superseded version below
// the horizon that no open conflict pins, not only a row's oldest ones, so
// an edit the server applied or merged and a later write superseded can
// be in no version and no conflict record at the end while an older
// version (a conflict's base) is still there. Seeds 121 and 162 of the
// 8deb348 campaign counted such edits lost (replays of 121 on 504d0a3:
// "merged" at v199 with the edit's note, v199 purged, v2 and v212… kept).
// The push ledger excuses an edit only when the server answered the push
// that carried it (its hlc) applied or merged with its fields, sent
// outside every span from a backup to its restore, at a version the final
// history lacks below the row's latest one.
func TestAcceptedThenPurged(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	e := edit{table: tb.Name, id: "r", fields: map[string]any{"notes": "note 1 from device 4"}, hlc: "h4"}
	restore := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	after, before := restore.Add(time.Second), restore.Add(-time.Second)
	rewound := [][2]time.Time{{restore.Add(-3 * time.Second), restore}}
	beforeBackup := restore.Add(-4 * time.Second)
	with := protocol.Row{"notes": "note 1 from device 4"}
	without := protocol.Row{"notes": "note 2 from device 13"}
	h := []syncclient.HistoryEntry{{Version: 2, Row: map[string]any{"notes": nil}}, {Version: 212, Row: without}}
	cases := []struct {
		name    string
		answers []pushAnswer
		h       []syncclient.HistoryEntry
		rewinds [][2]time.Time
		want    bool
	}{
		{"merged at a purged version", []pushAnswer{{HLC: "h4", Status: protocol.StatusMerged, Version: 199, Row: with, Sent: after}}, h, rewound, true},
		{"applied at a purged version, no restore", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: after}}, h, nil, true},
		{"another edit's push (hlc)", []pushAnswer{{HLC: "h3", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: after}}, h, rewound, false},
		{"merged without the edit's field", []pushAnswer{{HLC: "h4", Status: protocol.StatusMerged, Version: 199, Row: without, Sent: after}}, h, rewound, false},
		{"sent between a backup and its restore", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: before}}, h, rewound, false},
		{"sent before the backup (in it, purged after the restore)", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: beforeBackup}}, h, rewound, true},
		{"its version still in the history (holding something else)", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 212, Row: with, Sent: after}}, h, rewound, false},
		{"at or above the row's latest version (never superseded)", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 300, Row: with, Sent: after}}, h, rewound, false},
		{"no history", []pushAnswer{{HLC: "h4", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: after}}, nil, rewound, false},
		{"no answer", nil, h, rewound, false},
		{"re-stamped after clock_ahead, then applied at a purged version", []pushAnswer{
			{HLC: "h4", Status: protocol.StatusRejected, Sent: after},
			{HLC: "h5", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: after.Add(time.Second)}}, h, rewound, true},
		{"another hlc's push sent before the clock_ahead refusal", []pushAnswer{
			{HLC: "h3", Status: protocol.StatusApplied, Version: 199, Row: with, Sent: after},
			{HLC: "h4", Status: protocol.StatusRejected, Sent: after.Add(time.Second)}}, h, rewound, false},
		{"refused as clock_ahead, never applied", []pushAnswer{{HLC: "h4", Status: protocol.StatusRejected, Sent: after}}, h, rewound, false},
	}
	for _, c := range cases {
		if _, got := acceptedThenPurged(tb, e, c.answers, c.h, c.rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPushLedgerRecordsAnswers: a device's network records the server's
// answers to its pushes (applied with the pushed row, merged with the
// result's row; superseded and conflict are kept by conflict records) and
// hands the client the answer unchanged.
func TestPushLedgerRecordsAnswers(t *testing.T) {
	v7, v8 := int64(7), int64(8)
	answer := protocol.PushResponse{BatchID: "b", ServerTime: 1, Results: []protocol.PushResult{
		{Table: "line_configs", ID: "a", Status: protocol.StatusApplied, Version: &v7},
		{Table: "line_configs", ID: "m", Status: protocol.StatusMerged, Version: &v8, Row: protocol.Row{"notes": "merged"}},
		{Table: "line_configs", ID: "c", Status: protocol.StatusConflict, Version: &v8, Row: protocol.Row{"notes": "theirs"}},
	}}
	body, _ := json.Marshal(answer)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()

	req := protocol.PushRequest{BatchID: "b", Changes: []protocol.Change{
		{Table: "line_configs", ID: "a", HLC: "ha", Row: json.RawMessage(`{"notes":"pushed","speed_rpm":30}`)},
		{Table: "line_configs", ID: "m", HLC: "hm", Row: json.RawMessage(`{"notes":"mine"}`)},
		{Table: "line_configs", ID: "c", HLC: "hc", Row: json.RawMessage(`{"notes":"mine"}`)},
	}}
	raw, _ := json.Marshal(req)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	hr, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/push", &gz)
	hr.Header.Set("Content-Encoding", "gzip")

	d := &device{}
	n := &netSwitch{base: http.DefaultTransport, record: d.recordPushes}
	resp, err := n.RoundTrip(hr)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("the client got %s, the server sent %s", got, body)
	}
	if len(d.pushes) != 2 {
		t.Fatalf("ledger holds %v, want the applied and the merged change", d.pushes)
	}
	a := d.pushes["line_configs/a"]
	if len(a) != 1 || a[0].HLC != "ha" || a[0].Version != 7 || a[0].Row["notes"] != "pushed" {
		t.Errorf("applied change recorded as %+v, want hlc ha at v7 with the pushed row", a)
	}
	m := d.pushes["line_configs/m"]
	if len(m) != 1 || m[0].HLC != "hm" || m[0].Version != 8 || m[0].Row["notes"] != "merged" {
		t.Errorf("merged change recorded as %+v, want hlc hm at v8 with the result's row", m)
	}
}

// TestPushLedgerFromCrashChild: a crash child's answers reach the parent's
// ledger through the file it writes; a line the kill cut short is skipped
// and the file is removed once read.
func TestPushLedgerFromCrashChild(t *testing.T) {
	dir := t.TempDir()
	f, err := os.OpenFile(childPushLog(dir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	child := &device{dir: dir, pushLog: f}
	sent := time.Now().UTC()
	child.recordPushes([]pushAnswer{{Table: "lines", ID: "x", HLC: "h1", Status: protocol.StatusApplied, Version: 12,
		Row: protocol.Row{"area": "Hall B", "active": json.Number("1")}, Sent: sent}})
	f.WriteString(`{"table":"lines","id":"y","hl`) // cut by the kill
	f.Close()

	parent := &device{dir: dir}
	parent.loadChildPushes()
	got := parent.pushes["lines/x"]
	if len(got) != 1 || got[0].HLC != "h1" || got[0].Version != 12 || got[0].Row["area"] != "Hall B" || !got[0].Sent.Equal(sent) {
		t.Fatalf("ledger holds %+v, want the child's answer", parent.pushes)
	}
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	if !fieldsEqual(tb, map[string]any{"active": int64(1)}, got[0].Row) {
		t.Errorf("the child's row %v lost its numbers' values", got[0].Row)
	}
	if len(parent.pushes) != 1 {
		t.Errorf("the cut line was read: %v", parent.pushes)
	}
	if _, err := os.Stat(childPushLog(dir)); !os.IsNotExist(err) {
		t.Errorf("the child's file is still there: %v", err)
	}
}

// TestForcedWriteSeenHeldByAPull: an operator's forced write the server
// never refused is moot once a page the device pulls after it shows the
// server holding every field it set (the timeline pass then makes the
// pending write clean without pushing it: seed 174 on 8deb348); a page
// holding another value leaves it open.
func TestForcedWriteSeenHeldByAPull(t *testing.T) {
	page := func(active int64) []byte {
		b, _ := json.Marshal(protocol.PullResponse{Cursor: 9, Changes: []protocol.PullChange{
			{Table: "products", ID: "p", Version: 9, Row: protocol.Row{"code": "P-100", "active": active}}}})
		return b
	}
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	d := &device{forced: map[string]bool{"products/p": true}, forbidden: map[string]bool{},
		forcedFields: map[string]map[string]any{"products/p": {"code": "P-100", "active": int64(1)}},
		forcedAt:     map[string]time.Time{"products/p": time.Now().Add(-time.Second)}}
	n := &netSwitch{base: http.DefaultTransport, wantPull: d.forcedOpen, pulled: d.notePulled}
	pull := func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/pull?cursor=0", nil)
		resp, err := n.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("the client got %s, the server sent %s", got, body)
		}
	}
	body = page(0)
	pull()
	if d.forcedMootSeen["products/p"] {
		t.Fatal("a page holding active=0 made the forced active=1 moot")
	}
	body = page(1)
	pull()
	if !d.forcedMootSeen["products/p"] {
		t.Fatal("a page holding the forced fields did not make the write moot")
	}
	if d.forcedOpen() {
		t.Error("forcedOpen still asks for pages")
	}
}

// TestReplacedBeforeRestore: seed 5033 of the 36e338f campaign. After a
// backup, devices 2 and 1 set a line configuration's speed to 20 (applied,
// then merged, at v22); device 0, on base v22, replaced it with 30 (v86).
// Retention purged v22, so the history read just before the restore held
// only v86, and supersededBeforeRestore, which needs the edit in a version
// of that history, found nothing. The restore took both writes back;
// device 0 pushed its own 30 again on base 0, which met the restored
// version (speed unset) as a conflict, and the manager kept the unset
// speed: 30 is on the server in the conflict's mine, 20 in nothing. 20 was
// knowingly replaced by a write still on the server: not lost. The push
// ledger shows it: the edit's own push answered at V, and a push answered
// at a version of that history whose base was V or later, on the same
// timeline. A replacement that had not seen the edit (its base below V),
// gone from the server, answered on another timeline, or not the version
// the history holds is still a loss.
func TestReplacedBeforeRestore(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	e := edit{table: tb.Name, id: "r", fields: map[string]any{"speed_rpm": int64(20)}, hlc: "h2"}
	backup := time.Date(2026, 12, 7, 13, 38, 10, 305_000_000, time.UTC)
	restore := backup.Add(4 * time.Second)
	rewinds := [][2]time.Time{{backup, restore}}
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	created := backup.Add(-time.Second)
	unset := protocol.Row{"speed_rpm": nil, "created_at": ms(created), "updated_at": ms(created)}
	twenty := protocol.Row{"speed_rpm": int64(20), "created_at": ms(created), "updated_at": ms(backup.Add(20 * time.Millisecond))}
	thirty := protocol.Row{"speed_rpm": int64(30), "created_at": ms(created), "updated_at": ms(backup.Add(800 * time.Millisecond))}
	mine := func(pushedAt time.Time) map[string]any {
		m := map[string]any{"server_updated_at": ms(pushedAt)}
		for k, v := range thirty {
			m[k] = v
		}
		return m
	}
	own := pushAnswer{HLC: "h2", Status: protocol.StatusApplied, Version: 22, Base: 4, Row: twenty, Sent: backup.Add(36 * time.Millisecond)}
	replacing := pushAnswer{HLC: "h0", Status: protocol.StatusApplied, Version: 86, Base: 22, Row: thirty, Sent: backup.Add(1100 * time.Millisecond)}
	pre := []syncclient.HistoryEntry{{Version: 86, HLC: "h0", DeviceID: "d0", Row: mine(replacing.Sent.Add(5 * time.Millisecond))}}
	h := []syncclient.HistoryEntry{{Version: 136, HLC: "hm", DeviceID: "mgr", Row: unset}}
	sides := []map[string]any{mine(restore.Add(time.Second)), unset}
	with := func(a pushAnswer, f func(*pushAnswer)) pushAnswer { f(&a); return a }
	earlier := [][2]time.Time{{backup.Add(-10 * time.Second), backup.Add(-8 * time.Second)}, {backup, restore}}
	// v40: device 1 changed the notes only, the speed still 20.
	notes40 := pushAnswer{HLC: "h1", Status: protocol.StatusApplied, Version: 40, Base: 22, Row: protocol.Row{"speed_rpm": int64(20), "notes": "n", "created_at": ms(created), "updated_at": ms(backup.Add(400 * time.Millisecond))}, Sent: backup.Add(500 * time.Millisecond)}
	cases := []struct {
		name    string
		own     []pushAnswer
		ledger  []pushAnswer
		pre     []syncclient.HistoryEntry
		sides   []map[string]any
		rewinds [][2]time.Time
		want    bool
	}{
		{"applied, replaced on its version, the replacement in a conflict's mine", []pushAnswer{own}, []pushAnswer{own, replacing}, pre, sides, rewinds, true},
		{"merged (the same value already there), replaced on its version", []pushAnswer{with(own, func(a *pushAnswer) { a.Status = protocol.StatusMerged; a.Sent = a.Sent.Add(900 * time.Millisecond) })},
			[]pushAnswer{replacing}, pre, sides, rewinds, true},
		{"replaced on a base above its version that still held it", []pushAnswer{own}, []pushAnswer{own, notes40, with(replacing, func(a *pushAnswer) { a.Base = 40 })}, pre, sides, rewinds, true},
		{"the replacement gone from the server too", []pushAnswer{own}, []pushAnswer{own, replacing}, pre, []map[string]any{unset}, rewinds, false},
		{"the replacement never saw it (base below its version)", []pushAnswer{own}, []pushAnswer{with(replacing, func(a *pushAnswer) { a.Base = 4 })}, pre, sides, rewinds, false},
		{"the replacement's answer at another version than the history's", []pushAnswer{own}, []pushAnswer{with(replacing, func(a *pushAnswer) { a.Version = 87 })}, pre, sides, rewinds, false},
		{"the replacement's answer under another hlc", []pushAnswer{own}, []pushAnswer{with(replacing, func(a *pushAnswer) { a.HLC = "h9" })}, pre, sides, rewinds, false},
		{"the replacement not in the history read before the restore", []pushAnswer{own}, []pushAnswer{replacing}, nil, sides, rewinds, false},
		{"no answer to the edit's push", nil, []pushAnswer{replacing}, pre, sides, rewinds, false},
		{"another edit's push (hlc)", []pushAnswer{with(own, func(a *pushAnswer) { a.HLC = "h3" })}, []pushAnswer{replacing}, pre, sides, rewinds, false},
		{"the edit's push without its value", []pushAnswer{with(own, func(a *pushAnswer) { a.Row = thirty })}, []pushAnswer{replacing}, pre, sides, rewinds, false},
		{"the edit's push refused", []pushAnswer{with(own, func(a *pushAnswer) { a.Status = protocol.StatusRejected })}, []pushAnswer{replacing}, pre, sides, rewinds, false},
		{"the edit answered on an earlier timeline (a restore took it back before the replacement)",
			[]pushAnswer{with(own, func(a *pushAnswer) { a.Sent = backup.Add(-9 * time.Second) })}, []pushAnswer{replacing}, pre, sides, earlier, false},
		{"the edit answered before the backup (kept by the restore)",
			[]pushAnswer{with(own, func(a *pushAnswer) { a.Sent = backup.Add(-time.Second) })}, []pushAnswer{replacing}, pre, sides, rewinds, true},
		{"the edit answered after the replacement", []pushAnswer{with(own, func(a *pushAnswer) { a.Sent = replacing.Sent.Add(time.Second) })}, []pushAnswer{replacing}, pre, sides, rewinds, false},
	}
	for _, c := range cases {
		if _, _, got := replacedBeforeRestore(tb, e, c.own, c.ledger, nil, c.pre, h, c.sides, nil, c.rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	// Replays of the same seed: device 2 then wrote 30 too (merged at
	// v92), so after the restore device 0 pushed its value again over the
	// restored version (store, settleOwnFields: the server's state with
	// its own fields over it, updated_at the restored one), not its v52
	// write byte for byte: the conflict's mine holds device 0's 30 under
	// another updated_at. What replaced the edit is still there when the
	// replacing device wrote the values it set in the edit's fields again,
	// in a write the server made after it (server_updated_at), still on the
	// server; another device's write of them, or one made before it, is
	// not that device's replacement.
	over := func(dev string, at time.Time) []sideWrite {
		m := map[string]any{}
		for k, v := range unset {
			m[k] = v
		}
		m["speed_rpm"] = int64(30)
		m["server_updated_at"] = ms(at)
		return []sideWrite{{device: dev, row: m}}
	}
	onlyUnset := []map[string]any{unset}
	rewrites := []struct {
		name  string
		mines []sideWrite
		want  bool
	}{
		{"the replacing device's value pushed again over the restored version", over("d0", restore.Add(time.Second)), true},
		{"another device's push of the same value", over("d1", restore.Add(time.Second)), false},
		{"the replacing device's write made before it", over("d0", replacing.Sent.Add(-time.Second)), false},
		{"no write of the value left", nil, false},
	}
	for _, c := range rewrites {
		if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{own}, []pushAnswer{replacing}, nil, pre, h, onlyUnset, c.mines, rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestReplacedBeforeRestoreHoles: review of replacedBeforeRestore (issue
// 15, review-5033). The replacing push's base is a version number, and a
// number names one write only on one timeline and says nothing of which
// fields the replacing device itself set. An edit is knowingly replaced
// only when the state the replacing device pushed on held the edit's
// fields (its base is the edit's own version, or a write the ledger shows
// at that number, on the edit's timeline, still holding them), the
// device itself pushed the values that replaced them (a merged answer's
// row may carry another writer's), no write of an earlier timeline had
// that number before the push (a device holding a base from before a
// restore, pushed on the new timeline where the number was given again,
// never saw the edit), and the replacing answer is of the write the
// history holds (the same hlc pushed again after a restore is answered
// again at a re-issued number). Each case below is a real loss the
// excuse took for a replacement.
func TestReplacedBeforeRestoreHoles(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	e := edit{table: tb.Name, id: "r", fields: map[string]any{"speed_rpm": int64(20)}, hlc: "h2"}
	backup := time.Date(2026, 12, 7, 13, 38, 10, 305_000_000, time.UTC)
	restore := backup.Add(4 * time.Second)
	rewinds := [][2]time.Time{{backup, restore}}
	earlier := [][2]time.Time{{backup.Add(-10 * time.Second), backup.Add(-8 * time.Second)}, {backup, restore}}
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	created := backup.Add(-time.Minute)
	row := func(speed any, notes any, at time.Time) protocol.Row {
		return protocol.Row{"speed_rpm": speed, "notes": notes, "created_at": ms(created), "updated_at": ms(at)}
	}
	unset := row(nil, nil, created)
	twenty := row(int64(20), nil, backup.Add(20*time.Millisecond))
	thirty := row(int64(30), nil, backup.Add(800*time.Millisecond))
	own := pushAnswer{HLC: "h2", Status: protocol.StatusApplied, Version: 22, Base: 4, Row: twenty, Sent: backup.Add(36 * time.Millisecond)}
	replacing := pushAnswer{HLC: "h0", Status: protocol.StatusApplied, Version: 86, Base: 22, Row: thirty, Sent: backup.Add(1100 * time.Millisecond)}
	at86 := map[string]any{"server_updated_at": ms(replacing.Sent.Add(5 * time.Millisecond))}
	for k, v := range thirty {
		at86[k] = v
	}
	pre := []syncclient.HistoryEntry{{Version: 86, HLC: "h0", DeviceID: "d0", Row: at86}}
	h := []syncclient.HistoryEntry{{Version: 136, HLC: "hm", DeviceID: "mgr", Row: unset}}
	sides := []map[string]any{at86, unset}
	with := func(a pushAnswer, f func(*pushAnswer)) pushAnswer { f(&a); return a }
	cases := []struct {
		name    string
		ledger  []pushAnswer
		rewinds [][2]time.Time
		want    bool
	}{
		{"control: replaced on its version", []pushAnswer{own, replacing}, rewinds, true},
		// Device 0 was answered v22 for its own write on the timeline
		// an earlier restore took back; on the new timeline the edit
		// got v22; device 0 pushed 30 on its stale base 22 and was
		// applied (a server or client that let a stale base through):
		// it never saw 20.
		{"the base a number an earlier timeline gave another write",
			[]pushAnswer{own, {HLC: "h0old", Status: protocol.StatusApplied, Version: 22, Base: 4, Row: row(int64(30), nil, backup.Add(-9*time.Second)), Sent: backup.Add(-9 * time.Second)}, replacing}, earlier, false},
		// Base v40: nothing shows what the replacing device saw there.
		{"the base above its version, what it held unknown", []pushAnswer{own, with(replacing, func(a *pushAnswer) { a.Base = 40 })}, rewinds, false},
		// v40 was device 1's 25, pushed on base 4 (it never saw 20):
		// device 0 replaced 25, not the edit.
		{"the base above its version held another writer's value",
			[]pushAnswer{own, {HLC: "h1", Status: protocol.StatusApplied, Version: 40, Base: 4, Row: row(int64(25), nil, backup.Add(400*time.Millisecond)), Sent: backup.Add(500 * time.Millisecond)},
				with(replacing, func(a *pushAnswer) { a.Base = 40 })}, rewinds, false},
		// Device 0 pushed on base 22 a row still holding 20 (it changed
		// the notes); the server merged in another writer's 30.
		{"merged: the replacing device pushed the edit's value, the server merged another's in",
			[]pushAnswer{own, with(replacing, func(a *pushAnswer) {
				a.Status = protocol.StatusMerged
				a.Pushed = row(int64(20), "n", backup.Add(800*time.Millisecond))
			})}, rewinds, false},
		{"control: merged, the replacing device pushed 30 itself",
			[]pushAnswer{own, with(replacing, func(a *pushAnswer) {
				a.Status = protocol.StatusMerged
				a.Pushed = row(int64(30), "n", backup.Add(800*time.Millisecond))
			})}, rewinds, true},
		{"merged, what the device pushed unknown",
			[]pushAnswer{own, with(replacing, func(a *pushAnswer) { a.Status = protocol.StatusMerged })}, rewinds, false},
		// The v86 write was pushed on base 4 (it never saw 20); after
		// the restore device 0 pushed the same hlc again on a base of the
		// new timeline and was answered at the re-issued number 86.
		{"the answer on base >= V is the same hlc pushed again on another timeline",
			[]pushAnswer{own, with(replacing, func(a *pushAnswer) { a.Base = 4 }), with(replacing, func(a *pushAnswer) { a.Base = 30; a.Sent = restore.Add(2 * time.Second) })}, rewinds, false},
	}
	for _, c := range cases {
		if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{own}, c.ledger, nil, pre, h, sides, nil, c.rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	// Writes no push ledger holds: the manager's decisions and the
	// versions of every history read before a restore (known). A
	// decision of the earlier timeline wrote v22 (taken back), and device
	// 0 pushed on that base where the edit got v22 again; or v40, where
	// device 0 pushed, was a decision on the edit's timeline that kept
	// the edit's 20 (device 0 saw it).
	decided22 := pushAnswer{HLC: "hm", Status: protocol.StatusApplied, Version: 22, Row: row(int64(30), nil, backup.Add(-9*time.Second)), Sent: backup.Add(-9 * time.Second)}
	kept40 := pushAnswer{HLC: "hm", Status: protocol.StatusApplied, Version: 40, Row: row(int64(20), "n", backup.Add(500*time.Millisecond)), Sent: backup.Add(500 * time.Millisecond)}
	knowns := []struct {
		name    string
		known   []pushAnswer
		base    int64
		rewinds [][2]time.Time
		want    bool
	}{
		{"the base a number a decision of an earlier timeline wrote", []pushAnswer{decided22}, 22, earlier, false},
		{"control: the base a decision on the edit's timeline that kept it", []pushAnswer{kept40}, 40, rewinds, true},
	}
	// A chain of knowing replacements: device 1 replaced 20 with 25 on
	// base v22 (v50), device 0 replaced 25 with 30 on base v50 (v86):
	// the state device 0 saw no longer held 20, but it held what
	// replaced 20 knowingly. One whose link never saw the edit (base
	// v4) is still a loss.
	chain := func(base int64) []pushAnswer {
		return []pushAnswer{own, {HLC: "h1", Status: protocol.StatusApplied, Version: 50, Base: base, Row: row(int64(25), nil, backup.Add(600*time.Millisecond)), Sent: backup.Add(700 * time.Millisecond)},
			with(replacing, func(a *pushAnswer) { a.Base = 50 })}
	}
	if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{own}, chain(22), nil, pre, h, sides, nil, rewinds); !got {
		t.Error("a chain of knowing replacements on the edit's version: got false, want true")
	}
	if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{own}, chain(4), nil, pre, h, sides, nil, rewinds); got {
		t.Error("a chain whose first link never saw the edit: got true, want false")
	}
	// A version written before an earlier restore's backup is kept by it:
	// its number names the same write on both timelines. The edit at v22
	// and device 1's v30 (notes only, 20 kept) both before that backup,
	// device 0 replaced 20 on base v30 after that restore.
	old22 := with(own, func(a *pushAnswer) { a.Sent = backup.Add(-20 * time.Second) })
	kept30 := pushAnswer{HLC: "h1", Status: protocol.StatusApplied, Version: 30, Base: 22, Row: row(int64(20), "n", backup.Add(-16*time.Second)), Sent: backup.Add(-15 * time.Second)}
	if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{old22}, []pushAnswer{old22, kept30, with(replacing, func(a *pushAnswer) { a.Base = 30 })}, nil, pre, h, sides, nil, earlier); !got {
		t.Error("the base a version an earlier restore kept: got false, want true")
	}
	for _, c := range knowns {
		b := with(replacing, func(a *pushAnswer) { a.Base = c.base })
		if _, _, got := replacedBeforeRestore(tb, e, []pushAnswer{own}, []pushAnswer{own, b}, c.known, pre, h, sides, nil, c.rewinds); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
