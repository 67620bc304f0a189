package uplink_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Issue 19's benchmarks (make bench; docs/benchmarks.md, Site hubs). Real
// servers on SQLite files over loopback, the desktop's wire client, gzip
// as sent. Nothing here asserts a time.
//
//	OUTPOST_HUB_BENCH_SAMPLES  writes per visibility run (200)
//	OUTPOST_HUB_BENCH_WRITES   site writes made while the hub is cut (5000; make bench: 100000)
//	OUTPOST_HUB_BENCH_DEVICES  site terminals writing them (4)

// benchAppDebounce is the desktop's quiet time after a local write before it
// syncs (syncclient Options.Debounce default): added to the measured
// server path, never measured here.
const benchAppDebounce = 500 * time.Millisecond

// BenchmarkHubVisibility: a write on one site terminal until another
// terminal of the same site holds it, through the hub: the writer's push to
// the hub, the hub's /v1/events telling the reader, the reader's pull until
// it returns the row. With the hub's link to central up (the link pushes
// each write upstream meanwhile, sharing the hub's database) and cut.
func BenchmarkHubVisibility(b *testing.B) {
	for _, tc := range []struct {
		name string
		cut  bool
	}{{"link-up", false}, {"link-cut", true}} {
		b.Run(tc.name, func(b *testing.B) {
			samples := benchEnv(b, "OUTPOST_HUB_BENCH_SAMPLES", 200)
			const site = "plant-7"
			central := benchNewNode(b, "central")
			hub := benchNewHub(b, central, "hall-a", site)
			devs := benchEnroll(b, hub, hub.ts.URL, site, 2)
			writer, reader := devs[0], devs[1]
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			events := make(chan int64, 1)
			var connected atomic.Bool
			go func() {
				for ctx.Err() == nil {
					connected.Store(true)
					reader.api.Events(ctx, func(c int64) {
						select {
						case events <- c:
						default:
						}
					})
					time.Sleep(50 * time.Millisecond)
				}
			}()
			benchWaitFor(b, 10*time.Second, "the reader's event stream", connected.Load)
			if _, err := reader.pull(ctx, ""); err != nil {
				b.Fatal(err)
			}
			if tc.cut {
				hub.proxy.Cut(true)
				benchWaitFor(b, 10*time.Second, "the link to notice the cut", func() bool { return !hub.link.Status().Up })
			}
			time.Sleep(200 * time.Millisecond) // the event stream is up

			var total, push []time.Duration
			missed := 0
			var err error
			b.ResetTimer()
			for range b.N {
				for range samples {
					for len(events) > 0 {
						<-events
					}
					ch := writer.newRecords(1)
					t0 := time.Now()
					if err := writer.push(ctx, ch, 500); err != nil {
						b.Fatal(err)
					}
					push = append(push, time.Since(t0))
					for seen := false; !seen; {
						select {
						case <-events:
						case <-time.After(5 * time.Second):
							missed++ // no event: pull anyway (counted)
						}
						if seen, err = reader.pull(ctx, ch[0].ID); err != nil {
							b.Fatal(err)
						}
					}
					total = append(total, time.Since(t0))
					time.Sleep(20 * time.Millisecond) // terminals write a few times a second at most
				}
			}
			b.StopTimer()
			p50, p99 := benchPercentile(total, 0.50), benchPercentile(total, 0.99)
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p99, "p99-ms")
			b.ReportMetric(benchPercentile(total, 1), "max-ms")
			b.ReportMetric(benchPercentile(push, 0.99), "push-p99-ms")
			b.ReportMetric(p99+float64(benchAppDebounce/time.Millisecond), "app-p99-ms")
			b.ReportMetric(float64(missed), "missed-events")
			b.Logf("%s: %d writes; server path (push to the hub, event, pull returns the row) p50 %.1f ms, p99 %.1f ms, max %.1f ms; push alone p99 %.1f ms; "+
				"with the app's debounce as configured (%s, added, not measured) p99 %.1f ms; %d waits without an event",
				tc.name, len(total), p50, p99, benchPercentile(total, 1), benchPercentile(push, 0.99), benchAppDebounce, p99+float64(benchAppDebounce/time.Millisecond), missed)
			if tc.cut && hub.link.Status().Up {
				b.Error("the link came up while the proxy was down")
			}
		})
	}
}

