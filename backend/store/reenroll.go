package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Enrolling again (issue 15). A device the server no longer knows — one
// enrolled after the backup a server was restored from, a revoked one, one
// whose token was lost — is enrolled again with a new code and gets a new
// device id. Its rows still carry hlcs naming its former ids: the edits it
// has not sent yet, and its own writes the server accepted (which a restore
// may have lost). So a device remembers its former ids at the same site
// (meta former_device_ids) and counts every write stamped with one of them
// as its own, as it counts its current id's.
//
// Enrolling again at the same site drops the unanswered batches (sent
// under the former id) and starts a full pass that ends before the next
// push, in the transaction that records the new id (reenrollPass): the new
// enrollment may be on a restored server, which the device cannot tell
// before it pulls. A page naming another timeline than the one the device
// knows, or a pass ending below the cursor it had reached, is a timeline
// change (ChangeTimeline), with the former ids counted as own: its own
// accepted writes, under any of its ids, are made pending on base 0;
// queued decisions are marked stale; and a timeline pass runs before the
// next push. A device that knows no timeline runs the timeline change at
// once. The rows keep
// their hlcs through the pass, so a write the server holds comes back with
// its own hlc and is clean again (nothing is sent twice). Only when a row
// is put into a push batch is an hlc naming a former id re-stamped with
// the current id, keeping its time and counter (restampFormer): a push
// must carry the pusher's own hlc (else invalid_hlc). A row the server does
// not hold is then judged as any push on base 0 (lww by hlc; manual as a
// merge with no base).
//
// Enrolling at another site forgets the former ids (another site's server
// must not receive this site's rows), as a first enrollment does.

// Meta keys of enrollment.
const (
	// metaFormerIDs: this device's former ids at its site, space separated.
	metaFormerIDs = "former_device_ids"
	// metaSite: the site this device is (or was last) enrolled with.
	metaSite = "site_id"
)

// ownIDs are the ids whose writes are this device's own: its current id
// and its former ids at the same site.
type ownIDs []string

// has reports whether id is one of o.
func (o ownIDs) has(id string) bool {
	if id == "" || id == hlc.Unenrolled {
		return false
	}
	for _, x := range o {
		if x == id {
			return true
		}
	}
	return false
}

// hlc reports whether h is an hlc of one of o.
func (o ownIDs) hlc(h string) bool {
	ts, err := hlc.Parse(h)
	return err == nil && o.has(ts.Node)
}

// in returns the SQL condition "the device id of the hlc column col is one
// of o" with its arguments (hlc = %015d-%05d-<device id>: the id starts at
// 23). With no id it is false.
func (o ownIDs) in(col string) (string, []any) {
	if len(o) == 0 {
		return "0", nil
	}
	args := make([]any, len(o))
	for i, x := range o {
		args[i] = x
	}
	return "substr(" + col + ", 23) IN (?" + strings.Repeat(", ?", len(o)-1) + ")", args
}

// own returns this device's own ids: the clock's node, when enrolled, and
// the former ids. Read inside a write transaction it is that
// transaction's (the writer is one connection, and both change only
// inside a write).
func (s *Store) own() ownIDs {
	var out ownIDs
	if n := s.clock.Node(); n != "" && n != hlc.Unenrolled {
		out = append(out, n)
	}
	if f := s.former.Load(); f != nil {
		out = append(out, (*f)...)
	}
	return out
}

// formerIDs parses meta former_device_ids.
func formerIDs(v string) []string {
	return strings.Fields(v)
}

// formerIDsWith reads the stored former ids and adds prev, the id the
// device leaves (unless it is none, the unenrolled stamp, the id it
// enrolls under now, or already there).
func (s *Store) formerIDsWith(ctx context.Context, t *wtx, prev, now string) ([]string, error) {
	fv, err := s.metaGet(ctx, t.tx, metaFormerIDs)
	if err != nil {
		return nil, err
	}
	former := formerIDs(fv)
	if prev != "" && prev != hlc.Unenrolled && prev != now && !ownIDs(former).has(prev) {
		former = append(former, prev)
	}
	return former, nil
}

