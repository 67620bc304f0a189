package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/outpost-app/outpost/backend/period"
	"github.com/outpost-app/outpost/backend/pin"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/signin"
	"github.com/outpost-app/outpost/backend/store"
)

// SiteService is bound into the WebView: the site's lines, products,
// people and settings. Everyone reads them; only a manager device, with a
// manager signed in when sign-in is required, changes them (the server
// refuses other devices' changes too).
type SiteService struct {
	core *Core
	sync *SyncService
	sess *SessionService
}

// NewSiteService returns the site data service.
func NewSiteService(core *Core, sync *SyncService, sess *SessionService) *SiteService {
	return &SiteService{core: core, sync: sync, sess: sess}
}

func (s *SiteService) session() *SessionService {
	if s.sess != nil {
		return s.sess
	}
	return s.core.sess
}

// Get returns the site's lists and settings and whether this device and
// person may change them.
func (s *SiteService) Get() (SiteData, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (SiteData, error) {
		d := SiteData{Lines: []Line{}, Products: []Product{}, People: []Person{}}
		set, err := readSettings(ctx, st)
		if err != nil {
			return d, err
		}
		d.Settings = set.view()
		rules := set.rules()
		lines, err := st.SiteRows(ctx, protocol.TableLines)
		if err != nil {
			return d, err
		}
		for _, r := range lines {
			d.Lines = append(d.Lines, lineOf(r))
		}
		products, err := st.SiteRows(ctx, protocol.TableProducts)
		if err != nil {
			return d, err
		}
		for _, r := range products {
			d.Products = append(d.Products, productOf(r))
		}
		people, err := st.SiteRows(ctx, protocol.TablePeople)
		if err != nil {
			return d, err
		}
		for _, r := range people {
			d.People = append(d.People, personView(r, rules))
		}
		_, err = s.editor(ctx, st)
		var e *Error
		switch {
		case err == nil:
			d.CanEdit = true
		case errors.As(err, &e):
			d.EditBlocked = e.Message
			r := toError(e)
			d.EditBlockedCode, d.EditBlockedParams = r.Code, r.Params
		default:
			return d, err
		}
		return d, nil
	})
}

// editor says who may change site data now: a manager device, and when
// sign-in is required a signed-in manager. Otherwise it returns a
// forbidden (or sign_in_required) *Error with the reason.
func (s *SiteService) editor(ctx context.Context, st peopleReader) (actor, error) {
	switch s.sync.deviceRole() {
	case protocol.RoleManager:
	case "":
		return actor{}, &Error{Code: CodeForbidden, Message: "Site data is changed on a manager's computer; this computer is not enrolled with a sync server.", Params: map[string]any{"rule": "not_enrolled"}}
	default:
		return actor{}, &Error{Code: CodeForbidden, Message: "Site data is changed on a manager's computer; this one is enrolled as an operator's.", Params: map[string]any{"rule": "operator_computer"}}
	}
	a, err := actorOf(ctx, s.session(), st)
	if err != nil {
		return a, err
	}
	if !a.required {
		return a, nil
	}
	if a.person == nil {
		return a, &Error{Code: CodeSignInRequired, Message: "Sign in as a manager to change site data.", Params: map[string]any{"rule": "manager"}}
	}
	if a.person.Role != protocol.PersonManager {
		return a, &Error{Code: CodeForbidden, Message: fmt.Sprintf("Only a manager can change site data; %s is signed in as %s.", a.person.DisplayName, a.person.Role),
			Params: map[string]any{"rule": "manager_only", "name": a.person.DisplayName}}
	}
	return a, nil
}

// put writes one site data row as the current editor.
func (s *SiteService) put(table string, fields map[string]any, check func(ctx context.Context, st siteReader) error) (store.SiteRow, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (store.SiteRow, error) {
		a, err := s.editor(ctx, st)
		if err != nil {
			return store.SiteRow{}, err
		}
		if check != nil {
			if err := check(ctx, st); err != nil {
				return store.SiteRow{}, err
			}
		}
		fields["updated_by"] = nil
		if b := a.badge(); b != "" {
			fields["updated_by"] = b
		}
		r, err := st.PutSiteRow(ctx, table, fields)
		return r, mapErr(err)
	})
}

