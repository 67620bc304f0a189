package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// cheapPIN hashes with argon2id parameters fast enough for tests (Verify
// reads the parameters from the hash).
func cheapPIN(t *testing.T, p string) string {
	t.Helper()
	h, err := pin.Hash(p, pin.Params{Memory: 8, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// terminal is one computer of a site: its services over a real encrypted
// store, enrolled (offline: its server does not answer) with role, or not
// enrolled when role is "".
type terminal struct {
	dir     string
	core    *Core
	sync    *SyncService
	sess    *SessionService
	site    *SiteService
	records *RecordService
	lines   *LineConfigService
	clock   *fakeClock

	mu     sync.Mutex
	events []Session
}

func newTerminal(t *testing.T, role string, dir ...string) *terminal {
	t.Helper()
	tm := &terminal{clock: &fakeClock{t: time.Now()}}
	if len(dir) > 0 {
		tm.dir = dir[0]
	} else {
		tm.dir = t.TempDir()
	}
	tokens := &syncclient.MemoryTokens{}
	if role != "" {
		if err := tokens.Save(context.Background(), syncclient.Credentials{
			ServerURL: "http://127.0.0.1:1", DeviceID: uuid.NewString(), SiteID: "s1", Role: role, Token: "t",
		}); err != nil {
			t.Fatal(err)
		}
	}
	tm.sync = NewSyncService(SyncOptions{Tokens: tokens})
	ctx, cancel := context.WithCancel(context.Background())
	tm.core = NewCore("test", tm.sync.Wrap(OpenLocal(OpenOptions{DataDir: tm.dir, KeyFile: filepath.Join(tm.dir, "key")})))
	tm.core.Start(ctx)
	tm.sess = NewSessionService(tm.core, tm.sync, SessionOptions{Now: tm.clock.now, Poll: 20 * time.Millisecond, Emit: func(name string, data any) {
		if name != EventSessionChanged {
			t.Errorf("event %q", name)
		}
		tm.mu.Lock()
		tm.events = append(tm.events, data.(Session))
		tm.mu.Unlock()
	}})
	tm.site = NewSiteService(tm.core, tm.sync, tm.sess)
	tm.records = NewRecordService(tm.core)
	tm.lines = NewLineConfigService(tm.core)
	go WatchSessions(ctx, tm.sess)
	t.Cleanup(func() { tm.stop(); cancel() })
	select {
	case <-tm.core.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("store did not open")
	}
	if role != "" {
		eventually(t, "the device role", func() bool { return tm.sync.deviceRole() == role })
	}
	return tm
}

var stopOnce sync.Map

func (tm *terminal) stop() {
	if _, done := stopOnce.LoadOrStore(tm, true); done {
		return
	}
	tm.sync.Shutdown()
	tm.core.Shutdown()
}

func (tm *terminal) store(t *testing.T) *store.Store {
	t.Helper()
	return tm.core.opened.db.Store
}

func (tm *terminal) lastEvent() (Session, int) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if len(tm.events) == 0 {
		return Session{}, 0
	}
	return tm.events[len(tm.events)-1], len(tm.events)
}

// seed writes site data straight into the local store, as a pull would.
func (tm *terminal) seed(t *testing.T, table string, rows ...map[string]any) {
	t.Helper()
	for _, r := range rows {
		if _, err := tm.store(t).PutSiteRow(context.Background(), table, r); err != nil {
			t.Fatalf("seed %s %v: %v", table, r, err)
		}
	}
}

func person(badge, name, role string, active bool, hash string) map[string]any {
	r := map[string]any{"badge_id": badge, "display_name": name, "role": role, "active": active}
	if hash != "" {
		r["pin_hash"] = hash
	}
	return r
}

func wantCode(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	e := asError(t, err)
	if e.Code != code || (field != "" && e.Field != field) {
		t.Fatalf("%s: error %+v, want code %q field %q", what, e, code, field)
	}
	if e.Message == "" || !strings.HasSuffix(e.Message, ".") {
		t.Fatalf("%s: message %q is not a sentence", what, e.Message)
	}
}

// TestSite_ATerminalThatNeverReachedTheSiteDoesNotRecord (issue 20, item
// 6): a terminal that has never received the site's people and products
// (not enrolled, nothing pulled: "Work offline" on the first start) takes no
// record or line configuration, with a sentence saying why; it used to
// take anyone's free-text codes. Once the site's data is on it (pulled, and
// kept after a disconnect) the site's lists decide as before, and an
// enrolled site that lists nobody keeps working as before.
func TestSite_ATerminalThatNeverReachedTheSiteDoesNotRecord(t *testing.T) {
	cases := []struct {
		name     string
		role     string
		lines    bool // the site's lines and products are on the terminal
		people   bool
		create   RecordInput
		code     string // "" = recorded
		field    string
		operator string // the stored operator when recorded
	}{
		{name: "never connected", create: RecordInput{LineID: "ANY-LINE", ProductID: "ANY", Quantity: 1, OperatorID: "typed"}, code: CodeNoSiteData},
		{name: "never connected, known-looking codes", create: RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "OP-100"}, code: CodeNoSiteData},
		{name: "site data kept after a disconnect", lines: true, create: RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "typed"}, operator: "typed"},
		{name: "site data kept, a made-up product", lines: true, create: RecordInput{LineID: "L1", ProductID: "MADE-UP", Quantity: 1, OperatorID: "typed"}, code: CodeUnknownCode, field: "product_id"},
		{name: "site people kept, nobody signed in", lines: true, people: true, create: RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1}, code: CodeSignInRequired},
		{name: "enrolled, the site lists nothing", role: "operator", create: RecordInput{LineID: "ANY-LINE", ProductID: "ANY", Quantity: 1, OperatorID: "typed"}, operator: "typed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTerminal(t, c.role)
			if c.lines {
				tm.seed(t, protocol.TableLines, map[string]any{"code": "L1", "name": "Line one", "active": true})
				tm.seed(t, protocol.TableProducts, map[string]any{"code": "P1", "name": "Bolts", "active": true})
			}
			if c.people {
				tm.seed(t, protocol.TablePeople, person("OP-100", "Olga Operator", "operator", true, ""))
			}
			r, err := tm.records.Create(c.create)
			if c.code == "" {
				if err != nil || r.OperatorID != c.operator {
					t.Fatalf("record: %+v %v", r, err)
				}
				return
			}
			wantCode(t, "record", err, c.code, c.field)
			if c.code != CodeNoSiteData {
				return
			}
			if e := asError(t, err); !strings.Contains(e.Message, "sync server") {
				t.Fatalf("the refusal does not say what to do: %q", e.Message)
			}
			_, err = tm.lines.Create(LineConfigInput{LineID: "L1", Recipe: "R"})
			wantCode(t, "line configuration", err, CodeNoSiteData, "")
			if st, err := NewStatusService(tm.core).Get(); err != nil || st.Counts.Records+st.Counts.LineConfigs != 0 {
				t.Fatalf("written: %+v %v", st.Counts, err)
			}
			s, err := tm.sess.Current()
			if err != nil || s.Required || s.SignedIn || s.DeviceRole != "" {
				t.Fatalf("session: %+v %v", s, err)
			}
			d, err := tm.site.Get()
			if err != nil || d.Settings.Configured || len(d.Lines)+len(d.Products)+len(d.People) != 0 || d.CanEdit {
				t.Fatalf("site data: %+v %v", d, err)
			}
			if strings.Join(d.Settings.PinRoles, ",") != "supervisor,manager" {
				t.Fatalf("default PIN roles %q", d.Settings.PinRoles)
			}
		})
	}
}

