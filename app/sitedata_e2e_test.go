package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// siteDevice is a terminal enrolled with a real outpost-server.
type siteDevice struct {
	device
	core    *Core
	sess    *SessionService
	site    *SiteService
	records *RecordService
}

func newSiteDevice(t *testing.T, url, code string, net *cuttable) siteDevice {
	t.Helper()
	dir := t.TempDir()
	o := SyncOptions{Tokens: &syncclient.MemoryTokens{}, ServerURL: url, Code: code, Transport: net}
	svc := NewSyncService(o)
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	sess := NewSessionService(core, svc, SessionOptions{})
	go WatchSessions(ctx, sess)
	t.Cleanup(func() { svc.Shutdown(); core.Shutdown(); cancel() })
	d := siteDevice{
		device: device{sync: svc, conflicts: NewConflictService(svc), lines: NewLineConfigService(core)},
		core:   core, sess: sess, site: NewSiteService(core, svc, sess), records: NewRecordService(core),
	}
	eventually(t, "enrollment", func() bool { st, err := svc.Status(); return err == nil && st.Enrolled && st.Online })
	return d
}

// maxRounds is how many sync rounds a change may take to reach every
// device. The waits below count rounds, not seconds: a loaded machine makes
// rounds slower, not a change need more of them. Each device's own loop
// syncs on its own schedule too (debounce, events, the 60 s poll), and no
// wait depends on it: a decision queued while the network was cut, on a
// device whose loop never noticed the cut (its event stream stayed open),
// is sent at that device's next sync, so a wait that synced only the other
// device timed out when a loaded machine let the loop settle before the
// cut.
const maxRounds = 5

