package app

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/outpost-app/outpost/backend/period"
	"github.com/outpost-app/outpost/backend/store"
)

// DashboardQuery chooses what the dashboard shows.
type DashboardQuery struct {
	// Preset is "today", "shift" (the shift now is in), "7d" or "custom".
	Preset string `json:"preset"`
	// From (inclusive) and To (exclusive), ms since the epoch: custom only.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Granularity is "hour", "shift" or "day"; "" picks one for the range.
	Granularity string `json:"granularity"`
	// LineID keeps one line; "" shows them all.
	LineID string `json:"lineId"`
	// Shifts are the shift starts, "06:00,14:00,22:00" or
	// "Early=06:00,Late=14:00,Night=22:00"; "" uses the configured ones.
	Shifts string `json:"shifts"`
}

// DashboardBucket is one bar position: [From, To) in ms, its label in the
// device's time zone, and its length (23 or 25 hours on a DST day).
type DashboardBucket struct {
	From  int64   `json:"from"`
	To    int64   `json:"to"`
	Label string  `json:"label"`
	Hours float64 `json:"hours"`
}

// DashboardTotal is one bar segment: what a line made of a product in a
// bucket (an index into Dashboard.Buckets).
type DashboardTotal struct {
	Bucket    int    `json:"bucket"`
	LineID    string `json:"lineId"`
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
	Records   int64  `json:"records"`
}

// LineActual is a line's output over the range against its target.
type LineActual struct {
	LineID   string `json:"lineId"`
	Quantity int64  `json:"quantity"`
	Records  int64  `json:"records"`
	// TargetRate is target_rate_per_hour of the line's latest configuration.
	TargetRate *int64 `json:"targetRate,omitempty"`
	// Target is TargetRate × the hours of the range elapsed so far.
	Target *int64 `json:"target,omitempty"`
}

// Ranked is a product or operator and what it made over the range.
type Ranked struct {
	ID       string `json:"id"`
	Quantity int64  `json:"quantity"`
	Records  int64  `json:"records"`
}

// Dashboard is everything the dashboard screen draws.
type Dashboard struct {
	From         int64             `json:"from"`
	To           int64             `json:"to"`
	Now          int64             `json:"now"`
	Granularity  string            `json:"granularity"`
	TimeZone     string            `json:"timeZone"`
	Shifts       []period.Shift    `json:"shifts"`
	Buckets      []DashboardBucket `json:"buckets"`
	Totals       []DashboardTotal  `json:"totals"`
	Lines        []LineActual      `json:"lines"`
	TopProducts  []Ranked          `json:"topProducts"`
	TopOperators []Ranked          `json:"topOperators"`
	// Rev is the rollup revision the numbers are from (see data:changed).
	Rev int64 `json:"rev"`
}

