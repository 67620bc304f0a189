package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/server"
)

// testTimeline: the database has a timeline (a UUID) from its first start,
// the same through the store and through a write transaction; Restored
// changes it and forgets every device's position.
func testTimeline(t *testing.T, st server.Store) {
	ctx := context.Background()
	tl, err := st.Timeline(ctx)
	must(t, err)
	if _, err := uuid.Parse(tl); err != nil || len(tl) != 36 {
		t.Fatalf("timeline %q is not a UUID", tl)
	}
	if again, _ := st.Timeline(ctx); again != tl {
		t.Fatalf("timeline changed by itself: %q then %q", tl, again)
	}
	write(t, st, "s", "t", idA, false, `{}`)
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	if got, err := tx.Timeline(ctx); err != nil || got != tl {
		t.Fatalf("Tx.Timeline = %q, %v; want %q", got, err, tl)
	}
	if seq, err := tx.Seq(ctx); err != nil || seq != 1 {
		t.Fatalf("Tx.Seq = %d, %v; want 1", seq, err)
	}
	v, err := tx.NextSeq(ctx)
	must(t, err)
	if seq, err := tx.Seq(ctx); err != nil || seq != v || v != 2 {
		t.Fatalf("Tx.Seq after NextSeq %d = %d, %v", v, seq, err)
	}
	must(t, tx.Rollback())

	must(t, st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "c", SiteID: "s", Role: "operator", Uses: 5, ExpiresAt: 1 << 50}))
	_, err = st.Enroll(ctx, "c", server.Device{ID: "d1", TokenHash: "t1"}, 1)
	must(t, err)
	must(t, st.RecordPull(ctx, "d1", server.PullRecord{LastSeen: 5, Cursor: 0, Committed: 0, Pass: server.PassBegin, PassHorizon: 0}))
	must(t, st.RecordPull(ctx, "d1", server.PullRecord{LastSeen: 6, Cursor: 1, Committed: 1}))

	nt := uuid.NewString()
	must(t, st.Restored(ctx, nt))
	if got, _ := st.Timeline(ctx); got != nt {
		t.Fatalf("timeline after Restored = %q, want %q", got, nt)
	}
	d, err := st.DeviceByTokenHash(ctx, "t1")
	must(t, err)
	if d.Committed != 0 || d.PassHorizon != -1 {
		t.Fatalf("device position after Restored = %+v, want committed 0 and no pass", d)
	}
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	if got, _ := tx.Timeline(ctx); got != nt {
		t.Fatalf("Tx.Timeline after Restored = %q", got)
	}
}

// testReadPage: ReadPage is Changes plus the site's state and the timeline.
func testReadPage(t *testing.T, st server.Store) {
	ctx := context.Background()
	tl, err := st.Timeline(ctx)
	must(t, err)
	p, err := st.ReadPage(ctx, "unknown", 0, 10)
	must(t, err)
	if p.State.Seq != 0 || p.State.Horizon != 0 || len(p.Rows) != 0 || p.Rows == nil || p.Timeline != tl {
		t.Fatalf("page of an unknown site = %+v", p)
	}
	write(t, st, "s", "t", idA, false, `{"n":1}`)         // 1
	write(t, st, "s", "t", idB, true, `{"deleted_at":1}`) // 2
	write(t, st, "s", "t", idA, false, `{"n":3}`)         // 3
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	_, err = tx.PurgeTombstones(ctx, 2)
	must(t, err)
	must(t, tx.Commit())
	p, err = st.ReadPage(ctx, "s", 0, 10)
	must(t, err)
	if p.State.Seq != 3 || p.State.Horizon != 2 || p.Timeline != tl || len(p.Rows) != 1 || p.Rows[0].Version != 3 || string(p.Rows[0].Data) != `{"n":3}` {
		t.Fatalf("page = %+v", p)
	}
	if p, _ := st.ReadPage(ctx, "s", 3, 10); len(p.Rows) != 0 {
		t.Fatalf("after the end: %+v", p.Rows)
	}
}

// testReadPageSnapshot: while writers commit, every page is one snapshot:
// no row above the sequence it reports, and a page that is not full ends
// at that sequence (the row holding the last sequence number is current).
// Two statements — the state, then the rows, or the other way round —
// break one or the other.
func testReadPageSnapshot(t *testing.T, st server.Store) {
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				tx, err := st.Begin(ctx, "s")
				if err != nil {
					errc <- err
					return
				}
				for j := range 3 {
					v, _ := tx.NextSeq(ctx)
					id := fmt.Sprintf("%08d-0000-4000-8000-%06d%06d", w, i, j)
					if err := tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)}); err != nil {
						tx.Rollback()
						errc <- err
						return
					}
				}
				if err := tx.Commit(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	const limit = 100000
	deadline := time.Now().Add(1500 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		after := int64(0)
		if n%2 == 1 {
			p, err := st.ReadPage(ctx, "s", 0, 1)
			must(t, err)
			after = p.State.Seq / 2
		}
		p, err := st.ReadPage(ctx, "s", after, limit)
		must(t, err)
		var last int64
		for _, r := range p.Rows {
			if r.Version > p.State.Seq {
				t.Fatalf("page %d holds version %d above its sequence %d: two snapshots", n, r.Version, p.State.Seq)
			}
			last = r.Version
		}
		if p.State.Seq > after && last != p.State.Seq {
			t.Fatalf("page %d after %d ends at %d, its sequence is %d: two snapshots", n, after, last, p.State.Seq)
		}
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
	}
}
