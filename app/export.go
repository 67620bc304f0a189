package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/csvexport"
	"github.com/outpost-app/outpost/backend/store"
)

// EventExportProgress is emitted while an export runs, with ExportProgress.
const EventExportProgress = "export:progress"

// ExportProgress says how far export ID has come.
type ExportProgress struct {
	ID      string `json:"id"`
	Written int64  `json:"written"`
	Total   int64  `json:"total"`
	Done    bool   `json:"done"`
}

// ExportResult is how an export ended. A person who closes the save dialog
// gets Cancelled with no Path; a cancelled export leaves no file behind.
type ExportResult struct {
	ID        string `json:"id"`
	Path      string `json:"path"`
	Rows      int64  `json:"rows"`
	Cancelled bool   `json:"cancelled"`
}

// ExportOptions wires the export to the window. main passes Wails'
// runtime.SaveFileDialog and runtime.EventsEmit; tests pass fakes.
type ExportOptions struct {
	// SaveDialog asks where to save, starting in dir with defaultName
	// filled in; "" means the person cancelled.
	SaveDialog func(title, dir, defaultName string) (string, error)
	// Documents is the folder the save dialog starts in (default: the
	// person's Documents folder, see documentsDir).
	Documents func() string
	Emit      func(name string, data any)
	// Chunk is how many rows are written between progress events and
	// cancellation checks (default 2000).
	Chunk int
	Now   func() time.Time
}

// ExportService is bound into the WebView: CSV exports of the records list
// and of the dashboard, streamed with progress, cancellable.
type ExportService struct {
	core *Core
	dash *DashboardService
	opts ExportOptions

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// NewExportService returns the export service; dash computes the
// dashboard's aggregates.
func NewExportService(core *Core, dash *DashboardService, opts ExportOptions) *ExportService {
	if opts.Chunk <= 0 {
		opts.Chunk = 2000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Emit == nil {
		opts.Emit = func(string, any) {}
	}
	if opts.Documents == nil {
		opts.Documents = func() string {
			home, _ := os.UserHomeDir()
			return documentsDir(runtime.GOOS, home, os.Getenv)
		}
	}
	return &ExportService{core: core, dash: dash, opts: opts, running: map[string]context.CancelFunc{}}
}

// NewExportID returns an id to pass to an export, so the screen can cancel
// it and match its progress events before the export call returns.
func (s *ExportService) NewExportID() string { return uuid.NewString() }

// Cancel stops export id; the partial file is removed. Cancelling an
// export that already ended does nothing.
func (s *ExportService) Cancel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.running[id]; c != nil {
		c()
	}
}

// ErrExportCancelled ends an export that was cancelled.
var ErrExportCancelled = errors.New("export cancelled")

// ExportRecords writes the records matching f (the records list's filter:
// line, product, operator, time range, sort; live records only) to a CSV
// file the person chooses: local times a spreadsheet reads as dates, names
// and the unit beside the codes, the record's id last. locale ("de",
// "pt-BR", …; the UI passes the language shown) chooses the separators and
// the date layout; words holds the header and cell words in that language
// by the keys of exportWords (the UI passes them from its message files;
// a missing key is written in English).
func (s *ExportService) ExportRecords(id string, f RecordFilter, locale string, words map[string]string) (ExportResult, error) {
	lw := localWords(locale, words)
	name := fmt.Sprintf("outpost-records-%s.csv", s.opts.Now().Format("2006-01-02-1504"))
	return s.export(id, lw, lw.word(WordTitleRecords), name, func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
		return s.writeRecords(ctx, f, w, lw, progress)
	})
}

// ExportDashboard writes the dashboard's numbers for q to a CSV file: one
// table, a row per period, line and product, with names and the unit.
// locale and words as for ExportRecords.
func (s *ExportService) ExportDashboard(id string, q DashboardQuery, locale string, words map[string]string) (ExportResult, error) {
	v, err := s.dash.view(q)
	if err != nil {
		return ExportResult{}, err
	}
	lw := localWords(locale, words)
	name := fmt.Sprintf("outpost-dashboard-%s.csv", s.opts.Now().Format("2006-01-02-1504"))
	return s.export(id, lw, lw.word(WordTitleDashboard), name, func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
		return writeDashboard(v, w, lw, progress)
	})
}

