package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Verification of a hub against central (docs/design.md sections 8 and 9:
// "Verification runs on both links"). The hub's own checksums are over hub
// versions and central's over central versions, so they cannot be compared.
// But for every live row whose state is settled with central the hub knows
// central's version of it (up/base): its state came from central, or it is
// an own write central answered applied. When the link is idle, the sums
// over checksum.Hash(table, id, central's version) of the hub's live rows
// must equal central's sums at the cursor the hub has pulled to.

// upScanPage is how many rows or writes one read of a verification takes.
const upScanPage = 1000

// UpstreamSums is the hub's side of a verification against central.
type UpstreamSums struct {
	// Cursor is central's feed position the hub has republished up to:
	// the sums describe central's state at that cursor.
	Cursor int64
	// Settled is false when something is still between the hub and
	// central (a batch unanswered, a hub write not yet sent, a change of
	// central held back): then Why says what, and Tables is nil.
	Settled bool
	Why     string
	// Tables: per registry table, per bucket, the count and sum of the
	// hub's live rows hashed with central's version of each.
	Tables map[string]map[string]checksum.Sum
}

// UpstreamSums computes, when the hub's link is idle, the checksums of the
// hub's live rows at central's versions (up/base), per table and bucket, in
// one consistent view: it holds the site's write lock and reads committed
// state, so no write of the site commits meanwhile. Conflict records are
// left out (each tier numbers its own; a hub's are not republished with a
// base) and so are tables the registry does not know.
func (e *Engine) UpstreamSums(ctx context.Context, site, upDevice string) (UpstreamSums, error) {
	var out UpstreamSums
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return out, fmt.Errorf("begin upstream sums: %w", err)
	}
	defer tx.Rollback()
	// Committed state only, read through the store under the lock: the
	// transaction may share a commit group with writes not yet durable.
	meta, err := e.Store.MetaPrefix(ctx, site, "up/")
	if err != nil {
		return out, fmt.Errorf("read link state: %w", err)
	}
	if out.Cursor, err = metaValue(meta, metaUpCursor); err != nil {
		return out, err
	}
	if _, ok := meta[metaUpBatch]; ok {
		out.Why = "a batch waits for central's answer"
		return out, nil
	}
	for k := range meta {
		if strings.HasPrefix(k, metaUpHeld) {
			out.Why = "a change of central waits for central's answer to a hub write"
			return out, nil
		}
	}
	pushed, err := metaValue(meta, metaUpPushed)
	if err != nil {
		return out, err
	}
	for after := pushed; ; {
		ws, err := e.Store.Writes(ctx, site, after, upScanPage)
		if err != nil {
			return out, fmt.Errorf("read hub writes: %w", err)
		}
		for _, w := range ws {
			if isLocal(w, upDevice) {
				out.Why = "a write of the site has not been answered by central"
				return out, nil
			}
		}
		if len(ws) < upScanPage {
			break
		}
		after = ws[len(ws)-1].Version
	}
	out.Tables = map[string]map[string]checksum.Sum{}
	for after := int64(0); ; {
		rows, err := e.Store.Changes(ctx, site, after, upScanPage)
		if err != nil {
			return out, fmt.Errorf("read hub rows: %w", err)
		}
		for _, r := range rows {
			if r.Deleted || !e.verifiedTable(r.Table) {
				continue
			}
			base, err := metaValue(meta, rowMetaKey(metaUpBase, r.Table, r.ID))
			if err != nil {
				return out, err
			}
			b := r.Bucket
			if b == "" {
				b = checksum.RowBucket(e.Registry, r.Table, r.ID, r.Data)
			}
			t := out.Tables[r.Table]
			if t == nil {
				t = map[string]checksum.Sum{}
				out.Tables[r.Table] = t
			}
			s := t[b]
			s.Add(checksum.Hash(r.Table, r.ID, base))
			t[b] = s
		}
		if len(rows) < upScanPage {
			break
		}
		after = rows[len(rows)-1].Version
	}
	out.Settled = true
	return out, nil
}

// verifiedTable says whether a hub verifies table against central: every
// registry table (conflict records are numbered by each tier on its own).
func (e *Engine) verifiedTable(table string) bool {
	_, ok := e.Registry.Lookup(table)
	return ok && table != protocol.TableConflicts
}

func metaValue(meta map[string][]byte, key string) (int64, error) {
	v, ok := meta[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s %q: %w", key, v, err)
	}
	return n, nil
}

// UpstreamRepairOutcome is what one bucket's repair did.
type UpstreamRepairOutcome struct {
	// Rewritten: rows written again as central's state (absent, deleted,
	// at another version or with other values on the hub); Removed: live
	// hub rows central does not hold live, tombstoned.
	Rewritten, Removed int
	// Own lists the rows (table/id) whose current state is a write made on
	// site that central answered and that differs from central's listing:
	// repair never overwrites a write of the site, it is reported.
	Own []string
	// Skipped says why nothing was done ("" when the repair ran).
	Skipped string
	// Seq is the hub's sequence after the repair's writes (0 when none).
	Seq int64
}

