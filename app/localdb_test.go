package app

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// storeWritesLocalOnly are the store's people-facing writes that never
// reach the server, so sync is not told about them.
var storeWritesLocalOnly = []string{
	"PutSigninAttempts", // failed PINs are counted on this terminal only
}

// TestLocalDB_WritesNotifySync: every write people make through the local
// database tells sync once when it succeeds, and not when it fails; and
// every store method named like such a write (Create, Update, Delete,
// Restore, Put) is one of them or named local-only above, so a new write
// path cannot skip the notification unnoticed.
func TestLocalDB_WritesNotifySync(t *testing.T) {
	dir := t.TempDir()
	o, err := OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db := o.db
	t.Cleanup(func() { db.Close() })
	told := 0
	db.wrote = func() { told++ }
	ctx := context.Background()
	in := store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 5, OperatorID: "OP-1"}
	lc := store.LineConfigInput{LineID: "L1", Recipe: "R-1"}
	var recID, lcID string

	writes := []struct {
		method string
		write  func() error
	}{
		{"CreateRecord", func() error { r, err := db.CreateRecord(ctx, in); recID = r.ID; return err }},
		{"UpdateRecord", func() error { _, err := db.UpdateRecord(ctx, recID, in); return err }},
		{"DeleteRecord", func() error { _, err := db.DeleteRecord(ctx, recID); return err }},
		{"RestoreRecord", func() error { _, err := db.RestoreRecord(ctx, recID); return err }},
		{"CreateRecords", func() error { _, err := db.CreateRecords(ctx, []store.RecordInput{in, in}); return err }},
		{"CreateLineConfig", func() error { c, err := db.CreateLineConfig(ctx, lc); lcID = c.ID; return err }},
		{"UpdateLineConfig", func() error { _, err := db.UpdateLineConfig(ctx, lcID, lc); return err }},
		{"DeleteLineConfig", func() error { _, err := db.DeleteLineConfig(ctx, lcID); return err }},
		{"RestoreLineConfig", func() error { _, err := db.RestoreLineConfig(ctx, lcID); return err }},
		{"PutSiteRow", func() error {
			_, err := db.PutSiteRow(ctx, protocol.TableLines, map[string]any{"code": "L1", "name": "Line 1", "active": true})
			return err
		}},
	}
	covered := slices.Clone(storeWritesLocalOnly)
	for _, w := range writes {
		covered = append(covered, w.method)
		t.Run(w.method, func(t *testing.T) {
			before := told
			if err := w.write(); err != nil {
				t.Fatal(err)
			}
			if told != before+1 {
				t.Fatalf("sync told %d times, want once", told-before)
			}
		})
	}

	t.Run("failed write", func(t *testing.T) {
		before := told
		if _, err := db.UpdateRecord(ctx, "no-such-record", in); err == nil {
			t.Fatal("update of a missing record succeeded")
		}
		if told != before {
			t.Fatalf("sync told %d times about a failed write", told-before)
		}
	})

	t.Run("every store write covered", func(t *testing.T) {
		st := reflect.TypeOf((*store.Store)(nil))
		for i := range st.NumMethod() {
			name := st.Method(i).Name
			for _, verb := range []string{"Create", "Update", "Delete", "Restore", "Put"} {
				if strings.HasPrefix(name, verb) && !slices.Contains(covered, name) {
					t.Errorf("store.%s writes: add it to localDB (it syncs) or to storeWritesLocalOnly", name)
				}
			}
		}
	})
}
