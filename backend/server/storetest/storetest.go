// Package storetest is the conformance suite every server.Store must pass.
// A store's own test calls Run with a function opening a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/outpost-app/outpost/backend/server"
)

// Run runs the conformance suite. open must return a new empty store; Run
// closes it.
func Run(t *testing.T, open func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st server.Store)
	}{
		{"RowsAndVersions", testRowsAndVersions},
		{"RollbackDiscards", testRollback},
		{"ChangesPaging", testChangesPaging},
		{"SiteScoping", testSiteScoping},
		{"Batches", testBatches},
		{"PurgeTombstones", testPurgeTombstones},
		{"PurgeVersionsKeepsPinned", testPurgeVersions},
		{"EnrollCodes", testEnroll},
		{"Devices", testDevices},
		{"EnrollFailures", testEnrollFailures},
		{"EnrollSlotsParallel", testEnrollSlotsParallel},
		{"Timeline", testTimeline},
		{"ReadPage", testReadPage},
		{"ReadPageOneSnapshot", testReadPageSnapshot},
		{"ConcurrentSequence", testConcurrentSeq},
		{"OtherWriters", testOtherWriters},
		{"HLCsHeld", testHLCsHeld},
		{"WriteArrivingAgain", testWriteArrivingAgain},
		{"WritesArrivingAgainInOneBatch", testWritesArrivingAgainInOneBatch},
		{"PushFailureAppliesNothing", testPushFailure},
		{"Checksums", testChecksums},
		{"Verified", testVerified},
		{"Ping", func(t *testing.T, st server.Store) {
			if err := st.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			tc.fn(t, st)
		})
	}
}

const (
	idA = "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
	idB = "7f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// write puts one row state in its own transaction and returns its version.
func write(t *testing.T, st server.Store, site, table, id string, deleted bool, data string) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Begin(ctx, site)
	must(t, err)
	defer tx.Rollback()
	v, err := tx.NextSeq(ctx)
	must(t, err)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: table, ID: id, Version: v, HLC: fmt.Sprintf("h%03d", v), DeviceID: "dev", Deleted: deleted, Data: []byte(data)}))
	must(t, tx.Commit())
	return v
}

func testRowsAndVersions(t *testing.T, st server.Store) {
	ctx := context.Background()
	v1 := write(t, st, "s", "t", idA, false, `{"n":1}`)
	v2 := write(t, st, "s", "t", idA, false, `{"n":2}`)
	if v1 != 1 || v2 != 2 {
		t.Fatalf("versions %d, %d; want 1, 2", v1, v2)
	}
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	cur, err := tx.GetRow(ctx, "t", idA)
	must(t, err)
	if cur.Version != 2 || string(cur.Data) != `{"n":2}` || cur.HLC != "h002" || cur.DeviceID != "dev" {
		t.Fatalf("current = %+v", cur)
	}
	many, err := tx.GetRows(ctx, "t", []string{idA, idB})
	must(t, err)
	if len(many) != 1 || many[idA].Version != 2 {
		t.Fatalf("GetRows = %+v", many)
	}
	old, err := tx.GetVersion(ctx, "t", idA, 1)
	must(t, err)
	if string(old.Data) != `{"n":1}` {
		t.Fatalf("version 1 = %s", old.Data)
	}
	if _, err := tx.GetRow(ctx, "t", idB); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("missing row: %v", err)
	}
	if _, err := tx.GetVersion(ctx, "t", idA, 9); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	tx.Rollback()
	h, err := st.History(ctx, "s", "t", idA)
	must(t, err)
	if len(h) != 2 || h[0].Version != 1 || h[1].Version != 2 {
		t.Fatalf("history = %+v", h)
	}
	ss, err := st.SiteState(ctx, "s")
	must(t, err)
	if ss.Seq != 2 {
		t.Fatalf("seq = %d", ss.Seq)
	}
	if ss, err := st.SiteState(ctx, "unknown"); err != nil || ss.Seq != 0 {
		t.Fatalf("unknown site state = %+v, %v", ss, err)
	}
}

