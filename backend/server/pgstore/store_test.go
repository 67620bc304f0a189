package pgstore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/pgstore"
	"github.com/outpost-app/outpost/backend/server/pgstore/pgtest"
	"github.com/outpost-app/outpost/backend/server/storetest"
)

func open(t *testing.T) server.Store {
	st, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestSiteData(t *testing.T) { storetest.RunSiteData(t, open) }

func TestPasses(t *testing.T) { storetest.RunPasses(t, open) }

func TestHubMeta(t *testing.T) { storetest.RunHubMeta(t, open) }

// TestOpen_ConcurrentMigration starts several stores on one empty schema at
// once, as instances behind a load balancer do: all open, the schema is
// migrated once, and reopening changes nothing.
func TestOpen_ConcurrentMigration(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	const n = 4
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgstore.Open(ctx, u, pgstore.Options{MaxConns: 2})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	v, err := stores[0].SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	tx, err := stores[1].Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.NextSeq(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	again, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if ss, err := again.SiteState(ctx, "s"); err != nil || ss.Seq != 1 {
		t.Fatalf("after reopen seq = %d, %v", ss.Seq, err)
	}
}

// TestOpen_Unreachable: a database that does not answer is an error naming
// where it was looked for, in a sentence, and never the password.
func TestOpen_Unreachable(t *testing.T) {
	pgtest.Admin(t) // only meaningful beside the other PostgreSQL tests
	ctx := context.Background()
	_, err := pgstore.Open(ctx, "postgres://outpost:s3cret@127.0.0.1:1/outpost?sslmode=disable", pgstore.Options{ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot be reached") || !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "s3cret") {
		t.Fatalf("error = %q", msg)
	}
	if !errors.Is(err, server.ErrUnavailable) {
		t.Fatalf("not ErrUnavailable: %v", err)
	}
	if _, err := pgstore.Open(ctx, "postgres://u:s3cret@host:notaport/db", pgstore.Options{}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL: %v", err)
	}
}

// TestStore_SiteLockSerializesProcesses: a second store (another process's
// pool) waits on the site's lock and then sees what the first committed —
// the batch record included, so a repeated batch is found, never reapplied.
func TestStore_SiteLockSerializesProcesses(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	txA, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := txA.NextSeq(ctx)
	if err := txA.PutRow(ctx, server.StoredRow{Table: "t", ID: "r1", Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := txA.PutBatch(ctx, "d", "b1", []byte(`resp`), 1); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		txB, err := b.Begin(ctx, "s")
		if err != nil {
			got <- "begin: " + err.Error()
			return
		}
		defer txB.Rollback()
		resp, err := txB.GetBatch(ctx, "d", "b1")
		if err != nil {
			got <- "get batch: " + err.Error()
			return
		}
		seq, _ := txB.NextSeq(ctx)
		got <- string(resp) + " " + strings.Repeat("+", int(seq))
	}()
	select {
	case g := <-got:
		t.Fatalf("second writer did not wait for the site lock: %s", g)
	case <-time.After(300 * time.Millisecond):
	}
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		if g != "resp ++" {
			t.Fatalf("second writer saw %q, want the batch and sequence 2", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second writer still blocked after the first committed")
	}
}

// TestStore_StatementTimeout: a writer waiting on a site's lock longer than
// the statement timeout gets ErrUnavailable (503), not a hang.
func TestStore_StatementTimeout(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, u, pgstore.Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	txA, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback()
	start := time.Now()
	_, err = b.Begin(ctx, "s")
	if !errors.Is(err, server.ErrUnavailable) {
		t.Fatalf("Begin behind a held lock = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timed out after %v", d)
	}
}

// TestStore_Listen: a commit that advances a site's sequence is delivered
// to listeners of every store on the schema, and only after commit.
func TestStore_Listen(t *testing.T) {
	u := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	type note struct {
		site string
		seq  int64
	}
	notes := make(chan note, 16)
	done := make(chan error, 1)
	go func() { done <- b.Listen(ctx, func(site string, seq int64) { notes <- note{site, seq} }) }()
	// Write until the listener (connecting concurrently) hears one.
	write := func(site string) int64 {
		tx, err := a.Begin(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := tx.NextSeq(ctx)
		if err := tx.PutRow(ctx, server.StoredRow{Table: "t", ID: "r", Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return v
	}
	deadline := time.After(10 * time.Second)
	var heard note
wait:
	for {
		v := write("site: with colons")
		select {
		case heard = <-notes:
			if heard.site != "site: with colons" || heard.seq > v {
				t.Fatalf("heard %+v after writing %d", heard, v)
			}
			break wait
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notification within 10s")
		}
	}
	for len(notes) > 0 {
		<-notes
	}
	// A rolled back write notifies nobody.
	tx, err := a.Begin(ctx, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	tx.NextSeq(ctx)
	tx.Rollback()
	v := write("loud")
	timeout := time.After(5 * time.Second)
	for heardLoud := false; !heardLoud; {
		select {
		case n := <-notes:
			if n.site == "site: with colons" {
				continue // a late note of the writes made while waiting above
			}
			if n.site != "loud" || n.seq != v {
				t.Fatalf("heard %+v, want loud %d", n, v)
			}
			heardLoud = true
		case <-timeout:
			t.Fatal("no notification for a committed write")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen after cancel = %v", err)
	}
}

// TestTx_QueuedWrites: writes are queued until the next read or commit;
// reads still see them, a row written twice in one transaction keeps both
// versions in its history and the last as its state, and a queued write
// that fails fails the commit with nothing applied.
func TestTx_QueuedWrites(t *testing.T) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{`{"n":1}`, `{"n":2}`} {
		v, _ := tx.NextSeq(ctx)
		if err := tx.PutRow(ctx, server.StoredRow{Table: "t", ID: "a", Version: v, HLC: "h", DeviceID: "d", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := tx.GetRow(ctx, "t", "a"); err != nil || r.Version != 2 || string(r.Data) != `{"n":2}` {
		t.Fatalf("read own write: %+v %v", r, err)
	}
	v, _ := tx.NextSeq(ctx)
	tx.PutRow(ctx, server.StoredRow{Table: "t", ID: "a", Version: v, HLC: "h", DeviceID: "d", Deleted: true, Data: []byte("{\"nul\":\"\x00\"}")})
	tx.PutBatch(ctx, "d", "b", []byte("r"), 1)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	h, err := st.History(ctx, "s", "t", "a")
	if err != nil || len(h) != 3 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	rows, _ := st.Changes(ctx, "s", 0, 10)
	if len(rows) != 1 || rows[0].Version != 3 || !rows[0].Deleted || string(rows[0].Data) != "{\"nul\":\"\x00\"}" {
		t.Fatalf("changes = %+v", rows)
	}

	tx, err = st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	v, _ = tx.NextSeq(ctx)
	tx.PutRow(ctx, server.StoredRow{Table: "t", ID: "z", Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)})
	tx.PutBatch(ctx, "d", "b", []byte("again"), 2) // the same batch: a key violation
	if err := tx.Commit(); err == nil {
		t.Fatal("commit with a failing queued write succeeded")
	}
	if ss, _ := st.SiteState(ctx, "s"); ss.Seq != 3 {
		t.Fatalf("seq after a failed commit = %d", ss.Seq)
	}
	if rows, _ := st.Changes(ctx, "s", 3, 10); len(rows) != 0 {
		t.Fatalf("failed commit left %+v", rows)
	}
}

// TestStore_DeviceTextVerbatim: device names and platforms are stored as
// sent, NUL and all.
func TestStore_DeviceTextVerbatim(t *testing.T) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	if err := st.CreateEnrollCode(ctx, server.EnrollCode{Hash: "h", SiteID: "s", Role: "operator", Uses: 1, ExpiresAt: 1 << 50}); err != nil {
		t.Fatal(err)
	}
	name := "Line 3 \x00 '; DROP TABLE devices; -- ☃"
	if _, err := st.Enroll(ctx, "h", server.Device{ID: "d", Name: name, Platform: "\x00", TokenHash: "t"}, 1); err != nil {
		t.Fatal(err)
	}
	d, err := st.DeviceByTokenHash(ctx, "t")
	if err != nil || d.Name != name || d.Platform != "\x00" {
		t.Fatalf("device = %+v, %v", d, err)
	}
}

// TestOpen_NewerSchemaRefused: a server older than the database's schema
// refuses to start, saying what to do, and changes nothing.
func TestOpen_NewerSchemaRefused(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	st, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := st.SchemaVersion(ctx)
	st.Close()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES($1, 'from the future')`, v+1); err != nil {
		t.Fatal(err)
	}
	_, err = pgstore.Open(ctx, u, pgstore.Options{})
	if !errors.Is(err, server.ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade the server") {
		t.Fatalf("Open on a newer schema = %v, want one wrapping server.ErrSchemaTooNew", err)
	}
}

// TestBegin_NewerSchemaRefused: a running server whose database a newer
// server migrated meanwhile writes nothing more (it would write rows
// without what the newer schema keeps with them, the checksums of an old
// one).
func TestBegin_NewerSchemaRefused(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	st, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := st.SchemaVersion(ctx)
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES($1, 'from the future')`, v+1); err != nil {
		t.Fatal(err)
	}
	tx, err := st.Begin(ctx, "s")
	if err == nil {
		tx.Rollback()
		t.Fatal("Begin on a newer schema succeeded")
	}
	if !errors.Is(err, server.ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade the server") {
		t.Fatalf("Begin: %v, want one wrapping server.ErrSchemaTooNew", err)
	}
}

// TestOpen_UpgradesSchema1 (issue 15): a database made by a server of schema
// 1 gets a timeline, committed cursors and pass records on upgrade; its
// devices start with committed 0 (their recorded cursor may be a
// prefetched page's) and no pass, and enrollment slots work on old rows.
func TestOpen_UpgradesSchema1(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	init1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(init1),
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations(version, name) VALUES (1, '0001_init.sql')`,
		`INSERT INTO sites(site, seq, created_at) VALUES ('s', 7, 1)`,
		`INSERT INTO devices(id, site, name, role, platform, token_hash, created_at, last_seen, cursor) VALUES ('d1', 's', 'n', 'operator', 'linux', 't1', 1, 2, 7)`,
		`INSERT INTO enroll_failures(addr, at) VALUES ('1.2.3.4', 100)`,
		`INSERT INTO rows VALUES ('s', 'production_records', 'a', 3, 'h3', 'd1', false, '{"created_at":1764979200000}'::bytea)`,
		`INSERT INTO rows VALUES ('s', 'production_records', 'b', 2, 'h2', 'd1', true, '{"created_at":1764979200000}'::bytea)`,
		`INSERT INTO rows VALUES ('s', 'line_configs', 'c', 1, 'h1', 'd1', false, '{}'::bytea)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	c.Close(ctx)
	st, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tl, err := st.Timeline(ctx); err != nil || len(tl) != 36 {
		t.Fatalf("timeline after upgrade: %q, %v", tl, err)
	}
	d, err := st.DeviceByTokenHash(ctx, "t1")
	if err != nil || d.Cursor != 7 || d.Committed != 0 || d.PassHorizon != -1 || d.Verified != -1 {
		t.Fatalf("device after upgrade: %+v, %v", d, err)
	}
	// 0003 (issue 16): the checksums of the rows already stored.
	p, err := st.ReadPage(ctx, "s", 0, 10)
	wantRec := checksum.Sum{Count: 1, Sum: checksum.Hash("production_records", "a", 3)}
	wantLine := checksum.Sum{Count: 1, Sum: checksum.Hash("line_configs", "c", 1)}
	if err != nil || len(p.Sums) != 2 || p.Sums["production_records"] != wantRec || p.Sums["line_configs"] != wantLine {
		t.Fatalf("page checksums after upgrade: %+v, %v", p.Sums, err)
	}
	if _, b, err := st.Checksums(ctx, "s", "production_records"); err != nil || len(b) != 1 || b["production_records:2025-12-06"] != wantRec {
		t.Fatalf("buckets after upgrade: %+v, %v", b, err)
	}
	if _, rows, err := st.BucketRows(ctx, "s", "production_records:2025-12-06", "", 10); err != nil || len(rows) != 1 || rows[0].ID != "a" {
		t.Fatalf("bucket rows after upgrade: %+v, %v", rows, err)
	}
	slot, ok, err := st.TakeEnrollSlot(ctx, "1.2.3.4", 101, 0, 2)
	if err != nil || !ok {
		t.Fatalf("slot after upgrade: %v, %v", ok, err)
	}
	if _, ok, _ := st.TakeEnrollSlot(ctx, "1.2.3.4", 102, 0, 2); ok {
		t.Fatal("a slot over the limit with an old failure")
	}
	if err := st.ReleaseEnrollSlot(ctx, slot); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.EnrollFailures(ctx, "1.2.3.4", 0); n != 1 {
		t.Fatalf("failures after release = %d, want 1", n)
	}
	// 0004 (issue 19): per-site state, written with a row.
	if _, err := st.Meta(ctx, "s", "upstream.cursor"); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("meta after upgrade: %v, want ErrNotFound", err)
	}
	tx, err := st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.SetMeta(ctx, "upstream.cursor", []byte("8")); err != nil {
		t.Fatal(err)
	}
	v, _ := tx.NextSeq(ctx)
	if err := tx.PutRow(ctx, server.StoredRow{Table: "line_configs", ID: "c", Version: v, HLC: "h8", DeviceID: "d1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Meta(ctx, "s", "upstream.cursor"); err != nil || string(m) != "8" {
		t.Fatalf("meta written with a row after upgrade: %q, %v", m, err)
	}
	if w, err := st.Writes(ctx, "s", 7, 10); err != nil || len(w) != 1 || w[0].Version != 8 || w[0].ID != "c" {
		t.Fatalf("writes after upgrade: %+v, %v", w, err)
	}
}

// TestRebuildChecksums_NewSiteMeanwhile: a site's first write that commits
// while `outpost-server checksums rebuild` runs keeps its sums. The rebuild
// locked only the sites that existed (FOR NO KEY UPDATE), so a new site's
// first push went ahead between its read of the rows and its DELETE FROM
// checksums, which then removed the new site's sums: live rows with count
// 0, a device never verified. Here the rebuild is held between the two by
// a row lock on a row it must give a bucket.
func TestRebuildChecksums_NewSiteMeanwhile(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	write := func(st server.Store, site, bucket string) int64 {
		tx, err := st.Begin(ctx, site)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer tx.Rollback()
		v, _ := tx.NextSeq(ctx)
		if err := tx.PutRow(ctx, server.StoredRow{Table: "t", ID: "r", Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`), Bucket: bucket}); err != nil {
			t.Error(err)
		}
		tx.AddSum("t", bucket, checksum.Sum{Count: 1, Sum: checksum.Hash("t", "r", v)})
		if err := tx.Commit(); err != nil {
			t.Error(err)
		}
		return v
	}
	write(a, "old", "t:00")
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE rows SET bucket = '' WHERE site = 'old'`); err != nil {
		t.Fatal(err)
	}
	blocker, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.Exec(ctx, `SELECT 1 FROM rows WHERE site = 'old' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	rebuilt := make(chan error, 1)
	go func() { _, err := a.RebuildChecksums(ctx); rebuilt <- err }()
	time.Sleep(300 * time.Millisecond) // the rebuild has read the rows and waits to give one its bucket
	var v int64
	written := make(chan struct{})
	go func() { v = write(b, "new", "t:01"); close(written) }()
	time.Sleep(300 * time.Millisecond)
	blocker.Rollback(ctx)
	if err := <-rebuilt; err != nil {
		t.Fatal(err)
	}
	<-written
	_, sums, err := b.Checksums(ctx, "new", "t")
	if err != nil {
		t.Fatal(err)
	}
	if want := (checksum.Sum{Count: 1, Sum: checksum.Hash("t", "r", v)}); sums["t:01"] != want {
		t.Fatalf("new site's sums after the rebuild: %+v, want %+v", sums, want)
	}
}