// DataChanged is the payload of the "data:changed" event: production
// records in [From, To) changed (a local write, a pulled page, a discard).
type DataChanged struct {
	Rev  int64 `json:"rev"`
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// EventDataChanged is emitted by WatchData.
const EventDataChanged = "data:changed"

// DashboardOptions configures the dashboard. Zero values take defaults.
type DashboardOptions struct {
	// Location is the time zone of days and shifts: the device's until site
	// settings exist.
	Location *time.Location
	// Shifts default to period.DefaultShifts (06–14, 14–22, 22–06).
	Shifts []period.Shift
	Now    func() time.Time
	// Poll is how often WatchData looks for changes (default 1 s).
	Poll time.Duration
}

// DashboardService is bound into the WebView: production aggregates against
// the lines' targets, from the local store's hourly rollups.
type DashboardService struct {
	core *Core
	opts DashboardOptions
}

// NewDashboardService returns the dashboard service over core.
func NewDashboardService(core *Core, opts DashboardOptions) *DashboardService {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if len(opts.Shifts) == 0 {
		opts.Shifts = period.DefaultShifts
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	return &DashboardService{core: core, opts: opts}
}

// localStore finds the encrypted store behind the bound services' Store.
func localStore(s Store) (*store.Store, error) {
	switch v := s.(type) {
	case *storeAdapter:
		return v.st, nil
	case *notifyingStore:
		return localStore(v.Store)
	}
	return nil, &Error{Code: CodeInternal, Message: "The dashboard needs the local database."}
}

func callLocal[T any](c *Core, fn func(ctx context.Context, st *store.Store) (T, error)) (T, error) {
	return call(c, func(ctx context.Context, s Store) (T, error) {
		st, err := localStore(s)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, st)
	})
}

const (
	topN         = 10
	maxHourSpan  = 31 * 24 * time.Hour
	maxRangeSpan = 400 * 24 * time.Hour
)

// resolve turns q into a range, its buckets and the shifts, validated.
func (s *DashboardService) resolve(q DashboardQuery, loc *time.Location, shifts []period.Shift) (time.Time, time.Time, []period.Bucket, []period.Shift, string, error) {
	if q.Shifts != "" {
		sh, err := period.ParseShifts(q.Shifts)
		if err != nil {
			return time.Time{}, time.Time{}, nil, nil, "", fieldError(CodeInvalidInput, "shifts", "Shifts are start times like 06:00,14:00,22:00, each different.")
		}
		shifts = sh
	}
	var from, to time.Time
	switch q.Preset {
	case period.Custom:
		if q.From <= 0 || q.To <= q.From {
			return from, to, nil, nil, "", fieldError(CodeInvalidInput, "to", "The end must be after the start.")
		}
		from, to = time.UnixMilli(q.From).In(loc), time.UnixMilli(q.To).In(loc)
	case period.Today, period.ThisShift, period.Last7Days, "":
		p := q.Preset
		if p == "" {
			p = period.Today
		}
		var err error
		if from, to, err = period.Range(p, s.opts.Now(), loc, shifts); err != nil {
			return from, to, nil, nil, "", fieldError(CodeInvalidInput, "preset", "That range is not known.")
		}
	default:
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "preset", "That range is not known.")
	}
	span := to.Sub(from)
	if span > maxRangeSpan {
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "to", "Choose a range of at most 400 days.")
	}
	gran := q.Granularity
	if gran == "" {
		switch {
		case span <= 36*time.Hour:
			gran = period.Hour
		case span <= 8*24*time.Hour:
			gran = period.Shifts
		default:
			gran = period.Day
		}
	}
	if gran == period.Hour && span > maxHourSpan {
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "granularity", "Hours can be shown for at most 31 days; choose shifts or days.")
	}
	bs, err := period.Buckets(gran, from, to, loc, shifts)
	if err != nil {
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "granularity", "Show hours, shifts or days.")
	}
	return from, to, bs, shifts, gran, nil
}

// siteClock is the time zone and shifts of the site's settings, read on
// every query (a pulled change applies at once), else the options'.
func (s *DashboardService) siteClock(ctx context.Context, st *store.Store) (*time.Location, []period.Shift) {
	loc, shifts := s.opts.Location, s.opts.Shifts
	set, err := readSettings(ctx, st)
	if err != nil {
		slog.Warn("read the site's settings", "err", err)
		return loc, shifts
	}
	if l := set.location(); l != nil {
		loc = l
	}
	if sh := set.shiftList(); sh != nil {
		shifts = sh
	}
	return loc, shifts
}

