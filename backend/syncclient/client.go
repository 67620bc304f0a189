package syncclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Store is what the client needs from the local database
// (backend/store.Store implements it; storeimpl_test.go checks).
type Store interface {
	DeviceID(ctx context.Context) (string, error)
	SetEnrollment(ctx context.Context, id, site string) error
	ClearEnrollment(ctx context.Context) error
	OpenBatch(ctx context.Context) (*syncstate.Batch, error)
	NewBatch(ctx context.Context, limit int) (*syncstate.Batch, error)
	ApplyPushResults(ctx context.Context, batchID string, resp protocol.PushResponse) (syncstate.PushOutcome, error)
	ApplyPullPages(ctx context.Context, next func() (protocol.PullResponse, bool)) (syncstate.PullOutcome, int, error)
	Cursor(ctx context.Context) (int64, error)
	PullState(ctx context.Context) (syncstate.PullState, error)
	ResetCursor(ctx context.Context) error
	ChangeTimeline(ctx context.Context, timeline string) error
	RepullIfUpgraded(ctx context.Context) (bool, error)
	SetClockOffset(ms int64)
	Restamp(ctx context.Context, keys []syncstate.RowKey) error
	SyncCounts(ctx context.Context) (syncstate.SyncCounts, error)
	Quarantine(ctx context.Context) ([]syncstate.QuarantinedRow, error)
	Resubmit(ctx context.Context, table, id string) error
	Discard(ctx context.Context, table, id string, server *syncstate.ServerState) error
	DropBatch(ctx context.Context, id string) error
	KnownServerState(ctx context.Context, table, id string) (*syncstate.ServerState, error)
}

// Options configures a Client. Store and Tokens are required.
type Options struct {
	Store  Store
	Tokens TokenStore
	HTTP   HTTPOptions
	// DeviceName and Platform are sent at enrollment.
	DeviceName, Platform string
	// BatchSize is the number of changes per push (default 500, at most 1000).
	BatchSize int
	// PullLimit is the page size of pulls (default and most: 5000, the
	// server's cap; each page is one local transaction, fewer commits).
	PullLimit int
	// PullBatchPages, PullBatchRows and PullBatchTime bound a catch-up
	// batch: while the server has more, consecutive pull pages are applied
	// in one local transaction (with the last page's cursor) until the batch
	// holds PullBatchPages pages (default 10) or PullBatchRows rows (default
	// 50000), or has held the store's writer for PullBatchTime (default 1 s;
	// local edits wait for it). PullBatchPages 1 applies one page per
	// transaction. A crash loses at most the batch, pulled again.
	PullBatchPages int
	PullBatchRows  int
	PullBatchTime  time.Duration
	// Debounce is the quiet time after a local write before a sync
	// (default 500 ms); MaxDelay bounds it under a stream of writes (2 s).
	Debounce, MaxDelay time.Duration
	// ProbeBase and ProbeMax bound the health probe's backoff (1 s, 60 s).
	ProbeBase, ProbeMax time.Duration
	// Poll is the fallback sync interval while online without events (60 s).
	Poll time.Duration
	// ClockWarn is the clock offset shown as a warning (5 min).
	ClockWarn time.Duration
	// OnStatus is called after every change of Status (progress included).
	OnStatus func(Status)
	// Now and Rand replace the clock and the jitter source (tests).
	Now    func() time.Time
	Rand   func() float64
	Logger *slog.Logger
}

// Progress counts the work of the sync in progress.
type Progress struct {
	Phase  string `json:"phase"` // "push", "pull" or ""
	Pushed int    `json:"pushed"`
	Pulled int    `json:"pulled"`
	// Cursor is the change sequence reached; Target the latest one the
	// server announced (0 = unknown), for a progress bar.
	Cursor int64 `json:"cursor"`
	Target int64 `json:"target"`
}

