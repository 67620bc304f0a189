// Package signin is the sign-in policy of a shared terminal: who is signed
// in, when an idle session ends, who needs a PIN, and the lockout after
// repeated wrong PINs. It does no I/O of its own: people and settings come
// from a Directory, failed attempts are kept by an AttemptStore (the local
// database, so a lockout survives a restart), and the clock is injected.
//
// A PIN is checked against its argon2id hash (backend/pin) and never kept,
// logged or returned.
package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Defaults of the site settings the policy reads.
const (
	DefaultIdle = 300 * time.Second
	// MaxFailures wrong PINs in a row lock a badge on this device.
	MaxFailures = 5
	// BaseLock is the first lock's length; each further lock doubles it,
	// up to MaxLock.
	BaseLock = 5 * time.Minute
	MaxLock  = time.Hour
)

// DefaultPINRoles are the roles that need a PIN when the site names none.
var DefaultPINRoles = []string{protocol.PersonSupervisor, protocol.PersonManager}

// MinTrustedPINLen is the fewest digits of a new PIN for a supervisor or
// a manager: their PIN opens site data (people and their PINs) and
// conflict decisions, so it must outlast more guesses than an operator's.
// Operators keep pin.MinLen (4). PINs set before this rule still work.
const MinTrustedPINLen = 6

// MinPINLen is the fewest digits a new PIN of a person with role has.
func MinPINLen(role string) int {
	if role == protocol.PersonSupervisor || role == protocol.PersonManager {
		return MinTrustedPINLen
	}
	return pin.MinLen
}

// Person is one of the site's people as the policy sees them.
type Person struct {
	BadgeID     string
	DisplayName string
	Role        string
	Active      bool
	// PINHash is the argon2id hash of the person's PIN, "" when none is set.
	PINHash string
	// Language is the person's language (people.language: "de", "pt-BR",
	// …), "" for the terminal's own. A shared terminal shows it while the
	// person is signed in (issue 21).
	Language string
}

// Rules are the site's sign-in settings.
type Rules struct {
	// PINRoles lists the roles that need a PIN; nil means DefaultPINRoles.
	PINRoles []string
	// Idle is the idle sign-out; 0 means DefaultIdle.
	Idle time.Duration
}

func (r Rules) idle() time.Duration {
	if r.Idle <= 0 {
		return DefaultIdle
	}
	return r.Idle
}

// ParsePINRoles reads site_settings.pin_roles ("supervisor,manager"); an
// empty value means the default.
func ParsePINRoles(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	out := []string{}
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// NeedsPIN says whether p signs in with a PIN: they have one, or their role
// requires one.
func (r Rules) NeedsPIN(p Person) bool {
	if p.PINHash != "" {
		return true
	}
	roles := r.PINRoles
	if roles == nil {
		roles = DefaultPINRoles
	}
	for _, x := range roles {
		if x == p.Role {
			return true
		}
	}
	return false
}

// Directory answers who a badge belongs to and what the site's rules are.
type Directory interface {
	// Person returns the live (not deleted) person with badgeID; ok is
	// false when there is none.
	Person(ctx context.Context, badgeID string) (p Person, ok bool, err error)
	Rules(ctx context.Context) (Rules, error)
}

// Attempts are the failed PIN entries of one badge on this device.
type Attempts struct {
	// Failures counts wrong PINs since the last lock (or success).
	Failures int
	// Locks counts the locks so far; each doubles the next one's length.
	Locks       int
	LockedUntil time.Time
	LastFailure time.Time
}

// Locked says whether a is a lock in force at now.
func (a Attempts) Locked(now time.Time) bool { return now.Before(a.LockedUntil) }

// LockFor is the length of the n-th lock (n ≥ 1): BaseLock doubled per
// earlier lock, at most MaxLock.
func LockFor(n int) time.Duration {
	d := BaseLock
	for i := 1; i < n && d < MaxLock; i++ {
		d *= 2
	}
	return min(d, MaxLock)
}

// Fail returns a after one more wrong PIN at now: the MaxFailures-th in a
// row locks the badge (and starts counting again for the next lock).
func Fail(a Attempts, now time.Time) Attempts {
	a.Failures++
	a.LastFailure = now
	if a.Failures >= MaxFailures {
		a.Locks++
		a.Failures = 0
		a.LockedUntil = now.Add(LockFor(a.Locks))
	}
	return a
}

// AttemptStore keeps the failed attempts of each badge (on this device).
type AttemptStore interface {
	Attempts(ctx context.Context, badgeID string) (Attempts, error)
	PutAttempts(ctx context.Context, badgeID string, a Attempts) error
	ClearAttempts(ctx context.Context, badgeID string) error
}

// Errors a sign-in may end with. WrongPINError and LockedError carry more.
var (
	ErrUnknownBadge = errors.New("signin: no person has this badge")
	ErrInactive     = errors.New("signin: this person is not active")
	// ErrPINNotSet: the person's role needs a PIN and none is set (or the
	// stored hash cannot be read): a manager must set one.
	ErrPINNotSet = errors.New("signin: a PIN is required and none is set")
)

// WrongPINError is a wrong (or missing) PIN; Left more wrong PINs lock the
// badge.
type WrongPINError struct {
	Left int
	// Empty: no PIN was entered (not counted as a failure).
	Empty bool
}

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("signin: wrong PIN (%d tries left)", e.Left)
}

