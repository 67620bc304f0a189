package signin

import (
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/outpost-app/outpost/backend/pin"
)

// failingAttempts is an attempts table that cannot be written (a full disk,
// a read-only database file).
type failingAttempts struct{ attempts }

var errDiskFull = errors.New("disk full")

func (a *failingAttempts) PutAttempts(context.Context, string, Attempts) error { return errDiskFull }
func (a *failingAttempts) ClearAttempts(context.Context, string) error         { return errDiskFull }

// TestSignIn_FailsClosedWhenAttemptsCannotBeRecorded: a PIN is only checked
// once the attempt is counted; when it cannot be counted, nobody signs in,
// with the right PIN or a wrong one (issue 17, hole 3).
func TestSignIn_FailsClosedWhenAttemptsCannotBeRecorded(t *testing.T) {
	f := newFixture(t)
	att := &failingAttempts{attempts{m: map[string]Attempts{}}}
	f.m = New(Options{Directory: f.dir, Attempts: att, Now: f.clk.now})
	ctx := context.Background()
	for _, code := range []string{"0000", "2468"} {
		s, err := f.m.SignIn(ctx, "MGR-1", code)
		if err == nil || s.SignedIn {
			t.Fatalf("PIN %s with an attempts table that cannot be written: signed in %+v", code, s)
		}
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("PIN %s: %v, want the write's error", code, err)
		}
	}
	// A person without a PIN is not affected: nothing to guess.
	if _, err := f.m.SignIn(ctx, "OP-100", ""); err != nil {
		t.Fatalf("no PIN needed: %v", err)
	}
}

// TestSignIn_RecordsTheAttemptBeforeCheckingThePIN: when the PIN is checked
// the attempt is already counted, so a crash, a kill or a failing write
// during the (slow) check cannot hide a guess; the right PIN clears it.
func TestSignIn_RecordsTheAttemptBeforeCheckingThePIN(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var during []Attempts
	f.m = New(Options{Directory: f.dir, Attempts: f.att, Now: f.clk.now, Verify: func(p, h string) error {
		a, _ := f.att.Attempts(ctx, "MGR-1")
		during = append(during, a)
		return pin.Verify(p, h)
	}})
	if _, err := f.m.SignIn(ctx, "MGR-1", "0000"); err == nil {
		t.Fatal("a wrong PIN signed in")
	}
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	if len(during) != 2 || during[0].Failures != 1 || during[1].Failures != 2 {
		t.Fatalf("attempts seen while checking: %+v, want 1 then 2 failures", during)
	}
	if a, _ := f.att.Attempts(ctx, "MGR-1"); a != (Attempts{}) {
		t.Fatalf("attempts after the right PIN: %+v", a)
	}
}

// asleep returns t as time.Now would read it after the computer slept for
// d: the wall clock moved on by d, the monotonic clock (stopped during
// suspend on Linux and macOS) did not. d is whole seconds.
func asleep(t *testing.T, at time.Time, d time.Duration) time.Time {
	t.Helper()
	const hasMonotonic = 1 << 63
	type rep struct {
		wall uint64
		ext  int64
		loc  *time.Location
	}
	out := at
	r := (*rep)(unsafe.Pointer(&out))
	if r.wall&hasMonotonic == 0 {
		t.Fatal("asleep needs a time with a monotonic reading")
	}
	r.wall += uint64(d/time.Second) << 30
	// The helper checks itself: if Go's layout of time.Time changed, say so.
	if !out.Round(0).Equal(at.Round(0).Add(d)) || out.Sub(at) != 0 {
		t.Fatalf("asleep: the time.Time layout changed (wall %v, monotonic diff %v)", out.Round(0).Sub(at.Round(0)), out.Sub(at))
	}
	return out
}

// TestIdleExpiry_CountsTimeAsleep: a session signed in before the computer
// slept a night ends when it wakes, although the monotonic clock stood
// still (issue 17, hole 2).
func TestIdleExpiry_CountsTimeAsleep(t *testing.T) {
	f := newFixture(t)
	f.dir.rules.Idle = 5 * time.Minute
	start := time.Now() // with a monotonic reading, as time.Now gives
	now := start
	f.m = New(Options{Directory: f.dir, Attempts: f.att, Now: func() time.Time { return now }})
	ctx := context.Background()
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	now = asleep(t, start.Add(time.Minute), 10*time.Hour)
	if _, ok := f.m.Touch(); ok {
		t.Fatal("a touch after a night asleep kept the session")
	}
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	now = asleep(t, now.Add(time.Minute), 8*time.Hour)
	if s, expired := f.m.Expire(); !expired || s.SignedIn {
		t.Fatalf("Expire after a night asleep: %+v", s)
	}
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	now = asleep(t, now.Add(time.Minute), 2*time.Hour)
	if s, ended := f.m.Refresh(ctx); !ended || s.SignedIn {
		t.Fatalf("Refresh after sleeping: %+v", s)
	}
	// Awake, the idle time still ends the session.
	if _, err := f.m.SignIn(ctx, "MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * time.Minute)
	if _, expired := f.m.Expire(); !expired {
		t.Fatal("not expired after the idle time awake")
	}
}

// TestMinPINLen: supervisors' and managers' new PINs are longer (issue 17).
func TestMinPINLen(t *testing.T) {
	for role, want := range map[string]int{"operator": 4, "supervisor": 6, "manager": 6, "": 4} {
		if got := MinPINLen(role); got != want {
			t.Errorf("MinPINLen(%q) = %d, want %d", role, got, want)
		}
	}
}
