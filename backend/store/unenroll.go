package store

import (
	"context"
	"fmt"

	"github.com/outpost-app/outpost/backend/hlc"
)

// ClearEnrollment forgets the server (unenroll): the device id, the cursor,
// the pulled conflict records and the row states; rows are kept. The caller
// checks first that nothing is unsettled, or that the operator accepted
// losing it. The device id becomes a former id (reenroll.go), and the site,
// the server's timeline and the cursor reached (aside, for reenrollPass)
// and the versions the server merged from this device's pushes are kept:
// enrolled again at the same site, the device pushes again its own
// accepted writes the server lacks (a server restored from a backup older
// than its enrollment refuses it, so its operator may disconnect it before
// enrolling it again); at another site they are forgotten.
func (s *Store) ClearEnrollment(ctx context.Context) error {
	qs := []string{
		"DELETE FROM meta WHERE key IN ('" + metaDeviceID + "', '" + metaCursor + "', '" + metaPullSchema + "', '" +
			metaPass + "', '" + metaTimeline + "', '" + metaVerified + "')",
		// Rows awaiting review and rejected ones keep their state: their
		// edit lives in a conflict record, or the server refused it, and
		// enrolled again at the same site the device must not push it as
		// a new edit (a second record for it); another site forgets them
		// (SetEnrollment).
		"DELETE FROM sync_rows WHERE state NOT IN ('awaiting_review', 'resolving', 'rejected')",
		"DELETE FROM sync_batches", "DELETE FROM sync_conflicts", "DELETE FROM sync_pass_rows",
	}
	for _, tb := range syncTableNames() {
		// Edits not yet accepted carry the old device id: stamp them as
		// made before enrollment, so the next enrollment re-stamps them;
		// those that keep their state keep the id (a former id then, the
		// push re-stamps it: restampFormer), as their entries do.
		qs = append(qs, "UPDATE "+tb+" SET hlc = substr(hlc, 1, 21) || '-"+hlc.Unenrolled+"' WHERE synced_at IS NULL"+
			" AND id NOT IN (SELECT id FROM sync_rows WHERE tbl = '"+tb+"')")
	}
	err := s.write(ctx, func(t *wtx) error {
		if err := reviewBack(t, "1 = 1"); err != nil {
			return err
		}
		prev, err := s.metaGet(ctx, t.tx, metaDeviceID)
		if err != nil {
			return err
		}
		former, err := s.formerIDsWith(ctx, t, prev, "")
		if err != nil {
			return err
		}
		// The timeline and the cursor reached are kept aside too: enrolled
		// again at the same site, the device tells by them whether the
		// server lost anything (reenrollPass).
		if err := saveReenrollCursor(t); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO meta(key, value) SELECT ?, value FROM meta WHERE key = ? AND value <> ''
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, metaFormerTimeline, metaTimeline); err != nil {
			return fmt.Errorf("keep the timeline aside: %w", err)
		}
		for _, q := range qs {
			if _, err := t.tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if err := s.setFormer(t, former); err != nil {
			return err
		}
		s.clock.SetNode(hlc.Unenrolled)
		return nil
	})
	if err != nil {
		if lerr := s.loadFormer(ctx); lerr != nil {
			return fmt.Errorf("clear enrollment: %w (%v)", err, lerr)
		}
		return fmt.Errorf("clear enrollment: %w", err)
	}
	return nil
}