// LockedError: too many wrong PINs; the badge is locked on this device
// until Until.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "signin: locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Step is what identifying a badge tells the sign-in screen.
type Step struct {
	Person      Person
	NeedsPIN    bool
	LockedUntil time.Time // zero when not locked
}

// Session is who is signed in and until when.
type Session struct {
	SignedIn bool
	Person   Person
	// Idle is the idle sign-out of the session (or the site's, signed out).
	Idle time.Duration
	// Expires is when the session ends without activity.
	Expires time.Time
}

// Options configure a Manager.
type Options struct {
	Directory Directory
	Attempts  AttemptStore
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Verify checks a PIN against a hash (default pin.Verify).
	Verify func(p, hash string) error
}

// Manager holds the session of one terminal. Its methods are safe for
// concurrent use.
type Manager struct {
	o Options

	signMu sync.Mutex // one PIN check at a time (they are slow on purpose)

	mu      sync.Mutex
	cur     *Person
	idle    time.Duration
	expires time.Time
	wake    chan struct{}
}

// New returns a Manager with nobody signed in.
func New(o Options) *Manager {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Verify == nil {
		o.Verify = pin.Verify
	}
	return &Manager{o: o, wake: make(chan struct{}, 1)}
}

// Wake is signalled whenever the session's deadline changes (sign-in,
// activity, sign-out), for a timer that ends idle sessions.
func (m *Manager) Wake() <-chan struct{} { return m.wake }

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// lookup finds an active person and the rules.
func (m *Manager) lookup(ctx context.Context, badgeID string) (Person, Rules, error) {
	badgeID = strings.TrimSpace(badgeID)
	if badgeID == "" {
		return Person{}, Rules{}, ErrUnknownBadge
	}
	p, ok, err := m.o.Directory.Person(ctx, badgeID)
	if err != nil {
		return Person{}, Rules{}, fmt.Errorf("signin: look up badge: %w", err)
	}
	if !ok {
		return Person{}, Rules{}, ErrUnknownBadge
	}
	if !p.Active {
		return p, Rules{}, ErrInactive
	}
	r, err := m.o.Directory.Rules(ctx)
	if err != nil {
		return p, r, fmt.Errorf("signin: read the site's rules: %w", err)
	}
	if r.NeedsPIN(p) && p.PINHash == "" {
		return p, r, ErrPINNotSet
	}
	return p, r, nil
}

// Identify says who badgeID is and whether a PIN comes next (and whether
// the badge is locked on this device). A known but inactive person or one
// whose PIN is missing gets ErrInactive or ErrPINNotSet.
func (m *Manager) Identify(ctx context.Context, badgeID string) (Step, error) {
	p, r, err := m.lookup(ctx, badgeID)
	if err != nil {
		return Step{Person: p}, err
	}
	st := Step{Person: p, NeedsPIN: r.NeedsPIN(p)}
	if st.NeedsPIN {
		a, err := m.o.Attempts.Attempts(ctx, p.BadgeID)
		if err != nil {
			return st, fmt.Errorf("signin: read failed attempts: %w", err)
		}
		if a.Locked(m.o.Now()) {
			st.LockedUntil = a.LockedUntil
		}
	}
	return st, nil
}

// SignIn signs badgeID in with pinCode ("" when the person needs none) and
// returns the new session; whoever was signed in before is signed out. A
// wrong PIN counts towards the lock (*WrongPINError; the last one before
// the lock returns *LockedError); a locked badge is refused without
// checking the PIN. A right PIN clears the badge's failures.
func (m *Manager) SignIn(ctx context.Context, badgeID, pinCode string) (Session, error) {
	m.signMu.Lock()
	defer m.signMu.Unlock()
	p, r, err := m.lookup(ctx, badgeID)
	if err != nil {
		return m.Current(ctx), err
	}
	if r.NeedsPIN(p) {
		if err := m.checkPIN(ctx, p, pinCode); err != nil {
			return m.Current(ctx), err
		}
	}
	m.mu.Lock()
	pp := p
	m.cur, m.idle = &pp, r.idle()
	m.expires = m.o.Now().Add(m.idle)
	s := m.sessionLocked()
	m.mu.Unlock()
	m.poke()
	return s, nil
}