func TestSite_WhoMayEdit(t *testing.T) {
	hash := cheapPIN(t, "2468")
	people := []map[string]any{
		person("MGR-1", "Mia Manager", "manager", true, hash),
		person("OP-100", "Olga Operator", "operator", true, ""),
	}
	cases := []struct {
		name   string
		role   string // device
		signIn string // badge, "" = nobody
		pin    string
		people bool
		code   string // "" = allowed
	}{
		{"not enrolled", "", "", "", false, CodeForbidden},
		{"operator device, no people", "operator", "", "", false, CodeForbidden},
		{"operator device, manager signed in", "operator", "MGR-1", "2468", true, CodeForbidden},
		{"manager device, no people", "manager", "", "", false, ""},
		{"manager device, nobody signed in", "manager", "", "", true, CodeSignInRequired},
		{"manager device, operator signed in", "manager", "OP-100", "", true, CodeForbidden},
		{"manager device, manager signed in", "manager", "MGR-1", "2468", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTerminal(t, c.role)
			if c.people {
				tm.seed(t, protocol.TablePeople, people...)
			}
			if c.signIn != "" {
				if _, err := tm.sess.SignIn(c.signIn, c.pin); err != nil {
					t.Fatal(err)
				}
			}
			d, err := tm.site.Get()
			if err != nil {
				t.Fatal(err)
			}
			if d.CanEdit != (c.code == "") || (c.code != "") != (d.EditBlocked != "") {
				t.Fatalf("CanEdit %v, EditBlocked %q", d.CanEdit, d.EditBlocked)
			}
			// The person last: on a site without people, the first one
			// makes sign-in required.
			saves := []func() error{
				func() error {
					_, err := tm.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: true})
					return err
				},
				func() error {
					_, err := tm.site.SaveProduct(ProductInput{Code: "P1", Name: "Bolts", Active: true})
					return err
				},
				func() error {
					_, err := tm.site.SaveSettings(SiteSettingsInput{TimeZone: "Europe/Berlin", Shifts: "Early=06:00,Late=14:00,Night=22:00"})
					return err
				},
				func() error {
					p := "135790"
					_, err := tm.site.SavePerson(PersonInput{BadgeID: "MGR-2", DisplayName: "Max", Role: "manager", Active: true, PIN: &p})
					return err
				},
			}
			for i, save := range saves {
				err := save()
				if c.code == "" {
					if err != nil {
						t.Fatalf("save %d: %v", i, err)
					}
					continue
				}
				wantCode(t, "save", err, c.code, "")
			}
			if c.code != "" {
				// Nothing was written.
				d, _ := tm.site.Get()
				if len(d.Lines)+len(d.Products) != 0 || len(d.People) != map[bool]int{true: 2}[c.people] || d.Settings.Configured {
					t.Fatalf("a refused save wrote: %+v", d)
				}
			}
		})
	}
}

