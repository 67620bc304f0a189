package main

// The device side of a first sync with and without the bookkeeping of the
// device's own checksums (docs/design.md section 8, docs/store.md "The device's
// own checksums"): BENCH_FIRSTSYNC_ROWS production records (default
// 100,000) applied as pulled pages of 5000 in batches of 10 pages, as the
// sync client applies an initial sync, into a fresh SQLCipher store, with
// the checksum triggers (triggers=kept, the app) and with them dropped from
// the file (triggers=dropped: nothing noted, nothing settled; the sums are
// then wrong, so this variant only measures). The variants alternate
// within each b.N. Not a timed test: run
//
//	go test ./backend/store/bench -run '^$' -bench FirstSyncChecksums -benchtime 3x

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

func BenchmarkFirstSyncChecksums(b *testing.B) {
	rows := 100_000
	if v := os.Getenv("BENCH_FIRSTSYNC_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_FIRSTSYNC_ROWS=%q: want a number of rows", v)
		}
		rows = n
	}
	pages := firstSyncPages(b, rows)
	var kept, dropped time.Duration
	for i := range b.N {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, withTriggers := range order {
			d := applyFirstSync(b, pages, withTriggers)
			if withTriggers {
				kept += d
			} else {
				dropped += d
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/kept.Seconds(), "kept-rows/s")
	b.ReportMetric(float64(rows*b.N)/dropped.Seconds(), "dropped-rows/s")
	b.ReportMetric((kept.Seconds()/dropped.Seconds()-1)*100, "cost-%")
}

// firstSyncPages makes the pull pages of a site of n production records over
// 90 days, as the server sends them (decoded with UseNumber, as the client
// does).
func firstSyncPages(b *testing.B, n int) []protocol.PullResponse {
	b.Helper()
	const limit = protocol.MaxPullLimit
	base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	span := int64(90 * 24 * time.Hour / time.Millisecond)
	var out []protocol.PullResponse
	for start := 0; start < n; start += limit {
		var buf bytes.Buffer
		buf.WriteString(`{"changes":[`)
		for i := start; i < min(start+limit, n); i++ {
			if i > start {
				buf.WriteByte(',')
			}
			id := uuid.NewString()
			created := base + int64(i)*span/int64(n)
			fmt.Fprintf(&buf, `{"table":"production_records","id":%q,"version":%d,"hlc":"%015d-00000-dev-1","row":{"id":%q,"line_id":"L%d","product_id":"P-%d","quantity":%d,"operator_id":"op-%d","created_at":%d,"updated_at":%d,"deleted_at":null,"server_updated_at":%d}}`,
				id, i+1, created, id, i%20, i%500, i%1000, i%50, created, created, created+5)
		}
		fmt.Fprintf(&buf, `],"cursor":%d,"has_more":%t}`, min(start+limit, n), start+limit < n)
		var page protocol.PullResponse
		dec := json.NewDecoder(&buf)
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			b.Fatal(err)
		}
		out = append(out, page)
	}
	return out
}

// applyFirstSync applies pages to a fresh store, 10 pages per transaction,
// and returns the time it took (opening the store excluded).
func applyFirstSync(b *testing.B, pages []protocol.PullResponse, withTriggers bool) time.Duration {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	o := store.Options{Path: filepath.Join(dir, "outpost.db"), Key: bytes.Repeat([]byte{9}, 32)}
	s, err := store.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	if !withTriggers {
		s.Close()
		dropChecksumTriggers(b, o)
		if s, err = store.Open(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	defer s.Close()
	t0 := time.Now()
	for p := 0; p < len(pages); p += 10 {
		batch := pages[p:min(p+10, len(pages))]
		k := 0
		if _, _, err := s.ApplyPullPages(ctx, func() (protocol.PullResponse, bool) {
			if k == len(batch) {
				return protocol.PullResponse{}, false
			}
			k++
			return batch[k-1], true
		}); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// dropChecksumTriggers removes the triggers that note rows for the
// checksums (migration 0007) from the store's file.
func dropChecksumTriggers(b *testing.B, o store.Options) {
	b.Helper()
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(o.Path)}).String()
	db, err := sql.Open("sqlite3", u+"?_pragma_key=x'"+hex.EncodeToString(o.Key)+"'")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'sync_known_%'`)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			b.Fatal(err)
		}
		names = append(names, n)
	}
	rs.Close()
	if len(names) == 0 {
		b.Fatal("no checksum trigger found (sync_known_*)")
	}
	for _, n := range names {
		if _, err := db.Exec("DROP TRIGGER " + n); err != nil {
			b.Fatal(err)
		}
	}
}
