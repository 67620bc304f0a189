package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// The push ledger: what the server answered each push of a device, read
// off the wire (issue 15, seeds 121 and 162 on 8deb348).
//
// The lost check looks for each device's last edit of a row in the row's
// history and in the conflict records. A nemesis run purges history every
// second: PurgeVersions removes every superseded version no open conflict
// pins, below the committed horizon, not only a row's oldest ones. An edit
// the server applied (or merged) at version V that a later write then
// superseded is, once V is purged, in no version and no conflict record,
// while a version older than V (a conflict's base, pinned until late) can
// still make the history look complete from the row's creation. The check
// counted such edits lost. The ledger keeps the server's answer to the push
// that carried the edit (its hlc): applied or merged at V with the edit's
// fields, V no longer in the history and the row at a later version is an
// edit the server accepted and retention purged, not a lost one
// (Summary.PurgedFromHistory).

// pushAnswer is the server's answer to one pushed change.
type pushAnswer struct {
	Table   string `json:"table"`
	ID      string `json:"id"`
	HLC     string `json:"hlc"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
	// Base is the change's base_version: the version of the row the
	// device had seen when it pushed (replacedBeforeRestore).
	Base int64 `json:"base,omitempty"`
	// Row is the state the server holds at Version: the pushed row when
	// applied, the result's row when merged.
	Row protocol.Row `json:"row"`
	// Pushed is the row the device pushed, kept for a merged answer (an
	// applied one's Row is it): which fields the device itself changed
	// and which the server merged in from another writer
	// (replacedBeforeRestore).
	Pushed protocol.Row `json:"pushed,omitempty"`
	// Sent is when the push was sent: an answer sent before a restore
	// is of a history the restore took back.
	Sent time.Time `json:"sent"`
}

// pushAnswers decodes one push exchange (the gzipped request body as
// sent, the answer's body) into the answers the ledger keeps: applied and
// merged changes with the state the server wrote, and clock_ahead
// refusals (the hlc the client re-stamps, restampedAt).
func pushAnswers(reqBody []byte, gzipped bool, respBody []byte, sent time.Time) []pushAnswer {
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(reqBody))
		if err != nil {
			return nil
		}
		if reqBody, err = io.ReadAll(zr); err != nil {
			return nil
		}
	}
	var req protocol.PushRequest
	var resp protocol.PushResponse
	if json.Unmarshal(reqBody, &req) != nil || decodeExact(respBody, &resp) != nil || len(req.Changes) != len(resp.Results) {
		return nil
	}
	var out []pushAnswer
	for i, c := range req.Changes {
		res := resp.Results[i]
		if res.Table == c.Table && res.ID == c.ID && res.Status == protocol.StatusRejected &&
			strings.HasPrefix(res.Error, protocol.CodeClockAhead) {
			// The client re-stamps the row and pushes it again under
			// another hlc (restamped).
			out = append(out, pushAnswer{Table: c.Table, ID: c.ID, HLC: c.HLC, Status: res.Status, Sent: sent})
			continue
		}
		if res.Table != c.Table || res.ID != c.ID || res.Version == nil {
			continue
		}
		var row, pushed protocol.Row
		switch res.Status {
		case protocol.StatusApplied:
			r, err := protocol.DecodeRow(c.Row)
			if err != nil {
				continue
			}
			row = r
		case protocol.StatusMerged:
			row = res.Row
			if r, err := protocol.DecodeRow(c.Row); err == nil {
				pushed = r
			}
		default:
			continue // superseded, conflict: a conflict record keeps the edit
		}
		out = append(out, pushAnswer{Table: c.Table, ID: c.ID, HLC: c.HLC, Status: res.Status, Version: *res.Version, Base: c.BaseVersion, Row: row, Pushed: pushed, Sent: sent})
	}
	return out
}

// decodeExact decodes JSON keeping numbers exact (json.Number), as the
// sync client reads rows.
func decodeExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// observePush reads a push exchange that went through a device's network
// and hands its answers to record; the bodies are put back for the client.
func observePush(r *http.Request, resp *http.Response, sent time.Time, record func([]pushAnswer)) {
	if record == nil || r.Method != http.MethodPost || r.URL.Path != "/v1/push" || resp.StatusCode != http.StatusOK || r.GetBody == nil {
		return
	}
	rb, err := r.GetBody()
	if err != nil {
		return
	}
	reqBody, err := io.ReadAll(rb)
	rb.Close()
	if err != nil {
		return
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, zerr := gzip.NewReader(bytes.NewReader(respBody))
		if zerr != nil {
			return
		}
		if respBody, err = io.ReadAll(zr); err != nil {
			return
		}
	}
	if a := pushAnswers(reqBody, r.Header.Get("Content-Encoding") == "gzip", respBody, sent); len(a) > 0 {
		record(a)
	}
}

// recordPushes adds answers to the device's ledger; in a crash child
// (pushLog set) they go to the file the parent reads after the kill.
func (d *device) recordPushes(as []pushAnswer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pushLog != nil {
		for _, a := range as {
			b, err := json.Marshal(a)
			if err == nil {
				d.pushLog.Write(append(b, '\n'))
			}
		}
		return
	}
	if d.pushes == nil {
		d.pushes = map[string][]pushAnswer{}
	}
	for _, a := range as {
		k := a.Table + "/" + a.ID
		d.pushes[k] = append(d.pushes[k], a)
	}
}

// childPushLog is the file a crash child writes its push answers to.
func childPushLog(dir string) string { return filepath.Join(dir, "pushes.jsonl") }

// loadChildPushes adds the answers a crash child recorded to the ledger
// and removes the file (a line cut by the kill is skipped).
func (d *device) loadChildPushes() {
	path := childPushLog(d.dir)
	f, err := os.Open(path)
	if err != nil {
		return
	}
	var as []pushAnswer
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		var a pushAnswer
		if decodeExact(sc.Bytes(), &a) == nil {
			as = append(as, a)
		}
	}
	f.Close()
	os.Remove(path)
	d.recordPushes(as)
}

// acceptedThenPurged returns the answer that shows the edit (its hlc and
// fields) was accepted at a version retention has since purged: applied
// or merged with the edit's fields, sent outside every span from a backup
// to its restore (rewinds; an answered push sent before a backup committed
// before the backup's copy, which kills the servers first: the restore
// brings it back, and retention may purge it again, seed 241), at a
// version the final history h no longer holds while the row has moved
// past it (only a superseded version is purged). After a clock_ahead
// refusal of the edit's push, a push of the row sent later carries the
// edit under its new hlc (restampedAt).
func acceptedThenPurged(tb protocol.Table, e edit, answers []pushAnswer, h []syncclient.HistoryEntry, rewinds [][2]time.Time) (pushAnswer, bool) {
	if e.hlc == "" || len(h) == 0 {
		return pushAnswer{}, false
	}
	held := map[int64]bool{}
	var latest int64
	for _, v := range h {
		held[v.Version] = true
		latest = max(latest, v.Version)
	}
	restamped := restampedAt(e, answers)
	for _, a := range answers {
		if a.Status == protocol.StatusRejected {
			continue
		}
		carries := a.HLC == e.hlc || !restamped.IsZero() && !a.Sent.Before(restamped)
		if !carries || held[a.Version] || a.Version >= latest || sentWithin(a.Sent, rewinds) {
			continue
		}
		if fieldsEqual(tb, e.fields, a.Row) {
			return a, true
		}
	}
	return pushAnswer{}, false
}

// replacedBeforeRestore returns the answers that show edit e was accepted
// (the edit's, then the replacing write's) and then knowingly replaced by a write still on the server, though
// retention purged the version that held it before a restore truncated
// the history (seed 5033 of the 36e338f campaign: applied at v22 after a
// backup, replaced at v86 by a push on base v22, v22 purged, so the history
// pre read just before the restore held only v86; the replacing device
// pushed its own write again on base 0 after the restore, docs/design.md section
// 3, and it met the restored version as a conflict whose mine holds it).
// supersededBeforeRestore asks for the edit in a version of pre; here the
// push ledger stands for it: the edit's own push (its hlc, or a push sent
// after its clock_ahead refusal, restampedAt) answered applied or merged
// with its fields at V, then a version W > V of pre whose write (people's
// fields, deleted_at, updated_at) is in the final history h or on a
// conflict's side, or whose device wrote W's values of the edit's fields
// again in a write still on the server (a version of h or a conflict's
// mine, mines) that the server made after W (server_updated_at: a device
// pushes its own value again after a restore over the restored version,
// with that version's updated_at, store's settleOwnFields), which some
// device's ledger shows answered at W under
// W's hlc on a base of V or later: the replacing device had seen the edit
// (not a conflict's winner, not a merge that met it). The edit's answer
// must name the same write as W's history: sent before W was written with
// no restore between them taking it back (sameWrite). W's push must have
// replaced the edit's fields knowingly (replacedKnowingly), which also
// weighs the writes known other than by pushes at the base's number
// (known: the manager's decisions, the versions of every history read
// before a restore, each at when it was made or written).
func replacedBeforeRestore(tb protocol.Table, e edit, own, ledger, known []pushAnswer, pre, h []syncclient.HistoryEntry, sides []map[string]any, mines []sideWrite, rewinds [][2]time.Time) (accepted, replacing pushAnswer, ok bool) {
	if e.hlc == "" || len(pre) == 0 {
		return pushAnswer{}, pushAnswer{}, false
	}
	kept := keptWrites(tb, h, sides)
	later := append([]sideWrite(nil), mines...)
	for _, v := range h {
		later = append(later, sideWrite{device: v.DeviceID, row: v.Row})
	}
	// stillThere reports whether W's write, or its device's values of the
	// edit's fields written again after it, is on the server at the end.
	stillThere := func(w syncclient.HistoryEntry) bool {
		if kept[writeKey(tb, w.Row)] {
			return true
		}
		at := asInt(w.Row["server_updated_at"])
		if w.DeviceID == "" || at <= 0 {
			return false
		}
		replaced := map[string]any{}
		for name := range e.fields {
			replaced[name] = w.Row[name]
		}
		for _, s := range later {
			if s.device == w.DeviceID && asInt(s.row["server_updated_at"]) > at && fieldsEqual(tb, replaced, s.row) {
				return true
			}
		}
		return false
	}
	restamped := restampedAt(e, own)
	for _, a := range own {
		if a.Status == protocol.StatusRejected || !fieldsEqual(tb, e.fields, a.Row) {
			continue
		}
		if a.HLC != e.hlc && (restamped.IsZero() || a.Sent.Before(restamped)) {
			continue
		}
		for _, v := range pre {
			tw := writtenAt(v, time.Time{})
			if v.Version <= a.Version || !stillThere(v) || !sameWrite(a.Sent, tw, rewinds) {
				continue
			}
			for _, b := range ledger {
				if b.Status == protocol.StatusRejected || b.HLC != v.HLC || b.Version != v.Version ||
					b.Base < a.Version || !a.Sent.Before(b.Sent) {
					continue
				}
				// The answer is of the write the history holds, not the
				// same hlc pushed again on another timeline and
				// answered at a number given again.
				if !sameTimeline(b.Sent, tw, rewinds) || !replacedKnowingly(tb, e, a, b, v, pre, append(append([]pushAnswer(nil), ledger...), known...), rewinds) {
					continue
				}
				return a, b, true
			}
		}
	}
	return pushAnswer{}, pushAnswer{}, false
}

// replacedKnowingly reports whether push b, answered at version v of the
// history read before a restore on a base of the edit's version a or
// later, replaced the edit's fields knowingly (review-5033, issue 15). A
// base is a version number: it names the edit's write only on the edit's
// timeline, and says nothing of which fields the device set itself. So:
// the device itself pushed v's values of the edit's fields (an applied
// answer's row, a merged answer's pushed row: a merge may carry another
// writer's value, and then that writer replaced the edit), v does not
// hold the edit's fields; no write a restore took back had b's base
// number before b was sent (a device holding a base from before a
// restore, pushed where the number was given again, never saw the edit:
// only the writes the ledger, the decisions and the pre-restore
// histories show are known, so that is the evidence asked for); and the
// state at the base held the edit's fields, or what knowing replacements
// made of them (sawEdit).
func replacedKnowingly(tb protocol.Table, e edit, a, b pushAnswer, v syncclient.HistoryEntry, pre []syncclient.HistoryEntry, ledger []pushAnswer, rewinds [][2]time.Time) bool {
	if fieldsEqual(tb, e.fields, v.Row) || !setItself(tb, e, b) {
		return false
	}
	return sawEdit(tb, e, a, b.Base, b.Sent, pre, ledger, rewinds)
}

// setItself reports whether push x's device itself set the values x's
// answer holds in the edit's fields: an applied answer's row is the
// pushed one; a merged answer's pushed row (Pushed) must hold them, else
// the server merged them in from another writer.
func setItself(tb protocol.Table, e edit, x pushAnswer) bool {
	pushed := x.Row
	if x.Status == protocol.StatusMerged {
		pushed = x.Pushed
	}
	if pushed == nil {
		return false
	}
	set := map[string]any{}
	for name := range e.fields {
		set[name] = x.Row[name]
	}
	return fieldsEqual(tb, set, pushed)
}

// sawEdit reports whether the state at version base, pushed on at sent,
// held the edit accepted as a, or what a chain of knowing replacements
// made of it: base is a's version, or a write the ledger (with the known
// writes) or pre shows at that number, after a on its timeline, holding
// the edit's fields, or a push answered there whose device set its
// values of them itself on a base that saw the edit in turn (bases
// strictly decrease, so the chain ends). No write a restore took back
// before sent may have had the number: a base from before a restore,
// given again on the new timeline, names a state the device never saw
// (keptUntil).
func sawEdit(tb protocol.Table, e edit, a pushAnswer, base int64, sent time.Time, pre []syncclient.HistoryEntry, ledger []pushAnswer, rewinds [][2]time.Time) bool {
	if base < a.Version {
		return false
	}
	for _, x := range ledger {
		if x.Status != protocol.StatusRejected && x.Version == base && x.Sent.Before(sent) && !keptUntil(x.Sent, sent, rewinds) {
			return false
		}
	}
	if base == a.Version {
		return true
	}
	for _, x := range ledger {
		if x.Status == protocol.StatusRejected || x.Version != base || !a.Sent.Before(x.Sent) || !x.Sent.Before(sent) ||
			!keptUntil(a.Sent, x.Sent, rewinds) || !keptUntil(x.Sent, sent, rewinds) {
			continue
		}
		if fieldsEqual(tb, e.fields, x.Row) {
			return true
		}
		if x.Base < x.Version && setItself(tb, e, x) && sawEdit(tb, e, a, x.Base, x.Sent, pre, ledger, rewinds) {
			return true
		}
	}
	for _, p := range pre {
		if tp := writtenAt(p, time.Time{}); p.Version == base && sameWrite(a.Sent, tp, rewinds) && tp.Before(sent) &&
			keptUntil(tp, sent, rewinds) && fieldsEqual(tb, e.fields, p.Row) {
			return true
		}
	}
	return false
}

// keptUntil reports whether a write made at w is still the write its
// version number names at t, w before t: no restore before t took it
// back (sameWrite). A write before a restore's backup is kept by it, and
// its number names it on both timelines; one a restore took back had its
// number given again.
func keptUntil(w, t time.Time, rewinds [][2]time.Time) bool {
	return w.Before(t) && sameWrite(w, t, rewinds)
}

// sameTimeline reports whether times s and t fall on one timeline: no
// restore between them (whichever is earlier). A write made at one and
// a version number seen at the other name each other only then.
func sameTimeline(s, t time.Time, rewinds [][2]time.Time) bool {
	if t.Before(s) {
		s, t = t, s
	}
	for _, r := range rewinds {
		if !r[1].Before(s) && r[1].Before(t) {
			return false
		}
	}
	return true
}

// carrier is a write under another hlc than the edit's that carried the
// edit's fields to the server (seed 51 of the 3d15714 campaign: device
// 7's value 100 reached the server through a manager's decision, under the
// manager's hlc, not through its own push; a later decision knowingly
// replaced it, the restore took both back, and retention purged the
// version that carried it again after the restore).
type carrier struct {
	hlc     string
	version int64     // the version it wrote
	at      time.Time // when it was written (a decision's answer, a push sent)
}

// madeAt returns when edit e was made: an edit whose hlc names another
// device than node set a value its row already held (no write), and
// stands for the write its hlc names, made at that hlc's time.
func madeAt(e edit, node string) time.Time {
	if ts, err := hlc.Parse(e.hlc); err == nil && ts.Node != node {
		return time.UnixMilli(ts.Wall)
	}
	return e.at
}

// carriers returns the manager's decisions that carried edit e (made by
// device node) to the server under the manager's hlc: a decision on the
// edit's row, made after the edit, that chose a side holding every field
// the edit set, and that side was the edit's: the conflict's mine pushed
// by the edit's device, theirs at a version the server held under the
// edit's hlc (own, the device's push answers, or pre, the history read
// before a restore), or the write the edit's hlc names (an edit that set
// the value its row held). A decision that chose the same value on
// another device's conflict is not the edit's carrier.
func carriers(tb protocol.Table, e edit, node string, decisions []decision, own []pushAnswer, pre []syncclient.HistoryEntry, rewinds [][2]time.Time) []carrier {
	if e.hlc == "" {
		return nil
	}
	made := madeAt(e, node)
	// When each version that held the edit under its hlc was written: the
	// number names that write only while no restore has taken it back
	// (sameWrite).
	heldAt := map[int64][]time.Time{}
	for _, a := range own {
		if a.Status != protocol.StatusRejected && a.HLC == e.hlc && fieldsEqual(tb, e.fields, a.Row) {
			heldAt[a.Version] = append(heldAt[a.Version], a.Sent)
		}
	}
	for _, v := range pre {
		if v.HLC == e.hlc && fieldsEqual(tb, e.fields, v.Row) {
			heldAt[v.Version] = append(heldAt[v.Version], writtenAt(v, made))
		}
	}
	var out []carrier
	for _, dc := range decisions {
		if dc.table != e.table || dc.rowID != e.id || dc.hlc == "" || dc.at.Before(made) || !fieldsEqual(tb, e.fields, dc.chosen) {
			continue
		}
		mine := dc.rejectedTheirs && dc.device == node
		theirs := !dc.rejectedTheirs && sameWriteAny(heldAt[dc.theirsVersion], dc.at, rewinds)
		if mine || theirs || dc.hlc == e.hlc {
			out = append(out, carrier{hlc: dc.hlc, version: dc.version, at: dc.at})
		}
	}
	return out
}

// carriedThenPurged returns the write that shows edit e, carried to the
// server by a decision (cs, carriers), was accepted at a version
// retention has since purged, and was knowingly replaced. The carrier's
// writes are the decision's own and every push of its hlc a device's
// ledger (every device's answers for the row) shows applied or merged
// with the edit's fields (the manager pushes its decision again after a
// restore took it back, docs/design.md section 3). One of them must be accepted
// as acceptedThenPurged asks of the edit's own push: made outside every
// span from a backup to its restore, at a version the final history h no
// longer holds below the row's latest one. And a later decision must have
// rejected, for a side without the edit's fields, the conflict's theirs at
// the version of one of those writes (or of a version of pre, the history
// read before a restore, under a carrier's hlc): a carrier nobody
// knowingly replaced that is gone from the history is still lost.
func carriedThenPurged(tb protocol.Table, e edit, cs []carrier, decisions []decision, ledger []pushAnswer, pre, h []syncclient.HistoryEntry, rewinds [][2]time.Time) (carrier, bool) {
	if len(cs) == 0 || len(h) == 0 {
		return carrier{}, false
	}
	hlcs := map[string]bool{}
	writes := append([]carrier(nil), cs...)
	for _, c := range cs {
		hlcs[c.hlc] = true
	}
	for _, a := range ledger {
		if a.Status != protocol.StatusRejected && hlcs[a.HLC] && fieldsEqual(tb, e.fields, a.Row) {
			writes = append(writes, carrier{hlc: a.HLC, version: a.Version, at: a.Sent})
		}
	}
	// The versions a decision may have knowingly replaced: the carriers'
	// writes, and the carriers' versions the server held before a restore.
	// A version of pre is dated by the server's time of its write, else
	// by its carrier's decision (answered after it was written).
	known := append([]carrier(nil), writes...)
	for _, v := range pre {
		for _, c := range cs {
			if v.HLC == c.hlc && fieldsEqual(tb, e.fields, v.Row) {
				known = append(known, carrier{hlc: v.HLC, version: v.Version, at: writtenAt(v, c.at)})
			}
		}
	}
	// The decision must have met that very write: a restore between the
	// two gives the write's number to another write (sameWrite).
	replaced := false
	for _, dk := range decisions {
		if dk.table != e.table || dk.rowID != e.id || !dk.rejectedTheirs ||
			!fieldsEqual(tb, e.fields, dk.rejected) || fieldsEqual(tb, e.fields, dk.chosen) {
			continue
		}
		for _, w := range known {
			if dk.theirsVersion == w.version && sameWrite(w.at, dk.at, rewinds) {
				replaced = true
			}
		}
	}
	if !replaced {
		return carrier{}, false
	}
	held := map[int64]bool{}
	var latest int64
	for _, v := range h {
		held[v.Version] = true
		latest = max(latest, v.Version)
	}
	for _, w := range writes {
		if !held[w.version] && w.version < latest && !sentWithin(w.at, rewinds) {
			return w, true
		}
	}
	return carrier{}, false
}

// restampedAt returns when the server refused the push of edit e as
// clock_ahead (zero if it never did). The client then re-stamps the row and
// pushes it again under a new hlc of its corrected clock (docs/design.md
// section 3), so every later push of the row by the device carries e, the
// device's last edit of the row, under another hlc (seed 136 replayed on
// the seed136 branch: device 0's clock ran 7 minutes ahead, its edit of a
// line's active flag was refused, re-stamped, applied, then superseded by
// a decision and purged; the ledger, matching hlcs only, counted it lost).
func restampedAt(e edit, answers []pushAnswer) time.Time {
	for _, a := range answers {
		if a.Status == protocol.StatusRejected && a.HLC == e.hlc {
			return a.Sent
		}
	}
	return time.Time{}
}

// observePull hands the changes of a pull page the device received to
// note, when want says some forced write waits for them.
func observePull(r *http.Request, resp *http.Response, want func() bool, note func([]protocol.PullChange)) {
	if note == nil || want == nil || r.Method != http.MethodGet || r.URL.Path != "/v1/pull" || resp.StatusCode != http.StatusOK || !want() {
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, zerr := gzip.NewReader(bytes.NewReader(body))
		if zerr != nil {
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			return
		}
	}
	var page protocol.PullResponse
	if decodeExact(body, &page) == nil {
		note(page.Changes)
	}
}

// forcedOpen reports whether an operator's forced write of site data is
// neither refused nor known moot yet.
func (d *device) forcedOpen() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.forced {
		if !d.forbidden[k] && !d.forcedMootSeen[k] {
			return true
		}
	}
	return false
}

// notePulled notes each forced write a pulled row shows the server holding
// (every field it set), pulled after the write was made: the device may
// then make its pending write clean without pushing it (the timeline
// pass's equal-fields rule), and nothing is left to refuse (seed 174 of
// the 8deb348 campaign: the pass page brought the restored active flag
// the operator had just set, and a later page in the same sync the
// manager's decision for the other value).
func (d *device) notePulled(changes []protocol.PullChange) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for _, ch := range changes {
		k := ch.Table + "/" + ch.ID
		if !d.forced[k] || d.forbidden[k] || d.forcedMootSeen[k] || !d.forcedAt[k].Before(now) {
			continue
		}
		tb, ok := registry.Lookup(ch.Table)
		if ok && fieldsEqual(tb, d.forcedFields[k], ch.Row) {
			if d.forcedMootSeen == nil {
				d.forcedMootSeen = map[string]bool{}
			}
			d.forcedMootSeen[k] = true
		}
	}
}

// sameWrite reports whether the write made at w is still the write its
// version number names when seen at t: t is after w, and no restore
// between them took w back (w within a span from a backup to its restore,
// the restore before t). A restore takes the site's change sequence back
// to the backup's, and the numbers written between the backup and the
// restore are given again, to other writes, after it (docs/design.md section 3):
// a decision's theirs_version equal to a carrier's version names the
// carrier only on the carrier's timeline (review of seed 51, issue 15).
func sameWrite(w, t time.Time, rewinds [][2]time.Time) bool {
	if !t.After(w) {
		return false
	}
	for _, r := range rewinds {
		if !w.Before(r[0]) && !w.After(r[1]) && r[1].Before(t) {
			return false
		}
	}
	return true
}

// sameWriteAny reports whether one of the writes made at ws is still the
// write its version names at t (sameWrite).
func sameWriteAny(ws []time.Time, t time.Time, rewinds [][2]time.Time) bool {
	for _, w := range ws {
		if sameWrite(w, t, rewinds) {
			return true
		}
	}
	return false
}

// writtenAt returns when the server wrote version v (its row's
// server_updated_at), or fallback when the row does not say.
func writtenAt(v syncclient.HistoryEntry, fallback time.Time) time.Time {
	if ms := asInt(v.Row["server_updated_at"]); ms > 0 {
		return time.UnixMilli(ms)
	}
	return fallback
}

// sentWithin reports whether t falls within a span from a backup to its
// restore (both ends included).
func sentWithin(t time.Time, rewinds [][2]time.Time) bool {
	for _, r := range rewinds {
		if !t.Before(r[0]) && !t.After(r[1]) {
			return true
		}
	}
	return false
}