func intOrNil(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// intOf is a nullable integer column as a pointer (nil when NULL).
func intOf(r store.SiteRow, col string) *int64 {
	v, ok := r.Int(col)
	if !ok {
		return nil
	}
	return &v
}

func textOrNil(s string) any {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return s
}

// SaveLine adds a line or updates the line with the same code (codes
// cannot change: a new code is a new line; retire the old one with Active
// false).
func (s *SiteService) SaveLine(in LineInput) (Line, error) {
	r, err := s.put(protocol.TableLines, map[string]any{
		"code": strings.TrimSpace(in.Code), "name": strings.TrimSpace(in.Name), "area": textOrNil(in.Area), "active": in.Active,
	}, nil)
	if err != nil {
		return Line{}, err
	}
	return lineOf(r), nil
}

// SaveProduct adds a product or updates the product with the same code.
// A plausible range is optional; its least quantity is not above its most.
func (s *SiteService) SaveProduct(in ProductInput) (Product, error) {
	if in.MinQuantity != nil && in.MaxQuantity != nil && *in.MinQuantity > *in.MaxQuantity {
		return Product{}, fieldError(CodeInvalidInput, "max_quantity", "The largest plausible quantity (%d) is below the smallest (%d).", *in.MaxQuantity, *in.MinQuantity).
			With("rule", "range_upside_down").With("min", *in.MinQuantity).With("max", *in.MaxQuantity)
	}
	r, err := s.put(protocol.TableProducts, map[string]any{
		"code": strings.TrimSpace(in.Code), "name": strings.TrimSpace(in.Name), "unit": textOrNil(in.Unit), "active": in.Active,
		"min_quantity": intOrNil(in.MinQuantity), "max_quantity": intOrNil(in.MaxQuantity),
	}, nil)
	if err != nil {
		return Product{}, err
	}
	return productOf(r), nil
}

// SavePerson adds a person or updates the person with the same badge id.
// A new PIN is hashed here (argon2id); the PIN itself is never stored,
// logged or sent. The site always keeps an active manager who can sign in,
// so site data can still be changed.
func (s *SiteService) SavePerson(in PersonInput) (Person, error) {
	badge := strings.TrimSpace(in.BadgeID)
	fields := map[string]any{
		"badge_id": badge, "display_name": strings.TrimSpace(in.DisplayName),
		"role": strings.ToLower(strings.TrimSpace(in.Role)), "active": in.Active,
	}
	if role := fields["role"].(string); !slices.Contains(protocol.PersonRoles, role) {
		return Person{}, fieldError(CodeInvalidInput, "role", "Choose a role: %s.", strings.Join(protocol.PersonRoles, ", ")).
			With("rule", "one_of").With("options", strings.Join(protocol.PersonRoles, ", "))
	}
	if in.Language != nil {
		lang, ok := personLanguage(*in.Language)
		if !ok {
			return Person{}, fieldError(CodeInvalidInput, "language", "Choose a language: %s, or none for the terminal's own.", strings.Join(protocol.Languages, ", ")).
				With("rule", "one_of").With("options", strings.Join(protocol.Languages, ", "))
		}
		fields["language"] = textOrNil(lang)
	}
	if in.PIN != nil && *in.PIN != "" {
		if err := pin.Check(*in.PIN); err != nil {
			return Person{}, fieldError(CodeInvalidInput, "pin", "%s", sentence(err.Error())).
				With("rule", "pin_format").With("min_digits", pin.MinLen).With("max_digits", pin.MaxLen)
		}
		role := fields["role"].(string)
		if n := signin.MinPINLen(role); len(*in.PIN) < n {
			return Person{}, fieldError(CodeInvalidInput, "pin", "A %s's PIN has at least %d digits: it opens site data and conflict decisions.", role, n).
				With("rule", "pin_min_digits").With("min_digits", n)
		}
	}
	var rules signin.Rules
	r, err := s.put(protocol.TablePeople, fields, func(ctx context.Context, st siteReader) error {
		// Hashed once the editor is known to be allowed (it is slow on purpose).
		if in.PIN != nil {
			fields["pin_hash"] = nil
			if *in.PIN != "" {
				h, err := pin.Hash(*in.PIN, pin.Default)
				if err != nil {
					return fmt.Errorf("hash the PIN: %w", err)
				}
				fields["pin_hash"] = h
			}
		}
		set, err := readSettings(ctx, st)
		if err != nil {
			return err
		}
		rules = set.rules()
		rows, err := st.SiteRows(ctx, protocol.TablePeople)
		if err != nil {
			return err
		}
		people := make([]signin.Person, 0, len(rows)+1)
		found := false
		for _, r := range rows {
			p := personOf(r)
			if p.BadgeID == badge {
				found = true
				p.DisplayName, p.Role, p.Active = fields["display_name"].(string), fields["role"].(string), in.Active
				if in.PIN != nil {
					p.PINHash, _ = fields["pin_hash"].(string)
				}
			}
			people = append(people, p)
		}
		if !found {
			p := signin.Person{BadgeID: badge, Role: fields["role"].(string), Active: in.Active}
			if h, ok := fields["pin_hash"].(string); ok {
				p.PINHash = h
			}
			people = append(people, p)
		}
		if msg := managersRemain(people, rules); msg != "" {
			return fieldError(CodeInvalidInput, "role", "%s", msg).With("rule", "managers_remain")
		}
		return nil
	})
	if err != nil {
		return Person{}, err
	}
	return personView(r, rules), nil
}

// personLanguage returns lang as people.language holds it: one of
// protocol.Languages whatever its case, "" (the terminal's language) for
// blank; ok is false for a language Outpost does not speak.
func personLanguage(lang string) (string, bool) {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return "", true
	}
	for _, l := range protocol.Languages {
		if strings.EqualFold(l, lang) {
			return l, true
		}
	}
	return "", false
}

