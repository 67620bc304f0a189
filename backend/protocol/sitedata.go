package protocol

import (
	"fmt"
	"strings"
	"time"

	// Time zones are checked the same way on every platform and by the
	// server, whatever zone database the machine has.
	_ "time/tzdata"

	"github.com/outpost-app/outpost/backend/period"
)

// PINHashPrefix starts every PIN hash a site stores (argon2id in the PHC
// string format; see backend/pin).
const PINHashPrefix = "$argon2id$"

func checkPINHash(v any) string {
	s, _ := v.(string)
	if s == "" {
		return ""
	}
	if !strings.HasPrefix(s, PINHashPrefix) || strings.Count(s, "$") != 5 {
		return "pin_hash must be an argon2id hash; PINs themselves are never stored or sent"
	}
	return ""
}

func checkTimeZone(v any) string {
	s, _ := v.(string)
	if s == "Local" {
		return "time_zone must name a zone such as Europe/Berlin, not Local"
	}
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Sprintf("time_zone %q is not a known time zone (use a name such as Europe/Berlin or UTC)", truncate(s, 64))
	}
	return ""
}

func checkShifts(v any) string {
	s, _ := v.(string)
	if _, err := period.ParseShifts(s); err != nil {
		return "shifts must be start times like Early=06:00,Late=14:00,Night=22:00, each different"
	}
	return ""
}

func checkPINRoles(v any) string {
	s, _ := v.(string)
	if s == "" {
		return ""
	}
	for _, r := range strings.Split(s, ",") {
		if !oneOf(strings.TrimSpace(r), PersonRoles) {
			return fmt.Sprintf("pin_roles lists roles among %s, separated by commas", strings.Join(PersonRoles, ", "))
		}
	}
	return ""
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// checkKey enforces Table.Key and Table.Singleton on a validated row.
func (t Table) checkKey(id string, row Row) *ValidationError {
	switch {
	case t.Singleton:
		if id != SiteSettingsID() {
			return invalid(CodeInvalidValue, "id", "%s has one row per site, whose id is %s", t.Name, SiteSettingsID()).rule("singleton").With("table", t.Name)
		}
	case t.Key != "":
		k, ok := row[t.Key].(string)
		if ok && KeyID(t.Name, k) != id {
			return invalid(CodeInvalidValue, t.Key, "the id of a %s row is derived from its %s, which cannot change: add a new row instead", t.Name, t.Key).rule("key_changed").With("table", t.Name)
		}
	}
	return nil
}
