package app

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestSecrets_PeopleConflictShowsNoHash (issue 17, hole 1): two managers
// change one manager's PIN from the same version, a people conflict. On an
// operator's computer nothing a bound method answers holds a PIN hash: the
// inbox, the row's history, the conflict record's history, the
// quarantine, the site data. The inbox says which side set or changed the
// PIN through tokens, and a manager resolving with a side's token stores
// that side's hash (the PIN works afterwards); a value typed in is refused.
func TestSecrets_PeopleConflictShowsNoHash(t *testing.T) {
	logs := captureLog(t)
	url, codeA := startServer(t)
	db := lastServerDB
	aNet := &cuttable{}
	a := newSiteDevice(t, url, codeA, aNet)
	c := newSiteDevice(t, url, enrollCode(t, db, "manager"), &cuttable{})
	b := newSiteDevice(t, url, enrollCode(t, db, "operator"), &cuttable{})
	p := func(s string) *string { return &s }

	const mgrPIN, firstPIN, pinA, pinC = "24681357", "11112222", "33334444", "55556666"
	if _, err := a.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: p(mgrPIN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.sess.SignIn("MGR-1", mgrPIN); err != nil {
		t.Fatal(err)
	}
	for _, in := range []PersonInput{
		{BadgeID: "MGR-2", DisplayName: "Max Manager", Role: "manager", Active: true, PIN: p(firstPIN)},
		{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true},
	} {
		if _, err := a.site.SavePerson(in); err != nil {
			t.Fatal(err)
		}
	}
	a.synced(t, "A's people on the server")
	for _, d := range []siteDevice{b, c} {
		eventually(t, "the people on every computer", func() bool {
			d.sync.SyncNow()
			sd, err := d.site.Get()
			return err == nil && len(sd.People) == 3
		})
	}
	if _, err := c.sess.SignIn("MGR-1", mgrPIN); err != nil {
		t.Fatal(err)
	}

	// The conflict: A (offline) and C both set MGR-2's PIN.
	aNet.down.Store(true)
	if _, err := a.site.SavePerson(PersonInput{BadgeID: "MGR-2", DisplayName: "Max Manager", Role: "manager", Active: true, PIN: p(pinA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.site.SavePerson(PersonInput{BadgeID: "MGR-2", DisplayName: "Max Manager", Role: "manager", Active: true, PIN: p(pinC)}); err != nil {
		t.Fatal(err)
	}
	c.synced(t, "C's PIN on the server")
	aNet.down.Store(false)
	openOn := func(d siteDevice) Conflict {
		t.Helper()
		var open Conflict
		eventually(t, "the people conflict in the inbox", func() bool {
			d.sync.SyncNow()
			cs, _ := d.conflicts.List()
			for _, x := range cs {
				if x.Table == protocol.TablePeople && x.Status == "open" {
					open = x
					return true
				}
			}
			return false
		})
		return open
	}
	onA := openOn(a)
	onB := openOn(b)

	// B is an operator's computer with an operator signed in.
	if _, err := b.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	// A people row B's operator slipped into the local store: the server
	// refuses it, and the quarantine lists it.
	bst := b.core.opened.db.Store
	if _, err := bst.PutSiteRow(context.Background(), protocol.TablePeople, person("OP-666", "Eve", "manager", true, cheapPIN(t, "12345678"))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the server to refuse B's person", func() bool {
		b.sync.SyncNow()
		q, _ := b.sync.Quarantine()
		return len(q) > 0
	})

	var shown []any
	show := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		shown = append(shown, v)
	}
	show(b.conflicts.List())
	show(b.conflicts.History(protocol.TablePeople, onB.RowID))
	show(b.conflicts.History(protocol.TableConflicts, onB.ID))
	show(b.sync.Quarantine())
	show(b.site.Get())
	show(b.sess.People())
	show(a.conflicts.List())
	// Every other bound method that takes no argument, on both computers:
	// a method added later that returns rows is checked too.
	for _, d := range []siteDevice{a, b} {
		shown = append(shown, callBound(t, d.sync, d.conflicts, d.sess, d.site, d.records, d.lines, NewStatusService(d.core), NewSchemaService())...)
		show(d.records.List(RecordFilter{}))
		shown = append(shown, NewSchemaService().Fields(protocol.TablePeople))
	}

	// What the inbox shows instead: tokens, equal where the hashes are.
	tok := func(row any) string { m, _ := row.(map[string]any); s, _ := m["pin_hash"].(string); return s }
	if !strings.HasPrefix(tok(onB.Mine), SecretToken) || !strings.HasPrefix(tok(onB.Theirs), SecretToken) ||
		!strings.HasPrefix(tok(onB.Base), SecretToken) || tok(onB.Mine) == tok(onB.Theirs) || tok(onB.Base) == tok(onB.Mine) {
		t.Fatalf("pin_hash in the inbox: base %q mine %q theirs %q", tok(onB.Base), tok(onB.Mine), tok(onB.Theirs))
	}

	// Resolving: a typed value is refused; A's own side is taken.
	chosen := map[string]any{}
	for k, v := range onA.Theirs.(map[string]any) {
		chosen[k] = v
	}
	chosen["pin_hash"] = cheapPIN(t, "99990000")
	_, err := a.conflicts.Resolve(onA.ID, chosen, onA.TheirsVersion, "typed")
	wantCode(t, "a typed PIN hash", err, CodeInvalidInput, "pin_hash")
	shown = append(shown, FormatError(err))
	chosen["pin_hash"] = tok(onA.Mine)
	if state, err := a.conflicts.Resolve(onA.ID, chosen, onA.TheirsVersion, "A's PIN"); err != nil || state != "sent" {
		t.Fatalf("resolve with A's side: %q %v", state, err)
	}
	eventually(t, "A's PIN to work on B", func() bool {
		b.sync.SyncNow()
		_, err := b.sess.SignIn("MGR-2", pinA)
		return err == nil
	})
	show(b.conflicts.List())
	show(b.conflicts.History(protocol.TableConflicts, onB.ID))
	show(b.conflicts.History(protocol.TablePeople, onB.RowID))

	out, err := json.Marshal(shown)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Max Manager") || !strings.Contains(string(out), SecretToken) {
		t.Fatalf("the answers miss the person, so the check below proves nothing:\n%s", out)
	}
	if strings.Contains(string(out), "$argon2") || strings.Contains(string(out), "argon2id") {
		t.Fatalf("a PIN hash reaches the WebView:\n%s", out)
	}
	if log := logs.String(); !strings.Contains(log, "signed in") || strings.Contains(log, "argon2") {
		t.Fatalf("the log misses the sign-ins or holds a PIN hash:\n%s", log)
	}
}

// callBound calls every exported method without parameters of each bound
// service (but Shutdown) and returns the answers and errors, as the
// WebView would get them.
func callBound(t *testing.T, services ...any) []any {
	t.Helper()
	var out []any
	for _, svc := range services {
		v := reflect.ValueOf(svc)
		for i := 0; i < v.NumMethod(); i++ {
			m, name := v.Method(i), v.Type().Method(i).Name
			if m.Type().NumIn() != 0 || name == "Shutdown" || name == "SignOut" {
				continue
			}
			for _, r := range m.Call(nil) {
				if err, ok := r.Interface().(error); ok && err != nil {
					out = append(out, FormatError(err))
					continue
				}
				out = append(out, map[string]any{reflect.TypeOf(svc).String() + "." + name: r.Interface()})
			}
		}
	}
	if len(out) < 8 {
		t.Fatalf("only %d answers from the bound methods", len(out))
	}
	return out
}
