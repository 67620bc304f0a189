package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// write puts content into dir/name and returns its path; "" writes nothing.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if content == "" {
		return path
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func recipient(t *testing.T) string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

type want struct {
	value  string
	source Source
	locked bool
}

func TestLoader_Precedence(t *testing.T) {
	rcpt := recipient(t)
	defaults := map[Field]string{ServerURL: "https://default.example", ProxyURL: ""}
	cases := []struct {
		name    string
		managed string
		user    string
		want    map[Field]want
	}{
		{
			name: "no files: defaults",
			want: map[Field]want{
				ServerURL:         {"https://default.example", SourceDefault, false},
				ProxyURL:          {"", SourceDefault, false},
				RecoveryPublicKey: {"", SourceDefault, true}, // managed-only: never the operator's
			},
		},
		{
			name: "user beats defaults",
			user: `{"server_url":"https://user.example","proxy_url":"direct"}`,
			want: map[Field]want{
				ServerURL: {"https://user.example", SourceUser, false},
				ProxyURL:  {"direct", SourceUser, false},
			},
		},
		{
			name:    "managed beats user and is locked",
			managed: `{"server_url":"https://it.example"}`,
			user:    `{"server_url":"https://user.example","proxy_url":"http://p:3128"}`,
			want: map[Field]want{
				ServerURL: {"https://it.example", SourceManaged, true},
				ProxyURL:  {"http://p:3128", SourceUser, false},
			},
		},
		{
			name:    "managed empty string is enforced too",
			managed: `{"proxy_url":""}`,
			user:    `{"proxy_url":"http://p:3128"}`,
			want:    map[Field]want{ProxyURL: {"", SourceManaged, true}},
		},
		{
			name:    "managed null is unset",
			managed: `{"server_url":null}`,
			user:    `{"server_url":"https://user.example"}`,
			want:    map[Field]want{ServerURL: {"https://user.example", SourceUser, false}},
		},
		{
			name:    "preset sits below the user",
			managed: `{"defaults":{"server_url":"https://preset.example","proxy_url":"direct"}}`,
			user:    `{"server_url":"https://user.example"}`,
			want: map[Field]want{
				ServerURL: {"https://user.example", SourceUser, false},
				ProxyURL:  {"direct", SourcePreset, false},
			},
		},
		{
			name:    "locked field ignores the user and keeps the default",
			managed: `{"locked":["proxy_url"]}`,
			user:    `{"proxy_url":"http://p:3128","server_url":"https://user.example"}`,
			want: map[Field]want{
				ProxyURL:  {"", SourceDefault, true},
				ServerURL: {"https://user.example", SourceUser, false},
			},
		},
		{
			name:    "locked field keeps the preset",
			managed: `{"locked":["server_url"],"defaults":{"server_url":"https://preset.example"}}`,
			user:    `{"server_url":"https://user.example"}`,
			want:    map[Field]want{ServerURL: {"https://preset.example", SourcePreset, true}},
		},
		{
			name:    "lock all",
			managed: `{"locked":["*"],"server_url":"https://it.example"}`,
			user:    `{"proxy_url":"http://p:3128","enrollment_code":"ABCD"}`,
			want: map[Field]want{
				ServerURL:      {"https://it.example", SourceManaged, true},
				ProxyURL:       {"", SourceDefault, true},
				EnrollmentCode: {"", SourceDefault, true},
				CABundle:       {"", SourceDefault, true},
			},
		},
		{
			name: "every field managed",
			managed: `{"server_url":"https://it.example:8443/outpost","enrollment_code":"ABCD-EFGH",
			  "ca_bundle":"/etc/outpost/ca.pem","proxy_url":"socks5://p:1080",
			  "recovery_public_key":"` + rcpt + `","kiosk_key_file":"/var/lib/outpost/kiosk.key"}`,
			want: map[Field]want{
				ServerURL:         {"https://it.example:8443/outpost", SourceManaged, true},
				EnrollmentCode:    {"ABCD-EFGH", SourceManaged, true},
				CABundle:          {"/etc/outpost/ca.pem", SourceManaged, true},
				ProxyURL:          {"socks5://p:1080", SourceManaged, true},
				RecoveryPublicKey: {rcpt, SourceManaged, true},
				KioskKeyFile:      {"/var/lib/outpost/kiosk.key", SourceManaged, true},
			},
		},
		{
			name:    "UTF-8 byte order mark",
			managed: "\xEF\xBB\xBF" + `{"server_url":"https://it.example"}`,
			want:    map[Field]want{ServerURL: {"https://it.example", SourceManaged, true}},
		},
		{
			name:    "UTF-16LE as Windows PowerShell writes it",
			managed: utf16le(`{"server_url":"https://it.example"}`),
			want:    map[Field]want{ServerURL: {"https://it.example", SourceManaged, true}},
		},
		{
			name:    "empty object",
			managed: `{}`,
			user:    ` { } `,
			want:    map[Field]want{ServerURL: {"https://default.example", SourceDefault, false}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := &Loader{
				GOOS:        "linux", // the test data holds Unix paths
				ManagedPath: write(t, dir, "managed.json", tc.managed),
				UserPath:    write(t, dir, "user.json", tc.user),
				Defaults:    defaults,
			}
			s, err := l.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for f, w := range tc.want {
				if got := s.Get(f); got != w.value {
					t.Errorf("%s = %q, want %q", f, got, w.value)
				}
				if got := s.Source(f); got != w.source {
					t.Errorf("%s source = %s, want %s", f, got, w.source)
				}
				if got := s.Locked(f); got != w.locked {
					t.Errorf("%s locked = %v, want %v", f, got, w.locked)
				}
			}
		})
	}
}

