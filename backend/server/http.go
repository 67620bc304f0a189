package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// apiError is an answer other than success: status plus the JSON error body.
type apiError struct {
	Status  int
	Code    string
	Message string
	Row     protocol.Row
	Version *int64
	// Sequence and Timeline accompany 410 resync_required and 409
	// timeline_changed.
	Sequence *int64
	Timeline string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// reqInfo collects what the request log line says.
type reqInfo struct {
	deviceID string
	site     string
	errCode  string
	err      error
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// recorder captures the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// intercept turns the mux's plain-text 404/405 into JSON errors.
	intercept bool
	swallow   bool
}

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if w.intercept && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.swallow = true
		e := errf(http.StatusNotFound, "not_found", "There is no such endpoint.")
		if code == http.StatusMethodNotAllowed {
			e = errf(code, "method_not_allowed", "This endpoint does not accept this HTTP method.")
		}
		body, _ := json.Marshal(protocol.ErrorBody{Error: protocol.ErrorDetail{Code: e.Code, Message: e.Message}})
		h := w.ResponseWriter.Header()
		h.Del("X-Content-Type-Options")
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.ResponseWriter.WriteHeader(code)
		n, _ := w.ResponseWriter.Write(body)
		w.bytes += int64(n)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument logs one line per request, counts it, and makes the mux's own
// 404 and 405 answers JSON. Handlers never panic out: a panic is a 500.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		rec := &recorder{ResponseWriter: w}
		if _, pattern := s.mux.Handler(r); pattern == "" {
			rec.intercept = true
		}
		route := "unknown"
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				ri.err = fmt.Errorf("panic: %v", p)
				if rec.status == 0 {
					s.writeError(rec, r, errf(http.StatusInternalServerError, "internal", "The server met an internal error."))
				}
			}
			if r.Pattern != "" {
				route = r.Pattern
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observe(route, status, d)
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Int64("bytes", rec.bytes), slog.Duration("duration", d),
				slog.String("remote", clientAddr(r)),
			}
			if ri.deviceID != "" {
				attrs = append(attrs, slog.String("device", ri.deviceID), slog.String("site", ri.site))
			}
			if ri.errCode != "" {
				attrs = append(attrs, slog.String("error_code", ri.errCode))
			}
			level := slog.LevelInfo
			if ri.err != nil {
				attrs = append(attrs, slog.String("err", ri.err.Error()))
				level = slog.LevelError
			}
			s.cfg.Logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// checkProtocol answers 426 to clients older than MinVersion. A request
// without the header is served as version 1.
func checkProtocol(r *http.Request) error {
	v := strings.TrimSpace(r.Header.Get(protocol.HeaderProtocol))
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		// "Any value below 1 gets 426": 0.5 too.
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f < float64(protocol.MinVersion) {
			return errf(http.StatusUpgradeRequired, "protocol_unsupported",
				"This Outpost app is too old for the sync server (protocol %s; the server needs %d or later). Please update the app.", clip(v, 16), protocol.MinVersion)
		}
		return errf(http.StatusBadRequest, "malformed", "The %s header must be a whole number.", protocol.HeaderProtocol)
	}
	if n < protocol.MinVersion {
		return errf(http.StatusUpgradeRequired, "protocol_unsupported",
			"This Outpost app is too old for the sync server (protocol %d; the server needs %d or later). Please update the app.", n, protocol.MinVersion)
	}
	return nil
}

// open wraps a handler that needs no token.
func (s *Server) open(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkProtocol(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// authed wraps a handler that needs a device token.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, Device) error) http.HandlerFunc {
	return s.open(func(w http.ResponseWriter, r *http.Request) error {
		dev, err := s.authenticate(r)
		if err != nil {
			return err
		}
		ri := info(r)
		ri.deviceID, ri.site = dev.ID, dev.SiteID
		return h(w, r, dev)
	})
}

func (s *Server) authenticate(r *http.Request) (Device, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return Device{}, errf(http.StatusUnauthorized, "unauthorized", "This request needs a device token (Authorization: Bearer <token>).")
	}
	dev, err := s.cfg.Store.DeviceByTokenHash(r.Context(), HashSecret(tok))
	if errors.Is(err, ErrNotFound) {
		return Device{}, errf(http.StatusUnauthorized, "unauthorized", "The device token is not known to this server; enroll the device again.")
	}
	if err != nil {
		return Device{}, fmt.Errorf("authenticate: %w", err)
	}
	if dev.RevokedAt != 0 {
		return Device{}, errf(http.StatusUnauthorized, "device_revoked", "This device was revoked by an administrator and can no longer sync.")
	}
	if s.cfg.HubSite != "" && dev.SiteID != s.cfg.HubSite {
		return Device{}, errf(http.StatusForbidden, "forbidden", "This is the site computer of %s; this device belongs to another site.", s.cfg.HubSite)
	}
	now := s.cfg.Now().UnixMilli()
	if now-dev.LastSeen > touchEvery.Milliseconds() {
		if err := s.cfg.Store.TouchDevice(r.Context(), dev.ID, now); err != nil {
			s.cfg.Logger.Warn("touch device", "device", dev.ID, "err", err)
		} else {
			dev.LastSeen = now
		}
	}
	return dev, nil
}