// Status is what the status bar shows.
type Status struct {
	Enrolled  bool   `json:"enrolled"`
	ServerURL string `json:"server_url"`
	SiteID    string `json:"site_id"`
	Role      string `json:"role"`
	DeviceID  string `json:"device_id"`
	Online    bool   `json:"online"`
	Syncing   bool   `json:"syncing"`
	syncstate.SyncCounts
	// LastSync is the end of the last successful sync (ms, device clock).
	LastSync      int64    `json:"last_sync"`
	LastError     string   `json:"last_error"`
	ClockOffsetMS int64    `json:"clock_offset_ms"`
	ClockWarning  bool     `json:"clock_warning"`
	Progress      Progress `json:"progress"`
	// Verify is the last verification against the server's checksums
	// (docs/design.md section 8), or why the last sync did not verify.
	Verify Verification `json:"verify"`
	// Upstream is the server's link to headquarters when the server is a
	// site hub (docs/design.md section 9), as its health last said; nil
	// on a central server (readUpstream). The screens call it
	// "headquarters" (app.SyncStatus).
	Upstream *protocol.UpstreamHealth `json:"headquarters,omitempty"`
}

// Report counts what one sync did.
type Report struct {
	syncstate.PushOutcome
	Batches int
	Pulled  int
	// Removed counts clean rows full passes removed (the server no longer
	// has them).
	Removed  int
	Resynced bool
	// TimelineChanged: the server was found restored from a backup and the
	// device moved to its new timeline (store.ChangeTimeline).
	TimelineChanged bool
	// Verify: what the verification after the last pull did.
	Verify VerifyOutcome
}

func (r Report) add(o Report) Report {
	r.PushOutcome = addOutcome(r.PushOutcome, o.PushOutcome)
	r.Batches += o.Batches
	r.Pulled += o.Pulled
	r.Removed += o.Removed
	r.Resynced = r.Resynced || o.Resynced
	r.TimelineChanged = r.TimelineChanged || o.TimelineChanged
	r.Verify = o.Verify
	return r
}

// Client is the sync engine of one device: push, then pull, whenever
// triggered. Its methods are safe for concurrent use; syncs never overlap.
type Client struct {
	o Options

	syncMu sync.Mutex // one sync at a time

	mu     sync.Mutex
	status Status
	// healthAt is when readUpstream last read the server's health (zero:
	// never with this enrollment).
	healthAt time.Time
	creds    *Credentials
	api      *API
	trigger  chan struct{}
	writes   chan struct{}

	// Guarded by syncMu: the final page of the last pull, and the
	// unresolved buckets reported last (reported once, not at every sync).
	final          *PullAnswer
	lastUnresolved string
}