// UpstreamRepair makes the hub's rows of bucket central's, from central's
// listing of that bucket (GET /v1/rows) at cursor, in one transaction: a
// row central lists whose state on the hub is absent, deleted, at another
// central version or with other values is written again as central's state
// (a republished write, its base central's version); a live hub row of the
// bucket central does not list is tombstoned. Rows with a hub write not yet
// answered by central are left to its answer; a write of the site central
// answered is never overwritten (Own). Nothing is done when the hub's link
// has moved from cursor.
func (e *Engine) UpstreamRepair(ctx context.Context, site, upDevice, bucket string, cursor int64, listing []protocol.PullChange) (UpstreamRepairOutcome, error) {
	var out UpstreamRepairOutcome
	table, ok := checksum.TableOf(e.Registry, bucket)
	if !ok || !e.verifiedTable(table) {
		return out, fmt.Errorf("repair bucket %q: not a bucket of a verified table", bucket)
	}
	t, _ := e.Registry.Lookup(table)
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return out, fmt.Errorf("begin upstream repair: %w", err)
	}
	defer tx.Rollback()
	at, err := metaInt(ctx, tx, metaUpCursor)
	if err != nil {
		return out, err
	}
	if at != cursor {
		out.Skipped = "the hub pulled from central meanwhile"
		return out, nil
	}
	if _, err := tx.Meta(ctx, metaUpBatch); err == nil {
		out.Skipped = "a batch waits for central's answer"
		return out, nil
	} else if !errors.Is(err, ErrNotFound) {
		return out, fmt.Errorf("read upstream batch: %w", err)
	}
	pushed, err := metaInt(ctx, tx, metaUpPushed)
	if err != nil {
		return out, err
	}
	w := newWriter(tx, e.Registry, e.nowMS())
	listed := make(map[string]bool, len(listing))
	for _, ch := range listing {
		if ch.Table == "" {
			ch.Table = table // GET /v1/rows names the table in the bucket only
		}
		if ch.Table != table {
			return out, fmt.Errorf("repair bucket %s: central listed a row of %s", bucket, ch.Table)
		}
		listed[ch.ID] = true
		cur, exists, err := w.current(ctx, table, ch.ID)
		if err != nil {
			return out, err
		}
		base, err := metaInt(ctx, tx, rowMetaKey(metaUpBase, table, ch.ID))
		if err != nil {
			return out, err
		}
		if exists && isLocal(cur, upDevice) {
			if cur.Version <= pushed && (cur.Deleted || base != ch.Version) {
				out.Own = append(out.Own, table+"/"+ch.ID)
			}
			continue // unanswered: central's answer settles the row
		}
		if exists && !cur.Deleted && base == ch.Version && e.sameState(table, cur.Data, ch.Row) {
			continue
		}
		if err := e.writeCentral(ctx, w, upDevice, ch); err != nil {
			return out, fmt.Errorf("repair %s/%s: %w", table, ch.ID, err)
		}
		out.Rewritten++
	}
	// The hub's live rows of the bucket (committed; this transaction has
	// written only rows central lists) that central does not hold live.
	for after := ""; ; {
		_, rows, err := e.Store.BucketRows(ctx, site, bucket, after, upScanPage)
		if err != nil {
			return out, fmt.Errorf("read hub bucket: %w", err)
		}
		for _, r := range rows {
			if listed[r.ID] {
				continue
			}
			cur, exists, err := w.current(ctx, table, r.ID)
			if err != nil {
				return out, err
			}
			if !exists || cur.Deleted {
				continue
			}
			if isLocal(cur, upDevice) {
				if cur.Version <= pushed {
					out.Own = append(out.Own, table+"/"+r.ID)
				}
				continue
			}
			row, err := decodeRow(t, cur.Data)
			if err != nil {
				return out, err
			}
			row["deleted_at"] = w.now
			row["server_updated_at"] = w.now
			if _, err := w.put(ctx, rowState(t, row, cur.HLC, upDevice)); err != nil {
				return out, fmt.Errorf("repair %s/%s: %w", table, r.ID, err)
			}
			if err := tx.SetMeta(ctx, rowMetaKey(metaUpBase, table, r.ID), nil); err != nil {
				return out, fmt.Errorf("clear base: %w", err)
			}
			if err := e.forgetMade(ctx, tx, table, r.ID); err != nil {
				return out, err
			}
			out.Removed++
		}
		if len(rows) < upScanPage {
			break
		}
		after = rows[len(rows)-1].ID
	}
	sort.Strings(out.Own)
	if out.Rewritten+out.Removed == 0 {
		return out, nil
	}
	if err := commitOr(tx, "commit upstream repair"); err != nil {
		return out, err
	}
	out.Seq = w.last
	return out, nil
}
