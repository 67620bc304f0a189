package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Config wires a Link.
type Config struct {
	Engine *server.Engine
	ID     Identity
	HTTP   syncclient.HTTPOptions
	// Publish tells the hub's event streams of writes the link made.
	Publish func(site string, seq int64)
	// Wake, when not nil, tells the hub's event streams to sync again when
	// the link goes down or comes back up: the devices read the link's
	// state in the hub's health after a sync, and a device keeps the
	// decisions the hub could not forward while cut off (503
	// upstream_unavailable) and sends them on its next sync (Server.Wake).
	Wake func(site string)
	// Local receives the hub site's sequence after its devices' writes
	// (Server.Subscribe), nil to rely on Every alone.
	Local <-chan int64
	// Every is the interval of a sync without news from either side (10 s).
	Every time.Duration
	// Retry bounds the wait after a failed sync (1 s doubling to 10 s: a
	// site back from a cut of days starts catching up within 10 s).
	Retry time.Duration
	// BatchSize is the number of hub writes read per upstream batch (500;
	// at most protocol.MaxBatchChanges).
	BatchSize int
	// VerifyEvery is the least interval between two verifications of the
	// hub against central (60 s; negative: never).
	VerifyEvery time.Duration
	Log         *slog.Logger
}

// Status is the link's health, for /v1/health and metrics.
type Status struct {
	// Up: the last sync with central succeeded.
	Up bool `json:"up"`
	// LastSync is the end of the last successful sync (ms), 0 never.
	LastSync  int64  `json:"last_sync"`
	LastError string `json:"last_error,omitempty"`
	// Verify: the hub's verifications against central.
	Verify VerifyStatus `json:"verify"`
}

// Link is a hub's upstream link. Run it; Once is one sync.
type Link struct {
	cfg  Config
	api  *syncclient.API
	kick chan struct{}

	mu     sync.Mutex // one sync at a time
	up     atomic.Bool
	last   atomic.Int64
	lastEr atomic.Pointer[string]
	// checked: Recover found nothing to do, or did it.
	checked atomic.Bool
	// state is linkUp or linkDown after the first sync, for the log's
	// transitions.
	state atomic.Int32
	ver   verification
}

const (
	linkUnknown int32 = iota
	linkUp
	linkDown
)

// New returns the link of cfg.ID.
func New(cfg Config) (*Link, error) {
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > protocol.MaxBatchChanges {
		cfg.BatchSize = 500
	}
	if cfg.VerifyEvery == 0 {
		cfg.VerifyEvery = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Publish == nil {
		cfg.Publish = func(string, int64) {}
	}
	api, err := syncclient.NewAPI(cfg.ID.URL, cfg.ID.Token, cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("central's address: %w", err)
	}
	return &Link{cfg: cfg, api: api, kick: make(chan struct{}, 1)}, nil
}

// Status returns the link's health.
func (l *Link) Status() Status {
	s := Status{Up: l.up.Load(), LastSync: l.last.Load(), Verify: l.ver.status()}
	if e := l.lastEr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Kick asks for a sync soon.
func (l *Link) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run syncs until ctx ends: at once, after the hub's devices write, when
// central announces a change, and every Every; after a failure it waits
// Retry, doubling to 10 s.
func (l *Link) Run(ctx context.Context) {
	go l.listen(ctx)
	wait := l.cfg.Retry
	local := int64(-1) // the site's sequence Local last said
	for {
		err := l.Once(ctx)
		if ctx.Err() != nil {
			return
		}
		next := l.cfg.Every
		if err != nil {
			next = wait
			wait = min(2*wait, 10*time.Second)
		} else {
			wait = l.cfg.Retry
		}
		if !l.await(ctx, next, &local) {
			return
		}
	}
}

// await waits d, or less when a sync is asked for: a kick, or a new site
// sequence on Local (a device's write). It returns false when ctx ends. A
// sequence Local said before is the hub's own wake (Config.Wake) coming
// back: it asks nothing of the link, which would otherwise sync again at
// once, skipping Retry, with every change of the link's state (a central
// failing every other request kept it looping).
func (l *Link) await(ctx context.Context, d time.Duration, local *int64) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-l.kick:
			return true
		case seq := <-l.cfg.Local:
			if seq > *local {
				*local = seq
				return true
			}
		case <-t.C:
			return true
		}
	}
}

// listen follows central's event stream and kicks a sync on every change.
func (l *Link) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := l.api.Events(ctx, func(int64) { l.Kick() })
		if ctx.Err() != nil {
			return
		}
		l.cfg.Log.Debug("central's event stream ended", "err", err)
		t := time.NewTimer(5 * time.Second)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Once pushes every hub write central has not answered, then republishes
