package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// PushOutcome counts how a batch's results settled its rows
// (syncstate.PushOutcome).
type PushOutcome = syncstate.PushOutcome

// RowKey names one row of a synced table (syncstate.RowKey).
type RowKey = syncstate.RowKey

// ApplyPushResults settles batch batchID with the server's answer, in one
// transaction with the batch's removal (docs/design.md section 3). Each result is
// compared-and-set on the hlc that was pushed: a row edited since keeps its
// newer edit pending, on the version the server reported.
func (s *Store) ApplyPushResults(ctx context.Context, batchID string, resp protocol.PushResponse) (PushOutcome, error) {
	var out PushOutcome
	err := s.write(ctx, func(t *wtx) error {
		var body []byte
		err := t.tx.QueryRowContext(ctx, "SELECT body FROM sync_batches WHERE id = ?", batchID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoBatch
		}
		if err != nil {
			return fmt.Errorf("read batch: %w", err)
		}
		var req protocol.PushRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return fmt.Errorf("decode batch: %w", err)
		}
		if resp.BatchID != batchID || len(resp.Results) != len(req.Changes) {
			return fmt.Errorf("answer for batch %q has %d results, the batch %d changes", resp.BatchID, len(resp.Results), len(req.Changes))
		}
		var refetch int64
		for i, c := range req.Changes {
			res := resp.Results[i]
			if res.Table != c.Table || res.ID != c.ID {
				return fmt.Errorf("result %d names %s %s, the change %s %s", i, res.Table, res.ID, c.Table, c.ID)
			}
			if err := s.settle(t, c, res, resp.ServerTime, &out, &refetch); err != nil {
				return fmt.Errorf("settle %s %s: %w", c.Table, c.ID, err)
			}
		}
		if err := s.refetchFrom(t, refetch); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE state = 'in_flight' AND batch_id = ?", batchID); err != nil {
			return fmt.Errorf("clear in flight: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_batches WHERE id = ?", batchID); err != nil {
			return fmt.Errorf("remove batch: %w", err)
		}
		return nil
	})
	if err != nil {
		return PushOutcome{}, fmt.Errorf("apply push results of %s: %w", batchID, err)
	}
	return out, nil
}

// refetchFrom moves the cursor back below version (0 = nothing to fetch)
// when the pull has passed it already, inside transaction t.
//
// A superseded or merged result carries the server's row but not its hlc:
// the row is written clean at the result's version with the pushed hlc
// until the pull brings the server's. When the pull has already passed
// that version (it brought the winner while the row was pending: always
// so after a timeline pass, whose pages come before the push), it would
// never bring it again, and the row would stay clean at the server's
// version under this device's hlc: another state than the server's, which
// a later timeline change would even take for this device's own write.
// Pulling again from just below the version brings the server's hlc (a
// clean row equal to a pulled state is left alone, so the rows between
// cost a read each).
func (s *Store) refetchFrom(t *wtx, version int64) error {
	if version <= 0 {
		return nil
	}
	st, err := s.pullState(t.ctx, t.tx)
	if err != nil {
		return fmt.Errorf("read the cursor: %w", err)
	}
	if version > st.Cursor {
		return nil // the next pull brings it
	}
	if _, err := t.exec(upsertMeta, metaCursor, strconv.FormatInt(version-1, 10)); err != nil {
		return fmt.Errorf("move the cursor back to %d: %w", version-1, err)
	}
	return nil
}

