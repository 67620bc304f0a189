package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/signin"
	"github.com/outpost-app/outpost/backend/store"
)

// SessionOptions configures the SessionService.
type SessionOptions struct {
	// Emit sends a runtime event to the WebView (main: runtime.EventsEmit).
	Emit func(name string, data any)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Poll bounds how long WatchSessions sleeps between deadline checks
	// (default 5 s: a suspended computer or a clock jump is noticed soon).
	Poll time.Duration
}

// SessionService is bound into the WebView: who is signed in on this
// shared terminal. Sign-in is required once the site has an active person;
// the record, line configuration, site data and conflict services take the
// person from it.
type SessionService struct {
	core *Core
	sync *SyncService
	opts SessionOptions
	m    *signin.Manager
	// told is whether the last Session the WebView got said sign-in is
	// required (1) or not (0); -1 before the first.
	told atomic.Int32
}

// NewSessionService returns the session service and attaches it to core
// and sync, whose services consult it.
func NewSessionService(core *Core, sync *SyncService, opts SessionOptions) *SessionService {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	s := &SessionService{core: core, sync: sync, opts: opts}
	s.told.Store(-1)
	d := &siteDirectory{core: core}
	s.m = signin.New(signin.Options{Directory: d, Attempts: d, Now: opts.Now})
	core.sess = s
	if sync != nil {
		sync.sess = s
	}
	return s
}

func (s *SessionService) emit(v Session) {
	if s.opts.Emit != nil {
		s.opts.Emit(EventSessionChanged, v)
	}
}

// actor is who acts on this device: whether sign-in is required, and the
// signed-in person (nil when nobody is).
type actor struct {
	required bool
	person   *signin.Person
}

// badge is the person's badge id, "" when nobody is signed in.
func (a actor) badge() string {
	if a.person == nil {
		return ""
	}
	return a.person.BadgeID
}

// peopleReader reads who may act: the site's people and its sign-in rules.
type peopleReader interface {
	siteReader
	CountActive(ctx context.Context, table string) (int, error)
	PersonByBadge(ctx context.Context, badge string) (store.SiteRow, error)
}

// actorOf says who acts now, for a service about to write. Without a
// session service (tests of other parts) nobody is required.
func actorOf(ctx context.Context, sess *SessionService, st peopleReader) (actor, error) {
	if sess == nil {
		return actor{}, nil
	}
	req, err := signInRequired(ctx, st)
	if err != nil {
		return actor{}, err
	}
	a := actor{required: req}
	cur, ended := sess.m.Refresh(ctx)
	if ended {
		sess.emit(sess.view(ctx, st, cur, req))
	}
	if cur.SignedIn {
		p := cur.Person
		a.person = &p
	}
	return a, nil
}

// errSignInRequired is returned for a write that needs a signed-in person.
var errSignInRequired = &Error{Code: CodeSignInRequired, Message: "Sign in first: this site records who does what."}

// signInRequired: the site has at least one active person.
func signInRequired(ctx context.Context, st peopleReader) (bool, error) {
	n, err := st.CountActive(ctx, protocol.TablePeople)
	return n > 0, err
}

// view is the Session the WebView sees.
func (s *SessionService) view(ctx context.Context, st peopleReader, cur signin.Session, required bool) Session {
	out := Session{Required: required, SignedIn: cur.SignedIn, DeviceRole: s.sync.deviceRole()}
	if required {
		s.told.Store(1)
	} else {
		s.told.Store(0)
	}
	rules, err := siteRules(ctx, st)
	if err != nil {
		slog.Warn("read the site's sign-in rules", "err", err)
	}
	out.IdleSeconds = int(idleOf(rules) / time.Second)
	if cur.SignedIn {
		out.Person = choice(cur.Person, rules)
		out.IdleSeconds = int(cur.Idle / time.Second)
		out.ExpiresAt = cur.Expires.UnixMilli()
	}
	return out
}

func idleOf(r signin.Rules) time.Duration {
	if r.Idle <= 0 {
		return signin.DefaultIdle
	}
	return r.Idle
}