// New returns a client. Call Load (or Run, which loads) before use.
func New(o Options) *Client {
	if o.BatchSize <= 0 || o.BatchSize > protocol.MaxBatchChanges {
		o.BatchSize = 500
	}
	if o.PullLimit <= 0 || o.PullLimit > protocol.MaxPullLimit {
		o.PullLimit = protocol.MaxPullLimit
	}
	if o.PullBatchPages <= 0 {
		o.PullBatchPages = 10
	}
	if o.PullBatchRows <= 0 {
		o.PullBatchRows = 50_000
	}
	if o.PullBatchTime <= 0 {
		o.PullBatchTime = time.Second
	}
	if o.Debounce <= 0 {
		o.Debounce = 500 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Second
	}
	if o.ProbeBase <= 0 {
		o.ProbeBase = time.Second
	}
	if o.ProbeMax <= 0 {
		o.ProbeMax = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Minute
	}
	if o.ClockWarn <= 0 {
		o.ClockWarn = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Client{o: o, trigger: make(chan struct{}, 1), writes: make(chan struct{}, 1)}
}

// Load reads the stored credentials (and finishes an enrollment that a
// crash interrupted before the device id reached the database).
func (c *Client) Load(ctx context.Context) error {
	cr, err := c.o.Tokens.Load(ctx)
	if err != nil {
		return err
	}
	if st, ok := c.o.Store.(verifier); ok {
		v, err := st.LastVerification(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.status.Verify.At, c.status.Verify.Cursor, c.status.Verify.Tables = v.At, v.Cursor, v.Tables
		c.mu.Unlock()
	}
	if cr == nil {
		c.setCreds(nil, nil)
		return nil
	}
	api, err := NewAPI(cr.ServerURL, cr.Token, c.o.HTTP)
	if err != nil {
		return err
	}
	// Also records the site of an enrollment made before the store kept
	// it, and finishes an enrollment again (a new device id) that a crash
	// interrupted: as an enrollment again (store.SetEnrollment).
	if err := c.o.Store.SetEnrollment(ctx, cr.DeviceID, cr.SiteID); err != nil {
		return err
	}
	c.setCreds(cr, api)
	return nil
}

func (c *Client) setCreds(cr *Credentials, api *API) {
	c.mu.Lock()
	c.creds, c.api = cr, api
	c.status.Enrolled = cr != nil
	// What a hub said of its link to headquarters belongs to the old
	// enrollment: the next sync asks the new server.
	c.status.Upstream, c.healthAt = nil, time.Time{}
	if cr != nil {
		c.status.ServerURL, c.status.SiteID, c.status.Role, c.status.DeviceID = cr.ServerURL, cr.SiteID, cr.Role, cr.DeviceID
	} else {
		c.status.ServerURL, c.status.SiteID, c.status.Role, c.status.DeviceID = "", "", "", ""
		c.status.Online = false
	}
	c.mu.Unlock()
	c.publish(context.Background())
}

func (c *Client) currentAPI() (*API, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api == nil {
		return nil, ErrNotEnrolled
	}
	return c.api, nil
}

// Enroll trades an enrollment code for credentials at serverURL, stores
// them in the token store, then gives the database its device id and site
// (re-stamping the edits made before enrollment). A device that had
// another id at the same site (a server that no longer knows it: restored
// from an older backup, or it was revoked) is enrolling again: its store
// moves to the server's timeline as after a restore, and the next sync
// re-reads the server before it pushes, sending again what the server
// lacks (store.SetEnrollment).
func (c *Client) Enroll(ctx context.Context, serverURL, code string) (Credentials, error) {
	api, err := NewAPI(serverURL, "", c.o.HTTP)
	if err != nil {
		return Credentials{}, err
	}
	resp, err := api.Enroll(ctx, protocol.EnrollRequest{Code: code, DeviceName: c.o.DeviceName, Platform: c.o.Platform})
	if err != nil {
		return Credentials{}, fmt.Errorf("enroll: %w", err)
	}
	cr := Credentials{ServerURL: api.BaseURL(), DeviceID: resp.DeviceID, SiteID: resp.SiteID, Role: resp.Role, Token: resp.Token}
	if err := c.o.Tokens.Save(ctx, cr); err != nil {
		return Credentials{}, fmt.Errorf("enroll: %w", err)
	}
	// A sync running meanwhile (the loop) finishes first: otherwise it
	// would go on pushing, with the former token, rows the new enrollment
	// re-stamps with the new id (invalid_hlc), before the pass. The
	// credentials are saved before the wait: the code is spent, and a
	// restart finishes the enrollment (Load).
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if err := c.o.Store.SetEnrollment(ctx, cr.DeviceID, cr.SiteID); err != nil {
		return Credentials{}, fmt.Errorf("enroll: %w", err)
	}
	authed, err := NewAPI(cr.ServerURL, cr.Token, c.o.HTTP)
	if err != nil {
		return Credentials{}, err
	}
	c.forgetVerification()
	c.setCreds(&cr, authed)
	c.Trigger()
	return cr, nil
}

// ErrUnsettled: unenrolling now would lose edits the server has not
// accepted; the error says how many.
var ErrUnsettled = errors.New("edits on this device are not on the server yet")

// Unenroll forgets the server. It pushes pending edits first; if some are
// still not accepted (offline, awaiting review, rejected) it refuses with an
// error wrapping ErrUnsettled that says what would be lost, unless force.
func (c *Client) Unenroll(ctx context.Context, force bool) error {
	if _, err := c.currentAPI(); err == nil {
		if _, err := c.Sync(ctx); err != nil && !force {
			c.o.Logger.Info("sync before unenroll failed", "err", err)
		}
	}
	// No sync runs while the enrollment is forgotten (Enroll).
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	counts, err := c.o.Store.SyncCounts(ctx)
	if err != nil {
		return err
	}
	if n := counts.Unsettled(); n > 0 && !force {
		return fmt.Errorf("%w: %d pending, %d being sent, %d awaiting a manager's review, %d rejected would be lost", ErrUnsettled,
			counts.Pending, counts.InFlight, counts.AwaitingReview, counts.Rejected)
	}
	if err := c.o.Tokens.Delete(ctx); err != nil {
		return err
	}
	if err := c.o.Store.ClearEnrollment(ctx); err != nil {
		return err
	}
	c.forgetVerification()
	c.setCreds(nil, nil)
	return nil
}

// forgetVerification drops the last verification from the status (the
// store dropped it with the enrollment or the timeline): it proves nothing
// about another server or timeline, and verified= is not sent until the
// next one.
func (c *Client) forgetVerification() {
	c.update(func(s *Status) {
		s.Verify = Verification{Repaired: s.Verify.Repaired, Unresolved: s.Verify.Unresolved}
	})
}

// Trigger asks the running loop for a sync as soon as possible.
func (c *Client) Trigger() {
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// Notify tells the client a local write happened; the loop syncs after the
// debounce while online.
func (c *Client) Notify() {
	select {
	case c.writes <- struct{}{}:
	default:
	}
	c.publish(context.Background())
}

// Status returns the current status with fresh counts.
func (c *Client) Status(ctx context.Context) Status {
	counts, err := c.o.Store.SyncCounts(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.status.SyncCounts = counts
	}
	return c.status
}

// Role is the device's enrollment role ("operator", "manager"), "" when
// it is not enrolled. It reads nothing.
func (c *Client) Role() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.Role
}

func (c *Client) publish(ctx context.Context) {
	if c.o.OnStatus == nil {
		return
	}
	c.o.OnStatus(c.Status(ctx))
}

func (c *Client) update(fn func(s *Status)) {
	c.mu.Lock()
	fn(&c.status)
	c.mu.Unlock()
	c.publish(context.Background())
}

// Sync runs one push-then-pull now and returns what it did.
func (c *Client) Sync(ctx context.Context) (Report, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.update(func(s *Status) { s.Syncing = true; s.Progress = Progress{Target: s.Progress.Target} })
	rep, err := c.syncOnce(ctx)
	// A resync or a timeline change restarts the sync; a server that keeps
	// asking is left for the next sync.
	for retry := 0; retry < 3 && err != nil; retry++ {
		var r2 Report
		switch {
		case errors.Is(err, syncstate.ErrTimelineChanged):
			// The server was restored from a backup: one local transaction
			// moves the device to the new timeline, and the next sync runs
			// a full pass before it pushes (docs/design.md section 3).
			var tce *syncstate.TimelineChangedError
			timeline := ""
			if errors.As(err, &tce) {
				timeline = tce.Timeline
			}
			c.o.Logger.Warn("the sync server was restored from a backup; re-reading its state", "timeline", timeline)
			if err = c.o.Store.ChangeTimeline(ctx, timeline); err != nil {
				break
			}
			c.forgetVerification()
			r2, err = c.syncOnce(ctx)
			r2.TimelineChanged = true
		case errors.Is(err, ErrResyncRequired):
			// Behind the purge horizon. Pending edits were pushed just
			// before; re-pull from 0 as a full pass.
			c.o.Logger.Info("server asked for a full re-sync")
			if err = c.o.Store.ResetCursor(ctx); err != nil {
				break
			}
			r2, err = c.syncOnce(ctx)
			r2.Resynced = true
		default:
			retry = 3
			continue
		}
		rep = rep.add(r2)
	}
	now := c.o.Now().UnixMilli()
	c.update(func(s *Status) {
		s.Syncing = false
		s.Progress.Phase = ""
		switch Decide(err) {
		case ActIdle:
			s.Online, s.LastSync, s.LastError = true, now, ""
		case ActBackoff:
			s.Online, s.LastError = false, Sentence(err)
		default:
			s.LastError = Sentence(err)
		}
	})
	if Decide(err) == ActIdle {
		c.readUpstream(ctx)
	}
	return rep, err
}

func addOutcome(a, b syncstate.PushOutcome) syncstate.PushOutcome {
	a.Applied += b.Applied
	a.Merged += b.Merged
	a.Superseded += b.Superseded
	a.Conflicts += b.Conflicts
	a.Rejected += b.Rejected
	a.StillPending += b.StillPending
	a.ClockAhead = append(a.ClockAhead, b.ClockAhead...)
	return a
}

func (c *Client) syncOnce(ctx context.Context) (Report, error) {
	var rep Report
	api, err := c.currentAPI()
	if err != nil {
		return rep, err
	}
	if _, err := c.o.Store.RepullIfUpgraded(ctx); err != nil {
		return rep, err
	}
	ps, err := c.o.Store.PullState(ctx)
	if err != nil {
		return rep, err
	}
	if ps.Pass == syncstate.PassTimeline || ps.Pass == syncstate.PassReenroll {
		// After a timeline change, the full pass ends before the next push:
		// the writes the restored server kept come back clean, and only
		// what the restore lost is pushed again.
		if err := c.pull(ctx, api, &rep); err != nil {
			return rep, err
		}
		if ps, err = c.o.Store.PullState(ctx); err != nil {
			return rep, err
		}
	}
	api.SetTimeline(ps.Timeline)
	// Push: the open batch first (re-sent byte for byte), then new ones.
	restamps := 0
	batchSize := c.o.BatchSize
	for {
		b, err := c.o.Store.OpenBatch(ctx)
		if err != nil {
			return rep, err
		}
		if b == nil {
			if b, err = c.o.Store.NewBatch(ctx, batchSize); err != nil {
				return rep, err
			}
		}
		if b == nil {
			break
		}
		c.update(func(s *Status) { s.Progress.Phase = "push" })
		sent := c.o.Now().UnixMilli()
		resp, err := api.Push(ctx, b.Body)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusRequestEntityTooLarge && b.Changes > 1 {
			// Refused as a whole, so nothing of it was applied: send its
			// rows again in smaller batches.
			if err := c.o.Store.DropBatch(ctx, b.ID); err != nil {
				return rep, err
			}
			batchSize = max(1, b.Changes/2)
			continue
		}
		if err != nil {
			return rep, err
		}
		c.measure(sent, resp.ServerTime)
		out, err := c.o.Store.ApplyPushResults(ctx, b.ID, resp)
		if err != nil {
			return rep, err
		}
		rep.Batches++
		rep.PushOutcome = addOutcome(rep.PushOutcome, out)
		c.update(func(s *Status) { s.Progress.Pushed += b.Changes })
		if len(out.ClockAhead) > 0 {
			// The offset was just corrected from server_time: re-stamp and
			// resubmit by ourselves (bounded, in case the server disagrees).
			if restamps++; restamps > 3 {
				c.o.Logger.Warn("clock_ahead persists after re-stamping", "rows", len(out.ClockAhead))
				continue
			}
			if err := c.o.Store.Restamp(ctx, out.ClockAhead); err != nil {
				return rep, err
			}
		}
	}
	c.final = nil
	if err := c.pull(ctx, api, &rep); err != nil {
		return rep, err
	}
	if c.final != nil {
		rep.Verify = c.verify(ctx, api, *c.final)
	}
	return rep, nil
}

// pull pulls pages from the committed cursor until the server has no more.
func (c *Client) pull(ctx context.Context, api *API, rep *Report) error {
	ps, err := c.o.Store.PullState(ctx)
	if err != nil {
		return err
	}
	cur := ps.Cursor
	// Every page of a chain that began at 0 belongs to the full pass; the
	// server serves them whatever its purge horizon (full=1).
	full := ps.FullPass()
	// committed is what the device has durably applied: the server counts
	// only that for retention, never the pages fetched ahead of a commit.
	var committed atomic.Int64
	committed.Store(cur)
	c.update(func(s *Status) { s.Progress.Phase = "pull"; s.Progress.Cursor = cur })
	// The next page is fetched (server query, transfer, gunzip, JSON decode)
	// while the current one is applied: the two overlap on separate cores.
	// Pages are applied in order. While the server has more (a catch-up, an
	// initial sync), consecutive pages go into one local transaction, the
	// batch, committed with the cursor of its last page: a commit encrypts
	// and syncs every page it dirtied, and a batch of pages dirties most
	// index pages once instead of once per page. Data and cursor still
	// commit together, so a crash loses only the uncommitted batch, pulled
	// again from the committed cursor. A batch ends at PullBatchPages pages
	// or PullBatchRows rows,
	// after PullBatchTime (it holds the writer: local edits wait), when the
	// next page is not there within that time, at the last page, or at a
	// failed fetch (the pages applied so far are committed first). A
	// prefetched page whose batch failed to commit is dropped unapplied.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page PullAnswer
		err  error
	}
	c.mu.Lock()
	verified := c.status.Verify.Cursor
	c.mu.Unlock()
	fetch := func(cursor int64) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			page, err := api.PullAnswer(pctx, PullParams{Cursor: cursor, Limit: c.o.PullLimit, Committed: committed.Load(), Full: full, Verified: verified})
			ch <- fetched{page, classify410(err, cursor, ps.Timeline)}
		}()
		return ch
	}
	next := fetch(cur)
	// The batches of one sync grow from one page (1, 2, 4, … up to
	// PullBatchPages): a short catch-up holds the writer briefly, and the
	// first rows and the progress bar show up after one page.
	limit := 1
	for more := true; more; limit = min(2*limit, c.o.PullBatchPages) {
		f := <-next
		if f.err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return f.err
		}
		held := &f.page
		var final *PullAnswer
		var fetchErr error
		rows, pages, last := 0, 0, cur
		var start time.Time
		out, _, err := c.o.Store.ApplyPullPages(ctx, func() (protocol.PullResponse, bool) {
			if held == nil {
				if !more || pages >= limit || rows >= c.o.PullBatchRows {
					return protocol.PullResponse{}, false
				}
				wait := c.o.PullBatchTime - time.Since(start)
				if wait <= 0 {
					return protocol.PullResponse{}, false
				}
				t := time.NewTimer(wait)
				defer t.Stop()
				select {
				case f := <-next:
					if f.err != nil {
						// End the batch here: what it holds commits.
						fetchErr = f.err
						more = false
						return protocol.PullResponse{}, false
					}
					held = &f.page
				case <-t.C:
					// Not there yet: commit, and wait for it outside the
					// transaction (next is still the page on its way).
					return protocol.PullResponse{}, false
				}
			}
			page := *held
			held = nil
			if rows == 0 {
				start = time.Now()
			}
			more = page.HasMore
			if !more {
				final = &page
			}
			if more {
				next = fetch(page.Cursor)
			}
			rows += len(page.Changes)
			pages++
			last = page.Cursor
			// Progress for the bar; published after the commit (the store's
			// writer is held here, and publishing reads the store).
			n := len(page.Changes)
			c.mu.Lock()
			c.status.Progress.Pulled += n
			c.status.Progress.Cursor = last
			c.status.Progress.Target = max(c.status.Progress.Target, last)
			c.mu.Unlock()
			return page.PullResponse, true
		})
		if err != nil {
			return err
		}
		// The final page committed: it is what verification compares.
		c.final, final = final, nil
		committed.Store(last)
		rep.Pulled += rows
		rep.Removed += out.Removed
		cur = last
		c.publish(context.Background())
		if fetchErr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fetchErr
		}
	}
	return nil
}

