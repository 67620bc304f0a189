package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

func p[T any](v T) *T { return &v }

func TestStore_LineConfigs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	in := LineConfigInput{LineID: "L2", Recipe: "R-9", TargetRatePerHour: p(int64(1200)), TemperatureC: p(81.5), Notes: p("clean nozzle\nevery shift")}
	c, err := s.CreateLineConfig(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.SpeedRPM != nil || *c.TemperatureC != 81.5 || !c.Pending() || c.HLC == "" {
		t.Fatalf("created %+v", c)
	}
	got, err := s.GetLineConfig(ctx, c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("GetLineConfig = %+v, %v; want %+v", got, err, c)
	}

	in2 := in
	in2.Notes = nil // clears
	in2.SpeedRPM = p(int64(60))
	u, err := s.UpdateLineConfig(ctx, c.ID, in2)
	if err != nil || u.Notes != nil || *u.SpeedRPM != 60 || u.HLC <= c.HLC {
		t.Fatalf("updated %+v, %v", u, err)
	}
	if got, _ := s.GetLineConfig(ctx, c.ID); !reflect.DeepEqual(got, u) {
		t.Fatalf("stored %+v, returned %+v", got, u)
	}
	if same, err := s.UpdateLineConfig(ctx, c.ID, in2); err != nil || !reflect.DeepEqual(same, u) {
		t.Fatalf("no-op update = %+v, %v", same, err)
	}

	other, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R-1"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListLineConfigs(ctx, LineConfigFilter{})
	if err != nil || len(list) != 2 || list[0].ID != other.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list, _ := s.ListLineConfigs(ctx, LineConfigFilter{LineID: "L2"}); len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("list L2 = %+v", list)
	}

	d, err := s.DeleteLineConfig(ctx, c.ID)
	if err != nil || d.DeletedAt == nil {
		t.Fatalf("deleted %+v, %v", d, err)
	}
	if _, err := s.UpdateLineConfig(ctx, c.ID, in); !errors.Is(err, ErrDeleted) {
		t.Fatalf("update deleted = %v", err)
	}
	if list, _ := s.ListLineConfigs(ctx, LineConfigFilter{}); len(list) != 1 {
		t.Fatalf("live list = %d", len(list))
	}
	if list, _ := s.ListLineConfigs(ctx, LineConfigFilter{IncludeDeleted: true}); len(list) != 2 {
		t.Fatalf("full list = %d", len(list))
	}
	if r, err := s.RestoreLineConfig(ctx, c.ID); err != nil || r.DeletedAt != nil {
		t.Fatalf("restore = %+v, %v", r, err)
	}
	if _, err := s.GetLineConfig(ctx, "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing = %v", err)
	}
}

func TestStore_LineConfigValidation(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tests := []struct {
		name string
		in   LineConfigInput
		code string
		col  string
	}{
		{"minimal", LineConfigInput{LineID: "L", Recipe: "R"}, "", ""},
		{"no recipe", LineConfigInput{LineID: "L"}, protocol.CodeMissingValue, "recipe"},
		{"no line", LineConfigInput{Recipe: "R"}, protocol.CodeMissingValue, "line_id"},
		{"negative rate", LineConfigInput{LineID: "L", Recipe: "R", TargetRatePerHour: p(int64(-5))}, protocol.CodeInvalidValue, "target_rate_per_hour"},
		{"negative rpm", LineConfigInput{LineID: "L", Recipe: "R", SpeedRPM: p(int64(-1))}, protocol.CodeInvalidValue, "speed_rpm"},
		{"negative temperature ok", LineConfigInput{LineID: "L", Recipe: "R", TemperatureC: p(-40.0)}, "", ""},
		{"notes 4000", LineConfigInput{LineID: "L", Recipe: "R", Notes: p(strings.Repeat("n", 4000))}, "", ""},
		{"notes 4001", LineConfigInput{LineID: "L", Recipe: "R", Notes: p(strings.Repeat("n", 4001))}, protocol.CodeTooLong, "notes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateLineConfig(ctx, tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ve, ok := protocol.AsValidation(err); !ok || ve.Code != tc.code || ve.Column != tc.col {
				t.Fatalf("err = %v, want %s on %s", err, tc.code, tc.col)
			}
		})
	}
}
