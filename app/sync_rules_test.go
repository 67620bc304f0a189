package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestSync_RefusalsNameTheirRule (issue 21): the Sync and Setup screens'
// refusals carry their rule and the values their sentence needs, so the
// screen says them in the person's language (frontend/src/i18n/errors:
// errors.<code>.<rule>); the English sentence stays for logs.
func TestSync_RefusalsNameTheirRule(t *testing.T) {
	first := newTerminal(t, "")
	tm := newTerminal(t, "manager")
	tm.seed(t, protocol.TableSiteSettings, map[string]any{"time_zone": "UTC", "shifts": "Early=06:00", "pin_roles": "supervisor"})
	tm.seed(t, protocol.TablePeople,
		person("MGR-2", "Max Manager", "manager", true, ""),
		person("OP-100", "Olga Operator", "operator", true, ""))
	signIn := func(badge string) {
		t.Helper()
		if _, err := tm.sess.SignIn(badge, ""); err != nil {
			t.Fatal(err)
		}
	}
	unenroll := func() error { _, err := tm.sync.Unenroll(true); return err }
	cases := []struct {
		name        string
		before      func()
		call        func() error
		code, field string
		params      map[string]any
	}{
		{"no server address", nil, func() error { _, err := first.sync.Enroll(" ", "CODE-1"); return err }, CodeInvalidInput, "server_url", map[string]any{"rule": "server_url_required"}},
		{"plain http", nil, func() error { _, err := first.sync.Enroll("http://sync.example.com", "CODE-1"); return err }, CodeInvalidInput, "server_url", map[string]any{"rule": "insecure_http"}},
		{"no code", nil, func() error { _, err := first.sync.Enroll("https://sync.example.com", ""); return err }, CodeInvalidInput, "code", map[string]any{"rule": "enrollment_code_required"}},
		{"nobody signed in", nil, unenroll, CodeSignInRequired, "", map[string]any{"rule": "manager"}},
		{"an operator", func() { signIn("OP-100") }, unenroll, CodeForbidden, "", map[string]any{"rule": "manager_only", "name": "Olga Operator"}},
		{"a manager without a PIN", func() { signIn("MGR-2") }, unenroll, CodeForbidden, "", map[string]any{"rule": "manager_pin", "name": "Max Manager"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			e := asError(t, c.call())
			if e.Code != c.code || e.Field != c.field {
				t.Fatalf("%+v, want code %s field %q", e, c.code, c.field)
			}
			for k, v := range c.params {
				if e.Params[k] != v {
					t.Errorf("param %s = %#v, want %#v (%+v)", k, e.Params[k], v, e)
				}
			}
		})
	}
}

// TestSyncError_Rules: the sync client's states a refusal can carry are
// rules of sync_failed (errors.sync_failed.<rule>).
func TestSyncError_Rules(t *testing.T) {
	for _, c := range []struct {
		err        error
		code, rule string
	}{
		{syncclient.ErrNotEnrolled, "sync_failed", "not_enrolled"},
		{fmt.Errorf("push: %w", syncclient.ErrProtocolTooOld), "sync_failed", "protocol_too_old"},
		{fmt.Errorf("pull: %w", store.ErrTimelineChanged), "sync_failed", "timeline_changed"},
		{syncclient.ErrOffline, "offline", ""},
		{syncclient.ErrUnauthorized, "unauthorized", ""},
		// Issue 15: the server's reason for a 401 is the rule, so the
		// screen says which, and what to do, in the operator's language.
		{fmt.Errorf("push: %w", &syncclient.APIError{Status: 401, Code: "unauthorized"}), "unauthorized", "unknown_device"},
		{fmt.Errorf("pull: %w", &syncclient.APIError{Status: 401, Code: "device_revoked"}), "unauthorized", "device_revoked"},
	} {
		e := asError(t, syncError(c.err))
		if e.Code != c.code || (c.rule != "" && e.Params["rule"] != c.rule) || (c.rule == "" && e.Params["rule"] != nil) {
			t.Errorf("syncError(%v) = %+v, want %s rule %q", c.err, e, c.code, c.rule)
		}
	}
}

// TestSyncError_UnauthorizedRulesAreTranslated (issue 15): every language
// has the sentences of both 401 rules.
func TestSyncError_UnauthorizedRulesAreTranslated(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "frontend", "src", "i18n", "errors", "*.json"))
	if err != nil || len(files) < 2 {
		t.Fatalf("locale files: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"errors.unauthorized", "errors.unauthorized.unknown_device", "errors.unauthorized.device_revoked"} {
			if strings.TrimSpace(m[k]) == "" {
				t.Errorf("%s: no %s", filepath.Base(f), k)
			}
		}
	}
}

// TestSyncError_UnauthorizedSaysTheSameInEnglish (issue 15): the status
// bar's sentence (the sync client's) and the dictionary's English say a
// 401 alike, rule by rule.
func TestSyncError_UnauthorizedSaysTheSameInEnglish(t *testing.T) {
	m := uiMessages(t)
	for _, c := range []struct {
		err error
		key string
	}{
		{syncclient.ErrUnauthorized, "errors.unauthorized"},
		{&syncclient.APIError{Status: 401, Code: "unauthorized"}, "errors.unauthorized.unknown_device"},
		{&syncclient.APIError{Status: 401, Code: "device_revoked"}, "errors.unauthorized.device_revoked"},
	} {
		if got := syncError(c.err).Error(); !strings.Contains(got, m[c.key]) || m[c.key] == "" {
			t.Errorf("%v says %q; %s is %q", c.err, got, c.key, m[c.key])
		}
	}
}

// TestSyncSettings_AutoEnrollFailureHasItsCode (issue 21): when the
// enrollment with the code IT configured fails, the setup screen gets the
// failure's code and params beside the English sentence, to say it in the
// operator's language.
func TestSyncSettings_AutoEnrollFailureHasItsCode(t *testing.T) {
	dir := t.TempDir()
	svc := NewSyncService(SyncOptions{Tokens: &syncclient.MemoryTokens{}, ServerURL: "http://127.0.0.1:1", Code: "CODE-1234"})
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	t.Cleanup(func() {
		svc.Shutdown()
		core.Shutdown()
		cancel()
	})
	var s SyncSettings
	eventually(t, "the automatic enrollment to fail", func() bool {
		s, _ = svc.Settings()
		return !s.AutoEnrolling && s.AutoEnrollError != ""
	})
	if s.AutoEnrollCode != "offline" || !strings.Contains(s.AutoEnrollError, "cannot be reached") {
		t.Fatalf("settings %+v: want code offline beside the sentence", s)
	}
}
