package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// TestStore_EnrollingAgain (issue 15): a device that had another id at
// the same site — enrolled, or disconnected since — enrolls again as after
// a restore: its own accepted writes are pending on base 0, a timeline
// pass comes before the push, and the rows keep their hlcs (so a write the
// server holds comes back clean) until a push batch re-stamps them with
// the new id, keeping time and counter. At another site nothing of the
// former site's is pushed again. A restart in between keeps the former
// ids.
func TestStore_EnrollingAgain(t *testing.T) {
	const (
		dev1 = "3b241101-e2bb-4255-8caf-4136c566a962"
		dev2 = "8f0c2f6e-62a4-4b1e-9d55-0a8a5a1d2c11"
	)
	for _, c := range []struct {
		name      string
		unenroll  bool
		site      string
		reopen    bool
		ownPushed bool
	}{
		{"same site", false, "s1", false, true},
		{"same site, site not named", false, "", false, true},
		{"same site after a disconnect", true, "s1", false, true},
		{"same site, restarted before the push", false, "s1", true, true},
		{"another site", false, "s2", false, false},
		{"another site after a disconnect", true, "s2", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "outpost.db")
			s := openTest(t, Options{Path: path})
			if err := s.SetEnrollment(ctx, dev1, "s1"); err != nil {
				t.Fatal(err)
			}
			accepted, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			pushApplied(t, s, 0, map[string]int64{accepted.ID: 7})
			pending, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			if c.unenroll {
				if err := s.ClearEnrollment(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetEnrollment(ctx, dev2, c.site); err != nil {
				t.Fatal(err)
			}
			st, err := s.RowState(ctx, protocol.TableProductionRecords, accepted.ID)
			if err != nil {
				t.Fatal(err)
			}
			if pushed := st == StatePending; pushed != c.ownPushed {
				t.Fatalf("the accepted write is %s after enrolling again; pushed again: %v, want %v", st, pushed, c.ownPushed)
			}
			ps, err := s.PullState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.ownPushed {
				if ps.Pass != PassTimeline || ps.Cursor != 0 || ps.Timeline != "" {
					t.Fatalf("pull state %+v, want a timeline pass from 0, timeline adopted from the next pull", ps)
				}
				got, _ := s.GetRecord(ctx, accepted.ID)
				if got.HLC != accepted.HLC || got.Version != 0 {
					t.Fatalf("accepted write: hlc %s version %d, want its own hlc %s kept through the pass, on base 0", got.HLC, got.Version, accepted.HLC)
				}
			}
			if c.reopen {
				s.Close()
				s = openTest(t, Options{Path: path})
			}
			if c.ownPushed {
				// End the pass as a server that holds nothing would.
				if _, _, err := s.ApplyPullPages(ctx, onePage(protocol.PullResponse{Changes: []protocol.PullChange{}, Cursor: 0, Timeline: "t2"})); err != nil {
					t.Fatal(err)
				}
			}
			b, err := s.NewBatch(ctx, 100)
			if err != nil || b == nil {
				t.Fatalf("batch %v, %v", b, err)
			}
			var req protocol.PushRequest
			if err := json.Unmarshal(b.Body, &req); err != nil {
				t.Fatal(err)
			}
			sent := map[string]protocol.Change{}
			for _, ch := range req.Changes {
				sent[ch.ID] = ch
			}
			if _, ok := sent[accepted.ID]; ok != c.ownPushed {
				t.Fatalf("accepted write in the batch: %v, want %v", ok, c.ownPushed)
			}
			want := map[string]string{pending.ID: pending.HLC}
			if c.ownPushed {
				want[accepted.ID] = accepted.HLC
			}
			for id, was := range want {
				ch, ok := sent[id]
				if !ok {
					t.Fatalf("row %s not pushed", id)
				}
				ts, err := hlc.Parse(ch.HLC)
				old, _ := hlc.Parse(was)
				if err != nil || ts.Node != dev2 || ts.Wall != old.Wall || ts.Counter != old.Counter {
					t.Errorf("row %s pushed under %s (was %s): want the new id, same time and counter", id, ch.HLC, was)
				}
				if c.ownPushed && ch.BaseVersion != 0 {
					t.Errorf("row %s pushed on base %d, want 0", id, ch.BaseVersion)
				}
				got, _ := s.GetRecord(ctx, id)
				if got.HLC != ch.HLC {
					t.Errorf("row %s holds hlc %s, its push %s", id, got.HLC, ch.HLC)
				}
			}
		})
	}
}

