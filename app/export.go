package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	// SaveDialog asks where to save; "" means the person cancelled.
	SaveDialog func(title, defaultName string) (string, error)
	Emit       func(name string, data any)
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
// file the person chooses.
func (s *ExportService) ExportRecords(id string, f RecordFilter) (ExportResult, error) {
	name := fmt.Sprintf("outpost-records-%s.csv", s.opts.Now().Format("2006-01-02-1504"))
	return s.export(id, "Export records", name, func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
		return writeRecords(ctx, s.core, f, w, progress)
	})
}

// ExportDashboard writes the dashboard's numbers for q to a CSV file: one
// row per bucket, line and product, then each line against its target.
func (s *ExportService) ExportDashboard(id string, q DashboardQuery) (ExportResult, error) {
	d, err := s.dash.Get(q)
	if err != nil {
		return ExportResult{}, err
	}
	name := fmt.Sprintf("outpost-dashboard-%s.csv", s.opts.Now().Format("2006-01-02-1504"))
	return s.export(id, "Export dashboard", name, func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
		return writeDashboard(d, w, progress)
	})
}

type writeFunc func(ctx context.Context, w *csvexport.Writer, progress func(n, total int64) error) (int64, error)

func (s *ExportService) export(id, title, defaultName string, write writeFunc) (ExportResult, error) {
	if id == "" {
		id = uuid.NewString()
	}
	res := ExportResult{ID: id}
	if s.opts.SaveDialog == nil {
		return res, &Error{Code: CodeInternal, Message: "Saving files is not available here."}
	}
	path, err := s.opts.SaveDialog(title, defaultName)
	if err != nil {
		return res, &Error{Code: "export_failed", Message: "The save dialog could not be opened."}
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
	n, err := s.writeFile(ctx, id, path, write)
	res.Rows = n
	switch {
	case errors.Is(err, ErrExportCancelled) || errors.Is(err, context.Canceled):
		res.Cancelled = true
		s.opts.Emit(EventExportProgress, ExportProgress{ID: id, Written: n, Done: true})
		return res, nil
	case err != nil:
		return res, &Error{Code: "export_failed", Message: "The file could not be written: " + sentence(err.Error())}
	}
	res.Path = path
	return res, nil
}

// writeFile writes to a temporary file beside path and renames it into
// place at the end, so a cancelled or failed export leaves nothing half
// written (and an existing file untouched).
func (s *ExportService) writeFile(ctx context.Context, id, path string, write writeFunc) (int64, error) {
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
	w, err := csvexport.NewWriter(tmp)
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
var recordHeader = []any{"id", "created_at", "updated_at", "line_id", "product_id", "quantity", "operator_id", "pending"}

func writeRecords(ctx context.Context, c *Core, f RecordFilter, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
	if err := w.Write(recordHeader...); err != nil {
		return 0, err
	}
	var n int64
	_, err := callLocal(c, func(cctx context.Context, st *store.Store) (struct{}, error) {
		// The export outlives one call's timeout: it runs on ctx.
		err := st.EachRecord(ctx, store.RecordFilter{
			LineID: f.LineID, ProductID: f.ProductID, OperatorID: f.OperatorID,
			From: f.From, To: f.To, Sort: f.Sort, Desc: f.Desc,
		}, func(r store.Record, total int64) error {
			pending := "no"
			if r.Pending() {
				pending = "yes"
			}
			if err := w.Write(r.ID, isoTime(r.CreatedAt), isoTime(r.UpdatedAt), r.LineID, r.ProductID, r.Quantity, r.OperatorID, pending); err != nil {
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

func isoTime(ms int64) string { return time.UnixMilli(ms).Format(time.RFC3339) }

func writeDashboard(d Dashboard, w *csvexport.Writer, progress func(n, total int64) error) (int64, error) {
	loc, err := time.LoadLocation(d.TimeZone)
	if err != nil { // "UTC +00:00"-style names are the device's zone
		loc = time.Local
	}
	local := func(ms int64) string { return time.UnixMilli(ms).In(loc).Format(time.RFC3339) }
	total := int64(len(d.Totals) + len(d.Lines))
	if err := w.Write("section", "bucket_start", "bucket_end", "bucket", "line_id", "product_id", "quantity", "records", "target_rate_per_hour", "target"); err != nil {
		return 0, err
	}
	var n int64
	for _, t := range d.Totals {
		b := d.Buckets[t.Bucket]
		if err := w.Write("bucket", local(b.From), local(b.To), b.Label, t.LineID, t.ProductID, t.Quantity, t.Records, nil, nil); err != nil {
			return n, err
		}
		n++
		if err := progress(n, total); err != nil {
			return n, err
		}
	}
	for _, l := range d.Lines {
		if err := w.Write("line", local(d.From), local(d.To), "", l.LineID, "", l.Quantity, l.Records, l.TargetRate, l.Target); err != nil {
			return n, err
		}
		n++
		if err := progress(n, total); err != nil {
			return n, err
		}
	}
	return n, progress(n, n)
}
