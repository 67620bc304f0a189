package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// SyncOptions configures the SyncService. main fills it.
type SyncOptions struct {
	// Tokens keeps the device credentials; default the OS keychain
	// (syncclient.KeychainTokens, account "device-token").
	Tokens syncclient.TokenStore
	// ExtraCAFile is a PEM bundle trusted besides the system CAs.
	ExtraCAFile string
	// DeviceName is sent at enrollment (default the host name).
	DeviceName string
	// ServerURL and Code, when both set (managed config, or `make run`),
	// enroll the device at start if it is not enrolled yet.
	ServerURL, Code string
	// OnStatus is called on every status change (main emits it to the UI as
	// the "sync:status" event).
	OnStatus func(SyncStatus)
	// Transport replaces the HTTP transport (tests cut the network with it).
	Transport http.RoundTripper
	// Config, when set, supplies ServerURL, Code and the transport (proxy and
	// CAs) from the managed/user configuration; when it holds an error, sync
	// does not start and the status says why in a sentence.
	Config *Config
}

// SyncSettings is what the setup and settings screens show: the resolved
// settings (secrets blanked, locked ones read-only), a configuration error
// as a sentence, and the state of the automatic enrollment with a
// configured code.
type SyncSettings struct {
	Fields      []SettingField `json:"fields"`
	ConfigError string         `json:"configError"`
	// CodeConfigured: an enrollment code is configured, so the setup screen
	// may enroll without asking for one.
	CodeConfigured bool `json:"codeConfigured"`
	// AutoEnrolling: the app is enrolling with the configured code right now.
	AutoEnrolling bool `json:"autoEnrolling"`
	// AutoEnrollError is why the automatic enrollment failed, as a sentence.
	AutoEnrollError string `json:"autoEnrollError"`
	// AutoEnrollCode and AutoEnrollParams are the same failure as an
	// error's code and params, so the screen says it in the operator's
	// language (issue 21).
	AutoEnrollCode   string         `json:"autoEnrollCode,omitempty"`
	AutoEnrollParams map[string]any `json:"autoEnrollParams,omitempty" ts_type:"{[key: string]: any}"`
}

// SyncService is bound into the WebView: sync status, sync now, enrollment,
// unenrollment and the quarantine. It starts the sync client once the local
// store is open (Wrap) and stops it at Shutdown.
type SyncService struct {
	opts SyncOptions

	mu     sync.Mutex
	client *syncclient.Client
	ready  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	failed error

	autoEnrolling   bool
	autoEnrollError *Error

	// db is the local database the client runs on, nil until it is open.
	db          *localDB
	lastSync    int64
	sendingDecs atomic.Bool

	// sess, when set (NewSessionService), names who resolves conflicts.
	sess *SessionService
	// secrets redacts PIN hashes from every row the WebView gets (the
	// quarantine here, the conflict inbox and history).
	secrets redactor
}

// deviceRole is this device's enrollment role, "" when not enrolled (or
// sync is not running).
func (s *SyncService) deviceRole() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	cl := s.client
	s.mu.Unlock()
	if cl == nil {
		return ""
	}
	return cl.Role()
}

// local returns the open local database, or nil.
func (s *SyncService) local() *localDB {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db
}

// afterSync sends queued conflict decisions once a sync succeeded (the
// server is reachable), one sender at a time.
func (s *SyncService) afterSync(cl *syncclient.Client, st syncclient.Status) {
	s.mu.Lock()
	fresh := st.Online && !st.Syncing && st.LastSync != s.lastSync
	if fresh {
		s.lastSync = st.LastSync
	}
	s.mu.Unlock()
	if !fresh || !s.sendingDecs.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.sendingDecs.Store(false)
		s.sendQueued(cl)
	}()
}

