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

// UnitQuantity is what was made in one unit ("" when the products have
// none): quantities of different units are never added together.
type UnitQuantity struct {
	Unit     string `json:"unit"`
	Quantity int64  `json:"quantity"`
	Records  int64  `json:"records"`
}

// LineActual is a line's output over the range against its own target.
type LineActual struct {
	LineID string `json:"lineId"`
	// LineName is the line's name in the site data ("" when not listed).
	LineName string `json:"lineName"`
	// Units is the output per unit. Unit is the line's one unit when all
	// it made shares one; Mixed is true when it made several (then
	// Quantity adds nothing and a target is not compared).
	Units    []UnitQuantity `json:"units"`
	Unit     string         `json:"unit"`
	Mixed    bool           `json:"mixed"`
	Quantity int64          `json:"quantity"`
	Records  int64          `json:"records"`
	// TargetRate is target_rate_per_hour of the line's latest configuration.
	TargetRate *int64 `json:"targetRate,omitempty"`
	// TargetSince is when the line was first configured (ms): no target
	// counts before it.
	TargetSince int64 `json:"targetSince,omitempty"`
	// Target is TargetRate × the hours of the range elapsed so far since
	// TargetSince.
	Target *int64 `json:"target,omitempty"`
}

// LineShift answers the shift question for one line: this shift and this
// hour against the line's own target, and where the shift ends at the
// pace so far.
type LineShift struct {
	LineActual
	// HourQuantity is what the line made in the current hour (its one
	// unit; 0 when Mixed).
	HourQuantity int64 `json:"hourQuantity"`
	// HourTarget is the target of the whole current hour (from TargetSince
	// when the line was configured during it).
	HourTarget *int64 `json:"hourTarget,omitempty"`
	// ShiftTarget is the target of the whole shift from TargetSince.
	ShiftTarget *int64 `json:"shiftTarget,omitempty"`
	// Projected is the shift's end at the pace since it began; nil for
	// mixed units or in the shift's first minutes.
	Projected *int64 `json:"projected,omitempty"`
}

// ShiftNow is the shift now is in (whatever range the dashboard shows),
// its current hour, and each line in it.
type ShiftNow struct {
	Name     string      `json:"name"`
	From     int64       `json:"from"`
	To       int64       `json:"to"`
	HourFrom int64       `json:"hourFrom"`
	HourTo   int64       `json:"hourTo"`
	Lines    []LineShift `json:"lines"`
}

// Ranked is a product or operator and what it made over the range. Name is
// the product's or person's name (an unknown badge stays the badge id);
// a product has its Unit; an operator's output is per unit in Units and
// operators rank by records.
type Ranked struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Unit     string         `json:"unit"`
	Quantity int64          `json:"quantity"`
	Records  int64          `json:"records"`
	Units    []UnitQuantity `json:"units,omitempty"`
}

// ProductInfo names a product that appears in the totals, with its unit.
type ProductInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit string `json:"unit"`
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
	// Products names and units every product in Totals.
	Products []ProductInfo `json:"products"`
	// Shift is the shift now is in; nil when the shifts cannot say.
	Shift *ShiftNow `json:"shift"`
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
			return time.Time{}, time.Time{}, nil, nil, "", fieldError(CodeInvalidInput, "shifts", "Shifts are start times like 06:00,14:00,22:00, each different.").With("rule", "shifts")
		}
		shifts = sh
	}
	var from, to time.Time
	switch q.Preset {
	case period.Custom:
		if q.From <= 0 || q.To <= q.From {
			return from, to, nil, nil, "", fieldError(CodeInvalidInput, "to", "The end must be after the start.").With("rule", "end_before_start")
		}
		from, to = time.UnixMilli(q.From).In(loc), time.UnixMilli(q.To).In(loc)
	case period.Today, period.ThisShift, period.Last7Days, "":
		p := q.Preset
		if p == "" {
			p = period.Today
		}
		var err error
		if from, to, err = period.Range(p, s.opts.Now(), loc, shifts); err != nil {
			return from, to, nil, nil, "", fieldError(CodeInvalidInput, "preset", "That range is not known.").With("rule", "unknown_range")
		}
	default:
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "preset", "That range is not known.").With("rule", "unknown_range")
	}
	span := to.Sub(from)
	if span > maxRangeSpan {
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "to", "Choose a range of at most 400 days.").With("rule", "max_days").With("max_days", 400)
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
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "granularity", "Hours can be shown for at most 31 days; choose shifts or days.").With("rule", "hours_max_days").With("max_days", 31)
	}
	bs, err := period.Buckets(gran, from, to, loc, shifts)
	if err != nil {
		return from, to, nil, nil, "", fieldError(CodeInvalidInput, "granularity", "Show hours, shifts or days.").With("rule", "granularity")
	}
	return from, to, bs, shifts, gran, nil
}