// classify410 tells a restore from a horizon resync in a 410 answer to a
// pull from cursor: a cursor above the site's sequence, or another
// timeline than the device follows, is a timeline change (docs/design.md
// section 4); otherwise the device pushes, then re-pulls from 0. A server
// that does not send sequence is taken at its word (a resync).
func classify410(err error, cursor int64, timeline string) error {
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusGone {
		return err
	}
	if (ae.Sequence != nil && cursor > *ae.Sequence) || (ae.Timeline != "" && timeline != "" && ae.Timeline != timeline) {
		return fmt.Errorf("pull from %d: %s: %w", cursor, ae.Message, &syncstate.TimelineChangedError{Timeline: ae.Timeline})
	}
	return err
}

// measure sets the clock offset from one exchange.
func (c *Client) measure(sent, serverTime int64) {
	if serverTime <= 0 {
		return
	}
	off := ClockOffset(sent, c.o.Now().UnixMilli(), serverTime)
	c.o.Store.SetClockOffset(off)
	c.mu.Lock()
	c.status.ClockOffsetMS = off
	c.status.ClockWarning = ClockWarning(off, c.o.ClockWarn)
	c.mu.Unlock()
}

// Probe checks the server's health and measures the clock offset.
func (c *Client) Probe(ctx context.Context) error {
	api, err := c.currentAPI()
	if err != nil {
		return err
	}
	sent := c.o.Now().UnixMilli()
	h, err := api.Health(ctx)
	if err != nil {
		return err
	}
	c.measure(sent, h.ServerTime)
	return nil
}

