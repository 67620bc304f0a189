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
	// Row is the state the server holds at Version: the pushed row when
	// applied, the result's row when merged.
	Row protocol.Row `json:"row"`
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
		var row protocol.Row
		switch res.Status {
		case protocol.StatusApplied:
			r, err := protocol.DecodeRow(c.Row)
			if err != nil {
				continue
			}
			row = r
		case protocol.StatusMerged:
			row = res.Row
		default:
			continue // superseded, conflict: a conflict record keeps the edit
		}
		out = append(out, pushAnswer{Table: c.Table, ID: c.ID, HLC: c.HLC, Status: res.Status, Version: *res.Version, Row: row, Sent: sent})
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

// restampedAt returns when the server refused the push of edit e as
// clock_ahead (zero if it never did). The client then re-stamps the row and
// pushes it again under a new hlc of its corrected clock (DESIGN.md
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