// settle applies one push result to its row. A row written clean with a
// server row whose hlc the result does not carry lowers *refetch to its
// version (refetchFrom).
func (s *Store) settle(t *wtx, c protocol.Change, res protocol.PushResult, serverTime int64, out *PushOutcome, refetch *int64) error {
	tb, ok := s.syncedTable(c.Table)
	if !ok {
		return ErrUnknownTable
	}
	var cur string
	err := t.queryRow("SELECT hlc FROM "+tb.Name+" WHERE id = ?", c.ID).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		// Discarded meanwhile: nothing local to settle.
		_, err = t.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", c.Table, c.ID)
		return err
	}
	if err != nil {
		return err
	}
	edited := cur != c.HLC
	var version int64
	if res.Version != nil {
		version = *res.Version
	}
	clearEntry := func() error {
		_, err := t.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", c.Table, c.ID)
		return err
	}
	switch res.Status {
	case protocol.StatusApplied, protocol.StatusMerged, protocol.StatusSuperseded:
		switch {
		case edited && res.Row != nil && res.Status == protocol.StatusMerged:
			// Rebase the newer edit on the server's merged row: fields it
			// did not change since the push take the server's values.
			out.StillPending++
			if err := rebase(t, tb, c, res.Row, version, serverTime); err != nil {
				return err
			}
			if err := s.rememberServer(t, tb, c.ID, version, res.Row); err != nil {
				return err
			}
		case edited && res.Status == protocol.StatusSuperseded:
			// lww: another device's whole row won over the pushed state
			// (kept in the conflict record). The newer edit is a whole row
			// too, made without seeing the winner: it is neither rebased
			// (that would replace the fields it kept as pushed — the person's
			// values — with the winner's, and the state made here would
			// exist nowhere) nor moved onto the winner's version (that would
			// overwrite the winner unjudged). It stays pending, untouched, on
			// the version it was made on, so the server judges it against
			// the winner by lww: applied, or superseded and kept in a
			// conflict record (invariant 1).
			out.StillPending++
			if res.Row != nil {
				if err := s.rememberServer(t, tb, c.ID, version, res.Row); err != nil {
					return err
				}
			}
		case edited:
			out.StillPending++
			if _, err := t.exec("UPDATE "+tb.Name+" SET version = ?, server_updated_at = ? WHERE id = ?", version, serverTime, c.ID); err != nil {
				return err
			}
			// The server now holds the state that was pushed.
			if err := s.rememberPushed(t, tb, c, version); err != nil {
				return err
			}
		case res.Status == protocol.StatusApplied || res.Row == nil:
			if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = ?, version = ?, server_updated_at = ? WHERE id = ?", t.now, version, serverTime, c.ID); err != nil {
				return err
			}
			// The version is named by this device's hlc; the fields the
			// edit changed are noted with it, for a later version of
			// another device that still holds them (ownchain.go).
			own, err := editedFields(t, tb, c.ID)
			if err != nil {
				return err
			}
			if own != nil && version > 0 {
				if err := rememberOwnVersion(t, c.Table, c.ID, version, own); err != nil {
					return err
				}
			}
		default:
			// The server's row replaces the local one. Its hlc is not in the
			// result; the pull that follows brings it, from below version
			// if it has passed it (refetchFrom).
			if err := writeServerRow(t, tb, c.ID, res.Row, version, c.HLC); err != nil {
				return err
			}
			if version > 0 && (*refetch == 0 || version < *refetch) {
				*refetch = version
			}
			if res.Status == protocol.StatusMerged {
				// The merged version holds this device's accepted change,
				// but the server keeps it under the newer side's hlc, which
				// the pull brings and may name another device: remember it
				// as this device's own accepted write (ChangeTimeline).
				// Its own fields: those the edit changed that the merge
				// took from the push (unknown: the whole row, carried by
				// no later version).
				own, err := editedFields(t, tb, c.ID)
				if err != nil {
					return err
				}
				if own != nil {
					own = intersect(own, ownFieldsOfMerge(tb, c.Row, res.Row))
				}
				if err := rememberOwnVersion(t, c.Table, c.ID, version, own); err != nil {
					return fmt.Errorf("remember own merged version: %w", err)
				}
			}
		}
		switch res.Status {
		case protocol.StatusApplied:
			out.Applied++
		case protocol.StatusMerged:
			out.Merged++
		default:
			out.Superseded++
			if err := notePushedLoser(t, s.clock.Node(), c, res, serverTime); err != nil {
				return err
			}
		}
		return clearEntry()
	case protocol.StatusConflict:
		out.Conflicts++
		// A re-edit under review starts from theirs: the conflicting
		// edit's fields are not what the re-edit changes (its accepted
		// version is then the whole row's, carried by no later version).
		if _, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = -1", c.Table, c.ID); err != nil {
			return fmt.Errorf("forget own edit fields: %w", err)
		}
		if res.Row != nil {
			if err := s.rememberServer(t, tb, c.ID, version, res.Row); err != nil {
				return err
			}
		}
		if edited && res.Row != nil {
			// Edited while the push was in flight: that edit was made from
			// the pushed state, not from theirs. Rebased onto theirs (the
			// fields it left as pushed take theirs' values), it is pushed as
			// a re-edit under review is (docs/design.md section 3): only its own
			// changes, on theirs' version, so it can neither write the
			// contested value over theirs while the conflict is open nor
			// overturn the manager's decision with fields it never changed.
			// The fields it changed are noted first, as a re-edit's are
			// (reeditfields.go): one set to theirs' value looks left.
			if err := noteRebasedFields(t, tb, c); err != nil {
				return err
			}
			if err := rebase(t, tb, c, res.Row, version, serverTime); err != nil {
				return err
			}
		}
		srv, err := encodeRow(res.Row)
		if err != nil {
			return err
		}
		// base_version becomes the conflict's server version: a new edit of
		// this row is pushed on it (pendingChanges), whatever pulls bring
		// into server_version meanwhile.
		// base_row keeps that state ("theirs"): a re-edit starts from it
		// (StartFromTheirs), so it is pushed as a change of theirs.
		_, err = t.exec(`UPDATE sync_rows SET state = 'awaiting_review', batch_id = NULL, conflict_id = ?,
			base_version = ?, server_version = ?, server_row = ?, base_row = ?, server_hlc = NULL, changed_at = ? WHERE tbl = ? AND id = ?`,
			res.ConflictID, version, version, srv, srv, t.now, c.Table, c.ID)
		return err
	case protocol.StatusRejected:
		out.Rejected++
		if strings.HasPrefix(res.Error, protocol.CodeClockAhead+":") || res.Error == protocol.CodeClockAhead {
			out.ClockAhead = append(out.ClockAhead, RowKey{Table: c.Table, ID: c.ID})
		}
		_, err := t.exec(`UPDATE sync_rows SET state = 'rejected', batch_id = NULL, conflict_id = NULL, reason = ?, changed_at = ?
			WHERE tbl = ? AND id = ?`, res.Error, t.now, c.Table, c.ID)
		return err
	}
	return fmt.Errorf("unknown result status %q", res.Status)
}