// NewSyncService returns the service; wire it with Wrap.
func NewSyncService(opts SyncOptions) *SyncService {
	if opts.Tokens == nil {
		opts.Tokens = &syncclient.KeychainTokens{}
	}
	if c := opts.Config; c != nil && c.Err == nil {
		opts.ServerURL, opts.Code, opts.ExtraCAFile = c.ServerURL, c.EnrollCode, c.CAFile
	}
	return &SyncService{opts: opts, ready: make(chan struct{})}
}

// Wrap returns an OpenFunc that opens the store with open, starts the sync
// client on it, and has the database tell the client about every local
// write that syncs (so it syncs shortly after, debounced; see localDB).
func (s *SyncService) Wrap(open OpenFunc) OpenFunc {
	return func(ctx context.Context) (Opened, error) {
		o, err := open(ctx)
		if err != nil {
			s.fail(err)
			return o, err
		}
		o.db.wrote = s.notify
		s.start(ctx, o.db)
		return o, nil
	}
}

func (s *SyncService) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
		close(s.ready)
	}
}

func (s *SyncService) start(ctx context.Context, db *localDB) {
	name := s.opts.DeviceName
	if name == "" {
		name = hostName()
	}
	httpOpts := syncclient.HTTPOptions{ExtraCAFile: s.opts.ExtraCAFile}
	if c := s.opts.Config; c != nil && c.Transport != nil {
		// The transport already trusts the bundle and uses the proxy.
		httpOpts = syncclient.HTTPOptions{Transport: c.Transport}
	}
	if s.opts.Transport != nil {
		httpOpts = syncclient.HTTPOptions{Transport: s.opts.Transport}
	}
	var cl *syncclient.Client
	cl = syncclient.New(syncclient.Options{
		Store: db.Store, Tokens: s.opts.Tokens, HTTP: httpOpts,
		DeviceName: name, Platform: runtime.GOOS,
		OnStatus: func(st syncclient.Status) {
			if cl != nil {
				s.afterSync(cl, st)
			}
			if s.opts.OnStatus != nil {
				s.opts.OnStatus(s.decorate(st))
			}
		},
	})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.mu.Lock()
	s.client, s.cancel, s.done, s.db = cl, cancel, done, db
	close(s.ready)
	s.mu.Unlock()
	if msg := s.opts.Config.ErrSentence(); msg != "" {
		// A broken configuration: the store works, sync stays off.
		slog.Error("sync not started: the configuration could not be read", "err", s.opts.Config.Err)
		close(done)
		return
	}
	go func() {
		defer close(done)
		if s.opts.ServerURL != "" && s.opts.Code != "" {
			if err := cl.Load(rctx); err == nil && !cl.Status(rctx).Enrolled {
				s.setAuto(true, nil)
				_, err := cl.Enroll(rctx, s.opts.ServerURL, s.opts.Code)
				var failed *Error
				if err != nil {
					// The code is a secret: only the server and the error are logged.
					slog.Error("enroll with the configured server", "server", s.opts.ServerURL, "err", err)
					failed = toError(syncError(err))
				}
				s.setAuto(false, failed)
			}
		}
		cl.Run(rctx)
	}()
}

// setAuto records whether the automatic enrollment runs and why it
// failed (nil: it did not).
func (s *SyncService) setAuto(running bool, failed *Error) {
	s.mu.Lock()
	s.autoEnrolling, s.autoEnrollError = running, failed
	s.mu.Unlock()
}

// decorate adds what the client cannot know: a configuration error, and
// the clock warning against the site's allowed clock difference (read on
// every status, so a pulled setting applies at once).
func (s *SyncService) decorate(st syncclient.Status) SyncStatus {
	if msg := s.opts.Config.ErrSentence(); msg != "" {
		st.LastError, st.Online = msg, false
	}
	if th := s.clockWarn(); th > 0 {
		st.ClockWarning = syncclient.ClockWarning(st.ClockOffsetMS, th)
	}
	return syncStatusView(st)
}

