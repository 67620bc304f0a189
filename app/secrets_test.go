package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// lockedBuffer is a bytes.Buffer the app's goroutines may log into while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureLog sends slog's default logger, at every level, to a buffer for
// the rest of the test.
func captureLog(t *testing.T) *lockedBuffer {
	t.Helper()
	buf := &lockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

// Invariant 4: a PIN (right, wrong or malformed) and a PIN hash are never
// logged, never in a sentence the WebView gets and never in what a bound
// method returns.
func TestSecrets_PINsAreNeverLoggedOrShown(t *testing.T) {
	logs := captureLog(t)
	tm := newTerminal(t, "manager")
	const mgrPIN, opPIN, wrongPIN, badPIN = "97531864", "86420975", "11223344", "9753186x"
	var shown []any // everything the WebView would get
	show := func(v any, err error) {
		t.Helper()
		shown = append(shown, v)
		if err != nil {
			shown = append(shown, FormatError(err))
		}
	}
	p := func(s string) *string { return &s }

	show(tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: p(badPIN)}))
	show(tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: p(mgrPIN)}))
	show(tm.sess.Identify("MGR-1"))
	show(tm.sess.SignIn("MGR-1", wrongPIN))
	show(tm.sess.SignIn("MGR-1", badPIN))
	show(tm.sess.SignIn("MGR-1", mgrPIN))
	show(tm.site.SavePerson(PersonInput{BadgeID: "OP-1", DisplayName: "Olga Operator", Role: "operator", Active: true, PIN: p(opPIN)}))
	show(tm.site.SavePerson(PersonInput{BadgeID: "OP-1", DisplayName: "Olga Operator", Role: "operator", Active: true, PIN: p(badPIN)}))
	// A hash that cannot be read is logged as such, without itself.
	const brokenHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$not-base64-RG9ub3RMb2dNZQ"
	tm.seed(t, protocol.TablePeople, person("SUP-1", "Sam Supervisor", "supervisor", true, brokenHash))
	show(tm.sess.SignIn("SUP-1", mgrPIN))
	show(tm.sess.People())
	show(tm.sess.Current())
	show(tm.site.Get())
	show(tm.sess.SignOut())

	st := tm.store(t)
	secrets := []string{mgrPIN, opPIN, wrongPIN, badPIN, brokenHash, "RG9ub3RMb2dNZQ"}
	for _, badge := range []string{"MGR-1", "OP-1"} {
		r, err := st.PersonByBadge(context.Background(), badge)
		h := r.Text("pin_hash")
		if err != nil || !strings.HasPrefix(h, "$argon2id$") {
			t.Fatalf("%s: pin hash %q %v", badge, h, err)
		}
		secrets = append(secrets, h, h[strings.LastIndex(h, "$")+1:])
	}
	out, err := json.Marshal(shown)
	if err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	if !strings.Contains(log, "signed in") || !strings.Contains(log, "unreadable PIN hash") {
		t.Fatalf("the log misses the sign-in lines, so the check below proves nothing:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds the secret %q:\n%s", s, log)
		}
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the WebView would get the secret %q:\n%s", s, out)
		}
	}
}