// managersRemain returns a sentence when people (the site's people after
// an edit) would have active people but no active manager able to sign in:
// nobody could change site data on the site's computers any more.
func managersRemain(people []signin.Person, rules signin.Rules) string {
	active := 0
	for _, p := range people {
		if !p.Active {
			continue
		}
		active++
		if p.Role == protocol.PersonManager && (p.PINHash != "" || !rules.NeedsPIN(p)) {
			return ""
		}
	}
	if active == 0 {
		return ""
	}
	return "Keep at least one active manager who can sign in (with a PIN when managers need one): without one, nobody could change site data any more. Add or fix a manager first."
}

// SaveSettings replaces the site's settings.
func (s *SiteService) SaveSettings(in SiteSettingsInput) (SiteSettings, error) {
	fields := map[string]any{
		"time_zone": strings.TrimSpace(in.TimeZone), "shifts": strings.TrimSpace(in.Shifts),
		"clock_skew_ms": nil, "idle_signout_s": nil, "pin_roles": nil,
	}
	switch m := in.ClockSkewMinutes; {
	case m < 0 || int64(m)*60_000 > protocol.MaxClockSkewMS:
		return SiteSettings{}, fieldError(CodeInvalidInput, "clock_skew_ms", "The allowed clock difference is 1 to %d minutes (0 for the default of 5).", protocol.MaxClockSkewMS/60_000).
			With("rule", "clock_skew").With("max", protocol.MaxClockSkewMS/60_000)
	case m > 0:
		fields["clock_skew_ms"] = int64(m) * 60_000
	}
	switch v := in.IdleSignOutSeconds; {
	case v < 0 || (v > 0 && v < protocol.MinIdleSignOutS) || v > protocol.MaxIdleSignOutS:
		return SiteSettings{}, fieldError(CodeInvalidInput, "idle_signout_s", "The idle sign-out is %d to %d seconds (0 for the default of 300).", protocol.MinIdleSignOutS, protocol.MaxIdleSignOutS).
			With("rule", "idle_signout").With("min", protocol.MinIdleSignOutS).With("max", protocol.MaxIdleSignOutS)
	case v > 0:
		fields["idle_signout_s"] = int64(v)
	}
	var roles []string
	for _, r := range in.PinRoles {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			roles = append(roles, r)
		}
	}
	if len(roles) > 0 {
		fields["pin_roles"] = strings.Join(roles, ",")
	}
	r, err := s.put(protocol.TableSiteSettings, fields, func(ctx context.Context, st siteReader) error {
		rows, err := st.SiteRows(ctx, protocol.TablePeople)
		if err != nil {
			return err
		}
		people := make([]signin.Person, len(rows))
		for i, r := range rows {
			people[i] = personOf(r)
		}
		if msg := managersRemain(people, signin.Rules{PINRoles: signin.ParsePINRoles(strings.Join(roles, ","))}); msg != "" {
			return fieldError(CodeInvalidInput, "pin_roles", "Managers without a PIN could no longer sign in. Set their PINs first.").With("rule", "managers_need_pin")
		}
		return nil
	})
	if err != nil {
		return SiteSettings{}, err
	}
	return settingsOf(r).view(), nil
}

// siteSettings is the site_settings row as the app uses it.
type siteSettings struct {
	configured bool
	pending    bool
	timeZone   string
	shifts     string
	skewMS     int64 // 0 = default
	idleS      int64 // 0 = default
	pinRoles   string
}