// clockWarn is the site's clock_skew_ms, 0 when not set.
func (s *SyncService) clockWarn() time.Duration {
	db := s.local()
	if db == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	set, err := readSettings(ctx, db)
	if err != nil || !set.configured {
		return 0
	}
	return time.Duration(set.skewMS) * time.Millisecond
}

// configErr refuses network work while the configuration is broken.
func (s *SyncService) configErr() error {
	if msg := s.opts.Config.ErrSentence(); msg != "" {
		return &Error{Code: "config_invalid", Message: msg}
	}
	return nil
}

// Settings returns what the setup and settings screens show.
func (s *SyncService) Settings() (SyncSettings, error) {
	out := SyncSettings{Fields: []SettingField{}}
	s.mu.Lock()
	if c := s.opts.Config; c != nil {
		out.ConfigError = c.ErrSentence()
		out.Fields = settingFieldsView(c.Fields)
	}
	out.CodeConfigured = s.opts.Code != "" && out.ConfigError == ""
	out.AutoEnrolling = s.autoEnrolling
	if e := s.autoEnrollError; e != nil {
		out.AutoEnrollError, out.AutoEnrollCode, out.AutoEnrollParams = e.Message, e.Code, e.Params
	}
	s.mu.Unlock()
	return out, nil
}

// Shutdown stops the sync loop (the store is closed by Core afterwards).
func (s *SyncService) Shutdown() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *SyncService) notify() {
	s.mu.Lock()
	cl := s.client
	s.mu.Unlock()
	if cl != nil {
		cl.Notify()
	}
}

