package signin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/pin"
)

// cheap are argon2id parameters fast enough for tests.
var cheap = pin.Params{Memory: 8, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type dir struct {
	people map[string]Person
	rules  Rules
}

func (d *dir) Person(_ context.Context, badge string) (Person, bool, error) {
	p, ok := d.people[badge]
	return p, ok, nil
}
func (d *dir) Rules(context.Context) (Rules, error) { return d.rules, nil }

// attempts is the fake of the local database's attempts table; it
// outlives Managers like the database outlives a restart.
type attempts struct {
	mu sync.Mutex
	m  map[string]Attempts
}

func (a *attempts) Attempts(_ context.Context, b string) (Attempts, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[b], nil
}
func (a *attempts) PutAttempts(_ context.Context, b string, v Attempts) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[b] = v
	return nil
}
func (a *attempts) ClearAttempts(_ context.Context, b string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, b)
	return nil
}

func hash(t *testing.T, p string) string {
	t.Helper()
	h, err := pin.Hash(p, cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type fixture struct {
	clk *clock
	dir *dir
	att *attempts
	m   *Manager
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{
		clk: &clock{t: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)},
		dir: &dir{people: map[string]Person{
			"OP-100": {BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true},
			"OP-PIN": {BadgeID: "OP-PIN", DisplayName: "Otto Operator", Role: "operator", Active: true, PINHash: hash(t, "1111")},
			"MGR-1":  {BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PINHash: hash(t, "2468")},
			"SUP-1":  {BadgeID: "SUP-1", DisplayName: "Sam Supervisor", Role: "supervisor", Active: true},
			"OLD-1":  {BadgeID: "OLD-1", DisplayName: "Old Timer", Role: "operator", Active: false},
		}},
		att: &attempts{m: map[string]Attempts{}},
	}
	f.restart()
	return f
}

// restart is a new Manager over the same database (an app restart).
func (f *fixture) restart() {
	f.m = New(Options{Directory: f.dir, Attempts: f.att, Now: f.clk.now})
}

func TestNeedsPIN(t *testing.T) {
	h := "$argon2id$x"
	cases := []struct {
		name  string
		roles []string
		p     Person
		want  bool
	}{
		{"operator without PIN, default roles", nil, Person{Role: "operator"}, false},
		{"operator with a PIN", nil, Person{Role: "operator", PINHash: h}, true},
		{"supervisor by default", nil, Person{Role: "supervisor"}, true},
		{"manager by default", nil, Person{Role: "manager"}, true},
		{"manager when only operators need one", []string{"operator"}, Person{Role: "manager"}, false},
		{"operator when operators need one", []string{"operator"}, Person{Role: "operator"}, true},
		{"empty list: nobody by role", []string{}, Person{Role: "manager"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Rules{PINRoles: c.roles}).NeedsPIN(c.p); got != c.want {
				t.Fatalf("NeedsPIN = %v, want %v", got, c.want)
			}
		})
	}
	if got := ParsePINRoles(" supervisor , manager "); len(got) != 2 || got[0] != "supervisor" || got[1] != "manager" {
		t.Fatalf("ParsePINRoles = %q", got)
	}
	if ParsePINRoles("  ") != nil {
		t.Fatal("empty pin_roles must mean the default")
	}
}