func choice(p signin.Person, r signin.Rules) *PersonChoice {
	return &PersonChoice{BadgeID: p.BadgeID, DisplayName: p.DisplayName, Role: p.Role, NeedsPIN: r.NeedsPIN(p), Language: p.Language}
}

// current returns the session, emitting session:changed when it ended
// since the last look (idle, or the person was deactivated).
func (s *SessionService) current(ctx context.Context, st peopleReader) (Session, error) {
	req, err := signInRequired(ctx, st)
	if err != nil {
		return Session{}, err
	}
	cur, ended := s.m.Refresh(ctx)
	v := s.view(ctx, st, cur, req)
	if ended {
		s.emit(v)
	}
	return v, nil
}

// Current returns the session.
func (s *SessionService) Current() (Session, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (Session, error) { return s.current(ctx, st) })
}

// People lists the active people by name, for "pick your name".
func (s *SessionService) People() ([]PersonChoice, error) {
	return call(s.core, func(ctx context.Context, st *localDB) ([]PersonChoice, error) {
		rows, err := st.SiteRows(ctx, protocol.TablePeople)
		if err != nil {
			return nil, err
		}
		rules, err := siteRules(ctx, st)
		if err != nil {
			return nil, err
		}
		out := []PersonChoice{}
		for _, r := range rows {
			if p := personOf(r); p.Active {
				out = append(out, *choice(p, rules))
			}
		}
		sort.SliceStable(out, func(i, j int) bool {
			a, b := strings.ToLower(out[i].DisplayName), strings.ToLower(out[j].DisplayName)
			if a != b {
				return a < b
			}
			return out[i].BadgeID < out[j].BadgeID
		})
		return out, nil
	})
}

// Identify finds the person of a scanned badge id (exact) or a picked
// name's badge id and says whether a PIN comes next. A display name typed
// in full also works when exactly one active person has it.
func (s *SessionService) Identify(badgeOrName string) (SignInStep, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (SignInStep, error) {
		badge := strings.TrimSpace(badgeOrName)
		if _, err := st.PersonByBadge(ctx, badge); errors.Is(err, store.ErrNotFound) {
			if b, ok := badgeByName(ctx, st, badge); ok {
				badge = b
			}
		}
		step, err := s.m.Identify(ctx, badge)
		if err != nil {
			return SignInStep{}, signInError(err, step.Person, badge, s.opts.Now())
		}
		rules, err := siteRules(ctx, st)
		if err != nil {
			return SignInStep{}, err
		}
		out := SignInStep{Person: *choice(step.Person, rules), NeedsPIN: step.NeedsPIN}
		if !step.LockedUntil.IsZero() {
			out.LockedUntil = step.LockedUntil.UnixMilli()
		}
		return out, nil
	})
}

// badgeByName finds the badge of the one active person named name.
func badgeByName(ctx context.Context, st siteReader, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	rows, err := st.SiteRows(ctx, protocol.TablePeople)
	if err != nil {
		return "", false
	}
	found := ""
	for _, r := range rows {
		p := personOf(r)
		if p.Active && strings.EqualFold(strings.TrimSpace(p.DisplayName), name) {
			if found != "" {
				return "", false
			}
			found = p.BadgeID
		}
	}
	return found, found != ""
}

// SignIn signs badgeID in (whoever was signed in is signed out); pin is ""
// when the person needs none. The PIN is checked against its hash and
// forgotten: never stored, logged or sent.
func (s *SessionService) SignIn(badgeID, pin string) (Session, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (Session, error) {
		badgeID = strings.TrimSpace(badgeID)
		before := s.m.Current(ctx)
		cur, err := s.m.SignIn(ctx, badgeID, pin)
		if err != nil {
			var p signin.Person
			if r, e := st.PersonByBadge(ctx, badgeID); e == nil {
				p = personOf(r)
			}
			return Session{}, signInError(err, p, badgeID, s.opts.Now())
		}
		req, err := signInRequired(ctx, st)
		if err != nil {
			return Session{}, err
		}
		v := s.view(ctx, st, cur, req)
		who := "nobody"
		if before.SignedIn {
			who = before.Person.BadgeID
		}
		slog.Info("signed in", "badge", cur.Person.BadgeID, "role", cur.Person.Role, "replacing", who)
		s.emit(v)
		return v, nil
	})
}

