package syncclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Sentinel errors callers branch on.
var (
	// ErrOffline: the server could not be reached (or answered 5xx); retry
	// later, nothing is lost.
	ErrOffline = errors.New("the sync server cannot be reached")
	// ErrResyncRequired: the pull cursor is behind the server's purge
	// horizon or ahead of its sequence (410).
	ErrResyncRequired = errors.New("the server asks for a full re-sync")
	// ErrUnauthorized: the token is missing, unknown or revoked (401).
	ErrUnauthorized = errors.New("this device is not (or no longer) enrolled with the server")
	// ErrNotEnrolled: no token is stored.
	ErrNotEnrolled = errors.New("this device is not enrolled with a sync server")
	// ErrProtocolTooOld: the server no longer speaks this app's protocol (426).
	ErrProtocolTooOld = errors.New("the sync server needs a newer version of Outpost")
)

// APIError is an error answer of the server.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Row and Version accompany 409 stale_base: the row's current state.
	Row     map[string]any
	Version *int64
	// Sequence and Timeline accompany 410 resync_required (servers that
	// send them): the site's current sequence and the server's timeline.
	Sequence *int64
	Timeline string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap maps the statuses callers branch on to the sentinels.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusGone:
		return ErrResyncRequired
	case e.Status == http.StatusConflict && e.Code == protocol.CodeTimelineChanged:
		return syncstate.ErrTimelineChanged
	case e.Status == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.Status == http.StatusUpgradeRequired:
		return ErrProtocolTooOld
	case e.Status >= 500 || e.Status == http.StatusTooManyRequests:
		return ErrOffline
	}
	return nil
}

// HTTPOptions configures the HTTP side of the client.
type HTTPOptions struct {
	// ExtraCAFile is a PEM bundle trusted besides the system's CAs (sites
	// with an internal CA).
	ExtraCAFile string
	// Timeout bounds one request (the event stream excepted). Default 60 s.
	Timeout time.Duration
	// Transport replaces the default transport (tests inject faults).
	Transport http.RoundTripper
}

// API speaks the wire contract v1 (docs/design.md section 4) to one server: gzip
// request bodies, Outpost-Protocol: 1, the bearer token, the system proxy
// (HTTPS_PROXY …) and the system CA pool.
type API struct {
	base  *url.URL
	token string
	// timeline is the server timeline the device follows, sent on push and
	// resolve (Outpost-Timeline) once known.
	mu       sync.Mutex
	timeline string
	http     *http.Client // with a timeout
	stream   *http.Client // without one: the event stream lives long
}

// NewAPI returns an API for the server at baseURL (http or https) using
// token (empty for health and enrollment).
func NewAPI(baseURL, token string, opts HTTPOptions) (*API, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server address %q: must look like https://sync.example.com", baseURL)
	}
	rt := opts.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = http.ProxyFromEnvironment
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if opts.ExtraCAFile != "" {
			pem, err := os.ReadFile(opts.ExtraCAFile)
			if err != nil {
				return nil, fmt.Errorf("read CA bundle: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", opts.ExtraCAFile)
			}
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		tr.ResponseHeaderTimeout = 0
		rt = tr
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	return &API{
		base:   u,
		token:  token,
		http:   &http.Client{Transport: rt, Timeout: opts.Timeout},
		stream: &http.Client{Transport: rt},
	}, nil
}

// SetTimeline sets the timeline push and resolve name ("" = none known yet:
// the header is left out).
func (a *API) SetTimeline(timeline string) {
	a.mu.Lock()
	a.timeline = timeline
	a.mu.Unlock()
}

func (a *API) currentTimeline() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.timeline
}

// BaseURL returns the server address.
func (a *API) BaseURL() string { return a.base.String() }

func (a *API) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		rd = &buf
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set(protocol.HeaderProtocol, strconv.Itoa(protocol.Version))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return req, nil
}

