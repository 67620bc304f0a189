package syncclient

import (
	"context"
	"time"
)

// upstreamEvery bounds how often a client of a central server asks its
// health (a server may become a site hub after an upgrade of its setup).
const upstreamEvery = time.Minute

// readUpstream reads the server's health after a successful sync (called
// with syncMu held) and keeps what it says of the server's link to
// headquarters in Status.Upstream: after every sync while the server is a
// site hub, so a cut and its end show as soon as the hub wakes its
// terminals; otherwise once every upstreamEvery. A failure changes
// nothing: the next sync asks again.
func (c *Client) readUpstream(ctx context.Context) {
	now := c.o.Now()
	c.mu.Lock()
	hub, last := c.status.Upstream != nil, c.healthAt
	c.mu.Unlock()
	if !hub && !last.IsZero() && now.Sub(last) < upstreamEvery {
		return
	}
	api, err := c.currentAPI()
	if err != nil {
		return
	}
	h, err := api.Health(ctx)
	if err != nil {
		c.o.Logger.Debug("read the server's health", "err", err)
		return
	}
	c.update(func(s *Status) { s.Upstream = h.Upstream })
	c.mu.Lock()
	c.healthAt = now
	c.mu.Unlock()
}