// loadFormer restores the former ids from meta (at open).
func (s *Store) loadFormer(ctx context.Context) error {
	v, err := s.metaGet(ctx, s.w, metaFormerIDs)
	if err != nil {
		return fmt.Errorf("load former device ids: %w", err)
	}
	f := formerIDs(v)
	s.former.Store(&f)
	return nil
}

// setFormer records the former ids inside t (none: the key is removed).
func (s *Store) setFormer(t *wtx, ids []string) error {
	var err error
	if len(ids) == 0 {
		_, err = t.tx.ExecContext(t.ctx, "DELETE FROM meta WHERE key = ?", metaFormerIDs)
	} else {
		_, err = t.tx.ExecContext(t.ctx, upsertMeta, metaFormerIDs, strings.Join(ids, " "))
	}
	if err != nil {
		return fmt.Errorf("record former device ids: %w", err)
	}
	f := append([]string(nil), ids...)
	s.former.Store(&f)
	return nil
}

// SetEnrollment records the device id and the site of an enrollment. The
// clock stamps later edits with the id, and pending edits made before any
// enrollment (stamped hlc.Unenrolled) are re-stamped with it, keeping their
// time and counter (docs/design.md section 3). When the device already had
// another id at the same site (enrolled, or unenrolled since), it is
// enrolling again: in the same transaction the former id joins the own
// ids and a pass that ends before the next push starts (reenrollPass): it
// finds whether the server lost anything, and the device then moves to the
// server's timeline as after a restore, so that every own write the server
// lacks is pushed again and every one it holds comes back clean. site ""
// is not known (taken as the same site).
func (s *Store) SetEnrollment(ctx context.Context, id, site string) error {
	if id == "" || id == hlc.Unenrolled {
		return fmt.Errorf("set device id: %q is not a device id", id)
	}
	probe := hlc.Timestamp{Node: id}
	if _, err := hlc.Parse(probe.String()); err != nil {
		return fmt.Errorf("set device id: %w", err)
	}
	err := s.write(ctx, func(t *wtx) error {
		prev, err := s.metaGet(ctx, t.tx, metaDeviceID)
		if err != nil {
			return err
		}
		prevSite, err := s.metaGet(ctx, t.tx, metaSite)
		if err != nil {
			return err
		}
		former, err := s.formerIDsWith(ctx, t, prev, id)
		if err != nil {
			return err
		}
		again := prev != id && len(former) > 0
		if site != "" && prevSite != "" && site != prevSite {
			// Another site: its server must not get this site's accepted
			// rows. Edits not sent yet go with the device, as after a
			// disconnect (ClearEnrollment): under the new id.
			if err := restampIDs(t, former, id); err != nil {
				return err
			}
			former, again = nil, false
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_own_versions"); err != nil {
				return fmt.Errorf("forget own versions of the former site: %w", err)
			}
			if err := s.startOver(t); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(ctx, upsertMeta, metaDeviceID, id); err != nil {
			return err
		}
		if site != "" && site != prevSite {
			if _, err := t.tx.ExecContext(ctx, upsertMeta, metaSite, site); err != nil {
				return err
			}
		}
		// The node first: own writes made pending below are stamped with
		// it where they need a fresh hlc.
		node := s.clock.Node()
		s.clock.SetNode(id)
		if err := s.setFormer(t, former); err != nil {
			s.clock.SetNode(node)
			return err
		}
		if again {
			if err := s.reenrollPass(t, append(ownIDs{id}, former...)); err != nil {
				s.clock.SetNode(node)
				return err
			}
		}
		suffix := "-" + hlc.Unenrolled
		for _, tb := range syncTableNames() {
			// The HLC prefix "%015d-%05d" is 21 characters; tb is a
			// registry name.
			q := "UPDATE " + tb + " SET hlc = substr(hlc, 1, 21) || ? WHERE synced_at IS NULL AND substr(hlc, 22) = ?"
			if _, err := t.tx.ExecContext(ctx, q, "-"+id, suffix); err != nil {
				s.clock.SetNode(node)
				return fmt.Errorf("re-stamp %s: %w", tb, err)
			}
		}
		return nil
	})
	if err != nil {
		// The transaction did not commit: the stored ids hold.
		if lerr := s.loadFormer(ctx); lerr != nil {
			return fmt.Errorf("set device id: %w (%v)", err, lerr)
		}
		return fmt.Errorf("set device id: %w", err)
	}
	return nil
}