// writeError answers err as the JSON error body. Unknown errors are 500
// with no internals; unavailable storage is 503.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var sb *StaleBaseError
	var re *ResyncError
	var te *TimelineError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &re):
		seq := re.Seq
		ae = &apiError{Status: http.StatusGone, Code: "resync_required", Sequence: &seq, Timeline: re.Timeline,
			Message: "This device's sync position is no longer valid on the server; push pending edits, then pull again from cursor 0."}
	case errors.As(err, &te):
		seq := te.Seq
		ae = &apiError{Status: http.StatusConflict, Code: protocol.CodeTimelineChanged, Sequence: &seq, Timeline: te.Timeline,
			Message: "The server was restored from a backup since this device last synced (another timeline); nothing was applied. Adopt the server's timeline and sync again from cursor 0."}
	case errors.As(err, &sb):
		v := sb.Version
		ae = &apiError{Status: http.StatusConflict, Code: "stale_base", Message: "The row changed since the version this decision was made against; decide again on the current state.", Row: sb.Row, Version: &v}
	case errors.Is(err, ErrUnavailable):
		ae = errf(http.StatusServiceUnavailable, "database_unavailable", "The server's database is not available; try again shortly.")
		info(r).err = err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ae = errf(http.StatusServiceUnavailable, "unavailable", "The request was cancelled before it completed; try again.")
	default:
		ae = errf(http.StatusInternalServerError, "internal", "The server met an internal error.")
		info(r).err = err
	}
	info(r).errCode = ae.Code
	if ae.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	s.writeJSON(w, r, ae.Status, protocol.ErrorBody{Error: protocol.ErrorDetail{Code: ae.Code, Message: ae.Message, Row: ae.Row, Version: ae.Version,
		Sequence: ae.Sequence, Timeline: ae.Timeline}})
}

// writeJSON answers v as JSON, gzipped whenever the client accepts gzip
// (docs/design.md section 4: gzip response bodies; a client that asks gets gzip,
// whatever the size).
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			info(r).err = fmt.Errorf("encode answer: %w", err)
			body = []byte(`{"error":{"code":"internal","message":"The server met an internal error."}}`)
			status = http.StatusInternalServerError
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		h.Set("Content-Encoding", "gzip")
		body = buf.Bytes()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if qs, ok := strings.CutPrefix(params, "q="); ok {
			q, err := strconv.ParseFloat(qs, 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// readBody reads a request body, gunzipping it when sent gzip, refusing
// more than MaxBody decompressed bytes with 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	max := s.cfg.MaxBody
	tooLarge := errf(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than the server's limit of %d bytes.", max)
	if r.ContentLength > max && r.Header.Get("Content-Encoding") == "" {
		return nil, tooLarge
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	raw := max + 1
	if enc != "" && enc != "identity" {
		raw = 2*max + 1024 // compressed incompressible data grows a little
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, raw)
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge
			}
			return nil, errf(http.StatusBadRequest, "malformed", "The request body is not valid gzip.")
		}
		defer zr.Close()
		src = zr
	default:
		return nil, errf(http.StatusUnsupportedMediaType, "unsupported_encoding", "The request body's encoding %q is not supported; send identity or gzip.", clip(enc, 32))
	}
	body, err := io.ReadAll(io.LimitReader(src, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, errf(http.StatusBadRequest, "malformed", "The request body could not be read.")
	}
	if int64(len(body)) > max {
		return nil, tooLarge
	}
	return body, nil
}

func malformed(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "malformed", format, args...)
}