// Run syncs until ctx ends: at start, after local writes (debounced), when
// the event stream announces a change, on Trigger, and every Poll; while the
// server is unreachable it probes health with capped exponential backoff and
// jitter.
func (c *Client) Run(ctx context.Context) {
	if err := c.Load(ctx); err != nil {
		c.update(func(s *Status) { s.LastError = Sentence(err) })
	}
	var (
		attempt    int
		streamStop context.CancelFunc
		streamDone chan struct{}
		debounce   *time.Timer
		firstWrite time.Time
	)
	stopStream := func() {
		if streamStop != nil {
			streamStop()
			<-streamDone
			streamStop = nil
		}
	}
	defer stopStream()
	startStream := func() {
		if streamDone != nil {
			select {
			case <-streamDone:
				streamStop = nil
			default:
			}
		}
		if streamStop != nil {
			return
		}
		api, err := c.currentAPI()
		if err != nil {
			return
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		streamStop, streamDone = cancel, done
		go func() {
			defer close(done)
			err := api.Events(sctx, func(cursor int64) {
				c.update(func(s *Status) {
					if cursor > s.Progress.Target {
						s.Progress.Target = cursor
					}
				})
				c.Trigger()
			})
			if sctx.Err() == nil {
				c.o.Logger.Debug("event stream ended", "err", err)
				c.Trigger() // a sync finds out whether we are still online
			}
		}()
	}
	debounceC := func() <-chan time.Time {
		if debounce == nil {
			return nil
		}
		return debounce.C
	}
	wait := time.Duration(0)
	for {
		var timer <-chan time.Time
		if wait > 0 {
			t := time.NewTimer(wait)
			timer = t.C
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-timer:
			case <-c.trigger:
				t.Stop()
			case <-c.writes:
				t.Stop()
			}
		}
		_, err := c.Sync(ctx)
		if ctx.Err() != nil {
			return
		}
		switch Decide(err) {
		case ActIdle:
			attempt = 0
			startStream()
		case ActBackoff:
			stopStream()
			wait = Backoff(attempt, c.o.ProbeBase, c.o.ProbeMax, c.o.Rand())
			attempt++
			c.o.Logger.Info("sync server unreachable", "retry_in", wait.Round(time.Millisecond), "err", err)
			// Probe until the server answers, then sync.
			for {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				case <-c.trigger:
					t.Stop()
				}
				if c.Probe(ctx) == nil {
					break
				}
				wait = Backoff(attempt, c.o.ProbeBase, c.o.ProbeMax, c.o.Rand())
				attempt++
			}
			wait = 0
			continue
		case ActResync, ActStop:
			stopStream()
		}
		// Idle: wait for a trigger, a debounced write or the poll.
		poll := time.NewTimer(c.o.Poll)
		idle := true
		for idle {
			select {
			case <-ctx.Done():
				poll.Stop()
				return
			case <-c.trigger:
				idle = false
			case <-poll.C:
				idle = false
			case <-c.writes:
				now := time.Now()
				if debounce == nil {
					firstWrite = now
					debounce = time.NewTimer(c.o.Debounce)
				} else {
					debounce.Stop()
					d := c.o.Debounce
					if rest := c.o.MaxDelay - now.Sub(firstWrite); rest < d {
						d = max(rest, 0)
					}
					debounce.Reset(d)
				}
			case <-debounceC():
				debounce = nil
				idle = false
			}
		}
		poll.Stop()
		if debounce != nil {
			debounce.Stop()
			debounce = nil
		}
		wait = 0
	}
}