func utf16le(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, r := range s { // ASCII only in the tests
		b = append(b, byte(r), 0)
	}
	return string(b)
}

func TestLoader_Errors(t *testing.T) {
	cases := []struct {
		name      string
		managed   string
		user      string
		sentinel  error
		file      string // "managed" or "user"
		field     string
		mentioned string // a phrase the message must hold
	}{
		{"unknown field", `{"server_url":"https://a.example","sever_url":"x"}`, "", ErrUnknownField, "managed", "sever_url", "known fields"},
		{"unknown field in defaults", `{"defaults":{"colour":"red"}}`, "", ErrUnknownField, "managed", "defaults.colour", "unknown field"},
		{"unknown locked name", `{"locked":["server_url","proxy"]}`, "", ErrUnknownField, "managed", "locked[1]", `"proxy"`},
		{"malformed JSON", "{\n  \"server_url\": \"https://a.example\",\n}", "", ErrMalformed, "managed", "", "line 3"},
		{"truncated JSON", `{"server_url":"https://a.`, "", ErrMalformed, "managed", "", "ends too early"},
		{"trailing data", `{} {}`, "", ErrMalformed, "managed", "", "after the JSON object"},
		{"not an object", `["server_url"]`, "", ErrMalformed, "managed", "", "JSON object"},
		{"whitespace only", "  \n", "", ErrMalformed, "managed", "", "empty"},
		{"not UTF-8", "{\"server_url\":\"\xff\"}", "", ErrMalformed, "managed", "", "UTF-8"},
		{"wrong type", `{"server_url":8787}`, "", ErrWrongType, "managed", "server_url", "got number"},
		{"wrong type for locked", `{"locked":"server_url"}`, "", ErrWrongType, "managed", "locked", "list of field names"},
		{"wrong type in defaults", `{"defaults":{"proxy_url":true}}`, "", ErrWrongType, "managed", "defaults.proxy_url", "got bool"},
		{"server url without scheme", `{"server_url":"outpost.example:8787"}`, "", ErrInvalidValue, "managed", "server_url", "https://"},
		{"server url with password", `{"server_url":"https://u:p@a.example"}`, "", ErrInvalidValue, "managed", "server_url", "password"},
		{"bad preset", `{"defaults":{"server_url":"ftp://a.example"}}`, "", ErrInvalidValue, "managed", "defaults.server_url", "https://"},
		{"bad proxy", `{"proxy_url":"proxy:3128"}`, "", ErrInvalidValue, "managed", "proxy_url", "socks5"},
		{"relative CA path", `{"ca_bundle":"ca.pem"}`, "", ErrInvalidValue, "managed", "ca_bundle", "absolute"},
		{"bad recovery key", `{"recovery_public_key":"age1notakey"}`, "", ErrInvalidValue, "managed", "recovery_public_key", "age"},
		{"language Outpost does not speak", `{"language":"klingon"}`, "", ErrInvalidValue, "managed", "language", "pt-BR"},
		{"language as a region only", `{"defaults":{"language":"de-AT"}}`, "", ErrInvalidValue, "managed", "defaults.language", "one of"},
		{"control characters in code", `{"enrollment_code":"AB\u0007CD"}`, "", ErrInvalidValue, "managed", "enrollment_code", "control"},
		{"managed-only field as a preset", `{"defaults":{"kiosk_key_file":"/k"}}`, "", ErrManagedOnly, "managed", "defaults.kiosk_key_file", "top level"},
		{"user sets a managed-only field", "", `{"recovery_public_key":"age1x"}`, ErrManagedOnly, "user", "recovery_public_key", "machine-wide"},
		{"user tries to lock", "", `{"locked":["server_url"]}`, ErrManagedOnly, "user", "locked", "only the managed file"},
		{"user tries presets", "", `{"defaults":{}}`, ErrManagedOnly, "user", "defaults", "only the managed file"},
		{"malformed user file", `{"server_url":"https://a.example"}`, `{"server_url":`, ErrMalformed, "user", "", "ends too early"},
		{"invalid user value", "", `{"proxy_url":"nope"}`, ErrInvalidValue, "user", "proxy_url", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := &Loader{
				GOOS:        "linux", // the test data holds Unix paths
				ManagedPath: write(t, dir, "managed.json", tc.managed),
				UserPath:    write(t, dir, "user.json", tc.user),
			}
			s, err := l.Load()
			if err == nil {
				t.Fatalf("Load succeeded (%v), want an error", s)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q is not %v", err, tc.sentinel)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %q is not a *config.Error", err)
			}
			wantFile := l.ManagedPath
			if tc.file == "user" {
				wantFile = l.UserPath
			}
			if ce.File != wantFile || ce.Field != tc.field {
				t.Errorf("error names file %q field %q, want %q %q", ce.File, ce.Field, wantFile, tc.field)
			}
			msg := err.Error()
			if !strings.Contains(msg, wantFile) || (tc.field != "" && !strings.Contains(msg, tc.field)) {
				t.Errorf("message %q does not name the file and field", msg)
			}
			if !strings.Contains(msg, tc.mentioned) {
				t.Errorf("message %q does not mention %q", msg, tc.mentioned)
			}
		})
	}
}