// Get returns the dashboard for q: production per bucket, line and product,
// each line against its target, and the top products and operators, in the
// site's time zone and shifts.
func (s *DashboardService) Get(q DashboardQuery) (Dashboard, error) {
	return callLocal(s.core, func(ctx context.Context, st *store.Store) (Dashboard, error) {
		loc, siteShifts := s.siteClock(ctx, st)
		from, to, bs, shifts, gran, err := s.resolve(q, loc, siteShifts)
		if err != nil {
			return Dashboard{}, err
		}
		now := s.opts.Now()
		d := Dashboard{
			From: from.UnixMilli(), To: to.UnixMilli(), Now: now.UnixMilli(), Granularity: gran,
			TimeZone: zoneName(loc, now), Shifts: shifts,
			Buckets: make([]DashboardBucket, len(bs)), Totals: []DashboardTotal{}, Lines: []LineActual{},
			TopProducts: []Ranked{}, TopOperators: []Ranked{},
		}
		bounds := make([]int64, 0, len(bs)+1)
		for i, b := range bs {
			d.Buckets[i] = DashboardBucket{From: b.From, To: b.To, Label: b.Label, Hours: b.Hours()}
			if len(bounds) == 0 || bounds[len(bounds)-1] != b.From {
				if len(bounds) > 0 {
					return Dashboard{}, &Error{Code: CodeInternal, Message: "The dashboard's time buckets have a gap."}
				}
				bounds = append(bounds, b.From)
			}
			bounds = append(bounds, b.To)
		}
		// The revision first: a change landing during the reads is
		// announced again by WatchData.
		ch, err := st.RollupChangedSince(ctx, 1<<62)
		if err != nil {
			return Dashboard{}, err
		}
		d.Rev = ch.Rev
		byProduct, err := st.Aggregate(ctx, store.ByProduct, bounds, q.LineID)
		if err != nil {
			return Dashboard{}, err
		}
		byOperator, err := st.Aggregate(ctx, store.ByOperator, []int64{bounds[0], bounds[len(bounds)-1]}, q.LineID)
		if err != nil {
			return Dashboard{}, err
		}
		targets, err := st.LineTargets(ctx)
		if err != nil {
			return Dashboard{}, err
		}
		lines := map[string]*LineActual{}
		line := func(id string) *LineActual {
			if l := lines[id]; l != nil {
				return l
			}
			l := &LineActual{LineID: id}
			lines[id] = l
			return l
		}
		products := map[string]*Ranked{}
		for _, t := range byProduct {
			d.Totals = append(d.Totals, DashboardTotal{Bucket: t.Bucket, LineID: t.LineID, ProductID: t.Key, Quantity: t.Quantity, Records: t.Records})
			l := line(t.LineID)
			l.Quantity += t.Quantity
			l.Records += t.Records
			p := products[t.Key]
			if p == nil {
				p = &Ranked{ID: t.Key}
				products[t.Key] = p
			}
			p.Quantity += t.Quantity
			p.Records += t.Records
		}
		operators := map[string]*Ranked{}
		for _, t := range byOperator {
			o := operators[t.Key]
			if o == nil {
				o = &Ranked{ID: t.Key}
				operators[t.Key] = o
			}
			o.Quantity += t.Quantity
			o.Records += t.Records
		}
		// Targets count the hours of the range that have passed.
		elapsed := float64(min(max(d.Now, d.From), d.To)-d.From) / float64(time.Hour/time.Millisecond)
		for id, rate := range targets {
			if q.LineID != "" && id != q.LineID {
				continue
			}
			l := line(id)
			r := rate
			tgt := int64(float64(rate)*elapsed + 0.5)
			l.TargetRate, l.Target = &r, &tgt
		}
		for _, l := range lines {
			d.Lines = append(d.Lines, *l)
		}
		sort.Slice(d.Lines, func(i, j int) bool { return d.Lines[i].LineID < d.Lines[j].LineID })
		d.TopProducts = top(products)
		d.TopOperators = top(operators)
		return d, nil
	})
}

// zoneName names loc for people: its IANA name, or for the process's
// local zone (whose name is "Local") the abbreviation and offset now.
func zoneName(loc *time.Location, now time.Time) string {
	if n := loc.String(); n != "Local" && n != "" {
		return n
	}
	return now.In(loc).Format("MST -07:00")
}

func top(m map[string]*Ranked) []Ranked {
	out := make([]Ranked, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Quantity != out[j].Quantity {
			return out[i].Quantity > out[j].Quantity
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > topN {
		out = out[:topN]
	}
	return out
}

// Changes reports what changed since rev: the frontend's fallback when
// events do not arrive (a browser without the Wails runtime).
func (s *DashboardService) Changes(rev int64) (DataChanged, error) {
	return callLocal(s.core, func(ctx context.Context, st *store.Store) (DataChanged, error) {
		c, err := st.RollupChangedSince(ctx, rev)
		return DataChanged{Rev: c.Rev, From: c.From, To: c.To}, err
	})
}

// WatchData emits EventDataChanged whenever production records change, with
// the hours they touched, until ctx ends. (A function, not a method: Wails
// would bind a method into the WebView.) It polls the rollup's revision
// (one indexed read) so that every writer is seen: local edits, pulled
// pages, discards and resolutions alike. It returns at once when the
// store did not open.
func WatchData(ctx context.Context, s *DashboardService, emit func(name string, data any)) {
	select {
	case <-s.core.ready:
	case <-ctx.Done():
		return
	}
	if s.core.failure != nil {
		return
	}
	rev := int64(-1)
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		if rev < 0 {
			if c, err := s.Changes(math.MaxInt64); err == nil {
				rev = c.Rev
			}
		} else if c, err := s.Changes(rev); err == nil && c.Rev != rev {
			rev = c.Rev
			emit(EventDataChanged, c)
		} else if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeStoreClosed {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