// Quarantine lists the rejected rows ("needs attention").
func (c *Client) Quarantine(ctx context.Context) ([]syncstate.QuarantinedRow, error) {
	return c.o.Store.Quarantine(ctx)
}

// Resubmit sends a quarantined row again (after the operator fixed it).
func (c *Client) Resubmit(ctx context.Context, table, id string) error {
	if err := c.o.Store.Resubmit(ctx, table, id); err != nil {
		return err
	}
	c.Notify()
	return nil
}

// Discard drops a quarantined row's local edit: the row takes the server's
// state (asked from the server when none was seen), or disappears when the
// server never had it.
func (c *Client) Discard(ctx context.Context, table, id string) error {
	st, err := c.o.Store.KnownServerState(ctx, table, id)
	if err != nil {
		return err
	}
	if st == nil {
		api, err := c.currentAPI()
		if err != nil {
			return err
		}
		vs, err := api.History(ctx, table, id)
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("discard: read the server's state: %w", err)
		}
		if len(vs) > 0 {
			last := vs[len(vs)-1]
			st = &syncstate.ServerState{Version: last.Version, HLC: last.HLC, Row: last.Row}
		}
	}
	return c.o.Store.Discard(ctx, table, id, st)
}

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == 404
}

// API returns the authenticated API (nil before enrollment): for manager
// actions such as resolving conflicts.
func (c *Client) API() *API {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api
}