// siteClock is the time zone and shifts of the site's settings, read on
// every query (a pulled change applies at once), else the options'.
func (s *DashboardService) siteClock(ctx context.Context, st siteReader) (*time.Location, []period.Shift) {
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
// each line against its own target, the shift now is in, and the top
// products and operators, in the site's time zone and shifts.
func (s *DashboardService) Get(q DashboardQuery) (Dashboard, error) {
	v, err := s.view(q)
	return v.Dashboard, err
}

// dashView is a dashboard with what an export needs beside it: the time
// zone it was computed in and the site's names.
type dashView struct {
	Dashboard
	loc   *time.Location
	names siteNames
}

func (s *DashboardService) view(q DashboardQuery) (dashView, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (dashView, error) {
		return s.compute(ctx, st, q)
	})
}

// lineAcc adds up one line's output per unit.
type lineAcc struct {
	units map[string]*UnitQuantity
}

func (a *lineAcc) add(unit string, qty, recs int64) {
	if a.units == nil {
		a.units = map[string]*UnitQuantity{}
	}
	u := a.units[unit]
	if u == nil {
		u = &UnitQuantity{Unit: unit}
		a.units[unit] = u
	}
	u.Quantity += qty
	u.Records += recs
}

// fill sets l's Units, Unit, Mixed, Quantity and Records.
func (a *lineAcc) fill(l *LineActual) {
	l.Units = sortedUnits(a.units)
	l.Quantity, l.Records = 0, 0
	for _, u := range l.Units {
		l.Records += u.Records
	}
	switch len(l.Units) {
	case 0:
	case 1:
		l.Unit, l.Quantity = l.Units[0].Unit, l.Units[0].Quantity
	default:
		l.Mixed = true
	}
}