func TestLoader_UnreadableFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: reading fails, and must not
	// fall back to defaults.
	if err := os.Mkdir(filepath.Join(dir, "managed.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := &Loader{ManagedPath: filepath.Join(dir, "managed.json")}
	if _, err := l.Load(); err == nil {
		t.Fatal("Load of an unreadable managed file succeeded")
	}
}

func TestLoader_SetUser(t *testing.T) {
	dir := t.TempDir()
	l := &Loader{
		ManagedPath: write(t, dir, "managed.json", `{"server_url":"https://it.example","locked":["ca_bundle"],"defaults":{"proxy_url":"direct"}}`),
		UserPath:    filepath.Join(dir, "sub", "user.json"), // created on first write
	}

	t.Run("unlocked field is stored", func(t *testing.T) {
		s, err := l.SetUser(ProxyURL, "http://proxy.example:3128")
		if err != nil {
			t.Fatal(err)
		}
		if s.ProxyURL() != "http://proxy.example:3128" || s.Source(ProxyURL) != SourceUser {
			t.Fatalf("proxy = %q from %s", s.ProxyURL(), s.Source(ProxyURL))
		}
		again, err := l.Load()
		if err != nil || again.ProxyURL() != "http://proxy.example:3128" {
			t.Fatalf("reloaded proxy = %v, %v", again, err)
		}
		fi, err := os.Stat(l.UserPath)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" { // Windows: an ACL, not a mode
			t.Errorf("user file mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("reset returns to the preset", func(t *testing.T) {
		s, err := l.ResetUser(ProxyURL)
		if err != nil {
			t.Fatal(err)
		}
		if s.ProxyURL() != ProxyDirect || s.Source(ProxyURL) != SourcePreset {
			t.Fatalf("proxy = %q from %s, want the preset", s.ProxyURL(), s.Source(ProxyURL))
		}
	})
	for _, f := range []Field{ServerURL, CABundle, RecoveryPublicKey, KioskKeyFile} {
		t.Run("locked "+string(f), func(t *testing.T) {
			before, _ := os.ReadFile(l.UserPath)
			if _, err := l.SetUser(f, "/x"); !errors.Is(err, ErrLocked) {
				t.Fatalf("SetUser(%s) = %v, want ErrLocked", f, err)
			}
			after, _ := os.ReadFile(l.UserPath)
			if string(before) != string(after) {
				t.Fatal("a refused change rewrote the user file")
			}
		})
	}
	t.Run("invalid value", func(t *testing.T) {
		if _, err := l.SetUser(ProxyURL, "not a url"); !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("got %v, want ErrInvalidValue", err)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		if _, err := l.SetUser("colour", "red"); !errors.Is(err, ErrUnknownField) {
			t.Fatalf("got %v, want ErrUnknownField", err)
		}
	})
	t.Run("broken user file is not overwritten", func(t *testing.T) {
		if err := os.WriteFile(l.UserPath, []byte("{oops"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := l.SetUser(EnrollmentCode, "ABCD"); !errors.Is(err, ErrMalformed) {
			t.Fatalf("got %v, want ErrMalformed", err)
		}
		if b, _ := os.ReadFile(l.UserPath); string(b) != "{oops" {
			t.Fatalf("user file is now %q", b)
		}
	})
}

func TestSettings_StringRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	l := &Loader{ManagedPath: write(t, dir, "m.json", `{"enrollment_code":"SECRET-CODE","server_url":"https://it.example"}`)}
	s, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	str := s.String()
	if strings.Contains(str, "SECRET") || !strings.Contains(str, "https://it.example") {
		t.Fatalf("String() = %s", str)
	}
	var secret bool
	for _, st := range s.States() {
		if st.Field == EnrollmentCode {
			secret = st.Secret && st.Locked && st.Source == "managed"
		}
	}
	if !secret {
		t.Fatalf("States() does not mark the managed enrollment code: %+v", s.States())
	}
}

func TestPaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/op", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }

	managed := []struct{ goos, programData, want string }{
		{"windows", `D:\PD`, `D:\PD\Outpost\config.json`},
		{"windows", "", `C:\ProgramData\Outpost\config.json`},
		{"darwin", "", "/Library/Application Support/Outpost/config.json"},
		{"linux", "", "/etc/outpost/config.json"},
		{"freebsd", "", "/etc/outpost/config.json"},
	}
	for _, tc := range managed {
		folder := func() (string, error) { return tc.programData, nil }
		if got := managedPath(tc.goos, folder); got != tc.want {
			t.Errorf("managedPath(%s) = %q, want %q", tc.goos, got, tc.want)
		}
	}

	user := []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string
	}{
		{"windows", map[string]string{"AppData": `C:\Users\op\AppData\Roaming`}, home, `C:\Users\op\AppData\Roaming\Outpost\config.json`},
		{"darwin", nil, home, "/home/op/Library/Application Support/Outpost/config.json"},
		{"linux", nil, home, "/home/op/.config/outpost/config.json"},
		{"linux", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, home, "/xdg/outpost/config.json"},
		{"linux", map[string]string{"XDG_CONFIG_HOME": "relative"}, home, "/home/op/.config/outpost/config.json"},
		{"linux", nil, noHome, ""},
	}
	for _, tc := range user {
		if runtime.GOOS == "windows" && tc.goos != "windows" {
			// filepath joins with \ there: another OS's paths are checked on it.
			continue
		}
		got, err := userPath(tc.goos, env(tc.env), tc.home)
		if tc.want == "" {
			if err == nil {
				t.Errorf("userPath(%s, no home) = %q, want an error", tc.goos, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("userPath(%s, %v) = %q, %v; want %q", tc.goos, tc.env, got, err, tc.want)
		}
	}
}

func TestSettings_Proxy(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://outpost.example/v1/health", nil)
	cases := []struct{ setting, want string }{
		{"direct", ""},
		{"http://proxy.example:3128", "http://proxy.example:3128"},
	}
	for _, tc := range cases {
		s := resolve(nil, &managedFile{enforced: layer{ProxyURL: tc.setting}}, nil)
		fn, err := s.Proxy()
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if fn != nil {
			u, _ := fn(req)
			if u != nil {
				got = u.String()
			}
		}
		if got != tc.want {
			t.Errorf("proxy for %q = %q, want %q", tc.setting, got, tc.want)
		}
	}
	s := resolve(nil, nil, nil)
	if fn, _ := s.Proxy(); fn == nil {
		t.Error("empty proxy setting should use the environment")
	}
}

func TestSettings_RootCAs(t *testing.T) {
	dir := t.TempDir()
	s := resolve(nil, nil, nil)
	if pool, err := s.RootCAs(); pool != nil || err != nil {
		t.Fatalf("no bundle: %v, %v; want the system pool (nil)", pool, err)
	}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Outpost Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	good := write(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	bad := write(t, dir, "bad.pem", "not a certificate")

	for _, tc := range []struct {
		path string
		ok   bool
	}{{good, true}, {bad, false}, {filepath.Join(dir, "missing.pem"), false}} {
		s := resolve(nil, &managedFile{enforced: layer{CABundle: tc.path}}, nil)
		pool, err := s.RootCAs()
		if tc.ok != (err == nil) || tc.ok != (pool != nil) {
			t.Errorf("RootCAs(%s) = %v, %v", filepath.Base(tc.path), pool, err)
		}
	}
}

// TestExampleFiles keeps the examples IT copies valid: the one in docs/ and
// the file the Windows installer writes (UTF-16LE, CRLF, locked list).
func TestExampleFiles(t *testing.T) {
	// The example is the Linux one (its paths are Unix paths), on any OS.
	l := &Loader{ManagedPath: filepath.Join("..", "..", "docs", "config.example.json"), GOOS: "linux"}
	s, err := l.Load()
	if err != nil {
		t.Fatalf("docs/config.example.json: %v", err)
	}
	if !s.Locked(ServerURL) || s.ProxyURL() != ProxyDirect || s.RecoveryPublicKey() == "" {
		t.Fatalf("docs/config.example.json resolved to %s", s)
	}

	// As build/windows/installer/project.nsi writes it for
	// /SERVER=https://outpost.example /ENROLL=AB"CD\EF /LOCK=server_url, proxy_url
	nsis := "{\r\n  \"server_url\": \"https://outpost.example\",\r\n  \"enrollment_code\": \"AB\\\"CD\\\\EF\",\r\n  \"locked\": [\"server_url\",\"proxy_url\"]\r\n}\r\n"
	dir := t.TempDir()
	l = &Loader{ManagedPath: write(t, dir, "config.json", utf16le(nsis)), UserPath: write(t, dir, "user.json", `{"proxy_url":"http://p:1"}`)}
	s, err = l.Load()
	if err != nil {
		t.Fatalf("installer-written file: %v", err)
	}
	if s.ServerURL() != "https://outpost.example" || s.EnrollmentCode() != `AB"CD\EF` || !s.Locked(ProxyURL) || s.ProxyURL() != "" {
		t.Fatalf("installer-written file resolved to %s", s)
	}
}

func TestValidateFor_Paths(t *testing.T) {
	cases := []struct {
		goos, path string
		ok         bool
	}{
		{"linux", "/etc/outpost/ca.pem", true},
		{"linux", "etc/outpost/ca.pem", false},
		{"linux", `C:\ProgramData\Outpost\ca.pem`, false},
		{"darwin", "/Library/Application Support/Outpost/ca.pem", true},
		{"windows", `C:\ProgramData\Outpost\ca.pem`, true},
		{"windows", `d:/certs/ca.pem`, true},
		{"windows", `\\fileserver\it\ca.pem`, true},
		{"windows", `C:ca.pem`, false},
		{"windows", `ca.pem`, false},
		{"windows", `/etc/outpost/ca.pem`, false},
		{"windows", `1:\ca.pem`, false},
	}
	for _, tc := range cases {
		for _, f := range []Field{CABundle, KioskKeyFile} {
			err := ValidateFor(tc.goos, f, tc.path)
			if (err == nil) != tc.ok {
				t.Errorf("ValidateFor(%s, %s, %q) = %v, want ok=%v", tc.goos, f, tc.path, err, tc.ok)
			}
		}
	}
}

func TestLoader_WindowsFileCheckedOnAnyOS(t *testing.T) {
	dir := t.TempDir()
	file := "{\r\n  \"ca_bundle\": \"C:\\\\Program Files\\\\Site CA\\\\ca.pem\",\r\n  \"locked\": [\"*\"]\r\n}\r\n"
	l := &Loader{ManagedPath: write(t, dir, "config.json", utf16le(file)), GOOS: "windows"}
	s, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.CABundle() != `C:\Program Files\Site CA\ca.pem` {
		t.Fatalf("ca_bundle = %q", s.CABundle())
	}
	l.GOOS = "linux"
	if _, err := l.Load(); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("as linux: %v, want ErrInvalidValue", err)
	}
}

// TestSettings_Language (issue 21): IT's default language for the
// terminal's screens, one of the languages Outpost speaks (any case), as
// a preset or enforced; a person's own language and the terminal's choice
// still come first (the UI decides that).
func TestSettings_Language(t *testing.T) {
	cases := []struct{ name, managed, user, want string }{
		{"none", `{}`, "", ""},
		{"enforced", `{"language":"de"}`, "", "de"},
		{"any case", `{"language":" PT-br "}`, "", "pt-BR"},
		{"preset", `{"defaults":{"language":"zh-CN"}}`, "", "zh-CN"},
		{"user file over a preset", `{"defaults":{"language":"fr"}}`, `{"language":"pl"}`, "pl"},
		{"enforced over the user file", `{"language":"es"}`, `{"language":"pl"}`, "es"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l := &Loader{GOOS: "linux", ManagedPath: write(t, dir, "managed.json", c.managed), UserPath: write(t, dir, "user.json", c.user)}
			s, err := l.Load()
			if err != nil {
				t.Fatal(err)
			}
			if s.Language() != c.want {
				t.Fatalf("Language() = %q, want %q (%s)", s.Language(), c.want, s)
			}
		})
	}
}
