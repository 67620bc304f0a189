package uplink_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/uplink"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Review of 3ea6825 + 7958e64 (the hub wakes its event streams when its
// link goes down and when it comes back). The hub's own link is one of
// those streams' subscribers (Config.Local), so a wake kicks the link at
// once, past its Every and Retry waits. On a flapping central (one request
// in two refused: a load balancer with one broken backend, a proxy at its
// limits) every sync is a transition: fail → wake → sync at once →
// success → wake → sync at once → fail … The link spins with no pause at
// all, and every turn tells every terminal of the site to sync and read
// the hub's health. Without the wake the link syncs once per Retry/Every.
func TestReview_FlappingCentralDoesNotSpinTheLink(t *testing.T) {
	const site = "ship-9"
	central := newNode(t, "central")
	office := enrollDevice(t, central, "office", site, protocol.RoleOperator)
	office.write(protocol.TableProductionRecords, record("5a0c8a7e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", "L1", 1), protocol.OpUpsert)
	target, _ := url.Parse(central.ts.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var pulls atomic.Int64
	var flap atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/pull") && flap.Load() {
			if pulls.Add(1)%2 == 1 { // every other pull refused, the first one too
				http.Error(w, `{"error":"unavailable","message":"backend down"}`, http.StatusBadGateway)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, "/v1/events") {
			// central's stream is not what this test is about
			http.Error(w, "no stream", http.StatusNotFound)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	path := filepath.Join(t.TempDir(), "hub.db")
	st, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id, err := uplink.Enroll(t.Context(), st, front.URL, central.code(t, site, protocol.RoleHub), "bridge", syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hub := &node{name: "bridge", st: st, path: path}
	var link *uplink.Link
	hub.start(t, server.Config{HubID: id.Device, HubSite: id.Site,
		Upstream: func(ctx context.Context) *protocol.UpstreamHealth { return link.Health(ctx) }})
	local, cancelLocal, _ := hub.srv.Subscribe(context.Background(), id.Site)
	defer cancelLocal()
	// A terminal's event stream on the hub, counting the wakes it gets.
	term, cancelTerm, _ := hub.srv.Subscribe(context.Background(), id.Site)
	defer cancelTerm()
	var woken atomic.Int64
	stopCount := make(chan struct{})
	go func() {
		for {
			select {
			case <-term:
				woken.Add(1)
			case <-stopCount:
				return
			}
		}
	}()
	defer close(stopCount)

	// Production-like waits: a sync without news every 10 s, a retry
	// after a failure 1 s doubling.
	link, err = uplink.New(uplink.Config{Engine: hub.srv.Engine(), ID: id, Every: 10 * time.Second, Retry: time.Second,
		Publish: hub.srv.Publish, Wake: hub.srv.Wake, Local: local,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); link.Run(ctx) }()
	// The hub's first sync, central answering.
	deadline := time.Now().Add(10 * time.Second)
	for !link.Status().Up {
		if time.Now().After(deadline) {
			t.Fatal("the link never came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	woken.Store(0)
	// Central starts flapping: one pull in two refused, the next one first.
	flap.Store(true)
	link.Kick()
	time.Sleep(1500 * time.Millisecond)
	stop()
	<-done

	// In 1.5 s: the kicked sync (refused) and one retry after 1 s
	// (served), then Every (10 s). A handful at most.
	if n := pulls.Load(); n > 6 {
		t.Errorf("a flapping central: the link pulled %d times in 1.5 s (its own wake kicks it past Retry and Every); terminals woken %d times", n, woken.Load())
	}
	if n := woken.Load(); n > 4 {
		t.Errorf("a flapping central: the site's terminals were told to sync %d times in 1.5 s", n)
	}
}