func settingsOf(r store.SiteRow) siteSettings {
	s := siteSettings{
		configured: r.Fields["deleted_at"] == nil, pending: r.Pending,
		timeZone: r.Text("time_zone"), shifts: r.Text("shifts"), pinRoles: r.Text("pin_roles"),
	}
	s.skewMS, _ = r.Int("clock_skew_ms")
	s.idleS, _ = r.Int("idle_signout_s")
	return s
}

// siteReader reads the site data the services judge and name things by:
// lines, products, people and settings.
type siteReader interface {
	SiteRow(ctx context.Context, table, id string) (store.SiteRow, error)
	SiteRows(ctx context.Context, table string) ([]store.SiteRow, error)
}

// readSettings reads the site's settings (configured false when there are
// none yet).
func readSettings(ctx context.Context, st siteReader) (siteSettings, error) {
	r, err := st.SiteRow(ctx, protocol.TableSiteSettings, protocol.SiteSettingsID())
	if errors.Is(err, store.ErrNotFound) {
		return siteSettings{}, nil
	}
	if err != nil {
		return siteSettings{}, err
	}
	return settingsOf(r), nil
}

func (s siteSettings) rules() signin.Rules {
	return signin.Rules{PINRoles: signin.ParsePINRoles(s.pinRoles), Idle: time.Duration(s.idleS) * time.Second}
}

// siteRules reads the site's sign-in rules.
func siteRules(ctx context.Context, st siteReader) (signin.Rules, error) {
	s, err := readSettings(ctx, st)
	return s.rules(), err
}

func (s siteSettings) view() SiteSettings {
	v := SiteSettings{
		Configured: s.configured, Pending: s.pending, TimeZone: s.timeZone, Shifts: s.shifts,
		ClockSkewMinutes: int(s.skewMS / 60_000), IdleSignOutSeconds: int(s.idleS),
		PinRoles: signin.ParsePINRoles(s.pinRoles),
	}
	if v.PinRoles == nil {
		v.PinRoles = append([]string{}, signin.DefaultPINRoles...)
	}
	return v
}

// location is the site's time zone, nil when not set (or unreadable).
func (s siteSettings) location() *time.Location {
	if !s.configured || s.timeZone == "" {
		return nil
	}
	loc, err := time.LoadLocation(s.timeZone)
	if err != nil {
		slog.Warn("site time zone", "zone", s.timeZone, "err", err)
		return nil
	}
	return loc
}

// shiftList is the site's shifts, nil when not set (or unreadable).
func (s siteSettings) shiftList() []period.Shift {
	if !s.configured || s.shifts == "" {
		return nil
	}
	sh, err := period.ParseShifts(s.shifts)
	if err != nil {
		slog.Warn("site shifts", "shifts", s.shifts, "err", err)
		return nil
	}
	return sh
}

func viewState(r store.SiteRow) string {
	switch r.SyncState {
	case store.StateAwaitingReview, store.StateRejected:
		return r.SyncState
	}
	return ""
}

func updatedAt(r store.SiteRow) int64 {
	v, _ := r.Int("updated_at")
	return v
}

func lineOf(r store.SiteRow) Line {
	return Line{
		ID: r.ID(), Code: r.Text("code"), Name: r.Text("name"), Area: r.Text("area"), Active: r.Active(),
		UpdatedBy: r.Text("updated_by"), UpdatedAt: updatedAt(r), Pending: r.Pending, SyncState: viewState(r),
	}
}

func productOf(r store.SiteRow) Product {
	return Product{
		ID: r.ID(), Code: r.Text("code"), Name: r.Text("name"), Unit: r.Text("unit"), Active: r.Active(),
		MinQuantity: intOf(r, "min_quantity"), MaxQuantity: intOf(r, "max_quantity"),
		UpdatedBy: r.Text("updated_by"), UpdatedAt: updatedAt(r), Pending: r.Pending, SyncState: viewState(r),
	}
}

func personView(r store.SiteRow, rules signin.Rules) Person {
	p := personOf(r)
	return Person{
		ID: r.ID(), BadgeID: p.BadgeID, DisplayName: p.DisplayName, Role: p.Role, Active: p.Active,
		HasPIN: p.PINHash != "", NeedsPIN: rules.NeedsPIN(p), Language: r.Text("language"),
		UpdatedBy: r.Text("updated_by"), UpdatedAt: updatedAt(r), Pending: r.Pending, SyncState: viewState(r),
	}
}