// Sentence turns a sync error into a sentence a person understands.
func Sentence(err error) string {
	var ae *APIError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotEnrolled):
		return "This computer is not connected to a sync server yet. Enter the server address and enrollment code in Settings."
	case errors.Is(err, ErrUnauthorized):
		return unauthorizedSentence(err)
	case errors.Is(err, ErrProtocolTooOld):
		return "The sync server needs a newer version of Outpost. Install the latest version; your work is kept on this computer."
	case errors.Is(err, syncstate.ErrTimelineChanged):
		return "The sync server was restored from a backup. This computer re-reads what the server holds and sends again what it lost; your work is kept here."
	case errors.Is(err, ErrOffline):
		return "The sync server cannot be reached. Your work is saved on this computer and will be sent when the connection is back."
	case errors.As(err, &ae):
		if ae.Message != "" {
			return "The sync server refused the request: " + ae.Message
		}
		return fmt.Sprintf("The sync server refused the request (HTTP %d).", ae.Status)
	}
	return "Sync stopped because of a problem on this computer: " + err.Error()
}

// unauthorizedSentence says a 401: what happened, that the work stays on
// this computer, and what to do. The server's code tells a revoked device
// from a token it does not know, which is also what a server restored from
// a backup older than this computer's enrollment answers. Every sentence
// begins with the prefix the status bar recognises
// (frontend/src/lib/sync.ts: "unauthorized").
func unauthorizedSentence(err error) string {
	const prefix = "The sync server no longer accepts this computer"
	const after = " Your work is kept on this computer. Ask IT for a new enrollment code, then on the Sync screen disconnect this computer and connect it again with that code: it then sends the server what it does not have."
	switch UnauthorizedReason(err) {
	case ReasonRevoked:
		return prefix + ": IT revoked it." + after
	case ReasonUnknownDevice:
		return prefix + ": it does not know this computer, most likely because the server was restored from a backup made before this computer was enrolled." + after
	}
	return prefix + "." + after
}

// Reasons of a 401 (UnauthorizedReason).
const (
	ReasonUnknownDevice = "unknown_device"
	ReasonRevoked       = "device_revoked"
)

// UnauthorizedReason is why the server refused this device's token:
// ReasonRevoked, ReasonUnknownDevice (a token it does not know), or ""
// (not a 401, or the server did not say).
func UnauthorizedReason(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		return ""
	}
	switch ae.Code {
	case "device_revoked":
		return ReasonRevoked
	case "unauthorized":
		return ReasonUnknownDevice
	}
	return ""
}
