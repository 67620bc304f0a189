package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

func TestStore_ResolutionQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outpost.db")
	s := openTest(t, Options{Path: path})
	if got, err := s.Resolutions(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty queue: %v, %v", got, err)
	}
	r, err := s.QueueResolution(ctx, Resolution{ConflictID: "c1", Row: protocol.Row{"temperature_c": 185.5}, BaseVersion: 7, Reason: "why"})
	if err != nil || r.HLC == "" || r.State != ResolutionQueued {
		t.Fatalf("queue: %+v, %v", r, err)
	}
	// A second decision on the same conflict replaces the first.
	r2, err := s.QueueResolution(ctx, Resolution{ConflictID: "c1", Row: protocol.Row{"temperature_c": 190.0}, BaseVersion: 7, Reason: "better",
		PersonID: "mgr-1", PersonName: `Max "the boss" Müller`})
	if err != nil || r2.HLC <= r.HLC {
		t.Fatalf("requeue: %+v, %v (hlc must grow)", r2, err)
	}
	if err := s.MarkResolutionStale(ctx, "c1", "", "stale_base: moved on", protocol.Row{"temperature_c": 200.0}, 9); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkResolutionStale(ctx, "nope", "", "x", nil, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale of an unknown decision: %v", err)
	}
	// The queue survives a restart.
	s.Close()
	s = openTest(t, Options{Path: path})
	got, err := s.Resolutions(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	g := got[0]
	if g.State != ResolutionStale || g.StaleVersion != 9 || g.StaleRow["temperature_c"] != 200.0 || g.Reason != "better" || g.BaseVersion != 7 ||
		g.PersonID != "mgr-1" || g.PersonName != `Max "the boss" Müller` {
		t.Fatalf("stored decision: %+v", g)
	}
	if err := s.DropResolution(ctx, "c1", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolutions(ctx); len(got) != 0 {
		t.Fatalf("after drop: %+v", got)
	}
}

// The answer to a decision being sent acts on that decision only: one the
// manager queued meanwhile (a newer hlc) is neither dropped nor marked
// stale by it, and stays queued to be sent.
func TestStore_ResolutionAnswerActsOnItsOwnDecision(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		answer    func(s *Store, sent Resolution) error
		wantState string // of the newer decision, "" = gone
	}{
		{"accepted, newer queued meanwhile", func(s *Store, sent Resolution) error { return s.DropResolution(ctx, "c1", sent.HLC) }, ResolutionQueued},
		{"refused, newer queued meanwhile", func(s *Store, sent Resolution) error {
			return s.MarkResolutionStale(ctx, "c1", sent.HLC, "stale_base: moved on", protocol.Row{"recipe": "X"}, 9)
		}, ResolutionQueued},
		{"drop of whichever is queued", func(s *Store, sent Resolution) error { return s.DropResolution(ctx, "c1", "") }, ""},
		{"stale of whichever is queued", func(s *Store, sent Resolution) error {
			return s.MarkResolutionStale(ctx, "c1", "", "stale_base: moved on", nil, 9)
		}, ResolutionStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Options{})
			sent, err := s.QueueResolution(ctx, Resolution{ConflictID: "c1", Row: protocol.Row{"recipe": "A"}, BaseVersion: 7})
			if err != nil {
				t.Fatal(err)
			}
			newer, err := s.QueueResolution(ctx, Resolution{ConflictID: "c1", Row: protocol.Row{"recipe": "B"}, BaseVersion: 9})
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.answer(s, sent); err != nil {
				t.Fatal(err)
			}
			got, err := s.Resolutions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantState == "" {
				if len(got) != 0 {
					t.Fatalf("queue = %+v, want empty", got)
				}
				return
			}
			if len(got) != 1 || got[0].HLC != newer.HLC || got[0].Row["recipe"] != "B" || got[0].State != tc.wantState {
				t.Fatalf("queue = %+v, want the newer decision %s", got, tc.wantState)
			}
		})
	}
	// The answer to a decision no longer queued changes nothing.
	s := openTest(t, Options{})
	if err := s.DropResolution(ctx, "gone", "000000000000001-00000-dev"); err != nil {
		t.Fatalf("drop of a decision no longer queued: %v", err)
	}
}
