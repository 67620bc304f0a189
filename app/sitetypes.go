package app

// Site data (lines, products, people, site settings) and sign-in as the
// WebView sees them. The site's master lists are synced tables written by
// manager devices only; see SiteService and SessionService.

// Line is one production line of the site's list.
type Line struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Area      string `json:"area"`
	Active    bool   `json:"active"`
	UpdatedBy string `json:"updatedBy"`
	UpdatedAt int64  `json:"updatedAt"`
	Pending   bool   `json:"pending"`
	// SyncState: see Record.SyncState.
	SyncState string `json:"syncState,omitempty"`
}

// Product is one product of the site's list.
type Product struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Unit string `json:"unit"`
	// MinQuantity and MaxQuantity are the plausible quantity of one record
	// (nil: none); the entry form asks to confirm a quantity outside them.
	MinQuantity *int64 `json:"minQuantity"`
	MaxQuantity *int64 `json:"maxQuantity"`
	Active      bool   `json:"active"`
	UpdatedBy   string `json:"updatedBy"`
	UpdatedAt   int64  `json:"updatedAt"`
	Pending     bool   `json:"pending"`
	SyncState   string `json:"syncState,omitempty"`
}

// Person is one person of the site. The PIN hash never reaches the
// WebView: HasPIN says whether one is set, NeedsPIN whether signing in
// asks for it (a PIN is set, or the role requires one).
type Person struct {
	ID          string `json:"id"`
	BadgeID     string `json:"badgeId"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	Active      bool   `json:"active"`
	HasPIN      bool   `json:"hasPin"`
	NeedsPIN    bool   `json:"needsPin"`
	UpdatedBy   string `json:"updatedBy"`
	UpdatedAt   int64  `json:"updatedAt"`
	Pending     bool   `json:"pending"`
	SyncState   string `json:"syncState,omitempty"`
	// Language is the person's language (protocol.Languages: "de",
	// "pt-BR", …); "" for the terminal's own (issue 21).
	Language string `json:"language"`
}

// SiteSettings are the site's settings. Zero ClockSkewMinutes and
// IdleSignOutSeconds mean the defaults (5 minutes, 300 s); an empty
// PinRoles means the default (supervisor, manager). Configured is false
// until the site has a settings row (the app then uses the device's time
// zone and the default shifts).
type SiteSettings struct {
	TimeZone           string   `json:"timeZone"`
	Shifts             string   `json:"shifts"`
	ClockSkewMinutes   int      `json:"clockSkewMinutes"`
	IdleSignOutSeconds int      `json:"idleSignOutSeconds"`
	PinRoles           []string `json:"pinRoles"`
	Configured         bool     `json:"configured"`
	Pending            bool     `json:"pending"`
}

// SiteData is everything the site data screen shows.
type SiteData struct {
	Lines    []Line       `json:"lines"`
	Products []Product    `json:"products"`
	People   []Person     `json:"people"`
	Settings SiteSettings `json:"settings"`
	// CanEdit says whether this device and person may change site data;
	// EditBlocked says why not, in a sentence.
	CanEdit     bool   `json:"canEdit"`
	EditBlocked string `json:"editBlocked"`
	// EditBlockedCode and EditBlockedParams are the refusal EditBlocked
	// says, as an error's code and params (with its rule), so the screen
	// says it in the person's language (issue 21).
	EditBlockedCode   string         `json:"editBlockedCode,omitempty"`
	EditBlockedParams map[string]any `json:"editBlockedParams,omitempty" ts_type:"{[key: string]: any}"`
}

// LineInput is a line as a manager enters it; the code identifies the line
// and cannot change (saving an existing code updates that line).
type LineInput struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Area   string `json:"area"`
	Active bool   `json:"active"`
}

// ProductInput is a product as a manager enters it (upsert by code).
type ProductInput struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	Active bool   `json:"active"`
	// MinQuantity and MaxQuantity: the plausible range (nil: none).
	MinQuantity *int64 `json:"minQuantity"`
	MaxQuantity *int64 `json:"maxQuantity"`
}

// PersonInput is a person as a manager enters it (upsert by badge id). PIN
// nil keeps the current PIN, "" clears it, anything else sets it (4–32
// digits); the PIN is hashed here and never stored or sent in clear.
type PersonInput struct {
	BadgeID     string  `json:"badgeId"`
	DisplayName string  `json:"displayName"`
	Role        string  `json:"role"`
	Active      bool    `json:"active"`
	PIN         *string `json:"pin,omitempty"`
	// Language nil keeps the person's language; otherwise one of
	// protocol.Languages (whatever its case: "pt-br" is "pt-BR"), or "" for
	// the terminal's own (issue 21).
	Language *string `json:"language,omitempty"`
}

// SiteSettingsInput are the site's settings as a manager enters them; zero
// numbers and an empty PinRoles mean the defaults.
type SiteSettingsInput struct {
	TimeZone           string   `json:"timeZone"`
	Shifts             string   `json:"shifts"`
	ClockSkewMinutes   int      `json:"clockSkewMinutes"`
	IdleSignOutSeconds int      `json:"idleSignOutSeconds"`
	PinRoles           []string `json:"pinRoles"`
}

// PersonChoice is a person as the sign-in screen lists them.
type PersonChoice struct {
	BadgeID     string `json:"badgeId"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	NeedsPIN    bool   `json:"needsPin"`
	// Language is the person's language (people.language: "de", "pt-BR",
	// …), "" for the terminal's own: a shared terminal shows it while the
	// person is signed in (issue 21).
	Language string `json:"language"`
}

// Session says who is signed in on this device.
type Session struct {
	// Required: the site has at least one active person, so records and
	// decisions need a signed-in person.
	Required bool          `json:"required"`
	SignedIn bool          `json:"signedIn"`
	Person   *PersonChoice `json:"person,omitempty"`
	// IdleSeconds is the configured idle sign-out; ExpiresAt (ms) when the
	// session ends without activity (0 when nobody is signed in).
	IdleSeconds int   `json:"idleSeconds"`
	ExpiresAt   int64 `json:"expiresAt"`
	// DeviceRole is this device's enrollment role: "operator", "manager",
	// or "" when not enrolled.
	DeviceRole string `json:"deviceRole"`
}

// SignInStep is the answer to Identify: who the badge names and whether a
// PIN comes next. LockedUntil (ms) is set while too many wrong PINs lock
// the badge on this device.
type SignInStep struct {
	Person      PersonChoice `json:"person"`
	NeedsPIN    bool         `json:"needsPin"`
	LockedUntil int64        `json:"lockedUntil"`
}

// EventSessionChanged is emitted with the Session on sign-in, sign-out and
// idle sign-out.
const EventSessionChanged = "session:changed"

// Error codes of sign-in and site data.
const (
	CodeSignInRequired = "sign_in_required"
	CodeForbidden      = "forbidden"
	CodeWrongPIN       = "wrong_pin"
	CodeLocked         = "locked"
	CodeUnknownBadge   = "unknown_badge"
	CodeInactive       = "inactive"
	CodePINNotSet      = "pin_not_set"
	CodeUnknownCode    = "unknown_code"
	CodeInactiveCode   = "inactive_code"
	// CodeNoSiteData: this terminal has never received the site's people
	// and products (never connected), so it takes no record.
	CodeNoSiteData = "no_site_data"
)
