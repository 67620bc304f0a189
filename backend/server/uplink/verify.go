package uplink

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Verified convergence on the hub's link (docs/design.md sections 8 and 9):
// after a pull that reached the end of central's feed, the hub proves that
// it holds every live row of central at central's version, and repairs
// itself from central's listings when it does not, so its devices get
// central's state again (a bad disk, a partial restore, a bug).

// VerifyResult is what one verification did.
type VerifyResult struct {
	// Verified: the hub held central's state at Cursor (after repair).
	Verified bool
	Cursor   int64
	// Skipped says why nothing was compared ("" when it was).
	Skipped string
	// Buckets that differed; Rewritten and Removed rows the repair wrote
	// again as central's state or tombstoned.
	Buckets, Rewritten, Removed int
	// Unresolved lists the buckets that still differ after repair.
	Unresolved []string
}

// VerifyStatus is the verifications' part of Status.
type VerifyStatus struct {
	// Verified is central's cursor at which the hub last proved it held
	// central's state, VerifiedAt when (ms); 0 before the first.
	Verified   int64 `json:"verified"`
	VerifiedAt int64 `json:"verified_at"`
	// Repaired counts the rows repairs rewrote or removed since the link
	// started; Unresolved the buckets repair could not clear (each
	// reported once).
	Repaired   int64 `json:"repaired"`
	Unresolved int64 `json:"unresolved"`
	// Problem says why the last verification did not verify ("" when it
	// did, or when none ran yet).
	Problem string `json:"problem,omitempty"`
}

// verification is the link's verification state.
type verification struct {
	mu             sync.Mutex
	st             VerifyStatus
	next           time.Time // the next verification is due
	lastUnresolved string
}

func (v *verification) status() VerifyStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st
}

// Verify compares the hub with central now (see verify).
func (l *Link) Verify(ctx context.Context) (VerifyResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.verify(ctx)
}

// verifyAfter runs a verification after a sync that pulled central's feed
// to its end (err nil), at most once per Config.VerifyEvery; a round that
// compared nothing (the link busy) is tried again after a sixth of it. It
// never fails the sync: what goes wrong is logged and shown in Status.
func (l *Link) verifyAfter(ctx context.Context, err error) {
	if err != nil || l.cfg.VerifyEvery < 0 {
		return
	}
	v := &l.ver
	v.mu.Lock()
	due := !time.Now().Before(v.next)
	v.mu.Unlock()
	if !due {
		return
	}
	res, err := l.verify(ctx)
	if err != nil && ctx.Err() == nil {
		l.cfg.Log.Warn("verification against central failed", "err", err)
	}
	wait := l.cfg.VerifyEvery
	if err == nil && res.Skipped != "" {
		wait /= 6
		l.cfg.Log.Debug("verification compared nothing", "why", res.Skipped)
	}
	v.mu.Lock()
	v.next = time.Now().Add(wait)
	v.mu.Unlock()
}

// verify compares the hub's sums at central's versions
// (server.Engine.UpstreamSums) with central's at the cursor the hub has
// pulled to: per table with the checksums of a final pull page at that
// cursor, then, for a table that differs, per bucket with GET
// /v1/checksums. A round where the link is not idle, or central has moved
// past that cursor, compares nothing. Each bucket that differs is listed
// by central (GET /v1/rows) and repaired (server.Engine.UpstreamRepair),
// then compared again. The caller holds l.mu.
func (l *Link) verify(ctx context.Context) (VerifyResult, error) {
	res, err := l.compare(ctx)
	v := &l.ver
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case err != nil:
		v.st.Problem = "cannot verify: " + err.Error()
	case res.Skipped != "":
		// Nothing compared: the last verification stands.
	case res.Verified:
		v.st.Verified, v.st.VerifiedAt = res.Cursor, time.Now().UnixMilli()
		v.st.Problem, v.lastUnresolved = "", ""
	default:
		key := strings.Join(res.Unresolved, ",")
		v.st.Problem = fmt.Sprintf("%d group(s) of rows still differ from central after repair", len(res.Unresolved))
		if key != v.lastUnresolved {
			// Reported once, not at every round.
			v.lastUnresolved = key
			v.st.Unresolved += int64(len(res.Unresolved))
			l.cfg.Log.Error("verification: the hub differs from central and repair could not clear it", "buckets", key, "cursor", res.Cursor)
		}
	}
	v.st.Repaired += int64(res.Rewritten + res.Removed)
	return res, err
}

