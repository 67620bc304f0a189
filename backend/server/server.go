// Package server is the Outpost sync server: the HTTP handlers of the v1
// wire contract (docs/protocol.md), authentication, server-sent events,
// metrics, and the sync algorithm (Engine) over a small storage interface
// (Store, Tx) that the SQLite and PostgreSQL stores implement.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Config wires a Server. Store is required; the rest has defaults.
type Config struct {
	Store    Store
	Registry *protocol.Registry
	Logger   *slog.Logger
	// MaxBody bounds a request body in decompressed bytes.
	MaxBody int64
	// MaxSkew bounds how far ahead of the server clock a pushed HLC may be.
	MaxSkew time.Duration
	// Now is the server clock (tests replace it).
	Now func() time.Time
	// KeepAlive is the interval of the event stream's comment lines.
	KeepAlive time.Duration
	// PollInterval is how often event streams look for writes made by
	// other processes sharing the database.
	PollInterval time.Duration
	// EnrollFailureLimit failed enrollments per minute and client address
	// are answered; beyond, 429.
	EnrollFailureLimit int
	// Upstream reports a hub's link to central for /v1/health (nil on a
	// central server).
	Upstream func(ctx context.Context) *protocol.UpstreamHealth
	// HubID is a site hub's device id at central (Engine.HubID); empty on
	// central.
	HubID string
	// HubSite is the one site a hub serves (its site at central): it
	// enrolls and serves that site's devices only. Empty on central.
	HubSite string
	// ForwardResolve sends a resolve of one of central's conflict records
	// to central (a hub's link): central's new version of the row, or
	// ErrUpstreamUnavailable, or an *UpstreamRefusal. Nil on central.
	ForwardResolve func(ctx context.Context, id string, req protocol.ResolveRequest) (int64, error)
}

// Server serves the v1 contract. Close it to end event streams.
type Server struct {
	cfg     Config
	engine  *Engine
	hub     *hub
	metrics *metrics
	reg     *prometheus.Registry
	mux     *http.ServeMux
}

// New returns a server over cfg.Store and starts its event hub.
func New(cfg Config) *Server {
	if cfg.Registry == nil {
		cfg.Registry = protocol.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = protocol.DefaultMaxBody
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.EnrollFailureLimit <= 0 {
		cfg.EnrollFailureLimit = 10
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{
		cfg:     cfg,
		engine:  &Engine{Store: cfg.Store, Registry: cfg.Registry, MaxSkew: cfg.MaxSkew, Now: cfg.Now, Log: cfg.Logger, HubID: cfg.HubID},
		metrics: newMetrics(reg),
		reg:     reg,
	}
	if cfg.Upstream != nil {
		reg.MustRegister(newUpstreamCollector(cfg))
	}
	s.hub = newHub(cfg.Store, cfg.PollInterval, cfg.Logger)
	s.routes()
	return s
}

// Engine returns the sync algorithm the server runs (retention jobs use it).
func (s *Server) Engine() *Engine { return s.engine }

// Handler returns the HTTP handler of the v1 API.
func (s *Server) Handler() http.Handler { return s.instrument(s.mux) }

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
}

// Close ends every event stream and stops the hub. Call it when shutdown
// begins, before draining other requests.
func (s *Server) Close() { s.hub.close() }

// RunRetention purges on every tick until ctx ends.
func (s *Server) RunRetention(ctx context.Context, every time.Duration, ret Retention) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st, err := s.engine.Purge(ctx, ret)
			if err != nil {
				s.cfg.Logger.Error("retention", "err", err)
				continue
			}
			s.cfg.Logger.Info("retention", "tombstones", st.Tombstones, "versions", st.Versions)
		}
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/health", s.handleHealth)
	m.HandleFunc("POST /v1/enroll", s.open(s.handleEnroll))
	m.HandleFunc("POST /v1/push", s.authed(s.handlePush))
	m.HandleFunc("GET /v1/pull", s.authed(s.handlePull))
	m.HandleFunc("POST /v1/conflicts/{id}/resolve", s.authed(s.handleResolve))
	m.HandleFunc("GET /v1/events", s.authed(s.handleEvents))
	m.HandleFunc("GET /v1/history", s.authed(s.handleHistory))
	m.HandleFunc("GET /v1/checksums", s.authed(s.handleChecksums))
	m.HandleFunc("GET /v1/rows", s.authed(s.handleRows))
	s.mux = m
}

// Publish tells the site's event streams that its sequence reached seq: a
// hub's upstream link calls it after writing central's changes, so the
// site's devices pull them at once.
func (s *Server) Publish(site string, seq int64) {
	if seq > 0 {
		s.hub.publish(site, seq)
	}
}

// Wake tells the site's event streams to sync again without a new write
// (a hub's link to central is back up).
func (s *Server) Wake(site string) { s.hub.wake(site) }

// Subscribe returns a channel receiving the site's sequence after new
// writes (the latest value only), and its cancel function; ok is false
// once the server is closed.
func (s *Server) Subscribe(ctx context.Context, site string) (ch <-chan int64, cancel func(), ok bool) {
	return s.hub.subscribe(ctx, site)
}