// startOver forgets, inside t, the sync state of the former site when the
// device enrolls at another one, as a disconnect does (ClearEnrollment):
// its cursor (the other site's feed starts at 0, in a full pass that
// removes the rows the new site does not hold), its batches, entries and
// conflict records. Edits not sent yet are new rows there (base 0). The
// timeline stays: another server's is a timeline change at the first
// pull, and the same server's is still its own.
func (s *Store) startOver(t *wtx) error {
	qs := []string{
		"DELETE FROM meta WHERE key IN ('" + metaPullSchema + "', '" + metaVerified + "', '" + metaReenrollCursor + "', '" + metaPass + "', '" + metaFormerTimeline + "')",
		"DELETE FROM sync_rows", "DELETE FROM sync_batches", "DELETE FROM sync_conflicts", "DELETE FROM sync_pass_rows",
	}
	for _, tb := range syncTableNames() {
		qs = append(qs, "UPDATE "+tb+" SET version = 0 WHERE synced_at IS NULL AND version <> 0")
	}
	for _, q := range qs {
		if _, err := t.tx.ExecContext(t.ctx, q); err != nil {
			return fmt.Errorf("forget the former site's sync state: %w", err)
		}
	}
	if err := forgetKnown(t); err != nil {
		return err
	}
	return s.restartPass(t, PassFull)
}

// PassReenroll is the pass after enrolling again at the same site while
// the device knows its server's timeline: like a timeline pass it ends
// before the next push, but nothing is reset for it (reenrollPass;
// syncstate.PassReenroll).
const PassReenroll = syncstate.PassReenroll

// metaReenrollCursor: the cursor the device had reached before it enrolled
// again (or disconnected), for the end of the re-enrollment pass;
// metaFormerTimeline: the timeline it followed when it disconnected.
const (
	metaReenrollCursor = "reenroll_cursor"
	metaFormerTimeline = "former_timeline"
)

// reenrollPass starts, inside t, what enrolling again at the same site
// needs. When the device knows the timeline of its site's server, it cannot
// yet tell whether the server lost anything: the pass it starts from 0
// tells. A page naming another timeline is a timeline change (beforePage),
// run then with the former ids counted as own; a pass that ends below the
// cursor the device had reached is a restore nobody marked (afterPage).
// Otherwise the server lost nothing: the device's own accepted writes stay
// clean (a later version another device made of one replaces it, as any
// pull does: pushed again under the new id, re-stamped, the server could
// not tell it is the same write, and would judge it again against the
// later one), and pending rows keep their bases (the server counts the new
// id as another device: pushed on base 0, a pending edit of a row its
// former id wrote last would be a conflict with itself). Only the
// unanswered batches go back to pending (sent under the former id; the
// pass, which ends before the push, makes clean the rows the server
// applied). With no timeline known it is a timeline change at once
// (changeTimeline), own being the ids whose writes are this device's.
func (s *Store) reenrollPass(t *wtx, own ownIDs) error {
	ctx := t.ctx
	tl, err := s.metaGet(ctx, t.tx, metaTimeline)
	if err != nil {
		return err
	}
	if tl == "" {
		// Disconnected since: the timeline it followed then.
		if tl, err = s.metaGet(ctx, t.tx, metaFormerTimeline); err != nil {
			return err
		}
		if tl != "" {
			if _, err := t.tx.ExecContext(ctx, upsertMeta, metaTimeline, tl); err != nil {
				return fmt.Errorf("follow the former timeline: %w", err)
			}
		}
	}
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaFormerTimeline); err != nil {
		return fmt.Errorf("forget the former timeline: %w", err)
	}
	if tl == "" {
		return s.changeTimeline(t, "", own)
	}
	if err := reviewBack(t, "1 = 1"); err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM sync_rows WHERE state = 'in_flight'", "DELETE FROM sync_batches"} {
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("drop the batches sent under the former id: %w", err)
		}
	}
	if err := saveReenrollCursor(t); err != nil {
		return err
	}
	return s.restartPass(t, PassReenroll)
}

