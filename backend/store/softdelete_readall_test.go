package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestStore_SoftDeletePath pins what Delete and Restore did before they
// shared one path per table (issue 18): a delete or restore is an edit
// (new hlc, pending), one that finds the row already so changes nothing
// (same hlc, same row), and a missing row is ErrNotFound — for production
// records and line configurations alike.
func TestStore_SoftDeletePath(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	missing := "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"

	r, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if same, err := s.RestoreRecord(ctx, r.ID); err != nil || !reflect.DeepEqual(same, r) {
		t.Fatalf("restore of a live record = %+v, %v; want %+v unchanged", same, err, r)
	}
	d, err := s.DeleteRecord(ctx, r.ID)
	if err != nil || d.DeletedAt == nil || d.HLC <= r.HLC || !d.Pending() {
		t.Fatalf("delete record = %+v, %v", d, err)
	}
	rs, err := s.RestoreRecord(ctx, r.ID)
	if err != nil || rs.DeletedAt != nil || rs.HLC <= d.HLC || !rs.Pending() {
		t.Fatalf("restore record = %+v, %v", rs, err)
	}
	if again, err := s.RestoreRecord(ctx, r.ID); err != nil || !reflect.DeepEqual(again, rs) {
		t.Fatalf("second restore = %+v, %v; want %+v", again, err, rs)
	}

	c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R-1"})
	if err != nil {
		t.Fatal(err)
	}
	if same, err := s.RestoreLineConfig(ctx, c.ID); err != nil || !reflect.DeepEqual(same, c) {
		t.Fatalf("restore of a live line config = %+v, %v; want %+v unchanged", same, err, c)
	}
	dc, err := s.DeleteLineConfig(ctx, c.ID)
	if err != nil || dc.DeletedAt == nil || dc.HLC <= c.HLC || !dc.Pending() {
		t.Fatalf("delete line config = %+v, %v", dc, err)
	}
	if again, err := s.DeleteLineConfig(ctx, c.ID); err != nil || !reflect.DeepEqual(again, dc) {
		t.Fatalf("second delete = %+v, %v; want %+v", again, err, dc)
	}
	if got, err := s.GetLineConfig(ctx, c.ID); err != nil || !reflect.DeepEqual(got, dc) {
		t.Fatalf("stored %+v, %v; want %+v", got, err, dc)
	}
	rc, err := s.RestoreLineConfig(ctx, c.ID)
	if err != nil || rc.DeletedAt != nil || rc.HLC <= dc.HLC || !rc.Pending() {
		t.Fatalf("restore line config = %+v, %v", rc, err)
	}

	for name, f := range map[string]func() error{
		"delete line config":  func() error { _, err := s.DeleteLineConfig(ctx, missing); return err },
		"restore line config": func() error { _, err := s.RestoreLineConfig(ctx, missing); return err },
	} {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s missing = %v, want ErrNotFound", name, err)
		}
	}
}

// TestStore_EmptyListsAreJSONArrays: the read loops now in readAll give the
// WebView [] for no row, never null, as the loops they replaced did.
func TestStore_EmptyListsAreJSONArrays(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	lists := map[string]func() (any, error){
		"conflicts":    func() (any, error) { return s.Conflicts(ctx, false) },
		"open":         func() (any, error) { return s.Conflicts(ctx, true) },
		"resolutions":  func() (any, error) { return s.Resolutions(ctx) },
		"site rows":    func() (any, error) { return s.SiteRows(ctx, protocol.TableLines) },
		"line configs": func() (any, error) { return s.ListLineConfigs(ctx, LineConfigFilter{IncludeDeleted: true}) },
		"records": func() (any, error) {
			p, err := s.ListRecords(ctx, RecordFilter{})
			return p.Records, err
		},
	}
	for name, f := range lists {
		v, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, _ := json.Marshal(v); string(b) != "[]" {
			t.Errorf("%s of an empty store = %s, want []", name, b)
		}
	}
	// A page past the end is [] too (the count says there is nothing to
	// read); so is a page that matches no row.
	if _, err := s.CreateRecord(ctx, validInput()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []RecordFilter{{Offset: 5}, {LineID: "L9"}} {
		p, err := s.ListRecords(ctx, f)
		if b, _ := json.Marshal(p.Records); err != nil || string(b) != "[]" {
			t.Errorf("ListRecords(%+v) = %s, %v; want []", f, b, err)
		}
	}
}
