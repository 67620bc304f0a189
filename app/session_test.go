package app

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestSession_CarriesThePersonsLanguage (issue 21): a shared terminal
// switches to the language of whoever signs in, so the person the WebView
// gets (the names to pick, the identified badge, the session and its
// event) carries people.language; "" is the terminal's own language.
func TestSession_CarriesThePersonsLanguage(t *testing.T) {
	tm := newTerminal(t, "operator")
	de := person("OP-DE", "Dora Deutsch", "operator", true, "")
	de["language"] = "de"
	zh := person("OP-ZH", "Zhang Wei", "operator", true, "")
	zh["language"] = "zh-CN"
	tm.seed(t, protocol.TablePeople, de, zh, person("OP-EN", "Erin Nobody", "operator", true, ""))

	people, err := tm.sess.People()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range people {
		got[p.BadgeID] = p.Language
	}
	if got["OP-DE"] != "de" || got["OP-ZH"] != "zh-CN" || got["OP-EN"] != "" || len(got) != 3 {
		t.Fatalf("people's languages %v", got)
	}
	for _, c := range []struct{ badge, want string }{{"OP-DE", "de"}, {"OP-ZH", "zh-CN"}, {"OP-EN", ""}} {
		step, err := tm.sess.Identify(c.badge)
		if err != nil || step.Person.Language != c.want {
			t.Fatalf("identify %s: %+v %v, want language %q", c.badge, step, err, c.want)
		}
		s, err := tm.sess.SignIn(c.badge, "")
		if err != nil || s.Person == nil || s.Person.Language != c.want {
			t.Fatalf("sign in %s: %+v %v, want language %q", c.badge, s, err, c.want)
		}
		if ev, _ := tm.lastEvent(); ev.Person == nil || ev.Person.Language != c.want {
			t.Fatalf("sign-in event of %s: %+v", c.badge, ev)
		}
		if s, err := tm.sess.Current(); err != nil || s.Person == nil || s.Person.Language != c.want {
			t.Fatalf("current of %s: %+v %v", c.badge, s, err)
		}
	}
	if s, err := tm.sess.SignOut(); err != nil || s.SignedIn || s.Person != nil {
		t.Fatalf("sign out: %+v %v", s, err)
	}
}

// TestSession_SignInRefusalsCarryTheirValues (issue 21): every sign-in
// refusal carries what its sentence needs in any language (tries left, the
// lock's end, the badge, the person's name, the empty rule), beside the
// English sentence kept for logs.
func TestSession_SignInRefusalsCarryTheirValues(t *testing.T) {
	tm := newTerminal(t, "operator")
	tm.seed(t, protocol.TablePeople,
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")),
		person("SUP-1", "Sam Supervisor", "supervisor", true, ""),
		person("OLD-1", "Old Timer", "operator", false, ""))
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "06:00,14:00,22:00"})

	type want map[string]any
	cases := []struct {
		name       string
		call       func() error
		code, rule string
		params     want
	}{
		{"unknown badge", func() error { _, err := tm.sess.Identify("NOPE-9"); return err }, CodeUnknownBadge, "", want{"badge": "NOPE-9"}},
		{"no badge", func() error { _, err := tm.sess.Identify(" "); return err }, CodeUnknownBadge, "empty", want{}},
		{"inactive", func() error { _, err := tm.sess.Identify("OLD-1"); return err }, CodeInactive, "", want{"name": "Old Timer"}},
		{"no PIN", func() error { _, err := tm.sess.Identify("SUP-1"); return err }, CodePINNotSet, "", want{"name": "Sam Supervisor"}},
		{"empty PIN", func() error { _, err := tm.sess.SignIn("MGR-1", ""); return err }, CodeWrongPIN, "empty", want{}},
		{"wrong PIN", func() error { _, err := tm.sess.SignIn("MGR-1", "0000"); return err }, CodeWrongPIN, "", want{"tries_left": 4.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := asError(t, c.call())
			if e.Code != c.code || (c.rule != "" && e.Params["rule"] != c.rule) || (c.rule == "" && e.Params["rule"] != nil) {
				t.Fatalf("%+v, want code %s rule %q", e, c.code, c.rule)
			}
			for k, v := range c.params {
				if e.Params[k] != v {
					t.Errorf("param %s = %#v, want %#v (%+v)", k, e.Params[k], v, e)
				}
			}
		})
	}
	var e *Error
	for i := 0; i < 5 && (e == nil || e.Code != CodeLocked); i++ {
		_, err := tm.sess.SignIn("MGR-1", "0000")
		e = asError(t, err)
	}
	until, err := time.Parse(time.RFC3339, asString(e.Params["until"]))
	if e.Code != CodeLocked || err != nil || until.Sub(tm.clock.now().Add(5*time.Minute)).Abs() > time.Millisecond || e.Params["minutes"] != 5.0 {
		t.Fatalf("locked: %+v (until %v %v)", e, until, err)
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
