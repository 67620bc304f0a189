package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLoader_KeepsValidFields: one bad value never costs the other fields of
// the managed file (a key-file kiosk keeps its key file), the bad field is
// reported, and what cannot be read fails closed: a bad managed field stays
// locked at its default, a managed file that cannot be parsed at all (or
// whose "locked" list is unreadable) locks every field, and a broken user
// file is skipped, never a way around IT's settings.
func TestLoader_KeepsValidFields(t *testing.T) {
	rcpt := recipient(t)
	kiosk := `"kiosk_key_file":"/var/lib/kiosk/db.key","recovery_public_key":"` + rcpt + `"`
	type check struct {
		field  Field
		value  string
		source Source
		locked bool
	}
	cases := []struct {
		name, managed, user string
		errFile, errField   string // the problem reported: "managed"/"user", field
		want                []check
	}{
		{"invalid server url", `{` + kiosk + `,"server_url":"ftp://x.example","proxy_url":"direct"}`, `{"server_url":"https://user.example"}`,
			"managed", "server_url", []check{
				{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true},
				{RecoveryPublicKey, rcpt, SourceManaged, true},
				{ProxyURL, "direct", SourceManaged, true},
				{ServerURL, "", SourceDefault, true}, // IT meant to set it: the user's value does not fill in
			}},
		{"unknown field", `{` + kiosk + `,"sever_url":"https://a.example"}`, "",
			"managed", "sever_url", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {RecoveryPublicKey, rcpt, SourceManaged, true}}},
		{"wrong type", `{` + kiosk + `,"server_url":8787}`, "",
			"managed", "server_url", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {ServerURL, "", SourceDefault, true}}},
		{"bad recovery key", `{"kiosk_key_file":"/var/lib/kiosk/db.key","recovery_public_key":"age1nope","server_url":"https://it.example"}`, "",
			"managed", "recovery_public_key", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {ServerURL, "https://it.example", SourceManaged, true}}},
		{"unknown name in locked", `{` + kiosk + `,"locked":["proxy","ca_bundle"]}`, `{"ca_bundle":"/home/op/ca.pem"}`,
			"managed", "locked[0]", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {CABundle, "", SourceDefault, true}}},
		{"locked is not a list", `{` + kiosk + `,"locked":"proxy_url"}`, `{"proxy_url":"http://mine.example:3128"}`,
			"managed", "locked", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {ProxyURL, "", SourceDefault, true}, {ServerURL, "", SourceDefault, true}}},
		{"bad preset", `{` + kiosk + `,"defaults":{"server_url":"nope","proxy_url":"direct"}}`, "",
			"managed", "defaults.server_url", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {ProxyURL, "direct", SourcePreset, false}}},
		{"defaults is not an object", `{` + kiosk + `,"defaults":[]}`, "",
			"managed", "defaults", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}}},
		{"malformed managed file locks everything", `{"kiosk_key_file":"/k",`, `{"proxy_url":"http://mine.example:3128"}`,
			"managed", "", []check{{KioskKeyFile, "", SourceDefault, true}, {ProxyURL, "", SourceDefault, true}, {ServerURL, "", SourceDefault, true}}},
		{"malformed user file", `{` + kiosk + `,"server_url":"https://it.example"}`, `{"proxy_url":`,
			"user", "", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {ServerURL, "https://it.example", SourceManaged, true}}},
		{"user file names a key file", `{"server_url":"https://it.example"}`, `{"kiosk_key_file":"/home/op/my.key","proxy_url":"direct"}`,
			"user", "kiosk_key_file", []check{{KioskKeyFile, "", SourceDefault, true}, {ProxyURL, "direct", SourceUser, false}}},
		{"user file with a bad value", `{` + kiosk + `}`, `{"proxy_url":"nope","ca_bundle":"/home/op/ca.pem"}`,
			"user", "proxy_url", []check{{KioskKeyFile, "/var/lib/kiosk/db.key", SourceManaged, true}, {CABundle, "/home/op/ca.pem", SourceUser, false}, {ProxyURL, "", SourceDefault, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// GOOS: the test data holds Unix paths.
			l := &Loader{ManagedPath: write(t, dir, "managed.json", tc.managed), UserPath: write(t, dir, "user.json", tc.user), GOOS: "linux"}
			s, err := l.Load()
			if err == nil {
				t.Fatal("no error reported")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			wantFile := l.ManagedPath
			if tc.errFile == "user" {
				wantFile = l.UserPath
			}
			if ce.File != wantFile || ce.Field != tc.errField {
				t.Fatalf("error names %q field %q, want %q %q (%v)", ce.File, ce.Field, wantFile, tc.errField, err)
			}
			if s == nil {
				t.Fatalf("no settings with the error %v: the valid fields are lost", err)
			}
			for _, w := range tc.want {
				if s.Get(w.field) != w.value || s.Source(w.field) != w.source || s.Locked(w.field) != w.locked {
					t.Errorf("%s = %q (%s, locked %v), want %q (%s, locked %v)", w.field,
						s.Get(w.field), s.Source(w.field), s.Locked(w.field), w.value, w.source, w.locked)
				}
			}
		})
	}
}

// TestLoader_ReportsEveryBadField: each bad field is named, not only the
// first.
func TestLoader_ReportsEveryBadField(t *testing.T) {
	dir := t.TempDir()
	l := &Loader{
		ManagedPath: write(t, dir, "managed.json", `{"server_url":"nope","ca_bundle":"rel.pem","colour":"red"}`),
		UserPath:    write(t, dir, "user.json", `{"proxy_url":"nope"}`),
	}
	_, err := l.Load()
	for _, f := range []string{`"server_url"`, `"ca_bundle"`, `"colour"`, `"proxy_url"`} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("error %v does not name %s", err, f)
		}
	}
}