// SignOut ends the session.
func (s *SessionService) SignOut() (Session, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (Session, error) {
		before := s.m.Current(ctx)
		cur := s.m.SignOut()
		req, err := signInRequired(ctx, st)
		if err != nil {
			return Session{}, err
		}
		v := s.view(ctx, st, cur, req)
		if before.SignedIn {
			slog.Info("signed out", "badge", before.Person.BadgeID)
			s.emit(v)
		}
		return v, nil
	})
}

// Touch reports activity: it pushes the idle sign-out deadline.
func (s *SessionService) Touch() (Session, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (Session, error) {
		s.m.Touch()
		return s.current(ctx, st)
	})
}

// WatchSessions ends idle sessions when their deadline passes and emits
// session:changed, until ctx ends. (A function, not a method: Wails would
// bind a method into the WebView.)
func WatchSessions(ctx context.Context, s *SessionService) {
	for {
		wait := s.opts.Poll
		if d := s.m.Deadline(); !d.IsZero() {
			wait = min(max(d.Sub(s.opts.Now()), 0), wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.m.Wake():
			t.Stop()
			continue
		case <-t.C:
		}
		if cur, ended := s.m.Expire(); ended {
			slog.Info("signed out after inactivity")
			v, err := call(s.core, func(ctx context.Context, st *localDB) (Session, error) {
				req, err := signInRequired(ctx, st)
				return s.view(ctx, st, cur, req), err
			})
			if err != nil {
				v = Session{Required: true}
			}
			s.emit(v)
		}
		s.followRequired()
	}
}

// followRequired emits session:changed when whether the site asks for
// sign-in is no longer what the WebView was last told: a pull that brings
// the site's first people (or deactivates the last one) changes it while
// the app is open.
func (s *SessionService) followRequired() {
	told := s.told.Load()
	if told < 0 {
		return // the WebView has not asked yet; it will get the truth
	}
	_, _ = call(s.core, func(ctx context.Context, st *localDB) (struct{}, error) {
		req, err := signInRequired(ctx, st)
		if err != nil || req == (told == 1) {
			return struct{}{}, err
		}
		slog.Info("sign-in requirement changed", "required", req)
		cur, _ := s.m.Refresh(ctx)
		s.emit(s.view(ctx, st, cur, req))
		return struct{}{}, nil
	})
}

// signInError names a sign-in failure in a sentence, with the values a
// screen needs to say it in the person's language (issue 21): the badge,
// the person's name, the tries left, the lock's end (RFC 3339, ms) and its
// minutes, or rule "empty" for a missing badge or PIN.
func signInError(err error, p signin.Person, badge string, now time.Time) error {
	who := p.DisplayName
	if who == "" {
		who = "This person"
	}
	var wp *signin.WrongPINError
	var le *signin.LockedError
	switch {
	case errors.Is(err, signin.ErrUnknownBadge):
		if badge == "" {
			return (&Error{Code: CodeUnknownBadge, Field: "badge", Message: "Scan your badge or pick your name."}).With("rule", "empty")
		}
		b := truncate(badge, 64)
		return (&Error{Code: CodeUnknownBadge, Field: "badge", Message: fmt.Sprintf("No one at this site has the badge %q. Scan it again or pick your name.", b)}).With("badge", b)
	case errors.Is(err, signin.ErrInactive):
		return (&Error{Code: CodeInactive, Field: "badge", Message: who + " is no longer active at this site. Ask a manager."}).With("name", p.DisplayName)
	case errors.Is(err, signin.ErrPINNotSet):
		if err != signin.ErrPINNotSet { //nolint:errorlint // wrapped: the hash is unreadable
			slog.Warn("unreadable PIN hash", "badge", p.BadgeID, "err", err)
		}
		return (&Error{Code: CodePINNotSet, Field: "pin", Message: who + " needs a PIN to sign in and has none: ask a manager to set your PIN."}).With("name", p.DisplayName)
	case errors.As(err, &wp):
		if wp.Empty {
			return (&Error{Code: CodeWrongPIN, Field: "pin", Message: "Enter your PIN."}).With("rule", "empty")
		}
		tries := "tries"
		if wp.Left == 1 {
			tries = "try"
		}
		return (&Error{Code: CodeWrongPIN, Field: "pin", Message: fmt.Sprintf("Wrong PIN. %d more %s before this badge is locked for a while.", wp.Left, tries)}).
			With("tries_left", wp.Left)
	case errors.As(err, &le):
		mins := int(le.Until.Sub(now).Round(time.Minute) / time.Minute)
		if mins < 1 {
			mins = 1
		}
		unit := "minutes"
		if mins == 1 {
			unit = "minute"
		}
		return (&Error{Code: CodeLocked, Field: "pin", Message: fmt.Sprintf("Too many wrong PINs: this badge is locked on this computer for %d %s. Try again later or ask a manager.", mins, unit)}).
			With("until", le.Until.UTC().Format(timeMS)).With("minutes", mins)
	}
	return err
}

// timeMS is RFC 3339 with milliseconds, as JavaScript's Date reads it.
const timeMS = "2006-01-02T15:04:05.000Z07:00"

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// siteDirectory is the signin package's view of the local store: people,
// the site's sign-in rules and the failed attempts.
type siteDirectory struct{ core *Core }

var (
	_ signin.Directory    = (*siteDirectory)(nil)
	_ signin.AttemptStore = (*siteDirectory)(nil)
)

func (d *siteDirectory) st() (*localDB, error) {
	db, _, cancel, err := d.core.db()
	if err != nil {
		return nil, err
	}
	cancel()
	return db, nil
}

func (d *siteDirectory) Person(ctx context.Context, badge string) (signin.Person, bool, error) {
	st, err := d.st()
	if err != nil {
		return signin.Person{}, false, err
	}
	r, err := st.PersonByBadge(ctx, badge)
	if errors.Is(err, store.ErrNotFound) {
		return signin.Person{}, false, nil
	}
	if err != nil {
		return signin.Person{}, false, err
	}
	return personOf(r), true, nil
}

func (d *siteDirectory) Rules(ctx context.Context) (signin.Rules, error) {
	st, err := d.st()
	if err != nil {
		return signin.Rules{}, err
	}
	return siteRules(ctx, st)
}

func (d *siteDirectory) Attempts(ctx context.Context, badge string) (signin.Attempts, error) {
	st, err := d.st()
	if err != nil {
		return signin.Attempts{}, err
	}
	a, err := st.SigninAttempts(ctx, badge)
	if err != nil {
		return signin.Attempts{}, err
	}
	out := signin.Attempts{Failures: a.Failures, Locks: a.Locks}
	if a.LockedUntil > 0 {
		out.LockedUntil = time.UnixMilli(a.LockedUntil)
	}
	if a.LastFailure > 0 {
		out.LastFailure = time.UnixMilli(a.LastFailure)
	}
	return out, nil
}

func (d *siteDirectory) PutAttempts(ctx context.Context, badge string, a signin.Attempts) error {
	st, err := d.st()
	if err != nil {
		return err
	}
	sa := store.Attempts{Failures: a.Failures, Locks: a.Locks}
	if !a.LockedUntil.IsZero() {
		sa.LockedUntil = a.LockedUntil.UnixMilli()
	}
	if !a.LastFailure.IsZero() {
		sa.LastFailure = a.LastFailure.UnixMilli()
	}
	return st.PutSigninAttempts(ctx, badge, sa)
}

func (d *siteDirectory) ClearAttempts(ctx context.Context, badge string) error {
	st, err := d.st()
	if err != nil {
		return err
	}
	return st.ClearSigninFailures(ctx, badge)
}

// personOf reads a people row.
func personOf(r store.SiteRow) signin.Person {
	return signin.Person{
		BadgeID: r.Text("badge_id"), DisplayName: r.Text("display_name"), Role: r.Text("role"),
		Active: r.Active(), PINHash: r.Text("pin_hash"), Language: r.Text("language"),
	}
}
