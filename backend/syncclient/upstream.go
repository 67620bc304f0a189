package syncclient

import (
	"context"
	"time"
)

// upstreamEvery bounds how often a client of a central server asks its
// health (a server may become a site hub after an upgrade of its setup).
const upstreamEvery = time.Minute

// readUpstream reads the server's health after a successful sync (Called
// with syncMu held) and keeps what it says of the server's link to
// headquarters in Status.Upstream: after every sync while the server is a
// site hub, so a cut and its end show as soon as the hub wakes its
// terminals; otherwise once every upstreamEvery. A failure changes
// nothing: the next sync asks again.
func (c *Client) readUpstream(ctx context.Context) {
	c.mu.Lock()
	hub := c.status.Upstream != nil
	c.mu.Unlock()
	now := c.o.Now()
	if !hub && !c.healthAt.IsZero() && now.Sub(c.healthAt) < upstreamEvery {
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
	c.healthAt = now
	c.update(func(s *Status) { s.Upstream = h.Upstream })
}