func TestLockFor(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Minute, 2: 10 * time.Minute, 3: 20 * time.Minute, 4: 40 * time.Minute, 5: time.Hour, 6: time.Hour, 50: time.Hour} {
		if got := LockFor(n); got != want {
			t.Errorf("LockFor(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestIdentifyAndSignIn(t *testing.T) {
	cases := []struct {
		name     string
		badge    string
		pin      string
		needsPIN bool
		err      error
	}{
		{"operator without PIN", "OP-100", "", false, nil},
		{"operator without PIN ignores a typed PIN", "OP-100", "9999", false, nil},
		{"operator with own PIN", "OP-PIN", "1111", true, nil},
		{"manager with PIN", "MGR-1", "2468", true, nil},
		{"badge with spaces from a scanner", " MGR-1\n", "2468", true, nil},
		{"unknown badge", "NOPE", "", false, ErrUnknownBadge},
		{"empty badge", "", "", false, ErrUnknownBadge},
		{"inactive person", "OLD-1", "", false, ErrInactive},
		{"supervisor whose role needs a PIN but has none", "SUP-1", "", false, ErrPINNotSet},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			st, err := f.m.Identify(ctx, c.badge)
			if !errors.Is(err, c.err) {
				t.Fatalf("Identify err = %v, want %v", err, c.err)
			}
			if err == nil && st.NeedsPIN != c.needsPIN {
				t.Fatalf("NeedsPIN = %v, want %v", st.NeedsPIN, c.needsPIN)
			}
			s, err := f.m.SignIn(ctx, c.badge, c.pin)
			if !errors.Is(err, c.err) {
				t.Fatalf("SignIn err = %v, want %v", err, c.err)
			}
			if (err == nil) != s.SignedIn {
				t.Fatalf("signed in = %v with err %v", s.SignedIn, err)
			}
			if err == nil && s.Expires != f.clk.now().Add(DefaultIdle) {
				t.Fatalf("expires %v, want now + default idle", s.Expires)
			}
		})
	}
}

func TestWrongPINAndLockout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A missing PIN is not a failure.
	var wp *WrongPINError
	if _, err := f.m.SignIn(ctx, "MGR-1", ""); !errors.As(err, &wp) || !wp.Empty || wp.Left != MaxFailures {
		t.Fatalf("empty PIN: %v", err)
	}
	lock := func(round int, want time.Duration) {
		t.Helper()
		for i := 1; i < MaxFailures; i++ {
			_, err := f.m.SignIn(ctx, "MGR-1", "0000")
			if !errors.As(err, &wp) || wp.Left != MaxFailures-i {
				t.Fatalf("round %d failure %d: %v", round, i, err)
			}
		}
		_, err := f.m.SignIn(ctx, "MGR-1", "0000")
		var le *LockedError
		if !errors.As(err, &le) || le.Until != f.clk.now().Add(want) {
			t.Fatalf("round %d: %dth failure gives %v, want locked for %v", round, MaxFailures, err, want)
		}
		// Locked: even the right PIN is refused, and Identify says so.
		if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); !errors.As(err, &le) {
			t.Fatalf("round %d: right PIN while locked: %v", round, err)
		}
		st, err := f.m.Identify(ctx, "MGR-1")
		if err != nil || !st.LockedUntil.Equal(le.Until) {
			t.Fatalf("round %d: Identify while locked: %+v %v", round, st, err)
		}
		// The lock is kept by the database: a restart does not lift it.
		f.restart()
		if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); !errors.As(err, &le) {
			t.Fatalf("round %d: after restart: %v", round, err)
		}
		// Other badges are not affected.
		if _, err := f.m.SignIn(ctx, "OP-PIN", "1111"); err != nil {
			t.Fatalf("round %d: another badge: %v", round, err)
		}
		f.clk.add(want - time.Second)
		if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); !errors.As(err, &le) {
			t.Fatalf("round %d: a second before the end: %v", round, err)
		}
		f.clk.add(time.Second)
	}
	lock(1, 5*time.Minute)
	lock(2, 10*time.Minute)
	lock(3, 20*time.Minute)
	lock(4, 40*time.Minute)
	lock(5, time.Hour)
	lock(6, time.Hour)
	// The right PIN after the lock signs in and clears the record.
	if s, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil || !s.SignedIn || s.Person.DisplayName != "Mia Manager" {
		t.Fatalf("right PIN after the lock: %+v %v", s, err)
	}
	if a, _ := f.att.Attempts(ctx, "MGR-1"); a != (Attempts{}) {
		t.Fatalf("attempts after success: %+v", a)
	}
	// The next lock starts from the first length again.
	lock(7, 5*time.Minute)
}

func TestWrongPINKeepsTheCurrentSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.m.SignIn(ctx, "OP-100", ""); err != nil {
		t.Fatal(err)
	}
	s, err := f.m.SignIn(ctx, "MGR-1", "1357")
	if err == nil || !s.SignedIn || s.Person.BadgeID != "OP-100" {
		t.Fatalf("wrong PIN of another badge: %+v %v", s, err)
	}
	// Switching to another person signs the first out.
	if s, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil || s.Person.BadgeID != "MGR-1" {
		t.Fatalf("switch: %+v %v", s, err)
	}
}

func TestUnreadableHash(t *testing.T) {
	f := newFixture(t)
	f.dir.people["BAD"] = Person{BadgeID: "BAD", DisplayName: "B", Role: "operator", Active: true, PINHash: "$argon2id$v=19$m=999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
	if _, err := f.m.SignIn(context.Background(), "BAD", "1234"); !errors.Is(err, ErrPINNotSet) {
		t.Fatalf("unreadable hash: %v", err)
	}
	if a, _ := f.att.Attempts(context.Background(), "BAD"); a.Failures != 0 {
		t.Fatal("an unreadable hash counted as a failure")
	}
}

func TestIdleExpiry(t *testing.T) {
	f := newFixture(t)
	f.dir.rules.Idle = 60 * time.Second
	ctx := context.Background()
	s, err := f.m.SignIn(ctx, "OP-100", "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.m.Wake():
	default:
		t.Fatal("sign-in did not wake the idle timer")
	}
	if s.Idle != time.Minute || f.m.Deadline() != f.clk.now().Add(time.Minute) {
		t.Fatalf("session %+v deadline %v", s, f.m.Deadline())
	}
	f.clk.add(50 * time.Second)
	if s, ok := f.m.Touch(); !ok || s.Expires != f.clk.now().Add(time.Minute) {
		t.Fatalf("touch: %+v %v", s, ok)
	}
	f.clk.add(59 * time.Second)
	if _, expired := f.m.Expire(); expired {
		t.Fatal("expired a second early")
	}
	f.clk.add(time.Second)
	if s, expired := f.m.Expire(); !expired || s.SignedIn {
		t.Fatalf("not expired at the deadline: %+v", s)
	}
	if _, expired := f.m.Expire(); expired {
		t.Fatal("expired twice")
	}
	if _, ok := f.m.Touch(); ok {
		t.Fatal("touch revived an ended session")
	}
	// Refresh ends an expired session too (the timer may be late).
	if _, err := f.m.SignIn(ctx, "OP-100", ""); err != nil {
		t.Fatal(err)
	}
	f.clk.add(2 * time.Minute)
	if s, ended := f.m.Refresh(ctx); s.SignedIn || !ended {
		t.Fatalf("Refresh after the deadline: %+v", s)
	}
	if _, ok := f.m.Touch(); ok {
		t.Fatal("touch after expiry")
	}
}

func TestDeactivatedWhileSignedIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	p := f.dir.people["MGR-1"]
	p.DisplayName, p.Role = "Mia M.", "supervisor"
	f.dir.people["MGR-1"] = p
	if s := f.m.Current(ctx); !s.SignedIn || s.Person.DisplayName != "Mia M." || s.Person.Role != "supervisor" {
		t.Fatalf("renamed person: %+v", s)
	}
	p.Active = false
	f.dir.people["MGR-1"] = p
	if _, ended := f.m.Expire(); ended {
		t.Fatal("Expire (a timer, no reads) ended the session before its deadline")
	}
	if s, ended := f.m.Refresh(ctx); !ended || s.SignedIn {
		t.Fatalf("deactivated person still signed in: %+v", s)
	}
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); !errors.Is(err, ErrInactive) {
		t.Fatalf("sign in of an inactive person: %v", err)
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.m.SignIn(ctx, "OP-100", ""); err != nil {
		t.Fatal(err)
	}
	if s := f.m.SignOut(); s.SignedIn || !f.m.Deadline().IsZero() {
		t.Fatalf("after sign-out: %+v", s)
	}
	if s := f.m.Current(ctx); s.SignedIn {
		t.Fatal("still signed in")
	}
}