func testRollback(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	v, err := tx.NextSeq(ctx)
	must(t, err)
	must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: idA, Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)}))
	must(t, tx.PutBatch(ctx, "d", "b", []byte("resp"), 1))
	must(t, tx.Rollback())
	must(t, tx.Rollback()) // a second rollback is harmless
	ss, err := st.SiteState(ctx, "s")
	must(t, err)
	if ss.Seq != 0 {
		t.Fatalf("seq after rollback = %d", ss.Seq)
	}
	rows, err := st.Changes(ctx, "s", 0, 10)
	must(t, err)
	if len(rows) != 0 {
		t.Fatalf("rolled back rows visible: %+v", rows)
	}
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	if _, err := tx.GetBatch(ctx, "d", "b"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("rolled back batch: %v", err)
	}
}

func testChangesPaging(t *testing.T, st server.Store) {
	ctx := context.Background()
	ids := []string{idA, idB, "8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"}
	for _, id := range ids {
		write(t, st, "s", "t", id, false, `{}`)
	}
	write(t, st, "s", "t", idA, false, `{"again":true}`) // idA moves to version 4
	rows, err := st.Changes(ctx, "s", 0, 10)
	must(t, err)
	if len(rows) != 3 {
		t.Fatalf("want the latest state of 3 rows, got %d", len(rows))
	}
	want := []int64{2, 3, 4}
	for i, r := range rows {
		if r.Version != want[i] {
			t.Fatalf("row %d version %d, want %d", i, r.Version, want[i])
		}
	}
	page, err := st.Changes(ctx, "s", 2, 1)
	must(t, err)
	if len(page) != 1 || page[0].Version != 3 {
		t.Fatalf("page after 2 = %+v", page)
	}
	if rows, _ := st.Changes(ctx, "s", 4, 10); len(rows) != 0 {
		t.Fatalf("after the end: %+v", rows)
	}
}

func testSiteScoping(t *testing.T, st server.Store) {
	ctx := context.Background()
	write(t, st, "a", "t", idA, false, `{"site":"a"}`)
	write(t, st, "b", "t", idA, false, `{"site":"b"}`)
	write(t, st, "b", "sync_conflicts", idB, false, `{}`)
	for _, site := range []string{"a", "b"} {
		rows, err := st.Changes(ctx, site, 0, 10)
		must(t, err)
		if len(rows) == 0 || string(rows[0].Data) != fmt.Sprintf(`{"site":%q}`, site) || rows[0].Version != 1 {
			t.Fatalf("site %s sees %+v", site, rows)
		}
	}
	site, err := st.ConflictSite(ctx, idB)
	must(t, err)
	if site != "b" {
		t.Fatalf("conflict site = %q", site)
	}
	if _, err := st.ConflictSite(ctx, idA); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("ConflictSite(non-conflict) = %v", err)
	}
	sites, err := st.Sites(ctx)
	must(t, err)
	if len(sites) != 2 {
		t.Fatalf("sites = %v", sites)
	}
	if h, _ := st.History(ctx, "a", "sync_conflicts", idB); len(h) != 0 {
		t.Fatalf("history across sites: %+v", h)
	}
}

func testBatches(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	must(t, tx.PutBatch(ctx, "d1", "b1", []byte(`{"x":1}`), 100))
	must(t, tx.Commit())
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	got, err := tx.GetBatch(ctx, "d1", "b1")
	must(t, err)
	if string(got) != `{"x":1}` {
		t.Fatalf("batch = %s", got)
	}
	if _, err := tx.GetBatch(ctx, "d2", "b1"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("another device's batch: %v", err)
	}
	tx.Rollback()
	must(t, st.DeleteExpired(ctx, 101, 0, 0))
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	if _, err := tx.GetBatch(ctx, "d1", "b1"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("expired batch kept: %v", err)
	}
}

