package syncclient

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Verified convergence, the device's side (docs/design.md section 8): after a
// pull that reaches has_more false the device compares its own checksums
// (kept by the store) with the page's, repairs the buckets that differ from
// the server's listings, and records the cursor it verified at.

// Verification is what the status shows of the last verification.
type Verification struct {
	// At and Cursor: the last time the device proved it held the server's
	// state (ms, device clock), and at which cursor; 0 before the first.
	At     int64 `json:"at"`
	Cursor int64 `json:"cursor"`
	// Tables: live rows per table at that verification.
	Tables map[string]int64 `json:"tables"`
	// Problem says why the last sync did not verify ("" when it did): a
	// difference being repaired, one repair could not clear, or why the
	// device cannot verify.
	Problem string `json:"problem"`
	// Repaired counts the buckets repaired since the app started;
	// Unresolved the differences repair could not clear (each reported
	// once).
	Repaired   int64 `json:"repaired"`
	Unresolved int64 `json:"unresolved"`
}

// VerifyOutcome is what one verification did.
type VerifyOutcome struct {
	Verified bool
	// Tables and Buckets that differed; Rows: how many rows the repairs
	// wrote, remembered or removed.
	Tables, Buckets, Rows int
	// Unresolved buckets still differ from their listing after repair.
	Unresolved []string
}

// verifier is the part of the store verification needs.
type verifier interface {
	TableSums(ctx context.Context) (map[string]checksum.Sum, error)
	BucketSums(ctx context.Context, table string) (map[string]checksum.Sum, error)
	ApplyBucketListing(ctx context.Context, table, bucket string, rows []protocol.PullChange) (syncstate.RepairOutcome, error)
	LastVerification(ctx context.Context) (syncstate.Verification, error)
	SaveVerification(ctx context.Context, v syncstate.Verification) error
}

// feedTables are the tables this build knows; only they are compared.
var feedTables = func() []string {
	var out []string
	for _, t := range protocol.NewRegistry().Tables() {
		out = append(out, t.Name)
	}
	return out
}()

// verify compares the device with the final page final and repairs what
// differs. It never fails the sync: what goes wrong is the status's
// Problem.
func (c *Client) verify(ctx context.Context, api *API, final PullAnswer) VerifyOutcome {
	var out VerifyOutcome
	st, ok := c.o.Store.(verifier)
	if !ok {
		return out
	}
	problem := func(p string, unresolved bool) VerifyOutcome {
		c.update(func(s *Status) {
			if unresolved {
				s.Verify.Unresolved++
			}
			s.Verify.Problem = p
		})
		return out
	}
	if final.Checksums == nil {
		return problem("cannot verify: the sync server does not send checksums (an older version)", false)
	}
	mine, err := st.TableSums(ctx)
	if err != nil {
		c.o.Logger.Error("verification: read the device's checksums", "err", err)
		return problem("cannot verify: "+Sentence(err), false)
	}
	var differ []string
	rows := int64(0)
	for _, t := range feedTables {
		theirs, err := fromWire(final.Checksums[t])
		if err != nil {
			return problem("cannot verify: the sync server sent a malformed checksum", false)
		}
		if mine[t] != theirs {
			differ = append(differ, t)
			rows += max(1, abs(mine[t].Count-theirs.Count))
		}
	}
	if len(differ) > 0 {
		out.Tables = len(differ)
		c.o.Logger.Warn("verification: the device differs from the server; repairing", "tables", strings.Join(differ, ","), "cursor", final.Cursor)
		c.update(func(s *Status) { s.Verify.Problem = fmt.Sprintf("%s; repairing", rowsDiffer(rows)) })
		for _, t := range differ {
			if err := c.repairTable(ctx, api, st, t, final, &out); err != nil {
				c.o.Logger.Warn("verification: repair stopped", "table", t, "err", err)
				return problem("cannot verify: "+Sentence(err), false)
			}
		}
		if len(out.Unresolved) > 0 {
			key := strings.Join(out.Unresolved, ",")
			msg := fmt.Sprintf("cannot verify: %d %s still %s from the server after repair", len(out.Unresolved),
				plural(len(out.Unresolved), "group of rows", "groups of rows"), plural(len(out.Unresolved), "differs", "differ"))
			if key == c.lastUnresolved {
				// Reported already: not again at every sync.
				return problem(msg, false)
			}
			c.lastUnresolved = key
			c.o.Logger.Error("verification: a difference repair could not clear", "buckets", key)
			return problem(msg, true)
		}
	}
	c.lastUnresolved = ""
	counts := map[string]int64{}
	for _, t := range feedTables {
		if w, ok := final.Checksums[t]; ok {
			counts[t] = w.Count
		} else {
			counts[t] = 0
		}
	}
	v := syncstate.Verification{Cursor: final.Cursor, At: c.o.Now().UnixMilli(), Tables: counts}
	if err := st.SaveVerification(ctx, v); err != nil {
		c.o.Logger.Error("verification: save", "err", err)
		return problem("cannot verify: "+Sentence(err), false)
	}
	out.Verified = true
	c.update(func(s *Status) {
		s.Verify.At, s.Verify.Cursor, s.Verify.Tables, s.Verify.Problem = v.At, v.Cursor, v.Tables, ""
		s.Verify.Repaired += int64(out.Buckets)
	})
	return out
}