func (l *Link) compare(ctx context.Context) (VerifyResult, error) {
	e, id := l.cfg.Engine, l.cfg.ID
	var res VerifyResult
	mine, err := e.UpstreamSums(ctx, id.Site, id.Device)
	if err != nil {
		return res, err
	}
	res.Cursor = mine.Cursor
	if !mine.Settled {
		res.Skipped = mine.Why
		return res, nil
	}
	if mine.Cursor == 0 {
		res.Skipped = "nothing pulled from central yet"
		return res, nil
	}
	// Central's table sums at the hub's cursor, in one snapshot: the
	// final page of a pull there (docs/design.md section 8), which also
	// tells central the cursor the hub last verified at.
	probe, err := l.api.PullAnswer(ctx, syncclient.PullParams{Cursor: mine.Cursor, Limit: 1, Committed: mine.Cursor,
		Verified: l.ver.status().Verified})
	if err != nil {
		return res, fmt.Errorf("central's checksums: %w", err)
	}
	if probe.HasMore || len(probe.Changes) > 0 || probe.Cursor != mine.Cursor {
		res.Skipped = "central moved on since the hub's pull"
		return res, nil
	}
	if probe.Checksums == nil {
		return res, errors.New("central sends no checksums (a server older than verification)")
	}
	var tables []string
	for _, t := range e.Registry.Tables() {
		if t.Name == protocol.TableConflicts {
			continue
		}
		theirs, err := fromWire(probe.Checksums[t.Name])
		if err != nil {
			return res, fmt.Errorf("central's checksum of %s: %w", t.Name, err)
		}
		var sum checksum.Sum
		for _, s := range mine.Tables[t.Name] {
			sum.Merge(s)
		}
		if sum != theirs {
			tables = append(tables, t.Name)
		}
	}
	// The buckets of each table that differs.
	theirs := map[string]map[string]checksum.Sum{}
	type bucketOf struct{ table, bucket string }
	var differ []bucketOf
	for _, t := range tables {
		ans, err := l.api.Checksums(ctx, t)
		if err != nil {
			return res, fmt.Errorf("central's checksums of %s: %w", t, err)
		}
		if ans.Cursor != mine.Cursor {
			res.Skipped = fmt.Sprintf("central is at %d, the hub has pulled to %d", ans.Cursor, mine.Cursor)
			return res, nil
		}
		sums := map[string]checksum.Sum{}
		for b, w := range ans.Buckets {
			s, err := fromWire(w)
			if err != nil {
				return res, fmt.Errorf("central's checksums of %s: %w", t, err)
			}
			if s.Count != 0 {
				sums[b] = s
			}
		}
		theirs[t] = sums
		for _, b := range differing(mine.Tables[t], sums) {
			differ = append(differ, bucketOf{t, b})
		}
	}
	if len(differ) == 0 {
		res.Verified = true
		return res, nil
	}
	res.Buckets = len(differ)
	l.cfg.Log.Warn("verification: the hub differs from central; repairing", "buckets", len(differ), "cursor", mine.Cursor)
	for _, d := range differ {
		listing, ok, err := l.listing(ctx, d.bucket, mine.Cursor)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Skipped = "central moved on during the repair"
			return res, nil
		}
		out, err := e.UpstreamRepair(ctx, id.Site, id.Device, d.bucket, mine.Cursor, listing)
		if err != nil {
			return res, err
		}
		if out.Skipped != "" {
			res.Skipped = out.Skipped
			return res, nil
		}
		res.Rewritten += out.Rewritten
		res.Removed += out.Removed
		if out.Seq != 0 {
			l.cfg.Publish(id.Site, out.Seq)
		}
		if len(out.Own) > 0 {
			l.cfg.Log.Warn("verification: writes of the site differ from central's rows and are kept", "bucket", d.bucket, "rows", strings.Join(out.Own, ","))
		}
		l.cfg.Log.Warn("verification: repaired a bucket from central", "bucket", d.bucket, "rewritten", out.Rewritten, "removed", out.Removed)
	}
	// Compared again with central's answer (at the same cursor: every
	// listing said so).
	again, err := e.UpstreamSums(ctx, id.Site, id.Device)
	if err != nil {
		return res, err
	}
	if !again.Settled || again.Cursor != mine.Cursor {
		res.Skipped = "the link moved on after the repair"
		return res, nil
	}
	for _, d := range differ {
		if again.Tables[d.table][d.bucket] != theirs[d.table][d.bucket] {
			res.Unresolved = append(res.Unresolved, d.bucket)
		}
	}
	res.Verified = len(res.Unresolved) == 0
	return res, nil
}

// listing reads central's live rows of bucket, every answer at cursor (ok
// false when central moved on meanwhile).
func (l *Link) listing(ctx context.Context, bucket string, cursor int64) ([]protocol.PullChange, bool, error) {
	var out []protocol.PullChange
	for after := ""; ; {
		page, err := l.api.Rows(ctx, bucket, after)
		if err != nil {
			return nil, false, fmt.Errorf("central's rows of %s: %w", bucket, err)
		}
		if page.Cursor != cursor {
			return nil, false, nil
		}
		out = append(out, page.Rows...)
		if !page.HasMore || len(page.Rows) == 0 {
			return out, true, nil
		}
		after = page.Rows[len(page.Rows)-1].ID
	}
}

// differing lists the buckets whose sums differ, in order.
func differing(a, b map[string]checksum.Sum) []string {
	var out []string
	for k, s := range a {
		if b[k] != s {
			out = append(out, k)
		}
	}
	for k, s := range b {
		if _, ok := a[k]; !ok && s != (checksum.Sum{}) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// fromWire reads a checksum as sent; the zero Wire (a table absent from a
// page's checksums) is the empty set.
func fromWire(w checksum.Wire) (checksum.Sum, error) {
	if w == (checksum.Wire{}) {
		return checksum.Sum{}, nil
	}
	s, err := checksum.ParseHex(w.Sum)
	if err != nil {
		return checksum.Sum{}, err
	}
	return checksum.Sum{Count: w.Count, Sum: s}, nil
}
