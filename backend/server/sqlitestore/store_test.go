package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/storetest"
)

func open(t *testing.T) server.Store {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestSiteData(t *testing.T) { storetest.RunSiteData(t, open) }

func TestOpen_MigratesOnceAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#.db") // URI-special characters in the path
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	tx, err := st.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.NextSeq(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	ss, err := st.SiteState(ctx, "s")
	if err != nil || ss.Seq != 1 {
		t.Fatalf("after reopen seq = %d, %v", ss.Seq, err)
	}
}
