package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestStore_Rekey(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "outpost.db")
	oldKey, newKey := testKey(1), testKey(100)
	s := openTest(t, Options{Path: p, Key: oldKey})
	r, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Rekey(ctx, []byte("short")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("short rekey = %v", err)
	}
	if err := s.Rekey(ctx, newKey); err != nil {
		t.Fatalf("Rekey: %v", err)
	}
	// The open store keeps working, readers and writer, under the new key.
	if _, err := s.GetRecord(ctx, r.ID); err != nil {
		t.Fatalf("read after rekey: %v", err)
	}
	r2, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatalf("write after rekey: %v", err)
	}
	if err := Verify(ctx, p, newKey); err != nil {
		t.Fatalf("Verify new key while open: %v", err)
	}
	s.Close()

	if _, err := Open(ctx, Options{Path: p, Key: oldKey}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("old key after rekey: %v", err)
	}
	s2 := openTest(t, Options{Path: p, Key: newKey})
	for _, id := range []string{r.ID, r2.ID} {
		if _, err := s2.GetRecord(ctx, id); err != nil {
			t.Fatalf("GetRecord %s under new key: %v", id, err)
		}
	}
}

func TestStore_RekeyUnencrypted(t *testing.T) {
	s := openTest(t, Options{Unencrypted: true})
	if err := s.Rekey(context.Background(), testKey(3)); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("Rekey plain = %v", err)
	}
}