func testPurgeTombstones(t *testing.T, st server.Store) {
	ctx := context.Background()
	write(t, st, "s", "t", idA, false, `{}`)              // 1
	write(t, st, "s", "t", idA, true, `{"deleted_at":1}`) // 2: tombstone
	write(t, st, "s", "t", idB, true, `{"deleted_at":1}`) // 3: pinned tombstone
	c := "9f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
	write(t, st, "s", "t", c, true, `{"deleted_at":1}`) // 4: beyond the horizon
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	must(t, tx.Pin(ctx, "conflict-1", "t", idB, 3))
	n, err := tx.PurgeTombstones(ctx, 3)
	must(t, err)
	must(t, tx.Commit())
	if n != 1 {
		t.Fatalf("purged %d tombstones, want 1", n)
	}
	ss, _ := st.SiteState(ctx, "s")
	if ss.Horizon != 2 {
		t.Fatalf("horizon = %d, want 2", ss.Horizon)
	}
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	if p, err := tx.Purged(ctx, "t", []string{idA, idB}); err != nil || !p[idA] || p[idB] || len(p) != 1 {
		t.Fatalf("Purged = %v, %v (want only a: b is pinned)", p, err)
	}
	if _, err := tx.GetRow(ctx, "t", idA); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("purged row still there: %v", err)
	}
	if _, err := tx.GetRow(ctx, "t", c); err != nil {
		t.Fatalf("tombstone beyond horizon gone: %v", err)
	}
	must(t, tx.Unpin(ctx, "conflict-1"))
	n, err = tx.PurgeTombstones(ctx, 4)
	must(t, err)
	if n != 2 {
		t.Fatalf("second purge removed %d, want 2", n)
	}
	must(t, tx.Commit())
	if h, _ := st.History(ctx, "s", "t", idA); len(h) != 0 {
		t.Fatalf("purged row's history kept: %+v", h)
	}
	if ss, _ := st.SiteState(ctx, "s"); ss.Horizon != 4 || ss.Seq != 4 {
		t.Fatalf("site state = %+v", ss)
	}
}

func testPurgeVersions(t *testing.T, st server.Store) {
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		write(t, st, "s", "t", idA, false, fmt.Sprintf(`{"n":%d}`, i)) // 1..4
	}
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	must(t, tx.Pin(ctx, "c1", "t", idA, 2))
	n, err := tx.PurgeVersions(ctx, 3)
	must(t, err)
	must(t, tx.Commit())
	if n != 2 {
		t.Fatalf("purged %d versions, want 2 (1 and 3)", n)
	}
	h, err := st.History(ctx, "s", "t", idA)
	must(t, err)
	if len(h) != 2 || h[0].Version != 2 || h[1].Version != 4 {
		t.Fatalf("history = %+v", h)
	}
	tx, err = st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	must(t, tx.Unpin(ctx, "c1"))
	n, err = tx.PurgeVersions(ctx, 10)
	must(t, err)
	if n != 1 {
		t.Fatalf("after unpin purged %d, want 1 (the current version stays)", n)
	}
}

func testEnroll(t *testing.T, st server.Store) {
	ctx := context.Background()
	must(t, st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "h1", SiteID: "s", Role: "manager", Uses: 2, ExpiresAt: 1000, CreatedAt: 1}))
	if sites, _ := st.Sites(ctx); len(sites) != 1 || sites[0] != "s" {
		t.Fatalf("enroll code did not create its site: %v", sites)
	}
	d1, err := st.Enroll(ctx, "h1", server.Device{ID: "d1", Name: "one", Platform: "linux", TokenHash: "t1"}, 10)
	must(t, err)
	if d1.SiteID != "s" || d1.Role != "manager" || d1.CreatedAt != 10 {
		t.Fatalf("device = %+v", d1)
	}
	if _, err := st.Enroll(ctx, "h1", server.Device{ID: "d2", TokenHash: "t2"}, 1000); !errors.Is(err, server.ErrInvalidCode) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := st.Enroll(ctx, "h1", server.Device{ID: "d2", TokenHash: "t2"}, 20); err != nil {
		t.Fatalf("second use: %v", err)
	}
	if _, err := st.Enroll(ctx, "h1", server.Device{ID: "d3", TokenHash: "t3"}, 30); !errors.Is(err, server.ErrInvalidCode) {
		t.Fatalf("third use of a 2-use code: %v", err)
	}
	if _, err := st.Enroll(ctx, "nope", server.Device{ID: "d4", TokenHash: "t4"}, 30); !errors.Is(err, server.ErrInvalidCode) {
		t.Fatalf("unknown code: %v", err)
	}
}