// get waits for the store to open and returns the client.
func (s *SyncService) get() (*syncclient.Client, error) {
	select {
	case <-s.ready:
	case <-time.After(callTimeout):
		return nil, &Error{Code: CodeTimeout, Message: "The local database is still opening. Try again in a moment."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return nil, &Error{Code: CodeStoreClosed, Message: "Sync is not available because the local database did not open."}
	}
	return s.client, nil
}

// Status returns the sync status.
func (s *SyncService) Status() (SyncStatus, error) {
	cl, err := s.get()
	if err != nil {
		return SyncStatus{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return s.decorate(cl.Status(ctx)), nil
}

// SyncNow pushes and pulls at once and returns the status after it.
func (s *SyncService) SyncNow() (SyncStatus, error) {
	cl, err := s.get()
	if err != nil {
		return SyncStatus{}, err
	}
	if err := s.configErr(); err != nil {
		return s.decorate(cl.Status(context.Background())), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err = cl.Sync(ctx)
	st := s.decorate(cl.Status(ctx))
	if err != nil && syncclient.Decide(err) == syncclient.ActStop {
		return st, syncError(err)
	}
	cl.Trigger() // the loop resumes its schedule (event stream, backoff)
	return st, nil
}

// Enroll connects this device to the sync server at serverURL with an
// enrollment code from IT. The token goes into the OS keychain. An empty
// code uses the configured one (which the screen never sees); a server
// address IT manages cannot be replaced.
func (s *SyncService) Enroll(serverURL, code string) (SyncStatus, error) {
	cl, err := s.get()
	if err != nil {
		return SyncStatus{}, err
	}
	if err := s.configErr(); err != nil {
		return SyncStatus{}, err
	}
	if err := s.mayEnroll(); err != nil {
		return SyncStatus{}, err
	}
	serverURL, code = strings.TrimSpace(serverURL), strings.TrimSpace(code)
	if code == "" {
		code = s.opts.Code
	}
	if c := s.opts.Config; c != nil && s.opts.ServerURL != "" && fieldLocked(c.Fields, config.ServerURL) {
		serverURL = s.opts.ServerURL
	}
	if serverURL == "" {
		return SyncStatus{}, fieldError(CodeInvalidInput, "server_url", "Enter the sync server's address, for example https://sync.example.com.").With("rule", "server_url_required")
	}
	if err := s.opts.Config.CheckServerURL(serverURL); err != nil {
		return SyncStatus{}, err // plain http:// would carry the code and the token in clear
	}
	if code == "" {
		return SyncStatus{}, fieldError(CodeInvalidInput, "code", "Enter the enrollment code IT gave you.").With("rule", "enrollment_code_required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cr, err := cl.Enroll(ctx, serverURL, code)
	if err != nil {
		return s.decorate(cl.Status(ctx)), syncError(err)
	}
	s.mu.Lock()
	err = s.opts.Config.SetServerURL(cr.ServerURL)
	s.autoEnrolling, s.autoEnrollError = false, nil
	s.mu.Unlock()
	if err != nil {
		slog.Warn("remember the server address", "err", err)
	}
	return s.decorate(cl.Status(ctx)), nil
}

func fieldLocked(fs []config.FieldState, f config.Field) bool {
	for _, st := range fs {
		if st.Field == f {
			return st.Locked
		}
	}
	return false
}

// Unenroll disconnects this device from the server. Pending edits are sent
// first; if some are still not accepted, it refuses with a sentence saying
// what would be lost unless force is set.
func (s *SyncService) Unenroll(force bool) (SyncStatus, error) {
	cl, err := s.get()
	if err != nil {
		return SyncStatus{}, err
	}
	if err := s.managerWithPIN("disconnect this computer from the server"); err != nil {
		return SyncStatus{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.Unenroll(ctx, force); err != nil {
		return s.decorate(cl.Status(ctx)), syncError(err)
	}
	return s.decorate(cl.Status(ctx)), nil
}

// Quarantine lists the rows the server refused, with its reasons.
func (s *SyncService) Quarantine() ([]QuarantinedRow, error) {
	cl, err := s.get()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	q, err := cl.Quarantine(ctx)
	out := make([]QuarantinedRow, 0, len(q))
	for _, r := range q {
		out = append(out, quarantinedRowView(r, s.secrets.row(r.Row)))
	}
	return out, err
}

// Resubmit sends a quarantined row again, after it was fixed.
func (s *SyncService) Resubmit(table, id string) error {
	cl, err := s.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return mapErr(cl.Resubmit(ctx, table, id))
}

// Discard drops a quarantined row's local edit; the row returns to the
// server's state.
func (s *SyncService) Discard(table, id string) error {
	cl, err := s.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := s.mayDiscard(ctx, cl, table, id); err != nil {
		return err
	}
	if err := cl.Discard(ctx, table, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return mapErr(err)
		}
		return syncError(err)
	}
	return nil
}

// actor is who acts on this terminal for a sync action; ok is false when
// sign-in does not apply (no session service, or the store is not open).
func (s *SyncService) actor(ctx context.Context) (actor, bool, error) {
	db := s.local()
	if s.sess == nil || db == nil {
		return actor{}, false, nil
	}
	a, err := actorOf(ctx, s.sess, db)
	return a, err == nil, err
}

// managerWithPIN refuses what (a phrase: "disconnect this computer from
// the server") unless a manager who signed in with a PIN is signed in. A
// site without people has no sign-in on its terminals: anyone may then.
func (s *SyncService) managerWithPIN(what string) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	a, ok, err := s.actor(ctx)
	if err != nil || !ok || !a.required {
		return err
	}
	switch p := a.person; {
	case p == nil:
		return &Error{Code: CodeSignInRequired, Message: fmt.Sprintf("Sign in as a manager to %s.", what), Params: map[string]any{"rule": "manager"}}
	case p.Role != protocol.PersonManager:
		return &Error{Code: CodeForbidden, Message: fmt.Sprintf("Only a manager can %s; %s is signed in as %s.", what, p.DisplayName, p.Role),
			Params: map[string]any{"rule": "manager_only", "name": p.DisplayName}}
	case p.PINHash == "":
		return &Error{Code: CodeForbidden, Message: fmt.Sprintf("Only a manager who signs in with a PIN can %s; %s has no PIN: set one on the Site screen first.", what, p.DisplayName),
			Params: map[string]any{"rule": "manager_pin", "name": p.DisplayName}}
	}
	return nil
}

// mayEnroll: a terminal's first enrollment (not enrolled, and no people
// on it yet) needs only IT's code; enrolling again (enrolled, or the
// site's people are here from before) needs a manager with a PIN, so an
// operator cannot move the terminal to a server of their own. With no
// people on the terminal there is no sign-in, so managerWithPIN lets both
// through; with people it asks for the manager in both.
func (s *SyncService) mayEnroll() error {
	return s.managerWithPIN("connect this computer to a server again")
}

// mayDiscard: a change the server refused is thrown away only by the
// person who made it (the row's operator_id, else updated_by), a
// supervisor or a manager.
func (s *SyncService) mayDiscard(ctx context.Context, cl *syncclient.Client, table, id string) error {
	a, ok, err := s.actor(ctx)
	if err != nil || !ok || !a.required {
		return err
	}
	if a.person == nil {
		return &Error{Code: CodeSignInRequired, Message: "Sign in to discard a change: only the person who made it, a supervisor or a manager may.", Params: map[string]any{"rule": "discard"}}
	}
	p := a.person
	if p.Role == protocol.PersonSupervisor || p.Role == protocol.PersonManager {
		return nil
	}
	q, err := cl.Quarantine(ctx)
	if err != nil {
		return err
	}
	by := ""
	for _, r := range q {
		if r.Table == table && r.ID == id {
			by = author(table, r.Row)
		}
	}
	if by != "" && by == p.BadgeID {
		return nil
	}
	who := "the person who made it,"
	if by != "" {
		who = s.personName(ctx, by) + ", who made this change,"
	}
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf("Only %s a supervisor or a manager can discard it; %s is signed in as %s.", who, p.DisplayName, p.Role),
		Params: map[string]any{"rule": "discard"}}
}

// personName is the display name of badge, else the badge id.
func (s *SyncService) personName(ctx context.Context, badge string) string {
	if db := s.local(); db != nil {
		if n, err := db.PeopleNames(ctx); err == nil && n[badge] != "" {
			return n[badge]
		}
	}
	return badge
}

// syncError turns a sync failure into the sentence the UI shows.
func syncError(err error) error {
	code, rule := "sync_failed", ""
	switch {
	case errors.Is(err, syncclient.ErrNotEnrolled):
		rule = "not_enrolled"
	case errors.Is(err, syncclient.ErrProtocolTooOld):
		rule = "protocol_too_old"
	case errors.Is(err, store.ErrTimelineChanged):
		rule = "timeline_changed"
	case errors.Is(err, syncclient.ErrOffline):
		code = "offline"
	case errors.Is(err, syncclient.ErrUnsettled):
		return &Error{Code: "unsettled", Message: "Some of your work is not on the server yet: " +
			strings.TrimPrefix(err.Error(), syncclient.ErrUnsettled.Error()+": ") +
			". Sync first if you can. If you disconnect anyway, the work stays on this computer and is sent when it is connected to this site again."}
	case errors.Is(err, syncclient.ErrUnauthorized):
		// The rule says which refusal (errors.unauthorized.<rule>): a
		// device revoked, or one the server does not know (a server
		// restored from an older backup); both keep the work here.
		code, rule = "unauthorized", syncclient.UnauthorizedReason(err)
	}
	var ae *syncclient.APIError
	if errors.As(err, &ae) && ae.Code == "invalid_code" {
		return &Error{Code: "invalid_code", Field: "code", Message: "The enrollment code was not accepted: it may be mistyped, used up or expired. Ask IT for a new one."}
	}
	e := &Error{Code: code, Message: syncclient.Sentence(err)}
	if rule != "" {
		e = e.With("rule", rule)
	}
	return e
}

func hostName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "Outpost desktop"
}
