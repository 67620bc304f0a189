package app

// SessionOptions configures the SessionService.
type SessionOptions struct {
	// Emit sends a runtime event to the WebView (main: runtime.EventsEmit).
	Emit func(name string, data any)
}

// SessionService is bound into the WebView: who is signed in on this
// shared terminal. Sign-in is required once the site has an active person.
type SessionService struct {
	core *Core
	sync *SyncService
	opts SessionOptions
}

// NewSessionService returns the session service; the record, line
// configuration, site and conflict services of core and sync consult it.
func NewSessionService(core *Core, sync *SyncService, opts SessionOptions) *SessionService {
	return &SessionService{core: core, sync: sync, opts: opts}
}

// Current returns the session.
func (s *SessionService) Current() (Session, error) { return Session{}, nil }

// People lists the active people by name, for "pick your name".
func (s *SessionService) People() ([]PersonChoice, error) { return []PersonChoice{}, nil }

// Identify finds the person of a scanned badge id (exact) or a picked
// name's badge id and says whether a PIN comes next.
func (s *SessionService) Identify(badgeOrName string) (SignInStep, error) {
	return SignInStep{}, &Error{Code: CodeUnknownBadge, Message: "Sign-in is not available yet in this build."}
}

// SignIn signs badgeID in; pin is "" when the person needs none.
func (s *SessionService) SignIn(badgeID, pin string) (Session, error) {
	return Session{}, &Error{Code: CodeUnknownBadge, Message: "Sign-in is not available yet in this build."}
}

// SignOut ends the session.
func (s *SessionService) SignOut() (Session, error) { return Session{}, nil }

// Touch reports activity: it pushes the idle sign-out deadline.
func (s *SessionService) Touch() (Session, error) { return Session{}, nil }
