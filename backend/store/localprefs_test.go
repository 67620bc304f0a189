package store

import (
	"context"
	"testing"
)

// TestStore_LocalPrefs: a terminal's preferences are kept in the encrypted
// meta table, apart from the sync state: they survive ClearEnrollment, and
// "" removes one.
func TestStore_LocalPrefs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if v, err := s.LocalPref(ctx, "last_operator"); err != nil || v != "" {
		t.Fatalf("unset pref = %q, %v", v, err)
	}
	if err := s.SetLocalPref(ctx, "last_operator", "BADGE-4711"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearEnrollment(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := s.LocalPref(ctx, "last_operator"); err != nil || v != "BADGE-4711" {
		t.Fatalf("pref after ClearEnrollment = %q, %v", v, err)
	}
	if id, err := s.DeviceID(ctx); err != nil || id != "" {
		t.Fatalf("a pref shows as sync state: device id %q, %v", id, err)
	}
	if err := s.SetLocalPref(ctx, "last_operator", ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.LocalPref(ctx, "last_operator"); v != "" {
		t.Fatalf("removed pref = %q", v)
	}
	if err := s.SetLocalPref(ctx, "", "x"); err == nil {
		t.Fatal("an empty key was accepted")
	}
}