// BenchmarkHubCatchUp: a hub cut off from central while its terminals make
// OUTPOST_HUB_BENCH_WRITES site writes (a week of a site), then the link
// returns: the time until central has answered every one of them (the
// hub's health Waiting 0, checked against central's history) and until the
// hub has read central's feed to its end, and the bytes over the
// hub↔central link. Beside it, "direct": the same terminals push the same
// number of writes straight to central in the desktop's batches of 500,
// then each pulls the feed to its end as its sync does.
func BenchmarkHubCatchUp(b *testing.B) {
	b.Run("via-hub", func(b *testing.B) {
		writes := benchEnv(b, "OUTPOST_HUB_BENCH_WRITES", 5000)
		ndev := benchEnv(b, "OUTPOST_HUB_BENCH_DEVICES", 4)
		for range b.N {
			b.StopTimer()
			const site = "plant-7"
			ctx := context.Background()
			central := benchNewNode(b, "central")
			hub := benchNewHub(b, central, "hall-a", site)
			devs := benchEnroll(b, hub, hub.ts.URL, site, ndev)
			changes, want := benchSplit(devs, writes)
			hub.proxy.Cut(true)
			t0 := time.Now()
			if err := benchPushAll(ctx, devs, changes, 500); err != nil {
				b.Fatal(err)
			}
			onSite := time.Since(t0)
			benchWaitFor(b, time.Minute, "the link to notice the cut", func() bool { return !hub.link.Status().Up })
			h := hub.link.Health(ctx)
			if h.Waiting == 0 {
				b.Fatalf("health while cut: %+v, want writes waiting", h)
			}
			b.Logf("via-hub: the hub's health while cut: up %v, waiting %d (counted up to 10,000)", h.Up, h.Waiting)
			if n := benchCountWrites(b, central, site, want); n != 0 {
				b.Fatalf("central holds %d site writes while the link is cut", n)
			}
			hub.proxy.Reset()

			b.StartTimer()
			start := time.Now()
			hub.proxy.Cut(false)
			// The link retries on its own (1 s doubling to 30 s) and on each
			// write of the hub's terminals; kick it as a terminal's write would,
			// so the figure is the catch-up and not where the backoff stood.
			hub.link.Kick()
			benchWaitFor(b, 30*time.Minute, "the hub's writes answered", func() bool {
				// Central's sequence first: one cheap read, where the hub's
				// health reads up to 10,000 waiting writes.
				if st, err := central.st.SiteState(ctx, site); err != nil || st.Seq < int64(writes) {
					return false
				}
				// Not h.Up: the link reports up at the end of a whole sync,
				// after it has read central's feed (settled, below).
				return hub.link.Health(ctx).Waiting == 0
			})
			answered := time.Since(start)
			upA, downA := hub.proxy.Bytes()
			st, err := central.st.SiteState(ctx, site)
			if err != nil {
				b.Fatal(err)
			}
			benchWaitFor(b, 30*time.Minute, "the hub at the end of central's feed", func() bool {
				c, err := hub.link.Cursor(ctx)
				return err == nil && c >= st.Seq
			})
			settled := time.Since(start)
			b.StopTimer()
			up, down := hub.proxy.Bytes()
			if n := benchCountWrites(b, central, site, want); n != len(want) {
				b.Fatalf("central's history holds %d of the %d site writes", n, len(want))
			}
			benchReport(b, "via-hub", writes, ndev, onSite, answered, settled, upA, downA, up, down)
		}
	})
	b.Run("direct", func(b *testing.B) {
		writes := benchEnv(b, "OUTPOST_HUB_BENCH_WRITES", 5000)
		ndev := benchEnv(b, "OUTPOST_HUB_BENCH_DEVICES", 4)
		for range b.N {
			b.StopTimer()
			const site = "plant-7"
			ctx := context.Background()
			central := benchNewNode(b, "central")
			p, err := benchNewProxy(central.ts.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { p.Close() })
			devs := benchEnroll(b, central, p.URL(), site, ndev)
			for _, d := range devs {
				if _, err := d.pull(ctx, ""); err != nil {
					b.Fatal(err)
				}
			}
			changes, want := benchSplit(devs, writes)
			p.Reset()

			b.StartTimer()
			start := time.Now()
			if err := benchPushAll(ctx, devs, changes, 500); err != nil {
				b.Fatal(err)
			}
			answered := time.Since(start)
			upA, downA := p.Bytes()
			errs := make(chan error, len(devs))
			for _, d := range devs {
				go func() { _, err := d.pull(ctx, ""); errs <- err }()
			}
			for range devs {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			settled := time.Since(start)
			b.StopTimer()
			up, down := p.Bytes()
			if n := benchCountWrites(b, central, site, want); n != len(want) {
				b.Fatalf("central's history holds %d of the %d writes", n, len(want))
			}
			benchReport(b, "direct", writes, ndev, 0, answered, settled, upA, downA, up, down)
		}
	})
}

// benchSplit makes writes new records spread over devs, and the set of their HLCs.
func benchSplit(devs []*benchDev, writes int) ([][]protocol.Change, map[string]bool) {
	changes := make([][]protocol.Change, len(devs))
	want := map[string]bool{}
	for i, d := range devs {
		n := writes / len(devs)
		if i < writes%len(devs) {
			n++
		}
		changes[i] = d.newRecords(n)
		for _, c := range changes[i] {
			want[c.HLC] = true
		}
	}
	return changes, want
}

func benchReport(b *testing.B, name string, writes, ndev int, onSite, answered, settled time.Duration, upA, downA, up, down int64) {
	b.ReportMetric(answered.Seconds(), "answered-s")
	b.ReportMetric(settled.Seconds(), "settled-s")
	b.ReportMetric(float64(upA+downA), "answered-bytes")
	b.ReportMetric(float64(up+down), "link-bytes")
	b.ReportMetric(float64(up), "up-bytes")
	b.ReportMetric(float64(down), "down-bytes")
	b.ReportMetric(float64(up+down)/float64(writes), "bytes/write")
	b.ReportMetric(float64(writes)/answered.Seconds(), "writes/s")
	site := ""
	if onSite > 0 {
		site = fmt.Sprintf(" (written on site while cut in %.2f s)", onSite.Seconds())
	}
	b.Logf("%s: %d writes by %d terminals%s; central answered every one at %.2f s (%d B up, %d B down); "+
		"settled (feed read to its end) at %.2f s: %d B up, %d B down, %.0f B per write",
		name, writes, ndev, site, answered.Seconds(), upA, downA, settled.Seconds(), up, down, float64(up+down)/float64(writes))
}