// ExportLines writes each line against its target over q's range to a CSV
// file: one table, a row per line and unit (kg and pieces never added).
// locale and words as for ExportRecords.
func (s *ExportService) ExportLines(id string, q DashboardQuery, locale string, words map[string]string) (ExportResult, error) {
	v, err := s.dash.view(q)
	if err != nil {
		return ExportResult{}, err
	}
	lw := localWords(locale, words)
	name := fmt.Sprintf("outpost-lines-%s.csv", s.opts.Now().Format("2006-01-02-1504"))
	return s.export(id, lw, lw.word(WordTitleLines), name, func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
		return writeLines(v, w, lw, progress)
	})
}

type writeFunc func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error)

func (s *ExportService) export(id string, lw exportLocale, title, defaultName string, write writeFunc) (ExportResult, error) {
	if id == "" {
		id = uuid.NewString()
	}
	res := ExportResult{ID: id}
	if s.opts.SaveDialog == nil {
		return res, &Error{Code: CodeInternal, Message: "Saving files is not available here."}
	}
	path, err := s.opts.SaveDialog(title, s.opts.Documents(), defaultName)
	if err != nil {
		return res, &Error{Code: "export_failed", Message: "The save dialog could not be opened.", Params: map[string]any{"rule": "dialog"}}
	}
	if path == "" {
		res.Cancelled = true
		return res, nil
	}
	ctx, cancel := context.WithCancel(s.core.ctx)
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
		cancel()
	}()
	n, err := s.writeFile(ctx, id, path, lw.format, write)
	res.Rows = n
	switch {
	case errors.Is(err, ErrExportCancelled) || errors.Is(err, context.Canceled):
		res.Cancelled = true
		s.opts.Emit(EventExportProgress, ExportProgress{ID: id, Written: n, Done: true})
		return res, nil
	case err != nil:
		return res, &Error{Code: "export_failed", Message: "The file could not be written: " + sentence(err.Error()), Params: map[string]any{"rule": "write"}}
	}
	res.Path = path
	return res, nil
}

// writeFile writes to a temporary file beside path and renames it into
// place at the end, so a cancelled or failed export leaves nothing half
// written (and an existing file untouched).
func (s *ExportService) writeFile(ctx context.Context, id, path string, format csvexport.Format, write writeFunc) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".outpost-export-*.csv")
	if err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w, err := csvexport.NewWriterFormat(tmp, format)
	if err != nil {
		return 0, err
	}
	var last int64
	progress := func(n, total int64) error {
		if n-last < int64(s.opts.Chunk) && n != total {
			return nil
		}
		last = n
		if err := ctx.Err(); err != nil {
			return ErrExportCancelled
		}
		if err := w.Flush(); err != nil {
			return err
		}
		s.opts.Emit(EventExportProgress, ExportProgress{ID: id, Written: n, Total: total})
		return nil
	}
	n, err := write(ctx, w, progress)
	if err == nil && ctx.Err() != nil {
		err = ErrExportCancelled
	}
	if err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, err
	}
	ok = true
	s.opts.Emit(EventExportProgress, ExportProgress{ID: id, Written: n, Total: n, Done: true})
	return n, nil
}

// recordHeader is the records export's header row.
var recordHeader = []string{WordCreated, WordUpdated, WordLine, WordLineName, WordProduct, WordProductName, WordQuantity, WordUnit,
	WordOperatorBadge, WordOperator, WordNotSynced, WordRecordID}