func TestSite_SaveAndRead(t *testing.T) {
	tm := newTerminal(t, "manager")
	st := tm.store(t)
	ctx := context.Background()
	// A site's first person must be a manager who can sign in, else nobody
	// could change site data any more.
	_, err := tm.site.SavePerson(PersonInput{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true})
	wantCode(t, "operator first", err, CodeInvalidInput, "role")
	_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true})
	wantCode(t, "manager without a PIN", err, CodeInvalidInput, "role")
	_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "boss", Active: true})
	if e := asError(t, err); e.Field != "role" || !strings.Contains(e.Message, "operator, supervisor, manager") {
		t.Fatalf("unknown role: %+v", e)
	}
	for _, bad := range []string{"12", "abcd", "1234567890123456789012345678901234"} {
		_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: &bad})
		wantCode(t, "PIN "+bad, err, CodeInvalidInput, "pin")
	}
	if n, _ := st.CountLive(ctx, protocol.TablePeople); n != 0 {
		t.Fatalf("refused saves wrote %d people", n)
	}
	// A manager's (or supervisor's) new PIN has at least 6 digits; an
	// operator's 4 (issue 17).
	for _, role := range []string{"manager", "supervisor"} {
		short := "24681"
		_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: role, Active: true, PIN: &short})
		wantCode(t, "a 5-digit "+role+" PIN", err, CodeInvalidInput, "pin")
		if e := asError(t, err); !strings.Contains(e.Message, "at least 6 digits") {
			t.Fatalf("short %s PIN: %q", role, e.Message)
		}
	}
	good := "246813"
	m, err := tm.site.SavePerson(PersonInput{BadgeID: " MGR-1 ", DisplayName: "Mia Manager", Role: "Manager", Active: true, PIN: &good})
	if err != nil || m.BadgeID != "MGR-1" || m.Role != "manager" || !m.HasPIN || !m.NeedsPIN || !m.Pending || m.UpdatedBy != "" {
		t.Fatalf("manager: %+v %v", m, err)
	}
	row, err := st.PersonByBadge(ctx, "MGR-1")
	if h := row.Text("pin_hash"); err != nil || !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, good) || pin.Verify(good, h) != nil {
		t.Fatalf("stored PIN hash %q %v", h, err)
	}
	// Now the site has people: a manager must sign in to go on.
	_, err = tm.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: true})
	wantCode(t, "save without sign-in", err, CodeSignInRequired, "")
	if _, err := tm.sess.SignIn("MGR-1", good); err != nil {
		t.Fatal(err)
	}
	l, err := tm.site.SaveLine(LineInput{Code: " L1 ", Name: "Line one", Area: "Hall A", Active: true})
	if err != nil || l.Code != "L1" || l.Area != "Hall A" || l.UpdatedBy != "MGR-1" || l.ID != protocol.KeyID("lines", "L1") {
		t.Fatalf("line: %+v %v", l, err)
	}
	if l, err = tm.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: false}); err != nil || l.Active || l.Area != "" {
		t.Fatalf("line retired: %+v %v", l, err)
	}
	_, err = tm.site.SaveLine(LineInput{Code: "", Name: "x", Active: true})
	if e := asError(t, err); e.Field != "code" {
		t.Fatalf("line without a code: %+v", e)
	}
	p, err := tm.site.SaveProduct(ProductInput{Code: "P1", Name: "Bolts", Unit: "pcs", Active: true})
	if err != nil || p.Unit != "pcs" || p.UpdatedBy != "MGR-1" || p.MinQuantity != nil || p.MaxQuantity != nil {
		t.Fatalf("product: %+v %v", p, err)
	}
	// A plausible range (issue 20): kept, read back, refused when upside down.
	lo, hi := int64(5), int64(400)
	if p, err = tm.site.SaveProduct(ProductInput{Code: "P1", Name: "Bolts", Unit: "pcs", Active: true, MinQuantity: &lo, MaxQuantity: &hi}); err != nil ||
		p.MinQuantity == nil || *p.MinQuantity != 5 || p.MaxQuantity == nil || *p.MaxQuantity != 400 {
		t.Fatalf("product range: %+v %v", p, err)
	}
	_, err = tm.site.SaveProduct(ProductInput{Code: "P1", Name: "Bolts", Active: true, MinQuantity: &hi, MaxQuantity: &lo})
	wantCode(t, "range upside down", err, CodeInvalidInput, "max_quantity")
	neg := int64(-3)
	_, err = tm.site.SaveProduct(ProductInput{Code: "P1", Name: "Bolts", Active: true, MinQuantity: &neg})
	if e := asError(t, err); e.Field != "min_quantity" {
		t.Fatalf("negative minimum: %+v", e)
	}
	if ps, err := tm.site.Get(); err != nil || len(ps.Products) != 1 || ps.Products[0].MaxQuantity == nil || *ps.Products[0].MaxQuantity != 400 {
		t.Fatalf("read back: %+v %v", ps, err)
	}
	op, err := tm.site.SavePerson(PersonInput{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true})
	if err != nil || op.HasPIN || op.NeedsPIN || op.UpdatedBy != "MGR-1" {
		t.Fatalf("operator: %+v %v", op, err)
	}
	// nil keeps the PIN, "" clears it.
	if m, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia M.", Role: "manager", Active: true}); err != nil || !m.HasPIN {
		t.Fatalf("PIN kept: %+v %v", m, err)
	}
	empty := "1111"
	if op, err = tm.site.SavePerson(PersonInput{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true, PIN: &empty}); err != nil || !op.HasPIN || !op.NeedsPIN {
		t.Fatalf("operator PIN set: %+v %v", op, err)
	}
	empty = ""
	if op, err = tm.site.SavePerson(PersonInput{BadgeID: "OP-100", DisplayName: "Olga Operator", Role: "operator", Active: true, PIN: &empty}); err != nil || op.HasPIN {
		t.Fatalf("operator PIN cleared: %+v %v", op, err)
	}
	// The last manager cannot be retired or lose their PIN.
	_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia M.", Role: "manager", Active: false})
	wantCode(t, "retire the last manager", err, CodeInvalidInput, "role")
	_, err = tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia M.", Role: "manager", Active: true, PIN: &empty})
	wantCode(t, "clear the last manager's PIN", err, CodeInvalidInput, "role")

	// Settings.
	cases := []struct {
		in    SiteSettingsInput
		field string
	}{
		{SiteSettingsInput{TimeZone: "Mars/Olympus", Shifts: "06:00,14:00,22:00"}, "time_zone"},
		{SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00,06:00"}, "shifts"},
		{SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00", ClockSkewMinutes: 2000}, "clock_skew_ms"},
		{SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00", IdleSignOutSeconds: 5}, "idle_signout_s"},
		{SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00", PinRoles: []string{"boss"}}, "pin_roles"},
	}
	for _, c := range cases {
		_, err := tm.site.SaveSettings(c.in)
		if e := asError(t, err); e.Field != c.field {
			t.Fatalf("settings %+v: %+v, want field %s", c.in, e, c.field)
		}
	}
	if d, err := tm.site.Get(); err != nil || d.Settings.Configured {
		t.Fatalf("refused settings were written: %+v %v", d.Settings, err)
	}
	set, err := tm.site.SaveSettings(SiteSettingsInput{TimeZone: "Europe/Berlin", Shifts: "Early=06:00,Late=14:00,Night=22:00",
		ClockSkewMinutes: 2, IdleSignOutSeconds: 120, PinRoles: []string{"manager"}})
	if err != nil || !set.Configured || set.ClockSkewMinutes != 2 || set.IdleSignOutSeconds != 120 || strings.Join(set.PinRoles, ",") != "manager" {
		t.Fatalf("settings: %+v %v", set, err)
	}
	d, err := tm.site.Get()
	if err != nil || !d.CanEdit || len(d.Lines) != 1 || len(d.Products) != 1 || len(d.People) != 2 || d.Settings.TimeZone != "Europe/Berlin" {
		t.Fatalf("site data: %+v %v", d, err)
	}
}

func TestRecords_TakeTheSignedInOperatorAndCheckCodes(t *testing.T) {
	tm := newTerminal(t, "operator")
	tm.seed(t, protocol.TableLines,
		map[string]any{"code": "L1", "name": "Line one", "active": true},
		map[string]any{"code": "L2", "name": "Old line", "active": false})
	tm.seed(t, protocol.TableProducts, map[string]any{"code": "P1", "name": "Bolts", "active": true})
	tm.seed(t, protocol.TablePeople,
		person("OP-100", "Olga Operator", "operator", true, ""),
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")))
	count := func() int {
		c, err := NewStatusService(tm.core).Get()
		if err != nil {
			t.Fatal(err)
		}
		return c.Counts.Records
	}

	_, err := tm.records.Create(RecordInput{LineID: "L1", ProductID: "P1", Quantity: 5, OperatorID: "typed"})
	wantCode(t, "record without sign-in", err, CodeSignInRequired, "")
	if s, _ := tm.sess.Current(); !s.Required || s.SignedIn || s.DeviceRole != "operator" {
		t.Fatalf("session: %+v", s)
	}
	if _, err := tm.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	r, err := tm.records.Create(RecordInput{LineID: "L1", ProductID: "P1", Quantity: 5, OperatorID: "someone-else"})
	if err != nil || r.OperatorID != "OP-100" || r.OperatorName != "Olga Operator" {
		t.Fatalf("record: %+v %v", r, err)
	}
	bad := []struct {
		in    RecordInput
		code  string
		field string
	}{
		{RecordInput{LineID: "L9", ProductID: "P1", Quantity: 1}, CodeUnknownCode, "line_id"},
		{RecordInput{LineID: "L2", ProductID: "P1", Quantity: 1}, CodeInactiveCode, "line_id"},
		{RecordInput{LineID: "L1", ProductID: "P9", Quantity: 1}, CodeUnknownCode, "product_id"},
	}
	for _, b := range bad {
		_, err := tm.records.Create(b.in)
		wantCode(t, "create "+b.in.LineID+"/"+b.in.ProductID, err, b.code, b.field)
		_, err = tm.records.Update(r.ID, b.in)
		wantCode(t, "update "+b.in.LineID+"/"+b.in.ProductID, err, b.code, b.field)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d records after refused codes, want 1", n)
	}
	if got, _ := tm.records.Get(r.ID); got.LineID != "L1" || got.ProductID != "P1" {
		t.Fatalf("refused updates changed the record: %+v", got)
	}
	// An edit by another person takes their badge.
	if _, err := tm.sess.SignIn("MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	r, err = tm.records.Update(r.ID, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 6, OperatorID: "OP-100"})
	if err != nil || r.OperatorID != "MGR-1" || r.OperatorName != "Mia Manager" {
		t.Fatalf("edited record: %+v %v", r, err)
	}
	page, err := tm.records.List(RecordFilter{})
	if err != nil || len(page.Records) != 1 || page.Records[0].OperatorName != "Mia Manager" {
		t.Fatalf("list: %+v %v", page, err)
	}
	// Line configurations record who changed them.
	lc, err := tm.lines.Create(LineConfigInput{LineID: "L1", Recipe: "R"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.store(t).GetLineConfig(context.Background(), lc.ID)
	if err != nil || got.UpdatedBy == nil || *got.UpdatedBy != "MGR-1" {
		t.Fatalf("line config updated_by: %+v %v", got.UpdatedBy, err)
	}
	if _, err := tm.sess.SignOut(); err != nil {
		t.Fatal(err)
	}
	_, err = tm.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R2"})
	wantCode(t, "line config without sign-in", err, CodeSignInRequired, "")
	_, err = tm.records.Delete(r.ID)
	wantCode(t, "delete without sign-in", err, CodeSignInRequired, "")
}

func TestSession_SignInLockoutAndIdle(t *testing.T) {
	dir := t.TempDir()
	tm := newTerminal(t, "operator", dir)
	tm.seed(t, protocol.TablePeople,
		person("OP-100", "Olga Operator", "operator", true, ""),
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")),
		person("SUP-1", "Sam Supervisor", "supervisor", true, ""),
		person("OLD-1", "Old Timer", "operator", false, ""))
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "06:00,14:00,22:00", "idle_signout_s": int64(60)})

	people, err := tm.sess.People()
	if err != nil || len(people) != 3 || people[0].DisplayName != "Mia Manager" || !people[0].NeedsPIN || people[1].NeedsPIN {
		t.Fatalf("people: %+v %v", people, err)
	}
	for _, c := range []struct{ badge, code string }{
		{"NOPE", CodeUnknownBadge}, {"", CodeUnknownBadge}, {"OLD-1", CodeInactive}, {"SUP-1", CodePINNotSet},
	} {
		_, err := tm.sess.Identify(c.badge)
		wantCode(t, "identify "+c.badge, err, c.code, "")
		_, err = tm.sess.SignIn(c.badge, "")
		wantCode(t, "sign in "+c.badge, err, c.code, "")
	}
	if step, err := tm.sess.Identify("mia manager"); err != nil || step.Person.BadgeID != "MGR-1" || !step.NeedsPIN || step.LockedUntil != 0 {
		t.Fatalf("identify by name: %+v %v", step, err)
	}
	if step, err := tm.sess.Identify("OP-100\n"); err != nil || step.NeedsPIN {
		t.Fatalf("identify by badge: %+v %v", step, err)
	}
	if _, n := tm.lastEvent(); n != 0 {
		t.Fatalf("%d events before any sign-in", n)
	}

	// Sign-in and idle sign-out.
	s, err := tm.sess.SignIn("OP-100", "")
	if err != nil || !s.SignedIn || s.Person.DisplayName != "Olga Operator" || s.IdleSeconds != 60 || s.ExpiresAt != tm.clock.now().Add(time.Minute).UnixMilli() {
		t.Fatalf("sign in: %+v %v", s, err)
	}
	if ev, n := tm.lastEvent(); n != 1 || !ev.SignedIn {
		t.Fatalf("sign-in event: %+v (%d)", ev, n)
	}
	tm.clock.add(50 * time.Second)
	if s, err := tm.sess.Touch(); err != nil || s.ExpiresAt != tm.clock.now().Add(time.Minute).UnixMilli() {
		t.Fatalf("touch: %+v %v", s, err)
	}
	tm.clock.add(61 * time.Second)
	eventually(t, "the idle sign-out event", func() bool { ev, n := tm.lastEvent(); return n == 2 && !ev.SignedIn && ev.Required })
	if s, _ := tm.sess.Current(); s.SignedIn {
		t.Fatal("still signed in after the idle time")
	}

	// Wrong PINs lock the badge, across a restart.
	for i := 1; i < 5; i++ {
		_, err := tm.sess.SignIn("MGR-1", "0000")
		wantCode(t, "wrong PIN", err, CodeWrongPIN, "pin")
	}
	_, err = tm.sess.SignIn("MGR-1", "0000")
	wantCode(t, "fifth wrong PIN", err, CodeLocked, "pin")
	if e := asError(t, err); !strings.Contains(e.Message, "5 minutes") {
		t.Fatalf("lock message %q", e.Message)
	}
	_, err = tm.sess.SignIn("MGR-1", "2468")
	wantCode(t, "right PIN while locked", err, CodeLocked, "")
	tm.stop()

	tm2 := newTerminal(t, "operator", dir)
	tm2.clock.add(tm.clock.now().Sub(tm2.clock.now()))
	step, err := tm2.sess.Identify("MGR-1")
	if err != nil || step.LockedUntil != tm.clock.now().Add(5*time.Minute).UnixMilli() {
		t.Fatalf("after restart: %+v %v", step, err)
	}
	_, err = tm2.sess.SignIn("MGR-1", "2468")
	wantCode(t, "right PIN after restart, still locked", err, CodeLocked, "")
	tm2.clock.add(5 * time.Minute)
	if s, err := tm2.sess.SignIn("MGR-1", "2468"); err != nil || s.Person.Role != "manager" {
		t.Fatalf("after the lock: %+v %v", s, err)
	}
	if a, _ := tm2.store(t).SigninAttempts(context.Background(), "MGR-1"); a != (store.Attempts{}) {
		t.Fatalf("attempts after success: %+v", a)
	}
	if s, err := tm2.sess.SignOut(); err != nil || s.SignedIn {
		t.Fatalf("sign out: %+v %v", s, err)
	}
	if ev, _ := tm2.lastEvent(); ev.SignedIn {
		t.Fatal("no sign-out event")
	}
}

func TestConflicts_ResolveNeedsAManagerSignedIn(t *testing.T) {
	tm := newTerminal(t, "manager")
	tm.seed(t, protocol.TablePeople,
		person("OP-100", "Olga Operator", "operator", true, ""),
		person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")))
	cs := NewConflictService(tm.sync)
	row := map[string]any{"line_id": "L1", "recipe": "R"}
	id := uuid.NewString()
	_, err := cs.Resolve(id, row, 3, "why")
	wantCode(t, "nobody signed in", err, CodeSignInRequired, "")
	if _, err := tm.sess.SignIn("OP-100", ""); err != nil {
		t.Fatal(err)
	}
	_, err = cs.Resolve(id, row, 3, "why")
	wantCode(t, "operator signed in", err, CodeForbidden, "")
	if _, err := tm.sess.SignIn("MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	// Offline: the decision is queued with who made it.
	state, err := cs.Resolve(id, row, 3, "why")
	if err != nil || state != "queued" {
		t.Fatalf("resolve: %q %v", state, err)
	}
	q, err := tm.store(t).Resolutions(context.Background())
	if err != nil || len(q) != 1 || q[0].PersonID != "MGR-1" || q[0].PersonName != "Mia Manager" {
		t.Fatalf("queued: %+v %v", q, err)
	}

	// An operator's computer cannot resolve, whoever is signed in.
	op := newTerminal(t, "operator")
	op.seed(t, protocol.TablePeople, person("MGR-1", "Mia Manager", "manager", true, cheapPIN(t, "2468")))
	if _, err := op.sess.SignIn("MGR-1", "2468"); err != nil {
		t.Fatal(err)
	}
	_, err = NewConflictService(op.sync).Resolve(id, row, 3, "why")
	wantCode(t, "operator device", err, CodeForbidden, "")
	if q, err := op.store(t).Resolutions(context.Background()); err != nil || len(q) != 0 {
		t.Fatalf("a refused decision was queued: %+v %v", q, err)
	}
}

func TestDashboard_FollowsTheSiteSettings(t *testing.T) {
	tm := newTerminal(t, "manager")
	dash := NewDashboardService(tm.core, DashboardOptions{Location: time.UTC})
	d, err := dash.Get(DashboardQuery{Preset: "today"})
	if err != nil || d.TimeZone != "UTC" || len(d.Shifts) != 3 {
		t.Fatalf("before settings: %+v %v", d, err)
	}
	// As a pull would bring them: the next query uses them.
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "Asia/Tokyo", "shifts": "Day=07:00,Night=19:00"})
	d, err = dash.Get(DashboardQuery{Preset: "today"})
	if err != nil || d.TimeZone != "Asia/Tokyo" || len(d.Shifts) != 2 || d.Shifts[0].Name != "Day" {
		t.Fatalf("after settings: tz %q shifts %+v %v", d.TimeZone, d.Shifts, err)
	}
	if from := time.UnixMilli(d.From).In(mustZone(t, "Asia/Tokyo")); from.Hour() != 0 || from.Minute() != 0 {
		t.Fatalf("today starts at %v in Tokyo", from)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSyncStatus_ClockWarningFollowsTheSiteSetting(t *testing.T) {
	tm := newTerminal(t, "manager")
	st := tm.sync.decorate(syncclient.Status{ClockOffsetMS: 3 * 60_000})
	if st.ClockWarning {
		t.Fatal("3 minutes warned with the default of 5")
	}
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "06:00", "clock_skew_ms": int64(60_000)})
	if st := tm.sync.decorate(syncclient.Status{ClockOffsetMS: 3 * 60_000}); !st.ClockWarning {
		t.Fatal("3 minutes not warned with a site setting of 1 minute")
	}
	if st := tm.sync.decorate(syncclient.Status{ClockOffsetMS: -30_000}); st.ClockWarning {
		t.Fatal("30 s warned with a site setting of 1 minute")
	}
}

// A pull that brings the site's first people while the app is open must
// put the sign-in screen up: the WebView hears of it by session:changed.
func TestSession_PeopleArrivingWhileOpen(t *testing.T) {
	tm := newTerminal(t, "operator")
	if s, err := tm.sess.Current(); err != nil || s.Required {
		t.Fatalf("before people: %+v %v", s, err)
	}
	tm.seed(t, protocol.TablePeople, person("OP-100", "Olga Operator", "operator", true, ""))
	eventually(t, "the sign-in requirement event", func() bool { ev, n := tm.lastEvent(); return n == 1 && ev.Required && !ev.SignedIn })
	// Told once: no repeat while nothing changes.
	time.Sleep(100 * time.Millisecond)
	if _, n := tm.lastEvent(); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

// TestSite_PersonLanguage (issue 21): a person's language is saved and read
// back through the Site screen's methods; nil keeps it, "" (the terminal's
// language) clears it; a language Outpost does not speak is refused on its field with
// the registry's rule and options, and changes nothing.
func TestSite_PersonLanguage(t *testing.T) {
	tm := newTerminal(t, "manager")
	st := tm.store(t)
	ctx := context.Background()
	good := "246813"
	m, err := tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, PIN: &good, Language: ptr("de")})
	if err != nil || m.Language != "de" {
		t.Fatalf("saved with de: %+v %v", m, err)
	}
	if row, err := st.PersonByBadge(ctx, "MGR-1"); err != nil || row.Text("language") != "de" {
		t.Fatalf("stored language %q %v", row.Text("language"), err)
	}
	if _, err := tm.sess.SignIn("MGR-1", good); err != nil {
		t.Fatal(err)
	}
	readBack := func(what, want string) {
		t.Helper()
		d, err := tm.site.Get()
		if err != nil || len(d.People) != 1 || d.People[0].Language != want {
			t.Fatalf("%s: people %+v %v, want language %q", what, d.People, err, want)
		}
	}
	readBack("read back", "de")
	for _, bad := range []string{"klingon", "de-AT", "en-XA", "zh-TW"} {
		_, err := tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, Language: &bad})
		wantCode(t, "language "+bad, err, CodeInvalidInput, "language")
		e := asError(t, err)
		if e.Params["rule"] != "one_of" || e.Params["options"] != strings.Join(protocol.Languages, ", ") || !strings.Contains(e.Message, "pt-BR") {
			t.Fatalf("language %s: %+v", bad, e)
		}
		readBack("after "+bad, "de")
	}
	cases := []struct {
		in   *string
		want string
	}{{ptr(" pt-br "), "pt-BR"}, {nil, "pt-BR"}, {ptr("zh-CN"), "zh-CN"}, {ptr(""), ""}, {nil, ""}}
	for _, c := range cases {
		p, err := tm.site.SavePerson(PersonInput{BadgeID: "MGR-1", DisplayName: "Mia Manager", Role: "manager", Active: true, Language: c.in})
		if err != nil || p.Language != c.want {
			t.Fatalf("language %v: %+v %v, want %q", c.in, p, err, c.want)
		}
		readBack(fmt.Sprintf("language %v", c.in), c.want)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSite_RefusalsNameTheirRule (issue 21): every refusal of the Site
// screen's methods carries its rule and the numbers its sentence needs, so
// the screen says it in the person's language (frontend/src/i18n/errors:
// errors.<code>.<rule>); the English sentence stays for logs.
func TestSite_RefusalsNameTheirRule(t *testing.T) {
	op := newTerminal(t, "operator")
	_, err := op.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: true})
	wantRule(t, "operator's computer", err, CodeForbidden, "operator_computer", nil)
	if d, err := op.site.Get(); err != nil || d.EditBlockedCode != CodeForbidden || d.EditBlockedParams["rule"] != "operator_computer" || d.EditBlocked == "" {
		t.Fatalf("read-only reason: %+v %v", d, err)
	}
	none := newTerminal(t, "")
	_, err = none.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: true})
	wantRule(t, "not enrolled", err, CodeForbidden, "not_enrolled", nil)

	tm := newTerminal(t, "manager")
	short, bad, good := "24681", "12", "246813"
	cases := []struct {
		name   string
		call   func() error
		code   string
		rule   string
		params map[string]any
	}{
		{"unknown role", func() error {
			_, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "M", Role: "boss", Active: true})
			return err
		}, CodeInvalidInput, "one_of", map[string]any{"options": "operator, supervisor, manager"}},
		{"PIN format", func() error {
			_, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "M", Role: "manager", Active: true, PIN: &bad})
			return err
		}, CodeInvalidInput, "pin_format", map[string]any{"min_digits": 4.0, "max_digits": 32.0}},
		{"short manager PIN", func() error {
			_, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "M", Role: "manager", Active: true, PIN: &short})
			return err
		}, CodeInvalidInput, "pin_min_digits", map[string]any{"min_digits": 6.0}},
		{"no manager left", func() error {
			_, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "M", Role: "manager", Active: true})
			return err
		}, CodeInvalidInput, "managers_remain", nil},
		{"range upside down", func() error {
			lo, hi := int64(9), int64(3)
			_, err := tm.site.SaveProduct(ProductInput{Code: "P", Name: "P", Active: true, MinQuantity: &lo, MaxQuantity: &hi})
			return err
		}, CodeInvalidInput, "range_upside_down", map[string]any{"min": 9.0, "max": 3.0}},
		{"clock skew", func() error {
			_, err := tm.site.SaveSettings(SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00", ClockSkewMinutes: 5000})
			return err
		}, CodeInvalidInput, "clock_skew", map[string]any{"max": float64(protocol.MaxClockSkewMS / 60_000)}},
		{"idle sign-out", func() error {
			_, err := tm.site.SaveSettings(SiteSettingsInput{TimeZone: "UTC", Shifts: "06:00", IdleSignOutSeconds: 5})
			return err
		}, CodeInvalidInput, "idle_signout", map[string]any{"min": float64(protocol.MinIdleSignOutS), "max": float64(protocol.MaxIdleSignOutS)}},
	}
	for _, c := range cases {
		wantRule(t, c.name, c.call(), c.code, c.rule, c.params)
	}
	if _, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "Mia", Role: "manager", Active: true, PIN: &good}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.sess.SignIn("M", good); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.site.SavePerson(PersonInput{BadgeID: "M", DisplayName: "Mia", Role: "manager", Active: true, PIN: ptr("")}); err == nil {
		t.Fatal("the last manager's PIN was cleared")
	} else {
		wantRule(t, "no manager left, PIN cleared", err, CodeInvalidInput, "managers_remain", nil)
	}
	if _, err := tm.sess.SignOut(); err != nil {
		t.Fatal(err)
	}
	_, err = tm.site.SaveLine(LineInput{Code: "L1", Name: "Line one", Active: true})
	wantRule(t, "nobody signed in", err, CodeSignInRequired, "manager", nil)
}

func wantRule(t *testing.T, what string, err error, code, rule string, params map[string]any) {
	t.Helper()
	e := asError(t, err)
	if e.Code != code || e.Params["rule"] != rule {
		t.Fatalf("%s: %+v, want code %s rule %s", what, e, code, rule)
	}
	for k, v := range params {
		if e.Params[k] != v {
			t.Fatalf("%s: params %v, want %s=%v", what, e.Params, k, v)
		}
	}
}
