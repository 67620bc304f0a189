// Package period turns a dashboard's time range into buckets in a time
// zone: local hours, shifts and days, with daylight-saving days as long as
// they really are (23 or 25 hours). It is pure: no I/O and no clock reads;
// callers pass "now".
package period

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Granularities of Buckets.
const (
	Hour   = "hour"
	Shifts = "shift"
	Day    = "day"
)

// Presets of Range.
const (
	Today     = "today"
	ThisShift = "shift"
	Last7Days = "7d"
	Custom    = "custom"
)

// Shift is one shift of a day: it starts at Start (minutes after local
// midnight) and runs to the next shift's start, crossing midnight when
// that start is earlier.
type Shift struct {
	Name  string `json:"name"`
	Start int    `json:"start"`
}

// DefaultShifts are 06–14, 14–22 and 22–06.
var DefaultShifts = []Shift{{"Early", 6 * 60}, {"Late", 14 * 60}, {"Night", 22 * 60}}

// ErrBadShifts is returned for shifts that cannot tile a day.
var ErrBadShifts = errors.New("shifts must have distinct start times within the day")

// ParseShifts reads shifts written as "06:00,14:00,22:00" (names optional:
// "Early=06:00,Late=14:00,Night=22:00").
func ParseShifts(s string) ([]Shift, error) {
	var out []Shift
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, at, ok := strings.Cut(part, "=")
		if !ok {
			name, at = fmt.Sprintf("Shift %d", i+1), part
		}
		h, m, ok := strings.Cut(strings.TrimSpace(at), ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
			return nil, fmt.Errorf("shift %q: %w", part, ErrBadShifts)
		}
		out = append(out, Shift{Name: strings.TrimSpace(name), Start: hh*60 + mm})
	}
	return out, checkShifts(out)
}

func checkShifts(sh []Shift) error {
	if len(sh) == 0 {
		return ErrBadShifts
	}
	seen := map[int]bool{}
	for _, s := range sh {
		if s.Start < 0 || s.Start >= 24*60 || seen[s.Start] {
			return ErrBadShifts
		}
		seen[s.Start] = true
	}
	return nil
}