// do sends one request and decodes a 2xx JSON answer into out, keeping
// numbers exact. Network failures wrap ErrOffline.
func (a *API) do(ctx context.Context, method, path string, body []byte, out any) error {
	return a.doTimeline(ctx, method, path, body, "", out)
}

// doTimeline is do with the Outpost-Timeline header when timeline is set.
func (a *API) doTimeline(ctx context.Context, method, path string, body []byte, timeline string, out any) error {
	req, err := a.newRequest(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if timeline != "" {
		req.Header.Set(protocol.HeaderTimeline, timeline)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %s: %w (%v)", method, path, ErrOffline, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w (%v)", method, path, ErrOffline, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode}
		var eb protocol.ErrorBody
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&eb) == nil {
			ae.Code, ae.Message, ae.Row, ae.Version = eb.Error.Code, eb.Error.Message, eb.Error.Row, eb.Error.Version
			ae.Sequence, ae.Timeline = eb.Error.Sequence, eb.Error.Timeline
		}
		return fmt.Errorf("%s %s: %w", method, path, ae)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		// A cut-off answer through a proxy: as good as no answer.
		return fmt.Errorf("%s %s: decode answer: %w (%v)", method, path, ErrOffline, err)
	}
	return nil
}

// Health probes GET /v1/health.
func (a *API) Health(ctx context.Context) (protocol.HealthResponse, error) {
	var h protocol.HealthResponse
	err := a.do(ctx, http.MethodGet, "/v1/health", nil, &h)
	return h, err
}

// Enroll trades an enrollment code for a device id and token.
func (a *API) Enroll(ctx context.Context, req protocol.EnrollRequest) (protocol.EnrollResponse, error) {
	body, _ := json.Marshal(req)
	var out protocol.EnrollResponse
	err := a.do(ctx, http.MethodPost, "/v1/enroll", body, &out)
	return out, err
}

// Push sends a persisted batch body exactly as stored, naming the
// timeline set with SetTimeline.
func (a *API) Push(ctx context.Context, body []byte) (protocol.PushResponse, error) {
	var out protocol.PushResponse
	err := a.doTimeline(ctx, http.MethodPost, "/v1/push", body, a.currentTimeline(), &out)
	return out, err
}

// Pull reads one page of changes after cursor (a reader that commits
// nothing: the cursor counts as committed, as for older clients).
func (a *API) Pull(ctx context.Context, cursor int64, limit int) (protocol.PullResponse, error) {
	return a.PullPage(ctx, PullParams{Cursor: cursor, Limit: limit, Committed: -1})
}

// PullParams are the parameters of one pull request.
type PullParams struct {
	Cursor int64
	Limit  int
	// Committed is the cursor the device has durably committed locally
	// (committed=, docs/design.md section 3): pages it prefetched ahead of its
	// commits are not counted by retention. Negative: not sent.
	Committed int64
	// Full marks a page of a full pass (full=1): the chain began at 0.
	Full bool
	// Verified is the cursor the device last verified its data at
	// (verified=, docs/design.md section 8); 0: not sent.
	Verified int64
}

// PullAnswer is a pull page with the checksums the server adds to the page
// that answers has_more false (docs/design.md section 8): per table of the feed
// with a live row, at the page's cursor. Nil Checksums on a final page: a
// server older than verification.
type PullAnswer struct {
	protocol.PullResponse
	Checksums map[string]checksum.Wire `json:"checksums,omitempty"`
}

// PullPage reads one page of changes after p.Cursor.
func (a *API) PullPage(ctx context.Context, p PullParams) (protocol.PullResponse, error) {
	out, err := a.PullAnswer(ctx, p)
	return out.PullResponse, err
}