// round syncs d once (push, then pull) and waits for what a successful
// sync starts in the background: sending the decisions queued on d.
func (d siteDevice) round(t *testing.T) {
	t.Helper()
	if _, err := d.sync.SyncNow(); err != nil {
		t.Logf("sync now: %v", err)
	}
	// The sender's own deadline is a minute; this only stops a hang.
	deadline := time.Now().Add(2 * time.Minute)
	for d.sync.sendingDecs.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the queued decisions were still being sent after 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// converge runs sync rounds, each syncing devs in order, until ok holds; it
// fails after maxRounds rounds.
func converge(t *testing.T, what string, devs []siteDevice, ok func() bool) {
	t.Helper()
	for i := 0; i < maxRounds; i++ {
		for _, d := range devs {
			d.round(t)
		}
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not after %d sync rounds", what, maxRounds)
}

// synced syncs d until it has nothing left to push.
func (d siteDevice) synced(t *testing.T, what string) {
	t.Helper()
	converge(t, what, []siteDevice{d}, func() bool {
		st, err := d.sync.Status()
		return err == nil && st.Pending == 0 && st.InFlight == 0
	})
}

// TestSiteData_EndToEnd: a manager's computer sets up the site's people
// and lists; they reach an operator's computer through the real server; an
// operator signs in by badge and records production (a valid and an
// invalid product code); the operator's computer cannot change site data
// (the app refuses, and so does the server); a conflict on a line
// configuration shows who made each edit; an operator cannot resolve it, a
// manager signed in with a PIN can, and the inbox and history show names.
func TestSiteData_EndToEnd(t *testing.T) {
	url, codeA := startServer(t)
	db := lastServerDB
	aNet := &cuttable{}
	a := newSiteDevice(t, url, codeA, aNet)
	b := newSiteDevice(t, url, enrollCode(t, db, "operator"), &cuttable{})

	// The manager's computer: the first person is a manager with a PIN.
	mgrPIN := "246813"
	if _, err := a.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: &mgrPIN}); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.sess.Current(); !s.Required || s.SignedIn || s.DeviceRole != "manager" {
		t.Fatalf("A's session once the site has a person: %+v", s)
	}
	if _, err := a.sess.SignIn("MGR-1", mgrPIN); err != nil {
		t.Fatal(err)
	}
	if _, err := a.site.SavePerson(PersonInput{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"L1", "L2"} {
		if _, err := a.site.SaveLine(LineInput{Code: l, Name: "Line " + l, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.site.SaveProduct(ProductInput{Code: "P-100", Name: "Bolts", Unit: "pcs", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.site.SaveSettings(SiteSettingsInput{TimeZone: "Europe/Berlin", Shifts: "Early=06:00,Late=14:00,Night=22:00"}); err != nil {
		t.Fatal(err)
	}
	a.synced(t, "A's site data on the server")

	// The operator's computer pulls it.
	converge(t, "B to pull the site data", []siteDevice{b}, func() bool {
		d, err := b.site.Get()
		return err == nil && len(d.People) == 2 && len(d.Lines) == 2 && len(d.Products) == 1 && d.Settings.Configured
	})
	d, _ := b.site.Get()
	if d.CanEdit || d.EditBlocked == "" || d.People[0].UpdatedBy != "MGR-1" && d.People[1].UpdatedBy != "MGR-1" {
		t.Fatalf("B's site data: %+v", d)
	}
	_, err := b.records.Create(RecordInput{LineID: "L1", ProductID: "P-100", Quantity: 5})
	wantCode(t, "record before sign-in", err, CodeSignInRequired, "")
	step, err := b.sess.Identify("OP-100")
	if err != nil || step.NeedsPIN || step.Person.DisplayName != "Olga Operator" {
		t.Fatalf("identify: %+v %v", step, err)
	}
	if _, err := b.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	rec, err := b.records.Create(RecordInput{LineID: "L1", ProductID: "P-100", Quantity: 5})
	if err != nil || rec.OperatorID != "OP-100" || rec.OperatorName != "Olga Operator" {
		t.Fatalf("record: %+v %v", rec, err)
	}
	_, err = b.records.Create(RecordInput{LineID: "L1", ProductID: "P-999", Quantity: 5})
	wantCode(t, "invalid product", err, CodeUnknownCode, "product_id")
	_, err = b.site.SaveLine(LineInput{Code: "L9", Name: "Mine", Active: true})
	wantCode(t, "operator computer saves a line", err, CodeForbidden, "")
	// Past the app (straight into the local store), the server refuses it.
	bst := b.core.opened.db.Store
	if _, err := bst.PutSiteRow(context.Background(), protocol.TableLines, map[string]any{"code": "L9", "name": "Mine", "active": true}); err != nil {
		t.Fatal(err)
	}
	converge(t, "the server to refuse B's line", []siteDevice{b}, func() bool {
		q, _ := b.sync.Quarantine()
		for _, r := range q {
			if r.Table == protocol.TableLines && strings.HasPrefix(r.Reason, "forbidden") {
				return true
			}
		}
		return false
	})
	converge(t, "A to pull B's record", []siteDevice{b, a}, func() bool {
		r, err := a.records.Get(rec.ID)
		return err == nil && r.OperatorName == "Olga Operator"
	})

	// A conflict on a line configuration: A's manager and B's operator
	// change the same field from the same version.
	temp := func(v float64) *float64 { return &v }
	lc, err := a.lines.Create(LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(180)})
	if err != nil {
		t.Fatal(err)
	}
	converge(t, "B to pull the line config", []siteDevice{a, b}, func() bool { _, err := b.lines.Get(lc.ID); return err == nil })
	conflictOn := func(ta, tb float64) Conflict {
		t.Helper()
		aNet.down.Store(true)
		if _, err := a.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(ta)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(tb)}); err != nil {
			t.Fatal(err)
		}
		b.synced(t, "B's edit on the server")
		aNet.down.Store(false)
		var open Conflict
		converge(t, "the open conflict in A's inbox", []siteDevice{a}, func() bool {
			cs, _ := a.conflicts.List()
			for _, c := range cs {
				if c.Status == "open" && c.RowID == lc.ID {
					open = c
					return true
				}
			}
			return false
		})
		return open
	}
	// resolved waits for conflict id's decision, made on A, on dev: each
	// round syncs A first (a decision queued there is sent after its sync),
	// then dev.
	resolved := func(dev siteDevice, id string) Conflict {
		t.Helper()
		var got Conflict
		converge(t, "the decision on every device", []siteDevice{a, dev}, func() bool {
			cs, _ := dev.conflicts.List()
			for _, c := range cs {
				if c.ID == id && c.Status == "resolved" {
					got = c
					return true
				}
			}
			return false
		})
		return got
	}
	open := conflictOn(185, 190)
	if open.MineBy != "MGR-1" || open.MineByName != "Mia Manager" {
		t.Fatalf("conflict's author: %q %q", open.MineBy, open.MineByName)
	}
	if open.TheirsBy != "OP-100" || open.TheirsByName != "Olga Operator" {
		t.Fatalf("theirs' author: %q %q", open.TheirsBy, open.TheirsByName)
	}
	if th, _ := open.Theirs.(map[string]any); th["updated_by"] != "OP-100" {
		t.Fatalf("theirs: %+v", open.Theirs)
	}

	chosen := map[string]any{}
	for k, v := range open.Theirs.(map[string]any) {
		chosen[k] = v
	}
	chosen["temperature_c"] = 187.5
	// The operator cannot decide, even on the manager's computer.
	if _, err := a.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	_, err = a.conflicts.Resolve(open.ID, chosen, open.TheirsVersion, "split the difference")
	wantCode(t, "operator resolves", err, CodeForbidden, "")
	if _, err := a.sess.SignIn("MGR-1", mgrPIN); err != nil {
		t.Fatal(err)
	}
	if state, err := a.conflicts.Resolve(open.ID, chosen, open.TheirsVersion, "split the difference"); err != nil || state != "sent" {
		t.Fatalf("resolve: %q %v", state, err)
	}
	for name, dev := range map[string]siteDevice{"A": a, "B": b} {
		got := resolved(dev, open.ID)
		if got.ResolvedByPerson != "MGR-1" || got.ResolvedByName != "Mia Manager" || got.ResolvedBy == "" {
			t.Fatalf("%s: resolved by %q / %q / %q", name, got.ResolvedBy, got.ResolvedByPerson, got.ResolvedByName)
		}
	}
	h, err := b.conflicts.History(protocol.TableLineConfigs, lc.ID)
	if err != nil || len(h) < 3 {
		t.Fatalf("history: %+v %v", h, err)
	}
	var who []string
	for _, e := range h {
		who = append(who, e.ByName)
	}
	all := strings.Join(who, ",")
	if !strings.Contains(all, "Olga Operator") || !strings.HasSuffix(all, "Mia Manager") {
		t.Fatalf("history names: %q", who)
	}

	// Decided offline: the queued decision keeps who made it, also after
	// another person signs in meanwhile.
	second := conflictOn(150, 155)
	aNet.down.Store(true)
	if state, err := a.conflicts.Resolve(second.ID, second.Mine.(map[string]any), second.TheirsVersion, "cold room"); err != nil || state != "queued" {
		t.Fatalf("resolve offline: %q %v", state, err)
	}
	if _, err := a.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	aNet.down.Store(false)
	if got := resolved(b, second.ID); got.ResolvedByPerson != "MGR-1" || got.ResolvedByName != "Mia Manager" {
		t.Fatalf("offline decision resolved by %q / %q", got.ResolvedByPerson, got.ResolvedByName)
	}
	if _, err := a.sess.SignIn("MGR-1", mgrPIN); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.sess.Current(); !s.SignedIn || s.ExpiresAt < time.Now().UnixMilli() || s.Person.BadgeID != "MGR-1" {
		t.Fatalf("A's session: %+v", s)
	}
}