func sorted(sh []Shift) []Shift {
	out := append([]Shift(nil), sh...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// at returns the instant of minute-of-day m on the local date y-mo-d
// (days and minutes past their range roll over). A wall time skipped by a
// spring-forward lands on one side of the gap (time.Date's choice).
func at(y int, mo time.Month, d, m int, loc *time.Location) time.Time {
	return time.Date(y, mo, d, m/60, m%60, 0, 0, loc)
}

// Bucket is one bar of a chart: [From, To) in ms since the epoch.
type Bucket struct {
	From  int64  `json:"from"`
	To    int64  `json:"to"`
	Label string `json:"label"`
}

// Hours returns the bucket's length in hours (23 or 25 on a DST day).
func (b Bucket) Hours() float64 { return float64(b.To-b.From) / float64(time.Hour/time.Millisecond) }

// Range resolves a preset to [from, to) in loc at now. Today is local
// midnight to midnight, ThisShift the shift now is in, Last7Days the six
// days before today and today.
func Range(preset string, now time.Time, loc *time.Location, shifts []Shift) (time.Time, time.Time, error) {
	now = now.In(loc)
	y, mo, d := now.Date()
	switch preset {
	case Today:
		return at(y, mo, d, 0, loc), at(y, mo, d+1, 0, loc), nil
	case Last7Days:
		return at(y, mo, d-6, 0, loc), at(y, mo, d+1, 0, loc), nil
	case ThisShift:
		if err := checkShifts(shifts); err != nil {
			return time.Time{}, time.Time{}, err
		}
		// The shifts of yesterday, today and tomorrow cover now.
		bs := ShiftBuckets(at(y, mo, d-1, 0, loc), at(y, mo, d+2, 0, loc), loc, shifts)
		for _, b := range bs {
			if now.UnixMilli() >= b.From && now.UnixMilli() < b.To {
				return time.UnixMilli(b.From).In(loc), time.UnixMilli(b.To).In(loc), nil
			}
		}
		return time.Time{}, time.Time{}, ErrBadShifts
	}
	return time.Time{}, time.Time{}, fmt.Errorf("unknown range %q", preset)
}

// Buckets cuts [from, to) into buckets of the granularity in loc. The first
// and last bucket are clipped to the range.
func Buckets(gran string, from, to time.Time, loc *time.Location, shifts []Shift) ([]Bucket, error) {
	if !to.After(from) {
		return nil, errors.New("the end must be after the start")
	}
	switch gran {
	case Hour:
		return clip(HourBuckets(from, to, loc), from, to), nil
	case Day:
		return clip(DayBuckets(from, to, loc), from, to), nil
	case Shifts:
		if err := checkShifts(shifts); err != nil {
			return nil, err
		}
		return clip(ShiftBuckets(from, to, loc, shifts), from, to), nil
	}
	return nil, fmt.Errorf("unknown granularity %q", gran)
}

func clip(bs []Bucket, from, to time.Time) []Bucket {
	f, t := from.UnixMilli(), to.UnixMilli()
	out := bs[:0]
	for _, b := range bs {
		b.From, b.To = max(b.From, f), min(b.To, t)
		if b.To > b.From {
			out = append(out, b)
		}
	}
	return out
}

// HourBuckets returns the local hours overlapping [from, to). Local hours
// are found from the zone's offset at each instant, so a fall-back day has
// two buckets labelled 02:00 (with their offsets) and a spring-forward day
// none for the skipped hour; half-hour zones get hours starting at :30 UTC.
func HourBuckets(from, to time.Time, loc *time.Location) []Bucket {
	var out []Bucket
	t := floorLocalHour(from.In(loc))
	for t.Before(to) {
		next := floorLocalHour(t.Add(time.Hour))
		if !next.After(t) { // an offset change of less than an hour
			next = floorLocalHour(t.Add(90 * time.Minute))
		}
		out = append(out, Bucket{From: t.UnixMilli(), To: next.UnixMilli(), Label: t.Format("Mon 02 Jan 15:04 MST")})
		t = next
	}
	return out
}

func floorLocalHour(t time.Time) time.Time {
	return t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
}

// DayBuckets returns the local days overlapping [from, to), midnight to
// midnight (23 or 25 hours on DST days).
func DayBuckets(from, to time.Time, loc *time.Location) []Bucket {
	var out []Bucket
	f := from.In(loc)
	y, mo, d := f.Date()
	for i := 0; ; i++ {
		s, e := at(y, mo, d+i, 0, loc), at(y, mo, d+i+1, 0, loc)
		if !s.Before(to) {
			break
		}
		out = append(out, Bucket{From: s.UnixMilli(), To: e.UnixMilli(), Label: s.Format("Mon 02 Jan")})
	}
	return out
}

// ShiftBuckets returns the shifts overlapping [from, to). A shift belongs
// to the day it starts on; the night shift of a DST day is an hour shorter
// or longer, as worked.
func ShiftBuckets(from, to time.Time, loc *time.Location, shifts []Shift) []Bucket {
	sh := sorted(shifts)
	var out []Bucket
	f := from.In(loc)
	y, mo, d := f.Date()
	for i := -1; ; i++ {
		dayStart := at(y, mo, d+i, 0, loc)
		if !dayStart.Before(to) {
			break
		}
		for j, s := range sh {
			start := at(y, mo, d+i, s.Start, loc)
			var end time.Time
			if j+1 < len(sh) {
				end = at(y, mo, d+i, sh[j+1].Start, loc)
			} else {
				end = at(y, mo, d+i+1, sh[0].Start, loc)
			}
			if end.After(from) && start.Before(to) && end.After(start) {
				out = append(out, Bucket{From: start.UnixMilli(), To: end.UnixMilli(),
					Label: start.Format("Mon 02 Jan") + " " + s.Name})
			}
		}
	}
	return out
}