// checkPIN counts the attempt before the PIN is checked, so that a guess
// is counted even when the check is cut short (a crash, a kill) and a
// terminal that cannot record attempts (full disk, read-only database)
// refuses every PIN instead of allowing unlimited guesses. The right PIN
// clears the count again; a failure to clear refuses the sign-in too.
func (m *Manager) checkPIN(ctx context.Context, p Person, code string) error {
	before, err := m.o.Attempts.Attempts(ctx, p.BadgeID)
	if err != nil {
		return fmt.Errorf("signin: read failed attempts: %w", err)
	}
	now := m.o.Now()
	if before.Locked(now) {
		return &LockedError{Until: before.LockedUntil}
	}
	if code == "" {
		return &WrongPINError{Left: MaxFailures - before.Failures, Empty: true}
	}
	a := Fail(before, now)
	if err := m.o.Attempts.PutAttempts(ctx, p.BadgeID, a); err != nil {
		return fmt.Errorf("signin: record the attempt: %w", err)
	}
	switch err := m.o.Verify(code, p.PINHash); {
	case err == nil:
		if err := m.o.Attempts.ClearAttempts(ctx, p.BadgeID); err != nil {
			return fmt.Errorf("signin: clear failed attempts: %w", err)
		}
		return nil
	case errors.Is(err, pin.ErrMismatch):
	default:
		// A hash this build cannot read: no guess was checked, so the
		// attempt is taken back. Only a new PIN helps.
		if perr := m.o.Attempts.PutAttempts(ctx, p.BadgeID, before); perr != nil {
			return fmt.Errorf("signin: take back the attempt: %w", perr)
		}
		return fmt.Errorf("%w: %v", ErrPINNotSet, err)
	}
	if a.Locked(now) {
		return &LockedError{Until: a.LockedUntil}
	}
	return &WrongPINError{Left: MaxFailures - a.Failures}
}

// SignOut ends the session.
func (m *Manager) SignOut() Session {
	m.mu.Lock()
	m.cur, m.expires = nil, time.Time{}
	s := m.sessionLocked()
	m.mu.Unlock()
	m.poke()
	return s
}

// Touch records activity: a live session's deadline moves to now + idle.
// It reports false when nobody is signed in (or the session had expired:
// it is ended).
func (m *Manager) Touch() (Session, bool) {
	m.mu.Lock()
	if m.cur == nil || m.expiredLocked() {
		m.cur, m.expires = nil, time.Time{}
		s := m.sessionLocked()
		m.mu.Unlock()
		return s, false
	}
	m.expires = m.o.Now().Add(m.idle)
	s := m.sessionLocked()
	m.mu.Unlock()
	m.poke()
	return s, true
}

// Current returns the session, after Refresh.
func (m *Manager) Current(ctx context.Context) Session {
	s, _ := m.Refresh(ctx)
	return s
}

// Expire ends the session if its idle deadline has passed and reports
// whether it did. It reads nothing (a timer calls it).
func (m *Manager) Expire() (Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil && m.expiredLocked() {
		m.cur, m.expires = nil, time.Time{}
		return m.sessionLocked(), true
	}
	return m.sessionLocked(), false
}

// Refresh ends an expired session, and one whose person has since been
// deactivated or removed (their name and role are refreshed otherwise); it
// reports whether it ended the session.
func (m *Manager) Refresh(ctx context.Context) (Session, bool) {
	if s, ended := m.Expire(); ended || !s.SignedIn {
		return s, ended
	}
	m.mu.Lock()
	cur := m.cur
	m.mu.Unlock()
	if cur == nil {
		return Session{}, false
	}
	p, ok, err := m.o.Directory.Person(ctx, cur.BadgeID)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil && m.cur == cur { // still the same session
		if !ok || !p.Active {
			m.cur, m.expires = nil, time.Time{}
			return m.sessionLocked(), true
		}
		np := p
		m.cur = &np
	}
	return m.sessionLocked(), false
}

// Deadline is when the session ends without activity (zero: nobody is
// signed in).
func (m *Manager) Deadline() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return time.Time{}
	}
	return m.expires
}

// expiredLocked compares both clocks: Go's monotonic clock (immune to the
// wall clock being set) stops while the computer is suspended on Linux and
// macOS, so a night asleep would not count; the wall clock (Round(0)
// strips the monotonic reading) counts it. Whichever says the deadline
// passed ends the session.
func (m *Manager) expiredLocked() bool {
	now := m.o.Now()
	return !now.Before(m.expires) || !now.Round(0).Before(m.expires.Round(0))
}

func (m *Manager) sessionLocked() Session {
	if m.cur == nil {
		return Session{}
	}
	return Session{SignedIn: true, Person: *m.cur, Idle: m.idle, Expires: m.expires}
}
