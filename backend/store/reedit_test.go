package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// pushConflict pushes every pending row and answers the one named id with
// conflict at version, the server's row being theirs.
func pushConflict(t *testing.T, s *Store, id string, version int64, theirs protocol.Row) {
	t.Helper()
	b, req := pushAll(t, s)
	if len(req.Changes) != 1 || req.Changes[0].ID != id {
		t.Fatalf("batch = %+v", req.Changes)
	}
	if _, err := s.ApplyPushResults(context.Background(), b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
		{Table: req.Changes[0].Table, ID: id, Status: protocol.StatusConflict, Version: v(version), ConflictID: uuid.NewString(), Row: theirs},
	}}); err != nil {
		t.Fatal(err)
	}
}

// A re-edit of a line configuration awaiting review keeps what the person
// changed and takes theirs' value for every other field; it is pushed on
// theirs' version. A second re-edit is taken as it is (it already started
// from theirs).
func TestStore_ReEditUnderReviewStartsFromTheirs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: p(120.0), Notes: p("mine")})
	if err != nil {
		t.Fatal(err)
	}
	theirs := protocol.Row{"id": c.ID, "line_id": "L1", "recipe": "R", "target_rate_per_hour": nil, "temperature_c": json.Number("80"),
		"speed_rpm": json.Number("500"), "notes": "theirs", "updated_by": nil, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
		"deleted_at": nil, "server_updated_at": int64(5)}
	pushConflict(t, s, c.ID, 7, theirs)
	// The form shows the local row (120, "mine") and the person changes
	// only the recipe.
	got, err := s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L1", Recipe: "R2", TemperatureC: p(120.0), Notes: p("mine")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Recipe != "R2" || got.TemperatureC == nil || *got.TemperatureC != 80 || got.SpeedRPM == nil || *got.SpeedRPM != 500 || got.Notes == nil || *got.Notes != "theirs" {
		t.Fatalf("re-edit = %+v; want theirs (80, 500, theirs) with recipe R2", got)
	}
	// A second edit is the person's, as the form now shows it.
	got, err = s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L1", Recipe: "R2", TemperatureC: p(90.0), SpeedRPM: p(int64(500)), Notes: p("theirs")})
	if err != nil || *got.TemperatureC != 90 {
		t.Fatalf("second re-edit = %+v, %v", got, err)
	}
	_, req := pushAll(t, s)
	if len(req.Changes) != 1 || req.Changes[0].BaseVersion != 7 {
		t.Fatalf("pushed %+v; want the re-edit on theirs' version 7", req.Changes)
	}
	row, _ := protocol.DecodeRow(req.Changes[0].Row)
	if row["recipe"] != "R2" || row["notes"] != "theirs" {
		t.Fatalf("pushed row %v", row)
	}
}

// The same for site data, whose edits name only some fields.
func TestStore_ReEditUnderReviewStartsFromTheirs_SiteData(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	r, err := s.PutSiteRow(ctx, protocol.TableLines, map[string]any{"code": "L1", "name": "Mine", "area": "Hall A", "active": true})
	if err != nil {
		t.Fatal(err)
	}
	theirs := protocol.Row{}
	for k, v := range r.Fields {
		theirs[k] = v
	}
	theirs["name"], theirs["area"] = "Theirs", "Hall B"
	pushConflict(t, s, r.ID(), 4, theirs)
	got, err := s.PutSiteRow(ctx, protocol.TableLines, map[string]any{"code": "L1", "name": "Mine", "area": "Hall C", "active": true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Text("area") != "Hall C" || got.Text("name") != "Theirs" {
		t.Fatalf("re-edit = %v; want theirs' name with area Hall C", got.Fields)
	}
}