// saveReenrollCursor keeps, inside t, the cursor the device has reached
// (the greater of the current one and one kept before).
func saveReenrollCursor(t *wtx) error {
	var best int64
	for _, k := range []string{metaCursor, metaReenrollCursor} {
		v, err := t.s.metaGet(t.ctx, t.tx, k)
		if err != nil {
			return err
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > best {
			best = n
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, upsertMeta, metaReenrollCursor, strconv.FormatInt(best, 10)); err != nil {
		return fmt.Errorf("keep the cursor reached: %w", err)
	}
	return nil
}

// endReenrollPass runs on the last page of a re-enrollment pass: a server
// whose feed ends below the cursor the device had reached, or that did
// not bring a live clean row of the device's own, lost writes (a restore
// nobody marked; other writes since may have taken its sequence past the
// cursor): a timeline change, which pushes them again instead of the end
// of the pass removing them. Otherwise the kept cursor is forgotten.
func (s *Store) endReenrollPass(t *wtx, page protocol.PullResponse) error {
	v, err := s.metaGet(t.ctx, t.tx, metaReenrollCursor)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && page.Cursor < n {
		return &TimelineChangedError{Timeline: page.Timeline}
	}
	if own := s.own(); len(own) > 0 {
		cond, args := own.in("hlc")
		for _, tb := range syncTables {
			// Names come from the registry, never from input.
			var lost bool
			if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM `+tb.Name+` WHERE synced_at IS NOT NULL
				AND deleted_at IS NULL AND `+cond+` AND id IN (SELECT id FROM sync_pass_rows WHERE tbl = ?)
				AND NOT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = `+tb.Name+`.id))`,
				append(args, tb.Name, tb.Name)...).Scan(&lost); err != nil {
				return fmt.Errorf("read own %s rows the pass did not bring: %w", tb.Name, err)
			}
			if lost {
				return &TimelineChangedError{Timeline: page.Timeline}
			}
		}
	}
	_, err = t.exec("DELETE FROM meta WHERE key = ?", metaReenrollCursor)
	return err
}

// restampFormer re-stamps, inside t, every pending row whose hlc names a
// former id of this device with its current id, keeping time and counter,
// and the bookkeeping that names those hlcs (sync_rows entries of pending
// rows, own fields kept at version 0), so they still match. NewBatch calls
// it before it reads the rows to push: a push must carry the pusher's own
// hlc. Clean rows keep their hlcs: they are the server's.
func (s *Store) restampFormer(t *wtx) error {
	f := s.former.Load()
	node := s.clock.Node()
	if f == nil || node == "" || node == hlc.Unenrolled {
		return nil
	}
	return restampIDs(t, *f, node)
}

// restampIDs re-stamps, inside t, the pending rows whose hlc names one of
// ids with node, keeping time and counter, and the bookkeeping that names
// those hlcs (restampFormer).
func restampIDs(t *wtx, ids []string, node string) error {
	if len(ids) == 0 {
		return nil
	}
	cond, args := ownIDs(ids).in("hlc")
	suffix := "-" + node
	for _, tb := range syncTables {
		// Names come from the registry, never from input. The entries
		// first: they are matched through the rows still pending.
		if _, err := t.tx.ExecContext(t.ctx, "UPDATE sync_rows SET hlc = substr(hlc, 1, 21) || ? WHERE tbl = ? AND hlc IS NOT NULL AND "+cond+
			" AND id IN (SELECT id FROM "+tb.Name+" WHERE synced_at IS NULL)", append([]any{suffix, tb.Name}, args...)...); err != nil {
			return fmt.Errorf("re-stamp %s entries with this device's id: %w", tb.Name, err)
		}
		if _, err := t.tx.ExecContext(t.ctx, "UPDATE "+tb.Name+" SET hlc = substr(hlc, 1, 21) || ? WHERE synced_at IS NULL AND "+cond,
			append([]any{suffix}, args...)...); err != nil {
			return fmt.Errorf("re-stamp %s with this device's id: %w", tb.Name, err)
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, "UPDATE sync_own_versions SET hlc = substr(hlc, 1, 21) || ? WHERE hlc IS NOT NULL AND "+cond,
		append([]any{suffix}, args...)...); err != nil {
		return fmt.Errorf("re-stamp own fields with this device's id: %w", err)
	}
	return nil
}
