package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// hub fans out "the site's sequence moved" to event streams. Writes through
// this process publish at once; a poller notices writes made by other
// processes sharing the database (the CLI, other server instances), so no
// state lives only in this process.
type hub struct {
	store    Store
	interval time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	subs   map[string]map[chan int64]struct{}
	last   map[string]int64
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

func newHub(st Store, interval time.Duration, log *slog.Logger) *hub {
	h := &hub{store: st, interval: interval, log: log,
		subs: map[string]map[chan int64]struct{}{}, last: map[string]int64{}, done: make(chan struct{})}
	h.wg.Add(1)
	go h.poll()
	if n, ok := st.(Notifier); ok {
		h.wg.Add(1)
		go h.listen(n)
	}
	return h
}

// subscribe returns a channel receiving the site's latest sequence after
// new writes; ok is false once the hub is closed.
func (h *hub) subscribe(ctx context.Context, site string) (ch chan int64, cancel func(), ok bool) {
	st, stErr := h.store.SiteState(ctx, site) // outside the lock: a database read
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false
	}
	if _, known := h.last[site]; !known && stErr == nil {
		h.last[site] = st.Seq
	}
	ch = make(chan int64, 1)
	if h.subs[site] == nil {
		h.subs[site] = map[chan int64]struct{}{}
	}
	h.subs[site][ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[site], ch)
		if len(h.subs[site]) == 0 {
			delete(h.subs, site)
			delete(h.last, site)
		}
	}, true
}

// publish tells the site's streams that its sequence reached seq.
func (h *hub) publish(site string, seq int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if seq <= h.last[site] && len(h.subs[site]) > 0 {
		return
	}
	if _, ok := h.subs[site]; !ok {
		return
	}
	h.last[site] = seq
	h.send(site, seq)
}

// wake tells the site's streams to sync again although its sequence did
// not move (a hub's link to central went down or came back: its devices
// read the link's state, and send what they kept while central could not
// be reached).
func (h *hub) wake(site string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send(site, h.last[site])
}

// send gives every stream of the site seq (h.mu held).
func (h *hub) send(site string, seq int64) {
	for ch := range h.subs[site] {
		select {
		case <-ch: // drop a stale value: only the latest matters
		default:
		}
		ch <- seq
	}
}

func (h *hub) poll() {
	defer h.wg.Done()
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		h.mu.Lock()
		sites := make([]string, 0, len(h.subs))
		for s := range h.subs {
			sites = append(sites, s)
		}
		h.mu.Unlock()
		for _, site := range sites {
			ctx, cancel := context.WithTimeout(context.Background(), h.interval)
			st, err := h.store.SiteState(ctx, site)
			cancel()
			if err != nil {
				h.log.Warn("events poll", "site", site, "err", err)
				continue
			}
			h.publish(site, st.Seq)
		}
	}
}

// close ends every stream; later subscriptions fail.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.done)
	h.mu.Unlock()
	h.wg.Wait()
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, dev Device) error {
	ch, cancel, ok := s.hub.subscribe(r.Context(), dev.SiteID)
	if !ok {
		return errf(http.StatusServiceUnavailable, "shutting_down", "The server is shutting down; reconnect shortly.")
	}
	defer cancel()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.metrics.sse.Inc()
	defer s.metrics.sse.Dec()
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil {
		return nil
	}
	rc.Flush()
	keep := time.NewTicker(s.cfg.KeepAlive)
	defer keep.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return nil
		case <-s.hub.done:
			return nil
		case seq := <-ch:
			_, err = fmt.Fprintf(w, "event: change\ndata: {\"cursor\":%d}\n\n", seq)
		case <-keep.C:
			// A device revoked while its stream is open loses the stream
			// at the next keep-alive.
			if d, e := s.cfg.Store.DeviceByTokenHash(r.Context(), dev.TokenHash); errors.Is(e, ErrNotFound) || (e == nil && d.RevokedAt != 0) {
				return nil
			}
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return nil
		}
	}
}