// central's feed up to its end.
func (l *Link) Once(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.once(ctx)
	if err != nil {
		l.up.Store(false)
		msg := err.Error()
		l.lastEr.Store(&msg)
		switch {
		case ctx.Err() != nil:
		case l.state.Swap(linkDown) != linkDown:
			// Said once when the link goes down (a cut of days would
			// otherwise log every retry); the retries go to debug. The
			// site's terminals sync at once and learn from the hub's
			// health that headquarters is cut off.
			l.cfg.Log.Warn("the link to central is down; the site keeps working and catches up when it returns", "err", err)
			if l.cfg.Wake != nil {
				l.cfg.Wake(l.cfg.ID.Site)
			}
		default:
			l.cfg.Log.Debug("sync with central failed again", "err", err)
		}
		return err
	}
	back := l.state.Swap(linkUp) == linkDown
	l.up.Store(true)
	l.last.Store(time.Now().UnixMilli())
	l.lastEr.Store(nil)
	if back {
		l.cfg.Log.Info("the link to central is back up")
		if l.cfg.Wake != nil {
			l.cfg.Wake(l.cfg.ID.Site)
		}
	}
	return nil
}

func (l *Link) once(ctx context.Context) error {
	if err := l.Recover(ctx); err != nil {
		return err
	}
	// A full pass under way ends before the next push: after central's
	// restore the hub knows central's versions again only from it.
	if inPass, err := l.cfg.Engine.UpstreamInPass(ctx, l.cfg.ID.Site); err != nil {
		return err
	} else if inPass {
		if err := l.pull(ctx); err != nil {
			return err
		}
	}
	if err := l.push(ctx); err != nil {
		return err
	}
	err := l.pull(ctx)
	l.verifyAfter(ctx, err) // verification needs a pull to central's end
	return err
}

func (l *Link) push(ctx context.Context) error {
	e, id := l.cfg.Engine, l.cfg.ID
	for {
		body, ok, err := e.UpstreamBatch(ctx, id.Site, id.Device, l.cfg.BatchSize)
		if err != nil || !ok {
			return err
		}
		resp, err := l.api.Push(ctx, body)
		if errors.Is(err, syncstate.ErrTimelineChanged) {
			// Based on versions central no longer has: it was restored.
			var ae *syncclient.APIError
			tl := ""
			if errors.As(err, &ae) {
				tl = ae.Timeline
			}
			return l.centralRestored(ctx, tl)
		}
		if err != nil {
			return fmt.Errorf("push to central: %w", err)
		}
		seq, refused, err := e.UpstreamAnswer(ctx, id.Site, id.Device, resp)
		if err != nil {
			return err
		}
		// Central answers: the link is up, though a long catch-up has
		// batches left (health says so while waiting falls).
		l.up.Store(true)
		l.cfg.Publish(id.Site, seq)
		for _, r := range refused {
			l.cfg.Log.Warn("central refused a write of the site", "table", r.Table, "id", r.ID, "error", r.Error)
		}
		for _, r := range resp.Results {
			if r.Status == protocol.StatusRejected && strings.HasPrefix(r.Error, protocol.CodeClockAhead) {
				// Sent again once central's clock has passed it (the
				// next sync): a hub never re-stamps a device's write.
				return nil
			}
		}
	}
}

func (l *Link) pull(ctx context.Context) error {
	e, id := l.cfg.Engine, l.cfg.ID
	cursor, err := e.UpstreamCursor(ctx, id.Site)
	if err != nil {
		return err
	}
	full := cursor == 0
	pulled := 0
	if full {
		if err := e.BeginUpstreamPass(ctx, id.Site); err != nil {
			return err
		}
	}
	for {
		page, err := l.api.PullPage(ctx, syncclient.PullParams{Cursor: cursor, Limit: protocol.MaxPullLimit, Committed: cursor, Full: full})
		var apiErr *syncclient.APIError
		if errors.As(err, &apiErr) && apiErr.Code == protocol.CodeResyncRequired && cursor != 0 {
			// Behind central's purge horizon: a full pass from 0; every
			// row central still holds comes again.
			l.cfg.Log.Warn("central asks for a full pass", "cursor", cursor)
			cursor, full = 0, true
			if err := e.BeginUpstreamPass(ctx, id.Site); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("pull from central: %w", err)
		}
		if page.Timeline != "" {
			known, err := e.UpstreamCentralTimeline(ctx, id.Site)
			if err != nil {
				return err
			}
			switch {
			case known == "":
				if err := e.SetUpstreamCentralTimeline(ctx, id.Site, page.Timeline); err != nil {
					return err
				}
			case known != page.Timeline:
				return l.centralRestored(ctx, page.Timeline)
			}
		}
		seq, err := e.Republish(ctx, id.Site, id.Device, page)
		if err != nil {
			return err
		}
		l.up.Store(true)
		l.cfg.Publish(id.Site, seq)
		switch {
		case full && len(page.Changes) > 0:
			// A whole site's pull (a first start, a restore, central's
			// purge past the hub): its progress, page by page.
			pulled += len(page.Changes)
			l.cfg.Log.Info("pulling the site from central", "rows", pulled, "cursor", page.Cursor, "more", page.HasMore)
		case len(page.Changes) > 0:
			l.cfg.Log.Debug("republished central's changes", "count", len(page.Changes), "cursor", page.Cursor)
		}
		cursor = page.Cursor
		if !page.HasMore {
			// The end of a full pass removes what it did not bring.
			seq, err := e.EndUpstreamPass(ctx, id.Site, id.Device)
			if err != nil {
				return err
			}
			l.cfg.Publish(id.Site, seq)
			return nil
		}
	}
}