func sortedUnits(m map[string]*UnitQuantity) []UnitQuantity {
	out := make([]UnitQuantity, 0, len(m))
	for _, u := range m {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out
}

// targetOver is rate × the hours of [from, to) after since, rounded; nil
// without a rate.
func targetOver(t *store.LineTarget, from, to int64) *int64 {
	if t == nil {
		return nil
	}
	from = max(from, t.Since)
	v := int64(0)
	if to > from {
		v = int64(float64(t.Rate)*float64(to-from)/float64(time.Hour/time.Millisecond) + 0.5)
	}
	return &v
}

// dashboardReader reads what the dashboard adds up: the hourly rollups,
// the records of a range, the lines' targets and the site's names.
type dashboardReader interface {
	namesReader
	Aggregate(ctx context.Context, by string, bounds []int64, lineID string) ([]store.Total, error)
	EachRecord(ctx context.Context, f store.RecordFilter, fn func(r store.Record, total int64) error) error
	LineTargetsSince(ctx context.Context) (map[string]store.LineTarget, error)
	RollupChangedSince(ctx context.Context, rev int64) (store.RollupChange, error)
}

func (s *DashboardService) compute(ctx context.Context, st dashboardReader, q DashboardQuery) (dashView, error) {
	loc, siteShifts := s.siteClock(ctx, st)
	from, to, bs, shifts, gran, err := s.resolve(q, loc, siteShifts)
	if err != nil {
		return dashView{}, err
	}
	names, err := readSiteNames(ctx, st)
	if err != nil {
		return dashView{}, err
	}
	now := s.opts.Now()
	d := Dashboard{
		From: from.UnixMilli(), To: to.UnixMilli(), Now: now.UnixMilli(), Granularity: gran,
		TimeZone: zoneName(loc, now), Shifts: shifts,
		Buckets: make([]DashboardBucket, len(bs)), Totals: []DashboardTotal{}, Lines: []LineActual{},
		TopProducts: []Ranked{}, TopOperators: []Ranked{}, Products: []ProductInfo{},
	}
	bounds := make([]int64, 0, len(bs)+1)
	for i, b := range bs {
		d.Buckets[i] = DashboardBucket{From: b.From, To: b.To, Label: b.Label, Hours: b.Hours()}
		if len(bounds) == 0 || bounds[len(bounds)-1] != b.From {
			if len(bounds) > 0 {
				return dashView{}, &Error{Code: CodeInternal, Message: "The dashboard's time buckets have a gap."}
			}
			bounds = append(bounds, b.From)
		}
		bounds = append(bounds, b.To)
	}
	// The revision first: a change landing during the reads is
	// announced again by WatchData.
	ch, err := st.RollupChangedSince(ctx, 1<<62)
	if err != nil {
		return dashView{}, err
	}
	d.Rev = ch.Rev
	byProduct, err := st.Aggregate(ctx, store.ByProduct, bounds, q.LineID)
	if err != nil {
		return dashView{}, err
	}
	// Operators per product, so that their output stays per unit.
	byOperator, err := st.Aggregate(ctx, store.ByOperator, []int64{bounds[0], bounds[len(bounds)-1]}, q.LineID)
	if err != nil {
		return dashView{}, err
	}
	targets, err := st.LineTargetsSince(ctx)
	if err != nil {
		return dashView{}, err
	}
	target := func(line string) *store.LineTarget {
		if t, ok := targets[line]; ok {
			return &t
		}
		return nil
	}
	accs := map[string]*lineAcc{}
	acc := func(id string) *lineAcc {
		if a := accs[id]; a != nil {
			return a
		}
		a := &lineAcc{}
		accs[id] = a
		return a
	}
	products := map[string]*Ranked{}
	for _, t := range byProduct {
		d.Totals = append(d.Totals, DashboardTotal{Bucket: t.Bucket, LineID: t.LineID, ProductID: t.Key, Quantity: t.Quantity, Records: t.Records})
		acc(t.LineID).add(names.unit(t.Key), t.Quantity, t.Records)
		p := products[t.Key]
		if p == nil {
			name, unit := names.product(t.Key)
			p = &Ranked{ID: t.Key, Name: name, Unit: unit}
			products[t.Key] = p
			d.Products = append(d.Products, ProductInfo{ID: t.Key, Name: name, Unit: unit})
		}
		p.Quantity += t.Quantity
		p.Records += t.Records
	}
	sort.Slice(d.Products, func(i, j int) bool { return d.Products[i].ID < d.Products[j].ID })
	operators := map[string]*Ranked{}
	opUnits := map[string]*lineAcc{}
	for _, t := range byOperator {
		o := operators[t.Key]
		if o == nil {
			o = &Ranked{ID: t.Key, Name: names.person(t.Key)}
			operators[t.Key] = o
			opUnits[t.Key] = &lineAcc{}
		}
		o.Records += t.Records
	}
	if err := s.operatorUnits(ctx, st, q.LineID, bounds[0], bounds[len(bounds)-1], names, opUnits); err != nil {
		return dashView{}, err
	}
	for id, o := range operators {
		var l LineActual
		opUnits[id].fill(&l)
		o.Units, o.Unit, o.Quantity = l.Units, l.Unit, l.Quantity
	}
	for id := range targets {
		if q.LineID == "" || id == q.LineID {
			acc(id)
		}
	}
	// Targets count the hours of the range that have passed since each
	// line was configured.
	until := min(max(d.Now, d.From), d.To)
	for id, a := range accs {
		l := LineActual{LineID: id, LineName: names.line(id)}
		a.fill(&l)
		if t := target(id); t != nil {
			r := t.Rate
			l.TargetRate, l.TargetSince, l.Target = &r, t.Since, targetOver(t, d.From, until)
		}
		d.Lines = append(d.Lines, l)
	}
	sort.Slice(d.Lines, func(i, j int) bool { return d.Lines[i].LineID < d.Lines[j].LineID })
	d.TopProducts = top(products, false)
	d.TopOperators = top(operators, true)
	if d.Shift, err = s.shiftNow(ctx, st, q.LineID, now, loc, shifts, names, targets); err != nil {
		return dashView{}, err
	}
	return dashView{Dashboard: d, loc: loc, names: names}, nil
}

// operatorUnits adds each operator's output per unit over [from, to): the
// rollup keeps operators per line, not per product, so the records of the
// range are read (ranked operators are a handful; their records a shift's).
func (s *DashboardService) operatorUnits(ctx context.Context, st dashboardReader, lineID string, from, to int64, names siteNames, accs map[string]*lineAcc) error {
	return st.EachRecord(ctx, store.RecordFilter{LineID: lineID, From: from, To: to, Sort: "created_at"}, func(r store.Record, _ int64) error {
		if a := accs[r.OperatorID]; a != nil {
			a.add(names.unit(r.ProductID), r.Quantity, 0)
		}
		return nil
	})
}

// shiftNow answers the shift question: the shift now is in, its current
// hour, and per line (with production or a target) the output against the
// line's own target and the projected end.
func (s *DashboardService) shiftNow(ctx context.Context, st dashboardReader, lineID string, now time.Time, loc *time.Location,
	shifts []period.Shift, names siteNames, targets map[string]store.LineTarget) (*ShiftNow, error) {
	target := func(line string) *store.LineTarget {
		if t, ok := targets[line]; ok {
			return &t
		}
		return nil
	}
	from, to, name, ok := currentShift(now, loc, shifts)
	if !ok {
		return nil, nil
	}
	n := now.UnixMilli()
	hf := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), now.In(loc).Hour(), 0, 0, 0, loc)
	sh := &ShiftNow{Name: name, From: from, To: to, HourFrom: max(hf.UnixMilli(), from), HourTo: min(hf.Add(time.Hour).UnixMilli(), to), Lines: []LineShift{}}
	bounds := []int64{sh.From}
	if sh.HourFrom > sh.From {
		bounds = append(bounds, sh.HourFrom)
	}
	bounds = append(bounds, sh.HourTo)
	if sh.HourTo < sh.To {
		bounds = append(bounds, sh.To)
	}
	totals, err := st.Aggregate(ctx, store.ByProduct, bounds, lineID)
	if err != nil {
		return nil, err
	}
	hourBucket := 0
	if sh.HourFrom > sh.From {
		hourBucket = 1
	}
	shiftAcc := map[string]*lineAcc{}
	hourAcc := map[string]*lineAcc{}
	get := func(m map[string]*lineAcc, id string) *lineAcc {
		if a := m[id]; a != nil {
			return a
		}
		a := &lineAcc{}
		m[id] = a
		return a
	}
	for _, t := range totals {
		u := names.unit(t.Key)
		get(shiftAcc, t.LineID).add(u, t.Quantity, t.Records)
		if t.Bucket == hourBucket {
			get(hourAcc, t.LineID).add(u, t.Quantity, t.Records)
		}
	}
	ids := map[string]bool{}
	for id := range shiftAcc {
		ids[id] = true
	}
	// Lines with a target are asked about even before they made anything.
	for l := range targets {
		if lineID == "" || l == lineID {
			ids[l] = true
		}
	}
	for _, id := range sortedKeys(ids) {
		ls := LineShift{LineActual: LineActual{LineID: id, LineName: names.line(id)}}
		get(shiftAcc, id).fill(&ls.LineActual)
		var hour LineActual
		get(hourAcc, id).fill(&hour)
		if !ls.Mixed && (hour.Unit == ls.Unit || len(hour.Units) == 0) {
			ls.HourQuantity = hour.Quantity
		}
		if t := target(id); t != nil {
			r := t.Rate
			ls.TargetRate, ls.TargetSince = &r, t.Since
			ls.Target = targetOver(t, sh.From, min(max(n, sh.From), sh.To))
			ls.ShiftTarget = targetOver(t, sh.From, sh.To)
			ls.HourTarget = targetOver(t, sh.HourFrom, sh.HourTo)
		}
		// The pace since the shift began, once a quarter of an hour shows it.
		if elapsed := float64(n-sh.From) / float64(time.Hour/time.Millisecond); !ls.Mixed && elapsed >= 0.25 && n < sh.To {
			left := float64(sh.To-n) / float64(time.Hour/time.Millisecond)
			p := int64(float64(ls.Quantity) + float64(ls.Quantity)/elapsed*left + 0.5)
			ls.Projected = &p
		}
		sh.Lines = append(sh.Lines, ls)
	}
	return sh, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// currentShift finds the shift now is in: [from, to) in ms and its name.
func currentShift(now time.Time, loc *time.Location, shifts []period.Shift) (from, to int64, name string, ok bool) {
	f, t, err := period.Range(period.ThisShift, now, loc, shifts)
	if err != nil {
		return 0, 0, "", false
	}
	local := f.In(loc)
	start := local.Hour()*60 + local.Minute()
	for _, s := range shifts {
		if s.Start == start {
			name = s.Name
		}
	}
	if name == "" {
		name = local.Format("15:04")
	}
	return f.UnixMilli(), t.UnixMilli(), name, true
}

// zoneName names loc for people: its IANA name, or for the process's
// local zone (whose name is "Local") the abbreviation and offset now.
func zoneName(loc *time.Location, now time.Time) string {
	if n := loc.String(); n != "Local" && n != "" {
		return n
	}
	return now.In(loc).Format("MST -07:00")
}

// top ranks m by quantity, or by records (byRecords: operators, whose
// output spans units), largest first.
func top(m map[string]*Ranked, byRecords bool) []Ranked {
	out := make([]Ranked, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if byRecords && out[i].Records != out[j].Records {
			return out[i].Records > out[j].Records
		}
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
	return call(s.core, func(ctx context.Context, st *localDB) (DataChanged, error) {
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
