package app

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// notRefused fails when err is an authorization refusal (the call may
// still fail for another reason: the test server does not answer).
func notRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if e := asError(t, err); e.Code == CodeForbidden || e.Code == CodeSignInRequired {
		t.Fatalf("%s: refused: %+v", what, e)
	}
}

// TestSync_DisconnectAndEnrollNeedAManagerWithAPIN (issue 17, hole 4):
// once the site has people, disconnecting this computer and enrolling it
// again need a manager who signed in with a PIN; nobody signed in, an
// operator, a supervisor and a manager without a PIN are refused, with a
// sentence. A terminal's first enrollment (no people yet) needs only IT's
// code.
func TestSync_DisconnectAndEnrollNeedAManagerWithAPIN(t *testing.T) {
	first := newTerminal(t, "")
	_, err := first.sync.Enroll("http://127.0.0.1:1", "CODE-1234")
	notRefused(t, "first enrollment", err)

	tm := newTerminal(t, "manager")
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "Early=06:00", "pin_roles": "supervisor"})
	tm.seed(t, protocol.TablePeople,
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "24681357")),
		person("MGR-2", "Max Manager", "manager", true, ""),
		person("SUP-1", "Sam Supervisor", "supervisor", true, cheapPIN(t, "13572468")),
		person("OP-100", "Olga Operator", "operator", true, ""))
	refused := func(who, code string) {
		t.Helper()
		_, err := tm.sync.Unenroll(true)
		wantCode(t, "disconnect with "+who, err, code, "")
		if st, _ := tm.sync.Status(); !st.Enrolled {
			t.Fatalf("disconnected with %s", who)
		}
		_, err = tm.sync.Enroll("http://127.0.0.1:1", "CODE-1234")
		wantCode(t, "enroll again with "+who, err, code, "")
	}
	refused("nobody signed in", CodeSignInRequired)
	for _, p := range []struct{ badge, pin string }{{"OP-100", ""}, {"SUP-1", "13572468"}, {"MGR-2", ""}} {
		if _, err := tm.sess.SignIn(p.badge, p.pin); err != nil {
			t.Fatal(err)
		}
		refused(p.badge, CodeForbidden)
	}
	if _, err := tm.sess.SignIn("MGR-1", "24681357"); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.sync.Unenroll(true); err != nil {
		t.Fatalf("a manager with a PIN disconnects: %v", err)
	}
	// Not enrolled any more, but the site's people are here: enrolling
	// again is not a first enrollment.
	if _, err := tm.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	_, err = tm.sync.Enroll("http://127.0.0.1:1", "CODE-1234")
	wantCode(t, "enroll again after disconnecting, as an operator", err, CodeForbidden, "")
	if _, err := tm.sess.SignIn("MGR-1", "24681357"); err != nil {
		t.Fatal(err)
	}
	_, err = tm.sync.Enroll("http://127.0.0.1:1", "CODE-1234")
	notRefused(t, "enroll again as a manager with a PIN", err)
}

// TestSync_DiscardNeedsTheAuthorASupervisorOrAManager (issue 17, hole 4):
// a change the server refused is discarded only by the person who made it
// (the row's operator_id or updated_by), a supervisor or a manager.
func TestSync_DiscardNeedsTheAuthorASupervisorOrAManager(t *testing.T) {
	url, codeA := startServer(t)
	db := lastServerDB
	a := newSiteDevice(t, url, codeA, &cuttable{})
	b := newSiteDevice(t, url, enrollCode(t, db, "operator"), &cuttable{})
	p := func(s string) *string { return &s }
	if _, err := a.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: p("24681357")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.sess.SignIn("MGR-1", "24681357"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []PersonInput{
		{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true},
		{BadgeID: "OP-200", DisplayName: "Otto Operator", Role: "operator", Active: true},
		{BadgeID: "SUP-1", DisplayName: "Sam Supervisor", Role: "supervisor", Active: true, PIN: p("13572468")},
	} {
		if _, err := a.site.SavePerson(in); err != nil {
			t.Fatal(err)
		}
	}
	a.synced(t, "the people on the server")
	eventually(t, "B to pull the people", func() bool {
		b.sync.SyncNow()
		d, err := b.site.Get()
		return err == nil && len(d.People) == 4
	})
	// Two lines Olga slipped into B's store: the server refuses both.
	bst := b.core.opened.db.Store
	for _, code := range []string{"L8", "L9"} {
		if _, err := bst.PutSiteRow(context.Background(), protocol.TableLines, map[string]any{"code": code, "name": "Mine", "active": true, "updated_by": "OP-100"}); err != nil {
			t.Fatal(err)
		}
	}
	var q []QuarantinedRow
	eventually(t, "the server to refuse both lines", func() bool {
		b.sync.SyncNow()
		q, _ = b.sync.Quarantine()
		return len(q) == 2
	})
	discard := func(i int) error { return b.sync.Discard(q[i].Table, q[i].ID) }

	wantCode(t, "discard with nobody signed in", discard(0), CodeSignInRequired, "")
	if _, err := b.sess.SignIn("OP-200", ""); err != nil {
		t.Fatal(err)
	}
	err := discard(0)
	wantCode(t, "discard another operator's change", err, CodeForbidden, "")
	if e := asError(t, err); e.Message != "Only Olga Operator, who made this change, a supervisor or a manager can discard it; Otto Operator is signed in as operator." {
		t.Fatalf("refusal: %q", e.Message)
	}
	if _, err := b.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	if err := discard(0); err != nil {
		t.Fatalf("the author discards: %v", err)
	}
	if _, err := b.sess.SignIn("SUP-1", "13572468"); err != nil {
		t.Fatal(err)
	}
	if err := discard(1); err != nil {
		t.Fatalf("a supervisor discards: %v", err)
	}
	if q, _ := b.sync.Quarantine(); len(q) != 0 {
		t.Fatalf("left in the quarantine: %+v", q)
	}
}
