package app

import (
	"context"
	"unicode/utf8"
)

// TerminalPrefs are this terminal's conveniences: the line and operator the
// entry form last used, and whether the operator chose to work offline at
// first start. The operator is a badge id, personal data, so they live in
// the encrypted database (store.LocalPref), never in the WebView's
// localStorage, which is a plaintext file; only the theme stays there.
type TerminalPrefs struct {
	LastLine     string `json:"lastLine"`
	LastOperator string `json:"lastOperator"`
	SetupSkipped bool   `json:"setupSkipped"`
	// DashboardShifts are the shift starts typed on the dashboard ("" =
	// the site's).
	DashboardShifts string `json:"dashboardShifts"`
	// ScanSoundOff: this terminal gives scan feedback by the flash only,
	// without the accept/refuse beep (issue 20; the sound is on by default).
	ScanSoundOff bool `json:"scanSoundOff"`
}

const (
	prefLastLine     = "last_line"
	prefLastOperator = "last_operator"
	prefSetupSkipped = "setup_skipped"
	prefShifts       = "dashboard_shifts"
	prefScanSoundOff = "scan_sound_off"
	// maxPrefLen bounds a remembered value (the form's fields are 128 long).
	maxPrefLen = 256
)

// PrefsService is bound into the WebView: the terminal's preferences.
type PrefsService struct{ core *Core }

// NewPrefsService returns the preferences service over core.
func NewPrefsService(core *Core) *PrefsService { return &PrefsService{core: core} }

// Get returns the terminal's preferences (zero values when none are kept).
func (s *PrefsService) Get() (TerminalPrefs, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (TerminalPrefs, error) { return readPrefs(ctx, st) })
}

// Remember keeps the line and operator the entry form last used; "" forgets
// one.
func (s *PrefsService) Remember(line, operator string) (TerminalPrefs, error) {
	for field, v := range map[string]string{"line_id": line, "operator_id": operator} {
		if len(v) > maxPrefLen || !utf8.ValidString(v) {
			return TerminalPrefs{}, fieldError(CodeInvalidInput, field, "This value is too long to remember.").With("rule", "too_long_to_remember")
		}
	}
	return call(s.core, func(ctx context.Context, st *localDB) (TerminalPrefs, error) {
		if err := st.SetLocalPref(ctx, prefLastLine, line); err != nil {
			return TerminalPrefs{}, err
		}
		if err := st.SetLocalPref(ctx, prefLastOperator, operator); err != nil {
			return TerminalPrefs{}, err
		}
		return readPrefs(ctx, st)
	})
}

// SkipSetup records whether the operator chose to work offline instead of
// connecting at first start.
func (s *PrefsService) SkipSetup(skipped bool) (TerminalPrefs, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (TerminalPrefs, error) {
		v := ""
		if skipped {
			v = "1"
		}
		if err := st.SetLocalPref(ctx, prefSetupSkipped, v); err != nil {
			return TerminalPrefs{}, err
		}
		return readPrefs(ctx, st)
	})
}

// SetDashboardShifts keeps the shift starts typed on the dashboard; ""
// returns to the site's.
func (s *PrefsService) SetDashboardShifts(shifts string) (TerminalPrefs, error) {
	if len(shifts) > maxPrefLen || !utf8.ValidString(shifts) {
		return TerminalPrefs{}, fieldError(CodeInvalidInput, "shifts", "This value is too long to remember.").With("rule", "too_long_to_remember")
	}
	return call(s.core, func(ctx context.Context, st *localDB) (TerminalPrefs, error) {
		if err := st.SetLocalPref(ctx, prefShifts, shifts); err != nil {
			return TerminalPrefs{}, err
		}
		return readPrefs(ctx, st)
	})
}

// SetScanSound turns the scan feedback beep on or off on this terminal.
func (s *PrefsService) SetScanSound(on bool) (TerminalPrefs, error) {
	return call(s.core, func(ctx context.Context, st *localDB) (TerminalPrefs, error) {
		v := "1"
		if on {
			v = ""
		}
		if err := st.SetLocalPref(ctx, prefScanSoundOff, v); err != nil {
			return TerminalPrefs{}, err
		}
		return readPrefs(ctx, st)
	})
}

// prefsReader reads this terminal's own preferences.
type prefsReader interface {
	LocalPref(ctx context.Context, key string) (string, error)
}

func readPrefs(ctx context.Context, st prefsReader) (TerminalPrefs, error) {
	var p TerminalPrefs
	var err error
	if p.LastLine, err = st.LocalPref(ctx, prefLastLine); err != nil {
		return TerminalPrefs{}, err
	}
	if p.LastOperator, err = st.LocalPref(ctx, prefLastOperator); err != nil {
		return TerminalPrefs{}, err
	}
	skipped, err := st.LocalPref(ctx, prefSetupSkipped)
	if err != nil {
		return TerminalPrefs{}, err
	}
	p.SetupSkipped = skipped == "1"
	if p.DashboardShifts, err = st.LocalPref(ctx, prefShifts); err != nil {
		return TerminalPrefs{}, err
	}
	off, err := st.LocalPref(ctx, prefScanSoundOff)
	if err != nil {
		return TerminalPrefs{}, err
	}
	p.ScanSoundOff = off == "1"
	return p, nil
}