func (s *ExportService) writeRecords(ctx context.Context, f RecordFilter, w *csvexport.Writer, lw exportLocale, progress func(n, total int64) error) (int64, error) {
	if err := w.Write(lw.header(recordHeader...)...); err != nil {
		return 0, err
	}
	var n int64
	_, err := call(s.core, func(cctx context.Context, st *localDB) (struct{}, error) {
		loc, _ := s.dash.siteClock(cctx, st)
		names, err := readSiteNames(cctx, st)
		if err != nil {
			return struct{}{}, err
		}
		// The export outlives one call's timeout: it runs on ctx.
		err = st.EachRecord(ctx, store.RecordFilter{
			LineID: f.LineID, ProductID: f.ProductID, OperatorID: f.OperatorID,
			From: f.From, To: f.To, Sort: f.Sort, Desc: f.Desc,
		}, func(r store.Record, total int64) error {
			pending := lw.word(WordNo)
			if r.Pending() {
				pending = lw.word(WordYes)
			}
			product, unit := names.product(r.ProductID)
			if err := w.Write(localTime(loc, r.CreatedAt), localTime(loc, r.UpdatedAt), r.LineID, names.line(r.LineID),
				r.ProductID, product, r.Quantity, unit, r.OperatorID, names.people[r.OperatorID], pending, r.ID); err != nil {
				return err
			}
			n++
			return progress(n, total)
		})
		if n == 0 && err == nil {
			err = progress(0, 0)
		}
		return struct{}{}, err
	})
	return n, err
}

// localTime is ms as a local time in loc: the writer writes it in the
// layout the locale's spreadsheet reads as a date and time
// ("2026-12-06 23:41:17", "06.12.2026 23:41:17"), not as text.
func localTime(loc *time.Location, ms int64) time.Time {
	return time.UnixMilli(ms).In(loc)
}

// writeDashboard writes the dashboard's bars: one row per period, line and
// product.
func writeDashboard(v dashView, w *csvexport.Writer, lw exportLocale, progress func(n, total int64) error) (int64, error) {
	d := v.Dashboard
	total := int64(len(d.Totals))
	if err := w.Write(lw.header(WordFrom, WordTo, WordPeriod, WordLine, WordLineName, WordProduct, WordProductName, WordQuantity, WordUnit, WordRecords)...); err != nil {
		return 0, err
	}
	var n int64
	for _, t := range d.Totals {
		b := d.Buckets[t.Bucket]
		product, unit := v.names.product(t.ProductID)
		if err := w.Write(localTime(v.loc, b.From), localTime(v.loc, b.To), lw.period(b, v.loc), t.LineID, v.names.line(t.LineID),
			t.ProductID, product, t.Quantity, unit, t.Records); err != nil {
			return n, err
		}
		n++
		if err := progress(n, total); err != nil {
			return n, err
		}
	}
	return n, progress(n, n)
}

// writeLines writes each line against its target: one row per line and
// unit; the target only beside a line's one unit (a line that made kg and
// pieces cannot be compared with one number).
func writeLines(v dashView, w *csvexport.Writer, lw exportLocale, progress func(n, total int64) error) (int64, error) {
	d := v.Dashboard
	if err := w.Write(lw.header(WordFrom, WordTo, WordLine, WordLineName, WordQuantity, WordUnit, WordRecords, WordTargetPerHour, WordTarget, WordTargetSince)...); err != nil {
		return 0, err
	}
	var n int64
	for _, l := range d.Lines {
		units := l.Units
		if len(units) == 0 {
			units = []UnitQuantity{{}}
		}
		for _, u := range units {
			var rate, tgt, since any
			if !l.Mixed && l.TargetRate != nil {
				rate, tgt = *l.TargetRate, *l.Target
				since = localTime(v.loc, max(l.TargetSince, d.From))
			}
			if err := w.Write(localTime(v.loc, d.From), localTime(v.loc, d.To), l.LineID, v.names.line(l.LineID),
				u.Quantity, u.Unit, u.Records, rate, tgt, since); err != nil {
				return n, err
			}
			n++
			if err := progress(n, 0); err != nil {
				return n, err
			}
		}
	}
	return n, progress(n, n)
}