// sameTimeline confirms, after a repair's listing is fetched and before any
// of it is applied, that the server is still on the timeline of the final
// page: /v1/checksums and /v1/rows carry none, and a listing of a restored
// server would remove this device's own accepted writes the restore lost
// (issue 15, review finding 4). A pull at the final page's cursor with a
// small limit carries the timeline; a 410 there (a cursor above the
// restored sequence) is a timeline change too. When the check cannot be
// made, nothing is applied either: the repair is tried again on the next
// sync.
func sameTimeline(ctx context.Context, api *API, final PullAnswer) error {
	if final.Timeline == "" {
		// A server that names no timeline cannot say it was restored.
		return nil
	}
	page, err := api.PullAnswer(ctx, PullParams{Cursor: final.Cursor, Limit: 1, Committed: -1})
	if err != nil {
		return fmt.Errorf("confirm the server's timeline before a repair: %w", err)
	}
	if page.Timeline != final.Timeline {
		// Restored meanwhile: the next sync follows the new timeline.
		return &syncstate.TimelineChangedError{Timeline: page.Timeline}
	}
	return nil
}

// repairTable compares table's buckets with the server's and applies the
// server's listing of each bucket that differs (one transaction per
// bucket), then compares the bucket with that listing. Each listing is
// applied only once the server is known to be still on final's timeline.
func (c *Client) repairTable(ctx context.Context, api *API, st verifier, table string, final PullAnswer, out *VerifyOutcome) error {
	theirs, err := api.Checksums(ctx, table)
	if err != nil {
		return fmt.Errorf("checksums of %s: %w", table, err)
	}
	mine, err := st.BucketSums(ctx, table)
	if err != nil {
		return err
	}
	buckets := map[string]bool{}
	for b := range mine {
		buckets[b] = true
	}
	for b := range theirs.Buckets {
		buckets[b] = true
	}
	var differ []string
	for b := range buckets {
		t, err := fromWire(theirs.Buckets[b])
		if err != nil {
			return fmt.Errorf("checksums of %s: %w", table, err)
		}
		if mine[b] != t {
			differ = append(differ, b)
		}
	}
	sort.Strings(differ)
	for _, b := range differ {
		var listing []protocol.PullChange
		after := ""
		for {
			page, err := api.Rows(ctx, b, after)
			if err != nil {
				return fmt.Errorf("rows of %s: %w", b, err)
			}
			for _, r := range page.Rows {
				r.Table = table
				listing = append(listing, r)
			}
			if !page.HasMore || len(page.Rows) == 0 {
				break
			}
			after = page.Rows[len(page.Rows)-1].ID
		}
		if err := sameTimeline(ctx, api, final); err != nil {
			return err
		}
		res, err := st.ApplyBucketListing(ctx, table, b, listing)
		if err != nil {
			return err
		}
		out.Buckets++
		out.Rows += res.Written + res.Remembered + res.Removed
		c.o.Logger.Info("verification: bucket repaired", "bucket", b, "written", res.Written, "remembered", res.Remembered, "removed", res.Removed)
		if res.Device != res.Listed {
			out.Unresolved = append(out.Unresolved, b)
		}
	}
	return nil
}

// fromWire reads a wire checksum; absent (the zero Wire) is the empty set.
func fromWire(w checksum.Wire) (checksum.Sum, error) {
	if w.Count == 0 && w.Sum == "" {
		return checksum.Sum{}, nil
	}
	sum, err := checksum.ParseHex(w.Sum)
	if err != nil {
		return checksum.Sum{}, err
	}
	return checksum.Sum{Count: w.Count, Sum: sum}, nil
}

func rowsDiffer(n int64) string {
	if n == 1 {
		return "1 row differs"
	}
	return fmt.Sprintf("%d rows differ", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
