package server

import (
	"context"
	"time"
)

// Notifier is implemented by stores that several server processes share
// and that can tell every process at once that a site's sequence moved
// (PostgreSQL LISTEN/NOTIFY). The store sends the notification itself, in
// the write transaction, so it is delivered when, and only when, the write
// commits — whichever process or CLI made it.
//
// Without a Notifier (SQLite, one process) writes through this process wake
// its streams directly, and the hub's poll notices the others.
type Notifier interface {
	// Listen calls fn(site, seq) for every committed write that advanced
	// site's sequence to seq, until ctx ends (it returns nil) or the
	// connection fails (it returns the error; the hub listens again).
	Listen(ctx context.Context, fn func(site string, seq int64)) error
}

// listenBackoff bounds the wait between two attempts to listen.
const listenBackoff = 30 * time.Second

// listen wakes the hub's streams from the store's notifications until the
// hub closes, listening again after failures with capped exponential
// backoff. The poll keeps running meanwhile, so a lost notification (or a
// database briefly unreachable) costs at most one poll interval.
func (h *hub) listen(n Notifier) {
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.done
		cancel()
	}()
	wait := 100 * time.Millisecond
	for {
		start := time.Now()
		err := n.Listen(ctx, h.publish)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			wait = 100 * time.Millisecond // it ran well for a while: a fresh failure
		}
		h.log.Warn("events listen", "err", err, "retry_in", wait.String())
		select {
		case <-h.done:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenBackoff)
	}
}