// Health is the link's part of the hub's /v1/health.
func (l *Link) Health(ctx context.Context) *protocol.UpstreamHealth {
	s := l.Status()
	// The reason of a failure stays in the hub's log: health is
	// answered to anyone on the LAN.
	h := &protocol.UpstreamHealth{Up: s.Up, LastSync: s.LastSync, VerifiedAt: s.Verify.VerifiedAt}
	if !s.Up && s.LastError != "" {
		h.Error = "the last sync with central failed; see the hub's log"
	}
	st, err := l.cfg.Engine.UpstreamStatus(ctx, l.cfg.ID.Site, l.cfg.ID.Device, 10000)
	if err != nil {
		h.Error = "the hub's database did not answer"
		return h
	}
	h.Waiting, h.OldestMS = st.Waiting, st.OldestMS
	return h
}

// Identity returns the hub's enrollment at central.
func (l *Link) Identity() Identity { return l.cfg.ID }

// Cursor returns central's feed position the hub has republished.
func (l *Link) Cursor(ctx context.Context) (int64, error) {
	return l.cfg.Engine.UpstreamCursor(ctx, l.cfg.ID.Site)
}

// ForwardResolve sends a site manager's decision on one of central's
// conflict records to central (server.Config.ForwardResolve): central's
// new version of the row, server.ErrUpstreamUnavailable when central
// cannot be reached (or no longer knows this hub), or central's refusal.
func (l *Link) ForwardResolve(ctx context.Context, id string, req protocol.ResolveRequest) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := l.api.Resolve(ctx, id, req)
	if err == nil {
		l.Kick() // the record's resolution comes back by the pull
		return resp.Version, nil
	}
	var ae *syncclient.APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 401 && ae.Status != 429 {
		return 0, &server.UpstreamRefusal{Status: ae.Status, Code: ae.Code, Message: ae.Message}
	}
	l.cfg.Log.Warn("a resolve could not be forwarded to central", "conflict", id, "err", err)
	return 0, fmt.Errorf("%w: %v", server.ErrUpstreamUnavailable, err)
}

// Recover brings the hub back after a restore from a backup, before it
// sends or takes anything (docs/design.md section 9): it asks central the
// highest origin_seq it applied (an empty push answers it), continues the
// hub's sequence above it and pulls central's feed again from 0. Nothing
// happens when the hub was not restored.
func (l *Link) Recover(ctx context.Context) error {
	if l.checked.Load() {
		return nil // a restore happens with the hub stopped: once per start
	}
	e, id := l.cfg.Engine, l.cfg.ID
	restored, err := e.UpstreamRestored(ctx, id.Site)
	if err != nil {
		return err
	}
	if !restored {
		l.checked.Store(true)
		return nil
	}
	mark, err := l.centralMark(ctx)
	if err != nil {
		return err
	}
	if err := e.UpstreamRecover(ctx, id.Site, mark); err != nil {
		return err
	}
	l.cfg.Log.Warn("restored from a backup: continuing above central's mark and pulling the site again", "mark", mark)
	l.checked.Store(true)
	return nil
}

// centralRestored recovers from a restore of central (docs/design.md
// section 3's timelines, on the hub's link): it asks central which of the
// hub's writes it still holds, sends the rest again and pulls from 0.
func (l *Link) centralRestored(ctx context.Context, timeline string) error {
	mark, err := l.centralMark(ctx)
	if err != nil {
		return err
	}
	if err := l.cfg.Engine.UpstreamCentralRestored(ctx, l.cfg.ID.Site, mark, timeline); err != nil {
		return err
	}
	l.cfg.Log.Warn("central was restored from a backup: sending again what it lost and pulling the site again", "mark", mark)
	l.Kick()
	return nil
}

// centralMark asks central the highest origin_seq of this hub it applied:
// an empty push answers it (origin_mark, design section 9).
func (l *Link) centralMark(ctx context.Context) (int64, error) {
	body, err := json.Marshal(protocol.PushRequest{BatchID: uuid.NewString(), Changes: []protocol.Change{}})
	if err != nil {
		return 0, fmt.Errorf("encode mark request: %w", err)
	}
	resp, err := l.api.Push(ctx, body)
	if err != nil {
		return 0, fmt.Errorf("ask central for this hub's mark: %w", err)
	}
	if resp.OriginMark == nil {
		return 0, errors.New("central did not say which of this hub's writes it holds (is it older than this hub?)")
	}
	return *resp.OriginMark, nil
}
