package app

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDashboardService_Get(t *testing.T) {
	core, _ := newCore(t)
	recs := NewRecordService(core)
	mk := func(line, product, op string, q int64) Record {
		r, err := recs.Create(RecordInput{LineID: line, ProductID: product, Quantity: q, OperatorID: op})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	mk("L1", "P-1", "ann", 10)
	mk("L1", "P-2", "ann", 5)
	mk("L2", "P-1", "bob", 7)
	gone := mk("L2", "P-3", "bob", 1000)
	if _, err := recs.Delete(gone.ID); err != nil {
		t.Fatal(err)
	}
	rate := int64(60)
	if _, err := NewLineConfigService(core).Create(LineConfigInput{LineID: "L3", Recipe: "R", TargetRatePerHour: &rate}); err != nil {
		t.Fatal(err)
	}
	svc := NewDashboardService(core, DashboardOptions{Location: time.UTC})
	d, err := svc.Get(DashboardQuery{Preset: "today"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Granularity != "hour" || len(d.Buckets) != 24 || d.Rev == 0 {
		t.Fatalf("granularity %q, %d buckets, rev %d", d.Granularity, len(d.Buckets), d.Rev)
	}
	var sum int64
	for _, x := range d.Totals {
		sum += x.Quantity
		if b := d.Buckets[x.Bucket]; d.Now < b.From || d.Now >= b.To+60_000 {
			t.Fatalf("total %+v in bucket %+v, now %d", x, b, d.Now)
		}
	}
	if sum != 22 {
		t.Fatalf("sum = %d, want 22 (the deleted record left out): %+v", sum, d.Totals)
	}
	if len(d.Lines) != 3 || d.Lines[0].Quantity != 15 || d.Lines[1].Quantity != 7 || d.Lines[2].TargetRate == nil || *d.Lines[2].TargetRate != 60 {
		t.Fatalf("lines = %+v", d.Lines)
	}
	if tg := *d.Lines[2].Target; tg < 0 || tg > 24*60 {
		t.Fatalf("target so far = %d", tg)
	}
	if len(d.TopProducts) != 2 || d.TopProducts[0] != (Ranked{ID: "P-1", Quantity: 17, Records: 2}) {
		t.Fatalf("top products = %+v", d.TopProducts)
	}
	if len(d.TopOperators) != 2 || d.TopOperators[0].ID != "ann" || d.TopOperators[0].Quantity != 15 {
		t.Fatalf("top operators = %+v", d.TopOperators)
	}
	// One line only; 7 days by shift.
	d, err = svc.Get(DashboardQuery{Preset: "7d", LineID: "L2"})
	if err != nil || d.Granularity != "shift" || len(d.Lines) != 1 || d.Lines[0].Quantity != 7 {
		t.Fatalf("7d L2 = %+v, %v", d, err)
	}
	// Custom shifts.
	d, err = svc.Get(DashboardQuery{Preset: "today", Granularity: "shift", Shifts: "A=00:00,B=12:00"})
	if err != nil || len(d.Buckets) != 2 || d.Buckets[1].Hours != 12 {
		t.Fatalf("custom shifts: %+v, %v", d.Buckets, err)
	}
}

func TestDashboardService_Validation(t *testing.T) {
	core, _ := newCore(t)
	svc := NewDashboardService(core, DashboardOptions{})
	now := time.Now().UnixMilli()
	for _, c := range []struct {
		q     DashboardQuery
		field string
	}{
		{DashboardQuery{Preset: "yesterday"}, "preset"},
		{DashboardQuery{Preset: "custom", From: now, To: now - 1}, "to"},
		{DashboardQuery{Preset: "custom", From: now - 40*86_400_000, To: now, Granularity: "hour"}, "granularity"},
		{DashboardQuery{Preset: "custom", From: now - 500*86_400_000, To: now}, "to"},
		{DashboardQuery{Preset: "today", Shifts: "06:00,06:00"}, "shifts"},
		{DashboardQuery{Preset: "today", Granularity: "week"}, "granularity"},
	} {
		_, err := svc.Get(c.q)
		if e := asError(t, err); e.Field != c.field {
			t.Errorf("%+v: field %q, want %q (%s)", c.q, e.Field, c.field, e.Message)
		}
	}
}

func TestDashboardService_WatchEmitsChanges(t *testing.T) {
	core, _ := newCore(t)
	svc := NewDashboardService(core, DashboardOptions{Poll: 20 * time.Millisecond})
	got := make(chan DataChanged, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchData(ctx, svc, func(name string, data any) {
		if name == EventDataChanged {
			got <- data.(DataChanged)
		}
	})
	time.Sleep(100 * time.Millisecond) // Watch has read the starting revision
	r, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 1, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if r.CreatedAt < c.From || r.CreatedAt >= c.To || c.To-c.From != 3_600_000 {
			t.Fatalf("changed %+v does not cover the record at %d", c, r.CreatedAt)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no data:changed event after a write")
	}
}

type fakeEvents struct {
	mu     sync.Mutex
	events []ExportProgress
	onEmit func(ExportProgress)
}

func (f *fakeEvents) emit(name string, data any) {
	if name != EventExportProgress {
		return
	}
	p := data.(ExportProgress)
	f.mu.Lock()
	f.events = append(f.events, p)
	f.mu.Unlock()
	if f.onEmit != nil {
		f.onEmit(p)
	}
}

func TestExportService_Records(t *testing.T) {
	core, _ := newCore(t)
	recs := NewRecordService(core)
	hostile := []string{`=cmd|' /C calc'!A0`, "+1", "-1", "@SUM(1)", `a,"b"`, "line\nbreak", "Grüße ☃ 製品", "plain"}
	for _, h := range hostile {
		if _, err := recs.Create(RecordInput{LineID: "L1", ProductID: h, Quantity: 3, OperatorID: "op"}); err != nil {
			t.Fatalf("create %q: %v", h, err)
		}
	}
	if _, err := recs.Create(RecordInput{LineID: "L2", ProductID: "other", Quantity: 3, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "records.csv")
	ev := &fakeEvents{}
	svc := NewExportService(core, NewDashboardService(core, DashboardOptions{}), ExportOptions{
		SaveDialog: func(title, name string) (string, error) { return out, nil },
		Emit:       ev.emit, Chunk: 3,
	})
	res, err := svc.ExportRecords("x1", RecordFilter{LineID: "L1"})
	if err != nil || res.Cancelled || res.Rows != int64(len(hostile)) || res.Path != out {
		t.Fatalf("export = %+v, %v", res, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(hostile)+1 || rows[0][4] != "product_id" {
		t.Fatalf("rows = %q", rows)
	}
	got := map[string]bool{}
	for _, r := range rows[1:] {
		got[r[4]] = true
	}
	for _, h := range hostile {
		want := h
		if strings.ContainsAny(h[:1], "=+-@") {
			want = "'" + h
		}
		if !got[want] {
			t.Errorf("no cell %q in %q", want, rows)
		}
	}
	last := ev.events[len(ev.events)-1]
	if len(ev.events) < 3 || !last.Done || last.Written != int64(len(hostile)) {
		t.Fatalf("progress = %+v", ev.events)
	}
}

func TestExportService_Cancel(t *testing.T) {
	core, _ := newCore(t)
	recs := NewRecordService(core)
	for i := 0; i < 50; i++ {
		if _, err := recs.Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 1, OperatorID: "op"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "records.csv")
	ev := &fakeEvents{}
	var svc *ExportService
	ev.onEmit = func(p ExportProgress) {
		if p.Written >= 10 && !p.Done {
			svc.Cancel(p.ID)
		}
	}
	svc = NewExportService(core, NewDashboardService(core, DashboardOptions{}), ExportOptions{
		SaveDialog: func(title, name string) (string, error) { return out, nil },
		Emit:       ev.emit, Chunk: 5,
	})
	res, err := svc.ExportRecords("c1", RecordFilter{})
	if err != nil || !res.Cancelled || res.Path != "" || res.Rows >= 50 {
		t.Fatalf("cancelled export = %+v, %v", res, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a cancelled export left files: %v", ents)
	}
	// Closing the save dialog is a cancel too, with nothing written.
	svc.opts.SaveDialog = func(string, string) (string, error) { return "", nil }
	if res, err := svc.ExportRecords("c2", RecordFilter{}); err != nil || !res.Cancelled {
		t.Fatalf("dialog closed: %+v, %v", res, err)
	}
	svc.Cancel("unknown") // nothing to cancel: no panic
}

func TestExportService_Dashboard(t *testing.T) {
	core, _ := newCore(t)
	if _, err := NewRecordService(core).Create(RecordInput{LineID: "-L1", ProductID: "=P", Quantity: 4, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dash.csv")
	svc := NewExportService(core, NewDashboardService(core, DashboardOptions{}), ExportOptions{
		SaveDialog: func(string, string) (string, error) { return out, nil },
	})
	res, err := svc.ExportDashboard("", DashboardQuery{Preset: "today"})
	if err != nil || res.Rows != 2 {
		t.Fatalf("export = %+v, %v", res, err)
	}
	b, _ := os.ReadFile(out)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][4] != "'-L1" || rows[1][5] != "'=P" || rows[1][6] != "4" || rows[2][0] != "line" {
		t.Fatalf("rows = %q, %v", rows, err)
	}
}
