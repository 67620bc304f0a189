package app

import (
	"testing"
	"time"
)

// TestAppRefusals_NameTheirRule: refusals that share a code name the rule
// their message in the operator's language is chosen by (issue 21).
func TestAppRefusals_NameTheirRule(t *testing.T) {
	core, _ := newCore(t)
	_, err := NewRecordService(core).List(RecordFilter{Sort: "colour"})
	if e := asError(t, err); e.Code != CodeInvalidInput || e.Params["rule"] != "sort" || e.Params["field"] != "sort" {
		t.Fatalf("unknown sort: %+v", e)
	}
	_, err = NewRecordService(core).List(RecordFilter{From: 2000, To: 1000})
	if e := asError(t, err); e.Params["rule"] != "end_before_start" {
		t.Fatalf("end before start: %+v", e)
	}
	dash := NewDashboardService(core, DashboardOptions{Location: time.UTC})
	for _, tc := range []struct {
		q    DashboardQuery
		rule string
		days float64
	}{
		{DashboardQuery{Preset: "someday"}, "unknown_range", 0},
		{DashboardQuery{Preset: "custom", From: 1_700_000_000_000, To: 1_700_000_000_000 + 500*24*3600*1000}, "max_days", 400},
		{DashboardQuery{Preset: "custom", From: 1_700_000_000_000, To: 1_700_000_000_000 + 40*24*3600*1000, Granularity: "hour"}, "hours_max_days", 31},
		{DashboardQuery{Preset: "today", Granularity: "week"}, "granularity", 0},
	} {
		_, err := dash.Get(tc.q)
		e := asError(t, err)
		if e.Code != CodeInvalidInput || e.Params["rule"] != tc.rule || (tc.days > 0 && e.Params["max_days"] != tc.days) {
			t.Errorf("%+v: %+v, want rule %s", tc.q, e, tc.rule)
		}
	}
}
