package period

import (
	"testing"
	"time"
)

func TestBuckets_DSTDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		name                 string
		day                  time.Time
		hours, shifts0Length int
	}{
		{"spring forward", time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), 23, 5},
		{"fall back", time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), 25, 7},
		{"plain", time.Date(2026, 6, 1, 0, 0, 0, 0, berlin), 24, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			end := c.day.AddDate(0, 0, 1)
			hs, _ := Buckets(Hour, c.day, end, berlin, nil)
			if len(hs) != c.hours {
				t.Fatalf("%d hour buckets, want %d", len(hs), c.hours)
			}
			for i := 1; i < len(hs); i++ {
				if hs[i].From != hs[i-1].To || hs[i].Hours() != 1 {
					t.Fatalf("hour %d = %+v after %+v", i, hs[i], hs[i-1])
				}
			}
			ds, _ := Buckets(Day, c.day, end, berlin, nil)
			if len(ds) != 1 || ds[0].Hours() != float64(c.hours) {
				t.Fatalf("day = %+v", ds)
			}
			ss, _ := Buckets(Shifts, c.day, end, berlin, DefaultShifts)
			if len(ss) != 4 || ss[0].Hours() != float64(c.shifts0Length) || ss[1].Hours() != 8 || ss[3].Hours() != 2 {
				t.Fatalf("shifts = %+v", ss)
			}
		})
	}
}

func TestBuckets_HalfHourZone(t *testing.T) {
	kol, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, kol)
	hs := HourBuckets(day, day.AddDate(0, 0, 1), kol)
	if len(hs) != 24 || time.UnixMilli(hs[0].From).UTC().Minute() != 30 {
		t.Fatalf("hours = %d, first %v", len(hs), time.UnixMilli(hs[0].From).UTC())
	}
}

func TestRange_ThisShift(t *testing.T) {
	loc := time.UTC
	for _, c := range []struct {
		now      time.Time
		from, to time.Time
	}{
		{time.Date(2026, 5, 1, 7, 0, 0, 0, loc), time.Date(2026, 5, 1, 6, 0, 0, 0, loc), time.Date(2026, 5, 1, 14, 0, 0, 0, loc)},
		{time.Date(2026, 5, 1, 3, 0, 0, 0, loc), time.Date(2026, 4, 30, 22, 0, 0, 0, loc), time.Date(2026, 5, 1, 6, 0, 0, 0, loc)},
		{time.Date(2026, 5, 1, 23, 0, 0, 0, loc), time.Date(2026, 5, 1, 22, 0, 0, 0, loc), time.Date(2026, 5, 2, 6, 0, 0, 0, loc)},
	} {
		f, to, err := Range(ThisShift, c.now, loc, DefaultShifts)
		if err != nil || !f.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("at %v: %v–%v, %v; want %v–%v", c.now, f, to, err, c.from, c.to)
		}
	}
}

func TestParseShifts(t *testing.T) {
	sh, err := ParseShifts("Early=06:00, Late=14:00,22:30")
	if err != nil || len(sh) != 3 || sh[0].Name != "Early" || sh[2].Start != 22*60+30 || sh[2].Name != "Shift 3" {
		t.Fatalf("ParseShifts = %+v, %v", sh, err)
	}
	for _, bad := range []string{"", "25:00", "6", "06:00,06:00", "x=ab:cd"} {
		if _, err := ParseShifts(bad); err == nil {
			t.Errorf("ParseShifts(%q) accepted", bad)
		}
	}
}