// onePage feeds ApplyPullPages one page.
func onePage(p protocol.PullResponse) func() (protocol.PullResponse, bool) {
	done := false
	return func() (protocol.PullResponse, bool) {
		if done {
			return protocol.PullResponse{}, false
		}
		done = true
		return p, true
	}
}

// TestStore_EnrollingAgainKnownTimeline (review of issue 15): a device
// that knows its server's timeline and enrolls again at the same site
// (directly, or after a disconnect) resets nothing before its pass tells
// whether the server lost anything: its own accepted writes stay clean,
// pending edits keep their bases, unanswered batches go back to pending,
// and a pass from 0 ends before the next push. A pass on the same
// timeline that reaches the cursor the device had reached leaves them so
// (pushed under the new id, same time and counter, on their bases);
// another timeline, or a pass that ends below that cursor (a restore
// nobody marked), is a timeline change.
func TestStore_EnrollingAgainKnownTimeline(t *testing.T) {
	const (
		dev1 = "3b241101-e2bb-4255-8caf-4136c566a962"
		dev2 = "8f0c2f6e-62a4-4b1e-9d55-0a8a5a1d2c11"
	)
	for _, c := range []struct {
		name     string
		unenroll bool
		page     protocol.PullResponse
		changed  bool
	}{
		{"same server", false, protocol.PullResponse{Timeline: "t1", Cursor: 9}, false},
		{"same server after a disconnect", true, protocol.PullResponse{Timeline: "t1", Cursor: 9}, false},
		{"restored, marked", false, protocol.PullResponse{Timeline: "t2", Cursor: 9}, true},
		{"restored, not marked", false, protocol.PullResponse{Timeline: "t1", Cursor: 3}, true},
		{"restored, not marked, after a disconnect", true, protocol.PullResponse{Timeline: "t1", Cursor: 3}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, Options{Path: filepath.Join(t.TempDir(), "outpost.db")})
			if err := s.SetEnrollment(ctx, dev1, "s1"); err != nil {
				t.Fatal(err)
			}
			accepted, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			edited, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			page := func(cursor int64, rs ...Record) protocol.PullResponse {
				p := protocol.PullResponse{Timeline: "t1", Cursor: cursor, Changes: []protocol.PullChange{}}
				for _, r := range rs {
					got, err := s.DumpTable(ctx, protocol.TableProductionRecords)
					if err != nil {
						t.Fatal(err)
					}
					p.Changes = append(p.Changes, protocol.PullChange{Table: protocol.TableProductionRecords, ID: r.ID, Version: cursor, HLC: r.HLC, Row: got[r.ID].Row})
				}
				return p
			}
			if _, _, err := s.ApplyPullPages(ctx, onePage(page(8, accepted, edited))); err != nil {
				t.Fatal(err)
			}
			// An edit in flight, and one not sent yet.
			in := validInput()
			in.Quantity++
			if _, err := s.UpdateRecord(ctx, edited.ID, in); err != nil {
				t.Fatal(err)
			}
			if b, err := s.NewBatch(ctx, 100); err != nil || b == nil {
				t.Fatalf("batch %v, %v", b, err)
			}
			pending, err := s.CreateRecord(ctx, validInput())
			if err != nil {
				t.Fatal(err)
			}
			if c.unenroll {
				if err := s.ClearEnrollment(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetEnrollment(ctx, dev2, "s1"); err != nil {
				t.Fatal(err)
			}
			ps, err := s.PullState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ps.Pass != PassReenroll || ps.Cursor != 0 || ps.Timeline != "t1" {
				t.Fatalf("pull state %+v, want a re-enrollment pass from 0 on timeline t1", ps)
			}
			if b, err := s.OpenBatch(ctx); err != nil || b != nil {
				t.Fatalf("open batch %v, %v: want the batch sent under the former id dropped", b, err)
			}
			rows, err := s.DumpTable(ctx, protocol.TableProductionRecords)
			if err != nil {
				t.Fatal(err)
			}
			if r := rows[accepted.ID]; r.State != StateClean || r.Version != 8 {
				t.Fatalf("accepted write %s at version %d, want clean at 8", r.State, r.Version)
			}
			if r := rows[edited.ID]; r.State != StatePending || r.Version != 8 {
				t.Fatalf("edit in flight %s on base %d, want pending on 8", r.State, r.Version)
			}
			p := c.page
			p.Changes = page(c.page.Cursor, accepted).Changes
			_, _, err = s.ApplyPullPages(ctx, onePage(p))
			if c.changed {
				if !errors.Is(err, ErrTimelineChanged) {
					t.Fatalf("pass ending %+v: %v, want a timeline change", c.page, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.NewBatch(ctx, 100)
			if err != nil || b == nil {
				t.Fatalf("batch %v, %v", b, err)
			}
			var req protocol.PushRequest
			if err := json.Unmarshal(b.Body, &req); err != nil {
				t.Fatal(err)
			}
			sent := map[string]protocol.Change{}
			for _, ch := range req.Changes {
				sent[ch.ID] = ch
			}
			if _, ok := sent[accepted.ID]; ok || len(sent) != 2 {
				t.Fatalf("batch %+v, want the two edits only", req.Changes)
			}
			for id, base := range map[string]int64{edited.ID: 8, pending.ID: 0} {
				ch, ok := sent[id]
				ts, err := hlc.Parse(ch.HLC)
				if !ok || err != nil || ts.Node != dev2 || ch.BaseVersion != base {
					t.Errorf("row %s pushed %v under %s on base %d, want the new id on base %d", id, ok, ch.HLC, ch.BaseVersion, base)
				}
			}
		})
	}
}

// TestStore_EnrollingAtAnotherSiteStartsOver (review of issue 15): enrolled
// at another site without a disconnect first (Enroll does not refuse it),
// the device must not pull the other site's feed from the former site's
// cursor (it would miss every change below it, and keep the former site's
// rows and conflict records forever), nor re-send the batch it sent under
// its former id there (refused as invalid_hlc): it starts a full pass from
// 0 that removes what the new site does not hold, and its edits not sent
// yet go as new rows (base 0) under the new id, as after a disconnect.
func TestStore_EnrollingAtAnotherSiteStartsOver(t *testing.T) {
	const (
		dev1 = "3b241101-e2bb-4255-8caf-4136c566a962"
		dev2 = "8f0c2f6e-62a4-4b1e-9d55-0a8a5a1d2c11"
	)
	ctx := context.Background()
	s := openTest(t, Options{Path: filepath.Join(t.TempDir(), "outpost.db")})
	if err := s.SetEnrollment(ctx, dev1, "s1"); err != nil {
		t.Fatal(err)
	}
	clean, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	edited, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.DumpTable(ctx, protocol.TableProductionRecords)
	if err != nil {
		t.Fatal(err)
	}
	p := protocol.PullResponse{Timeline: "t1", Cursor: 8, Changes: []protocol.PullChange{}}
	for _, r := range []Record{clean, edited} {
		p.Changes = append(p.Changes, protocol.PullChange{Table: protocol.TableProductionRecords, ID: r.ID, Version: 8, HLC: r.HLC, Row: rows[r.ID].Row})
	}
	if _, _, err := s.ApplyPullPages(ctx, onePage(p)); err != nil {
		t.Fatal(err)
	}
	in := validInput()
	in.Quantity++
	if _, err := s.UpdateRecord(ctx, edited.ID, in); err != nil {
		t.Fatal(err)
	}
	if b, err := s.NewBatch(ctx, 100); err != nil || b == nil {
		t.Fatalf("batch %v, %v", b, err)
	}
	if err := s.SetEnrollment(ctx, dev2, "s2"); err != nil {
		t.Fatal(err)
	}
	ps, err := s.PullState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Cursor != 0 || ps.Pass == "" {
		t.Fatalf("pull state %+v at the new site, want a full pass from 0", ps)
	}
	if b, err := s.OpenBatch(ctx); err != nil || b != nil {
		t.Fatalf("open batch %v, %v: want the batch sent under the former id at the former site dropped", b, err)
	}
	// The new site's server (same server, so same timeline) holds nothing.
	if _, _, err := s.ApplyPullPages(ctx, onePage(protocol.PullResponse{Timeline: "t1", Cursor: 0, Changes: []protocol.PullChange{}})); err != nil {
		t.Fatal(err)
	}
	rows, err = s.DumpTable(ctx, protocol.TableProductionRecords)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := rows[clean.ID]; ok {
		t.Errorf("the former site's accepted row is still held (%s) at the new site", r.State)
	}
	b, err := s.NewBatch(ctx, 100)
	if err != nil || b == nil {
		t.Fatalf("batch %v, %v", b, err)
	}
	var req protocol.PushRequest
	if err := json.Unmarshal(b.Body, &req); err != nil {
		t.Fatal(err)
	}
	if len(req.Changes) != 1 || req.Changes[0].ID != edited.ID || req.Changes[0].BaseVersion != 0 {
		t.Fatalf("batch %+v, want the unsent edit alone, on base 0", req.Changes)
	}
	if ts, err := hlc.Parse(req.Changes[0].HLC); err != nil || ts.Node != dev2 {
		t.Errorf("unsent edit pushed under %s, want the new id", req.Changes[0].HLC)
	}
}