// PullAnswer reads one page of changes after p.Cursor with its checksums.
func (a *API) PullAnswer(ctx context.Context, p PullParams) (PullAnswer, error) {
	q := fmt.Sprintf("/v1/pull?cursor=%d&limit=%d", p.Cursor, p.Limit)
	if p.Committed >= 0 {
		q += fmt.Sprintf("&committed=%d", min(p.Committed, p.Cursor))
	}
	if p.Full {
		q += "&full=1"
	}
	if p.Verified > 0 {
		q += fmt.Sprintf("&verified=%d", p.Verified)
	}
	var out PullAnswer
	err := a.do(ctx, http.MethodGet, q, nil, &out)
	return out, err
}

// ChecksumsAnswer is GET /v1/checksums' answer: the checksum of every
// non-empty bucket of one table at the site's sequence Cursor.
type ChecksumsAnswer struct {
	Cursor  int64                    `json:"cursor"`
	Buckets map[string]checksum.Wire `json:"buckets"`
}

// Checksums reads the bucket checksums of table.
func (a *API) Checksums(ctx context.Context, table string) (ChecksumsAnswer, error) {
	var out ChecksumsAnswer
	err := a.do(ctx, http.MethodGet, "/v1/checksums?table="+url.QueryEscape(table), nil, &out)
	return out, err
}

// RowsAnswer is one page of GET /v1/rows: live rows of one bucket in
// ascending order of id, after the request's after=.
type RowsAnswer struct {
	Cursor  int64                 `json:"cursor"`
	Rows    []protocol.PullChange `json:"rows"`
	HasMore bool                  `json:"has_more"`
}

// Rows reads one page of bucket's live rows after id after ("" = from the
// start).
func (a *API) Rows(ctx context.Context, bucket, after string) (RowsAnswer, error) {
	q := "/v1/rows?bucket=" + url.QueryEscape(bucket)
	if after != "" {
		q += "&after=" + url.QueryEscape(after)
	}
	var out RowsAnswer
	err := a.do(ctx, http.MethodGet, q, nil, &out)
	return out, err
}

// HistoryEntry is one stored version of a row (GET /v1/history).
type HistoryEntry struct {
	Version  int64          `json:"version"`
	HLC      string         `json:"hlc"`
	DeviceID string         `json:"device_id"`
	Row      map[string]any `json:"row"`
}

// History returns every stored version of a row, oldest first.
func (a *API) History(ctx context.Context, table, id string) ([]HistoryEntry, error) {
	var out struct {
		Versions []HistoryEntry `json:"versions"`
	}
	q := url.Values{"table": {table}, "id": {id}}
	err := a.do(ctx, http.MethodGet, "/v1/history?"+q.Encode(), nil, &out)
	return out.Versions, err
}

// Resolve decides conflict id (manager devices).
func (a *API) Resolve(ctx context.Context, id string, req protocol.ResolveRequest) (protocol.ResolveResponse, error) {
	body, _ := json.Marshal(req)
	var out protocol.ResolveResponse
	err := a.doTimeline(ctx, http.MethodPost, "/v1/conflicts/"+url.PathEscape(id)+"/resolve", body, a.currentTimeline(), &out)
	return out, err
}

// Events reads the server-sent event stream until it ends or ctx is done,
// calling onChange with each announced cursor. It returns the reason the
// stream ended.
func (a *API) Events(ctx context.Context, onChange func(cursor int64)) error {
	req, err := a.newRequest(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := a.stream.Do(req)
	if err != nil {
		return fmt.Errorf("events: %w (%v)", ErrOffline, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("events: %w", &APIError{Status: resp.StatusCode})
	}
	return readEvents(resp.Body, onChange)
}

// readEvents parses a text/event-stream: "event: change" followed by
// "data: {"cursor":N}", events ending at a blank line; comments ignored.
func readEvents(r io.Reader, onChange func(int64)) error {
	sc := bufio.NewScanner(r)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "change" {
				var ev protocol.EventChange
				if json.Unmarshal([]byte(data), &ev) == nil {
					onChange(ev.Cursor)
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("events: %w (%v)", ErrOffline, err)
	}
	return fmt.Errorf("events: %w (stream closed)", ErrOffline)
}