func testDevices(t *testing.T, st server.Store) {
	ctx := context.Background()
	must(t, st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "a", SiteID: "s1", Role: "operator", Uses: 5, ExpiresAt: 1 << 50}))
	must(t, st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "b", SiteID: "s2", Role: "manager", Uses: 5, ExpiresAt: 1 << 50}))
	_, err := st.Enroll(ctx, "a", server.Device{ID: "d1", Name: "n1", TokenHash: "t1"}, 1)
	must(t, err)
	_, err = st.Enroll(ctx, "b", server.Device{ID: "d2", Name: "n2", TokenHash: "t2"}, 2)
	must(t, err)
	d, err := st.DeviceByTokenHash(ctx, "t1")
	must(t, err)
	if d.ID != "d1" || d.SiteID != "s1" || d.RevokedAt != 0 {
		t.Fatalf("device = %+v", d)
	}
	if _, err := st.DeviceByTokenHash(ctx, "zz"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if d.Committed != 0 || d.PassHorizon != -1 {
		t.Fatalf("a new device's position = %+v, want committed 0 and no pass", d)
	}
	must(t, st.TouchDevice(ctx, "d1", 50))
	must(t, st.TouchDevice(ctx, "d1", 40))
	d, _ = st.DeviceByTokenHash(ctx, "t1")
	if d.LastSeen != 50 {
		t.Fatalf("after touch = %+v", d)
	}
	// RecordPull: the cursor, the committed cursor (decreases included)
	// and the full pass record.
	for i, step := range []struct {
		rec                        server.PullRecord
		cursor, committed, passHor int64
		lastSeen                   int64
	}{
		{server.PullRecord{LastSeen: 60, Cursor: 0, Committed: 0, Pass: server.PassBegin, PassHorizon: 4}, 0, 0, 4, 60},
		{server.PullRecord{LastSeen: 55, Cursor: 9, Committed: 7}, 9, 7, 4, 60},
		{server.PullRecord{LastSeen: 70, Cursor: 12, Committed: 3, Pass: server.PassEnd}, 12, 3, -1, 70},
		{server.PullRecord{LastSeen: 80, Cursor: 12, Committed: 12, Pass: server.PassKeep}, 12, 12, -1, 80},
		{server.PullRecord{LastSeen: 90, Cursor: 0, Committed: 0, Pass: server.PassBegin, PassHorizon: 0}, 0, 0, 0, 90},
	} {
		must(t, st.RecordPull(ctx, "d1", step.rec))
		d, _ = st.DeviceByTokenHash(ctx, "t1")
		if d.Cursor != step.cursor || d.Committed != step.committed || d.PassHorizon != step.passHor || d.LastSeen != step.lastSeen {
			t.Fatalf("step %d: device = %+v, want cursor %d, committed %d, pass horizon %d, last seen %d",
				i, d, step.cursor, step.committed, step.passHor, step.lastSeen)
		}
	}
	if other, _ := st.DeviceByTokenHash(ctx, "t2"); other.Cursor != 0 || other.Committed != 0 || other.PassHorizon != -1 {
		t.Fatalf("another device changed: %+v", other)
	}
	all, err := st.ListDevices(ctx, "")
	must(t, err)
	one, err := st.ListDevices(ctx, "s2")
	must(t, err)
	if len(all) != 2 || len(one) != 1 || one[0].ID != "d2" {
		t.Fatalf("list = %+v / %+v", all, one)
	}
	must(t, st.RevokeDevice(ctx, "d1", 99))
	must(t, st.RevokeDevice(ctx, "d1", 120))
	d, _ = st.DeviceByTokenHash(ctx, "t1")
	if d.RevokedAt != 99 {
		t.Fatalf("revoked_at = %d", d.RevokedAt)
	}
	if err := st.RevokeDevice(ctx, "nope", 1); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
}

func testEnrollFailures(t *testing.T, st server.Store) {
	ctx := context.Background()
	for i := int64(0); i < 5; i++ {
		_, ok, err := st.TakeEnrollSlot(ctx, "1.2.3.4", 100+i, 0, 10)
		must(t, err)
		if !ok {
			t.Fatalf("slot %d refused under the limit", i)
		}
	}
	slot, ok, err := st.TakeEnrollSlot(ctx, "5.6.7.8", 103, 0, 10)
	must(t, err)
	if !ok {
		t.Fatal("another address's first slot refused")
	}
	n, err := st.EnrollFailures(ctx, "1.2.3.4", 102)
	must(t, err)
	if n != 3 {
		t.Fatalf("failures = %d, want 3", n)
	}
	// The limit counts failures since since: 3 of 1.2.3.4's are since 102.
	if _, ok, err := st.TakeEnrollSlot(ctx, "1.2.3.4", 106, 102, 3); err != nil || ok {
		t.Fatalf("a slot over the limit: %v, %v", ok, err)
	}
	must(t, st.ReleaseEnrollSlot(ctx, slot))
	if n, _ := st.EnrollFailures(ctx, "5.6.7.8", 0); n != 0 {
		t.Fatalf("a released slot still counts: %d", n)
	}
	must(t, st.DeleteExpired(ctx, 0, 104, 0))
	if n, _ := st.EnrollFailures(ctx, "1.2.3.4", 0); n != 1 {
		t.Fatalf("after expiry = %d, want 1", n)
	}
}

// testEnrollSlotsParallel: slots taken in parallel never pass the limit.
func testEnrollSlotsParallel(t *testing.T, st server.Store) {
	ctx := context.Background()
	const attempts, limit = 40, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken, refused := 0, 0
	errc := make(chan error, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := st.TakeEnrollSlot(ctx, "9.9.9.9", int64(1000+i), 0, limit)
			if err != nil {
				errc <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				taken++
			} else {
				refused++
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if taken != limit || refused != attempts-limit {
		t.Fatalf("%d slots taken and %d refused in parallel, want %d and %d", taken, refused, limit, attempts-limit)
	}
}

// testConcurrentSeq checks that concurrent transactions of one site get
// distinct, gapless sequence numbers, that rolled back ones leave no trace,
// and that a committed write is visible to readers when Commit returns.
func testConcurrentSeq(t *testing.T, st server.Store) {
	ctx := context.Background()
	const workers, each = 8, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := 0
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				tx, err := st.Begin(ctx, "s")
				if err != nil {
					errc <- err
					return
				}
				v, err := tx.NextSeq(ctx)
				if err == nil {
					id := fmt.Sprintf("%08d-0000-4000-8000-%012d", w, i)
					err = tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)})
				}
				if err == nil && i%3 == 2 {
					err = tx.Rollback()
					if err != nil {
						errc <- err
						return
					}
					continue
				}
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
				if err != nil {
					errc <- err
					return
				}
				rows, err := st.Changes(ctx, "s", v-1, 1)
				if err != nil || len(rows) != 1 || rows[0].Version != v {
					errc <- fmt.Errorf("version %d not visible after Commit returned: %v %v", v, rows, err)
					return
				}
				mu.Lock()
				committed++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	rows, err := st.Changes(ctx, "s", 0, 1000)
	must(t, err)
	if len(rows) != committed || committed != workers*each*2/3 {
		t.Fatalf("%d rows, %d committed, want %d", len(rows), committed, workers*each*2/3)
	}
	for i, r := range rows {
		if r.Version != int64(i+1) {
			t.Fatalf("row %d has version %d: gap or duplicate", i, r.Version)
		}
	}
}

// testOtherWriters: a Tx implementing server.OtherWriters sees every writer
// of a row after a version, its own uncommitted writes included, per site.
func testOtherWriters(t *testing.T, st server.Store) {
	ctx := context.Background()
	put := func(tx server.Tx, dev string) int64 {
		v, err := tx.NextSeq(ctx)
		must(t, err)
		must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: idA, Version: v, HLC: "h", DeviceID: dev, Data: []byte(`{}`)}))
		return v
	}
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	ow, ok := tx.(server.OtherWriters)
	if !ok {
		t.Skip("the store's Tx does not implement server.OtherWriters (the engine falls back to the last writer)")
	}
	v1 := put(tx, "a")
	v2 := put(tx, "b") // another device writes
	v3 := put(tx, "a") // a writes again: the last writer, not the only one since v1
	for _, c := range []struct {
		after int64
		dev   string
		want  bool
	}{{v1, "a", true}, {v2, "a", false}, {v3, "a", false}, {0, "b", true}, {v2, "b", true}, {v3, "b", false}} {
		got, err := ow.WrittenByOthers(ctx, "t", idA, c.after, c.dev)
		must(t, err)
		if got != c.want {
			t.Errorf("WrittenByOthers(after %d, %s) = %v, want %v", c.after, c.dev, got, c.want)
		}
	}
	must(t, tx.Commit())
	tx, err = st.Begin(ctx, "other site")
	must(t, err)
	defer tx.Rollback()
	if got, err := tx.(server.OtherWriters).WrittenByOthers(ctx, "t", idA, 0, "x"); err != nil || got {
		t.Errorf("another site's writers: %v, %v", got, err)
	}
}
